"""Settings › Zoho Apps in a real browser (Debian's Chromium through Playwright) against the live CRM sandbox:
connect through the OAuth consent pages, configure customers with a view and a map to a Books custom field made
from the editor, Save and Sync Later, Edit, Pause and Resume, Disable and enable again; and each refusal shows
its message."""

from __future__ import annotations

import re

import pytest

from books.models import Role
from crm_integration.models import ConnectionStatus, CrmConnection, FieldMapping, ModuleConfig
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "pass12345"


@pytest.fixture
def books(transactional_db, live_server, settings):
    settings.LB_PUBLIC_URL = live_server.url
    organization = OrganizationFactory(name="Acme Books", slug="acme", email="books@acme.test", country="Germany")
    user = UserFactory(email="admin@acme.test")
    MembershipFactory(organization=organization, user=user, role=Role.ADMIN)
    return organization


def sign_in(page, live_server, email="admin@acme.test"):
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def connect(page, live_server, sandbox, *, client_id=None, client_secret=None):
    """Settings › Zoho Apps › Connect › Zoho CRM Credentials › Connect, the sandbox's consent page, back."""
    creds = sandbox.credentials_json()
    page.goto(f"{live_server.url}/settings/zoho-apps/")
    page.get_by_role("link", name="Connect").click()
    page.select_option("#id_data_center", "custom")
    page.fill("#id_accounts_url", sandbox.base_url)
    page.fill("#id_client_id", client_id if client_id is not None else creds["client_id"])
    page.fill("#id_client_secret", client_secret if client_secret is not None else creds["client_secret"])
    page.click("#connect-oauth")


def accept_consent(page, sandbox):
    page.wait_for_url(re.compile(re.escape(sandbox.base_url) + r"/oauth/v2/auth.*"))
    page.get_by_role("button", name="Accept").click()
    page.wait_for_url(re.compile(r".*/settings/zoho-apps/crm/organization/"))


def next_step(page):
    page.click("#wizard-next")


def test_connect_configure_edit_pause_disable(page, live_server, sandbox, books):
    sign_in(page, live_server)
    connect(page, live_server, sandbox)
    accept_consent(page, sandbox)
    # One CRM organisation: the dropdown is disabled. The Insight says what is shared, with the org's values.
    assert page.locator("#id_organization").is_disabled()
    assert page.get_by_text("Acme Books, books@acme.test, Germany").is_visible()
    page.click("#save-connection")
    page.wait_for_url(f"{live_server.url}/settings/zoho-apps/crm/")
    assert page.get_by_text("Connected to Zoho CRM organization").is_visible()
    connection = CrmConnection.objects.get(organization=books)
    assert connection.status == ConnectionStatus.CONNECTED

    # Configure Now: customers, five steps.
    page.click("#configure-customers")
    assert page.get_by_text("Step 1 of 5").is_visible()
    page.get_by_label("Accounts", exact=False).first.check()
    next_step(page)
    assert page.get_by_text("Step 2 of 5").is_visible()
    page.get_by_text("Fetch from CRM", exact=True).click()
    next_step(page)
    page.get_by_text("Skip", exact=True).click()
    next_step(page)
    assert page.get_by_text("Step 4 of 5").is_visible()
    page.select_option("#id_primary_view", label="Gold Accounts")
    next_step(page)
    assert page.get_by_text("Step 5 of 5").is_visible()
    # A Books custom field made from the editor, mapped to the CRM's custom Customer Tier field.
    page.get_by_text("Create a Books custom field for a Accounts field").click()
    page.select_option("#id_cf_crm_field_Accounts", value="Customer_Tier")
    page.get_by_role("button", name="Create custom field and map it").click()
    assert page.get_by_text("Books custom field 'Customer Tier' created and mapped to Customer_Tier.").is_visible()
    page.click("#save-and-sync-later")
    page.wait_for_url(f"{live_server.url}/settings/zoho-apps/crm/")
    assert page.get_by_text("Customers settings saved.").is_visible()
    config = ModuleConfig.objects.get(connection=connection, module="customers")
    assert (config.crm_module_option, config.primary_view_name, config.duplicates) == (
        "accounts",
        "Gold Accounts",
        "skip",
    )
    assert FieldMapping.objects.filter(
        module_config=config, crm_field="Customer_Tier", books_field__startswith="cf:"
    ).exists()
    assert page.locator("#module-customers").get_by_text("Gold Accounts").is_visible()

    # Edit: starts from the saved settings; change the duplicates to Overwrite.
    page.click("#edit-customers")
    next_step(page)
    next_step(page)
    assert page.locator("input[name=duplicates][value=skip]").is_checked()
    page.get_by_text("Overwrite", exact=True).click()
    next_step(page)
    assert page.locator("#id_primary_view option:checked").inner_text() == "Gold Accounts"
    next_step(page)
    page.click("#save-and-sync-later")
    page.wait_for_url(f"{live_server.url}/settings/zoho-apps/crm/")
    config.refresh_from_db()
    assert config.duplicates == "overwrite"

    # Pause and Resume.
    page.click("#pause")
    assert page.locator("#paused-banner").is_visible()
    page.click("#instant-sync")
    assert page.get_by_text("Sync is paused: click Resume to sync again.").is_visible()
    page.click("#resume")
    assert page.locator("#paused-banner").count() == 0
    connection.refresh_from_db()
    assert not connection.paused

    # Disable Integration, and enable again.
    page.click("#disable-integration")
    assert page.get_by_text("Integration disabled").is_visible()
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.DISABLED
    page.click("#enable-integration")
    assert page.get_by_text("Integration enabled again.").is_visible()
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.CONNECTED


@pytest.mark.parametrize(
    ("org_change", "message"),
    [
        ({"edition": "standard"}, "is on the Standard edition; the integration needs Professional or above"),
        ({"currency": "EUR"}, "uses EUR and this Books organization 'Acme Books' uses USD"),
    ],
)
def test_prerequisite_refusals_show_their_message(page, live_server, sandbox, books, org_change, message):
    sandbox.set_org(**org_change)
    sign_in(page, live_server)
    connect(page, live_server, sandbox)
    accept_consent(page, sandbox)
    page.click("#save-connection")
    assert page.locator(".form-error").filter(has_text=message).is_visible()
    assert not CrmConnection.objects.exists()


def test_second_books_org_is_told_it_is_one_way(page, live_server, sandbox, books):
    from crm_integration.services import connections

    other = OrganizationFactory(name="First Books", slug="first")
    owner = UserFactory(email="owner@first.test")
    MembershipFactory(organization=other, user=owner, role=Role.ADMIN)
    connections.pending_authorize_with_refresh_token(organization=other, actor=owner, credentials=sandbox.credentials())
    connections.connection_connect(organization=other, actor=owner)

    sign_in(page, live_server)
    connect(page, live_server, sandbox)
    accept_consent(page, sandbox)
    assert page.get_by_text("Connecting it here gives a one-way connection").is_visible()
    page.click("#save-connection")
    assert page.locator("#one-way").filter(has_text="Fetch from CRM").is_visible()
    assert not CrmConnection.objects.get(organization=books).two_way_allowed


def test_wrong_inputs_show_inline_messages(page, live_server, sandbox, books):
    sign_in(page, live_server)
    connect(page, live_server, sandbox, client_id="")
    assert page.locator(".field-error").filter(has_text="client_id: the Client ID").is_visible()

    connect(page, live_server, sandbox)
    accept_consent(page, sandbox)
    page.click("#save-connection")
    page.click("#configure-vendors")
    next_step(page)
    next_step(page)
    next_step(page)
    # A map between incompatible types is refused at save, naming both fields and both types.
    page.select_option("select[name=map__Vendors__email]", value="Payment_Terms_Days")
    page.click("#save-and-sync-later")
    assert (
        page.locator(".field-error")
        .filter(
            has_text="Books field Email (email, email) cannot be mapped to CRM field Payment Terms Days "
            "(Payment_Terms_Days, number)"
        )
        .is_visible()
    )
    assert not ModuleConfig.objects.filter(module="vendors").exists()

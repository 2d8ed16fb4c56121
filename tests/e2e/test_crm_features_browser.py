"""The accountant's CRM features in a real browser (Debian's Chromium through Playwright) against a live server and
the live CRM sandbox: on a new invoice, search the CRM for an account (the search button next to Customer Name, the
pop-up, In Zoho CRM, Go), import it on the spot as the customer, fill a line, then CRM Actions › Associate
Potential: the customer's deals, Associate; Save; the invoice shows the deal."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from books.models import Contact, Role, Transaction
from crm_integration.services import connections
from tests.crmux.conftest import configure, crm_records
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PASSWORD = "browser-pass-1"


@pytest.fixture
def books(transactional_db, sandbox):
    organization = OrganizationFactory(name="Acme Books", slug="acme", base_currency="USD")
    admin = UserFactory(email="admin@acme.test")
    MembershipFactory(organization=organization, user=admin, role=Role.ADMIN)
    MembershipFactory(
        organization=organization, user=UserFactory(email="ann@acme.test", password=PASSWORD), role=Role.ACCOUNTANT
    )
    connections.pending_authorize_with_refresh_token(
        organization=organization, actor=admin, credentials=sandbox.credentials()
    )
    connection = connections.connection_connect(organization=organization, actor=admin).connection
    configure(connection, "customers", crm_module_option="accounts_and_contacts")
    return organization


def test_search_import_fill_save_then_associate_a_deal(page, live_server, sandbox, books):
    deal = next(d for d in crm_records(sandbox, "Deals", ["Deal_Name", "Account_Name"]) if d.get("Account_Name"))
    account_id = deal["Account_Name"]["id"]
    account_name = deal["Account_Name"]["name"]

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill("ann@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    page.goto(f"{live_server.url}/invoices/new/")
    expect(page.get_by_role("heading", name="New Invoice")).to_be_visible()
    # The search button next to Customer Name opens the pop-up: In Zoho CRM, a name, Go.
    page.locator("#crm-contact-search").click()
    dialog = page.locator("#lb-crm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text("In Zoho CRM")).to_be_visible()
    dialog.locator("#crm-search-q").fill(account_name)
    dialog.locator("#crm-search-go").click()
    account_row = dialog.locator(f'.crm-candidate[data-crm-id="{account_id}"]').first
    expect(account_row).to_contain_text(account_name)
    account_row.locator("form button").first.click()
    expect(dialog).to_be_hidden()

    customer = Contact.objects.get(organization=books, zcrm_account_id=account_id)
    expect(page.locator("#id_contact_id")).to_have_value(str(customer.pk))
    expect(page.locator("#id_contact_id option:checked")).to_have_text(re.compile(re.escape(customer.contact_name)))

    page.locator("#id_lines-0-name").fill("Consulting")
    page.locator("#id_lines-0-rate").fill("150")

    # CRM Actions › Associate Potential: the pane lists the customer's deals.
    page.locator("#crm-actions-menu").click()
    page.locator("#crm-associate-potential").click()
    expect(dialog).to_be_visible()
    deal_row = dialog.locator(f'tr[data-deal-id="{deal["id"]}"]')
    expect(deal_row).to_contain_text(deal["Deal_Name"])
    deal_row.get_by_role("button", name="Associate").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#crm-deal-pending")).to_contain_text(deal["Deal_Name"])

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text(re.compile(r"Invoice INV-00001 has been created\."))).to_be_visible()
    expect(page.get_by_text(f"Potential {deal['Deal_Name']} has been associated.")).to_be_visible()
    expect(page.locator("#deal")).to_contain_text(deal["Deal_Name"])

    invoice = Transaction.objects.get(organization=books, kind="invoice")
    assert invoice.contact_id == customer.pk
    assert (invoice.zcrm_potential_id, invoice.zcrm_potential_name) == (deal["id"], deal["Deal_Name"])
    assert [(line.name, line.rate) for line in invoice.lines.all()] == [("Consulting", Decimal("150.00"))]

"""Connecting through the pages against the live sandbox: the OAuth consent pages, the org choice, the
prerequisite refusals, the one-way second connection, and the life of the connection afterwards."""

from __future__ import annotations

import pytest
import responses
from django.urls import reverse

from crm_integration import crypto
from crm_integration.models import ConnectionStatus, CrmConnection, PendingConnection
from crm_integration.services import connections
from tests.crm_integration.conftest import consent, local_path

DETAILS = reverse("crm_integration:crm_details")
CONNECT = reverse("crm_integration:crm_connect")
CHOOSE = reverse("crm_integration:crm_choose_org")


def start_oauth(client, sandbox, **overrides):
    creds = sandbox.credentials_json()
    data = {
        "method": "oauth",
        "data_center": "custom",
        "accounts_url": sandbox.base_url,
        "api_domain": "",
        "client_id": creds["client_id"],
        "client_secret": creds["client_secret"],
    }
    data.update(overrides)
    return client.post(CONNECT, data)


def connect_through_pages(client, sandbox):
    response = start_oauth(client, sandbox)
    assert response.status_code == 302
    assert response["Location"].startswith(f"{sandbox.base_url}/oauth/v2/auth?")
    callback = consent(sandbox, response["Location"])
    back = client.get(local_path(callback))
    assert back.status_code == 302
    assert back["Location"] == CHOOSE
    return client.get(CHOOSE)


def test_not_connected_pages_offer_connect_and_say_what_is_shared(admin_client, org):
    apps = admin_client.get(reverse("crm_integration:zoho_apps"))
    assert b"Zoho CRM" in apps.content
    assert b">Connect</a>" in apps.content
    details = admin_client.get(DETAILS)
    content = details.content.decode()
    assert "Zoho CRM Credentials" in content
    assert 'id="connect-oauth"' in content
    assert "Your organisation name, email address, and your country" in content
    assert org.name in content
    assert org.email in content
    assert org.country in content
    assert "Professional plan or above" in content


def test_connect_through_the_oauth_pages(admin_client, admin_user, org, sandbox):
    page = connect_through_pages(admin_client, sandbox)
    content = page.content.decode()
    # One CRM org: the dropdown is disabled, and the one org is still posted.
    assert 'id="id_organization" disabled' in content
    assert "You have only one organisation in Zoho CRM" in content
    assert sandbox.credentials_json()["client_secret"] not in content
    saved = admin_client.post(CHOOSE, {})
    assert saved.status_code == 302
    assert saved["Location"] == DETAILS
    conn = CrmConnection.objects.get(organization=org)
    org_json = sandbox.control("GET", "orgs")["orgs"][0]
    assert conn.status == ConnectionStatus.CONNECTED
    assert conn.two_way_allowed
    assert conn.crm_org_id == str(org_json["id"])
    assert conn.crm_edition == "professional"
    assert conn.connected_by == admin_user
    assert conn.data_center == "custom"
    assert conn.api_domain == sandbox.base_url
    # A fresh refresh token was minted for this connection, and it works.
    assert crypto.decrypt(conn.encrypted_refresh_token) != sandbox.credentials_json()["refresh_token"]
    from crm_integration.services.clients import crm_client_for

    assert crm_client_for(conn).get_org().id == conn.crm_org_id
    details = admin_client.get(DETAILS).content.decode()
    assert "Show Details" not in details
    assert "Update Credentials" in details
    assert "Disable Integration" in details
    assert sandbox.credentials_json()["client_secret"] not in details
    assert "•••• saved" in details
    assert "Show Details" in admin_client.get(reverse("crm_integration:zoho_apps")).content.decode()


def test_connect_a_different_crm_org_resets_the_modules(admin_client, connected, sandbox):
    from crm_integration.models import ModuleConfig

    ModuleConfig.objects.create(connection=connected, module="vendors", enabled=True)
    second = sandbox.add_org(company_name="Globex CRM")
    response = start_oauth(admin_client, sandbox, client_secret="")
    callback = consent(sandbox, response["Location"], crm_org_name="Globex CRM")
    admin_client.get(local_path(callback))
    page = admin_client.get(CHOOSE).content.decode()
    assert "a different Zoho CRM organisation than the one connected now" in page
    done = admin_client.post(CHOOSE, {}, follow=True).content.decode()
    assert "configure the modules again" in done
    connected.refresh_from_db()
    assert (connected.crm_org_id, connected.crm_org_name) == (str(second["id"]), "Globex CRM")
    assert not ModuleConfig.objects.filter(connection=connected).exists()


def test_rejecting_consent_is_reported(admin_client, org, sandbox):
    response = start_oauth(admin_client, sandbox)
    callback = consent(sandbox, response["Location"], decision="reject")
    page = admin_client.get(local_path(callback))
    assert page.status_code == 400
    assert "did not grant access (access was denied)" in page.content.decode()
    assert not CrmConnection.objects.exists()


def test_a_callback_from_another_browser_is_refused(admin_client, admin_user, org, sandbox, client):
    response = start_oauth(admin_client, sandbox)
    callback = consent(sandbox, response["Location"])
    # Same admin, but a session that never started this Connect (no state bound to it).
    client.force_login(admin_user)
    page = client.get(local_path(callback))
    assert page.status_code == 400
    assert "does not match a Connect started from this browser" in page.content.decode()
    assert not PendingConnection.objects.filter(organization=org, encrypted_refresh_token__gt="").exists()


def test_wrong_client_secret_is_refused_at_the_token_exchange(admin_client, org, sandbox):
    response = start_oauth(admin_client, sandbox, client_secret="wrong-secret")
    callback = consent(sandbox, response["Location"])
    page = admin_client.get(local_path(callback))
    assert page.status_code in (400, 409)
    assert "invalid_client" in page.content.decode()
    assert not CrmConnection.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "text"),
    [
        ({"client_id": ""}, "client_id: the Client ID from the CRM&#x27;s API console is required"),
        ({"client_secret": ""}, "client_secret: the Client Secret"),
        ({"accounts_url": ""}, "accounts_url: a custom data center needs the accounts server URL"),
        ({"accounts_url": "not a url"}, "is not an http(s) URL"),
        ({"data_center": "mars"}, "data_center"),
        ({"method": "self_client", "grant_code": ""}, "grant_code: paste the grant code"),
    ],
)
def test_wrong_credentials_inputs_are_inline(admin_client, org, sandbox, overrides, text):
    response = start_oauth(admin_client, sandbox, **overrides)
    assert response.status_code == 400
    assert text in response.content.decode()
    assert not CrmConnection.objects.exists()


def test_edition_below_professional_is_refused_with_its_name(admin_client, org, sandbox):
    sandbox.set_org(edition="standard")
    page = connect_through_pages(admin_client, sandbox)
    assert "is on the Standard edition; the integration needs Professional or above" in page.content.decode()
    saved = admin_client.post(CHOOSE, {})
    assert saved.status_code == 422
    assert "Standard edition" in saved.content.decode()
    assert not CrmConnection.objects.exists()


def test_different_base_currency_is_refused_naming_both(admin_client, org, sandbox):
    sandbox.set_org(currency="EUR")
    connect_through_pages(admin_client, sandbox)
    saved = admin_client.post(CHOOSE, {})
    assert saved.status_code == 422
    content = saved.content.decode()
    assert "uses EUR" in content
    assert "uses USD" in content
    assert not CrmConnection.objects.exists()


def test_a_second_books_org_gets_one_way_and_is_told_why(admin_client, other_client, org, other_org, sandbox):
    connect_through_pages(admin_client, sandbox)
    admin_client.post(CHOOSE, {})
    page = connect_through_pages(other_client, sandbox)
    assert "already connected to another Zoho Books organisation" in page.content.decode()
    saved = other_client.post(CHOOSE, {}, follow=True)
    content = saved.content.decode()
    assert "one-way connection" in content
    assert "Fetch from CRM" in content
    first = CrmConnection.objects.get(organization=org)
    second = CrmConnection.objects.get(organization=other_org)
    assert first.two_way_allowed
    assert not second.two_way_allowed
    assert first.crm_org_id == second.crm_org_id
    assert org.name not in content


def test_self_client_path_wire(admin_client, org, settings):
    """The Self Client path, with the token endpoint and the CRM pinned by `responses`."""
    accounts = "https://accounts.zoho.eu"
    api = "https://www.zohoapis.eu"
    with responses.RequestsMock() as rsps:
        token = rsps.post(
            f"{accounts}/oauth/v2/token",
            json={
                "access_token": "1000.access",
                "refresh_token": "1000.refresh-from-grant",
                "api_domain": api,
                "token_type": "Bearer",
                "expires_in": 3600,
            },
        )
        rsps.post(
            f"{accounts}/oauth/v2/token",
            json={"access_token": "1000.access2", "api_domain": api, "token_type": "Bearer", "expires_in": 3600},
        )
        rsps.get(
            f"{api}/crm/v8/org",
            json={
                "org": [
                    {
                        "id": "777",
                        "company_name": "Euro Org",
                        "primary_email": "a@b.eu",
                        "country_code": "DE",
                        "iso_code": "USD",
                        "mc_status": False,
                        "license_details": {"paid_type": "enterprise"},
                    }
                ]
            },
        )
        response = admin_client.post(
            CONNECT,
            {
                "method": "self_client",
                "data_center": "eu",
                "client_id": "1000.SELF",
                "client_secret": "self-secret",
                "grant_code": "1000.grant",
            },
        )
        assert response.status_code == 302
        assert response["Location"] == CHOOSE
        body = token.calls[0].request.body
        assert "grant_type=authorization_code" in body
        assert "code=1000.grant" in body
        assert "client_secret=self-secret" in body
    saved = admin_client.post(CHOOSE, {"organization": "777"})
    assert saved.status_code == 302
    conn = CrmConnection.objects.get(organization=org)
    assert (conn.crm_org_name, conn.data_center, conn.api_domain) == ("Euro Org", "eu", api)
    assert crypto.decrypt(conn.encrypted_refresh_token) == "1000.refresh-from-grant"


def test_self_client_with_a_used_grant_code_is_refused(admin_client, org, sandbox):
    creds = sandbox.credentials_json()
    response = admin_client.post(
        CONNECT,
        {
            "method": "self_client",
            "data_center": "custom",
            "accounts_url": sandbox.base_url,
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
            "grant_code": "1000.not-a-real-code",
        },
    )
    assert response.status_code == 400
    assert "invalid_code" in response.content.decode()


def test_disable_enable_pause_resume_through_the_details_page(admin_client, connected, sandbox):
    assert admin_client.post(reverse("crm_integration:crm_pause")).status_code == 302
    page = admin_client.get(DETAILS).content.decode()
    assert 'id="paused-banner"' in page
    assert 'id="resume"' in page
    connected.refresh_from_db()
    assert connected.paused
    admin_client.post(reverse("crm_integration:crm_resume"))
    connected.refresh_from_db()
    assert not connected.paused
    admin_client.post(reverse("crm_integration:crm_disable"))
    connected.refresh_from_db()
    assert connected.status == ConnectionStatus.DISABLED
    page = admin_client.get(DETAILS).content.decode()
    assert 'id="enable-integration"' in page
    assert "nothing syncs between Zoho CRM and Zoho Books" in page
    sandbox.set_org(edition="free")
    refused = admin_client.post(reverse("crm_integration:crm_enable"), follow=True).content.decode()
    assert "Free edition" in refused
    connected.refresh_from_db()
    assert connected.status == ConnectionStatus.DISABLED
    sandbox.set_org(edition="enterprise")
    admin_client.post(reverse("crm_integration:crm_enable"))
    connected.refresh_from_db()
    assert connected.status == ConnectionStatus.CONNECTED
    assert connected.crm_edition == "enterprise"


def test_revoked_refresh_token_marks_the_connection(admin_client, org, sandbox):
    connect_through_pages(admin_client, sandbox)
    admin_client.post(CHOOSE, {})
    conn = CrmConnection.objects.get(organization=org)
    from crm_integration.services.clients import connection_credentials

    # This connection's own refresh token (not the sandbox's standing one, which other tests use).
    token = connection_credentials(conn).refresh_token
    sandbox.session.post(f"{sandbox.base_url}/oauth/v2/token/revoke", data={"token": token}, timeout=30)
    url = reverse("crm_integration:module_configure", args=["vendors"])
    admin_client.post(reverse("crm_integration:module_start", args=["vendors"]))
    admin_client.post(url, {"step": "extent", "action": "next", "extent": "fetch_from_crm"})
    admin_client.post(url, {"step": "duplicates", "action": "next", "duplicates": "skip"})
    page = admin_client.get(url)
    assert page.status_code == 503 or "refused the saved credentials" in page.content.decode()
    assert "refused the saved credentials" in page.content.decode()
    conn.refresh_from_db()
    assert conn.status == ConnectionStatus.NEEDS_REAUTH
    details = admin_client.get(DETAILS).content.decode()
    assert "Update Credentials" in details
    assert "refused the saved credentials" in details


def test_update_credentials_never_shows_the_secret_and_keeps_it_when_left_empty(admin_client, connected, sandbox):
    page = admin_client.get(CONNECT).content.decode()
    assert "•••• saved" in page
    assert sandbox.credentials_json()["client_secret"] not in page
    response = start_oauth(admin_client, sandbox, client_secret="")
    assert response.status_code == 302
    callback = consent(sandbox, response["Location"])
    admin_client.get(local_path(callback))
    assert admin_client.post(CHOOSE, {}).status_code == 302
    connected.refresh_from_db()
    assert crypto.decrypt(connected.encrypted_client_secret) == sandbox.credentials_json()["client_secret"]


def test_sync_options_wrong_input_is_inline(admin_client, connected):
    for value, text in [
        ("abc", "enter a whole number of minutes"),
        ("1", "at least 5 minutes"),
        ("9999", "at most 1440"),
    ]:
        response = admin_client.post(reverse("crm_integration:crm_sync_options"), {"interval_minutes": value})
        assert response.status_code == 400
        assert text in response.content.decode()
    admin_client.post(reverse("crm_integration:crm_sync_options"), {"interval_minutes": "30"})
    connected.refresh_from_db()
    assert connected.sync_interval_minutes == 30


def test_instant_sync_says_sync_is_not_available_until_registered(admin_client, connected):
    from crm_integration import hooks
    from crm_integration.models import ModuleConfig

    hooks._sync_starter.clear()
    ModuleConfig.objects.create(connection=connected, module="vendors", enabled=True)
    page = admin_client.post(reverse("crm_integration:crm_instant_sync"), follow=True).content.decode()
    assert "Sync is not available yet" in page
    hooks.register_sync_starter(lambda **kw: f"Sync started ({kw['trigger']}).")
    page = admin_client.post(reverse("crm_integration:crm_instant_sync"), follow=True).content.decode()
    assert "Sync started (instant)." in page


def test_history_page_is_empty_until_sync_registers_a_panel(admin_client, connected):
    from crm_integration import hooks

    hooks._panels.clear()  # the installed sync app registers its own (restored after the test)
    page = admin_client.get(reverse("crm_integration:crm_sync_history")).content.decode()
    assert 'id="history-empty"' in page
    hooks.register_panel(
        "runs",
        title="Runs",
        template_name="crm_integration/_insight.html",
        context=lambda r, c: {"shared": {"name": "RUNS-PANEL"}},
        placement="history",
    )
    page = admin_client.get(reverse("crm_integration:crm_sync_history")).content.decode()
    assert "RUNS-PANEL" in page
    assert 'id="history-empty"' not in page


def test_details_panels_render_and_a_broken_one_does_not_break_the_page(admin_client, connected):
    from crm_integration import hooks

    def broken(request, connection):
        raise RuntimeError("boom")

    hooks.register_panel(
        "triggers",
        title="Automate Based on the Deal/Potential's Stage",
        template_name="crm_integration/_insight.html",
        context=broken,
    )
    hooks.register_panel(
        "progress",
        title="Sync progress",
        template_name="crm_integration/_insight.html",
        context=lambda r, c: {"shared": {"name": "PROGRESS-42"}},
    )
    page = admin_client.get(DETAILS)
    assert page.status_code == 200
    content = page.content.decode()
    assert "PROGRESS-42" in content
    assert "Automate Based on the Deal/Potential&#x27;s Stage" in content


def test_pending_connection_expires(admin_client, admin_user, org, sandbox):
    connect_through_pages(admin_client, sandbox)
    PendingConnection.objects.filter(organization=org).update(
        created_at=connections.timezone.now() - connections.PENDING_TTL * 2
    )
    response = admin_client.post(CHOOSE, {})
    assert response.status_code == 302
    assert response["Location"] == DETAILS
    assert not CrmConnection.objects.exists()


def test_sync_transaction_modules_asks_to_confirm_and_needs_the_modules(admin_client, connected):
    from crm_integration.models import ModuleConfig

    url = reverse("crm_integration:crm_transactions")
    refused = admin_client.post(url, {"enabled": "1", "confirm": "1"}, follow=True).content.decode()
    assert "configure customers, vendors and items first (not configured: customers, vendors, items)" in refused
    for module, option in (("customers", "accounts"), ("vendors", ""), ("items", "")):
        ModuleConfig.objects.create(connection=connected, module=module, crm_module_option=option, enabled=True)
    confirm = admin_client.post(url, {"enabled": "1"})
    assert confirm.status_code == 200
    assert "Confirm" in confirm.content.decode()
    connected.refresh_from_db()
    assert not connected.transactions_enabled
    admin_client.post(url, {"enabled": "1", "confirm": "1"})
    connected.refresh_from_db()
    assert connected.transactions_enabled

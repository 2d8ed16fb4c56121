"""Who may open Settings › Zoho Apps: admins only (accountants and integration users get 403 on every page),
and nobody sees or changes another organization's connection."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm_integration.models import ConnectionStatus, CrmConnection
from tests.crm_integration.helpers import make_connection

GET_PAGES = [
    ("crm_integration:zoho_apps", []),
    ("crm_integration:crm_details", []),
    ("crm_integration:crm_connect", []),
    ("crm_integration:oauth_callback", []),
    ("crm_integration:crm_choose_org", []),
    ("crm_integration:crm_sync_history", []),
    ("crm_integration:module_configure", ["customers"]),
]
POST_PAGES = [
    ("crm_integration:crm_connect", []),
    ("crm_integration:crm_connect_cancel", []),
    ("crm_integration:crm_choose_org", []),
    ("crm_integration:crm_disable", []),
    ("crm_integration:crm_enable", []),
    ("crm_integration:crm_pause", []),
    ("crm_integration:crm_resume", []),
    ("crm_integration:crm_instant_sync", []),
    ("crm_integration:crm_sync_options", []),
    ("crm_integration:crm_transactions", []),
    ("crm_integration:module_configure", ["vendors"]),
    ("crm_integration:module_start", ["items"]),
    ("crm_integration:module_stop", ["items"]),
]


@pytest.mark.parametrize("who", ["accountant_client", "integration_client"])
@pytest.mark.parametrize(("name", "args"), GET_PAGES)
def test_get_pages_are_admin_only(request, org, who, name, args):
    make_connection(org)
    client = request.getfixturevalue(who)
    response = client.get(reverse(name, args=args))
    assert response.status_code == 403
    assert b"Zoho CRM Credentials" not in response.content


@pytest.mark.parametrize("who", ["accountant_client", "integration_client"])
@pytest.mark.parametrize(("name", "args"), POST_PAGES)
def test_post_actions_are_admin_only_and_change_nothing(request, org, who, name, args):
    conn = make_connection(org)
    client = request.getfixturevalue(who)
    response = client.post(reverse(name, args=args), {"interval_minutes": "30", "enabled": "1", "confirm": "1"})
    assert response.status_code == 403
    conn.refresh_from_db()
    assert (conn.status, conn.paused, conn.sync_interval_minutes) == (ConnectionStatus.CONNECTED, False, 120)


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("crm_integration:zoho_apps"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_the_nav_shows_zoho_apps_to_admins_only(admin_client, accountant_client):
    assert b'href="/settings/zoho-apps/"' in admin_client.get("/").content
    assert b'href="/settings/zoho-apps/"' not in accountant_client.get("/").content


def test_another_orgs_connection_is_invisible_and_untouchable(org, other_client):
    conn = make_connection(org)
    page = other_client.get(reverse("crm_integration:zoho_apps"))
    assert page.status_code == 200
    assert b"Zylker CRM" not in page.content
    assert b">Connect<" in page.content
    for name in ("crm_disable", "crm_pause", "crm_instant_sync", "crm_enable"):
        assert other_client.post(reverse(f"crm_integration:{name}")).status_code == 404
    assert other_client.get(reverse("crm_integration:crm_sync_history")).status_code == 404
    conn.refresh_from_db()
    assert conn.status == ConnectionStatus.CONNECTED
    assert not conn.paused


def test_unknown_module_is_404(admin_client, org):
    make_connection(org)
    assert admin_client.get(reverse("crm_integration:module_configure", args=["deals"])).status_code == 404
    assert admin_client.post("/settings/zoho-apps/crm/modules/invoices/start/").status_code == 404


def test_actions_need_post(admin_client, org):
    make_connection(org)
    assert admin_client.get(reverse("crm_integration:crm_disable")).status_code == 405
    assert CrmConnection.objects.get(organization=org).status == ConnectionStatus.CONNECTED

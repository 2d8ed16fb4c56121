"""Connection services that need no CRM: prerequisites, the one-way rule, saving the chosen org, disable,
pause and resume, sync options, transactions and Instant Sync through the hooks."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from django.test import override_settings

from books.errors import ApplicationError, Conflict
from crm_integration import crypto, hooks
from crm_integration.models import (
    ConnectionStatus,
    ConnectMethod,
    CrmConnection,
    ModuleConfig,
    PendingConnection,
    SyncExtent,
    SyncModule,
)
from crm_integration.services import connections as svc
from crm_integration.services.connections import CrmOrgChoice
from tests.crm_integration.helpers import make_connection


def choice(**kw) -> CrmOrgChoice:
    values = {"id": "900001", "name": "Zylker CRM", "edition": "professional", "currency": "USD"}
    values.update(kw)
    return CrmOrgChoice(**values)


def pending_for(org, user, *orgs: CrmOrgChoice) -> PendingConnection:
    return PendingConnection.objects.create(
        organization=org,
        method=ConnectMethod.OAUTH,
        data_center="custom",
        accounts_url="http://crm.test",
        api_domain="http://crm.test",
        client_id="1000.CLIENT",
        encrypted_client_secret=crypto.encrypt("secret"),
        encrypted_refresh_token=crypto.encrypt("1000.refresh"),
        crm_orgs=[asdict(o) for o in (orgs or (choice(),))],
        created_by=user,
    )


@pytest.mark.parametrize(
    ("edition", "ok"),
    [
        ("free", False),
        ("standard", False),
        ("professional", True),
        ("enterprise", True),
        ("ultimate", True),
        ("", False),
    ],
)
def test_edition_prerequisite(org, edition, ok):
    problems = svc.prerequisite_problems(crm_org=choice(edition=edition), organization=org)
    assert (problems == []) is ok
    if not ok:
        assert problems[0][0] == "edition"
        assert "Professional or above" in problems[0][1]
        assert "Zylker CRM" in problems[0][1]


def test_currency_prerequisite_names_both_currencies(org):
    problems = svc.prerequisite_problems(crm_org=choice(currency="EUR"), organization=org)
    assert problems == [
        (
            "currency",
            "The base currencies differ: Zoho CRM organization 'Zylker CRM' uses EUR and this Books organization "
            "'Acme Books' uses USD. They must be the same; change one of them and connect again.",
        )
    ]


def test_connect_saves_the_chosen_org_and_drops_the_pending_one(org, admin_user):
    pending_for(org, admin_user, choice())
    outcome = svc.connection_connect(organization=org, actor=admin_user, crm_org_id="")
    conn = outcome.connection
    assert conn.status == ConnectionStatus.CONNECTED
    assert conn.two_way_allowed
    assert (conn.crm_org_id, conn.crm_org_name, conn.crm_edition, conn.crm_currency) == (
        "900001",
        "Zylker CRM",
        "professional",
        "USD",
    )
    assert conn.connected_by == admin_user
    assert outcome.one_way_reason == ""
    assert not PendingConnection.objects.filter(organization=org).exists()


def test_connect_refuses_the_standard_edition_and_keeps_the_pending_one(org, admin_user):
    pending_for(org, admin_user, choice(edition="standard"))
    with pytest.raises(ApplicationError) as exc:
        svc.connection_connect(organization=org, actor=admin_user, crm_org_id="900001")
    assert exc.value.field == "edition"
    assert "Standard edition" in exc.value.message
    assert not CrmConnection.objects.exists()
    assert PendingConnection.objects.filter(organization=org).exists()


def test_connect_refuses_an_org_not_offered(org, admin_user):
    pending_for(org, admin_user, choice())
    with pytest.raises(ApplicationError, match="choose one of the Zoho CRM organizations listed"):
        svc.connection_connect(organization=org, actor=admin_user, crm_org_id="123")


def test_connect_without_pending_says_click_connect(org, admin_user):
    with pytest.raises(ApplicationError, match="click Connect"):
        svc.connection_connect(organization=org, actor=admin_user, crm_org_id="900001")


def test_second_books_org_gets_a_one_way_connection_and_is_told_why(org, other_org, admin_user, other_admin):
    make_connection(org)
    pending_for(other_org, other_admin, choice())
    outcome = svc.connection_connect(organization=other_org, actor=other_admin, crm_org_id="900001")
    assert outcome.connection.two_way_allowed is False
    assert "already connected to another Zoho Books organization" in outcome.one_way_reason
    assert "Fetch from CRM" in outcome.one_way_reason
    # The other tenant's name is not revealed.
    assert org.name not in outcome.one_way_reason


def test_choosing_another_crm_org_resets_the_modules(org, admin_user):
    conn = make_connection(org)
    ModuleConfig.objects.create(connection=conn, module=SyncModule.VENDORS, enabled=True)
    pending_for(org, admin_user, choice(id="900002", name="Other CRM"))
    outcome = svc.connection_connect(organization=org, actor=admin_user, crm_org_id="900002")
    assert outcome.crm_org_changed
    assert outcome.connection.pk == conn.pk
    assert outcome.connection.crm_org_id == "900002"
    assert not ModuleConfig.objects.filter(connection=conn).exists()


def test_update_credentials_on_the_same_org_keeps_modules(org, admin_user):
    conn = make_connection(org)
    ModuleConfig.objects.create(connection=conn, module=SyncModule.VENDORS, enabled=True)
    pending_for(org, admin_user, choice())
    outcome = svc.connection_connect(organization=org, actor=admin_user, crm_org_id="900001")
    assert not outcome.crm_org_changed
    assert ModuleConfig.objects.filter(connection=conn).count() == 1
    conn.refresh_from_db()
    assert crypto.decrypt(conn.encrypted_refresh_token) == "1000.refresh"


@pytest.mark.parametrize(
    ("kwargs", "field", "text"),
    [
        ({"data_center": "mars"}, "data_center", "is not one of"),
        ({"data_center": "custom"}, "accounts_url", "needs the accounts server URL"),
        ({"data_center": "custom", "accounts_url": "ftp://x"}, "accounts_url", "is not an http(s) URL"),
        (
            {"data_center": "custom", "accounts_url": "http://ok.test", "api_domain": "nope"},
            "api_domain",
            "not an http(s)",
        ),
    ],
)
def test_endpoint_inputs_are_checked(kwargs, field, text):
    with pytest.raises(ApplicationError) as exc:
        svc.endpoint_resolve(**kwargs)
    assert exc.value.field == field
    assert text in exc.value.message


def test_zoho_data_center_urls():
    endpoint = svc.endpoint_resolve(data_center="ca")
    assert endpoint.accounts_url == "https://accounts.zohocloud.ca"
    assert endpoint.api_domain == "https://www.zohoapis.ca"


@pytest.mark.parametrize(
    ("client_id", "client_secret", "field"),
    [("", "s", "client_id"), ("has space", "s", "client_id"), ("1000.X", "", "client_secret")],
)
def test_oauth_start_checks_the_client(org, admin_user, client_id, client_secret, field):
    with pytest.raises(ApplicationError) as exc:
        svc.oauth_start(
            organization=org, actor=admin_user, data_center="us", client_id=client_id, client_secret=client_secret
        )
    assert exc.value.field == field
    assert not PendingConnection.objects.exists()


def test_oauth_start_builds_the_consent_url_and_keeps_only_a_state_hash(org, admin_user):
    with override_settings(LB_PUBLIC_URL="https://books.example.com"):
        url, state = svc.oauth_start(
            organization=org, actor=admin_user, data_center="eu", client_id="1000.X", client_secret="shh"
        )
    assert url.startswith("https://accounts.zoho.eu/oauth/v2/auth?")
    assert "redirect_uri=https%3A%2F%2Fbooks.example.com%2Fsettings%2Fzoho-apps%2Foauth%2Fcallback%2F" in url
    assert f"state={state}" in url
    assert "access_type=offline" in url
    assert "shh" not in url
    pending = PendingConnection.objects.get(organization=org)
    assert pending.state_hash
    assert state not in pending.state_hash
    assert "shh" not in pending.encrypted_client_secret


def test_oauth_finish_refuses_a_state_that_does_not_match(org, admin_user):
    _, state = svc.oauth_start(
        organization=org, actor=admin_user, data_center="us", client_id="1000.X", client_secret="s"
    )
    for given, session in [(state, ""), (state, "other"), ("forged", "forged"), ("", "")]:
        with pytest.raises(ApplicationError) as exc:
            svc.oauth_finish(organization=org, actor=admin_user, state=given, session_state=session, code="c")
        assert exc.value.field == "state"


def test_oauth_finish_reports_a_refusal(org, admin_user):
    _, state = svc.oauth_start(
        organization=org, actor=admin_user, data_center="us", client_id="1000.X", client_secret="s"
    )
    with pytest.raises(ApplicationError, match="access was denied"):
        svc.oauth_finish(organization=org, actor=admin_user, state=state, session_state=state, error="access_denied")
    assert not PendingConnection.objects.exists()


def test_oauth_finish_refuses_a_foreign_accounts_server(org, admin_user):
    _, state = svc.oauth_start(
        organization=org,
        actor=admin_user,
        data_center="custom",
        accounts_url="http://crm.test",
        client_id="1000.X",
        client_secret="s",
    )
    with pytest.raises(ApplicationError) as exc:
        svc.oauth_finish(
            organization=org,
            actor=admin_user,
            state=state,
            session_state=state,
            code="c",
            accounts_server="http://evil.test",
        )
    assert exc.value.field == "accounts_server"
    assert "evil.test" in exc.value.message


def test_client_secret_from_the_installation_settings(org, admin_user):
    with override_settings(LB_ZOHO_CLIENT_ID="1000.INSTALL", LB_ZOHO_CLIENT_SECRET="install-secret"):
        svc.oauth_start(
            organization=org, actor=admin_user, data_center="us", client_id="1000.INSTALL", client_secret=""
        )
        assert svc.installation_client()["client_id"] == "1000.INSTALL"
        assert "install-secret" not in str(svc.installation_client())
    pending = PendingConnection.objects.get(organization=org)
    assert crypto.decrypt(pending.encrypted_client_secret) == "install-secret"


def test_disable_pause_resume_and_options(org, admin_user):
    conn = make_connection(org)
    ModuleConfig.objects.create(connection=conn, module=SyncModule.VENDORS, enabled=True)
    svc.connection_pause(connection=conn, actor=admin_user)
    assert CrmConnection.objects.get(pk=conn.pk).paused
    assert "paused" in svc.sync_refusal(conn)
    svc.connection_resume(connection=conn, actor=admin_user)
    conn.refresh_from_db()
    assert not conn.paused
    assert conn.next_sync_at is not None
    svc.connection_set_sync_options(connection=conn, actor=admin_user, interval_minutes="60")
    assert CrmConnection.objects.get(pk=conn.pk).sync_interval_minutes == 60
    for bad, text in [("abc", "not a whole number"), (2, "outside 5–1440"), (5000, "outside")]:
        with pytest.raises(ApplicationError, match=text):
            svc.connection_set_sync_options(connection=conn, actor=admin_user, interval_minutes=bad)
    svc.connection_disable(connection=conn, actor=admin_user)
    conn.refresh_from_db()
    assert conn.status == ConnectionStatus.DISABLED
    assert conn.disabled_at
    assert conn.next_sync_at is None
    assert "disabled" in svc.sync_refusal(conn)


def test_transactions_need_all_modules_and_two_way(org, admin_user):
    conn = make_connection(org)
    with pytest.raises(Conflict, match="not configured: customers, vendors, items"):
        svc.connection_set_transactions(connection=conn, actor=admin_user, enabled=True)
    for module, option in [("customers", "accounts"), ("vendors", ""), ("items", "")]:
        ModuleConfig.objects.create(connection=conn, module=module, crm_module_option=option, enabled=True)
    svc.connection_set_transactions(connection=conn, actor=admin_user, enabled=True)
    assert CrmConnection.objects.get(pk=conn.pk).transactions_enabled
    conn.transactions_enabled = False
    conn.two_way_allowed = False
    conn.save()
    with pytest.raises(Conflict, match="one way"):
        svc.connection_set_transactions(connection=conn, actor=admin_user, enabled=True)


def test_instant_sync_goes_through_the_registered_starter(org, admin_user):
    conn = make_connection(org)
    ModuleConfig.objects.create(connection=conn, module=SyncModule.VENDORS, enabled=True)
    with hooks.registry_snapshot():
        hooks._sync_starter.clear()
        with pytest.raises(Conflict, match="not available yet"):
            svc.connection_sync_now(connection=conn, actor=admin_user)
        calls = []

        def starter(*, connection, actor, trigger, modules):
            calls.append((connection.pk, trigger, modules))
            return "Sync started."

        hooks.register_sync_starter(starter)
        assert svc.connection_sync_now(connection=conn, actor=admin_user) == "Sync started."
        assert calls == [(conn.pk, "instant", None)]
        svc.connection_pause(connection=conn, actor=admin_user)
        with pytest.raises(Conflict, match="Resume"):
            svc.connection_sync_now(connection=conn, actor=admin_user)
        assert len(calls) == 1


def test_one_way_connection_forces_fetch_from_crm(org, other_org, admin_user, other_admin):
    first = make_connection(org)
    second = make_connection(other_org, two_way_allowed=False, status=ConnectionStatus.DISABLED)
    ModuleConfig.objects.create(connection=second, module=SyncModule.VENDORS, extent=SyncExtent.BOTH_WAYS)
    assert first.two_way_allowed
    assert svc._force_one_way(second) == ("vendors",)
    assert ModuleConfig.objects.get(connection=second).extent == SyncExtent.FETCH_FROM_CRM

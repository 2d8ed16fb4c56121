"""Manage Users and Roles (Settings › Zoho Apps › Zoho CRM) against the live sandbox: enabled once the transaction
modules sync; CRM users checked one by one or by whole roles get the Integration User (Zoho CRM) role, unchecked
ones are deleted from the organization; at most 1000 (a smaller limit in tests); Settings › Users lists them apart
and cannot change them; they cannot open Books but use the API; disabling the integration leaves Books as it is."""

from __future__ import annotations

import re

import pytest
import responses
from django.core.cache import cache
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext

from books.errors import ApplicationError
from books.models import Membership, Role, Transaction, User
from books.services.organizations import api_token_create
from books.services.transactions import LineInput, TransactionInput, transaction_create
from crm_integration.models import ModuleConfig
from crm_integration.services.connections import connection_set_transactions
from crm_integration.services.users import integration_users_save
from crm_integration.zoho.oauth import AccessTokens
from tests.crm_integration.helpers import make_connection
from tests.crmux.conftest import configure
from tests.factories import CustomerFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = "/settings/zoho-apps/crm/users/"
SALES_REPS = {"amelia.ortiz@zylker.test", "jonas.weber@zylker.test", "priya.raman@zylker.test"}


def _text(response) -> str:
    return response.content.decode()


def _people(sandbox) -> tuple[dict[str, dict], dict[str, str]]:
    users = sandbox.api("GET", "users", params={"type": "ActiveUsers"}).json()["users"]
    roles = sandbox.api("GET", "settings/roles").json()["roles"]
    return {u["email"]: u for u in users}, {r["name"]: r["id"] for r in roles}


def _integration_emails(org) -> set[str]:
    return set(
        Membership.objects.filter(organization=org, role=Role.INTEGRATION_USER).values_list("user__email", flat=True)
    )


@pytest.fixture
def enabled(connected):
    """Customers, vendors and items configured, then Sync Transaction Modules enabled (the seed's prerequisite)."""
    configure(connected, "customers", crm_module_option="accounts")
    configure(connected, "vendors")
    configure(connected, "items")
    return connection_set_transactions(connection=connected, actor=None, enabled=True)


def test_manage_users_waits_for_the_transaction_modules(connected, admin_client, org, admin_user):
    details = _text(admin_client.get("/settings/zoho-apps/crm/"))
    assert re.search(r'<button class="btn btn-sm" type="button" disabled[^>]*id="manage-users"', details)
    assert "Enable Sync Transaction Modules first." in details
    response = admin_client.get(URL, follow=True)
    assert "Manage Users is enabled once you enable Sync Transaction Modules." in _text(response)
    with pytest.raises(ApplicationError, match="users: enable Sync Transaction Modules first"):
        integration_users_save(connection=connected, actor=admin_user, user_ids=["1"], shown=[])
    assert _integration_emails(org) == set()


def test_lists_the_crm_users_and_filters_by_role(enabled, sandbox, admin_client):
    people, roles = _people(sandbox)
    details = _text(admin_client.get("/settings/zoho-apps/crm/"))
    assert f'href="{URL}" id="manage-users"' in details
    body = _text(admin_client.get(URL))
    assert set(re.findall(r'name="shown" value="(\d+)"', body)) == {u["id"] for u in people.values()}
    assert "Users Added:</strong> 0 of at most 1000" in body
    assert all(name in body for name in roles)
    reps = _text(admin_client.get(URL, {"role": roles["Sales Rep"]}))
    assert set(re.findall(r'name="shown" value="(\d+)"', reps)) == {people[e]["id"] for e in SALES_REPS}


def test_users_and_whole_roles_are_added_and_unchecked_ones_removed(enabled, sandbox, admin_client, org):
    people, roles = _people(sandbox)
    everyone = [u["id"] for u in people.values()]
    marcus = people["marcus.chen@zylker.test"]
    response = admin_client.post(
        URL, {"user": [marcus["id"]], "role": [roles["Sales Rep"]], "shown": everyone}, follow=True
    )
    assert "Integration User (Zoho CRM): 4 added; 4 users added in all." in _text(response)
    assert _integration_emails(org) == SALES_REPS | {marcus["email"]}
    membership = Membership.objects.get(organization=org, user__email=marcus["email"])
    assert membership.crm_user_id == marcus["id"]
    assert not membership.user.has_usable_password()
    assert membership.user.get_full_name() == "Marcus Chen"
    assert "Users Added: 4" in _text(admin_client.get("/settings/zoho-apps/crm/"))
    page = _text(admin_client.get(URL))
    assert set(re.findall(r'name="user" value="(\d+)"[^>]*checked', page)) == {
        people[e]["id"] for e in SALES_REPS | {marcus["email"]}
    }

    # Filtered by Sales Rep, Jonas unchecked: he alone is removed (Marcus was not shown, so he stays).
    reps = [people[e]["id"] for e in SALES_REPS]
    kept = [people[e]["id"] for e in SALES_REPS if e != "jonas.weber@zylker.test"]
    response = admin_client.post(f"{URL}?role={roles['Sales Rep']}", {"user": kept, "shown": reps}, follow=True)
    assert "1 removed; 3 users added in all." in _text(response)
    assert _integration_emails(org) == (SALES_REPS - {"jonas.weber@zylker.test"}) | {marcus["email"]}
    assert User.objects.filter(email="jonas.weber@zylker.test").exists()  # the account stays, not the membership


def test_at_most_the_limit_naming_the_count(enabled, sandbox, admin_client, org, settings):
    settings.LB_INTEGRATION_USERS_MAX = 2
    people, roles = _people(sandbox)
    response = admin_client.post(URL, {"role": [roles["Sales Rep"]], "shown": [u["id"] for u in people.values()]})
    assert response.status_code == 400
    body = _text(response)
    assert "At most 2 users can have the Integration User (Zoho CRM) role; 3 would have it" in body
    assert "Uncheck 1." in body
    assert _integration_emails(org) == set()
    # The choice is kept on the page.
    assert re.search(rf'name="role" value="{roles["Sales Rep"]}" checked', body)


def test_a_books_member_keeps_their_role(enabled, sandbox, admin_client, org):
    people, _ = _people(sandbox)
    MembershipFactory(organization=org, role=Role.ACCOUNTANT, user=UserFactory(email="marcus.chen@zylker.test"))
    page = _text(admin_client.get(URL))
    assert "Accountant in Zoho Books: not changed here" in page
    response = admin_client.post(URL, {"user": [people["marcus.chen@zylker.test"]["id"]], "shown": []}, follow=True)
    assert "marcus.chen@zylker.test: already a member of this organization as Accountant; not changed." in _text(
        response
    )
    assert Membership.objects.get(organization=org, user__email="marcus.chen@zylker.test").role == Role.ACCOUNTANT


def test_integration_users_use_the_api_not_books(enabled, sandbox, admin_client, org, client):
    people, _ = _people(sandbox)
    priya = people["priya.raman@zylker.test"]
    admin_client.post(URL, {"user": [priya["id"]], "shown": [priya["id"]]})
    user = User.objects.get(email=priya["email"])
    client.force_login(user)
    denied = client.get("/invoices/")
    assert denied.status_code == 403
    assert "Integration User (Zoho CRM)" in _text(denied)
    _, token = api_token_create(user=user)
    crm_customer = CustomerFactory(organization=org, zcrm_account_id="5725767000000000042")
    transaction_create(
        organization=org,
        actor=None,
        kind="invoice",
        data=TransactionInput(contact_id=crm_customer.pk, lines=[LineInput(name="x", rate="1")]),
    )
    response = client.get(f"/books/v3/invoices?organization_id={org.pk}", HTTP_AUTHORIZATION=f"Zoho-oauthtoken {token}")
    assert response.status_code == 200
    assert len(response.json()["invoices"]) == 1


def test_settings_users_lists_them_apart_and_cannot_remove_them(enabled, sandbox, admin_client, org):
    _, roles = _people(sandbox)
    admin_client.post(URL, {"role": [roles["Sales Rep"]], "shown": []})
    users_page = _text(admin_client.get("/settings/users/"))
    assert "Integration User (Zoho CRM): 3 users added" in users_page
    assert not any(email in users_page for email in SALES_REPS)  # apart: not among the Books users
    listed = _text(admin_client.get("/settings/users/?role=integration_user"))
    assert all(email in listed for email in SALES_REPS)
    assert "Managed in" in listed
    membership = Membership.objects.get(organization=org, user__email="amelia.ortiz@zylker.test")
    response = admin_client.post(f"/settings/users/{membership.pk}/delete/", follow=True)
    assert "cannot be deleted from the Users page" in _text(response)
    response = admin_client.post(f"/settings/users/{membership.pk}/edit/", {"role": "admin"}, follow=True)
    assert "Integration users are managed from Settings › Zoho Apps › Manage Users." in _text(response)
    membership.refresh_from_db()
    assert membership.role == Role.INTEGRATION_USER


def test_with_transaction_modules_disabled_users_can_only_be_removed(enabled, sandbox, admin_client, org):
    people, roles = _people(sandbox)
    admin_client.post(URL, {"role": [roles["Sales Rep"]], "shown": []})
    connection_set_transactions(connection=enabled, actor=None, enabled=False)
    page = _text(admin_client.get(URL))
    assert "you can only remove integration users until it is" in page
    marcus = people["marcus.chen@zylker.test"]["id"]
    assert re.search(rf'name="user" value="{marcus}" id="user-{marcus}"[^>]*disabled', page)
    response = admin_client.post(URL, {"user": [marcus], "shown": [marcus]})
    assert response.status_code == 409
    assert "Enable Sync Transaction Modules first" in _text(response)
    amelia = people["amelia.ortiz@zylker.test"]["id"]
    keep = [people[e]["id"] for e in SALES_REPS if e != "amelia.ortiz@zylker.test"]
    admin_client.post(URL, {"user": keep, "shown": [amelia, *keep]})
    assert _integration_emails(org) == SALES_REPS - {"amelia.ortiz@zylker.test"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"user": ["abc"]}, "&#x27;abc&#x27; is not a Zoho CRM id"),
        ({"user": ["5725767000009999999"]}, "5725767000009999999 is not an active user of Zoho CRM"),
        ({"role": ["5725767000009999999"]}, "5725767000009999999 is not a role of Zoho CRM"),
        ({"shown": ["1;DROP"]}, "is not a Zoho CRM id"),
    ],
)
def test_bad_input_is_inline(enabled, admin_client, org, data, message):
    response = admin_client.post(URL, data)
    assert response.status_code == 400
    assert message in _text(response)
    assert _integration_emails(org) == set()


def test_admins_only(enabled, accountant_client, integration_client, other_client):
    assert accountant_client.get(URL).status_code == 403
    assert accountant_client.post(URL, {"user": ["1"]}).status_code == 403
    assert integration_client.get(URL).status_code == 403
    assert other_client.get(URL).status_code == 404  # not connected there


def test_disabling_the_integration_leaves_books_transactions_as_they_are(enabled, sandbox, admin_client, org):
    _, roles = _people(sandbox)
    admin_client.post(URL, {"role": [roles["Sales Rep"]], "shown": []})
    customer = CustomerFactory(organization=org, zcrm_account_id="5725767000000000042")
    invoice = transaction_create(
        organization=org,
        actor=None,
        kind="invoice",
        data=TransactionInput(contact_id=customer.pk, lines=[LineInput(name="Work", rate="250")]),
        zcrm_potential_id="5725767000000000077",
        zcrm_potential_name="Big deal",
        potential_locked=True,
    )
    before = Transaction.objects.filter(organization=org).values().get()
    response = admin_client.post("/settings/zoho-apps/crm/disable/", follow=True)
    assert "Integration disabled" in _text(response)
    after = Transaction.objects.filter(organization=org).values().get()
    assert after == before
    assert invoice.lines.count() == 1
    customer.refresh_from_db()
    assert customer.zcrm_account_id == "5725767000000000042"
    assert _integration_emails(org) == SALES_REPS  # removed only from Manage Users
    # Disabled, Manage Users says why it cannot list the CRM's users.
    page = admin_client.get(URL)
    assert "Manage Users needs a working connection" in _text(page)


# --- bulk: the writes do not grow with the number of users (responses: a CRM with many users) -------------------------


@pytest.fixture
def wire():
    AccessTokens.forget_all()
    cache.clear()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
    AccessTokens.forget_all()
    cache.clear()


def _crm_with_users(wire, count: int) -> None:
    host = "http://crm.test"
    wire.add(
        responses.POST,
        f"{host}/oauth/v2/token",
        json={"access_token": "1000.a", "api_domain": host, "token_type": "Bearer", "expires_in": 3600},
    )
    users = [
        {
            "id": str(9_000_000 + n),
            "full_name": f"User {n}",
            "email": f"user{n}@crm.test",
            "status": "active",
            "role": {"id": "77", "name": "Sales Rep"},
        }
        for n in range(count)
    ]
    wire.add(responses.GET, f"{host}/crm/v8/users", json={"users": users, "info": {"more_records": False}})
    wire.add(responses.GET, f"{host}/crm/v8/settings/roles", json={"roles": [{"id": "77", "name": "Sales Rep"}]})


@pytest.mark.parametrize("count", [3, 300])
def test_saving_many_users_takes_the_same_queries(wire, org, count, settings):
    settings.LB_INTEGRATION_USERS_MAX = 1000
    connection = make_connection(org, transactions_enabled=True)
    ModuleConfig.objects.create(connection=connection, module="customers", crm_module_option="accounts", enabled=True)
    _crm_with_users(wire, count)
    with CaptureQueriesContext(db_connection) as queries:
        outcome = integration_users_save(connection=connection, actor=None, user_ids=[], role_ids=["77"], shown=None)
    assert len(outcome.added) == count
    assert Membership.objects.filter(organization=org, role=Role.INTEGRATION_USER).count() == count
    # reads: current members, users by email, members by email; writes: users, re-read, memberships; the count.
    # (a bulk insert of 300 rows is one statement on PostgreSQL, a few batches on SQLite: never one per user)
    assert len(queries) <= 12, [q["sql"][:80] for q in queries]
    with CaptureQueriesContext(db_connection) as queries:
        outcome = integration_users_save(connection=connection, actor=None, user_ids=[], role_ids=[], shown=None)
    assert len(outcome.removed) == count
    assert not Membership.objects.filter(organization=org, role=Role.INTEGRATION_USER).exists()
    assert len(queries) <= 6

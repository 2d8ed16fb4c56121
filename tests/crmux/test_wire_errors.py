"""The exact requests of the searches and what the CRM's refusals and limits become (`responses`): an inline message
that says what to do, never a 500; a refused refresh token marks the connection as needing new credentials."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.core.cache import cache

from books.errors import ApplicationError
from books.models import ContactType
from crm_integration.models import ConnectionStatus, ModuleConfig
from crm_integration.services.clients import connection_credentials
from crm_integration.zoho import RetryPolicy, ZohoCrmClient
from crm_integration.zoho.oauth import AccessTokens
from sync.services.crm_actions import crm_contact_search, crm_deal_list
from tests.crm_integration.helpers import make_connection
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
HOST = "http://crm.test"


@pytest.fixture(autouse=True)
def _fresh_tokens():
    """Access tokens live in the process and in Django's cache: each test starts without one."""
    AccessTokens.forget_all()
    cache.clear()
    yield
    AccessTokens.forget_all()
    cache.clear()


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def connection(org):
    connection = make_connection(org)
    ModuleConfig.objects.create(connection=connection, module="customers", crm_module_option="accounts", enabled=True)
    return connection


def _token(rsps):
    rsps.add(
        responses.POST,
        f"{HOST}/oauth/v2/token",
        json={"access_token": "1000.access", "api_domain": HOST, "token_type": "Bearer", "expires_in": 3600},
    )


def _criteria(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


def test_an_account_search_asks_for_accounts_then_their_contacts_in_one_call(rsps, connection, org):
    _token(rsps)
    rsps.add(
        responses.GET,
        f"{HOST}/crm/v8/Accounts/search",
        json={
            "data": [{"id": "111", "Account_Name": "Zylker (US), Inc"}, {"id": "222", "Account_Name": "Zylker EU"}],
            "info": {"more_records": False},
        },
    )
    rsps.add(
        responses.GET,
        f"{HOST}/crm/v8/Contacts/search",
        json={
            "data": [
                {"id": "9", "First_Name": "Ann", "Last_Name": "Lee", "Account_Name": {"id": "222", "name": "Zylker EU"}}
            ],
            "info": {"more_records": False},
        },
    )
    result = crm_contact_search(organization=org, contact_type=ContactType.CUSTOMER, query="Zylker (US),")
    accounts_call, contacts_call = rsps.calls[1], rsps.calls[2]
    # Zoho's escapes for parentheses and commas inside a value.
    assert _criteria(accounts_call)["criteria"] == r"(Account_Name:starts_with:Zylker \(US\)\,)"
    assert _criteria(accounts_call)["fields"] == "Account_Name,Billing_City,Phone"
    assert _criteria(contacts_call)["criteria"] == "(Account_Name.id:in:111,222)"
    assert [c.name for c in result.candidates] == ["Zylker (US), Inc", "Zylker EU"]
    assert [c.name for c in result.candidates[1].children] == ["Ann Lee"]
    assert result.candidates[0].children == ()


def test_nothing_found_is_an_empty_list(rsps, connection, org):
    _token(rsps)
    rsps.add(responses.GET, f"{HOST}/crm/v8/Accounts/search", status=204)
    result = crm_contact_search(organization=org, contact_type=ContactType.CUSTOMER, query="Nobody")
    assert result.candidates == []
    assert len(rsps.calls) == 2  # no contacts search without accounts


def test_a_refusal_of_the_crm_is_a_message(rsps, connection, org):
    _token(rsps)
    rsps.add(
        responses.GET,
        f"{HOST}/crm/v8/Accounts/search",
        status=400,
        json={"code": "INVALID_QUERY", "details": {}, "message": "invalid query formed", "status": "error"},
    )
    with pytest.raises(ApplicationError) as exc:
        crm_contact_search(organization=org, contact_type=ContactType.CUSTOMER, query="Zylker")
    assert exc.value.field == "q"
    assert exc.value.message == "Zoho CRM refused the request: INVALID_QUERY: invalid query formed"


def test_a_refused_refresh_token_marks_the_connection(rsps, connection, org):
    rsps.add(responses.POST, f"{HOST}/oauth/v2/token", json={"error": "invalid_code"})
    with pytest.raises(ApplicationError, match="use Update Credentials to connect again"):
        crm_contact_search(organization=org, contact_type=ContactType.CUSTOMER, query="Zylker")
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.NEEDS_REAUTH
    # Afterwards the page says so without calling the CRM.
    with pytest.raises(ApplicationError, match="Zoho CRM refused the saved credentials"):
        crm_contact_search(organization=org, contact_type=ContactType.CUSTOMER, query="Zylker")


def test_the_api_limit_is_a_message_after_a_short_wait(rsps, connection, org):
    _token(rsps)
    for _ in range(3):
        rsps.add(
            responses.GET,
            f"{HOST}/crm/v8/Deals/search",
            status=429,
            json={"code": "TOO_MANY_REQUESTS", "details": {}, "message": "limit reached", "status": "error"},
            headers={"Retry-After": "2"},
        )
    now = [1000.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    client = ZohoCrmClient(
        connection_credentials(connection),
        connection_key=f"test:{uuid.uuid4()}",
        retry=RetryPolicy(budget=5.0, base_delay=0.5, max_delay=2.0),
        sleep=sleep,
        clock=lambda: now[0],
    )
    customer = CustomerFactory(organization=org, zcrm_account_id="111")
    with pytest.raises(ApplicationError) as exc:
        crm_deal_list(organization=org, customer=customer, client=client)
    assert exc.value.status == 503
    assert exc.value.message.startswith("Zoho CRM is not answering right now")
    assert "Try again in a moment" in exc.value.message
    assert _criteria(rsps.calls[1])["criteria"] == "(Account_Name.id:equals:111)"

"""Zoho's official Python SDK (zohocrmsdk8-0 7.0.0), unchanged, against the live sandbox: token refresh, list with
paging past 2,000 records, get, insert, update, upsert, search, fields and views metadata, org, users.

The SDK is pointed at the sandbox with a custom `DataCenter.Environment` and `SDKConfig(update_api_domain=False)`
(reference §14.2). Its global state is initialised once for this module.
"""

from __future__ import annotations

import time

import pytest
from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
from zohocrmsdk.src.com.zoho.api.authenticator.store.file_store import FileStore
from zohocrmsdk.src.com.zoho.crm.api import ParameterMap
from zohocrmsdk.src.com.zoho.crm.api.custom_views import CustomViewsOperations, GetCustomViewsParam
from zohocrmsdk.src.com.zoho.crm.api.custom_views import ResponseWrapper as ViewsWrapper
from zohocrmsdk.src.com.zoho.crm.api.dc.data_center import DataCenter
from zohocrmsdk.src.com.zoho.crm.api.fields import FieldsOperations, GetFieldsParam
from zohocrmsdk.src.com.zoho.crm.api.fields import ResponseWrapper as FieldsWrapper
from zohocrmsdk.src.com.zoho.crm.api.initializer import Initializer
from zohocrmsdk.src.com.zoho.crm.api.org import OrgOperations
from zohocrmsdk.src.com.zoho.crm.api.org import ResponseWrapper as OrgWrapper
from zohocrmsdk.src.com.zoho.crm.api.record import (
    ActionWrapper,
    APIException,
    BodyWrapper,
    GetRecordsParam,
    Record,
    RecordOperations,
    ResponseWrapper,
    SearchRecordsParam,
    SuccessResponse,
)
from zohocrmsdk.src.com.zoho.crm.api.sdk_config import SDKConfig
from zohocrmsdk.src.com.zoho.crm.api.users import GetUsersParam, UsersOperations
from zohocrmsdk.src.com.zoho.crm.api.users import ResponseWrapper as UsersWrapper
from zohocrmsdk.src.com.zoho.crm.api.util import Choice

from tests.fixtures.sandbox import SandboxServer

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def sdk(sandbox_server: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> SandboxServer:
    sandbox_server.reset()
    creds = sandbox_server.credentials_json()
    base = sandbox_server.base_url
    tmp = tmp_path_factory.mktemp("zoho_sdk")
    environment = DataCenter.Environment(base, f"{creds['accounts_url']}/oauth/v2/token", base)
    token = OAuthToken(
        client_id=creds["client_id"], client_secret=creds["client_secret"], refresh_token=creds["refresh_token"]
    )
    Initializer.initialize(
        environment=environment,
        token=token,
        store=FileStore(str(tmp / "tokens.csv")),
        sdk_config=SDKConfig(update_api_domain=False, auto_refresh_fields=False),
        resource_path=str(tmp),
    )
    return sandbox_server


@pytest.fixture(autouse=True)
def fresh_data(sdk: SandboxServer) -> None:
    """Every test starts from the small seed (faults off, limits back to the edition's); tokens stay valid."""
    sdk.reset()


def _list(module: str, **params: object) -> tuple[int, ResponseWrapper | None]:
    pm = ParameterMap()
    for name, value in params.items():
        pm.add(getattr(GetRecordsParam, name), value)
    response = RecordOperations(module).get_records(pm)
    return response.get_status_code(), response.get_object()


def test_token_refresh_and_current_user(sdk: SandboxServer) -> None:
    before = sdk.counters()["calls"].get("POST /oauth/v2/token", 0)
    sdk.expire_tokens()  # the server no longer accepts the SDK's access token
    # Make the SDK's stored token look expired too, so that it refreshes by its own rule (<5 s left).
    initializer = Initializer.get_initializer()
    stored = initializer.store.find_token_by_id(initializer.token.get_id())
    stored.set_expires_in(str(int(time.time() * 1000) - 1000))
    initializer.store.save_token(stored)
    pm = ParameterMap()
    pm.add(GetUsersParam.type, "CurrentUser")
    response = UsersOperations().get_users(pm)
    assert response.get_status_code() == 200
    wrapper = response.get_object()
    assert isinstance(wrapper, UsersWrapper)
    assert [u.get_email() for u in wrapper.get_users()] == ["patricia.boyle@zylker.test"]
    assert sdk.counters()["calls"]["POST /oauth/v2/token"] == before + 1


@pytest.mark.slow
def test_list_pages_past_2000_with_page_token(sdk: SandboxServer) -> None:
    sdk.reset(accounts=2100)
    seen: list[int] = []
    for page in range(1, 11):
        status, wrapper = _list("Accounts", fields="Account_Name,Owner,Modified_Time", per_page=200, page=page)
        assert status == 200
        assert isinstance(wrapper, ResponseWrapper)
        seen.extend(r.get_id() for r in wrapper.get_data())
    info = wrapper.get_info()
    assert info.get_more_records() is True
    token = info.get_next_page_token()
    status, over = _list("Accounts", fields="Account_Name", per_page=200, page=11)
    assert status == 400
    assert isinstance(over, APIException)
    assert over.get_code().get_value() == "DISCRETE_PAGINATION_LIMIT_EXCEEDED"
    while token:
        status, wrapper = _list("Accounts", fields="Account_Name,Owner,Modified_Time", per_page=200, page_token=token)
        assert status == 200
        assert isinstance(wrapper, ResponseWrapper)
        seen.extend(r.get_id() for r in wrapper.get_data())
        token = wrapper.get_info().get_next_page_token() if wrapper.get_info().get_more_records() else None
    assert len(seen) == 2100
    assert len(set(seen)) == 2100
    assert seen == sorted(seen, reverse=True)


def test_insert_get_update_upsert_search(sdk: SandboxServer) -> None:
    ops = RecordOperations("Accounts")
    record = Record()
    record.add_key_value("Account_Name", "Fidelity Widgets Ltd")
    record.add_key_value("Billing_City", "Leeds")
    record.add_key_value("Customer_Tier", Choice("Gold"))  # the SDK types picklists as Choice
    body = BodyWrapper()
    body.set_data([record])
    created = ops.create_records(body)
    assert created.get_status_code() == 201
    action = created.get_object()
    assert isinstance(action, ActionWrapper)
    result = action.get_data()[0]
    assert isinstance(result, SuccessResponse)
    assert result.get_code().get_value() == "SUCCESS"
    new_id = int(result.get_details()["id"])

    fetched = ops.get_record(new_id)
    assert fetched.get_status_code() == 200
    got = fetched.get_object().get_data()[0]
    assert got.get_key_value("Account_Name") == "Fidelity Widgets Ltd"
    assert got.get_key_value("Owner").get_email() == "patricia.boyle@zylker.test"

    change = Record()
    change.set_id(new_id)
    change.add_key_value("Billing_City", "Quarry Bank Mews")
    body = BodyWrapper()
    body.set_data([change])
    updated = ops.update_records(body)
    assert updated.get_status_code() == 200
    assert updated.get_object().get_data()[0].get_message().get_value() == "record updated"

    upsert_existing, upsert_new = Record(), Record()
    upsert_existing.add_key_value("Account_Name", "Fidelity Widgets Ltd")
    upsert_existing.add_key_value("Phone", "+44 113 000 0000")
    upsert_new.add_key_value("Account_Name", "Fidelity Gadgets GmbH")
    body = BodyWrapper()
    body.set_data([upsert_existing, upsert_new])
    body.set_duplicate_check_fields(["Account_Name"])
    upserted = ops.upsert_records(body)
    assert upserted.get_status_code() == 200
    outcomes = [(r.get_details()["id"], r.get_message().get_value()) for r in upserted.get_object().get_data()]
    assert outcomes[0] == (str(new_id), "record updated")
    assert outcomes[1][1] == "record added"

    pm = ParameterMap()
    pm.add(SearchRecordsParam.criteria, "(Billing_City:equals:Quarry Bank)")
    found = ops.search_records(pm)
    assert found.get_status_code() == 200
    rows = found.get_object().get_data()
    assert [(r.get_id(), r.get_key_value("Phone")) for r in rows] == [(new_id, "+44 113 000 0000")]

    pm = ParameterMap()
    pm.add(SearchRecordsParam.word, "Gadgets")
    found = ops.search_records(pm)
    assert [r.get_key_value("Account_Name") for r in found.get_object().get_data()] == ["Fidelity Gadgets GmbH"]


def test_fields_and_views_metadata(sdk: SandboxServer) -> None:
    pm = ParameterMap()
    pm.add(GetFieldsParam.module, "Accounts")
    response = FieldsOperations().get_fields(pm)
    assert response.get_status_code() == 200
    wrapper = response.get_object()
    assert isinstance(wrapper, FieldsWrapper)
    by_name = {f.get_api_name(): f for f in wrapper.get_fields()}
    tier = by_name["Customer_Tier"]
    assert tier.get_custom_field() is True
    assert tier.get_data_type() == "picklist"
    assert [v.get_actual_value() for v in tier.get_pick_list_values()] == ["Gold", "Silver", "Bronze"]
    assert by_name["Account_Name"].get_system_mandatory() is True

    pm = ParameterMap()
    pm.add(GetFieldsParam.module, "Deals")
    deals = FieldsOperations().get_fields(pm).get_object().get_fields()
    stage = next(f for f in deals if f.get_api_name() == "Stage")
    won = next(v for v in stage.get_pick_list_values() if v.get_actual_value() == "Closed Won")
    assert (won.get_probability(), won.get_forecast_type()) == (100, "Closed Won")

    pm = ParameterMap()
    pm.add(GetCustomViewsParam.module, "Accounts")
    response = CustomViewsOperations().get_custom_views(pm)
    assert response.get_status_code() == 200
    views = response.get_object()
    assert isinstance(views, ViewsWrapper)
    names = {v.get_name(): v for v in views.get_custom_views()}
    assert {"All Accounts", "My Accounts", "Recently Created Accounts", "Gold Accounts"} <= set(names)
    assert names["All Accounts"].get_system_defined() is True
    assert views.get_info().get_default() == names["All Accounts"].get_id()

    gold_view = names["Gold Accounts"].get_id()
    status, gold = _list("Accounts", fields="Customer_Tier", cvid=str(gold_view))
    assert status == 200
    assert {r.get_key_value("Customer_Tier").get_value() for r in gold.get_data()} == {"Gold"}


def test_org_and_users(sdk: SandboxServer) -> None:
    sdk.set_org(edition="enterprise", currency="EUR")
    response = OrgOperations().get_organization()
    assert response.get_status_code() == 200
    wrapper = response.get_object()
    assert isinstance(wrapper, OrgWrapper)
    org = wrapper.get_org()[0]
    assert org.get_iso_code() == "EUR"
    assert org.get_license_details().get_paid_type() == "enterprise"
    assert org.get_mc_status() is False

    pm = ParameterMap()
    pm.add(GetUsersParam.type, "ActiveUsers")
    users = UsersOperations().get_users(pm).get_object().get_users()
    assert len(users) == 5
    assert {u.get_role().get_name() for u in users} == {"CEO", "Manager", "Sales Rep"}

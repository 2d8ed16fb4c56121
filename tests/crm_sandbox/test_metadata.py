"""Metadata over HTTP: fields (custom ones, and creating a unique external-id field), modules, layouts, pipeline,
org and currencies, users, roles, and a second org picked with X-CRM-ORG."""

from __future__ import annotations

import pytest

from tests.crm_sandbox.test_records import error_of, insert
from tests.fixtures.sandbox import SandboxServer

pytestmark = pytest.mark.e2e


def test_fields_include_the_seeded_custom_fields(sandbox: SandboxServer) -> None:
    expected = {
        "Accounts": {
            "Customer_Tier": "picklist",
            "Credit_Limit": "currency",
            "VAT_Number": "text",
            "Onboarded_On": "date",
        },
        "Contacts": {"Preferred_Channel": "picklist"},
        "Products": {"Product_Type": "picklist"},
        "Vendors": {"Payment_Terms_Days": "integer"},
    }
    for module, custom in expected.items():
        fields = sandbox.api("GET", "settings/fields", params={"module": module}).json()["fields"]
        got = {f["api_name"]: f["data_type"] for f in fields if f["custom_field"]}
        assert got == custom
    products = sandbox.api("GET", "settings/fields", params={"module": "Products"}).json()["fields"]
    product_type = next(f for f in products if f["api_name"] == "Product_Type")
    assert [v["actual_value"] for v in product_type["pick_list_values"]] == ["Goods", "Services"]
    contacts = sandbox.api("GET", "settings/fields", params={"module": "Contacts"}).json()["fields"]
    account = next(f for f in contacts if f["api_name"] == "Account_Name")
    assert (account["data_type"], account["lookup"]["module"]["api_name"]) == ("lookup", "Accounts")
    assert error_of(sandbox.api("GET", "settings/fields"))[:2] == (400, "REQUIRED_PARAM_MISSING")


def test_create_external_id_field_then_upsert_by_it_and_refuse_duplicates(sandbox: SandboxServer) -> None:
    created = sandbox.api(
        "POST",
        "settings/fields",
        params={"module": "Accounts"},
        data='{"fields":[{"field_label":"Ledgerbridge ID","data_type":"text","length":64,'
        '"unique":{"casesensitive":"true"},"external":{"show":true,"type":"user","allow_multiple_config":false}}]}',
    )
    assert created.status_code == 201
    assert created.json()["fields"][0]["code"] == "SUCCESS"
    fields = sandbox.api("GET", "settings/fields", params={"module": "Accounts"}).json()["fields"]
    field = next(f for f in fields if f["api_name"] == "Ledgerbridge_ID")
    assert (field["custom_field"], field["unique"], field["external"]["show"]) == (
        True,
        {"casesensitive": "true"},
        True,
    )
    again = sandbox.api(
        "POST",
        "settings/fields",
        params={"module": "Accounts"},
        json={"fields": [{"field_label": "Ledgerbridge ID", "data_type": "text"}]},
    )
    assert again.json()["fields"][0]["code"] == "DUPLICATE_DATA"
    missing = sandbox.api(
        "POST", "settings/fields", params={"module": "Accounts"}, json={"fields": [{"data_type": "text"}]}
    )
    assert missing.json()["fields"][0]["details"]["api_name"] == "field_label"

    first = insert(sandbox, "Accounts", {"Account_Name": "Ext One", "Ledgerbridge_ID": "lb-1"})[0]
    dup = insert(sandbox, "Accounts", {"Account_Name": "Ext Two", "Ledgerbridge_ID": "lb-1"})[0]
    assert dup["code"] == "DUPLICATE_DATA"
    assert dup["details"]["api_name"] == "Ledgerbridge_ID"
    assert dup["details"]["duplicate_record"]["id"] == first["details"]["id"]
    upsert = sandbox.api(
        "POST",
        "Accounts/upsert",
        json={
            "data": [
                {"Account_Name": "Ext One Renamed", "Ledgerbridge_ID": "lb-1"},
                {"Account_Name": "Ext Three", "Ledgerbridge_ID": "lb-3"},
            ],
            "duplicate_check_fields": ["Ledgerbridge_ID"],
        },
    ).json()["data"]
    assert [(r["action"], r["duplicate_field"]) for r in upsert] == [("update", "Ledgerbridge_ID"), ("insert", None)]
    assert upsert[0]["details"]["id"] == first["details"]["id"]
    by_external = sandbox.api("GET", "Accounts/lb-1", headers={"X-EXTERNAL": "Accounts.Ledgerbridge_ID"})
    assert by_external.json()["data"][0]["Account_Name"] == "Ext One Renamed"


def test_modules_layouts_pipeline(sandbox: SandboxServer) -> None:
    modules = {m["api_name"] for m in sandbox.api("GET", "settings/modules").json()["modules"]}
    assert modules >= {"Accounts", "Contacts", "Vendors", "Products", "Deals"}
    assert error_of(sandbox.api("GET", "settings/pipeline"))[:2] == (400, "REQUIRED_PARAM_MISSING")
    layout = sandbox.api("GET", "settings/layouts", params={"module": "Deals"}).json()["layouts"][0]
    pipeline = sandbox.api("GET", "settings/pipeline", params={"layout_id": layout["id"]}).json()["pipeline"][0]
    stages = {m["actual_value"]: m["forecast_type"] for m in pipeline["maps"]}
    assert stages["Closed Won"] == "Closed Won"
    assert stages["Closed Lost"] == "Closed Lost"
    assert stages["Qualification"] == "Open"
    assert pipeline["default"] is True


def test_org_currencies_edition(sandbox: SandboxServer) -> None:
    org = sandbox.api("GET", "org").json()["org"][0]
    assert (org["iso_code"], org["mc_status"], org["license_details"]["paid_type"]) == ("USD", False, "professional")
    currencies = sandbox.api("GET", "org/currencies").json()["currencies"]
    assert [(c["iso_code"], c["is_base"]) for c in currencies] == [("USD", True)]
    sandbox.set_org(currency="GBP", mc_status=True, edition="ultimate", company_name="Renamed Ltd")
    org = sandbox.api("GET", "org").json()["org"][0]
    assert (org["iso_code"], org["mc_status"], org["company_name"]) == ("GBP", True, "Renamed Ltd")
    currencies = sandbox.api("GET", "org/currencies").json()["currencies"]
    assert [c["iso_code"] for c in currencies if c["is_base"]] == ["GBP"]
    assert {"EUR", "USD"} <= {c["iso_code"] for c in currencies}
    bad = sandbox.session.post(
        f"{sandbox.base_url}/sandbox/api/org",
        json={"edition": "platinum"},
        headers={"X-Sandbox-Admin-Key": sandbox.admin_key},
    )
    assert bad.status_code == 400
    assert "edition" in bad.json()["message"]


def test_users_and_roles(sandbox: SandboxServer) -> None:
    current = sandbox.api("GET", "users", params={"type": "CurrentUser"}).json()["users"]
    assert [(u["email"], u["role"]["name"], u["profile"]["name"]) for u in current] == [
        ("patricia.boyle@zylker.test", "CEO", "Administrator")
    ]
    everyone = sandbox.api("GET", "users", params={"type": "ActiveUsers"}).json()
    assert everyone["info"]["count"] == 5
    roles = sandbox.api("GET", "settings/roles").json()["roles"]
    by_name = {r["name"]: r for r in roles}
    assert by_name["Sales Rep"]["reporting_to"]["name"] == "Manager"
    assert error_of(sandbox.api("GET", "users", params={"type": "Robots"}))[:2] == (400, "INVALID_DATA")


def test_second_org_is_picked_with_x_crm_org(sandbox: SandboxServer) -> None:
    other = sandbox.add_org(company_name="Second Books Org", currency="EUR")
    mine = sandbox.api("GET", "org").json()["org"][0]
    theirs = sandbox.api("GET", "org", headers={"X-CRM-ORG": other["id"]}).json()["org"][0]
    assert (mine["company_name"], theirs["company_name"]) == ("Zylker Corp", "Second Books Org")
    assert theirs["iso_code"] == "EUR"
    empty = sandbox.api("GET", "Accounts", params={"fields": "Account_Name"}, headers={"X-CRM-ORG": other["id"]})
    assert empty.status_code == 204
    unknown = sandbox.api("GET", "org", headers={"X-CRM-ORG": "999"})
    assert error_of(unknown)[:2] == (400, "AUTHORIZATION_FAILED")


def test_detail_endpoints_of_metadata(sandbox: SandboxServer) -> None:
    field = sandbox.api("GET", "settings/fields", params={"module": "Vendors"}).json()["fields"][-1]
    one = sandbox.api("GET", f"settings/fields/{field['id']}", params={"module": "Vendors"}).json()["fields"]
    assert [f["api_name"] for f in one] == ["Payment_Terms_Days"]
    assert [m["api_name"] for m in sandbox.api("GET", "settings/modules/Deals").json()["modules"]] == ["Deals"]
    role = sandbox.api("GET", "settings/roles").json()["roles"][0]
    assert sandbox.api("GET", f"settings/roles/{role['id']}").json()["roles"][0]["name"] == role["name"]
    user = sandbox.api("GET", "users").json()["users"][1]
    assert sandbox.api("GET", f"users/{user['id']}").json()["users"][0]["email"] == user["email"]
    currency = sandbox.api("GET", "org/currencies").json()["currencies"][0]
    assert sandbox.api("GET", f"org/currencies/{currency['id']}").json()["currencies"][0]["iso_code"] == "USD"
    layout = sandbox.api("GET", "settings/layouts", params={"module": "Accounts"}).json()["layouts"][0]
    detail = sandbox.api("GET", f"settings/layouts/{layout['id']}", params={"module": "Accounts"}).json()["layouts"][0]
    assert "Customer_Tier" in {f["api_name"] for f in detail["sections"][0]["fields"]}
    for path in ("settings/fields/1?module=Vendors", "settings/roles/1", "users/1", "org/currencies/1"):
        assert error_of(sandbox.api("GET", path))[:2] == (400, "INVALID_DATA"), path
    assert error_of(sandbox.api("GET", "settings/modules/Leadz"))[:2] == (400, "INVALID_MODULE")
    wrong_layout = sandbox.api("GET", "settings/pipeline", params={"layout_id": layout["id"]})
    assert error_of(wrong_layout)[:2] == (400, "INVALID_DATA")

"""Search (criteria, email, phone, word, with Zoho's limits), record counts, custom views whose criteria filter."""

from __future__ import annotations

import pytest

from tests.crm_sandbox.test_records import error_of, insert
from tests.fixtures.sandbox import SandboxServer

pytestmark = pytest.mark.e2e


def names(response) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(r.get("Account_Name") or r.get("Last_Name") for r in response.json()["data"])


def test_search_by_criteria_email_phone_word(sandbox: SandboxServer) -> None:
    insert(
        sandbox,
        "Accounts",
        {"Account_Name": "Kestrel Optics Inc", "Billing_City": "Tromsø", "Annual_Revenue": 500, "Phone": "+47 1234"},
        {"Account_Name": "Kestrel Optics Inc.", "Billing_City": "Bergen", "Annual_Revenue": 900},
        {"Account_Name": "Osprey Media", "Billing_City": "Bergen", "Annual_Revenue": 900},
    )
    search = "Accounts/search"
    assert names(sandbox.api("GET", search, params={"criteria": "(Account_Name:starts_with:Kestrel)"})) == [
        "Kestrel Optics Inc",
        "Kestrel Optics Inc.",
    ]
    both = "((Billing_City:equals:Bergen)and(Annual_Revenue:greater_equal:900))"
    assert names(sandbox.api("GET", search, params={"criteria": both})) == ["Kestrel Optics Inc.", "Osprey Media"]
    either = "((Billing_City:equals:Tromsø)or(Account_Name:equals:Osprey))"
    assert names(sandbox.api("GET", search, params={"criteria": either})) == ["Kestrel Optics Inc", "Osprey Media"]
    assert names(sandbox.api("GET", search, params={"criteria": "(Billing_City:in:Tromsø,Oslo)"})) == [
        "Kestrel Optics Inc"
    ]
    assert names(sandbox.api("GET", search, params={"criteria": "(Annual_Revenue:between:400,600)"})) == [
        "Kestrel Optics Inc"
    ]
    assert names(sandbox.api("GET", search, params={"word": "Osprey"})) == ["Osprey Media"]
    assert names(sandbox.api("GET", search, params={"phone": "+47 1234"})) == ["Kestrel Optics Inc"]
    insert(sandbox, "Contacts", {"Last_Name": "Finder", "Email": "Find.Me@example.test"})
    assert names(sandbox.api("GET", "Contacts/search", params={"email": "find.me@example.test"})) == ["Finder"]
    none = sandbox.api("GET", search, params={"criteria": "(Account_Name:equals:Nobody Here)"})
    assert none.status_code == 204


def test_search_limits_and_errors(sandbox: SandboxServer) -> None:
    search = "Accounts/search"
    assert error_of(sandbox.api("GET", search))[:2] == (400, "EXPECTED_PARAM_MISSING")
    assert error_of(sandbox.api("GET", search, params={"word": "a"}))[:2] == (400, "INVALID_DATA")
    assert error_of(sandbox.api("GET", search, params={"criteria": "(Account_Name:resembles:x)"}))[:2] == (
        400,
        "INVALID_QUERY",
    )
    assert error_of(sandbox.api("GET", search, params={"criteria": "(No_Such_Field:equals:x)"}))[:2] == (
        400,
        "INVALID_QUERY",
    )
    assert error_of(sandbox.api("GET", search, params={"criteria": "(Account_Name:equals:x"}))[:2] == (
        400,
        "INVALID_QUERY",
    )
    eleven = "(" + "and".join(f"(Account_Name:equals:{i})" for i in range(11)) + ")"
    assert error_of(sandbox.api("GET", search, params={"criteria": eleven}))[:2] == (400, "INVALID_QUERY")
    past = sandbox.api("GET", search, params={"word": "Inc", "page": 11, "per_page": 200})
    assert error_of(past)[:2] == (400, "LIMIT_REACHED")


def _views(sandbox: SandboxServer, module: str) -> dict[str, dict]:
    response = sandbox.api("GET", "settings/custom_views", params={"module": module})
    assert response.status_code == 200
    return {v["name"]: v for v in response.json()["custom_views"]}


def test_custom_views_metadata_and_filtering(sandbox: SandboxServer) -> None:
    assert error_of(sandbox.api("GET", "settings/custom_views"))[:2] == (400, "REQUIRED_PARAM_MISSING")
    views = _views(sandbox, "Accounts")
    assert {"All Accounts", "My Accounts", "Recently Created Accounts", "Recently Modified Accounts"} <= set(views)
    assert views["All Accounts"]["system_name"] == "ALLVIEWS"
    gold = views["Gold Accounts"]
    assert (gold["system_defined"], gold["category"]) == (False, "created_by_me")
    detail = sandbox.api("GET", f"settings/custom_views/{gold['id']}", params={"module": "Accounts"}).json()
    criteria = detail["custom_views"][0]["criteria"]
    assert (criteria["comparator"], criteria["field"]["api_name"], criteria["value"]) == (
        "equal",
        "Customer_Tier",
        "Gold",
    )

    everything = sandbox.api("GET", "Accounts", params={"fields": "Customer_Tier", "cvid": views["All Accounts"]["id"]})
    filtered = sandbox.api("GET", "Accounts", params={"fields": "Customer_Tier", "cvid": gold["id"]})
    tiers = [r["Customer_Tier"] for r in filtered.json()["data"]]
    assert tiers
    assert set(tiers) == {"Gold"}
    assert len(tiers) < len(everything.json()["data"])
    count = sandbox.api("GET", "Accounts/actions/count", params={"cvid": gold["id"]}).json()["count"]
    assert count == len(tiers)

    deals = _views(sandbox, "Deals")
    open_deals = sandbox.api("GET", "Deals", params={"fields": "Stage", "cvid": deals["Open Deals"]["id"]}).json()
    assert {"Closed Won", "Closed Lost"}.isdisjoint({r["Stage"] for r in open_deals["data"]})
    bad = sandbox.api("GET", "Accounts", params={"fields": "Account_Name", "cvid": "123"})
    assert error_of(bad)[:2] == (400, "INVALID_DATA")


def test_my_view_is_the_callers_records(sandbox: SandboxServer) -> None:
    me = sandbox.api("GET", "users", params={"type": "CurrentUser"}).json()["users"][0]["id"]
    views = _views(sandbox, "Contacts")
    mine = sandbox.api("GET", "Contacts", params={"fields": "Owner", "cvid": views["My Contacts"]["id"]})
    owners = {r["Owner"]["id"] for r in mine.json()["data"]}
    assert owners == {me}

"""Records over HTTP against the live sandbox: lists and paging, get, insert, update, upsert, delete, deleted list,
lookups, If-Modified-Since, and the error envelopes."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.fixtures.sandbox import SandboxServer

pytestmark = pytest.mark.e2e

ENVELOPE_KEYS = {"code", "details", "message", "status"}


def error_of(response) -> tuple[int, str, dict]:
    body = response.json()
    assert set(body) == ENVELOPE_KEYS
    assert body["status"] == "error"
    return response.status_code, body["code"], body["details"]


def insert(sandbox: SandboxServer, module: str, *rows: dict) -> list[dict]:
    response = sandbox.api("POST", module, json={"data": list(rows)})
    return response.json()["data"]


def test_list_needs_fields_and_a_known_module(sandbox: SandboxServer) -> None:
    assert error_of(sandbox.api("GET", "Accounts")) == (400, "REQUIRED_PARAM_MISSING", {"param_name": "fields"})
    assert error_of(sandbox.api("GET", "Leadz", params={"fields": "Last_Name"}))[:2] == (400, "INVALID_MODULE")
    too_many = ",".join(f"F{i}" for i in range(51))
    assert error_of(sandbox.api("GET", "Accounts", params={"fields": too_many}))[:2] == (400, "LIMIT_EXCEEDED")
    assert error_of(sandbox.api("GET", "Accounts", params={"fields": "Account_Name", "per_page": 201}))[:2] == (
        400,
        "INVALID_DATA",
    )
    ambiguous = sandbox.api("GET", "Accounts", params={"fields": "Account_Name", "page": 1, "page_token": "x"})
    assert error_of(ambiguous)[:2] == (400, "AMBIGUITY_DURING_PROCESSING")
    assert error_of(sandbox.api("GET", "/crm/v8/nothing/here/at/all"))[:2] == (404, "INVALID_URL_PATTERN")


def test_list_page_shape_and_json_content_type(sandbox: SandboxServer) -> None:
    response = sandbox.api("GET", "Accounts", params={"fields": "Account_Name,Owner,Customer_Tier", "per_page": 5})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    body = response.json()
    assert len(body["data"]) == 5
    first = body["data"][0]
    assert set(first) == {"Account_Name", "Owner", "Customer_Tier", "id"}
    assert len(first["id"]) == 19
    assert first["id"].isdigit()
    assert set(first["Owner"]) == {"name", "id", "email"}
    info = body["info"]
    assert (info["count"], info["page"], info["per_page"], info["more_records"]) == (5, 1, 5, True)
    assert info["next_page_token"]
    ids = [int(r["id"]) for r in body["data"]]
    assert ids == sorted(ids, reverse=True)


@pytest.mark.slow
def test_paging_past_2000_needs_page_token(sandbox: SandboxServer) -> None:
    sandbox.reset(accounts=2050)
    params = {"fields": "Account_Name,Modified_Time", "per_page": 200, "sort_by": "Modified_Time", "sort_order": "asc"}
    over = sandbox.api("GET", "Accounts", params={**params, "page": 11})
    assert error_of(over)[:2] == (400, "DISCRETE_PAGINATION_LIMIT_EXCEEDED")
    seen: list[str] = []
    times: list[str] = []
    body = sandbox.api("GET", "Accounts", params={**params, "page": 1}).json()
    while True:
        seen.extend(r["id"] for r in body["data"])
        times.extend(r["Modified_Time"] for r in body["data"])
        if not body["info"]["more_records"]:
            break
        token = body["info"]["next_page_token"]
        body = sandbox.api("GET", "Accounts", params={**params, "page_token": token}).json()
    assert len(seen) == len(set(seen)) == 2050
    parsed = [dt.datetime.fromisoformat(t) for t in times]
    assert parsed == sorted(parsed)
    assert body["info"]["page"] == 11
    mismatch = sandbox.api("GET", "Accounts", params={**params, "per_page": 100, "page_token": token})
    assert error_of(mismatch)[:2] == (400, "TOKEN_BOUND_DATA_MISMATCH")


def test_insert_get_update_delete_and_deleted_list(sandbox: SandboxServer) -> None:
    created = sandbox.api("POST", "Accounts", data='{"data":[{"Account_Name":"Acme Rockets","Employees":12}]}')
    assert created.status_code == 201
    result = created.json()["data"][0]
    assert (result["code"], result["status"], result["message"]) == ("SUCCESS", "success", "record added")
    rid = result["details"]["id"]
    assert set(result["details"]) >= {"id", "Created_Time", "Modified_Time", "Created_By", "Modified_By"}

    got = sandbox.api("GET", f"Accounts/{rid}").json()["data"][0]
    assert (got["Account_Name"], got["Employees"], got["Customer_Tier"]) == ("Acme Rockets", 12, None)
    assert got["Owner"]["email"] == "patricia.boyle@zylker.test"

    updated = sandbox.api("PUT", f"Accounts/{rid}", json={"data": [{"Employees": 40}]})
    assert updated.status_code == 200
    assert updated.json()["data"][0]["message"] == "record updated"
    again = sandbox.api("GET", f"Accounts/{rid}", params={"fields": "Employees,Account_Name"}).json()["data"][0]
    assert again == {"Employees": 40, "Account_Name": "Acme Rockets", "id": rid}

    deleted = sandbox.api("DELETE", "Accounts", params={"ids": f"{rid},123"})
    assert deleted.status_code == 207
    assert [r["code"] for r in deleted.json()["data"]] == ["SUCCESS", "INVALID_DATA"]
    assert sandbox.api("GET", f"Accounts/{rid}").status_code == 204
    recycle = sandbox.api("GET", "Accounts/deleted", params={"type": "recycle"}).json()["data"]
    assert [(r["id"], r["display_name"]) for r in recycle] == [(rid, "Acme Rockets")]


def test_batch_results_per_record_with_207(sandbox: SandboxServer) -> None:
    response = sandbox.api(
        "POST",
        "Contacts",
        json={
            "data": [
                {"Last_Name": "Ng", "Email": "ng@example.test"},
                {"First_Name": "No last name"},
                {"Last_Name": "Bad", "Email": "not-an-email"},
                {"Last_Name": "Lookup", "Account_Name": {"id": "5725767000099999999"}},
            ]
        },
    )
    assert response.status_code == 207
    data = response.json()["data"]
    assert data[0]["code"] == "SUCCESS"
    assert (data[1]["code"], data[1]["details"]) == (
        "MANDATORY_NOT_FOUND",
        {"api_name": "Last_Name", "json_path": "$.data[1].Last_Name"},
    )
    assert (data[2]["code"], data[2]["details"]["api_name"]) == ("INVALID_DATA", "Email")
    assert (data[3]["code"], data[3]["details"]["api_name"]) == ("INVALID_DATA", "Account_Name")
    all_bad = sandbox.api("POST", "Contacts", json={"data": [{"First_Name": "x"}]})
    assert all_bad.status_code == 400
    too_many = sandbox.api("POST", "Contacts", json={"data": [{"Last_Name": str(i)} for i in range(101)]})
    assert error_of(too_many)[:2] == (400, "LIMIT_EXCEEDED")
    assert error_of(sandbox.api("POST", "Contacts", json={"rows": []}))[:2] == (400, "MANDATORY_NOT_FOUND")


def test_lookups_resolve_names_and_stage_sets_probability(sandbox: SandboxServer) -> None:
    account = insert(sandbox, "Accounts", {"Account_Name": "Lookup Holdings"})[0]["details"]["id"]
    contact = insert(sandbox, "Contacts", {"First_Name": "Ada", "Last_Name": "Byron", "Account_Name": {"id": account}})[
        0
    ]["details"]["id"]
    deal = insert(
        sandbox,
        "Deals",
        {
            "Deal_Name": "Big one",
            "Stage": "Qualification",
            "Amount": 1000,
            "Account_Name": {"id": account},
            "Contact_Name": {"id": contact},
        },
    )[0]["details"]["id"]
    got = sandbox.api("GET", f"Deals/{deal}").json()["data"][0]
    assert got["Account_Name"] == {"name": "Lookup Holdings", "id": account}
    assert got["Contact_Name"] == {"name": "Ada Byron", "id": contact}
    assert (got["Probability"], got["Expected_Revenue"], got["Pipeline"]) == (10, 100.0, "Standard (Standard)")
    sandbox.api("PUT", "Deals", json={"data": [{"id": deal, "Stage": "Closed Won"}]})
    won = sandbox.api("GET", f"Deals/{deal}", params={"fields": "Stage,Probability"}).json()["data"][0]
    assert (won["Stage"], won["Probability"]) == ("Closed Won", 100)
    bad = sandbox.api("PUT", "Deals", json={"data": [{"id": deal, "Probability": 140}]}).json()["data"][0]
    assert (bad["code"], bad["message"]) == ("INVALID_DATA", "Given Probability is not valid")
    contact_row = sandbox.api("GET", f"Contacts/{contact}", params={"fields": "Account_Name,Full_Name"}).json()
    assert contact_row["data"][0]["Account_Name"]["name"] == "Lookup Holdings"
    assert contact_row["data"][0]["Full_Name"] == "Ada Byron"


def test_if_modified_since_304_and_changed_records(sandbox: SandboxServer) -> None:
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)).isoformat()
    params = {"fields": "Account_Name,Modified_Time"}
    assert sandbox.api("GET", "Accounts", params=params, headers={"If-Modified-Since": future}).status_code == 304
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    rid = insert(sandbox, "Accounts", {"Account_Name": "Fresh Co"})[0]["details"]["id"]
    changed = sandbox.api("GET", "Accounts", params=params, headers={"If-Modified-Since": since.isoformat()})
    assert [r["id"] for r in changed.json()["data"]] == [rid]
    bad = sandbox.api("GET", "Accounts", params=params, headers={"If-Modified-Since": "yesterday"})
    assert error_of(bad)[:2] == (400, "INVALID_DATA")


def test_empty_list_is_204(sandbox: SandboxServer) -> None:
    sandbox.reset(vendors=0)
    response = sandbox.api("GET", "Vendors", params={"fields": "Vendor_Name"})
    assert response.status_code == 204
    assert response.content == b""


def test_upsert_matches_system_field_and_plain_insert_allows_duplicate_names(sandbox: SandboxServer) -> None:
    first = insert(sandbox, "Vendors", {"Vendor_Name": "Same Name Supply"})[0]
    clone = insert(sandbox, "Vendors", {"Vendor_Name": "Same Name Supply"})[0]
    assert first["code"] == clone["code"] == "SUCCESS"
    assert first["details"]["id"] != clone["details"]["id"]
    response = sandbox.api(
        "POST",
        "Vendors/upsert",
        json={
            "data": [{"Vendor_Name": "same name supply", "City": "Oslo"}, {"Vendor_Name": "Brand New Supply"}],
            "duplicate_check_fields": ["Vendor_Name"],
        },
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert (data[0]["action"], data[0]["duplicate_field"], data[0]["details"]["id"]) == (
        "update",
        "Vendor_Name",
        first["details"]["id"],
    )
    assert (data[1]["action"], data[1]["duplicate_field"], data[1]["message"]) == ("insert", None, "record added")
    bad = sandbox.api(
        "POST", "Vendors/upsert", json={"data": [{"Vendor_Name": "x"}], "duplicate_check_fields": ["City"]}
    )
    assert error_of(bad)[:2] == (400, "INVALID_DATA")


def test_request_errors_use_the_envelope(sandbox: SandboxServer) -> None:
    not_json = sandbox.api("POST", "Accounts", data="{not json")
    assert error_of(not_json)[:2] == (400, "INVALID_DATA")
    assert error_of(sandbox.api("GET", "Accounts/abc"))[:2] == (400, "INVALID_DATA")
    assert error_of(sandbox.api("DELETE", "Accounts"))[:2] == (400, "REQUIRED_PARAM_MISSING")
    assert error_of(sandbox.api("GET", "Accounts", params={"fields": "Account_Name", "sort_by": "Name"}))[:2] == (
        400,
        "INVALID_DATA",
    )


def test_list_page_query_count_does_not_grow_with_the_page(sandbox: SandboxServer) -> None:
    sandbox.reset(contacts=250)
    fields = "Last_Name,Account_Name,Vendor_Name,Owner,Email,Modified_Time"
    sandbox.api("GET", "Contacts", params={"fields": fields, "per_page": 1})  # warms the field and user caches
    sandbox.reset_counters()
    sandbox.api("GET", "Contacts", params={"fields": fields, "per_page": 5})
    small = sandbox.counters()["max_queries"]["GET /crm/v8/Contacts"]
    sandbox.reset_counters()
    response = sandbox.api("GET", "Contacts", params={"fields": fields, "per_page": 200})
    assert len(response.json()["data"]) == 200
    large = sandbox.counters()["max_queries"]["GET /crm/v8/Contacts"]
    # One query for the page, one per lookup module for the names (Accounts here): never one per record.
    assert small <= 3
    assert large == small


def test_unknown_stage_is_refused(sandbox: SandboxServer) -> None:
    result = insert(sandbox, "Deals", {"Deal_Name": "Odd", "Stage": "Dreaming"})[0]
    assert (result["code"], result["message"], result["details"]["api_name"]) == (
        "INVALID_DATA",
        "Pipeline doesn't contain the Stage",
        "Stage",
    )


def test_upsert_twice_the_same_new_key_in_one_batch_makes_one_record(sandbox: SandboxServer) -> None:
    response = sandbox.api(
        "POST",
        "Vendors/upsert",
        json={"data": [{"Vendor_Name": "Twice Supply"}, {"Vendor_Name": "twice supply", "City": "Rome"}]},
    )
    data = response.json()["data"]
    assert [(r["action"], r["code"]) for r in data] == [("insert", "SUCCESS"), ("update", "SUCCESS")]
    assert data[0]["details"]["id"] == data[1]["details"]["id"]
    found = sandbox.api("GET", "Vendors/search", params={"criteria": "(Vendor_Name:equals:Twice Supply)"}).json()[
        "data"
    ]
    assert [(r["Vendor_Name"], r["City"]) for r in found] == [("twice supply", "Rome")]  # the second write wins

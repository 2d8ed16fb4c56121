"""Records on the wire (`responses` with request matchers): paging, writes in batches with per-record results,
search, and the 401 refresh-once rule."""

from __future__ import annotations

import datetime
import json
from http.client import RemoteDisconnected

import pytest
import requests
import responses
from responses import matchers
from urllib3.exceptions import ProtocolError

from crm_integration.client import CrmPermanent, CrmReauthenticate, CrmRetryLater, RecordResult
from crm_integration.zoho import criteria
from tests.crm_integration.zoho.support import CRM, add_token, auth, error

FIELDS = ["Account_Name", "Phone"]


def dropped():
    """What requests raises when the server closes the connection without answering."""
    return requests.exceptions.ConnectionError(
        ProtocolError("Connection aborted.", RemoteDisconnected("Remote end closed connection without response"))
    )


def page_body(ids, *, more, page, token=None):
    return {
        "data": [{"id": i, "Account_Name": f"Acc {i}"} for i in ids],
        "info": {
            "per_page": 200,
            "count": len(ids),
            "page": page,
            "more_records": more,
            "next_page_token": token,
            "sort_by": "id",
            "sort_order": "desc",
        },
    }


def test_paging_uses_page_up_to_2000_records_then_the_page_token(rsps, make_client):
    add_token(rsps)
    base = {"fields": "Account_Name,Phone", "per_page": "200"}
    for n in range(1, 11):
        rsps.add(
            responses.GET,
            f"{CRM}/Accounts",
            json=page_body([str(n)], more=True, page=n, token=f"tok{n}"),
            match=[matchers.query_param_matcher({**base, "page": str(n)}), auth()],
        )
    rsps.add(
        responses.GET,
        f"{CRM}/Accounts",
        json=page_body(["11"], more=True, page=11, token="tok11"),
        match=[matchers.query_param_matcher({**base, "page_token": "tok10"})],
    )
    rsps.add(
        responses.GET,
        f"{CRM}/Accounts",
        json=page_body(["12"], more=False, page=12, token=None),
        match=[matchers.query_param_matcher({**base, "page_token": "tok11"})],
    )
    client = make_client()
    pages = list(client.iter_pages("Accounts", fields=FIELDS))
    assert [p.page for p in pages] == list(range(1, 13))
    assert [r["id"] for p in pages for r in p.records] == [str(n) for n in range(1, 13)]
    assert pages[-1].more_records is False
    assert client.stats.requests == 12


def test_a_smaller_page_size_switches_to_tokens_at_the_same_2000_records(rsps, make_client):
    add_token(rsps)
    base = {"fields": "Account_Name", "per_page": "100"}
    for n in range(1, 21):
        rsps.add(
            responses.GET,
            f"{CRM}/Accounts",
            json=page_body([str(n)], more=True, page=n, token=f"t{n}"),
            match=[matchers.query_param_matcher({**base, "page": str(n)})],
        )
    rsps.add(
        responses.GET,
        f"{CRM}/Accounts",
        json=page_body(["21"], more=False, page=21),
        match=[matchers.query_param_matcher({**base, "page_token": "t20"})],
    )
    client = make_client()
    pages = list(client.iter_pages("Accounts", fields=["Account_Name"], per_page=100))
    assert [p.page for p in pages] == list(range(1, 22))
    with pytest.raises(ValueError, match="per_page"):
        next(client.iter_pages("Accounts", fields=["Account_Name"], per_page=201))


def test_an_empty_module_answers_204_and_yields_nothing(rsps, make_client):
    add_token(rsps)
    rsps.add(responses.GET, f"{CRM}/Accounts", status=204)
    assert list(make_client().iter_records("Accounts", fields=FIELDS)) == []


def test_if_modified_since_is_sent_and_304_means_nothing_changed(rsps, make_client):
    add_token(rsps)
    since = datetime.datetime(
        2024, 7, 25, 15, 26, 49, tzinfo=datetime.timezone(datetime.timedelta(hours=5, minutes=30))
    )
    rsps.add(
        responses.GET,
        f"{CRM}/Accounts",
        status=304,
        match=[matchers.header_matcher({"If-Modified-Since": "2024-07-25T15:26:49+05:30"})],
    )
    assert list(make_client().iter_pages("Accounts", fields=FIELDS, modified_since=since)) == []
    with pytest.raises(ValueError, match="timezone-aware"):
        next(make_client().iter_pages("Accounts", fields=FIELDS, modified_since=datetime.datetime(2024, 1, 1)))


def test_a_view_is_never_combined_with_sort_by(rsps, make_client):
    add_token(rsps)
    rsps.add(
        responses.GET,
        f"{CRM}/Accounts",
        json=page_body(["1"], more=False, page=1),
        match=[
            matchers.query_param_matcher({"fields": "Account_Name,Phone", "per_page": "200", "page": "1", "cvid": "77"})
        ],
    )
    rsps.add(
        responses.GET,
        f"{CRM}/Accounts",
        json=page_body(["2"], more=False, page=1),
        match=[
            matchers.query_param_matcher(
                {
                    "fields": "Account_Name,Phone",
                    "per_page": "200",
                    "page": "1",
                    "sort_by": "Modified_Time",
                    "sort_order": "asc",
                }
            )
        ],
    )
    client = make_client()
    viewed = list(client.iter_records("Accounts", fields=FIELDS, cvid="77", sort_by="Modified_Time", sort_order="asc"))
    sorted_ = list(client.iter_records("Accounts", fields=FIELDS, sort_by="Modified_Time", sort_order="asc"))
    assert [r["id"] for r in viewed + sorted_] == ["1", "2"]


def test_fields_are_required_and_at_most_50():
    from crm_integration.zoho import ZohoCrmClient
    from tests.crm_integration.zoho.support import CREDS

    client = ZohoCrmClient(CREDS, connection_key="no-calls")
    with pytest.raises(ValueError, match="fields is required"):
        next(client.iter_pages("Accounts", fields=[]))
    with pytest.raises(ValueError, match="at most 50"):
        next(client.iter_pages("Accounts", fields=[f"F{i}" for i in range(51)]))


def test_more_records_without_a_token_past_2000_is_an_error_not_a_loop(rsps, make_client):
    add_token(rsps)
    for n in range(1, 11):
        rsps.add(responses.GET, f"{CRM}/Accounts", json=page_body([str(n)], more=True, page=n, token=None))
    with pytest.raises(CrmPermanent) as exc:
        list(make_client().iter_records("Accounts", fields=FIELDS))
    assert exc.value.code == "NO_PAGE_TOKEN"


def test_an_expired_access_token_is_refreshed_once_and_the_call_repeated(rsps, make_client):
    add_token(rsps, "1000.access-1")
    rsps.add(
        responses.GET,
        f"{CRM}/Accounts/5",
        status=401,
        json=error("INVALID_TOKEN", "invalid oauth token"),
        match=[auth()],
    )
    add_token(rsps, "1000.access-2")
    rsps.add(responses.GET, f"{CRM}/Accounts/5", json={"data": [{"id": "5"}]}, match=[auth("1000.access-2")])
    client = make_client()
    assert client.get_record("Accounts", "5") == {"id": "5"}
    assert (client.stats.token_requests, client.stats.requests) == (2, 2)


@pytest.mark.parametrize("code", ["INVALID_OAUTHTOKEN", "AUTHENTICATION_FAILURE"])
def test_a_second_401_means_reconnect(rsps, make_client, code):
    add_token(rsps, "1000.access-1")
    rsps.add(responses.GET, f"{CRM}/org", status=401, json=error(code, "Authentication failed"))
    add_token(rsps, "1000.access-2")
    rsps.add(responses.GET, f"{CRM}/org", status=401, json=error(code, "Authentication failed"))
    with pytest.raises(CrmReauthenticate) as exc:
        make_client().get_org()
    assert (exc.value.code, exc.value.status) == (code, 401)
    assert "Authentication failed" in str(exc.value)


def test_a_scope_mismatch_needs_a_person_not_a_refresh(rsps, make_client):
    add_token(rsps)
    rsps.add(responses.GET, f"{CRM}/org", status=401, json=error("OAUTH_SCOPE_MISMATCH", "Unauthorized"))
    client = make_client()
    with pytest.raises(CrmReauthenticate) as exc:
        client.get_org()
    assert exc.value.code == "OAUTH_SCOPE_MISMATCH"
    assert client.stats.token_requests == 1


def test_a_revoked_refresh_token_means_reconnect(rsps, make_client):
    rsps.add(responses.POST, "https://accounts.zoho.eu/oauth/v2/token", json={"error": "invalid_code"})
    with pytest.raises(CrmReauthenticate):
        make_client().get_org()


@pytest.mark.parametrize(
    ("status", "code", "message", "details"),
    [
        (400, "INVALID_MODULE", "the module name given seems to be invalid", {"resource_path_index": 0}),
        (400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", {"param_name": "fields"}),
        (403, "NO_PERMISSION", "permission denied", {"permissions": ["Crm_Implied_View_Accounts"]}),
        (404, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one", {}),
    ],
)
def test_request_errors_are_permanent_with_zohos_code_message_and_details(
    rsps, make_client, status, code, message, details
):
    add_token(rsps)
    rsps.add(responses.GET, f"{CRM}/Accountz", status=status, json=error(code, message, details))
    with pytest.raises(CrmPermanent) as exc:
        list(make_client().iter_records("Accountz", fields=FIELDS))
    assert (exc.value.code, exc.value.message, exc.value.details, exc.value.status) == (code, message, details, status)


def test_a_missing_record_is_none(rsps, make_client):
    add_token(rsps)
    rsps.add(responses.GET, f"{CRM}/Accounts/1", status=204)
    rsps.add(
        responses.GET,
        f"{CRM}/Accounts/2",
        status=400,
        json=error("INVALID_DATA", "the id given seems to be invalid", {"resource_path_index": 1}),
    )
    rsps.add(
        responses.GET,
        f"{CRM}/Accounts/3",
        json={"data": [{"id": "3", "Subform": [{"id": "31"}]}]},
        match=[matchers.query_param_matcher({"fields": "Account_Name"})],
    )
    client = make_client()
    assert client.get_record("Accounts", "1") is None
    assert client.get_record("Accounts", "2") is None
    assert client.get_record("Accounts", "3", fields=["Account_Name"]) == {"id": "3", "Subform": [{"id": "31"}]}


# ---------------------------------------------------------------- writes


def success(i, message="record added", **extra):
    return {
        "code": "SUCCESS",
        "status": "success",
        "message": message,
        "details": {"id": f"9{i:05d}", "Modified_Time": "2024-05-10T01:10:47-07:00"},
        **extra,
    }


def test_inserts_go_100_a_call_and_results_keep_input_order(rsps, make_client):
    add_token(rsps)
    records = [{"Account_Name": f"A{i}"} for i in range(250)]
    for start, size in ((0, 100), (100, 100), (200, 50)):
        batch = records[start : start + size]
        answers = [success(start + i) for i in range(size)]
        status = 201
        if start == 200:  # the last batch: one record refused -> 207
            answers[3] = {
                "code": "MANDATORY_NOT_FOUND",
                "status": "error",
                "message": "required field not found",
                "details": {"api_name": "Account_Name", "json_path": "$.data[3].Account_Name"},
            }
            status = 207
        rsps.add(
            responses.POST,
            f"{CRM}/Accounts",
            status=status,
            json={"data": answers},
            match=[matchers.json_params_matcher({"data": batch, "trigger": []}), auth()],
        )
    results = make_client().insert_records("Accounts", records, trigger=[])
    assert [r.index for r in results] == list(range(250))
    assert results[0] == RecordResult(
        index=0,
        ok=True,
        code="SUCCESS",
        message="record added",
        id="900000",
        details={"id": "900000", "Modified_Time": "2024-05-10T01:10:47-07:00"},
        modified_time="2024-05-10T01:10:47-07:00",
    )
    failed = [r for r in results if not r.ok]
    assert [(r.index, r.code, r.details["api_name"]) for r in failed] == [(203, "MANDATORY_NOT_FOUND", "Account_Name")]
    assert results[204].id == "900204"


def test_a_batch_where_every_record_fails_answers_400_with_data(rsps, make_client):
    add_token(rsps)
    dup = {
        "code": "DUPLICATE_DATA",
        "status": "error",
        "message": "duplicate data",
        "details": {"api_name": "Account_Name", "json_path": "$.data[0].Account_Name", "duplicate_record": {"id": "7"}},
    }
    rsps.add(responses.POST, f"{CRM}/Accounts", status=400, json={"data": [dup, {**dup, "details": {}}]})
    results = make_client().insert_records("Accounts", [{"Account_Name": "X"}, {"Account_Name": "Y"}])
    assert [(r.index, r.ok, r.code) for r in results] == [(0, False, "DUPLICATE_DATA"), (1, False, "DUPLICATE_DATA")]
    assert results[0].details["duplicate_record"] == {"id": "7"}
    assert results[0].id is None


def test_fewer_answers_than_records_never_drops_a_record(rsps, make_client):
    add_token(rsps)
    rsps.add(responses.PUT, f"{CRM}/Accounts", json={"data": [success(0, "record updated")]})
    results = make_client().update_records("Accounts", [{"id": "1"}, {"id": "2"}])
    assert [(r.ok, r.code) for r in results] == [(True, "SUCCESS"), (False, "NO_RESULT")]


def test_a_plain_insert_is_not_repeated_when_the_outcome_is_unknown(rsps, make_client):
    add_token(rsps)
    rsps.add(responses.POST, f"{CRM}/Accounts", status=500, json=error("INTERNAL_ERROR", "Internal Server Error"))
    client = make_client()
    with pytest.raises(CrmRetryLater) as exc:
        client.insert_records("Accounts", [{"Account_Name": "A"}])
    assert exc.value.code == "OUTCOME_UNKNOWN"
    assert client.stats.requests == 1


def test_a_plain_insert_is_repeated_after_429_and_when_asked_to(rsps, make_client):
    add_token(rsps)
    rsps.add(responses.POST, f"{CRM}/Accounts", status=429, json=error("TOO_MANY_REQUESTS", "limit"))
    rsps.add(responses.POST, f"{CRM}/Accounts", status=201, json={"data": [success(0)]})
    rsps.add(responses.POST, f"{CRM}/Accounts", body=dropped())
    rsps.add(responses.POST, f"{CRM}/Accounts", status=201, json={"data": [success(1)]})
    client = make_client()
    assert client.insert_records("Accounts", [{"Account_Name": "A"}])[0].id == "900000"
    assert client.insert_records("Accounts", [{"Account_Name": "B"}], retry_unsafe=True)[0].id == "900001"


def test_upsert_sends_duplicate_check_fields_and_reports_the_action(rsps, make_client):
    add_token(rsps)
    records = [{"Account_Name": "A", "LB_External_Id": "lb-1"}, {"Account_Name": "B", "LB_External_Id": "lb-2"}]
    rsps.add(
        responses.POST,
        f"{CRM}/Accounts/upsert",
        json={
            "data": [
                success(0, "record added", action="insert", duplicate_field=None),
                success(1, "record updated", action="update", duplicate_field="LB_External_Id"),
            ]
        },
        match=[
            matchers.json_params_matcher(
                {"data": records, "duplicate_check_fields": ["LB_External_Id"], "trigger": ["workflow"]}
            )
        ],
    )
    results = make_client().upsert_records(
        "Accounts", records, duplicate_check_fields=["LB_External_Id"], trigger=["workflow"]
    )
    assert [(r.action, r.id) for r in results] == [("insert", "900000"), ("update", "900001")]
    with pytest.raises(ValueError, match="duplicate_check_fields"):
        make_client().upsert_records("Accounts", records, duplicate_check_fields=[])


def test_upsert_is_repeated_after_a_dropped_connection(rsps, make_client):
    add_token(rsps)
    rsps.add(responses.POST, f"{CRM}/Accounts/upsert", body=dropped())
    rsps.add(responses.POST, f"{CRM}/Accounts/upsert", status=500, json=error("INTERNAL_ERROR", "x"))
    rsps.add(responses.POST, f"{CRM}/Accounts/upsert", json={"data": [success(0, action="update")]})
    client = make_client()
    results = client.upsert_records("Accounts", [{"Account_Name": "A"}], duplicate_check_fields=["Account_Name"])
    assert results[0].ok
    assert client.stats.retries == 2


def test_update_needs_ids_and_sends_a_put(rsps, make_client):
    add_token(rsps)
    rsps.add(
        responses.PUT,
        f"{CRM}/Deals",
        json={"data": [success(0, "record updated")]},
        match=[matchers.json_params_matcher({"data": [{"id": "3652397000003852095", "Stage": "Closed Won"}]})],
    )
    client = make_client()
    assert client.update_records("Deals", [{"id": "3652397000003852095", "Stage": "Closed Won"}])[0].ok
    with pytest.raises(ValueError, match=r"records\[1\] has no id"):
        client.update_records("Deals", [{"id": "1"}, {"Stage": "x"}])


def test_deletes_go_100_ids_a_call(rsps, make_client):
    add_token(rsps)
    ids = [str(1000 + i) for i in range(150)]
    for batch in (ids[:100], ids[100:]):
        rsps.add(
            responses.DELETE,
            f"{CRM}/Accounts",
            json={
                "data": [
                    {"code": "SUCCESS", "status": "success", "message": "record deleted", "details": {"id": i}}
                    for i in batch
                ]
            },
            match=[matchers.query_param_matcher({"ids": ",".join(batch), "wf_trigger": "false"})],
        )
    results = make_client().delete_records("Accounts", ids, wf_trigger=False)
    assert [r.id for r in results] == ids
    assert all(r.ok and r.message == "record deleted" for r in results)


def test_deleted_records_are_listed_page_by_page(rsps, make_client):
    add_token(rsps)
    rsps.add(
        responses.GET,
        f"{CRM}/Accounts/deleted",
        json={"data": [{"id": "1", "display_name": "A", "type": "recycle"}], "info": {"more_records": True}},
        match=[matchers.query_param_matcher({"type": "all", "page": "1", "per_page": "200"})],
    )
    rsps.add(
        responses.GET,
        f"{CRM}/Accounts/deleted",
        json={"data": [{"id": "2", "display_name": "B", "type": "permanent"}], "info": {"more_records": False}},
        match=[matchers.query_param_matcher({"type": "all", "page": "2", "per_page": "200"})],
    )
    assert [r["id"] for r in make_client().iter_deleted("Accounts")] == ["1", "2"]


# ---------------------------------------------------------------- search


def test_criteria_values_are_escaped():
    assert criteria.escape(r"A (B), C\ ") == r"A \(B\)\, C\\ "
    assert (
        criteria.condition("Account_Name", "equals", "Zylker (EU), Ltd") == r"(Account_Name:equals:Zylker \(EU\)\, Ltd)"
    )
    assert criteria.condition("Account_Name", "in", ["a,b", "c"]) == r"(Account_Name:in:a\,b,c)"
    when = datetime.datetime(2024, 2, 1, 18, 52, 56, tzinfo=datetime.UTC)
    assert criteria.condition("Created_Time", "between", [when, when]) == (
        "(Created_Time:between:2024-02-01T18:52:56+00:00,2024-02-01T18:52:56+00:00)"
    )
    assert criteria.all_of(criteria.condition("A", "equals", True), criteria.condition("B", "greater_than", 5)) == (
        "((A:equals:true)and(B:greater_than:5))"
    )
    assert criteria.any_of(criteria.condition("A", "starts_with", "x")) == "(A:starts_with:x)"
    with pytest.raises(ValueError, match="at most 10"):
        criteria.all_of(*[criteria.condition("A", "equals", f"(v{i})") for i in range(11)])
    with pytest.raises(ValueError, match="unknown search operator"):
        criteria.condition("A", "contains", "x")
    with pytest.raises(ValueError, match="between"):
        criteria.condition("A", "between", [1])


def test_search_sends_the_escaped_criteria_and_204_means_no_match(rsps, make_client):
    add_token(rsps)
    crit = criteria.condition("Account_Name", "equals", "Zylker (EU)")
    rsps.add(
        responses.GET,
        f"{CRM}/Accounts/search",
        json={"data": [{"id": "1"}], "info": {"more_records": False, "page": 1}},
        match=[
            matchers.query_param_matcher(
                {
                    "criteria": r"(Account_Name:equals:Zylker \(EU\))",
                    "per_page": "200",
                    "page": "1",
                    "fields": "Account_Name",
                }
            )
        ],
    )
    rsps.add(
        responses.GET,
        f"{CRM}/Contacts/search",
        status=204,
        match=[matchers.query_param_matcher({"email": "a@b.test", "per_page": "200", "page": "1"})],
    )
    client = make_client()
    assert list(client.search_records("Accounts", criteria=crit, fields=["Account_Name"])) == [{"id": "1"}]
    assert list(client.search_records("Contacts", email="a@b.test")) == []


def test_search_takes_exactly_one_kind_of_query():
    from crm_integration.zoho import ZohoCrmClient
    from tests.crm_integration.zoho.support import CREDS

    client = ZohoCrmClient(CREDS, connection_key="no-calls")
    with pytest.raises(ValueError, match="exactly one"):
        next(client.search_records("Accounts", email="a@b.test", word="zylker"))
    with pytest.raises(ValueError, match="exactly one"):
        next(client.search_records("Accounts"))
    with pytest.raises(ValueError, match="at least 2"):
        next(client.search_records("Accounts", word="z"))


def test_a_search_past_2000_matches_says_limit_reached(rsps, make_client):
    add_token(rsps)
    for n in range(1, 11):
        rsps.add(
            responses.GET,
            f"{CRM}/Accounts/search",
            json={"data": [{"id": str(n)}], "info": {"more_records": True, "page": n}},
            match=[matchers.query_param_matcher({"word": "zylker", "per_page": "200", "page": str(n)})],
        )
    seen = []

    def read_all():
        for record in make_client().search_records("Accounts", word="zylker"):
            seen.append(record["id"])

    with pytest.raises(CrmPermanent) as exc:
        read_all()
    assert exc.value.code == "LIMIT_REACHED"
    assert seen == [str(n) for n in range(1, 11)]


def test_zohos_own_limit_reached_answer_is_permanent(rsps, make_client):
    add_token(rsps)
    rsps.add(
        responses.GET,
        f"{CRM}/Accounts/search",
        status=400,
        json=error("LIMIT_REACHED", "Maximum response iteration limit reached"),
    )
    with pytest.raises(CrmPermanent) as exc:
        list(make_client().search_records("Accounts", phone="555"))
    assert exc.value.code == "LIMIT_REACHED"


def test_write_bodies_are_compact_utf8_json(rsps, make_client):
    add_token(rsps)
    seen = {}

    def answer(request):
        seen["body"] = request.body
        seen["content_type"] = request.headers["Content-Type"]
        return 201, {}, json.dumps({"data": [success(0)]})

    rsps.add_callback(responses.POST, f"{CRM}/Accounts", callback=answer)
    make_client().insert_records("Accounts", [{"Account_Name": "Zürich AG"}])
    assert seen == {"body": '{"data":[{"Account_Name":"Zürich AG"}]}'.encode(), "content_type": "application/json"}


def test_an_invalid_data_answer_not_about_the_id_is_raised(rsps, make_client):
    add_token(rsps)
    rsps.add(
        responses.GET,
        f"{CRM}/Accounts/1",
        status=400,
        json=error("INVALID_DATA", "invalid data", {"api_name": "fields", "param_name": "fields"}),
    )
    with pytest.raises(CrmPermanent) as exc:
        make_client().get_record("Accounts", "1", fields=["Nope"])
    assert exc.value.details == {"api_name": "fields", "param_name": "fields"}


def test_bad_arguments_are_refused_at_the_call_not_at_the_first_page():
    from crm_integration.zoho import ZohoCrmClient
    from tests.crm_integration.zoho.support import CREDS

    client = ZohoCrmClient(CREDS, connection_key="no-calls")
    with pytest.raises(ValueError, match="fields is required"):
        client.iter_records("Accounts", fields=[])
    with pytest.raises(ValueError, match="exactly one"):
        client.search_records("Accounts")


def test_a_401_without_a_zoho_body_also_gets_one_refresh(rsps, make_client):
    add_token(rsps, "1000.access-1")
    rsps.add(responses.GET, f"{CRM}/org", status=401, body="<html>Unauthorized</html>")
    add_token(rsps, "1000.access-2")
    rsps.add(responses.GET, f"{CRM}/org", json={"org": [{"id": "1"}]}, match=[auth("1000.access-2")])
    assert make_client().get_org().id == "1"

"""The client against the live CRM sandbox over HTTP: every call the client makes, and the fault-tolerance rules
(refresh once, retries within the budget, the concurrency limit, reading under injected faults)."""

from __future__ import annotations

import datetime
import re
import threading
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from crm_integration.client import (
    Credentials,
    CrmPermanent,
    CrmReauthenticate,
    CrmRetryLater,
    WatchChannel,
)
from crm_integration.zoho import RetryPolicy, ZohoCrmClient, criteria, oauth

pytestmark = pytest.mark.e2e

ACCOUNT_FIELDS = ["Account_Name", "Phone", "Billing_City", "Modified_Time"]
FAST_RETRIES = RetryPolicy(budget=120.0, base_delay=0.02, max_delay=0.5)


@pytest.fixture
def connect(sandbox):
    made: list[ZohoCrmClient] = []

    def make(credentials: Credentials | None = None, **kwargs) -> ZohoCrmClient:
        kwargs.setdefault("connection_key", f"live:{uuid.uuid4()}")
        kwargs.setdefault("retry", FAST_RETRIES)
        client = ZohoCrmClient(credentials or sandbox.credentials(), **kwargs)
        made.append(client)
        return client

    yield make
    for c in made:
        c.close()


@pytest.fixture
def client(connect):
    return connect()


def calls(sandbox, label: str) -> int:
    return int(sandbox.counters()["calls"].get(label, 0))


# ---------------------------------------------------------------- OAuth


def test_connect_flow_consent_code_exchange_use_and_revoke(sandbox, connect):
    creds = sandbox.credentials_json()
    redirect_uri = "http://127.0.0.1:1/settings/zoho-apps/callback/"
    url = oauth.authorization_url(
        accounts_url=sandbox.base_url, client_id=creds["client_id"], redirect_uri=redirect_uri, state="st-42"
    )
    browser = requests.Session()
    page = browser.get(url, timeout=30)
    assert page.status_code == 200
    user_id = re.search(r'<option value="(\d+)"', page.text).group(1)
    form = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    form.update({"decision": "accept", "user_id": user_id})
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if csrf:
        form["csrfmiddlewaretoken"] = csrf.group(1)
    answer = browser.post(
        f"{sandbox.base_url}/oauth/v2/auth", data=form, allow_redirects=False, timeout=30, headers={"Referer": url}
    )
    assert answer.status_code == 302
    redirect = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}

    grant = oauth.parse_authorization_redirect(
        redirect, expected_state="st-42", allowed_accounts_urls=[sandbox.base_url]
    )
    assert grant.accounts_url == sandbox.base_url
    token = oauth.exchange_code(
        accounts_url=grant.accounts_url,
        client_id=creds["client_id"],
        client_secret=creds["client_secret"],
        redirect_uri=redirect_uri,
        code=grant.code,
    )
    assert token.refresh_token
    assert token.api_domain == sandbox.base_url
    with pytest.raises(CrmReauthenticate):  # a grant code is single-use
        oauth.exchange_code(
            accounts_url=grant.accounts_url,
            client_id=creds["client_id"],
            client_secret=creds["client_secret"],
            redirect_uri=redirect_uri,
            code=grant.code,
        )

    connected = Credentials(
        accounts_url=grant.accounts_url,
        api_domain=token.api_domain,
        client_id=creds["client_id"],
        client_secret=creds["client_secret"],
        refresh_token=token.refresh_token,
    )
    assert connect(connected).current_user().email

    oauth.revoke(accounts_url=grant.accounts_url, token=token.refresh_token)
    with pytest.raises(CrmReauthenticate) as exc:
        connect(connected).get_org()
    assert exc.value.code == "invalid_code"


def test_a_wrong_client_secret_means_reconnect(sandbox, connect):
    c = sandbox.credentials_json()
    wrong = Credentials(c["accounts_url"], c["api_domain"], c["client_id"], "not-the-secret", c["refresh_token"])
    with pytest.raises(CrmReauthenticate) as exc:
        connect(wrong).get_org()
    assert exc.value.code == "invalid_client"


def test_an_expired_access_token_is_refreshed_once(sandbox, client):
    client.get_org()
    assert sandbox.expire_tokens() >= 1
    assert client.get_org().id
    assert client.stats.token_requests == 2
    assert calls(sandbox, "GET /crm/v8/org") == 3  # ok, 401, ok


def test_a_token_rejected_even_after_a_refresh_means_reconnect(sandbox, client):
    sandbox.set_faults(expired=1.0)
    with pytest.raises(CrmReauthenticate) as exc:
        client.get_org()
    assert exc.value.code == "INVALID_TOKEN"
    assert client.stats.token_requests == 2


# ---------------------------------------------------------------- reading


def test_reading_past_2000_records_switches_to_page_tokens_with_the_fewest_calls(sandbox, client):
    sandbox.reset(accounts=2450)
    sandbox.reset_counters()
    pages = list(client.iter_pages("Accounts", fields=ACCOUNT_FIELDS))
    ids = [r["id"] for p in pages for r in p.records]
    assert len(ids) == len(set(ids)) == 2450
    assert all(isinstance(i, str) for i in ids)
    assert [len(p.records) for p in pages] == [200] * 12 + [50]
    assert pages[-1].more_records is False
    assert calls(sandbox, "GET /crm/v8/Accounts") == 13 == client.stats.requests


def test_records_are_plain_dicts_keyed_by_api_name(sandbox, client):
    record = next(client.iter_records("Accounts", fields=ACCOUNT_FIELDS))
    assert set(record) >= {"id", "Account_Name"}
    assert isinstance(record["Account_Name"], str)
    full = client.get_record("Accounts", record["id"])
    assert full["id"] == record["id"]
    assert full["Account_Name"] == record["Account_Name"]
    assert client.get_record("Accounts", "999999999999999") is None


def test_if_modified_since_returns_only_newer_records_and_nothing_as_304(sandbox, client):
    records = list(client.iter_records("Accounts", fields=ACCOUNT_FIELDS))
    # Modified_Time is shown to the second; the stored time may be a fraction later.
    latest = max(datetime.datetime.fromisoformat(r["Modified_Time"]) for r in records) + datetime.timedelta(seconds=1)
    sandbox.reset_counters()
    assert list(client.iter_pages("Accounts", fields=ACCOUNT_FIELDS, modified_since=latest)) == []
    assert calls(sandbox, "GET /crm/v8/Accounts") == 1
    target = records[0]
    [result] = client.update_records("Accounts", [{"id": target["id"], "Phone": "+1 555 0100"}])
    assert result.ok
    changed = list(client.iter_records("Accounts", fields=ACCOUNT_FIELDS, modified_since=latest))
    assert [(r["id"], r["Phone"]) for r in changed] == [(target["id"], "+1 555 0100")]


def test_custom_views_one_view_and_its_records(sandbox, client):
    views = client.list_custom_views("Accounts")
    all_accounts = next(v for v in views if v.name == "All Accounts")
    assert all_accounts.system_defined
    one = client.get_custom_view("Accounts", all_accounts.id)
    assert (one.id, one.name) == (all_accounts.id, "All Accounts")
    in_view = list(
        client.iter_records("Accounts", fields=ACCOUNT_FIELDS, cvid=all_accounts.id, sort_by="Modified_Time")
    )
    assert len(in_view) == 20
    with pytest.raises(CrmPermanent):
        client.get_custom_view("Accounts", "123")


def test_sorting_by_modified_time(sandbox, client):
    records = list(client.iter_records("Accounts", fields=ACCOUNT_FIELDS, sort_by="Modified_Time", sort_order="asc"))
    times = [datetime.datetime.fromisoformat(r["Modified_Time"]) for r in records]
    assert times == sorted(times)


def test_an_unknown_module_is_permanent_with_zohos_code(sandbox, client):
    with pytest.raises(CrmPermanent) as exc:
        list(client.iter_records("Accountz", fields=["Account_Name"]))
    assert (exc.value.code, exc.value.status) == ("INVALID_MODULE", 400)


# ---------------------------------------------------------------- writing


def test_write_cycle_insert_update_upsert_delete_in_batches_of_100(sandbox, client):
    tag = uuid.uuid4().hex[:8]
    records = [{"Account_Name": f"Batch {tag} {i:03d}", "Billing_City": "Lyon"} for i in range(150)]
    sandbox.reset_counters()
    inserted = client.insert_records("Accounts", records, trigger=[])
    assert [r.index for r in inserted] == list(range(150))
    assert all(r.ok and r.id and r.code == "SUCCESS" for r in inserted)
    assert calls(sandbox, "POST /crm/v8/Accounts") == 2
    ids = [r.id for r in inserted]

    updated = client.update_records("Accounts", [{"id": i, "Billing_City": "Nice"} for i in ids])
    assert all(r.ok for r in updated)
    assert client.get_record("Accounts", ids[120])["Billing_City"] == "Nice"

    upserted = client.upsert_records(
        "Accounts",
        [{"Account_Name": f"Batch {tag} 000", "Phone": "+33 1"}, {"Account_Name": f"Fresh {tag}"}],
        duplicate_check_fields=["Account_Name"],
    )
    assert [(r.ok, r.action) for r in upserted] == [(True, "update"), (True, "insert")]
    assert upserted[0].id == ids[0]

    deleted = client.delete_records("Accounts", [*ids, upserted[1].id])
    assert len(deleted) == 151
    assert all(r.ok for r in deleted)
    assert calls(sandbox, "DELETE /crm/v8/Accounts") == 2
    assert client.get_record("Accounts", ids[0]) is None
    gone = {r["id"] for r in client.iter_deleted("Accounts")}
    assert set(ids) <= gone


def test_per_record_errors_keep_their_place(sandbox, client):
    existing = next(client.iter_records("Accounts", fields=ACCOUNT_FIELDS))
    results = client.insert_records(
        "Accounts", [{"Account_Name": f"Ok {uuid.uuid4().hex[:6]}"}, {"Phone": "no name"}, {"Account_Name": "x"}]
    )
    assert [r.index for r in results] == [0, 1, 2]
    assert results[0].ok
    assert (results[1].ok, results[1].code, results[1].details.get("api_name")) == (
        False,
        "MANDATORY_NOT_FOUND",
        "Account_Name",
    )
    all_failed = client.insert_records("Accounts", [{"Phone": "1"}, {"Phone": "2"}])
    assert [r.code for r in all_failed] == ["MANDATORY_NOT_FOUND", "MANDATORY_NOT_FOUND"]
    with pytest.raises(ValueError, match="no id"):
        client.update_records("Accounts", [{"Account_Name": existing["Account_Name"]}])


def test_a_plain_insert_whose_answer_was_lost_is_not_repeated(sandbox, client):
    name = f"Lost answer {uuid.uuid4().hex[:8]}"
    sandbox.set_faults(after_write=1.0)
    with pytest.raises(CrmRetryLater) as exc:
        client.insert_records("Accounts", [{"Account_Name": name}])
    assert exc.value.code == "OUTCOME_UNKNOWN"
    sandbox.set_faults()
    found = list(client.search_records("Accounts", criteria=criteria.condition("Account_Name", "equals", name)))
    assert [r["Account_Name"] for r in found] == [name]  # written once, not twice


def test_an_upsert_whose_answer_was_lost_is_repeated_safely(sandbox, client):
    name = f"Upsert lost {uuid.uuid4().hex[:8]}"
    sandbox.set_faults(after_write=0.5, seed=7)
    results = client.upsert_records("Accounts", [{"Account_Name": name}], duplicate_check_fields=["Account_Name"])
    sandbox.set_faults()
    assert results[0].ok
    found = list(client.search_records("Accounts", criteria=criteria.condition("Account_Name", "equals", name)))
    assert len(found) == 1


# ---------------------------------------------------------------- search


def test_search_by_escaped_criteria_email_phone_and_word(sandbox, client):
    name = f"Zylker (EU), Ltd {uuid.uuid4().hex[:6]}"
    [made] = client.insert_records("Accounts", [{"Account_Name": name, "Phone": "+44 20 7946 0958"}])
    found = list(client.search_records("Accounts", criteria=criteria.condition("Account_Name", "equals", name)))
    assert [r["id"] for r in found] == [made.id]
    assert made.id in {r["id"] for r in client.search_records("Accounts", phone="+44 20 7946 0958")}
    assert made.id in {r["id"] for r in client.search_records("Accounts", word=name.split()[-1])}

    contact = next(client.iter_records("Contacts", fields=["Last_Name", "Email"]))
    by_email = list(client.search_records("Contacts", email=contact["Email"], fields=["Last_Name", "Email"]))
    assert contact["id"] in {r["id"] for r in by_email}

    nothing = criteria.condition("Account_Name", "equals", f"no such {uuid.uuid4().hex}")
    assert list(client.search_records("Accounts", criteria=nothing)) == []


def test_a_search_past_2000_matches_reports_limit_reached(sandbox, client):
    sandbox.reset(accounts=2100)
    broad = criteria.condition("Account_Name", "not_equal", "no account has this name")
    seen = 0

    def read_all():
        nonlocal seen
        for _ in client.search_records("Accounts", criteria=broad):
            seen += 1

    with pytest.raises(CrmPermanent) as exc:
        read_all()
    assert exc.value.code == "LIMIT_REACHED"
    assert seen == 2000


# ---------------------------------------------------------------- metadata


def test_fields_and_a_unique_custom_field_to_upsert_on(sandbox, client):
    fields = {f.api_name: f for f in client.list_fields("Accounts")}
    assert fields["Account_Name"].mandatory
    assert fields["Account_Name"].data_type == "text"
    assert fields["Owner"].data_type == "ownerlookup"
    created = client.create_field("Accounts", label="Ledgerbridge Id", length=64, unique=True)
    assert (created.custom_field, created.unique, created.data_type) == (True, True, "text")
    assert client.get_field("Accounts", created.id).api_name == created.api_name
    with pytest.raises(CrmPermanent) as exc:
        client.create_field("Accounts", label="Ledgerbridge Id")
    assert exc.value.code == "DUPLICATE_DATA"

    key = created.api_name
    first = client.upsert_records("Accounts", [{"Account_Name": "Ext A", key: "lb-1"}], duplicate_check_fields=[key])
    again = client.upsert_records(
        "Accounts", [{"Account_Name": "Ext A renamed", key: "lb-1"}], duplicate_check_fields=[key]
    )
    assert (first[0].action, again[0].action) == ("insert", "update")
    assert first[0].id == again[0].id
    assert client.get_record("Accounts", first[0].id)["Account_Name"] == "Ext A renamed"


def test_layouts_and_pipelines_with_stage_outcomes(sandbox, client):
    layouts = client.list_layouts("Deals")
    assert layouts
    assert all(layout.id for layout in layouts)
    pipelines = client.list_pipelines("Deals")
    default = next(p for p in pipelines if p.is_default)
    kinds = {s.forecast_type for s in default.stages}
    assert {"Open", "Closed Won", "Closed Lost"} <= kinds
    won = next(s for s in default.stages if s.forecast_type == "Closed Won")
    assert won.probability == 100
    assert [s.sequence for s in default.stages] == sorted(s.sequence for s in default.stages)
    assert client.list_pipelines("Deals", layout_id=layouts[0].id) == pipelines


def test_org_edition_currencies_users_and_roles(sandbox, client):
    sandbox.set_org(edition="enterprise", currency="EUR", mc_status=True)
    org = client.get_org()
    assert (org.edition, org.currency_iso, org.mc_status) == ("enterprise", "EUR", True)
    currencies = client.list_currencies()
    assert [c.iso_code for c in currencies if c.is_base] == ["EUR"]
    users = client.list_users()
    me = client.current_user()
    assert me.email
    assert me.id in {u.id for u in users}
    roles = client.list_roles()
    assert roles
    assert me.role_id in {r.id for r in roles}
    all_users = client.list_users(type="AllUsers")
    assert len(all_users) >= len(users)


# ---------------------------------------------------------------- notifications


def test_watch_enable_list_update_disable(sandbox, client):
    expiry = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=2)).replace(microsecond=0)
    channel = WatchChannel(
        channel_id="1000000068001",
        events=("Deals.create", "Deals.edit"),
        notify_url="http://127.0.0.1:9/integrations/zoho-crm/notify/",
        token="t" * 50,
        channel_expiry=expiry,
    )
    [enabled] = client.watch_enable([channel])
    assert enabled.ok, enabled
    assert enabled.channel_expiry == expiry
    [listed] = client.watch_list()
    assert (listed.channel_id, set(listed.events), listed.token) == (
        "1000000068001",
        {"Deals.create", "Deals.edit"},
        "t" * 50,
    )
    later = expiry + datetime.timedelta(days=1)
    renewed = WatchChannel(
        channel_id=channel.channel_id,
        events=("Deals.edit",),
        notify_url=channel.notify_url,
        token="new-token",
        channel_expiry=later,
    )
    [updated] = client.watch_update([renewed])
    assert updated.ok
    [listed] = client.watch_list()
    assert (listed.events, listed.token, listed.channel_expiry) == (("Deals.edit",), "new-token", later)
    [disabled] = client.watch_disable(["1000000068001"])
    assert disabled.ok
    assert client.watch_list() == []


# ---------------------------------------------------------------- faults and limits


def test_reading_20000_accounts_under_10_percent_faults_yields_each_record_once(sandbox, connect):
    sandbox.reset(accounts=20_000)
    client = connect(retry=RetryPolicy(budget=120.0, base_delay=0.01, max_delay=0.2))
    sandbox.reset_counters()
    sandbox.set_faults(**{"5xx": 0.04, "429": 0.03, "drop": 0.03})
    seen: dict[str, int] = {}
    for record in client.iter_records("Accounts", fields=["Account_Name"]):
        seen[record["id"]] = seen.get(record["id"], 0) + 1
    sandbox.set_faults()
    assert len(seen) == 20_000
    assert set(seen.values()) == {1}
    assert client.stats.retries > 0
    assert calls(sandbox, "GET /crm/v8/Accounts") == 100 + client.stats.retries


def _hammer(clients: list[ZohoCrmClient], threads: int, reads: int) -> list[Exception]:
    errors: list[Exception] = []

    def work(c: ZohoCrmClient) -> None:
        try:
            for _ in range(reads):
                list(c.iter_records("Accounts", fields=ACCOUNT_FIELDS))
        except Exception as exc:  # reported by the caller
            errors.append(exc)

    started = [threading.Thread(target=work, args=(clients[i % len(clients)],)) for i in range(threads)]
    for t in started:
        t.start()
    for t in started:
        t.join(timeout=120)
    return errors


def test_a_connection_limited_to_the_orgs_concurrency_is_never_refused(sandbox, connect):
    sandbox.set_org(concurrency=2)
    sandbox.set_faults(slow=1.0, slow_ms=100)  # every call holds its slot a while, so calls overlap
    key = f"live:{uuid.uuid4()}"
    clients = [connect(connection_key=key, max_concurrency=2) for _ in range(3)]
    assert _hammer(clients, threads=6, reads=3) == []
    counters = sandbox.counters()
    assert sum(counters["rejected"].values()) == 0
    assert max(int(v) for v in counters["concurrent_peak"].values()) == 2
    assert sum(c.stats.retries for c in clients) == 0


def test_past_the_orgs_concurrency_429s_are_retried(sandbox, connect):
    sandbox.set_org(concurrency=1)
    sandbox.set_faults(slow=1.0, slow_ms=100)
    clients = [connect(max_concurrency=4) for _ in range(4)]  # separate keys: nothing limits us on our side
    assert _hammer(clients, threads=4, reads=3) == []
    rejected = sum(sandbox.counters()["rejected"].values())
    assert rejected > 0
    assert sum(c.stats.retries for c in clients) == rejected

"""The transport's failure handling on the wire: what is retried, how long, and the per-connection limit."""

from __future__ import annotations

import threading
import time
from http.client import RemoteDisconnected

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from crm_integration.client import CrmPermanent, CrmRetryLater
from crm_integration.zoho import RetryPolicy
from crm_integration.zoho.http import connection_limiter
from tests.crm_integration.zoho.support import CRM, add_token, error

ORG = {"org": [{"id": "1", "license_details": {"paid_type": "Enterprise"}}]}


def refused():
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/crm/v8/Accounts", reason))


def dropped():
    return requests.exceptions.ConnectionError(
        ProtocolError("Connection aborted.", RemoteDisconnected("Remote end closed connection without response"))
    )


@pytest.mark.parametrize(
    "failure",
    [
        {"status": 429, "json": error("TOO_MANY_REQUESTS", "limit")},
        {"status": 500, "json": error("INTERNAL_ERROR", "Internal Server Error")},
        {"status": 502, "body": "<html>bad gateway</html>"},
        {"status": 503, "body": ""},
        {"body": requests.exceptions.ReadTimeout("read timed out")},
        {"body": requests.exceptions.ConnectTimeout("connect timed out")},
        {"body": requests.exceptions.ChunkedEncodingError("IncompleteRead(10 bytes read)")},
        {"body": dropped()},
        {"body": refused()},
        {"status": 200, "body": '{"org": [{"id": "1"'},  # cut short
    ],
)
def test_transient_failures_of_a_read_are_retried(rsps, make_client, fake_time, failure):
    add_token(rsps)
    rsps.add(responses.GET, f"{CRM}/org", **failure)
    rsps.add(responses.GET, f"{CRM}/org", json=ORG)
    client = make_client()
    assert client.get_org().edition == "enterprise"
    assert client.stats.retries == 1
    assert len(fake_time.sleeps) == 1
    assert 0 <= fake_time.sleeps[0] <= 0.5  # full jitter of the first backoff step


def test_retry_after_is_honoured(rsps, make_client, fake_time):
    add_token(rsps)
    rsps.add(
        responses.GET, f"{CRM}/org", status=429, headers={"Retry-After": "7"}, json=error("TOO_MANY_REQUESTS", "x")
    )
    rsps.add(responses.GET, f"{CRM}/org", json=ORG)
    make_client().get_org()
    assert fake_time.sleeps == [7.0]


def test_backoff_grows_and_the_budget_ends_in_retry_later(rsps, make_client, fake_time):
    add_token(rsps)
    rsps.add(responses.GET, f"{CRM}/org", status=429, json=error("TOO_MANY_REQUESTS", "concurrency limit exceeded"))
    client = make_client(retry=RetryPolicy(budget=20.0, base_delay=1.0, max_delay=8.0))
    with pytest.raises(CrmRetryLater) as exc:
        client.get_org()
    assert (exc.value.code, exc.value.status) == ("TOO_MANY_REQUESTS", 429)
    assert exc.value.message == "concurrency limit exceeded"
    assert exc.value.wait is not None
    assert sum(fake_time.sleeps) < 20.0
    assert len(fake_time.sleeps) >= 3
    for attempt, slept in enumerate(fake_time.sleeps):
        assert 0 <= slept <= min(8.0, 2**attempt)


def test_5xx_until_the_budget_is_spent_is_retry_later_with_zohos_code(rsps, make_client):
    add_token(rsps)
    rsps.add(responses.GET, f"{CRM}/org", status=500, json=error("INTERNAL_ERROR", "Internal Server Error"))
    with pytest.raises(CrmRetryLater) as exc:
        make_client(retry=RetryPolicy(budget=5.0, base_delay=1.0)).get_org()
    assert (exc.value.code, exc.value.status) == ("INTERNAL_ERROR", 500)


def test_a_4xx_that_is_not_json_is_permanent(rsps, make_client):
    add_token(rsps)
    rsps.add(responses.GET, f"{CRM}/org", status=413, body="<html>Request Entity Too Large</html>")
    with pytest.raises(CrmPermanent) as exc:
        make_client().get_org()
    assert exc.value.code == "HTTP_413"
    assert "Too Large" in exc.value.message


@pytest.mark.parametrize(
    "failure",
    [
        {"body": dropped()},
        {"body": requests.exceptions.ReadTimeout("read timed out")},
        {"status": 502, "body": "bad gateway"},
        {"status": 201, "body": '{"data": [{"code"'},
    ],
)
def test_a_plain_insert_whose_fate_is_unknown_is_not_repeated(rsps, make_client, failure):
    add_token(rsps)
    rsps.add(responses.POST, f"{CRM}/Accounts", **failure)
    client = make_client()
    with pytest.raises(CrmRetryLater) as exc:
        client.insert_records("Accounts", [{"Account_Name": "A"}])
    assert exc.value.code == "OUTCOME_UNKNOWN"
    assert "could duplicate" in exc.value.message
    assert client.stats.requests == 1


@pytest.mark.parametrize(
    "failure", [{"body": refused()}, {"body": requests.exceptions.ConnectTimeout("x")}, {"status": 429, "json": {}}]
)
def test_a_plain_insert_that_never_reached_zoho_is_repeated(rsps, make_client, failure):
    add_token(rsps)
    rsps.add(responses.POST, f"{CRM}/Accounts", **failure)
    rsps.add(
        responses.POST,
        f"{CRM}/Accounts",
        status=201,
        json={"data": [{"code": "SUCCESS", "status": "success", "message": "record added", "details": {"id": "5"}}]},
    )
    assert make_client().insert_records("Accounts", [{"Account_Name": "A"}])[0].id == "5"


def test_the_token_endpoint_is_not_counted_as_api_calls(rsps, make_client):
    add_token(rsps)
    rsps.add(responses.GET, f"{CRM}/org", json=ORG)
    client = make_client()
    client.get_org()
    assert (client.stats.requests, client.stats.token_requests) == (1, 1)


def test_concurrent_calls_of_one_connection_never_exceed_its_limit(rsps):
    """Six threads, two client instances of one connection, a limit of 2: at most 2 calls are in flight."""
    from crm_integration.zoho import ZohoCrmClient
    from tests.crm_integration.zoho.support import CREDS

    lock = threading.Lock()
    state = {"in_flight": 0, "max": 0, "started": 0}

    def answer(request):
        with lock:
            state["in_flight"] += 1
            state["started"] += 1
            state["max"] = max(state["max"], state["in_flight"])
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:  # hold the slot until a second call is in flight, or none is left
            with lock:
                if state["in_flight"] >= 2 or state["started"] == 6:
                    break
            time.sleep(0.001)
        with lock:
            state["in_flight"] -= 1
        return 200, {}, '{"org": [{"id": "1"}]}'

    add_token(rsps)
    rsps.add_callback(responses.GET, f"{CRM}/org", callback=answer)
    clients = [ZohoCrmClient(CREDS, connection_key="limited-conn", max_concurrency=2) for _ in range(2)]
    clients[0].current_token()
    errors = []

    def work(client):
        try:
            client.get_org()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(clients[i % 2],)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert state["max"] == 2
    assert connection_limiter("limited-conn", 99) is clients[1].transport.limiter


def test_a_connection_whose_slots_stay_busy_is_retry_later(rsps, make_client):
    add_token(rsps)
    client = make_client(max_concurrency=1, retry=RetryPolicy(budget=0.2, slot_timeout=0.05))
    client.current_token()
    limiter = client.transport.limiter
    release = limiter.acquire(1.0, hold=1.0)
    assert release is not None
    try:
        with pytest.raises(CrmRetryLater) as exc:
            client.get_org()
    finally:
        release()
    assert exc.value.code == "CONCURRENCY_LIMIT"

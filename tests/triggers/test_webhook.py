"""POST /integrations/zoho-crm/notify/: refusals store and enqueue nothing; a duplicate delivery is one event and
one action; replayed and reordered deliveries converge on the same state."""

from __future__ import annotations

import datetime
import json

import pytest
from django.utils import timezone

from books.models import Transaction
from tests.triggers.conftest import APPROVE_STAGE, CREATE_STAGE, first_id, move, new_deal, notification
from triggers import tasks
from triggers.models import DealAction, DealEvent, NotificationChannel

pytestmark = pytest.mark.django_db

URL = "/integrations/zoho-crm/notify/"


@pytest.fixture
def enqueued(monkeypatch) -> list[int]:
    calls: list[int] = []
    monkeypatch.setattr(tasks.process_deal_event, "delay", lambda event_id: calls.append(event_id))
    return calls


def _post(client, body, **extra):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", **extra)


def test_a_wrong_or_missing_token_is_refused_and_nothing_is_stored_or_enqueued(
    client, quote_mode, enqueued, django_capture_on_commit_callbacks
):
    channel, token = quote_mode
    cases = [
        notification(channel.channel_id, token + "x", "123"),
        notification(channel.channel_id, "", "123"),
        {k: v for k, v in notification(channel.channel_id, token, "123").items() if k != "token"},
        notification("999999999999", token, "123"),
        notification("not-a-number", token, "123"),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        for body in cases:
            response = _post(client, body)
            assert response.status_code == 401, body
            assert response.json()["message"] == "token: unknown channel or wrong token"
    assert DealEvent.objects.count() == 0
    assert enqueued == []


def test_a_disabled_channel_is_refused(client, quote_mode, enqueued):
    channel, token = quote_mode
    NotificationChannel.objects.filter(pk=channel.pk).update(status="disabled")
    assert _post(client, notification(channel.channel_id, token, "123")).status_code == 401
    assert DealEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "body: not valid JSON"),
        (b"[1, 2]", 400, "body: expected a JSON object (Zoho's notification)"),
        (b"\xff\xfe", 400, "body: not valid JSON"),
    ],
)
def test_a_malformed_body_is_400_with_a_message(client, db, body, status, message, enqueued):
    response = _post(client, body)
    assert response.status_code == status
    assert response.json()["message"] == message
    assert DealEvent.objects.count() == 0


def test_bad_ids_of_a_verified_channel_are_400(client, quote_mode, enqueued):
    channel, token = quote_mode
    body = {**notification(channel.channel_id, token, "1"), "ids": "1,2"}
    response = _post(client, body)
    assert response.status_code == 400
    assert response.json()["message"] == "ids: expected a list of record ids"


def test_an_oversize_body_is_413(client, quote_mode, enqueued, settings):
    channel, token = quote_mode
    settings.TRIGGERS_MAX_BODY_BYTES = 1024
    body = {**notification(channel.channel_id, token, "1"), "query_params": {"pad": "x" * 2000}}
    response = _post(client, body)
    assert response.status_code == 413
    assert response.json()["message"] == "body: larger than 1024 bytes"
    assert DealEvent.objects.count() == 0


def test_only_post_is_allowed(client, db):
    assert client.get(URL).status_code == 405


def test_another_module_is_accepted_and_ignored(client, quote_mode, enqueued):
    channel, token = quote_mode
    body = {**notification(channel.channel_id, token, "1"), "module": "Accounts"}
    response = _post(client, body)
    assert response.status_code == 202
    assert response.json()["message"] == "module 'Accounts' is not watched"
    assert DealEvent.objects.count() == 0


def test_a_valid_notification_is_stored_once_per_deal_and_enqueued_after_commit(
    client, quote_mode, enqueued, django_capture_on_commit_callbacks
):
    channel, token = quote_mode
    body = {**notification(channel.channel_id, token, "11"), "ids": ["11", "12", "11"]}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _post(client, body)
    assert response.status_code == 202
    assert len(callbacks) == 1
    events = list(DealEvent.objects.order_by("deal_id"))
    assert [e.deal_id for e in events] == ["11", "12"]
    assert sorted(enqueued) == sorted(e.pk for e in events)
    assert {e.operation for e in events} == {"update"}


def test_the_hot_path_is_two_statements_whatever_the_number_of_deals(
    client, quote_mode, enqueued, django_assert_num_queries
):
    """The channel (joined to its connection) and one INSERT … ON CONFLICT for all the deals; a redelivery is the
    same two statements and stores nothing. (The CRM is never called from the webhook.)"""
    channel, token = quote_mode
    body = {**notification(channel.channel_id, token, "21"), "ids": [str(n) for n in range(21, 121)]}
    with django_assert_num_queries(2):
        assert _post(client, body).json()["stored"] == 100
    with django_assert_num_queries(2):
        assert _post(client, body).json()["stored"] == 0
    assert DealEvent.objects.count() == 100


def test_a_broker_that_cannot_be_reached_still_gets_a_202_and_the_event_waits_for_beat(
    client, quote_mode, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    from triggers.services.notifications import STALE_AFTER, events_requeue_stale

    def down(event_id: int) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.process_deal_event, "delay", down)
    channel, token = quote_mode
    with caplog.at_level("ERROR"), django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _post(client, notification(channel.channel_id, token, "31"))
    assert len(callbacks) == 1
    assert response.status_code == 202
    [event] = DealEvent.objects.all()
    assert event.status == "received"
    assert any("on_commit" in r.getMessage() for r in caplog.records)

    requeued: list[int] = []
    monkeypatch.setattr(tasks.process_deal_event, "delay", requeued.append)
    later = timezone.now() + STALE_AFTER + datetime.timedelta(seconds=1)
    assert events_requeue_stale(now=later) == 1
    assert requeued == [event.pk]


def test_a_duplicate_delivery_is_one_event_and_one_action(
    client, sandbox, quote_mode, django_capture_on_commit_callbacks
):
    channel, token = quote_mode
    deal_id = new_deal(sandbox, stage=CREATE_STAGE, account_id=first_id(sandbox, "Accounts", "Account_Name"))
    body = notification(channel.channel_id, token, deal_id, operation="insert")
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            assert _post(client, body).status_code == 202
    assert DealEvent.objects.count() == 1
    assert Transaction.objects.filter(zcrm_potential_id=deal_id).count() == 1
    assert DealAction.objects.filter(deal_id=deal_id).count() == 1


def test_a_redelivered_task_is_harmless(sandbox, quote_mode, deliver):
    channel, token = quote_mode
    deal_id = new_deal(sandbox, stage=CREATE_STAGE, account_id=first_id(sandbox, "Accounts", "Account_Name"))
    received = deliver(notification(channel.channel_id, token, deal_id))
    tasks.process_deal_event.apply(args=[received.stored[0]])
    DealEvent.objects.update(status="received")  # as if the worker died before marking it
    tasks.process_deal_event.apply(args=[received.stored[0]])
    assert Transaction.objects.filter(zcrm_potential_id=deal_id).count() == 1


def _state(deal_id: str) -> list[tuple[str, str]]:
    return list(Transaction.objects.filter(zcrm_potential_id=deal_id).order_by("kind").values_list("kind", "status"))


@pytest.mark.parametrize("order", ["forward_twice", "reverse", "reverse_twice"])
def test_replayed_and_reordered_deliveries_converge(sandbox, quote_mode, deliver, order):
    channel, token = quote_mode
    account_id = first_id(sandbox, "Accounts", "Account_Name")
    deal_id = new_deal(sandbox, stage="Qualification", account_id=account_id)
    bodies = [notification(channel.channel_id, token, deal_id, operation="insert")]
    for stage in (CREATE_STAGE, APPROVE_STAGE):
        move(sandbox, deal_id, stage)
        bodies.append(notification(channel.channel_id, token, deal_id))
    # A reference deal moved the same way, each notification delivered once, in order, as it happened.
    reference = new_deal(sandbox, stage="Qualification", account_id=account_id, name="Reference")
    deliver(notification(channel.channel_id, token, reference, operation="insert"))
    for stage in (CREATE_STAGE, APPROVE_STAGE):
        move(sandbox, reference, stage)
        deliver(notification(channel.channel_id, token, reference))

    sequence = {
        "forward_twice": bodies + bodies,
        "reverse": bodies[::-1],
        "reverse_twice": bodies[::-1] + bodies[::-1],
    }[order]
    for body in sequence:
        deliver(body)
    assert _state(deal_id) == _state(reference) == [("quote", "accepted")]
    assert DealEvent.objects.filter(deal_id=deal_id).count() == len(bodies)
    assert sorted(DealAction.objects.filter(deal_id=deal_id).values_list("action", flat=True)) == [
        "approve_quote",
        "create_quote",
    ]

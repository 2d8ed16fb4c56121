"""The deal-stage rules against the live sandbox: each mode and stage transition, the mapping of a deal to a
quote or invoice, the org's quote conversion preference, sent documents no longer reacting, the prerequisite, and
the customer imported on the spot."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from celery.exceptions import Retry
from django.db import IntegrityError
from django.utils import timezone

from books.models import Contact, QuoteConversion, Transaction
from books.services.transactions import transaction_set_status
from crm_integration.client import CrmPermanent, CrmRetryLater, Stage
from sync.models import RecordLink
from tests.triggers.conftest import (
    APPROVE_STAGE,
    CREATE_STAGE,
    configure_customers,
    first_id,
    move,
    new_deal,
    notification,
    set_mode,
)
from triggers import tasks
from triggers.models import DealAction, DealEvent, EventStatus, TriggerLog
from triggers.services import deals, preferences
from triggers.services.deals import Deal, actions_wanted, deal_event_process
from triggers.services.notifications import notification_receive

pytestmark = pytest.mark.django_db

STAGES = [
    {"name": s.name, "probability": s.probability, "forecast_type": s.forecast_type, "sequence": i}
    for i, s in enumerate(
        [
            Stage("Qualification", 10, "Open"),
            Stage(CREATE_STAGE, 75, "Open"),
            Stage(APPROVE_STAGE, 90, "Open"),
            Stage("Closed Won", 100, "Closed Won"),
            Stage("Closed Lost", 0, "Closed Lost"),
        ]
    )
]


def _deal(stage: str, probability: int | None = None) -> Deal:
    return Deal("1", "D", stage, probability, Decimal(1), "", "", "2", "")


@pytest.mark.parametrize(
    ("mode", "stage", "probability", "expected"),
    [
        ("quote", "Qualification", 10, []),
        ("quote", CREATE_STAGE, 75, ["create_quote"]),
        ("quote", APPROVE_STAGE, 90, ["create_quote", "approve_quote"]),
        ("quote", "Closed Won", 100, ["create_quote", "approve_quote"]),
        ("quote", "Closed Lost", 0, ["decline_quote"]),
        ("quote", "Qualification", 0, ["decline_quote"]),
        ("invoice", CREATE_STAGE, 75, []),
        ("invoice", "Closed Won", 100, ["create_invoice"]),
        ("invoice", "Negotiation/Review", 100, ["create_invoice"]),
        ("invoice", "Closed Lost", 0, ["void_invoice"]),
        ("off", "Closed Won", 100, []),
    ],
)
def test_actions_wanted_follow_the_current_stage(mode, stage, probability, expected):
    got = actions_wanted(
        mode=mode, create_stage=CREATE_STAGE, approve_stage=APPROVE_STAGE, stages=STAGES, deal=_deal(stage, probability)
    )
    assert got == expected


def _account(sandbox) -> str:
    return first_id(sandbox, "Accounts", "Account_Name")


def _deal_txns(deal_id: str) -> list[Transaction]:
    return list(Transaction.objects.filter(zcrm_potential_id=deal_id).order_by("id"))


def test_quote_mode_creates_a_draft_quote_mapped_from_the_deal_importing_the_account(sandbox, org, quote_mode, deliver):
    channel, token = quote_mode
    account_id = _account(sandbox)
    assert not RecordLink.objects.filter(crm_id=account_id).exists()
    deal_id = new_deal(sandbox, stage=CREATE_STAGE, account_id=account_id, name="Forty licences", amount=1250.5)
    deliver(notification(channel.channel_id, token, deal_id, operation="insert"))

    [quote] = _deal_txns(deal_id)
    assert (quote.kind, quote.status) == ("quote", "draft")
    account = sandbox.api("GET", f"Accounts/{account_id}").json()["data"][0]
    deal = sandbox.api("GET", f"Deals/{deal_id}").json()["data"][0]
    assert quote.contact.contact_name == account["Account_Name"]
    assert RecordLink.objects.filter(crm_id=account_id, books_id=quote.contact_id).exists()
    assert quote.salesperson_name == deal["Owner"]["name"]
    assert quote.salesperson_name
    [line] = quote.lines.all()
    assert (line.name, line.description, line.rate, line.quantity) == (
        "Forty licences",
        "Annual plan, 40 seats",
        Decimal("1250.50"),
        Decimal(1),
    )
    assert (quote.zcrm_potential_id, quote.zcrm_potential_name, quote.potential_locked) == (
        deal_id,
        "Forty licences",
        True,
    )
    assert TriggerLog.objects.filter(action="create_quote", outcome="done", txn=quote).count() == 1
    assert DealEvent.objects.get().status == EventStatus.PROCESSED


@pytest.mark.parametrize(
    ("conversion", "invoice_status"),
    [(QuoteConversion.OFF, None), (QuoteConversion.DRAFT, "draft"), (QuoteConversion.SENT, "sent")],
)
def test_approve_stage_accepts_the_quote_and_follows_the_conversion_preference(
    sandbox, org, quote_mode, deliver, conversion, invoice_status
):
    org.quote_conversion = conversion
    org.save()
    channel, token = quote_mode
    deal_id = new_deal(sandbox, stage=CREATE_STAGE, account_id=_account(sandbox))
    deliver(notification(channel.channel_id, token, deal_id, operation="insert"))
    move(sandbox, deal_id, APPROVE_STAGE)
    deliver(notification(channel.channel_id, token, deal_id))

    quote = Transaction.objects.get(zcrm_potential_id=deal_id, kind="quote")
    invoices = list(Transaction.objects.filter(zcrm_potential_id=deal_id, kind="invoice"))
    if invoice_status is None:
        assert quote.status == "accepted"
        assert invoices == []
    else:
        assert quote.status == "invoiced"
        [invoice] = invoices
        assert invoice.status == invoice_status
        assert invoice.converted_from == quote
        assert invoice.potential_locked
        assert DealAction.objects.filter(deal_id=deal_id, action="create_invoice", txn=invoice).exists()
    assert DealAction.objects.filter(deal_id=deal_id, action="approve_quote").count() == 1


def test_a_deal_that_jumps_to_the_approve_stage_gets_its_quote_created_and_accepted(sandbox, quote_mode, deliver):
    channel, token = quote_mode
    deal_id = new_deal(sandbox, stage=APPROVE_STAGE, account_id=_account(sandbox))
    deliver(notification(channel.channel_id, token, deal_id, operation="insert"))
    [quote] = _deal_txns(deal_id)
    assert quote.status == "accepted"


def test_a_lost_deal_declines_its_quote(sandbox, quote_mode, deliver):
    channel, token = quote_mode
    deal_id = new_deal(sandbox, stage=CREATE_STAGE, account_id=_account(sandbox))
    deliver(notification(channel.channel_id, token, deal_id, operation="insert"))
    move(sandbox, deal_id, "Closed Lost")
    deliver(notification(channel.channel_id, token, deal_id))
    [quote] = _deal_txns(deal_id)
    assert quote.status == "declined"
    assert TriggerLog.objects.filter(action="decline_quote", outcome="done").count() == 1


def test_a_sent_quote_no_longer_reacts_and_the_refusal_is_recorded(sandbox, quote_mode, deliver):
    channel, token = quote_mode
    deal_id = new_deal(sandbox, stage=CREATE_STAGE, account_id=_account(sandbox))
    deliver(notification(channel.channel_id, token, deal_id, operation="insert"))
    [quote] = _deal_txns(deal_id)
    transaction_set_status(txn=quote, actor=None, status="sent")
    move(sandbox, deal_id, APPROVE_STAGE)
    deliver(notification(channel.channel_id, token, deal_id))
    move(sandbox, deal_id, "Closed Lost")
    deliver(notification(channel.channel_id, token, deal_id))

    quote.refresh_from_db()
    assert quote.status == "sent"
    refusals = list(TriggerLog.objects.filter(outcome="refused").order_by("id").values_list("action", "reason"))
    assert [a for a, _ in refusals] == ["approve_quote", "decline_quote"]
    assert all(f"{quote.number} is sent" in reason and "no longer reacts" in reason for _, reason in refusals)
    assert not DealAction.objects.filter(deal_id=deal_id, action__in=["approve_quote", "decline_quote"]).exists()


def test_invoice_mode_creates_on_won_and_voids_on_lost(sandbox, invoice_mode, deliver):
    channel, token = invoice_mode
    deal_id = new_deal(sandbox, stage=CREATE_STAGE, account_id=_account(sandbox))
    deliver(notification(channel.channel_id, token, deal_id, operation="insert"))
    assert _deal_txns(deal_id) == []
    move(sandbox, deal_id, "Closed Won")
    deliver(notification(channel.channel_id, token, deal_id))
    [invoice] = _deal_txns(deal_id)
    assert (invoice.kind, invoice.status, invoice.potential_locked) == ("invoice", "draft", True)
    assert invoice.total == Decimal("1250.50")
    move(sandbox, deal_id, "Closed Lost")
    deliver(notification(channel.channel_id, token, deal_id))
    invoice.refresh_from_db()
    assert invoice.status == "void"
    # Won again: the invoice is made once per deal, not again.
    move(sandbox, deal_id, "Closed Won")
    deliver(notification(channel.channel_id, token, deal_id))
    assert len(_deal_txns(deal_id)) == 1


def test_a_sent_invoice_is_not_voided(sandbox, invoice_mode, deliver):
    channel, token = invoice_mode
    deal_id = new_deal(sandbox, stage="Closed Won", account_id=_account(sandbox))
    deliver(notification(channel.channel_id, token, deal_id, operation="insert"))
    [invoice] = _deal_txns(deal_id)
    transaction_set_status(txn=invoice, actor=None, status="sent")
    move(sandbox, deal_id, "Closed Lost")
    deliver(notification(channel.channel_id, token, deal_id))
    invoice.refresh_from_db()
    assert invoice.status == "sent"
    refusal = TriggerLog.objects.get(outcome="refused")
    assert refusal.action == "void_invoice"
    assert "is sent" in refusal.reason


def test_a_deal_without_an_account_is_refused_with_the_reason(sandbox, quote_mode, deliver):
    channel, token = quote_mode
    deal_id = new_deal(sandbox, stage=CREATE_STAGE)
    deliver(notification(channel.channel_id, token, deal_id, operation="insert"))
    assert _deal_txns(deal_id) == []
    refusal = TriggerLog.objects.get(outcome="refused")
    assert refusal.action == "create_quote"
    assert refusal.reason == "the deal is not associated with an Account (customers sync Accounts) in Zoho CRM"


def test_contacts_only_needs_the_deals_contact_and_imports_it(sandbox, connected, deliver):
    configure_customers(connected, "contacts")
    channel, token = set_mode(connected, "invoice")
    contact_id = first_id(sandbox, "Contacts", "Last_Name")
    with_account = new_deal(sandbox, stage="Closed Won", account_id=_account(sandbox), name="Only account")
    deliver(notification(channel.channel_id, token, with_account, operation="insert"))
    assert _deal_txns(with_account) == []
    assert "not associated with a Contact" in TriggerLog.objects.get(outcome="refused").reason

    deal_id = new_deal(sandbox, stage="Closed Won", Contact_Name={"id": contact_id}, name="Contact deal")
    deliver(notification(channel.channel_id, token, deal_id, operation="insert"))
    [invoice] = _deal_txns(deal_id)
    customer = Contact.objects.get(pk=invoice.contact_id)
    assert customer.zcrm_contact_id == contact_id
    assert customer.customer_sub_type == "individual"


def test_a_deal_deleted_in_the_crm_is_recorded_as_refused(sandbox, quote_mode, deliver):
    channel, token = quote_mode
    deal_id = new_deal(sandbox, stage=CREATE_STAGE, account_id=_account(sandbox))
    assert sandbox.api("DELETE", "Deals", params={"ids": deal_id}).status_code == 200
    deliver(notification(channel.channel_id, token, deal_id))
    assert _deal_txns(deal_id) == []
    assert TriggerLog.objects.get(outcome="refused").reason == "the deal no longer exists in Zoho CRM"


def test_triggers_turned_off_ignore_a_late_notification(sandbox, connected):
    configure_customers(connected)
    channel, token = set_mode(connected, "invoice")
    deal_id = new_deal(sandbox, stage="Closed Won", account_id=_account(sandbox))
    # Stored while triggers were on, processed after they were turned off.
    received = notification_receive(json.dumps(notification(channel.channel_id, token, deal_id)).encode())
    preferences.trigger_preferences_save(connection=connected, actor=None, mode="off")
    event = deal_event_process(event_id=received.stored[0])
    assert event is not None
    assert event.result == "ignored: deal triggers are off"
    assert _deal_txns(deal_id) == []


def test_a_worker_that_loses_the_race_does_not_act_twice(sandbox, quote_mode, monkeypatch):
    """Two events of one deal processed at once: the second worker finishes between the first one's read of what
    was done and its write. Under the per-deal lock the first one reads again and does nothing."""
    channel, token = quote_mode
    deal_id = new_deal(sandbox, stage=CREATE_STAGE, account_id=_account(sandbox))
    first = notification_receive(json.dumps(notification(channel.channel_id, token, deal_id)).encode())
    second = notification_receive(json.dumps(notification(channel.channel_id, token, deal_id)).encode())
    original = deals._customer
    raced = []

    def customer_then_other_worker(run, client):
        found = original(run, client)
        if not raced:
            raced.append(True)
            deal_event_process(event_id=second.stored[0])
        return found

    monkeypatch.setattr(deals, "_customer", customer_then_other_worker)
    deal_event_process(event_id=first.stored[0])
    assert raced == [True]
    assert len(_deal_txns(deal_id)) == 1
    assert DealAction.objects.filter(deal_id=deal_id).count() == 1
    assert set(DealEvent.objects.values_list("status", flat=True)) == {"processed"}


def test_receiving_a_notification_takes_few_queries(quote_mode, django_assert_max_num_queries):
    channel, token = quote_mode
    body = json.dumps({**notification(channel.channel_id, token, "5"), "ids": [str(i) for i in range(1, 101)]})
    # The channel, one INSERT for every deal of the body, and the savepoint around it.
    with django_assert_max_num_queries(4):
        received = notification_receive(body.encode())
    assert len(received.stored) == 100


class _Refusing:
    def get_record(self, *args, **kwargs):
        raise CrmPermanent("the user has no permission", code="NO_PERMISSION", status=403)


def test_a_crm_refusal_marks_the_event_failed_with_the_reason(sandbox, quote_mode):
    channel, token = quote_mode
    received = notification_receive(json.dumps(notification(channel.channel_id, token, "42")).encode())
    event = deal_event_process(event_id=received.stored[0], client=_Refusing())
    assert event is not None
    assert event.status == "failed"
    log = TriggerLog.objects.get(outcome="failed")
    assert log.reason.startswith("the deal could not be read from Zoho CRM: Zoho CRM refused the request")


def test_the_task_retries_while_the_crm_is_not_answering_then_records_the_failure(quote_mode, monkeypatch):
    channel, token = quote_mode
    received = notification_receive(json.dumps(notification(channel.channel_id, token, "43")).encode())
    calls = []

    def not_answering(*, event_id, client=None):
        calls.append(event_id)
        raise CrmRetryLater("timed out", wait=1)

    monkeypatch.setattr(deals, "deal_event_process", not_answering)
    monkeypatch.setattr(tasks, "retry_countdown", lambda retries, wait: 0)
    with pytest.raises(Retry):
        tasks.process_deal_event.apply(args=[received.stored[0]])
    assert DealEvent.objects.get().status == "received"
    # The last retry gives up and says why.
    tasks.process_deal_event.apply(args=[received.stored[0]], retries=tasks.process_deal_event.max_retries)
    assert len(calls) == 2
    assert DealEvent.objects.get().status == "failed"
    assert TriggerLog.objects.get(outcome="failed").reason == "Zoho CRM could not be read: timed out"


def test_two_deals_of_one_account_imported_at_the_same_moment_make_one_customer(
    sandbox, invoice_mode, deliver, monkeypatch
):
    """The bench found it: two workers import the same account for two deals; the loser's insert of the link
    conflicts. The second look finds the winner's customer; one customer, two invoices."""
    channel, token = invoice_mode
    account_id = _account(sandbox)
    first = new_deal(sandbox, stage="Closed Won", account_id=account_id, Probability=100)
    second = new_deal(sandbox, stage="Closed Won", account_id=account_id, Probability=100)
    real = deals._customer
    calls = []

    def racing(run, client):
        calls.append(run.deal.id)
        result = real(run, client)
        if len(calls) == 1:  # the other worker's import just committed, ours conflicts
            raise IntegrityError('duplicate key value violates unique constraint "recordlink_unique_crm_record"')
        return result

    monkeypatch.setattr(deals, "_customer", racing)
    deliver(notification(channel.channel_id, token, first))
    deliver(notification(channel.channel_id, token, second))

    invoices = Transaction.objects.filter(zcrm_potential_id__in=[first, second], kind="invoice")
    assert invoices.count() == 2
    assert len({i.contact_id for i in invoices}) == 1
    assert RecordLink.objects.filter(crm_id=account_id).count() == 1
    assert set(DealEvent.objects.values_list("status", flat=True)) == {"processed"}


def test_a_database_race_in_the_task_is_retried_soon(quote_mode, monkeypatch):
    channel, token = quote_mode
    received = notification_receive(json.dumps(notification(channel.channel_id, token, "44")).encode())

    def racing(*, event_id, client=None):
        raise IntegrityError("duplicate key")

    monkeypatch.setattr(deals, "deal_event_process", racing)
    with pytest.raises(Retry) as retry:
        tasks.process_deal_event.apply(args=[received.stored[0]])
    assert retry.value.when is not None
    assert float(retry.value.when) <= 2.0  # seconds, not the CRM back-off's minutes
    assert DealEvent.objects.get().status == "received"
    tasks.process_deal_event.apply(args=[received.stored[0]], retries=tasks.process_deal_event.max_retries)
    assert DealEvent.objects.get().status == "failed"
    assert TriggerLog.objects.get(outcome="failed").reason == "database error: IntegrityError"


def test_an_unexpected_error_marks_the_event_failed_instead_of_leaving_it_waiting(quote_mode, monkeypatch):
    channel, token = quote_mode
    received = notification_receive(json.dumps(notification(channel.channel_id, token, "45")).encode())

    def broken(*, event_id, client=None):
        raise KeyError("Stage")

    monkeypatch.setattr(deals, "deal_event_process", broken)
    assert tasks.process_deal_event.apply(args=[received.stored[0]]).get() == "failed"
    assert DealEvent.objects.get().status == "failed"
    assert TriggerLog.objects.get(outcome="failed").reason == "unexpected error (see the worker log): KeyError"


def test_events_left_waiting_are_enqueued_again(quote_mode, monkeypatch):
    channel, token = quote_mode
    old = notification_receive(json.dumps(notification(channel.channel_id, token, "46")).encode()).stored[0]
    new = notification_receive(json.dumps(notification(channel.channel_id, token, "47")).encode()).stored[0]
    DealEvent.objects.filter(pk=old).update(received_at=timezone.now() - datetime.timedelta(minutes=11))
    enqueued = []
    monkeypatch.setattr(tasks.process_deal_event, "delay", lambda event_id: enqueued.append(event_id))
    assert tasks.events_requeue_stale.apply().get() == 1
    assert enqueued == [old]
    assert new not in enqueued


class _MustNotCall:
    def get_record(self, *args, **kwargs):
        raise AssertionError("the CRM was read again for an event already answered")


def test_one_read_answers_every_event_of_the_deal_stored_before_it(sandbox, invoice_mode):
    channel, token = invoice_mode
    deal_id = new_deal(sandbox, stage="Closed Won", account_id=_account(sandbox), Probability=100)
    stored = [
        notification_receive(json.dumps(notification(channel.channel_id, token, deal_id)).encode()).stored[0]
        for _ in range(3)
    ]
    other = new_deal(sandbox, stage="Qualification", account_id=_account(sandbox))
    [other_event] = notification_receive(json.dumps(notification(channel.channel_id, token, other)).encode()).stored

    deal_event_process(event_id=stored[1])
    events = {e.pk: e for e in DealEvent.objects.all()}
    assert {events[pk].status for pk in stored} == {"processed"}
    assert events[stored[0]].result == events[stored[2]].result == f"answered by event {stored[1]}"
    assert events[other_event].status == "received"  # another deal: not answered by this read
    for pk in (stored[0], stored[2]):
        assert deal_event_process(event_id=pk, client=_MustNotCall()).status == "processed"
    assert Transaction.objects.filter(zcrm_potential_id=deal_id, kind="invoice").count() == 1

    # An event stored after the read is processed on its own.
    [later] = notification_receive(json.dumps(notification(channel.channel_id, token, deal_id)).encode()).stored
    assert DealEvent.objects.get(pk=later).status == "received"

"""End to end, in both modes: the sandbox's own notifications (its background deliverer POSTing Zoho's JSON to
the channel's notify_url) reach a live Books server, whose webhook stores them and runs the task (eagerly here),
which reads the deal back from the sandbox and acts. Each step moves the deal in the CRM over its API and polls
Books, with a deadline, until the expected state shows."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from books.models import Transaction
from tests.triggers.conftest import APPROVE_STAGE, CREATE_STAGE, configure_customers, first_id, move, new_deal
from triggers.models import DealEvent, EventStatus
from triggers.services import preferences

pytestmark = pytest.mark.django_db(transaction=True)

DEADLINE = 45.0


def wait_for(what: str, check: Callable[[], object]) -> object:
    deadline = time.monotonic() + DEADLINE
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Books did not show {what} within {DEADLINE} s")
        time.sleep(0.1)


def _state(deal_id: str) -> list[tuple[str, str]]:
    return list(
        Transaction.objects.filter(zcrm_potential_id=deal_id).order_by("kind", "id").values_list("kind", "status")
    )


def _processed(deal_id: str, at_least: int) -> bool:
    return DealEvent.objects.filter(deal_id=deal_id, status=EventStatus.PROCESSED).count() >= at_least


@pytest.fixture
def live(settings, live_server, connected):
    settings.LB_PUBLIC_BASE_URL = live_server.url
    configure_customers(connected)
    return connected


def test_quote_mode_end_to_end(live, sandbox):
    preferences.trigger_preferences_save(
        connection=live, actor=None, mode="quote", create_quote_stage=CREATE_STAGE, approve_quote_stage=APPROVE_STAGE
    )
    deal_id = new_deal(sandbox, stage="Qualification", account_id=first_id(sandbox, "Accounts", "Account_Name"))
    wait_for("the new deal's notification processed", lambda: _processed(deal_id, 1))
    assert _state(deal_id) == []

    move(sandbox, deal_id, CREATE_STAGE)
    wait_for("a draft quote", lambda: _state(deal_id) == [("quote", "draft")])
    quote = Transaction.objects.get(zcrm_potential_id=deal_id)
    assert quote.potential_locked
    assert quote.total > 0

    move(sandbox, deal_id, APPROVE_STAGE)
    wait_for("the quote accepted", lambda: _state(deal_id) == [("quote", "accepted")])

    move(sandbox, deal_id, "Closed Lost")
    wait_for("the quote declined", lambda: _state(deal_id) == [("quote", "declined")])
    delivered = sandbox.deliveries(status="delivered")
    assert {d["payload"]["ids"][0] for d in delivered} >= {deal_id}


def test_invoice_mode_end_to_end(live, sandbox):
    preferences.trigger_preferences_save(connection=live, actor=None, mode="invoice")
    deal_id = new_deal(sandbox, stage=CREATE_STAGE, account_id=first_id(sandbox, "Accounts", "Account_Name"))
    wait_for("the new deal's notification processed", lambda: _processed(deal_id, 1))
    assert _state(deal_id) == []

    move(sandbox, deal_id, "Closed Won")
    wait_for("a draft invoice", lambda: _state(deal_id) == [("invoice", "draft")])

    move(sandbox, deal_id, "Closed Lost")
    wait_for("the invoice voided", lambda: _state(deal_id) == [("invoice", "void")])

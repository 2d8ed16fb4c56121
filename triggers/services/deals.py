"""The deal-stage rules (the seed's "Automate Based on the Deal/Potential's Stage"), run for one received deal
event by the `triggers.process_deal_event` task.

The deal is read live from the CRM, so the decision rests on the deal's current stage, not on the notification:
deliveries that arrive twice, late or out of order all converge on the same state. A stage counts as reached when
the deal is at it or further along the pipeline (the pipeline's order as saved with the preference).

- Quote mode: at or past Create Quote → a draft quote; at or past Approve Quote → the quote accepted (then the
  organization's "convert accepted quotes" preference may make the invoice, draft or sent); lost (Closed Lost or
  probability 0) → the quote declined.
- Invoice mode: won (Closed Won or probability 100) → a draft invoice; lost → the invoice voided.
- A quote or invoice marked sent (or further) no longer reacts: the refusal is recorded with the reason.
- Each action happens at most once per deal: a `DealAction` row (unique per organization, deal, action) is
  written in the same transaction as the Books change, under a per-deal row lock.

Trigger mapping (DESIGN.md): customer = the deal's account (or contact when customers sync Contacts only), imported
on the spot when it is not in Books yet; salesperson = deal owner; one line: item name = deal name, description =
deal description, rate = deal amount, quantity 1. The deal association is locked (cannot be dissociated).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from books.errors import ApplicationError
from books.models import Contact, Transaction, TransactionKind, TransactionStatus
from books.services.transactions import LineInput, TransactionInput, transaction_create, transaction_set_status
from crm_integration.client import CrmClient, CrmError, CrmRecord, CrmRetryLater
from crm_integration.models import CrmConnection, CrmModuleOption, ModuleConfig, SyncModule
from crm_integration.services.clients import crm_client_for, crm_error_message
from sync.services.crm_imports import crm_record_import
from triggers.models import (
    ActionKind,
    DealAction,
    DealEvent,
    DealLock,
    EventStatus,
    LogOutcome,
    TriggerLog,
    TriggerMode,
    TriggerPreference,
)

logger = logging.getLogger(__name__)

K = TransactionKind
S = TransactionStatus
A = ActionKind
DEAL_FIELDS = ("Deal_Name", "Stage", "Probability", "Amount", "Description", "Owner", "Account_Name", "Contact_Name")


@dataclass(frozen=True)
class Deal:
    id: str
    name: str
    stage: str
    probability: int | None
    amount: Decimal
    description: str
    owner_name: str
    account_id: str
    contact_id: str


def _lookup_id(value: Any) -> str:
    return str(value.get("id") or "") if isinstance(value, Mapping) else ""


def deal_from_record(record: CrmRecord) -> Deal:
    try:
        amount = Decimal(str(record.get("Amount"))) if record.get("Amount") not in (None, "") else Decimal(0)
    except (InvalidOperation, ValueError):
        amount = Decimal(0)
    probability = record.get("Probability")
    owner = record.get("Owner")
    return Deal(
        id=str(record.get("id") or ""),
        name=str(record.get("Deal_Name") or "").strip(),
        stage=str(record.get("Stage") or ""),
        probability=int(probability) if isinstance(probability, (int, float)) else None,
        amount=max(amount, Decimal(0)),
        description=str(record.get("Description") or ""),
        owner_name=str(owner.get("name") or "") if isinstance(owner, Mapping) else "",
        account_id=_lookup_id(record.get("Account_Name")),
        contact_id=_lookup_id(record.get("Contact_Name")),
    )


# --- the rule (pure) -----------------------------------------------------------------------------------------------


def _stage_info(stages: Sequence[Mapping[str, Any]], name: str) -> Mapping[str, Any] | None:
    return next((s for s in stages if s.get("name") == name), None)


def deal_is_won(deal: Deal, stages: Sequence[Mapping[str, Any]]) -> bool:
    info = _stage_info(stages, deal.stage)
    return deal.probability == 100 or deal.stage == "Closed Won" or (info or {}).get("forecast_type") == "Closed Won"


def deal_is_lost(deal: Deal, stages: Sequence[Mapping[str, Any]]) -> bool:
    info = _stage_info(stages, deal.stage)
    return (
        deal.probability == 0
        or deal.stage.startswith("Closed Lost")
        or (info or {}).get("forecast_type") == "Closed Lost"
    )


def _reached(stages: Sequence[Mapping[str, Any]], current: str, target: str) -> bool:
    if not target:
        return False
    if current == target:
        return True
    here, there = _stage_info(stages, current), _stage_info(stages, target)
    if here is None or there is None:
        return False
    return int(here.get("sequence") or 0) >= int(there.get("sequence") or 0)


def actions_wanted(
    *, mode: str, create_stage: str, approve_stage: str, stages: Sequence[Mapping[str, Any]], deal: Deal
) -> list[str]:
    """The actions the deal's current state asks for, in the order they apply (without regard to what was done)."""
    lost = deal_is_lost(deal, stages)
    if mode == TriggerMode.QUOTE:
        if lost:
            return [A.DECLINE_QUOTE.value]
        won = deal_is_won(deal, stages)
        if won or _reached(stages, deal.stage, approve_stage):
            return [A.CREATE_QUOTE.value, A.APPROVE_QUOTE.value]
        if _reached(stages, deal.stage, create_stage):
            return [A.CREATE_QUOTE.value]
        return []
    if mode == TriggerMode.INVOICE:
        if lost:
            return [A.VOID_INVOICE.value]
        if deal_is_won(deal, stages):
            return [A.CREATE_INVOICE.value]
    return []


# --- processing --------------------------------------------------------------------------------------------------


@dataclass
class _Run:
    event: DealEvent
    connection: CrmConnection
    deal: Deal
    notes: list[str]

    def log(self, action: str, outcome: str, reason: str, txn: Transaction | None = None) -> None:
        TriggerLog.objects.create(
            organization_id=self.event.organization_id,
            deal_id=self.deal.id,
            deal_name=self.deal.name[:255],
            action=action,
            outcome=outcome,
            reason=reason,
            txn=txn,
            event=self.event,
        )
        self.notes.append(f"{action or 'deal'}: {outcome}: {reason}")


def _finish(event: DealEvent, status: str, result: str) -> DealEvent:
    DealEvent.objects.filter(pk=event.pk).update(status=status, result=result[:2000], processed_at=timezone.now())
    event.status, event.result = status, result[:2000]
    return event


def _customer(run: _Run, client: CrmClient) -> Contact | str:
    """The Books customer of the deal (imported now if needed), or the refusal's reason."""
    config = ModuleConfig.objects.filter(connection=run.connection, module=SyncModule.CUSTOMERS, enabled=True).first()
    if config is None:
        return "customers are not synced with Zoho CRM, so the deal's customer cannot be brought into Books"
    if config.crm_module_option == CrmModuleOption.CONTACTS:
        kind, crm_id, what = "contact", run.deal.contact_id, "a Contact (customers sync Contacts)"
    else:
        kind, crm_id, what = "account", run.deal.account_id, "an Account (customers sync Accounts)"
    if not crm_id:
        return f"the deal is not associated with {what} in Zoho CRM"
    try:
        result = crm_record_import(
            organization=run.connection.organization, actor=None, kind=kind, crm_id=crm_id, client=client
        )
    except ApplicationError as exc:
        if exc.code == 1005:  # the CRM is not answering: try the whole event again later
            raise CrmRetryLater(exc.message) from None
        return f"the deal's {kind} could not be imported into Books: {exc.message}"
    if result.created:
        run.notes.append(f"imported the deal's {kind} {crm_id} into Books")
    record = result.record
    if not isinstance(record, Contact):
        return f"the deal's {kind} is not a customer in Books"
    return record


def _done(organization_id: int, deal_id: str) -> dict[str, DealAction]:
    return {
        a.action: a
        for a in DealAction.objects.filter(organization_id=organization_id, deal_id=deal_id).select_related("txn")
    }


def _claim(run: _Run, action: str, txn: Transaction | None) -> None:
    DealAction.objects.create(
        organization_id=run.event.organization_id, deal_id=run.deal.id, action=action, txn=txn, event=run.event
    )


def _new_document(run: _Run, kind: str, customer: Contact, action: str) -> Transaction:
    deal = run.deal
    txn = transaction_create(
        organization=run.connection.organization,
        actor=None,
        kind=kind,
        data=TransactionInput(
            contact_id=customer.pk,
            date=timezone.localdate(),
            salesperson_name=deal.owner_name[:200],
            lines=[
                LineInput(
                    name=(deal.name or f"Deal {deal.id}")[:200],
                    description=deal.description,
                    quantity=Decimal(1),
                    rate=deal.amount,
                )
            ],
        ),
        zcrm_potential_id=deal.id,
        zcrm_potential_name=deal.name[:255],
        potential_locked=True,
    )
    _claim(run, action, txn)
    run.log(action, LogOutcome.DONE, f"{K(kind).label} {txn.number} created as a draft", txn)
    return txn


def _no_longer_reacts(txn: Transaction) -> str:
    return (
        f"{K(txn.kind).label.lower()} {txn.number} is {S(txn.status).label.lower()}; once a quote or invoice is "
        "marked sent it no longer reacts to changes of the deal"
    )


def _apply(run: _Run, action: str, done: dict[str, DealAction], customer: Contact | str | None) -> None:
    if action in (A.CREATE_QUOTE, A.CREATE_INVOICE):
        if isinstance(customer, str) or customer is None:
            run.log(action, LogOutcome.REFUSED, customer or "no customer")
            return
        kind = K.QUOTE if action == A.CREATE_QUOTE else K.INVOICE
        done[action] = DealAction(action=action, txn=_new_document(run, kind, customer, action))
        return
    source = A.CREATE_QUOTE if action in (A.APPROVE_QUOTE, A.DECLINE_QUOTE) else A.CREATE_INVOICE
    made = done.get(source)
    if made is None:
        return  # nothing was created for this deal: nothing to approve, decline or void
    txn = made.txn
    if txn is None:
        run.log(
            action,
            LogOutcome.REFUSED,
            f"the {'quote' if source == A.CREATE_QUOTE else 'invoice'} made for this deal was deleted",
        )
        return
    txn = Transaction.objects.select_for_update().get(pk=txn.pk)
    if action == A.APPROVE_QUOTE:
        if txn.status != S.DRAFT:
            run.log(action, LogOutcome.REFUSED, _no_longer_reacts(txn), txn)
            return
        transaction_set_status(txn=txn, actor=None, status=S.ACCEPTED)
        _claim(run, action, txn)
        run.log(action, LogOutcome.DONE, f"Quote {txn.number} marked accepted", txn)
        invoice = Transaction.objects.filter(converted_from=txn, kind=K.INVOICE).first()
        if invoice is not None:
            DealAction.objects.get_or_create(
                organization_id=run.event.organization_id,
                deal_id=run.deal.id,
                action=A.CREATE_INVOICE,
                defaults={"txn": invoice, "event": run.event},
            )
            run.log(
                A.CREATE_INVOICE,
                LogOutcome.DONE,
                f"Invoice {invoice.number} created from quote {txn.number} as {S(invoice.status).label.lower()} "
                "(the organization converts accepted quotes)",
                invoice,
            )
        return
    if action == A.DECLINE_QUOTE:
        accepted_by_us = txn.status == S.ACCEPTED and A.APPROVE_QUOTE in done
        if txn.status != S.DRAFT and not accepted_by_us:
            run.log(action, LogOutcome.REFUSED, _no_longer_reacts(txn), txn)
            return
        transaction_set_status(txn=txn, actor=None, status=S.DECLINED)
        _claim(run, action, txn)
        run.log(action, LogOutcome.DONE, f"Quote {txn.number} marked declined (the deal was lost)", txn)
        return
    # void the invoice
    if txn.status != S.DRAFT:
        run.log(action, LogOutcome.REFUSED, _no_longer_reacts(txn), txn)
        return
    transaction_set_status(txn=txn, actor=None, status=S.VOID)
    _claim(run, action, txn)
    run.log(action, LogOutcome.DONE, f"Invoice {txn.number} voided (the deal was lost)", txn)


def _latest_event_id(event: DealEvent) -> int:
    latest = (
        DealEvent.objects.filter(organization_id=event.organization_id, deal_id=event.deal_id)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    return max(int(latest or 0), event.pk)


def _covering(cutoff: int, event: DealEvent) -> DealEvent:
    """Marks the deal's other waiting events up to `cutoff` processed by this one: they were sent before the deal
    was read, so the read already answered them. Their tasks then find them processed and do nothing."""
    DealEvent.objects.filter(
        organization_id=event.organization_id,
        deal_id=event.deal_id,
        status=EventStatus.RECEIVED,
        id__lte=cutoff,
    ).exclude(pk=event.pk).update(
        status=EventStatus.PROCESSED, result=f"answered by event {event.pk}", processed_at=timezone.now()
    )
    return event


def deal_event_process(*, event_id: int, client: CrmClient | None = None) -> DealEvent | None:
    """Processes one received deal event (the body of `triggers.process_deal_event`). Idempotent: a processed event
    is returned as it is; actions already done for the deal are not done again. Raises CrmRetryLater when the CRM
    is not answering (the task retries); every other outcome is recorded on the event and in the trigger log."""
    event = DealEvent.objects.select_related("channel", "channel__connection__organization").filter(pk=event_id).first()
    if event is None:
        return None
    if event.status == EventStatus.PROCESSED:
        return event
    connection = event.channel.connection
    if not connection.is_active:
        return _finish(event, EventStatus.PROCESSED, "ignored: the integration is not active")
    preference = TriggerPreference.objects.filter(connection=connection).first()
    if preference is None or preference.mode == TriggerMode.OFF:
        return _finish(event, EventStatus.PROCESSED, "ignored: deal triggers are off")
    # Every event of this deal stored up to now was sent before the read below, so what it reads answers them too
    # (a deal changed five times while the worker was busy is read once, not five times).
    cutoff = _latest_event_id(event)
    try:
        client = client or crm_client_for(connection)
        record = client.get_record("Deals", event.deal_id, fields=list(DEAL_FIELDS))
    except CrmRetryLater:
        raise
    except (CrmError, ApplicationError) as exc:
        # Refused credentials or a request the CRM rejects: retrying will not help; say so in the history.
        reason = crm_error_message(exc) if isinstance(exc, CrmError) else exc.message
        TriggerLog.objects.create(
            organization_id=event.organization_id,
            deal_id=event.deal_id,
            outcome=LogOutcome.FAILED,
            reason=f"the deal could not be read from Zoho CRM: {reason}",
            event=event,
        )
        return _finish(event, EventStatus.FAILED, f"failed: {reason}")
    if record is None:
        TriggerLog.objects.create(
            organization_id=event.organization_id,
            deal_id=event.deal_id,
            outcome=LogOutcome.REFUSED,
            reason="the deal no longer exists in Zoho CRM",
            event=event,
        )
        return _covering(
            cutoff, _finish(event, EventStatus.PROCESSED, "refused: the deal no longer exists in Zoho CRM")
        )
    run = _Run(event=event, connection=connection, deal=deal_from_record({**record, "id": event.deal_id}), notes=[])
    stages = preference.pipeline_stages or []
    wanted = actions_wanted(
        mode=preference.mode,
        create_stage=preference.create_quote_stage,
        approve_stage=preference.approve_quote_stage,
        stages=stages,
        deal=run.deal,
    )
    done = _done(event.organization_id, run.deal.id)
    pending = [a for a in wanted if a not in done]
    if not pending:
        return _covering(cutoff, _finish(event, EventStatus.PROCESSED, f"nothing to do (stage '{run.deal.stage}')"))
    customer: Contact | str | None = None
    if any(a in (A.CREATE_QUOTE, A.CREATE_INVOICE) for a in pending):
        # Outside the transaction: this may call the CRM (an import on the spot).
        try:
            customer = _customer(run, client)
        except IntegrityError:
            # Another worker imported the same account or contact (a second deal of it) at the same moment; its
            # link is committed now, so the second look finds the customer instead of importing it again.
            customer = _customer(run, client)
    with transaction.atomic():
        DealLock.objects.get_or_create(organization_id=event.organization_id, deal_id=run.deal.id)
        DealLock.objects.select_for_update().get(organization_id=event.organization_id, deal_id=run.deal.id)
        done = _done(event.organization_id, run.deal.id)  # again, under the lock
        for action in wanted:
            if action in done:
                continue
            try:
                with transaction.atomic():
                    _apply(run, action, done, customer)
            except IntegrityError:
                # Another worker did it between our read and our write (databases without row locks).
                done = _done(event.organization_id, run.deal.id)
            except ApplicationError as exc:
                run.log(action, LogOutcome.REFUSED, exc.message)
    return _covering(cutoff, _finish(event, EventStatus.PROCESSED, "; ".join(run.notes) or "nothing to do"))


def deal_event_fail(*, event_id: int, reason: str, prefix: str = "Zoho CRM could not be read: ") -> None:
    """The task gave up (the CRM kept failing, or an unexpected error): the event and the log say so, so no event
    is left waiting silently."""
    event = DealEvent.objects.filter(pk=event_id).first()
    if event is None or event.status == EventStatus.PROCESSED:
        return
    _finish(event, EventStatus.FAILED, reason)
    TriggerLog.objects.create(
        organization_id=event.organization_id,
        deal_id=event.deal_id,
        outcome=LogOutcome.FAILED,
        reason=f"{prefix}{reason}",
        event=event,
    )

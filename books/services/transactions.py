"""Quotes, sales orders, invoices, purchase orders and expenses: creation with lines and totals, per-org
numbering, status changes, conversion of a quote to an invoice, and the CRM deal association."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from books.errors import ApplicationError, Conflict
from books.models import (
    NUMBER_PREFIX,
    STATUSES_BY_KIND,
    Contact,
    ContactType,
    CustomFieldEntity,
    DocumentSequence,
    Item,
    Organization,
    QuoteConversion,
    Transaction,
    TransactionKind,
    TransactionLine,
    TransactionStatus,
    User,
)
from books.money import money_round, parse_decimal
from books.services.custom_fields import custom_field_values_clean, merge_custom_values

K = TransactionKind
S = TransactionStatus

# Which status each status may move to, per kind. Anything else is refused with the reason.
TRANSITIONS: dict[str, dict[str, tuple[str, ...]]] = {
    K.QUOTE: {
        S.DRAFT: (S.SENT, S.ACCEPTED, S.DECLINED),
        S.SENT: (S.ACCEPTED, S.DECLINED, S.EXPIRED),
        S.ACCEPTED: (S.INVOICED, S.DECLINED, S.SENT),
        S.DECLINED: (S.ACCEPTED, S.SENT),
        S.EXPIRED: (S.SENT, S.ACCEPTED, S.DECLINED),
        S.INVOICED: (),
    },
    K.SALES_ORDER: {S.DRAFT: (S.OPEN, S.VOID), S.OPEN: (S.INVOICED, S.VOID), S.VOID: (S.DRAFT,), S.INVOICED: ()},
    K.INVOICE: {
        S.DRAFT: (S.SENT, S.VOID),
        S.SENT: (S.PAID, S.VOID, S.OVERDUE),
        S.OVERDUE: (S.PAID, S.VOID),
        S.PAID: (),
        S.VOID: (S.DRAFT,),
    },
    K.PURCHASE_ORDER: {
        S.DRAFT: (S.OPEN, S.CANCELLED),
        S.OPEN: (S.BILLED, S.CANCELLED),
        S.CANCELLED: (S.DRAFT,),
        S.BILLED: (),
    },
    K.EXPENSE: {S.UNBILLED: (S.INVOICED,), S.INVOICED: (), S.NON_BILLABLE: ()},
}
INITIAL_STATUS: dict[str, str] = {
    K.QUOTE: S.DRAFT,
    K.SALES_ORDER: S.DRAFT,
    K.INVOICE: S.DRAFT,
    K.PURCHASE_ORDER: S.DRAFT,
}
# Statuses in which the document itself can still be edited.
EDITABLE: dict[str, tuple[str, ...]] = {
    K.QUOTE: (S.DRAFT, S.SENT, S.ACCEPTED, S.DECLINED, S.EXPIRED),
    K.SALES_ORDER: (S.DRAFT, S.OPEN),
    K.INVOICE: (S.DRAFT, S.SENT, S.OVERDUE),
    K.PURCHASE_ORDER: (S.DRAFT, S.OPEN),
    K.EXPENSE: (S.UNBILLED, S.NON_BILLABLE),
}
CONTACT_TYPE_FOR: dict[str, str] = {
    K.QUOTE: ContactType.CUSTOMER,
    K.SALES_ORDER: ContactType.CUSTOMER,
    K.INVOICE: ContactType.CUSTOMER,
    K.PURCHASE_ORDER: ContactType.VENDOR,
    K.EXPENSE: ContactType.VENDOR,
}
MAX_LINES = 200
MAX_QUANTITY = Decimal(10) ** 11
MAX_RATE = Decimal(10) ** 12
MAX_AMOUNT = Decimal(10) ** 14


@dataclass(frozen=True)
class LineInput:
    name: str = ""
    item_id: Any = None
    description: str = ""
    quantity: Any = Decimal("1")
    rate: Any = None
    tax_percentage: Any = Decimal("0")


@dataclass
class TransactionInput:
    """What a page, the API or a trigger gives to create or edit a transaction."""

    contact_id: Any = None
    date: datetime.date | None = None
    due_date: datetime.date | None = None
    lines: Sequence[LineInput] = ()
    reference_number: str = ""
    salesperson_name: str = ""
    notes: str = ""
    terms: str = ""
    currency_code: str = ""
    custom_fields: Mapping[str, Any] = field(default_factory=dict)
    # expenses
    customer_id: Any = None
    account_name: str = ""
    is_billable: bool = False
    amount: Any = None


def _decimal(value: Any, name: str, *, default: Decimal | None = None) -> Decimal:
    if value in (None, "") and default is not None:
        return default
    try:
        return parse_decimal(value)
    except ValueError:
        raise ApplicationError(f"{name}: '{str(value)[:40]}' is not a number", field=name) from None


def _contact(organization: Organization, contact_id: Any, contact_type: str, name: str) -> Contact:
    noun = "customer" if contact_type == ContactType.CUSTOMER else "vendor"
    if contact_id in (None, ""):
        raise ApplicationError(f"{name}: a {noun} is required", field=name)
    try:
        return Contact.objects.get(organization=organization, contact_type=contact_type, pk=int(contact_id))
    except (Contact.DoesNotExist, TypeError, ValueError):
        raise ApplicationError(
            f"{name}: no {noun} with id {str(contact_id)[:40]} in this organization", field=name, status=404, code=1002
        ) from None


def _lines(organization: Organization, lines: Sequence[LineInput]) -> list[TransactionLine]:
    if not lines:
        raise ApplicationError("line_items: at least one line is required", field="line_items")
    if len(lines) > MAX_LINES:
        raise ApplicationError(f"line_items: at most {MAX_LINES} lines", field="line_items")
    item_ids = {int(line.item_id) for line in lines if line.item_id not in (None, "") and str(line.item_id).isdigit()}
    items = {i.pk: i for i in Item.objects.filter(organization=organization, pk__in=item_ids)}
    result = []
    for index, line in enumerate(lines):
        prefix = f"line_items[{index}]"
        item = None
        if line.item_id not in (None, ""):
            item = items.get(int(line.item_id)) if str(line.item_id).isdigit() else None
            if item is None:
                raise ApplicationError(
                    f"{prefix}.item_id: no item with id {str(line.item_id)[:40]} in this organization",
                    field=f"{prefix}.item_id",
                )
        name = (line.name or (item.name if item else "")).strip()
        if not name:
            raise ApplicationError(f"{prefix}.name: an item or a line name is required", field=f"{prefix}.name")
        quantity = _decimal(line.quantity, f"{prefix}.quantity", default=Decimal("1"))
        if quantity <= 0:
            raise ApplicationError(f"{prefix}.quantity: must be greater than 0", field=f"{prefix}.quantity")
        rate = _decimal(line.rate, f"{prefix}.rate", default=item.rate if item else Decimal("0"))
        if rate < 0:
            raise ApplicationError(f"{prefix}.rate: must not be negative", field=f"{prefix}.rate")
        tax = _decimal(line.tax_percentage, f"{prefix}.tax_percentage", default=Decimal("0"))
        if not Decimal("0") <= tax <= Decimal("100"):
            raise ApplicationError(
                f"{prefix}.tax_percentage: must be between 0 and 100", field=f"{prefix}.tax_percentage"
            )
        if quantity.as_tuple().exponent < -3:  # type: ignore[operator]
            raise ApplicationError(f"{prefix}.quantity: at most 3 decimal places", field=f"{prefix}.quantity")
        # The columns' precision (quantity 14,3; rate 14,2; amount 16,2): PostgreSQL would refuse larger values
        # with an error instead of a message.
        if quantity >= MAX_QUANTITY:
            raise ApplicationError(f"{prefix}.quantity: must be less than {MAX_QUANTITY:,}", field=f"{prefix}.quantity")
        if money_round(rate) >= MAX_RATE:
            raise ApplicationError(f"{prefix}.rate: must be less than {MAX_RATE:,}", field=f"{prefix}.rate")
        if money_round(quantity * money_round(rate)) >= MAX_AMOUNT:
            raise ApplicationError(f"{prefix}.rate: the line amount is too large", field=f"{prefix}.rate")
        if len(name) > 200:
            raise ApplicationError(f"{prefix}.name: at most 200 characters", field=f"{prefix}.name")
        result.append(
            TransactionLine(
                position=index,
                item=item,
                name=name,
                description=(line.description or (item.description if item and not line.name else "")).strip(),
                quantity=quantity,
                rate=money_round(rate),
                tax_percentage=tax,
                amount=money_round(quantity * money_round(rate)),
            )
        )
    return result


def _totals(txn: Transaction, lines: Sequence[TransactionLine]) -> None:
    sub_total = sum((line.amount for line in lines), Decimal("0"))
    tax_total = sum((money_round(line.amount * line.tax_percentage / 100) for line in lines), Decimal("0"))
    txn.sub_total = money_round(sub_total)
    txn.tax_total = money_round(tax_total)
    txn.total = money_round(sub_total + tax_total)
    if txn.total >= Decimal("10") ** 14:
        raise ApplicationError("line_items: the total is too large", field="line_items")


def _next_number(organization: Organization, kind: str) -> str:
    sequence, _ = DocumentSequence.objects.select_for_update().get_or_create(
        organization=organization, kind=kind, defaults={"prefix": NUMBER_PREFIX[kind]}
    )
    while True:
        number = f"{sequence.prefix}{sequence.next_number:05d}"
        sequence.next_number += 1
        if not Transaction.objects.filter(organization=organization, kind=kind, number=number).exists():
            break
    sequence.save(update_fields=["next_number"])
    return number


def _header(txn: Transaction, data: TransactionInput, organization: Organization) -> None:
    kind = txn.kind
    txn.date = data.date or txn.date or timezone.localdate()
    if not isinstance(txn.date, datetime.date):
        raise ApplicationError("date: must be a date (YYYY-MM-DD)", field="date")
    txn.due_date = data.due_date
    if txn.due_date and txn.due_date < txn.date:
        field_name = "expiry_date" if kind == K.QUOTE else "due_date"
        raise ApplicationError(f"{field_name}: must not be before the date {txn.date.isoformat()}", field=field_name)
    if kind == K.EXPENSE:
        if data.contact_id not in (None, ""):
            txn.contact = _contact(organization, data.contact_id, ContactType.VENDOR, "vendor_id")
        else:
            txn.contact = None
        txn.customer = (
            _contact(organization, data.customer_id, ContactType.CUSTOMER, "customer_id")
            if data.customer_id not in (None, "")
            else None
        )
        txn.account_name = (data.account_name or "").strip()
        if not txn.account_name:
            raise ApplicationError("account_name: the expense account is required", field="account_name")
        if len(txn.account_name) > 100:
            raise ApplicationError("account_name: at most 100 characters", field="account_name")
        txn.is_billable = bool(data.is_billable)
        if txn.is_billable and txn.customer is None:
            raise ApplicationError("customer_id: a billable expense needs a customer", field="customer_id")
    else:
        name = "vendor_id" if CONTACT_TYPE_FOR[kind] == ContactType.VENDOR else "customer_id"
        txn.contact = _contact(organization, data.contact_id, CONTACT_TYPE_FOR[kind], name)
    for attr, limit in (("reference_number", 100), ("salesperson_name", 200)):
        value = (getattr(data, attr) or "").strip()
        if len(value) > limit:
            raise ApplicationError(f"{attr}: at most {limit} characters", field=attr)
        setattr(txn, attr, value)
    txn.notes = data.notes or ""
    txn.terms = data.terms or ""
    currency = (
        data.currency_code or (txn.contact.currency_code if txn.contact else "") or organization.base_currency
    ).upper()
    if len(currency) != 3 or not currency.isalpha():
        raise ApplicationError("currency_code: must be a 3-letter ISO 4217 code such as USD", field="currency_code")
    txn.currency_code = currency
    if data.custom_fields:
        txn.custom_fields = merge_custom_values(
            txn.custom_fields or {},
            custom_field_values_clean(
                organization=organization, entity=CustomFieldEntity(kind).value, values=data.custom_fields
            ),
        )


def _expense_lines(data: TransactionInput) -> list[LineInput]:
    if data.lines:
        return list(data.lines)
    if data.amount in (None, ""):
        raise ApplicationError("amount: the expense amount is required", field="amount")
    return [LineInput(name=data.account_name or "Expense", rate=data.amount, quantity=Decimal("1"))]


@dataclass(frozen=True)
class Totals:
    sub_total: Decimal
    tax_total: Decimal
    total: Decimal


def transaction_totals_preview(*, organization: Organization, kind: str, lines: Sequence[LineInput]) -> Totals:
    """The totals the lines would give, computed exactly as on save (for a form's running totals). Raises
    ApplicationError for a line that would be refused."""
    txn = Transaction(organization=organization, kind=kind)
    _totals(txn, _lines(organization, lines))
    return Totals(sub_total=txn.sub_total, tax_total=txn.tax_total, total=txn.total)


@transaction.atomic
def transaction_create(
    *,
    organization: Organization,
    actor: User | None,
    kind: str,
    data: TransactionInput,
    number: str = "",
    zcrm_potential_id: str = "",
    zcrm_potential_name: str = "",
    potential_locked: bool = False,
    converted_from: Transaction | None = None,
) -> Transaction:
    if kind not in K.values:
        raise ApplicationError(f"kind: '{kind}' is not one of {', '.join(K.values)}", field="kind")
    txn = Transaction(organization=organization, kind=kind, created_by=actor, converted_from=converted_from)
    _header(txn, data, organization)
    lines = _lines(organization, _expense_lines(data) if kind == K.EXPENSE else data.lines)
    _totals(txn, lines)
    if kind == K.EXPENSE:
        txn.status = S.UNBILLED if txn.is_billable else S.NON_BILLABLE
    else:
        txn.status = INITIAL_STATUS[kind]
    txn.zcrm_potential_id = zcrm_potential_id
    txn.zcrm_potential_name = zcrm_potential_name
    txn.potential_locked = potential_locked and bool(zcrm_potential_id)
    number = (number or "").strip()
    if number:
        if len(number) > 30:
            raise ApplicationError("number: at most 30 characters", field="number")
        if Transaction.objects.filter(organization=organization, kind=kind, number=number).exists():
            raise Conflict(f"number: {number} is already used by another {K(kind).label.lower()}", field="number")
        txn.number = number
    else:
        txn.number = _next_number(organization, kind)
    try:
        with transaction.atomic():
            txn.save()
    except IntegrityError as exc:
        raise Conflict(f"number: {txn.number} is already used", field="number") from exc
    for line in lines:
        line.transaction = txn
    TransactionLine.objects.bulk_create(lines)
    return txn


@transaction.atomic
def transaction_update(*, txn: Transaction, actor: User | None, data: TransactionInput) -> Transaction:
    txn = Transaction.objects.select_for_update().get(pk=txn.pk)
    if txn.status not in EDITABLE[txn.kind]:
        raise Conflict(
            f"status: a {S(txn.status).label.lower()} {K(txn.kind).label.lower()} cannot be edited", field="status"
        )
    organization = txn.organization
    _header(txn, data, organization)
    lines = _lines(organization, _expense_lines(data) if txn.kind == K.EXPENSE else data.lines)
    _totals(txn, lines)
    if txn.kind == K.EXPENSE and txn.status != S.INVOICED:
        txn.status = S.UNBILLED if txn.is_billable else S.NON_BILLABLE
    txn.save()
    txn.lines.all().delete()
    for line in lines:
        line.transaction = txn
    TransactionLine.objects.bulk_create(lines)
    return txn


def _a(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"


def _check_transition(txn: Transaction, status: str) -> None:
    if status not in STATUSES_BY_KIND[txn.kind]:
        allowed = ", ".join(STATUSES_BY_KIND[txn.kind])
        raise ApplicationError(
            f"status: '{status}' is not a status of {_a(K(txn.kind).label.lower())} ({allowed})", field="status"
        )
    if status == txn.status:
        return
    if status not in TRANSITIONS[txn.kind].get(txn.status, ()):
        raise Conflict(
            f"status: {_a(S(txn.status).label.lower())} {K(txn.kind).label.lower()} cannot be marked "
            f"{S(status).label.lower()}",
            field="status",
        )


@transaction.atomic
def transaction_set_status(*, txn: Transaction, actor: User | None, status: str) -> Transaction:
    """Move a transaction to `status` if its kind allows it from the current one. Idempotent: setting the
    current status again changes nothing. Accepting a quote applies the org's quote conversion preference."""
    txn = Transaction.objects.select_for_update().select_related("organization").get(pk=txn.pk)
    _check_transition(txn, status)
    if status == txn.status:
        return txn
    if status == S.INVOICED and txn.kind == K.QUOTE:
        raise ApplicationError("status: convert the quote to an invoice to mark it invoiced", field="status")
    txn.status = status
    txn.save(update_fields=["status", "updated_at"])
    if txn.kind == K.QUOTE and status == S.ACCEPTED:
        preference = txn.organization.quote_conversion
        if preference != QuoteConversion.OFF:
            quote_convert_to_invoice(quote=txn, actor=actor, send=preference == QuoteConversion.SENT)
            txn.refresh_from_db()
    return txn


@transaction.atomic
def quote_convert_to_invoice(*, quote: Transaction, actor: User | None, send: bool = False) -> Transaction:
    """Create an invoice from a quote (once: a second call returns the invoice already made)."""
    quote = Transaction.objects.select_for_update().get(pk=quote.pk)
    if quote.kind != K.QUOTE:
        raise ApplicationError("estimate_id: only a quote can be converted to an invoice", field="estimate_id")
    existing = Transaction.objects.filter(converted_from=quote, kind=K.INVOICE).first()
    if existing is not None:
        return existing
    if quote.status in (S.DECLINED, S.EXPIRED):
        raise Conflict(
            f"status: a {S(quote.status).label.lower()} quote cannot be converted to an invoice", field="status"
        )
    lines = [
        LineInput(
            name=line.name,
            item_id=line.item_id,
            description=line.description,
            quantity=line.quantity,
            rate=line.rate,
            tax_percentage=line.tax_percentage,
        )
        for line in quote.lines.all()
    ]
    invoice = transaction_create(
        organization=quote.organization,
        actor=actor,
        kind=K.INVOICE,
        data=TransactionInput(
            contact_id=quote.contact_id,
            date=timezone.localdate(),
            lines=lines,
            reference_number=quote.number,
            salesperson_name=quote.salesperson_name,
            notes=quote.notes,
            terms=quote.terms,
            currency_code=quote.currency_code,
        ),
        zcrm_potential_id=quote.zcrm_potential_id,
        zcrm_potential_name=quote.zcrm_potential_name,
        potential_locked=quote.potential_locked,
        converted_from=quote,
    )
    quote.status = S.INVOICED
    quote.save(update_fields=["status", "updated_at"])
    if send:
        transaction_set_status(txn=invoice, actor=actor, status=S.SENT)
        invoice.refresh_from_db()
    return invoice


@transaction.atomic
def transaction_associate_potential(
    *, txn: Transaction, actor: User | None, potential_id: str, potential_name: str, locked: bool = False
) -> Transaction:
    txn = Transaction.objects.select_for_update().get(pk=txn.pk)
    potential_id = (potential_id or "").strip()
    if not potential_id or len(potential_id) > 40:
        raise ApplicationError(
            "zcrm_potential_id: a deal id is required (at most 40 characters)", field="zcrm_potential_id"
        )
    if txn.kind == K.PURCHASE_ORDER:
        raise ApplicationError(
            "zcrm_potential_id: purchase orders cannot be associated with a deal", field="zcrm_potential_id"
        )
    if txn.potential_locked and txn.zcrm_potential_id != potential_id:
        raise Conflict(
            "zcrm_potential_id: this transaction was created by a deal trigger; its deal cannot be changed",
            field="zcrm_potential_id",
        )
    txn.zcrm_potential_id = potential_id
    txn.zcrm_potential_name = (potential_name or "")[:255]
    txn.potential_locked = txn.potential_locked or locked
    txn.save(update_fields=["zcrm_potential_id", "zcrm_potential_name", "potential_locked", "updated_at"])
    return txn


@transaction.atomic
def transaction_dissociate_potential(*, txn: Transaction, actor: User | None) -> Transaction:
    txn = Transaction.objects.select_for_update().get(pk=txn.pk)
    if txn.potential_locked:
        raise Conflict(
            "zcrm_potential_id: potentials that were associated using triggers cannot be dissociated",
            field="zcrm_potential_id",
        )
    txn.zcrm_potential_id = ""
    txn.zcrm_potential_name = ""
    txn.save(update_fields=["zcrm_potential_id", "zcrm_potential_name", "updated_at"])
    return txn


def transaction_delete(*, txn: Transaction, actor: User | None) -> None:
    if txn.potential_locked:
        raise Conflict("transaction: a transaction created by a deal trigger cannot be deleted; void it instead")
    if txn.kind == K.INVOICE and txn.status not in (S.DRAFT, S.VOID):
        raise Conflict("status: only a draft or void invoice can be deleted", field="status")
    txn.delete()


def invoices_mark_overdue(*, today: datetime.date | None = None) -> int:
    """Sent invoices past their due date become overdue. Idempotent; run by beat."""
    today = today or timezone.localdate()
    return Transaction.objects.filter(kind=K.INVOICE, status=S.SENT, due_date__lt=today).update(
        status=S.OVERDUE, updated_at=timezone.now()
    )


@transaction.atomic
def invoice_create_from_quote(
    *,
    quote: Transaction,
    actor: User | None,
    data: TransactionInput,
    number: str = "",
    field: str = "estimate_id",
) -> Transaction:
    """Create an invoice linked to a quote, as Zoho's API does when an invoice's create body names the estimate
    (`invoiced_estimate_id` or `estimate_id`). What the body leaves out comes from the quote: customer, lines,
    salesperson, notes, terms, currency and the deal. The quote becomes invoiced. Unlike
    `quote_convert_to_invoice` (idempotent, for triggers), a quote already invoiced is refused: a client asked
    for a new invoice. `field` is the body key the caller used, for the error messages."""
    quote = Transaction.objects.select_for_update().select_related("organization").get(pk=quote.pk)
    if quote.kind != K.QUOTE:
        raise ApplicationError(f"{field}: only an estimate can be invoiced", field=field)
    existing = Transaction.objects.filter(converted_from=quote, kind=K.INVOICE).first()
    if existing is not None or quote.status == S.INVOICED:
        suffix = f" ({existing.number})" if existing is not None else ""
        raise Conflict(f"{field}: estimate {quote.number} has already been invoiced{suffix}", field=field)
    if quote.status in (S.DECLINED, S.EXPIRED):
        raise Conflict(f"{field}: {_a(S(quote.status).label.lower())} estimate cannot be invoiced", field=field)
    if data.contact_id not in (None, "") and str(data.contact_id) != str(quote.contact_id):
        raise ApplicationError(
            f"customer_id: does not match the customer of estimate {quote.number}", field="customer_id"
        )
    lines = list(data.lines) or [
        LineInput(
            name=line.name,
            item_id=line.item_id,
            description=line.description,
            quantity=line.quantity,
            rate=line.rate,
            tax_percentage=line.tax_percentage,
        )
        for line in quote.lines.all()
    ]
    merged = replace(
        data,
        contact_id=quote.contact_id,
        lines=lines,
        reference_number=data.reference_number or quote.number,
        salesperson_name=data.salesperson_name or quote.salesperson_name,
        notes=data.notes or quote.notes,
        terms=data.terms or quote.terms,
        currency_code=data.currency_code or quote.currency_code,
    )
    invoice = transaction_create(
        organization=quote.organization,
        actor=actor,
        kind=K.INVOICE,
        data=merged,
        number=number,
        zcrm_potential_id=quote.zcrm_potential_id,
        zcrm_potential_name=quote.zcrm_potential_name,
        potential_locked=quote.potential_locked,
        converted_from=quote,
    )
    quote.status = S.INVOICED
    quote.save(update_fields=["status", "updated_at"])
    return invoice

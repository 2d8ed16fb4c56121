"""Quotes, sales orders, invoices, purchase orders and expenses: lists, detail pages, the create / edit form with
its line items, status actions and the quote → invoice conversion.

One set of views serves every kind: the URL conf passes `kind`. The line-items form works without JavaScript
(blank rows, an "Add line" submit, a remove button per row) and htmx only swaps the part that changed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, cast

from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from books import extensions
from books.errors import ApplicationError
from books.forms import (
    LINE_FIELDS,
    BaseLineFormSet,
    ExpenseForm,
    LineFormSet,
    TransactionForm,
    add_service_error,
    blank_line,
    line_formset_from_rows,
    line_rows_from_post,
    line_rows_from_transaction,
    strip_field_prefix,
)
from books.models import (
    STATUSES_BY_KIND,
    ContactType,
    CustomFieldEntity,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from books.permissions import books_page
from books.selectors import (
    TRANSACTION_SORTS,
    contact_get,
    contact_options,
    custom_field_list,
    item_get,
    item_options,
    transaction_conversions,
    transaction_get,
    transaction_list,
)
from books.services.transactions import (
    EDITABLE,
    MAX_LINES,
    TRANSITIONS,
    LineInput,
    Totals,
    TransactionInput,
    quote_convert_to_invoice,
    transaction_create,
    transaction_delete,
    transaction_dissociate_potential,
    transaction_set_status,
    transaction_totals_preview,
    transaction_update,
)
from books.views.common import (
    BooksRequest,
    custom_value_rows,
    get_or_404,
    list_query,
    page_numbers,
    paginate,
    render,
)

K = TransactionKind
S = TransactionStatus


@dataclass(frozen=True)
class KindPage:
    kind: str
    noun: str
    plural: str
    url: str
    number_label: str
    date_label: str
    due_label: str
    contact_type: str
    contact_label: str
    notes_label: str
    has_salesperson: bool = True

    def url_name(self, action: str) -> str:
        return f"books:{self.url}_{action}"

    # URL names for templates: {% url cfg.url_detail pk %}
    url_list = property(lambda self: self.url_name("list"))
    url_new = property(lambda self: self.url_name("new"))
    url_detail = property(lambda self: self.url_name("detail"))
    url_edit = property(lambda self: self.url_name("edit"))
    url_status = property(lambda self: self.url_name("status"))
    url_delete = property(lambda self: self.url_name("delete"))
    url_dissociate = property(lambda self: self.url_name("dissociate"))

    @property
    def is_sales(self) -> bool:
        return self.contact_type == ContactType.CUSTOMER

    @property
    def contact_placeholder(self) -> str:
        return "Select a customer" if self.is_sales else "Select a vendor"

    @property
    def contact_param(self) -> str:
        return "customer_id" if self.is_sales else "vendor_id"

    def form_labels(self) -> dict[str, str]:
        return {
            "contact_id": self.contact_label,
            "number": self.number_label,
            "date": self.date_label,
            "due_date": self.due_label,
            "notes": self.notes_label,
        }


KINDS: dict[str, KindPage] = {
    K.QUOTE: KindPage(
        K.QUOTE, "Quote", "Quotes", "quote", "Quote#", "Quote Date", "Expiry Date", "customer", "Customer Name",
        "Customer Notes",
    ),
    K.SALES_ORDER: KindPage(
        K.SALES_ORDER, "Sales Order", "Sales Orders", "salesorder", "Sales Order#", "Sales Order Date",
        "Expected Shipment Date", "customer", "Customer Name", "Customer Notes",
    ),
    K.INVOICE: KindPage(
        K.INVOICE, "Invoice", "Invoices", "invoice", "Invoice#", "Invoice Date", "Due Date", "customer",
        "Customer Name", "Customer Notes",
    ),
    K.PURCHASE_ORDER: KindPage(
        K.PURCHASE_ORDER, "Purchase Order", "Purchase Orders", "purchaseorder", "Purchase Order#", "Date",
        "Expected Delivery Date", "vendor", "Vendor Name", "Notes", has_salesperson=False,
    ),
    K.EXPENSE: KindPage(
        K.EXPENSE, "Expense", "Expenses", "expense", "Expense#", "Date", "", "vendor", "Vendor", "Notes",
        has_salesperson=False,
    ),
}  # fmt: skip

# The buttons of each kind's detail page: target status → label. Shown when the service allows the move from the
# current status. Statuses set by a background job (overdue, expired) have no button; quotes are invoiced by
# "Convert to Invoice".
ACTIONS: dict[str, dict[str, str]] = {
    K.QUOTE: {S.SENT: "Mark as Sent", S.ACCEPTED: "Mark as Accepted", S.DECLINED: "Mark as Declined"},
    K.SALES_ORDER: {
        S.OPEN: "Mark as Open",
        S.INVOICED: "Mark as Invoiced",
        S.VOID: "Void",
        S.DRAFT: "Convert to Draft",
    },
    K.INVOICE: {S.SENT: "Mark as Sent", S.PAID: "Mark as Paid", S.VOID: "Void", S.DRAFT: "Convert to Draft"},
    K.PURCHASE_ORDER: {
        S.OPEN: "Mark as Open",
        S.BILLED: "Mark as Billed",
        S.CANCELLED: "Cancel",
        S.DRAFT: "Convert to Draft",
    },
    K.EXPENSE: {S.INVOICED: "Mark as Invoiced"},
}
# Moves that undo work or tell the customer "no": asked for confirmation on a page of their own (works without JS).
CONFIRM: dict[str, str] = {
    S.VOID: "Voiding keeps the document with its number but it no longer counts in receivables or sales.",
    S.CANCELLED: "The purchase order will be cancelled.",
    S.DECLINED: "The quote will be marked as declined by the customer.",
}
LINE_ERROR = re.compile(r"^line_items\[(\d+)\]\.(\w+)$")


def _actions(txn: Transaction) -> list[tuple[str, str, bool]]:
    allowed = TRANSITIONS[txn.kind].get(txn.status, ())
    return [(status, label, status in CONFIRM) for status, label in ACTIONS[txn.kind].items() if status in allowed]


TRANSACTION_SORT_OPTIONS = (
    ("-date", "Date (newest first)"),
    ("date", "Date (oldest first)"),
    ("-number", "Number (high–low)"),
    ("number", "Number (low–high)"),
    ("-total", "Amount (high–low)"),
    ("total", "Amount (low–high)"),
)

# --- list ---------------------------------------------------------------------------------------------------------


@books_page()
def transaction_list_page(request: BooksRequest, kind: str) -> HttpResponse:
    cfg = KINDS[kind]
    org = request.organization
    params = list_query(request)
    status = params["status"] if params["status"] in STATUSES_BY_KIND[kind] else ""
    sort = params["sort"] if params["sort"] in TRANSACTION_SORTS else "-date"
    contact = None
    contact_id = request.GET.get("contact_id") or ""
    if contact_id:
        contact = get_or_404(contact_get, organization=org, contact_id=contact_id, contact_type=cfg.contact_type)
    txns = transaction_list(
        organization=org, kind=kind, status=status, search=params["q"], contact_id=contact_id or None, sort=sort
    )
    if kind == K.EXPENSE:
        txns = txns.select_related("customer")
    page = paginate(request, txns)
    tabs = [("", "All"), *((s, S(s).label) for s in STATUSES_BY_KIND[kind])]
    context = {
        "cfg": cfg,
        "page": page,
        "page_numbers": page_numbers(page),
        "tabs": tabs,
        "status": status,
        "q": params["q"],
        "sort": sort,
        "sort_options": TRANSACTION_SORT_OPTIONS,
        "filter_contact": contact,
        "is_filtered": bool(status or params["q"] or contact),
    }
    return render(request, "books/transactions/list.html", context, partial="list")


# --- detail and actions ---------------------------------------------------------------------------------------------


def _get(request: BooksRequest, kind: str, pk: int) -> Transaction:
    return get_or_404(transaction_get, organization=request.organization, transaction_id=pk, kind=kind)


@books_page()
def transaction_detail(request: BooksRequest, kind: str, pk: int) -> HttpResponse:
    cfg = KINDS[kind]
    txn = _get(request, kind, pk)
    definitions = custom_field_list(organization=request.organization, entity=CustomFieldEntity(kind).value)
    conversions = transaction_conversions(txn=txn) if kind == K.QUOTE else []
    context = {
        "cfg": cfg,
        "txn": txn,
        "lines": list(txn.lines.all()),
        "actions": _actions(txn),
        "can_edit": txn.status in EDITABLE[kind],
        "can_convert": kind == K.QUOTE and not conversions and txn.status not in (S.DECLINED, S.EXPIRED, S.INVOICED),
        "conversions": conversions,
        "custom_values": custom_value_rows(definitions, txn.custom_fields),
    }
    return render(request, "books/transactions/detail.html", context)


@books_page()
@require_http_methods(["GET", "POST"])
def transaction_status(request: BooksRequest, kind: str, pk: int, state: str) -> HttpResponse:
    cfg = KINDS[kind]
    txn = _get(request, kind, pk)
    if request.method == "GET":
        if state not in CONFIRM or state not in ACTIONS[kind]:
            return redirect(cfg.url_name("detail"), pk=txn.pk)
        context = {
            "title": f"{ACTIONS[kind][state]} {cfg.noun.lower()} {txn.number}?",
            "message": CONFIRM[state],
            "confirm_label": ACTIONS[kind][state],
            "cancel_url": reverse(cfg.url_name("detail"), args=[txn.pk]),
        }
        return render(request, "books/confirm.html", context)
    try:
        updated = transaction_set_status(txn=txn, actor=request.user, status=state)
    except ApplicationError as exc:
        messages.error(request, strip_field_prefix(exc.message, exc.field))
        return redirect(cfg.url_name("detail"), pk=txn.pk)
    messages.success(request, f"{cfg.noun} status has been changed to {S(updated.status).label}.")
    if kind == K.QUOTE and updated.status == S.INVOICED:
        invoice = next(iter(transaction_conversions(txn=updated)), None)
        if invoice is not None:
            messages.info(
                request,
                f"Invoice {invoice.number} has been created from this quote "
                f"({S(invoice.status).label.lower()}), as your quote preference says.",
            )
    return redirect(cfg.url_name("detail"), pk=txn.pk)


@books_page()
@require_POST
def quote_convert(request: BooksRequest, pk: int) -> HttpResponse:
    quote = _get(request, K.QUOTE, pk)
    try:
        invoice = quote_convert_to_invoice(quote=quote, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, strip_field_prefix(exc.message, exc.field))
        return redirect("books:quote_detail", pk=quote.pk)
    messages.success(request, f"Quote {quote.number} has been converted to invoice {invoice.number}.")
    return redirect("books:invoice_detail", pk=invoice.pk)


@books_page()
@require_POST
def transaction_dissociate(request: BooksRequest, kind: str, pk: int) -> HttpResponse:
    cfg = KINDS[kind]
    txn = _get(request, kind, pk)
    try:
        transaction_dissociate_potential(txn=txn, actor=request.user)
        messages.success(request, "The deal has been dissociated.")
    except ApplicationError as exc:
        messages.error(request, strip_field_prefix(exc.message, exc.field))
    return redirect(cfg.url_name("detail"), pk=txn.pk)


@books_page()
@require_http_methods(["GET", "POST"])
def transaction_delete_page(request: BooksRequest, kind: str, pk: int) -> HttpResponse:
    cfg = KINDS[kind]
    txn = _get(request, kind, pk)
    if request.method == "POST":
        try:
            transaction_delete(txn=txn, actor=request.user)
        except ApplicationError as exc:
            messages.error(request, strip_field_prefix(exc.message, exc.field))
            return redirect(cfg.url_name("detail"), pk=txn.pk)
        messages.success(request, f"{cfg.noun} {txn.number} has been deleted.")
        return redirect(cfg.url_name("list"))
    context = {
        "title": f"Delete {cfg.noun.lower()} {txn.number}?",
        "message": f"The {cfg.noun.lower()} and its lines will be deleted. This cannot be undone.",
        "confirm_label": "Delete",
        "cancel_url": reverse(cfg.url_name("detail"), args=[txn.pk]),
    }
    return render(request, "books/confirm.html", context)


# --- the form -----------------------------------------------------------------------------------------------------

# Submit buttons that re-render the form instead of saving it (each also works without JavaScript).
FORM_ACTIONS = ("_add_line", "_remove_line", "_fill_line", "_find_contact", "_find_customer", "_totals")


def _form_action(post: QueryDict) -> str:
    return next((name for name in FORM_ACTIONS if name in post), "")


def _index(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _apply_line_action(request: BooksRequest, action: str, rows: list[dict[str, str]]) -> list[dict[str, str]]:
    if action == "_add_line" and len(rows) < MAX_LINES:
        rows.append(blank_line())
    elif action == "_remove_line":
        index = _index(request.POST.get("_remove_line"))
        if 0 <= index < len(rows):
            del rows[index]
        if not rows:
            rows.append(blank_line())
    elif action == "_fill_line":
        index = _index(request.POST.get("_fill_line"))
        if 0 <= index < len(rows) and rows[index]["item_id"]:
            try:
                item = item_get(organization=request.organization, item_id=rows[index]["item_id"])
            except ApplicationError:
                return rows  # an unknown item is reported when the form is saved
            rows[index].update(name=item.name, rate=f"{item.rate:f}", description=item.description)
    return rows


def _line_inputs(rows: list[dict[str, str]]) -> list[LineInput]:
    return [
        LineInput(
            item_id=row["item_id"] or None,
            name=row["name"],
            description=row["description"],
            quantity=row["quantity"] or None,
            rate=row["rate"] or None,
            tax_percentage=row["tax_percentage"] or None,
        )
        for row in rows
        if any(row[f].strip() for f in ("item_id", "name", "rate"))
    ]


def _preview(request: BooksRequest, kind: str, rows: list[dict[str, str]]) -> Totals | None:
    lines = _line_inputs(rows)
    if not lines:
        return None
    try:
        return transaction_totals_preview(organization=request.organization, kind=kind, lines=lines)
    except ApplicationError:
        return None


def _rows_of(formset: BaseLineFormSet) -> list[dict[str, str]]:
    return [{f: str(form[f].value() or "") for f in LINE_FIELDS} for form in formset.forms]


def _put_line_error(formset: BaseLineFormSet, row_of: list[int], exc: ApplicationError) -> bool:
    """Put a service error about `line_items[i].field` on that row's field. False when it is not a line error."""
    match = LINE_ERROR.match(exc.field or "")
    if match is None:
        return False
    index, name = int(match.group(1)), match.group(2)
    if index >= len(row_of):
        return False
    form = formset.forms[row_of[index]]
    message = strip_field_prefix(exc.message, exc.field)
    form.add_error(name if name in LINE_FIELDS else None, message)
    return True


def _check_lines(
    request: BooksRequest, kind: str, data: TransactionInput, formset: BaseLineFormSet, row_of: list[int]
) -> None:
    if not data.lines:
        return
    try:
        transaction_totals_preview(organization=request.organization, kind=kind, lines=data.lines)
    except ApplicationError as exc:
        _put_line_error(formset, row_of, exc)


def _picker(request: BooksRequest, contact_type: str, search: str, selected: Any) -> dict[str, Any]:
    options, more = contact_options(
        organization=request.organization, contact_type=contact_type, search=search, selected_id=selected
    )
    return {"options": options, "more": more, "search": search, "selected": str(selected or "")}


@books_page()
@require_http_methods(["GET", "POST"])
def transaction_form(request: BooksRequest, kind: str, pk: int | None = None) -> HttpResponse:
    cfg = KINDS[kind]
    txn = _get(request, kind, pk) if pk is not None else None
    if txn is not None and txn.status not in EDITABLE[kind]:
        messages.error(request, f"A {S(txn.status).label.lower()} {cfg.noun.lower()} cannot be edited.")
        return redirect(cfg.url_name("detail"), pk=txn.pk)
    if kind == K.EXPENSE:
        return _expense_form(request, cfg, txn)
    org = request.organization
    definitions = custom_field_list(organization=org, entity=CustomFieldEntity(kind).value)
    form_kwargs: dict[str, Any] = {"labels": cfg.form_labels(), "definitions": definitions, "instance": txn}
    status = 200
    partial = None
    if request.method == "POST":
        form = TransactionForm(request.POST, **form_kwargs)
        action = _form_action(request.POST)
        if action:
            form.hide_errors = True
            rows = _apply_line_action(request, action, line_rows_from_post(request.POST))
            formset = line_formset_from_rows(rows)
            partial = {"_find_contact": "contact_picker", "_totals": "totals"}.get(action, "lines")
        else:
            formset = cast(BaseLineFormSet, LineFormSet(request.POST, prefix="lines"))
            forms_ok = form.is_valid()
            lines_ok = formset.is_valid()
            if forms_ok and lines_ok:
                numbered = formset.non_blank_forms()
                data = TransactionInput(
                    contact_id=form.cleaned_data["contact_id"] or None,
                    date=form.cleaned_data["date"],
                    due_date=form.cleaned_data["due_date"],
                    lines=[line_form.line_input() for _, line_form in numbered],
                    reference_number=form.cleaned_data["reference_number"],
                    salesperson_name=form.cleaned_data["salesperson_name"] if cfg.has_salesperson else "",
                    notes=form.cleaned_data["notes"],
                    terms=form.cleaned_data["terms"],
                    custom_fields=form.custom_values(),
                )
                try:
                    if txn is None:
                        txn = transaction_create(
                            organization=org,
                            actor=request.user,
                            kind=kind,
                            data=data,
                            number=form.cleaned_data["number"],
                        )
                        messages.success(request, f"{cfg.noun} {txn.number} has been created.")
                    else:
                        txn = transaction_update(txn=txn, actor=request.user, data=data)
                        messages.success(request, f"{cfg.noun} {txn.number} has been updated.")
                    extensions.form_saved(request=request, txn=txn, created=pk is None)
                    return redirect(cfg.url_name("detail"), pk=txn.pk)
                except ApplicationError as exc:
                    row_of = [index for index, _ in numbered]
                    if not _put_line_error(formset, row_of, exc):
                        # The service stops at its first error; show the lines' first error with the header's
                        # so the user does not fix the form one message at a time.
                        _check_lines(request, kind, data, formset, row_of)
                        add_service_error(
                            form,
                            exc,
                            aliases={"customer_id": "contact_id", "vendor_id": "contact_id", "expiry_date": "due_date"},
                        )
                        if exc.field == "line_items":
                            form.errors.pop("__all__", None)
                            formset.lines_error = strip_field_prefix(exc.message, exc.field)
            status = 400
        rows = _rows_of(formset)
    else:
        initial: dict[str, Any] = {}
        if txn is None:
            initial = {"date": timezone.localdate(), "contact_id": request.GET.get(cfg.contact_param, "")}
            form_kwargs["initial"] = initial
        form = TransactionForm(**form_kwargs)
        rows = [*line_rows_from_transaction(txn), blank_line()] if txn is not None else [blank_line(), blank_line()]
        formset = line_formset_from_rows(rows)
    items, more_items = item_options(organization=org, selected_ids=[row["item_id"] for row in rows])
    context = {
        "cfg": cfg,
        "txn": txn,
        "form": form,
        "formset": formset,
        "contact_picker": _picker(
            request, cfg.contact_type, str(request.POST.get("contact_q", "")).strip()[:100], form["contact_id"].value()
        ),
        "item_options": items,
        "more_items": more_items,
        "totals": _preview(request, kind, rows),
        "form_url": request.path,
    }
    return render(request, "books/transactions/form.html", context, partial=partial, status=status)


def _expense_form(request: BooksRequest, cfg: KindPage, txn: Transaction | None) -> HttpResponse:
    org = request.organization
    definitions = custom_field_list(organization=org, entity=CustomFieldEntity.EXPENSE)
    status = 200
    partial = None
    if request.method == "POST":
        form = ExpenseForm(request.POST, definitions=definitions, instance=txn)
        action = _form_action(request.POST)
        if action in ("_find_contact", "_find_customer"):
            form.hide_errors = True
            partial = "vendor_picker" if action == "_find_contact" else "customer_picker"
        elif form.is_valid():
            cd = form.cleaned_data
            data = TransactionInput(
                contact_id=cd["contact_id"] or None,
                customer_id=cd["customer_id"] or None,
                date=cd["date"],
                account_name=cd["account_name"],
                amount=cd["amount"],
                is_billable=cd["is_billable"],
                reference_number=cd["reference_number"],
                notes=cd["notes"],
                custom_fields=form.custom_values(),
            )
            created = txn is None
            try:
                if txn is None:
                    txn = transaction_create(organization=org, actor=request.user, kind=K.EXPENSE, data=data)
                    messages.success(request, f"Expense {txn.number} has been recorded.")
                else:
                    txn = transaction_update(txn=txn, actor=request.user, data=data)
                    messages.success(request, f"Expense {txn.number} has been updated.")
                extensions.form_saved(request=request, txn=txn, created=created)
                return redirect("books:expense_detail", pk=txn.pk)
            except ApplicationError as exc:
                add_service_error(
                    form,
                    exc,
                    aliases={
                        "vendor_id": "contact_id",
                        "line_items": "amount",
                        "line_items[0].rate": "amount",
                        "line_items[0].name": "account_name",
                    },
                )
            status = 400
        else:
            status = 400
    else:
        initial = (
            {"date": timezone.localdate(), "contact_id": request.GET.get("vendor_id", "")} if txn is None else None
        )
        form = ExpenseForm(definitions=definitions, instance=txn, **({"initial": initial} if initial else {}))
    context = {
        "cfg": cfg,
        "txn": txn,
        "form": form,
        "vendor_picker": _picker(
            request,
            ContactType.VENDOR,
            str(request.POST.get("contact_q", "")).strip()[:100],
            form["contact_id"].value(),
        ),
        "customer_picker": _picker(
            request,
            ContactType.CUSTOMER,
            str(request.POST.get("customer_q", "")).strip()[:100],
            form["customer_id"].value(),
        ),
        "form_url": request.path,
    }
    return render(request, "books/transactions/expense_form.html", context, partial=partial, status=status)

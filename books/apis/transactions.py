"""Estimates (quotes), sales orders, invoices, purchase orders and expenses, as Zoho Books v3 serves them
(reference §5). One table holds them all (books.models.Transaction); each resource here is a `Resource` that says
its URL, its keys (`estimate_id`, `estimate_number`, `customer_id` or `vendor_id`, `expiry_date` …), its list
filters, its status endpoints and its messages. Each operation is its own APIView, per resource."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from books.apis.base import BooksApi, BooksListApi, choice, parse_id, sort_order_field
from books.apis.custom_fields import (
    CustomFieldInputSerializer,
    CustomFieldsOutputMixin,
    definitions_for,
    values_from_api,
)
from books.apis.fields import (
    IdInput,
    MoneyInput,
    OutDate,
    OutId,
    OutMoney,
    OutQuantity,
    OutText,
    OutTimestamp,
    TextInput,
)
from books.errors import ApplicationError, NotFound
from books.models import ContactType, CustomFieldDefinition, Transaction, TransactionKind, TransactionStatus
from books.selectors import contact_get, transaction_get, transaction_search
from books.services.transactions import (
    CONTACT_TYPE_FOR,
    LineInput,
    TransactionInput,
    invoice_create_from_quote,
    transaction_create,
    transaction_delete,
    transaction_set_status,
    transaction_update,
)

K = TransactionKind
S = TransactionStatus


@dataclass(frozen=True)
class Resource:
    kind: str
    path: str  # URL segment, plural: "estimates"
    singular: str  # payload key: "estimate"
    label: str  # "Estimate", for messages
    number_key: str
    due_key: str | None
    filters: Mapping[str, tuple[str, ...]]
    states: Mapping[str, tuple[str, str]]  # URL state -> (status, message)
    created: str
    updated: str
    deleted: str
    integration_can_read: bool = False
    integration_can_create: bool = False
    has_potential: bool = True
    sorts: tuple[str, ...] = field(default=("date", "number", "total", "customer_name", "created_time"))

    @property
    def id_key(self) -> str:
        return f"{self.singular}_id"

    @property
    def contact_key(self) -> str:
        return "vendor_id" if CONTACT_TYPE_FOR[self.kind] == ContactType.VENDOR else "customer_id"

    @property
    def contact_noun(self) -> str:
        return "vendor" if self.contact_key == "vendor_id" else "customer"

    @property
    def sort_columns(self) -> dict[str, str]:
        """Zoho's sort_column names → the selector's."""
        columns = {name: name for name in self.sorts}
        columns[self.number_key] = "number"
        columns.pop("number", None)
        return columns


def _status_filters(*pairs: tuple[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    return {"Status.All": (), **dict(pairs)}


ESTIMATES = Resource(
    kind=K.QUOTE,
    path="estimates",
    singular="estimate",
    label="Estimate",
    number_key="estimate_number",
    due_key="expiry_date",
    filters=_status_filters(
        ("Status.Draft", (S.DRAFT,)),
        ("Status.Sent", (S.SENT,)),
        ("Status.Accepted", (S.ACCEPTED,)),
        ("Status.Declined", (S.DECLINED,)),
        ("Status.Invoiced", (S.INVOICED,)),
        ("Status.Expired", (S.EXPIRED,)),
    ),
    states={
        "sent": (S.SENT, "Estimate status has been changed to Sent"),
        "accepted": (S.ACCEPTED, "Estimate status has been changed to Accepted."),
        "declined": (S.DECLINED, "Estimate status has been changed to Declined."),
    },
    created="The estimate has been created",
    updated="Estimate has been updated",
    deleted="The estimate has been deleted.",
    integration_can_read=True,
    integration_can_create=True,
)
SALES_ORDERS = Resource(
    kind=K.SALES_ORDER,
    path="salesorders",
    singular="salesorder",
    label="Sales order",
    number_key="salesorder_number",
    due_key="shipment_date",
    filters=_status_filters(
        ("Status.Draft", (S.DRAFT,)),
        ("Status.Open", (S.OPEN,)),
        ("Status.Invoiced", (S.INVOICED,)),
        ("Status.Void", (S.VOID,)),
    ),
    states={
        "open": (S.OPEN, "Sales order status has been changed to Open."),
        "void": (S.VOID, "Sales order status has been changed to Void."),
    },
    created="Sales Order has been created.",
    updated="Sales Order has been updated.",
    deleted="Sales Order has been deleted.",
    integration_can_read=True,
    integration_can_create=True,
)
INVOICES = Resource(
    kind=K.INVOICE,
    path="invoices",
    singular="invoice",
    label="Invoice",
    number_key="invoice_number",
    due_key="due_date",
    filters=_status_filters(
        ("Status.Draft", (S.DRAFT,)),
        ("Status.Sent", (S.SENT,)),
        ("Status.OverDue", (S.OVERDUE,)),
        ("Status.Paid", (S.PAID,)),
        ("Status.Void", (S.VOID,)),
        ("Status.Unpaid", (S.SENT, S.OVERDUE)),
    ),
    states={
        "sent": (S.SENT, "Invoice status has been changed to Sent."),
        "void": (S.VOID, "Invoice status has been changed to Void."),
        "draft": (S.DRAFT, "Status of invoice changed from void to draft"),
        # Ours: Zoho records payments instead; Ledgerbridge has no payments yet, so an invoice is marked paid.
        "paid": (S.PAID, "Invoice status has been changed to Paid."),
    },
    created="The invoice has been created.",
    updated="Invoice information has been updated.",
    deleted="The invoice has been deleted.",
    integration_can_read=True,
)
PURCHASE_ORDERS = Resource(
    kind=K.PURCHASE_ORDER,
    path="purchaseorders",
    singular="purchaseorder",
    label="Purchase order",
    number_key="purchaseorder_number",
    due_key="delivery_date",
    filters=_status_filters(
        ("Status.Draft", (S.DRAFT,)),
        ("Status.Open", (S.OPEN,)),
        ("Status.Billed", (S.BILLED,)),
        ("Status.Cancelled", (S.CANCELLED,)),
    ),
    states={
        "open": (S.OPEN, "Purchase order status has been changed to Open."),
        "billed": (S.BILLED, "Purchase order status has been changed to Billed."),
        "cancelled": (S.CANCELLED, "Purchase order status has been changed to Cancelled."),
    },
    created="Purchase Order has been created.",
    updated="Purchase Order has been updated.",
    deleted="Purchase Order has been deleted.",
    integration_can_read=True,
    has_potential=False,
    sorts=("date", "number", "total", "vendor_name", "created_time"),
)
EXPENSES = Resource(
    kind=K.EXPENSE,
    path="expenses",
    singular="expense",
    label="Expense",
    number_key="expense_number",
    due_key=None,
    filters=_status_filters(
        ("Status.Unbilled", (S.UNBILLED,)),
        ("Status.Invoiced", (S.INVOICED,)),
        ("Status.Nonbillable", (S.NON_BILLABLE,)),
        ("Status.Billable", (S.UNBILLED, S.INVOICED)),
    ),
    states={},
    created="The expense has been recorded.",
    updated="Expense information has been updated.",
    deleted="The expense has been deleted.",
    sorts=("date", "number", "total", "vendor_name", "created_time"),
)
RESOURCES = (ESTIMATES, SALES_ORDERS, INVOICES, PURCHASE_ORDERS, EXPENSES)


# --- serializers ----------------------------------------------------------------------------------------------


class LineItemOutputSerializer(serializers.Serializer[Any]):
    line_item_id = OutId(source="pk")
    item_id = OutId()
    item_order = serializers.IntegerField(source="position", read_only=True)
    name = OutText()
    description = OutText()
    quantity = OutQuantity()
    rate = OutMoney()
    tax_percentage = OutQuantity()
    item_total = OutMoney(source="amount")

    class Meta:
        ref_name = "LineItem"


class LineItemInputSerializer(serializers.Serializer[Any]):
    item_id = IdInput(required=False, allow_null=True, allow_blank=True)
    line_item_id = IdInput(required=False, allow_null=True, allow_blank=True, help_text="Accepted and ignored.")
    name = TextInput(max_length=200, help_text="Defaults to the item's name.")
    description = TextInput(max_length=2000)
    quantity = serializers.DecimalField(
        max_digits=14, decimal_places=3, required=False, allow_null=True, min_value=Decimal("0"), coerce_to_string=False
    )
    rate = MoneyInput(allow_null=True, help_text="Defaults to the item's rate.")
    tax_percentage = serializers.DecimalField(
        max_digits=6,
        decimal_places=3,
        required=False,
        allow_null=True,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        coerce_to_string=False,
    )

    class Meta:
        ref_name = "LineItemInput"


class TransactionOutputBase(CustomFieldsOutputMixin):
    def custom_field_entity(self, instance: Transaction) -> str:
        return instance.kind


def _output_serializer(resource: Resource, *, with_lines: bool) -> type[TransactionOutputBase]:
    fields: dict[str, Any] = {
        resource.id_key: OutId(source="pk"),
        resource.number_key: OutText(source="number"),
        "status": OutText(),
        "date": OutDate(),
    }
    if resource.due_key:
        fields[resource.due_key] = OutDate(source="due_date") if resource.due_key != "due_date" else OutDate()
    if resource.kind == K.EXPENSE:
        fields |= {
            "vendor_id": OutId(source="contact_id"),
            "vendor_name": OutText(source="contact.contact_name"),
            "customer_id": OutId(),
            "customer_name": OutText(source="customer.contact_name"),
            "account_name": OutText(),
            "is_billable": serializers.BooleanField(read_only=True),
            "amount": OutMoney(source="total"),
        }
    else:
        noun = resource.contact_noun
        fields |= {f"{noun}_id": OutId(source="contact_id"), f"{noun}_name": OutText(source="contact.contact_name")}
    if resource.kind == K.INVOICE:
        fields["invoiced_estimate_id"] = OutId(source="converted_from_id")
    fields |= {
        "reference_number": OutText(),
        "currency_code": OutText(),
        "salesperson_name": OutText(),
        "notes": OutText(),
        "terms": OutText(),
        "sub_total": OutMoney(),
        "tax_total": OutMoney(),
        "total": OutMoney(),
    }
    if resource.has_potential:
        fields |= {
            "zcrm_potential_id": OutText(),
            "zcrm_potential_name": OutText(),
            "is_potential_locked": serializers.BooleanField(source="potential_locked", read_only=True),
        }
    if with_lines:
        fields["line_items"] = LineItemOutputSerializer(source="lines", many=True, read_only=True)
    fields |= {
        "created_time": OutTimestamp(source="created_at"),
        "last_modified_time": OutTimestamp(source="updated_at"),
    }
    name = resource.label.replace(" ", "") + ("" if with_lines else "Row")
    fields["Meta"] = type("Meta", (), {"ref_name": name})
    return type(f"{name}OutputSerializer", (TransactionOutputBase,), fields)


def _input_serializer(resource: Resource) -> type[serializers.Serializer[Any]]:
    fields: dict[str, Any] = {
        "date": serializers.DateField(required=False, allow_null=True, help_text="YYYY-MM-DD; default today."),
        "reference_number": TextInput(max_length=100),
        "salesperson_name": TextInput(max_length=200),
        "notes": TextInput(max_length=10000),
        "terms": TextInput(max_length=10000),
        "currency_code": TextInput(max_length=3, help_text="Default: the contact's currency."),
        "line_items": LineItemInputSerializer(many=True, required=False),
        "custom_fields": CustomFieldInputSerializer(many=True, required=False),
        resource.number_key: TextInput(max_length=30, help_text="On create only; default: the next number."),
    }
    if resource.due_key:
        fields[resource.due_key] = serializers.DateField(required=False, allow_null=True, help_text="YYYY-MM-DD.")
    if resource.kind == K.EXPENSE:
        fields |= {
            "vendor_id": IdInput(required=False, allow_null=True, allow_blank=True),
            "customer_id": IdInput(
                required=False, allow_null=True, allow_blank=True, help_text="Required when is_billable."
            ),
            "account_name": TextInput(max_length=100, help_text="The expense account; required."),
            "amount": MoneyInput(allow_null=True, help_text="Required unless line_items are given."),
            "is_billable": serializers.BooleanField(required=False),
        }
    else:
        fields[resource.contact_key] = IdInput(required=False, help_text="Required.")
    if resource.kind == K.INVOICE:
        help_text = "Create the invoice from this estimate (what the body leaves out comes from it)."
        fields["invoiced_estimate_id"] = IdInput(required=False, allow_null=True, allow_blank=True, help_text=help_text)
        fields["estimate_id"] = IdInput(required=False, allow_null=True, allow_blank=True, help_text=help_text)
    if resource.has_potential:
        fields["zcrm_potential_id"] = TextInput(max_length=40, help_text="The CRM deal; on create only.")
        fields["zcrm_potential_name"] = TextInput(max_length=255)
    name = resource.label.replace(" ", "") + "Input"
    fields["Meta"] = type("Meta", (), {"ref_name": name})
    return type(f"{name}Serializer", (serializers.Serializer,), fields)


def _filter_serializer(resource: Resource) -> type[serializers.Serializer[Any]]:
    fields: dict[str, Any] = {
        "filter_by": choice(tuple(resource.filters), required=False, allow_blank=True, default="Status.All"),
        "search_text": serializers.CharField(required=False, allow_blank=True, max_length=200),
        "sort_column": choice(tuple(resource.sort_columns), required=False, allow_blank=True, default="date"),
        "sort_order": sort_order_field(),
    }
    if resource.kind == K.EXPENSE:
        fields["vendor_id"] = IdInput(required=False, allow_blank=True)
        fields["customer_id"] = IdInput(required=False, allow_blank=True)
    else:
        fields[resource.contact_key] = IdInput(required=False, allow_blank=True)
    if resource.has_potential:
        fields["zcrm_potential_id"] = serializers.CharField(required=False, allow_blank=True, max_length=40)
    name = resource.label.replace(" ", "") + "ListFilter"
    fields["Meta"] = type("Meta", (), {"ref_name": name})
    return type(f"{name}Serializer", (serializers.Serializer,), fields)


# --- operations -----------------------------------------------------------------------------------------------


class TransactionApi(BooksApi):
    resource: ClassVar[Resource]
    OutputSerializer: ClassVar[Any]

    _definitions: dict[str, list[CustomFieldDefinition]] | None = None

    def definitions(self) -> dict[str, list[CustomFieldDefinition]]:
        if self._definitions is None:
            self._definitions = definitions_for(organization=self.organization, entities=(self.resource.kind,))
        return self._definitions

    def serializer_context(self, instances: Sequence[Any]) -> dict[str, Any]:
        return {"custom_field_definitions": self.definitions()}

    def path_id(self) -> str:
        return str(self.kwargs[self.resource.id_key])

    def get_transaction(self, transaction_id: str) -> Transaction:
        r = self.resource
        noun = r.label.lower()
        parse_id(transaction_id, field=r.id_key, noun=noun)
        try:
            txn = transaction_get(organization=self.organization, transaction_id=transaction_id, kind=r.kind)
        except NotFound:
            raise NotFound(
                f"{r.id_key}: no {noun} with id {transaction_id} in this organization", field=r.id_key
            ) from None
        self.deny_unless_crm_linked(txn.contact, field=r.id_key, what=f"work with {r.path} of contacts")
        return txn

    def transaction_input(self, data: dict[str, Any], current: Transaction | None) -> TransactionInput:
        """The service's input: the body over the current values (an update changes only what is sent)."""
        r = self.resource
        if r.kind == K.EXPENSE and data.get("amount") is not None and data.get("line_items"):
            raise ApplicationError("amount: send either amount or line_items, not both", field="amount")
        result = TransactionInput()
        if current is not None:
            result = TransactionInput(
                contact_id=current.contact_id,
                date=current.date,
                due_date=current.due_date,
                lines=[
                    LineInput(
                        name=line.name,
                        item_id=line.item_id,
                        description=line.description,
                        quantity=line.quantity,
                        rate=line.rate,
                        tax_percentage=line.tax_percentage,
                    )
                    for line in current.lines.all()
                ],
                reference_number=current.reference_number,
                salesperson_name=current.salesperson_name,
                notes=current.notes,
                terms=current.terms,
                currency_code=current.currency_code,
                customer_id=current.customer_id,
                account_name=current.account_name,
                is_billable=current.is_billable,
            )
        contact_key = "vendor_id" if r.kind == K.EXPENSE else r.contact_key
        if contact_key in data:
            result.contact_id = data[contact_key]
        if r.kind == K.EXPENSE:
            if "customer_id" in data:
                result.customer_id = data["customer_id"]
            for key in ("account_name", "is_billable"):
                if key in data:
                    setattr(result, key, data[key] if data[key] is not None else "")
            if "amount" in data and "line_items" not in data:
                result.amount = data["amount"]
                result.lines = ()
        if "date" in data:
            result.date = data["date"]
        if r.due_key and r.due_key in data:
            result.due_date = data[r.due_key]
        for key in ("reference_number", "salesperson_name", "notes", "terms", "currency_code"):
            if key in data:
                setattr(result, key, data[key] or "")
        if "line_items" in data:
            result.lines = [
                LineInput(
                    name=line.get("name") or "",
                    item_id=line.get("item_id") or None,
                    description=line.get("description") or "",
                    quantity=line.get("quantity"),
                    rate=line.get("rate"),
                    tax_percentage=line.get("tax_percentage"),
                )
                for line in data["line_items"]
            ]
        rows = data.get("custom_fields")
        result.custom_fields = values_from_api(rows, definitions=self.definitions(), entity=r.kind) if rows else {}
        return result

    def reload(self, txn: Transaction) -> Transaction:
        return transaction_get(organization=self.organization, transaction_id=txn.pk, kind=self.resource.kind)


class TransactionListApi(TransactionApi, BooksListApi):
    FilterSerializer: ClassVar[Any]

    def get(self, request: Request) -> Response:
        r = self.resource
        filters = self.filters()
        applied = filters["filter_by"]
        sort_column = filters["sort_column"]
        sort_order = filters.get("sort_order", "D")
        contact_key = "vendor_id" if r.kind == K.EXPENSE else r.contact_key
        qs = transaction_search(
            organization=self.organization,
            kind=r.kind,
            statuses=r.filters[applied],
            contact_id=filters.get(contact_key),
            customer_id=filters.get("customer_id") if r.kind == K.EXPENSE else None,
            zcrm_potential_id=filters.get("zcrm_potential_id", ""),
            search_text=filters.get("search_text", ""),
            crm_linked_only=self.is_integration_user,
            sort_column=r.sort_columns[sort_column],
            descending=sort_order == "D",
        )
        return self.page(qs, applied_filter=applied, sort_column=sort_column, sort_order=sort_order)


class TransactionGetApi(TransactionApi):
    def get(self, request: Request, **kwargs: str) -> Response:
        return self.reply(**{self.resource.singular: self.render(self.get_transaction(self.path_id()))})


class TransactionCreateApi(TransactionApi):
    success_status = 201
    InputSerializer: ClassVar[Any]

    def post(self, request: Request) -> Response:
        r = self.resource
        data = self.validated(self.InputSerializer, self.body())
        txn_input = self.transaction_input(data, None)
        if self.is_integration_user and txn_input.contact_id not in (None, ""):
            try:
                contact = contact_get(
                    organization=self.organization,
                    contact_id=txn_input.contact_id,
                    contact_type=CONTACT_TYPE_FOR[r.kind],
                )
            except NotFound:
                contact = None  # the service answers with the field and the problem
            if contact is not None:
                self.deny_unless_crm_linked(contact, field=r.contact_key, what=f"create {r.path} for customers")
        number = data.get(r.number_key) or ""
        if data.get("zcrm_potential_name") and not data.get("zcrm_potential_id"):
            raise ApplicationError("zcrm_potential_id: is required with zcrm_potential_name", field="zcrm_potential_id")
        estimate_key = next(
            (key for key in ("invoiced_estimate_id", "estimate_id") if r.kind == K.INVOICE and data.get(key)), None
        )
        if estimate_key is not None:
            other = "estimate_id" if estimate_key == "invoiced_estimate_id" else "invoiced_estimate_id"
            if data.get(other) and data[other] != data[estimate_key]:
                raise ApplicationError(
                    f"{other}: names another estimate than {estimate_key}; send one of them", field=other
                )
            try:
                quote = transaction_get(organization=self.organization, transaction_id=data[estimate_key], kind=K.QUOTE)
            except NotFound:
                raise NotFound(
                    f"{estimate_key}: no estimate with id {data[estimate_key]} in this organization", field=estimate_key
                ) from None
            txn = invoice_create_from_quote(
                quote=quote, actor=self.actor, data=txn_input, number=number, field=estimate_key
            )
        else:
            txn = transaction_create(
                organization=self.organization,
                actor=self.actor,
                kind=r.kind,
                data=txn_input,
                number=number,
                zcrm_potential_id=(data.get("zcrm_potential_id") or "") if r.has_potential else "",
                zcrm_potential_name=(data.get("zcrm_potential_name") or "") if r.has_potential else "",
            )
        return self.reply(r.created, status=201, **{r.singular: self.render(self.reload(txn))})


class TransactionUpdateApi(TransactionApi):
    InputSerializer: ClassVar[Any]

    def put(self, request: Request, **kwargs: str) -> Response:
        r = self.resource
        txn = self.get_transaction(self.path_id())
        data = self.validated(self.InputSerializer, self.body(), partial=True)
        if data.get(r.number_key) not in (None, "", txn.number):
            raise ApplicationError(f"{r.number_key}: cannot be changed after creation", field=r.number_key)
        for key in ("zcrm_potential_id", "zcrm_potential_name"):
            if data.get(key) not in (None, "", getattr(txn, key)):
                raise ApplicationError(f"{key}: the deal association cannot be changed through an update", field=key)
        if r.kind == K.INVOICE and (data.get("invoiced_estimate_id") or data.get("estimate_id")):
            raise ApplicationError(
                "invoiced_estimate_id: an existing invoice cannot be linked to an estimate",
                field="invoiced_estimate_id",
            )
        txn = transaction_update(txn=txn, actor=self.actor, data=self.transaction_input(data, txn))
        return self.reply(r.updated, **{r.singular: self.render(self.reload(txn))})


class TransactionDeleteApi(TransactionApi):
    payload_key = ""

    def delete(self, request: Request, **kwargs: str) -> Response:
        transaction_delete(txn=self.get_transaction(self.path_id()), actor=self.actor)
        return self.reply(self.resource.deleted)


class TransactionStatusApi(TransactionApi):
    payload_key = ""

    @classmethod
    def schema_parameters(cls) -> list[OpenApiParameter]:
        return [OpenApiParameter("state", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(cls.resource.states))]

    def post(self, request: Request, state: str, **kwargs: str) -> Response:
        r = self.resource
        txn = self.get_transaction(self.path_id())
        if state not in r.states:
            raise ApplicationError(
                f"status: '{state[:40]}' is not one of {', '.join(r.states)} for {r.path}", field="status"
            )
        status, message = r.states[state]
        transaction_set_status(txn=txn, actor=self.actor, status=status)
        return self.reply(message)


def _views(resource: Resource) -> dict[str, type[TransactionApi]]:
    """The operations of one resource, as named classes (operation ids and schema components need names)."""
    name = resource.label.replace(" ", "")
    output = _output_serializer(resource, with_lines=True)
    row = _output_serializer(resource, with_lines=False)
    input_serializer = _input_serializer(resource)
    common = {"resource": resource, "tag": resource.path, "payload_key": resource.singular, "OutputSerializer": output}
    read = {"integration_user_allowed": resource.integration_can_read}
    plural = resource.path
    noun = resource.label.lower()
    specs: dict[str, tuple[type[TransactionApi], dict[str, Any], str]] = {
        "list": (
            TransactionListApi,
            {
                **read,
                "payload_key": plural,
                "OutputSerializer": row,
                "report_name": plural.capitalize(),
                "FilterSerializer": _filter_serializer(resource),
            },
            f"List {plural}.",
        ),
        "create": (
            TransactionCreateApi,
            {"integration_user_allowed": resource.integration_can_create, "InputSerializer": input_serializer},
            f"Create {_a(noun)}."
            + (
                " With `invoiced_estimate_id` (or `estimate_id`) the invoice is made from that estimate."
                if resource.kind == K.INVOICE
                else ""
            ),
        ),
        "get": (TransactionGetApi, read, f"Get {_a(noun)}, with its line items."),
        "update": (
            TransactionUpdateApi,
            {"InputSerializer": input_serializer},
            f"Update {_a(noun)}. Only the fields sent change; `line_items`, when sent, replace the lines.",
        ),
        "delete": (TransactionDeleteApi, {}, f"Delete {_a(noun)}."),
    }
    if resource.states:
        specs["status"] = (
            TransactionStatusApi,
            {},
            f"Change the status of {_a(noun)}: {', '.join(resource.states)}."
            + (
                " `paid` is Ledgerbridge's own (Zoho marks an invoice paid by recording a payment)."
                if resource.kind == K.INVOICE
                else ""
            ),
        )
    views: dict[str, type[TransactionApi]] = {}
    for operation, (base, attrs, doc) in specs.items():
        verb = {"get": "Get", "list": "List", "create": "Create", "update": "Update", "delete": "Delete"}.get(
            operation, "SetStatus"
        )
        class_name = f"{name}{verb}Api"
        operation_id = f"{operation}_{resource.singular}" if operation != "list" else f"list_{plural}"
        if operation == "status":
            operation_id = f"set_{resource.singular}_status"
        views[operation] = type(
            class_name,
            (base,),
            {**common, **attrs, "operation_id": operation_id, "__doc__": doc, "__module__": __name__},
        )
    return views


def _a(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"


VIEWS: dict[str, dict[str, type[TransactionApi]]] = {resource.path: _views(resource) for resource in RESOURCES}

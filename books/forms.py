"""Forms of the accountant's pages.

They parse and type-check what a browser sends; the services decide what is valid. A service's
`ApplicationError` lands on the field it names (`add_service_error`), so every error is shown next to its input.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.forms.formsets import BaseFormSet, formset_factory

from books.errors import ApplicationError
from books.models import (
    ADDRESS_PARTS,
    Contact,
    ContactPerson,
    CustomerSubType,
    CustomFieldDefinition,
    CustomFieldEntity,
    CustomFieldType,
    Item,
    ProductType,
    QuoteConversion,
    Role,
    Transaction,
)
from books.services.transactions import LineInput

SALUTATIONS = ("Mr.", "Mrs.", "Ms.", "Miss.", "Dr.")
PAYMENT_TERMS = ((0, "Due on Receipt"), (15, "Net 15"), (30, "Net 30"), (45, "Net 45"), (60, "Net 60"))
EXPENSE_ACCOUNTS = (
    "Advertising And Marketing",
    "Automobile Expense",
    "Meals",
    "Office Supplies",
    "Rent Expense",
    "Software",
    "Telephone Expense",
    "Travel",
    "Utilities",
    "Other Expenses",
)
ADDRESS_LABELS = {
    "attention": "Attention",
    "street": "Street 1",
    "street2": "Street 2",
    "city": "City",
    "state": "State",
    "zip": "ZIP Code",
    "country": "Country / Region",
    "phone": "Phone",
    "fax": "Fax Number",
}


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _mark_required(form: forms.BaseForm, *names: str) -> None:
    """Show the red asterisk on fields the service requires (the form leaves the check to the service, whose
    message is the one shown)."""
    for name in names:
        form.fields[name].marked_required = True  # type: ignore[attr-defined]


def strip_field_prefix(message: str, field: str | None) -> str:
    """'contact_name: the display name is required' → 'The display name is required'."""
    if field and message.startswith(field) and ": " in message:
        message = message.split(": ", 1)[1]
    return message[:1].upper() + message[1:]


def add_service_error(form: forms.BaseForm, exc: ApplicationError, *, aliases: Mapping[str, str] | None = None) -> None:
    """Put a service's error on the form field it names, or at the top of the form if no field matches."""
    field = exc.field or ""
    name = (aliases or {}).get(field, field)
    if name.startswith("custom_fields."):
        name = name.split(".", 1)[1]
    if name in form.fields:
        form.add_error(name, strip_field_prefix(exc.message, exc.field))
    else:
        form.add_error(None, exc.message)


# --- custom fields rendered as typed inputs ----------------------------------------------------------------------


def custom_form_field(definition: CustomFieldDefinition) -> forms.Field:
    label = definition.label
    data_type = definition.data_type
    field: forms.Field
    if data_type == CustomFieldType.NUMBER:
        field = forms.IntegerField(label=label, required=False)
    elif data_type == CustomFieldType.DECIMAL:
        field = forms.DecimalField(label=label, required=False, widget=forms.NumberInput(attrs={"step": "any"}))
    elif data_type == CustomFieldType.DATE:
        field = forms.DateField(label=label, required=False, widget=_date_input())
    elif data_type == CustomFieldType.CHECKBOX:
        field = forms.BooleanField(label=label, required=False)
    elif data_type == CustomFieldType.PICKLIST:
        choices = [("", "Select"), *((o, o) for o in definition.options)]
        field = forms.ChoiceField(label=label, required=False, choices=choices)
    elif data_type == CustomFieldType.EMAIL:
        field = forms.EmailField(label=label, required=False)
    elif data_type == CustomFieldType.URL:
        # The service accepts "example.com" as well as a full URL.
        field = forms.CharField(label=label, required=False, widget=forms.URLInput(attrs={"inputmode": "url"}))
        field.widget.input_type = "text"
    elif data_type == CustomFieldType.PHONE:
        field = forms.CharField(label=label, required=False, widget=forms.TextInput(attrs={"type": "tel"}))
    else:
        field = forms.CharField(label=label, required=False, max_length=2000)
    return field


class CustomFieldsMixin:
    """Adds the entity's active custom fields (named by their api_name) to a form."""

    fields: dict[str, forms.Field]
    cleaned_data: dict[str, Any]
    custom_definitions: list[CustomFieldDefinition]
    # True when the form is re-rendered after an Add line / Find (not submitted): its errors are not shown.
    hide_errors = False

    def add_custom_fields(self, definitions: Sequence[CustomFieldDefinition], values: Mapping[str, Any]) -> None:
        self.custom_definitions = list(definitions)
        for definition in self.custom_definitions:
            field = custom_form_field(definition)
            field.initial = values.get(definition.api_name)
            self.fields[definition.api_name] = field

    def custom_values(self) -> dict[str, Any]:
        """Every custom field's value (None clears it), in the form the service accepts."""
        values: dict[str, Any] = {}
        for definition in self.custom_definitions:
            value = self.cleaned_data.get(definition.api_name)
            if isinstance(value, datetime.date):
                value = value.isoformat()
            elif isinstance(value, Decimal):
                value = str(value)
            elif value == "":
                value = None
            values[definition.api_name] = value
        return values

    def custom_bound_fields(self) -> list[forms.BoundField]:
        return [self[d.api_name] for d in self.custom_definitions]  # type: ignore[index]


# --- contacts ----------------------------------------------------------------------------------------------------


class ContactForm(CustomFieldsMixin, forms.Form):
    customer_sub_type = forms.ChoiceField(
        label="Customer Type",
        choices=CustomerSubType.choices,
        initial=CustomerSubType.BUSINESS,
        widget=forms.RadioSelect,
    )
    salutation = forms.ChoiceField(
        label="Salutation", required=False, choices=[("", "Salutation"), *((s, s) for s in SALUTATIONS)]
    )
    first_name = forms.CharField(label="First Name", required=False, max_length=100)
    last_name = forms.CharField(label="Last Name", required=False, max_length=100)
    company_name = forms.CharField(label="Company Name", required=False, max_length=200)
    contact_name = forms.CharField(
        label="Display Name",
        required=False,
        max_length=200,
        help_text="The name shown on transactions. Left empty, it is the company name or the person's name.",
    )
    email = forms.EmailField(label="Email Address", required=False)
    phone = forms.CharField(label="Work Phone", required=False, max_length=50)
    mobile = forms.CharField(label="Mobile", required=False, max_length=50)
    website = forms.CharField(label="Website", required=False, max_length=255)
    currency_code = forms.CharField(label="Currency", required=False, max_length=3)
    payment_terms = forms.TypedChoiceField(
        label="Payment Terms", coerce=int, choices=PAYMENT_TERMS, initial=0, required=False
    )
    notes = forms.CharField(label="Remarks", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(
        self,
        *args: Any,
        contact_type: str,
        definitions: Sequence[CustomFieldDefinition] = (),
        instance: Contact | None = None,
        base_currency: str = "",
        **kwargs: Any,
    ) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(instance, name) for name in self.model_field_names()}
        super().__init__(*args, **kwargs)
        self.contact_type = contact_type
        for kind in ("billing", "shipping"):
            for part in ADDRESS_PARTS:
                self.fields[f"{kind}_{part}"] = forms.CharField(
                    label=ADDRESS_LABELS[part], required=False, max_length=255
                )
                if instance is not None:
                    self.fields[f"{kind}_{part}"].initial = getattr(instance, f"{kind}_{part}")
        if contact_type != "customer":
            del self.fields["customer_sub_type"]
        self.fields["currency_code"].widget.attrs["placeholder"] = base_currency
        terms = instance.payment_terms if instance is not None else 0
        payment_field = self.fields["payment_terms"]
        if terms not in dict(PAYMENT_TERMS):  # a value set through the API keeps its own option
            payment_field.choices = [*PAYMENT_TERMS, (terms, f"Net {terms}")]  # type: ignore[attr-defined]
        _mark_required(self, "contact_name")
        self.add_custom_fields(definitions, instance.custom_fields if instance is not None else {})

    @staticmethod
    def model_field_names() -> tuple[str, ...]:
        return (
            "customer_sub_type",
            "salutation",
            "first_name",
            "last_name",
            "company_name",
            "contact_name",
            "email",
            "phone",
            "mobile",
            "website",
            "currency_code",
            "payment_terms",
            "notes",
        )

    def address_fields(self, kind: str) -> list[forms.BoundField]:
        return [self[f"{kind}_{part}"] for part in ADDRESS_PARTS]

    def billing_fields(self) -> list[forms.BoundField]:
        return self.address_fields("billing")

    def shipping_fields(self) -> list[forms.BoundField]:
        return self.address_fields("shipping")

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data.get(name) for name in self.model_field_names() if name in self.fields}
        for kind in ("billing", "shipping"):
            for part in ADDRESS_PARTS:
                data[f"{kind}_{part}"] = self.cleaned_data.get(f"{kind}_{part}") or ""
        data["payment_terms"] = data.get("payment_terms") or 0
        return data


class ContactPersonForm(forms.Form):
    salutation = forms.ChoiceField(
        label="Salutation", required=False, choices=[("", "Salutation"), *((s, s) for s in SALUTATIONS)]
    )
    first_name = forms.CharField(label="First Name", required=False, max_length=100)
    last_name = forms.CharField(label="Last Name", required=False, max_length=100)
    email = forms.EmailField(label="Email Address", required=False)
    phone = forms.CharField(label="Work Phone", required=False, max_length=50)
    mobile = forms.CharField(label="Mobile", required=False, max_length=50)
    designation = forms.CharField(label="Designation", required=False, max_length=100)
    department = forms.CharField(label="Department", required=False, max_length=100)
    is_primary_contact = forms.BooleanField(label="Mark as primary contact person", required=False)

    def __init__(self, *args: Any, instance: ContactPerson | None = None, **kwargs: Any) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(instance, name) for name in self.base_fields}
        super().__init__(*args, **kwargs)
        _mark_required(self, "last_name")

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in self.fields}


class BulkStatusForm(forms.Form):
    """Mark as Active / Inactive on a list page: the ticked rows (`ids`, read with getlist), or every row matching
    the list's filter and search."""

    status = forms.ChoiceField(choices=(("active", "Mark as Active"), ("inactive", "Mark as Inactive")))
    select_all_matching = forms.BooleanField(required=False)
    filter = forms.CharField(required=False)
    q = forms.CharField(required=False)


# --- items -------------------------------------------------------------------------------------------------------


class ItemForm(CustomFieldsMixin, forms.Form):
    product_type = forms.ChoiceField(
        label="Type", choices=ProductType.choices, initial=ProductType.GOODS, widget=forms.RadioSelect
    )
    name = forms.CharField(label="Name", required=False, max_length=200)
    sku = forms.CharField(label="SKU", required=False, max_length=100)
    unit = forms.CharField(label="Unit", required=False, max_length=30, help_text="e.g. pcs, hrs, kg")
    rate = forms.DecimalField(
        label="Selling Price", required=False, widget=forms.NumberInput(attrs={"step": "0.01", "min": "0"})
    )
    description = forms.CharField(label="Description", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(
        self,
        *args: Any,
        definitions: Sequence[CustomFieldDefinition] = (),
        instance: Item | None = None,
        **kwargs: Any,
    ) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(instance, name) for name in self.base_fields}
        super().__init__(*args, **kwargs)
        _mark_required(self, "name")
        self.add_custom_fields(definitions, instance.custom_fields if instance is not None else {})

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data.get(name) for name in self.base_fields}
        data["rate"] = data["rate"] if data["rate"] is not None else Decimal("0")
        return data


# --- transactions ------------------------------------------------------------------------------------------------

LINE_FIELDS = ("item_id", "name", "description", "quantity", "rate", "tax_percentage")


class LineForm(forms.Form):
    item_id = forms.CharField(label="Item", required=False, widget=forms.Select)
    name = forms.CharField(label="Item Details", required=False, max_length=200)
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 1, "placeholder": "Description"})
    )
    quantity = forms.DecimalField(
        label="Quantity", required=False, widget=forms.NumberInput(attrs={"step": "any", "min": "0"})
    )
    rate = forms.DecimalField(label="Rate", required=False, widget=forms.NumberInput(attrs={"step": "any", "min": "0"}))
    tax_percentage = forms.DecimalField(
        label="Tax %", required=False, widget=forms.NumberInput(attrs={"step": "any", "min": "0", "max": "100"})
    )

    def is_blank(self) -> bool:
        """A row the user left empty (the quantity's default does not count)."""
        data = self.data if self.is_bound else self.initial
        return all(not str(data.get(self.add_prefix(f)) or "").strip() for f in ("item_id", "name", "rate"))

    def line_input(self) -> LineInput:
        cd = self.cleaned_data
        return LineInput(
            item_id=cd.get("item_id") or None,
            name=cd.get("name") or "",
            description=cd.get("description") or "",
            quantity=cd.get("quantity") if cd.get("quantity") is not None else Decimal("1"),
            rate=cd.get("rate"),
            tax_percentage=cd.get("tax_percentage") if cd.get("tax_percentage") is not None else Decimal("0"),
        )


class BaseLineFormSet(BaseFormSet[LineForm]):
    # True when the rows are re-rendered (Add line, remove, item picked) rather than submitted.
    hide_errors = False
    # A service error about the lines as a whole ("at least one line is required"), shown above the table.
    lines_error = ""

    def non_blank_forms(self) -> list[tuple[int, LineForm]]:
        return [(index, form) for index, form in enumerate(self.forms) if not form.is_blank()]


LineFormSet = formset_factory(LineForm, formset=BaseLineFormSet, extra=0, max_num=200, absolute_max=250)
LINES_PREFIX = "lines"


def line_rows_from_post(data: Mapping[str, Any], *, limit: int = 200) -> list[dict[str, str]]:
    """The rows as the browser sent them (for re-rendering after Add line / remove / item pick)."""
    try:
        total = int(data.get(f"{LINES_PREFIX}-TOTAL_FORMS", 0))
    except (TypeError, ValueError):
        total = 0
    total = max(0, min(total, limit))
    return [{f: str(data.get(f"{LINES_PREFIX}-{i}-{f}", "") or "") for f in LINE_FIELDS} for i in range(total)]


def line_rows_from_transaction(txn: Transaction) -> list[dict[str, str]]:
    return [
        {
            "item_id": str(line.item_id or ""),
            "name": line.name,
            "description": line.description,
            "quantity": f"{line.quantity.normalize():f}",
            "rate": f"{line.rate:f}",
            "tax_percentage": f"{line.tax_percentage.normalize():f}",
        }
        for line in txn.lines.all()
    ]


def blank_line() -> dict[str, str]:
    return {"item_id": "", "name": "", "description": "", "quantity": "1", "rate": "", "tax_percentage": ""}


def line_formset_from_rows(rows: Sequence[Mapping[str, str]]) -> BaseLineFormSet:
    """A bound formset showing `rows` without errors (rows are re-rendered, not yet submitted)."""
    data: dict[str, Any] = {
        f"{LINES_PREFIX}-TOTAL_FORMS": str(len(rows)),
        f"{LINES_PREFIX}-INITIAL_FORMS": "0",
        f"{LINES_PREFIX}-MIN_NUM_FORMS": "0",
        f"{LINES_PREFIX}-MAX_NUM_FORMS": "200",
    }
    for index, row in enumerate(rows):
        for name in LINE_FIELDS:
            data[f"{LINES_PREFIX}-{index}-{name}"] = row.get(name, "")
    formset = cast(BaseLineFormSet, LineFormSet(data=data, prefix=LINES_PREFIX))
    formset.hide_errors = True
    return formset


class TransactionForm(CustomFieldsMixin, forms.Form):
    contact_id = forms.CharField(label="Customer Name", required=False, widget=forms.Select)
    number = forms.CharField(label="Invoice#", required=False, max_length=30)
    reference_number = forms.CharField(label="Reference#", required=False, max_length=100)
    date = forms.DateField(label="Invoice Date", required=False, widget=_date_input())
    due_date = forms.DateField(label="Due Date", required=False, widget=_date_input())
    salesperson_name = forms.CharField(label="Salesperson", required=False, max_length=200)
    notes = forms.CharField(label="Customer Notes", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    terms = forms.CharField(label="Terms & Conditions", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    contact_q = forms.CharField(label="Find", required=False, max_length=100)

    def __init__(
        self,
        *args: Any,
        labels: Mapping[str, str],
        definitions: Sequence[CustomFieldDefinition] = (),
        instance: Transaction | None = None,
        **kwargs: Any,
    ) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "contact_id": instance.contact_id or "",
                "number": instance.number,
                "reference_number": instance.reference_number,
                "date": instance.date,
                "due_date": instance.due_date,
                "salesperson_name": instance.salesperson_name,
                "notes": instance.notes,
                "terms": instance.terms,
            }
        super().__init__(*args, **kwargs)
        for name, label in labels.items():
            if name in self.fields:
                self.fields[name].label = label
        if instance is not None:
            self.fields["number"].disabled = True
        else:
            self.fields["number"].widget.attrs["placeholder"] = "Generated on save"
        _mark_required(self, "contact_id", "date")
        self.add_custom_fields(definitions, instance.custom_fields if instance is not None else {})


class ExpenseForm(CustomFieldsMixin, forms.Form):
    date = forms.DateField(label="Date", required=False, widget=_date_input())
    account_name = forms.CharField(label="Expense Account", required=False, max_length=100, widget=forms.Select)
    amount = forms.DecimalField(
        label="Amount", required=False, widget=forms.NumberInput(attrs={"step": "0.01", "min": "0"})
    )
    contact_id = forms.CharField(label="Vendor", required=False, widget=forms.Select)
    reference_number = forms.CharField(label="Reference#", required=False, max_length=100)
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    is_billable = forms.BooleanField(label="Billable", required=False)
    customer_id = forms.CharField(label="Customer Name", required=False, widget=forms.Select)
    contact_q = forms.CharField(label="Find vendor", required=False, max_length=100)
    customer_q = forms.CharField(label="Find customer", required=False, max_length=100)

    def __init__(
        self,
        *args: Any,
        definitions: Sequence[CustomFieldDefinition] = (),
        instance: Transaction | None = None,
        **kwargs: Any,
    ) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "date": instance.date,
                "account_name": instance.account_name,
                "amount": instance.sub_total,
                "contact_id": instance.contact_id or "",
                "reference_number": instance.reference_number,
                "notes": instance.notes,
                "is_billable": instance.is_billable,
                "customer_id": instance.customer_id or "",
            }
        super().__init__(*args, **kwargs)
        current = str(self["account_name"].value() or "")
        accounts = list(EXPENSE_ACCOUNTS)
        if current and current not in accounts:
            accounts.insert(0, current)
        self.fields["account_name"].widget.choices = [("", "Select an account"), *((a, a) for a in accounts)]
        _mark_required(self, "date", "account_name", "amount")
        self.add_custom_fields(definitions, instance.custom_fields if instance is not None else {})


# --- settings ----------------------------------------------------------------------------------------------------


class OrganizationForm(forms.Form):
    name = forms.CharField(label="Organization Name", required=False, max_length=200)
    email = forms.EmailField(label="Organization Email", required=False)
    country = forms.CharField(label="Business Location", required=False, max_length=100)
    time_zone = forms.CharField(label="Time Zone", required=False, max_length=64, widget=forms.Select)
    base_currency = forms.CharField(label="Base Currency", required=False, max_length=3)
    quote_conversion = forms.ChoiceField(
        label="Automatically convert an accepted quote to an invoice?",
        choices=QuoteConversion.choices,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, time_zones: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].widget.choices = [(tz, tz) for tz in time_zones]
        _mark_required(self, "name", "base_currency")


class CustomFieldForm(forms.Form):
    entity = forms.ChoiceField(label="Module", choices=CustomFieldEntity.choices)
    label = forms.CharField(label="Label Name", required=False, max_length=200)
    data_type = forms.ChoiceField(label="Data Type", choices=CustomFieldType.choices)
    options = forms.CharField(
        label="Options",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For a Picklist: one option per line.",
    )

    def __init__(self, *args: Any, definition: CustomFieldDefinition | None = None, **kwargs: Any) -> None:
        if definition is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "entity": definition.entity,
                "label": definition.label,
                "data_type": definition.data_type,
                "options": "\n".join(definition.options),
            }
        super().__init__(*args, **kwargs)
        if definition is not None:
            self.fields["entity"].disabled = True
            self.fields["data_type"].disabled = True
        _mark_required(self, "label")

    def option_list(self) -> list[str]:
        return [line.strip() for line in (self.cleaned_data.get("options") or "").splitlines() if line.strip()]


MEMBER_ROLE_CHOICES = ((Role.ADMIN, "Admin"), (Role.ACCOUNTANT, "Accountant"))


class MemberInviteForm(forms.Form):
    email = forms.EmailField(label="Email Address")
    first_name = forms.CharField(label="First Name", required=False, max_length=150)
    last_name = forms.CharField(label="Last Name", required=False, max_length=150)
    role = forms.ChoiceField(label="Role", choices=MEMBER_ROLE_CHOICES, initial=Role.ACCOUNTANT)
    password = forms.CharField(
        label="Initial Password",
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Needed when the person has no Ledgerbridge account yet (at least 8 characters).",
    )


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=MEMBER_ROLE_CHOICES)

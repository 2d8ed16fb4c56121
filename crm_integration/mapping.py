"""Field mapping between CRM records and Books records: pure functions, no ORM, no HTTP (STYLE.md rule 7).

What it owns:
- the Books field catalog per Books entity (`BOOKS_FIELDS`, `books_catalog` adds the org's custom fields);
- the default field maps per CRM module (`default_mappings`), per provider, so a second CRM is one more table;
- which CRM data types fit which Books types (`check_compatible`, `validate_mapping`), with refusals that name
  both fields and both types;
- the conversions both ways (`crm_to_books`, `books_to_crm`), typed: `Decimal` for money and decimals,
  `datetime.date` for dates, `bool` for checkboxes; a value that does not fit raises `MappingError(field,
  reason)`, which the sync engine records as that record's failure before going on.

A Books custom field is named `cf:<api_name>` in a map. Its values are returned in the JSON-native form
`books.services.custom_fields` stores (decimal as a string, date as ISO text), keyed by api_name.

CRM `datetime` fields map to Books dates: fetched, the date part of the CRM timestamp as the CRM wrote it (in its
own offset) is kept and the time is dropped; pushed, a date becomes midnight UTC of that day.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Protocol

from crm_integration.client import CrmRecord, FieldMeta

CUSTOM_PREFIX = "cf:"


class MappingError(Exception):
    """A value that does not fit its target field. `field` is the source field's name (a CRM API name when
    fetching, a Books field name when pushing)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class MappingIncompatible(Exception):
    """A map that cannot be saved (unknown field, incompatible types). The message names both sides."""

    def __init__(self, message: str, *, books_field: str = "", crm_field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.books_field = books_field
        self.crm_field = crm_field


class BooksEntity(StrEnum):
    CUSTOMER_BUSINESS = "customer_business"
    CUSTOMER_INDIVIDUAL = "customer_individual"
    CONTACT_PERSON = "contact_person"
    VENDOR = "vendor"
    ITEM = "item"


# Books field types. `text`-like types hold strings; `owner`, `status`, `product_type` are the built-ins that take
# one particular CRM shape each (see COMPATIBLE).
class BooksType(StrEnum):
    TEXT = "text"
    TEXTAREA = "textarea"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    NUMBER = "number"
    DECIMAL = "decimal"
    MONEY = "money"
    DATE = "date"
    CHECKBOX = "checkbox"
    PICKLIST = "picklist"
    CURRENCY_CODE = "currency_code"
    OWNER = "owner"
    STATUS = "status"


@dataclass(frozen=True)
class BooksField:
    name: str
    label: str
    type: str
    required: bool = False
    max_length: int | None = None
    options: tuple[str, ...] = ()
    custom: bool = False

    @property
    def type_label(self) -> str:
        return BOOKS_TYPE_LABELS.get(self.type, self.type)


BOOKS_TYPE_LABELS: dict[str, str] = {
    "text": "text",
    "textarea": "multi-line text",
    "email": "email",
    "phone": "phone",
    "url": "URL",
    "number": "whole number",
    "decimal": "decimal",
    "money": "amount",
    "date": "date",
    "checkbox": "checkbox",
    "picklist": "picklist",
    "currency_code": "currency code",
    "owner": "CRM owner",
    "status": "status (active / inactive)",
}


class CustomFieldLike(Protocol):
    """What this module needs of a Books custom field definition (books.models.CustomFieldDefinition fits)."""

    api_name: str
    label: str
    data_type: str
    options: Any


class MappingLike(Protocol):
    """A saved map (crm_integration.models.FieldMapping fits, and so does `MappingSpec`)."""

    books_field: str
    crm_field: str
    crm_data_type: str
    books_data_type: str


@dataclass(frozen=True)
class MappingSpec:
    crm_module: str
    books_field: str
    crm_field: str
    crm_data_type: str
    books_data_type: str
    is_default: bool = False


def _t(name: str, label: str, type_: str = BooksType.TEXT, max_length: int | None = 255, **kw: Any) -> BooksField:
    return BooksField(name=name, label=label, type=type_, max_length=max_length, **kw)


_ADDRESS_LABELS = {
    "attention": "Attention",
    "street": "Street",
    "street2": "Street 2",
    "city": "City",
    "state": "State",
    "zip": "ZIP / Postal Code",
    "country": "Country",
    "phone": "Phone",
    "fax": "Fax",
}


def _address(kind: str, title: str) -> tuple[BooksField, ...]:
    return tuple(
        _t(
            f"{kind}_{part}",
            f"{title} {label}",
            BooksType.PHONE if part in ("phone", "fax") else BooksType.TEXT,
        )
        for part, label in _ADDRESS_LABELS.items()
    )


_CONTACT_COMMON: tuple[BooksField, ...] = (
    _t("contact_name", "Display Name", required=True, max_length=200),
    _t("company_name", "Company Name", max_length=200),
    _t("salutation", "Salutation", max_length=20),
    _t("first_name", "First Name", max_length=100),
    _t("last_name", "Last Name", max_length=100),
    _t("email", "Email", BooksType.EMAIL, max_length=254),
    _t("phone", "Work Phone", BooksType.PHONE, max_length=50),
    _t("mobile", "Mobile", BooksType.PHONE, max_length=50),
    _t("website", "Website", BooksType.URL),
    _t("currency_code", "Currency", BooksType.CURRENCY_CODE, max_length=3),
    _t("payment_terms", "Payment Terms (days)", BooksType.NUMBER, max_length=None),
    _t("notes", "Notes", BooksType.TEXTAREA, max_length=None),
    _t("crm_owner_id", "CRM Owner", BooksType.OWNER, max_length=40),
    *_address("billing", "Billing"),
    *_address("shipping", "Shipping"),
)

BOOKS_FIELDS: dict[str, tuple[BooksField, ...]] = {
    BooksEntity.CUSTOMER_BUSINESS: _CONTACT_COMMON,
    BooksEntity.CUSTOMER_INDIVIDUAL: _CONTACT_COMMON,
    BooksEntity.VENDOR: _CONTACT_COMMON,
    BooksEntity.CONTACT_PERSON: (
        _t("salutation", "Salutation", max_length=20),
        _t("first_name", "First Name", max_length=100),
        _t("last_name", "Last Name", required=True, max_length=100),
        _t("email", "Email", BooksType.EMAIL, max_length=254),
        _t("phone", "Work Phone", BooksType.PHONE, max_length=50),
        _t("mobile", "Mobile", BooksType.PHONE, max_length=50),
        _t("designation", "Designation", max_length=100),
        _t("department", "Department", max_length=100),
    ),
    BooksEntity.ITEM: (
        _t("name", "Name", required=True, max_length=200),
        _t("sku", "SKU", max_length=100),
        BooksField("product_type", "Product Type", BooksType.PICKLIST, options=("goods", "service")),
        BooksField("rate", "Rate", BooksType.MONEY),
        _t("description", "Description", BooksType.TEXTAREA, max_length=None),
        _t("unit", "Unit", max_length=30),
        BooksField("status", "Status", BooksType.STATUS),
    ),
}

# The Books custom-field entity (books.models.CustomFieldEntity) whose fields join each catalog.
CUSTOM_FIELD_ENTITY: dict[str, str | None] = {
    BooksEntity.CUSTOMER_BUSINESS: "customer",
    BooksEntity.CUSTOMER_INDIVIDUAL: "customer",
    BooksEntity.VENDOR: "vendor",
    BooksEntity.ITEM: "item",
    BooksEntity.CONTACT_PERSON: None,
}


def custom_field_name(api_name: str) -> str:
    return f"{CUSTOM_PREFIX}{api_name}"


def is_custom(books_field: str) -> bool:
    return books_field.startswith(CUSTOM_PREFIX)


def books_catalog(entity: str, custom_fields: Iterable[CustomFieldLike] = ()) -> list[BooksField]:
    """The Books fields of `entity` a CRM field can be mapped to, its custom fields (already filtered to the
    entity by the caller) last."""
    fields = list(BOOKS_FIELDS[BooksEntity(entity)])
    if CUSTOM_FIELD_ENTITY[BooksEntity(entity)] is not None:
        for cf in custom_fields:
            fields.append(
                BooksField(
                    name=custom_field_name(cf.api_name),
                    label=f"{cf.label} (custom field)",
                    type=cf.data_type,
                    max_length=2000 if cf.data_type in _TEXTUAL_BOOKS else None,
                    options=tuple(cf.options or ()),
                    custom=True,
                )
            )
    return fields


def books_field_get(entity: str, name: str, custom_fields: Iterable[CustomFieldLike] = ()) -> BooksField | None:
    for field in books_catalog(entity, custom_fields):
        if field.name == name:
            return field
    return None


# --- which Books entity a CRM module fills ---------------------------------------------------------------------


def books_entity_for(*, module: str, crm_module: str, crm_module_option: str = "") -> BooksEntity:
    """Customers: Accounts → business customers; Contacts → individual customers, or contact persons of their
    account when the option is Accounts and their Contacts (orphan contacts then become individual customers
    from the same values). Vendors → vendors; Products → items."""
    if module == "vendors":
        return BooksEntity.VENDOR
    if module == "items":
        return BooksEntity.ITEM
    if crm_module == "Accounts":
        return BooksEntity.CUSTOMER_BUSINESS
    if crm_module_option == "accounts_and_contacts":
        return BooksEntity.CONTACT_PERSON
    return BooksEntity.CUSTOMER_INDIVIDUAL


# --- type compatibility ------------------------------------------------------------------------------------------

CRM_TEXT_LIKE = frozenset({"text", "textarea", "email", "phone", "website", "picklist", "autonumber"})
CRM_INTEGER = frozenset({"integer", "bigint"})
CRM_DECIMAL = frozenset({"double", "currency", "percent", "decimal"})
# Types no Books field takes (except the documented built-ins in COMPATIBLE: Owner → CRM Owner).
CRM_NOT_MAPPABLE = frozenset(
    {
        "lookup",
        "ownerlookup",
        "multiselectpicklist",
        "multiselectlookup",
        "subform",
        "fileupload",
        "imageupload",
        "profileimage",
        "formula",
        "rollup_summary",
        "layout",
        "territories",
        "userlookup",
        "event_reminder",
        "RRULE",
        "ALARM",
        "consent_lookup",
    }
)
# CRM types that cannot be written through the API: a map to them only fetches.
CRM_READ_ONLY_TYPES = frozenset({"autonumber", "formula", "rollup_summary"})

CRM_TYPE_LABELS: dict[str, str] = {
    "text": "single line",
    "textarea": "multi line",
    "email": "email",
    "phone": "phone",
    "website": "URL",
    "picklist": "pick list",
    "autonumber": "auto-number",
    "integer": "number",
    "bigint": "long integer",
    "double": "decimal",
    "currency": "currency",
    "percent": "percent",
    "decimal": "decimal",
    "boolean": "checkbox",
    "date": "date",
    "datetime": "date/time",
    "lookup": "lookup",
    "ownerlookup": "owner lookup",
    "multiselectpicklist": "multi-select pick list",
    "multiselectlookup": "multi-select lookup",
    "subform": "subform",
    "fileupload": "file upload",
    "imageupload": "image upload",
    "formula": "formula",
    "rollup_summary": "rollup summary",
}

_TEXTUAL_BOOKS = frozenset({"text", "textarea", "email", "phone", "url"})

# Books type → the CRM data types it accepts.
COMPATIBLE: dict[str, frozenset[str]] = {
    BooksType.TEXT: CRM_TEXT_LIKE,
    BooksType.TEXTAREA: CRM_TEXT_LIKE,
    BooksType.EMAIL: frozenset({"email", "text"}),
    BooksType.PHONE: frozenset({"phone", "text"}),
    BooksType.URL: frozenset({"website", "text"}),
    BooksType.NUMBER: CRM_INTEGER,
    BooksType.DECIMAL: CRM_DECIMAL | CRM_INTEGER,
    BooksType.MONEY: CRM_DECIMAL | CRM_INTEGER,
    BooksType.DATE: frozenset({"date", "datetime"}),
    BooksType.CHECKBOX: frozenset({"boolean"}),
    BooksType.PICKLIST: frozenset({"picklist", "text"}),
    BooksType.CURRENCY_CODE: frozenset({"picklist", "text"}),
    BooksType.OWNER: frozenset({"ownerlookup"}),
    BooksType.STATUS: frozenset({"boolean", "picklist", "text"}),
}


def crm_type_label(data_type: str) -> str:
    return CRM_TYPE_LABELS.get(data_type, data_type)


def _accepted_labels(books_type: str) -> str:
    accepted = sorted({crm_type_label(t) for t in COMPATIBLE.get(books_type, frozenset())})
    return ", ".join(accepted) if accepted else "no CRM field"


def check_compatible(books_field: BooksField, crm_field: FieldMeta) -> None:
    """Raises MappingIncompatible naming both fields and both types when they do not fit."""
    accepted = COMPATIBLE.get(books_field.type, frozenset())
    if crm_field.data_type in accepted:
        return
    both = (
        f"Books field {books_field.label} ({books_field.name}, {books_field.type_label}) cannot be mapped to "
        f"CRM field {crm_field.label} ({crm_field.api_name}, {crm_type_label(crm_field.data_type)})"
    )
    if crm_field.data_type in CRM_NOT_MAPPABLE:
        reason = f"{crm_type_label(crm_field.data_type)} fields cannot be mapped"
        if crm_field.data_type == "ownerlookup":
            reason += "; map the record owner to CRM Owner (crm_owner_id)"
    else:
        reason = f"a {books_field.type_label} field takes {_accepted_labels(books_field.type)} fields"
    raise MappingIncompatible(f"{both}: {reason}.", books_field=books_field.name, crm_field=crm_field.api_name)


def validate_mapping(
    *,
    entity: str,
    crm_module: str,
    books_field: str,
    crm_field: str,
    crm_fields: Mapping[str, FieldMeta],
    custom_fields: Iterable[CustomFieldLike] = (),
    is_default: bool = False,
) -> MappingSpec:
    """One map checked against the Books catalog and the CRM's live metadata (`crm_fields` by API name)."""
    target = books_field_get(entity, books_field, custom_fields)
    if target is None:
        if is_custom(books_field):
            raise MappingIncompatible(
                f"Books custom field {books_field[len(CUSTOM_PREFIX) :]} does not exist for this module; "
                "create it first",
                books_field=books_field,
                crm_field=crm_field,
            )
        raise MappingIncompatible(
            f"{books_field} is not a Books field of {entity.replace('_', ' ')}", books_field=books_field
        )
    source = crm_fields.get(crm_field)
    if source is None:
        raise MappingIncompatible(
            f"{crm_field} is not a field of the CRM module {crm_module}", books_field=books_field, crm_field=crm_field
        )
    check_compatible(target, source)
    return MappingSpec(
        crm_module=crm_module,
        books_field=target.name,
        crm_field=source.api_name,
        crm_data_type=source.data_type,
        books_data_type=target.type,
        is_default=is_default,
    )


# --- default maps ------------------------------------------------------------------------------------------------

_ACCOUNT_DEFAULTS: tuple[tuple[str, str], ...] = (
    ("contact_name", "Account_Name"),
    ("company_name", "Account_Name"),
    ("phone", "Phone"),
    ("website", "Website"),
    ("billing_street", "Billing_Street"),
    ("billing_city", "Billing_City"),
    ("billing_state", "Billing_State"),
    ("billing_zip", "Billing_Code"),
    ("billing_country", "Billing_Country"),
    ("billing_fax", "Fax"),
    ("shipping_street", "Shipping_Street"),
    ("shipping_city", "Shipping_City"),
    ("shipping_state", "Shipping_State"),
    ("shipping_zip", "Shipping_Code"),
    ("shipping_country", "Shipping_Country"),
    ("crm_owner_id", "Owner"),
    ("notes", "Description"),
)
_CONTACT_DEFAULTS: tuple[tuple[str, str], ...] = (
    ("salutation", "Salutation"),
    ("first_name", "First_Name"),
    ("last_name", "Last_Name"),
    ("email", "Email"),
    ("phone", "Phone"),
    ("mobile", "Mobile"),
    ("billing_street", "Mailing_Street"),
    ("billing_city", "Mailing_City"),
    ("billing_state", "Mailing_State"),
    ("billing_zip", "Mailing_Zip"),
    ("billing_country", "Mailing_Country"),
    ("shipping_street", "Other_Street"),
    ("shipping_city", "Other_City"),
    ("shipping_state", "Other_State"),
    ("shipping_zip", "Other_Zip"),
    ("shipping_country", "Other_Country"),
    ("crm_owner_id", "Owner"),
    ("notes", "Description"),
)
_CONTACT_PERSON_DEFAULTS: tuple[tuple[str, str], ...] = (
    ("salutation", "Salutation"),
    ("first_name", "First_Name"),
    ("last_name", "Last_Name"),
    ("email", "Email"),
    ("phone", "Phone"),
    ("mobile", "Mobile"),
    ("designation", "Title"),
    ("department", "Department"),
)
_VENDOR_DEFAULTS: tuple[tuple[str, str], ...] = (
    ("contact_name", "Vendor_Name"),
    ("company_name", "Vendor_Name"),
    ("email", "Email"),
    ("phone", "Phone"),
    ("website", "Website"),
    ("billing_street", "Street"),
    ("billing_city", "City"),
    ("billing_state", "State"),
    ("billing_zip", "Zip_Code"),
    ("billing_country", "Country"),
    ("crm_owner_id", "Owner"),
    ("notes", "Description"),
)
_PRODUCT_DEFAULTS: tuple[tuple[str, str], ...] = (
    ("name", "Product_Name"),
    ("sku", "Product_Code"),
    ("rate", "Unit_Price"),
    ("description", "Description"),
    ("unit", "Usage_Unit"),
    ("status", "Product_Active"),
    # A custom pick list the CRM admin creates with Goods / Services (the seed's Insight); mapped when present.
    ("product_type", "Product_Type"),
)

# Per provider, per (CRM module, Books entity): (Books field, CRM field) in priority order. When two maps share a
# CRM field (Account_Name → Display Name and Company Name), the first one is what a push sends.
DEFAULT_MAPS: dict[str, dict[tuple[str, str], tuple[tuple[str, str], ...]]] = {
    "zoho": {
        ("Accounts", BooksEntity.CUSTOMER_BUSINESS): _ACCOUNT_DEFAULTS,
        ("Contacts", BooksEntity.CUSTOMER_INDIVIDUAL): _CONTACT_DEFAULTS,
        ("Contacts", BooksEntity.CONTACT_PERSON): _CONTACT_PERSON_DEFAULTS,
        ("Vendors", BooksEntity.VENDOR): _VENDOR_DEFAULTS,
        ("Products", BooksEntity.ITEM): _PRODUCT_DEFAULTS,
    }
}

# The built-in type of the standard CRM fields, used when no live metadata is at hand (file validation offline,
# tests). Live metadata wins.
STANDARD_CRM_TYPES: dict[str, str] = {
    "Owner": "ownerlookup",
    "Unit_Price": "currency",
    "Product_Active": "boolean",
    "Product_Type": "picklist",
    "Email": "email",
    "Phone": "phone",
    "Mobile": "phone",
    "Fax": "phone",
    "Website": "website",
    "Description": "textarea",
    "Salutation": "picklist",
}


def default_mappings(
    *,
    crm_module: str,
    entity: str,
    crm_fields: Mapping[str, FieldMeta] | None = None,
    provider: str = "zoho",
) -> list[MappingSpec]:
    """The basic maps of a module. With the CRM's live metadata, maps whose CRM field is missing or does not fit
    are left out (e.g. Product_Type when the CRM has no such pick list)."""
    specs: list[MappingSpec] = []
    target_fields = {f.name: f for f in BOOKS_FIELDS[BooksEntity(entity)]}
    for books_name, crm_name in DEFAULT_MAPS[provider].get((crm_module, BooksEntity(entity)), ()):
        target = target_fields[books_name]
        if crm_fields is None:
            meta = FieldMeta(api_name=crm_name, label=crm_name, data_type=STANDARD_CRM_TYPES.get(crm_name, "text"))
        else:
            found = crm_fields.get(crm_name)
            if found is None:
                continue
            meta = found
        try:
            check_compatible(target, meta)
        except MappingIncompatible:
            continue
        specs.append(
            MappingSpec(
                crm_module=crm_module,
                books_field=books_name,
                crm_field=crm_name,
                crm_data_type=meta.data_type,
                books_data_type=target.type,
                is_default=True,
            )
        )
    return specs


# --- conversions -------------------------------------------------------------------------------------------------

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
_TRUE = {"true", "1", "yes", "on", "y"}
_FALSE = {"false", "0", "no", "off", "n", ""}
_CENT = Decimal("0.01")
_PRODUCT_TYPES = {"goods": "goods", "good": "goods", "services": "service", "service": "service"}


def _as_text(value: Any, *, field: str) -> str:
    if isinstance(value, (dict, list, bool)):
        raise MappingError(field, f"expected text, got {type(value).__name__}")
    return str(value).strip()


def _as_decimal(value: Any, *, field: str) -> Decimal:
    if isinstance(value, bool):
        raise MappingError(field, "expected a number, got true/false")
    try:
        number = Decimal(str(value).strip().replace(",", "")) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise MappingError(field, f"'{str(value)[:60]}' is not a number") from None
    if not number.is_finite():
        raise MappingError(field, f"'{str(value)[:60]}' is not a number")
    return number


def _as_bool(value: Any, *, field: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise MappingError(field, f"'{str(value)[:60]}' is not true or false")


def _as_date(value: Any, *, field: str) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = str(value).strip()
    try:
        # A CRM datetime keeps its own offset: its date part is the date the CRM user saw.
        return datetime.date.fromisoformat(text[:10])
    except ValueError:
        raise MappingError(field, f"'{text[:60]}' is not a date (YYYY-MM-DD)") from None


def _empty_books_value(books_type: str) -> Any:
    if books_type in _TEXTUAL_BOOKS or books_type in (BooksType.CURRENCY_CODE, BooksType.OWNER):
        return ""
    if books_type == BooksType.CHECKBOX:
        return False
    return None


def _to_books(value: Any, *, target: BooksField, field: str) -> Any:
    """One CRM value as the Books field's typed value."""
    books_type = target.type
    if value is None or (isinstance(value, str) and not value.strip() and books_type != BooksType.CHECKBOX):
        return _empty_books_value(books_type)
    if books_type in _TEXTUAL_BOOKS:
        text = _as_text(value, field=field)
        if books_type == BooksType.EMAIL and not _EMAIL.match(text):
            raise MappingError(field, f"'{text[:60]}' is not a valid email address for {target.label}")
        if target.max_length is not None and len(text) > target.max_length:
            raise MappingError(field, f"longer than {target.max_length} characters, the most {target.label} holds")
        return text
    if books_type == BooksType.NUMBER:
        number = _as_decimal(value, field=field)
        if number != number.to_integral_value():
            raise MappingError(field, f"'{value}' is not a whole number, which {target.label} needs")
        return int(number)
    if books_type == BooksType.DECIMAL:
        return _as_decimal(value, field=field)
    if books_type == BooksType.MONEY:
        amount = _as_decimal(value, field=field).quantize(_CENT, rounding=ROUND_HALF_UP)
        if amount < 0:
            raise MappingError(field, f"{amount} is negative; {target.label} cannot be")
        return amount
    if books_type == BooksType.DATE:
        return _as_date(value, field=field)
    if books_type == BooksType.CHECKBOX:
        return _as_bool(value, field=field)
    if books_type == BooksType.CURRENCY_CODE:
        text = _as_text(value, field=field)
        if not _CURRENCY.match(text):
            raise MappingError(field, f"'{text[:60]}' is not a 3-letter currency code")
        return text.upper()
    if books_type == BooksType.OWNER:
        if isinstance(value, Mapping):
            return str(value.get("id") or "")
        return _as_text(value, field=field)
    if books_type == BooksType.STATUS:
        if isinstance(value, bool):
            return "active" if value else "inactive"
        text = _as_text(value, field=field).lower()
        if text in ("active", "true", "1", "yes"):
            return "active"
        if text in ("inactive", "false", "0", "no"):
            return "inactive"
        raise MappingError(field, f"'{text[:60]}' is not Active or Inactive")
    if books_type == BooksType.PICKLIST:
        text = _as_text(value, field=field)
        if target.name == "product_type" and not target.custom:
            kind = _PRODUCT_TYPES.get(text.lower())
            if kind is None:
                raise MappingError(field, f"'{text[:60]}' is neither Goods nor Services")
            return kind
        for option in target.options:
            if option.lower() == text.lower():
                return option
        raise MappingError(
            field, f"'{text[:60]}' is not one of the options of {target.label} ({', '.join(target.options)})"
        )
    raise MappingError(field, f"unknown Books type {books_type}")


def _custom_json(value: Any, books_type: str) -> Any:
    """The JSON-native stored form of a typed custom value (books.services.custom_fields)."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _definitions_by_api_name(custom_field_definitions: Iterable[CustomFieldLike]) -> dict[str, CustomFieldLike]:
    return {d.api_name: d for d in custom_field_definitions}


def _target_for(
    mapping: MappingLike, definitions: Mapping[str, CustomFieldLike], catalog: Mapping[str, BooksField]
) -> BooksField:
    if is_custom(mapping.books_field):
        api_name = mapping.books_field[len(CUSTOM_PREFIX) :]
        definition = definitions.get(api_name)
        if definition is None:
            raise MappingError(mapping.books_field, f"the Books custom field {api_name} no longer exists")
        return BooksField(
            name=mapping.books_field,
            label=definition.label,
            type=definition.data_type,
            max_length=2000 if definition.data_type in _TEXTUAL_BOOKS else None,
            options=tuple(definition.options or ()),
            custom=True,
        )
    known = catalog.get(mapping.books_field)
    if known is not None:
        return known
    return BooksField(name=mapping.books_field, label=mapping.books_field, type=mapping.books_data_type)


def _catalog_index() -> dict[str, BooksField]:
    index: dict[str, BooksField] = {}
    for fields in BOOKS_FIELDS.values():
        for f in fields:
            index.setdefault(f.name, f)
    return index


_CATALOG_INDEX = _catalog_index()


def crm_to_books(
    record: CrmRecord,
    mappings: Sequence[MappingLike],
    custom_field_definitions: Iterable[CustomFieldLike] = (),
    *,
    entity: str | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A CRM record as (Books field values, custom field values by api_name).

    A CRM field absent from the record is left out (not fetched: no change); a null clears. With `entity` given,
    an individual customer without a display name gets "First Last"."""
    definitions = _definitions_by_api_name(custom_field_definitions)
    books_values: dict[str, Any] = {}
    custom_values: dict[str, Any] = {}
    for mapping in mappings:
        if mapping.crm_field not in record:
            continue
        target = _target_for(mapping, definitions, _CATALOG_INDEX)
        value = _to_books(record[mapping.crm_field], target=target, field=mapping.crm_field)
        if target.custom:
            custom_values[mapping.books_field[len(CUSTOM_PREFIX) :]] = _custom_json(value, target.type)
        else:
            books_values[mapping.books_field] = value
    if entity == BooksEntity.CUSTOMER_INDIVIDUAL and not books_values.get("contact_name"):
        full = " ".join(str(books_values[k]) for k in ("first_name", "last_name") if books_values.get(k))
        if full:
            books_values["contact_name"] = full
    return books_values, custom_values


def _to_crm(value: Any, *, source: BooksField, crm_data_type: str, field: str) -> Any:
    """One Books value as the JSON value a CRM field of `crm_data_type` takes."""
    if value is None or value == "":
        return None
    if crm_data_type == "ownerlookup":
        return {"id": str(value)}
    if crm_data_type in CRM_INTEGER:
        number = _as_decimal(value, field=field)
        if number != number.to_integral_value():
            raise MappingError(field, f"{value} is not a whole number, which the CRM field needs")
        return int(number)
    if crm_data_type in CRM_DECIMAL:
        # JSON has no decimal type; a float's repr round-trips the 2-place amounts Books holds.
        return float(_as_decimal(value, field=field))
    if crm_data_type == "boolean":
        if source.type == BooksType.STATUS:
            return str(value).lower() == "active"
        return _as_bool(value, field=field)
    if crm_data_type == "date":
        return _as_date(value, field=field).isoformat()
    if crm_data_type == "datetime":
        return f"{_as_date(value, field=field).isoformat()}T00:00:00+00:00"
    if source.type == BooksType.STATUS:
        return "Active" if str(value).lower() == "active" else "Inactive"
    if source.name == "product_type" and not source.custom:
        return "Services" if str(value) == "service" else "Goods"
    if isinstance(value, (dict, list)):
        raise MappingError(field, f"expected text, got {type(value).__name__}")
    return str(value)


def books_to_crm(
    values: Mapping[str, Any],
    custom_values: Mapping[str, Any],
    mappings: Sequence[MappingLike],
    custom_field_definitions: Iterable[CustomFieldLike] = (),
    *,
    read_only: Iterable[str] = (),
) -> CrmRecord:
    """Books values (model field names) and custom values (by api_name) as a CRM record dict.

    Maps whose CRM field cannot be written (auto-number, formula, or named in `read_only` from the live metadata)
    are skipped; so are Books fields absent from `values`. When several maps share a CRM field, the first wins."""
    definitions = _definitions_by_api_name(custom_field_definitions)
    skip = set(read_only)
    record: CrmRecord = {}
    for mapping in mappings:
        if mapping.crm_field in record or mapping.crm_field in skip:
            continue
        if mapping.crm_data_type in CRM_READ_ONLY_TYPES:
            continue
        if is_custom(mapping.books_field):
            api_name = mapping.books_field[len(CUSTOM_PREFIX) :]
            if api_name not in custom_values:
                continue
            value = custom_values[api_name]
        else:
            if mapping.books_field not in values:
                continue
            value = values[mapping.books_field]
        source = _target_for(mapping, definitions, _CATALOG_INDEX)
        record[mapping.crm_field] = _to_crm(
            value, source=source, crm_data_type=mapping.crm_data_type, field=mapping.books_field
        )
    return record

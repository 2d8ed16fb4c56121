"""Custom field definitions and their typed values.

Values are stored in an entity's `custom_fields` JSON keyed by `api_name`, in their JSON-native form: text-like
types as str, number as int, decimal as a str of the Decimal (no float drift), date as ISO `YYYY-MM-DD`,
checkbox as bool, picklist as one of the definition's options.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import IntegrityError
from django.utils.text import slugify

from books.errors import ApplicationError, Conflict
from books.models import CustomFieldDefinition, CustomFieldEntity, CustomFieldType, Organization, User
from books.money import parse_decimal

_PHONE = re.compile(r"^[0-9+()\-.\s/x]{3,50}$")
_TRUE = {"true", "1", "yes", "on", "y"}
_FALSE = {"false", "0", "no", "off", "n", ""}


def custom_field_create(
    *,
    organization: Organization,
    actor: User | None,
    entity: str,
    label: str,
    data_type: str,
    options: Sequence[str] = (),
) -> CustomFieldDefinition:
    label = _clean_label(label)
    if entity not in CustomFieldEntity.values:
        raise ApplicationError(
            f"entity: '{entity}' is not one of {', '.join(CustomFieldEntity.values)}", field="entity"
        )
    if data_type not in CustomFieldType.values:
        raise ApplicationError(
            f"data_type: '{data_type}' is not one of {', '.join(CustomFieldType.values)}", field="data_type"
        )
    clean_options = _clean_options(options) if data_type == CustomFieldType.PICKLIST else []
    api_name = "cf_" + (slugify(label).replace("-", "_") or "field")[:100]
    definition = CustomFieldDefinition(
        organization=organization,
        entity=entity,
        label=label,
        api_name=api_name,
        data_type=data_type,
        options=clean_options,
    )
    exists = CustomFieldDefinition.objects.filter(organization=organization, entity=entity)
    if exists.filter(label__iexact=label).exists() or exists.filter(api_name=api_name).exists():
        raise Conflict(f"label: a custom field named '{label}' already exists for {entity}", field="label")
    try:
        definition.save()
    except IntegrityError as exc:
        raise Conflict(f"label: a custom field named '{label}' already exists for {entity}", field="label") from exc
    return definition


LABEL_MAX = 100  # CustomFieldDefinition.label
OPTION_MAX = 200


def _clean_label(label: str) -> str:
    label = (label or "").strip()
    if not label:
        raise ApplicationError("label: a custom field needs a label", field="label")
    if len(label) > LABEL_MAX:
        raise ApplicationError(f"label: at most {LABEL_MAX} characters", field="label")
    return label


def _clean_options(options: Sequence[str]) -> list[str]:
    cleaned: list[str] = []
    for option in options:
        text = str(option).strip()
        if not text or text.lower() in (o.lower() for o in cleaned):
            continue
        if len(text) > OPTION_MAX:
            raise ApplicationError(f"options: '{text[:40]}…' is longer than {OPTION_MAX} characters", field="options")
        cleaned.append(text)
    if not cleaned:
        raise ApplicationError("options: a picklist needs at least one option", field="options")
    return cleaned


def custom_field_update(
    *, definition: CustomFieldDefinition, actor: User | None, label: str, options: Sequence[str] = ()
) -> CustomFieldDefinition:
    """Rename a custom field or change a picklist's options. The api_name and the data type never change, so
    stored values and field maps that name the field keep working."""
    label = _clean_label(label)
    clash = (
        CustomFieldDefinition.objects.filter(
            organization_id=definition.organization_id, entity=definition.entity, label__iexact=label
        )
        .exclude(pk=definition.pk)
        .exists()
    )
    if clash:
        raise Conflict(f"label: a custom field named '{label}' already exists for {definition.entity}", field="label")
    definition.label = label
    if definition.data_type == CustomFieldType.PICKLIST:
        definition.options = _clean_options(options)
    try:
        definition.save(update_fields=["label", "options"])
    except IntegrityError as exc:
        raise Conflict(f"label: a custom field named '{label}' already exists", field="label") from exc
    return definition


def custom_field_set_active(
    *, definition: CustomFieldDefinition, actor: User | None, is_active: bool
) -> CustomFieldDefinition:
    """An inactive field is hidden from forms and refused in new values; its stored values stay."""
    if definition.is_active != is_active:
        definition.is_active = is_active
        definition.save(update_fields=["is_active"])
    return definition


def custom_field_coerce(definition: CustomFieldDefinition, value: Any) -> Any:
    """The stored form of `value` for this field, or ValueError with the reason. None/'' clear the value."""
    return coerce_value(definition.data_type, value, options=definition.options)


def coerce_value(data_type: str, value: Any, *, options: Sequence[str] = ()) -> Any:
    if value is None or (isinstance(value, str) and value.strip() == "" and data_type != CustomFieldType.CHECKBOX):
        return None
    if data_type in (CustomFieldType.TEXT, CustomFieldType.PHONE, CustomFieldType.EMAIL, CustomFieldType.URL):
        if isinstance(value, (dict, list, bool)):
            raise ValueError(f"expected {data_type}, got {type(value).__name__}")
        text = str(value).strip()
        if data_type == CustomFieldType.EMAIL:
            try:
                EmailValidator()(text)
            except ValidationError:
                raise ValueError(f"'{text[:60]}' is not a valid email address") from None
        elif data_type == CustomFieldType.URL:
            candidate = text if "://" in text else f"https://{text}"
            try:
                URLValidator()(candidate)
            except ValidationError:
                raise ValueError(f"'{text[:60]}' is not a valid URL") from None
        elif data_type == CustomFieldType.PHONE and not _PHONE.match(text):
            raise ValueError(f"'{text[:60]}' is not a valid phone number")
        if len(text) > 2000:
            raise ValueError("longer than 2000 characters")
        return text
    if data_type in (CustomFieldType.NUMBER, CustomFieldType.DECIMAL) and not isinstance(value, bool):
        # 1e100000000 parses as a small Decimal but expands to a 100-million-digit number: refuse it early.
        try:
            magnitude = parse_decimal(value).adjusted()
        except ValueError:
            magnitude = 0
        if abs(magnitude) > 30:
            raise ValueError(f"'{str(value)[:60]}' is out of range")
    if data_type == CustomFieldType.NUMBER:
        if isinstance(value, bool):
            raise ValueError("expected a whole number, got a boolean")
        number = parse_decimal(value) if not isinstance(value, int) else value
        if isinstance(number, int):
            return number
        if number != number.to_integral_value():
            raise ValueError(f"'{value}' is not a whole number")
        return int(number)
    if data_type == CustomFieldType.DECIMAL:
        try:
            return str(parse_decimal(value))
        except ValueError:
            raise ValueError(f"'{str(value)[:60]}' is not a number") from None
    if data_type == CustomFieldType.DATE:
        if isinstance(value, datetime.datetime):
            return value.date().isoformat()
        if isinstance(value, datetime.date):
            return value.isoformat()
        try:
            return datetime.date.fromisoformat(str(value).strip()[:10]).isoformat()
        except ValueError:
            raise ValueError(f"'{str(value)[:60]}' is not a date (YYYY-MM-DD)") from None
    if data_type == CustomFieldType.CHECKBOX:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"'{str(value)[:60]}' is not true or false")
    if data_type == CustomFieldType.PICKLIST:
        text = str(value).strip()
        for option in options:
            if option.lower() == text.lower():
                return option
        raise ValueError(f"'{text[:60]}' is not one of the options ({', '.join(options)})")
    raise ValueError(f"unknown data type {data_type}")


def custom_field_values_clean(
    *,
    organization: Organization,
    entity: str,
    values: Mapping[str, Any],
    definitions: Sequence[CustomFieldDefinition] | None = None,
) -> dict[str, Any]:
    """Typed values keyed by api_name. Keys may be api names or labels. Unknown keys and bad values raise
    ApplicationError naming the field."""
    if definitions is None:
        definitions = list(
            CustomFieldDefinition.objects.filter(organization=organization, entity=entity, is_active=True)
        )
    by_key: dict[str, CustomFieldDefinition] = {}
    for d in definitions:
        by_key[d.api_name] = d
        by_key[d.label.lower()] = d
    cleaned: dict[str, Any] = {}
    for key, value in values.items():
        definition = by_key.get(key) or by_key.get(str(key).lower())
        if definition is None:
            raise ApplicationError(
                f"custom_fields.{key}: no such custom field for {entity}", field=f"custom_fields.{key}"
            )
        try:
            coerced = custom_field_coerce(definition, value)
        except ValueError as exc:
            raise ApplicationError(
                f"custom_fields.{definition.api_name} ({definition.label}): {exc}",
                field=f"custom_fields.{definition.api_name}",
            ) from None
        if coerced is not None:
            cleaned[definition.api_name] = coerced
        else:
            cleaned[definition.api_name] = None
    return cleaned


def merge_custom_values(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(current)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged

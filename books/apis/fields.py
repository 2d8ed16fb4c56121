"""Serializer fields that give the Books API Zoho's wire shapes: ids as strings, empty text as "" (never null),
money as exact JSON numbers, dates `YYYY-MM-DD`, timestamps `2013-11-18T02:17:40+0000`."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField

ID_PATTERN = re.compile(r"[0-9]{1,18}")
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
MAX_MONEY = Decimal("999999999999.99")


class OutText(serializers.CharField):
    """Read-only text; a missing or null value is rendered "" as Zoho does."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def get_attribute(self, instance: Any) -> Any:
        try:
            value = super().get_attribute(instance)
        except SkipField:
            value = None
        return "" if value is None else value

    def to_representation(self, value: Any) -> str:
        return "" if value is None else str(value)


class OutId(OutText):
    """An id, as a string (Zoho's ids are long numeric strings)."""


class OutMoney(serializers.DecimalField):
    """A Decimal rendered as an exact JSON number (see books.apis.rendering)."""

    def __init__(self, *, decimal_places: int = 2, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(max_digits=20, decimal_places=decimal_places, coerce_to_string=False, **kwargs)


class OutQuantity(OutMoney):
    """A quantity or a percentage: `2`, `7.5`, not `2.000`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(decimal_places=3, **kwargs)

    def to_representation(self, value: Any) -> Any:
        result = super().to_representation(value)
        return result.normalize() if isinstance(result, Decimal) else result


# Zoho's wire formats are not quite OpenAPI's `date` / `date-time`: an empty date is "", and timestamps carry the
# offset without a colon. The schema says so, rather than promise formats the responses do not keep.
@extend_schema_field({"type": "string", "pattern": r"^(\d{4}-\d{2}-\d{2})?$", "example": "2013-11-18"})
class OutDate(serializers.DateField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(format="%Y-%m-%d", **kwargs)

    def get_attribute(self, instance: Any) -> Any:
        value = super().get_attribute(instance)
        return "" if value is None else value

    def to_representation(self, value: Any) -> Any:
        return "" if value in (None, "") else super().to_representation(value)


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4}$",
        "example": "2013-11-18T02:17:40-0800",
    }
)
class OutTimestamp(serializers.DateTimeField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(format=TIMESTAMP_FORMAT, **kwargs)


class IdInput(serializers.CharField):
    """An id sent by a client, as a string or a number. Only the shape is checked here; whether it exists in the
    organization is the selector's or service's business (an id of another organization is simply not found)."""

    default_error_messages = {"invalid_id": "'{value}' is not a valid id (a number of at most 18 digits)"}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, bool) or not isinstance(data, (str, int)):
            self.fail("invalid")
        text = super().to_internal_value(data)
        if text and not ID_PATTERN.fullmatch(text):
            self.fail("invalid_id", value=text[:40])
        return text


class TextInput(serializers.CharField):
    """Optional free text; null is accepted and means empty (Zoho clients send both)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, float):  # an int is fine as text (a phone number); a fraction is a wrong type
            self.fail("invalid")
        return super().to_internal_value(data)


class MoneyInput(serializers.DecimalField):
    """A non-negative amount; services round it to cents with the one rounding function."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("min_value", Decimal("0"))
        kwargs.setdefault("max_value", MAX_MONEY)
        super().__init__(max_digits=20, decimal_places=6, coerce_to_string=False, **kwargs)

    def to_internal_value(self, data: Any) -> Decimal:
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


def id_or_blank(value: Any) -> str:
    return "" if value is None else str(value)

"""Search criteria for `GET /{module}/search` (reference §4): `((Field:operator:value)and(Field:operator:value))`.

Inside a value, `(`, `)` and `,` are escaped with a backslash, and so is a backslash itself (Zoho asks for a
trailing `\\` to be doubled; doubling every one keeps the escape unambiguous). `in` and `between` take a comma list
whose items are escaped one by one. At most 10 conditions per criteria."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal

OPERATORS = frozenset(
    {
        "equals",
        "not_equal",
        "starts_with",
        "in",
        "greater_than",
        "greater_equal",
        "less_than",
        "less_equal",
        "between",
    }
)
MAX_CONDITIONS = 10
# An unescaped "(" opening "Field:operator:" starts a condition; escaped parentheses in values never match.
_CONDITION = re.compile(r"(?<!\\)\(\w+:(?:" + "|".join(sorted(OPERATORS)) + r"):")

Value = str | int | float | Decimal | bool | datetime.date | datetime.datetime


def escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").replace(",", "\\,")


def _text(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise ValueError("criteria datetimes must be timezone-aware")
        return value.isoformat(timespec="seconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return escape(str(value))


def condition(field: str, operator: str, value: Value | Sequence[Value]) -> str:
    if operator not in OPERATORS:
        raise ValueError(f"unknown search operator {operator!r}; use one of {sorted(OPERATORS)}")
    if not field or any(c in field for c in "():, "):
        raise ValueError(f"{field!r} is not a field API name")
    if isinstance(value, (list, tuple)):
        if operator not in {"in", "between"}:
            raise ValueError(f"a list of values needs the 'in' or 'between' operator, not {operator!r}")
        if operator == "between" and len(value) != 2:
            raise ValueError("'between' takes exactly two values")
        if operator == "in" and not 0 < len(value) <= 100:
            raise ValueError("'in' takes 1 to 100 values")
        text = ",".join(_text(v) for v in value)
    else:
        text = _text(value)  # type: ignore[arg-type]
    return f"({field}:{operator}:{text})"


def _join(joiner: str, conditions: Iterable[str]) -> str:
    items = list(conditions)
    if not items:
        raise ValueError("criteria need at least one condition")
    if sum(len(_CONDITION.findall(c)) for c in items) > MAX_CONDITIONS:
        raise ValueError(f"Zoho accepts at most {MAX_CONDITIONS} conditions in one search")
    if len(items) == 1:
        return items[0]
    return "(" + joiner.join(items) + ")"


def all_of(*conditions: str) -> str:
    return _join("and", conditions)


def any_of(*conditions: str) -> str:
    return _join("or", conditions)

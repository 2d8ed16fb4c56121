"""Content hashes of synced records (pure; no ORM, no HTTP).

A link keeps two hashes: the CRM record's mapped fields as the CRM holds them, and the Books record's mapped
fields as Books holds them, both taken at the last sync. A side whose hash is unchanged did not change, so nothing
is written to the other side (no echo, no write that changes nothing). Values are canonicalised first so that the
same content hashes the same whichever way it travelled: 12.5 == Decimal("12.50"), a lookup is its id, "" is None.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any


def canonical(value: Any) -> str:
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return str(value)
        if not number.is_finite():
            return str(value)
        text = format(number.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        # A lookup or an owner: the record it points at.
        return str(value.get("id") or "")
    if isinstance(value, (list, tuple)):
        return json.dumps([canonical(v) for v in value])
    return str(value)


def content_hash(values: Mapping[str, Any], keys: Iterable[str]) -> str:
    """The hash of `values` restricted to `keys` (a missing key counts as empty). Keys and values are joined with
    control characters that text from either side does not hold."""
    text = "\x1e".join(f"{key}\x1f{canonical(values.get(key))}" for key in sorted(keys))
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()

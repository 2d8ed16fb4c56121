"""What every part of the sandbox shares: its error type (Zoho's envelope), ids, datetimes, the public base URL."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import F

from crm_sandbox.models import IdSequence

ID_PREFIX = 5725767  # the 7 leading digits of every id: 5725767 + 12 digits = 19 digits, like Zoho's


class CrmApiError(Exception):
    """A request-level error, answered as Zoho's top-level envelope with its HTTP status (reference §12)."""

    def __init__(self, code: str, message: str, *, status: int = 400, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.details = details if details is not None else {}

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "details": self.details, "message": self.message, "status": "error"}


def new_ids(count: int) -> list[int]:
    """`count` fresh 19-digit ids, unique across the sandbox database (one row update per call)."""
    if count <= 0:
        return []
    with transaction.atomic():
        seq, _ = IdSequence.objects.get_or_create(pk=1)
        IdSequence.objects.filter(pk=1).update(next_value=F("next_value") + count)
        start = seq.next_value
    base = ID_PREFIX * 10**12
    return [base + start + i for i in range(count)]


def new_id() -> int:
    return new_ids(1)[0]


def now() -> dt.datetime:
    return dt.datetime.now(tz=dt.UTC)


def fmt_dt(value: dt.datetime | None, tz: str = "UTC") -> str | None:
    """ISO 8601 with the org's offset and no fractions: 2023-05-10T01:10:47-07:00."""
    if value is None:
        return None
    return value.astimezone(_zone(tz)).replace(microsecond=0).isoformat()


_ZONES: dict[str, ZoneInfo] = {}


def _zone(name: str) -> ZoneInfo:
    zone = _ZONES.get(name)
    if zone is None:
        zone = _ZONES[name] = ZoneInfo(name)
    return zone


def parse_dt(value: str) -> dt.datetime | None:
    """ISO 8601 (with or without offset; UTC assumed without) or an HTTP date; None if it is neither."""
    text = value.strip()
    if not text:
        return None
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def public_base_url(host: str | None = None, port: int | None = None) -> str:
    """CRM_SANDBOX_PUBLIC_URL, else http://{host}:{port} of the server (api_domain and accounts-server)."""
    configured = os.environ.get("CRM_SANDBOX_PUBLIC_URL", "").strip().rstrip("/")
    if configured:
        return configured
    return f"http://{host or os.environ.get('CRM_SANDBOX_HOST', '127.0.0.1')}:{port or os.environ.get('CRM_SANDBOX_PORT', '8090')}"


def admin_key() -> str:
    return os.environ.get("CRM_SANDBOX_ADMIN_KEY", "sandbox-admin")

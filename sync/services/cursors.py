"""Cursors of incremental syncs: how far pulls, pushes and deletion checks have got, per lane.

The pull cursor is the CRM's Modified_Time high-water mark, sent as If-Modified-Since. It never moves past the
moment the pull started (minus SYNC_CURSOR_MARGIN_SECONDS): a record edited while the pages were being read, on a
page already passed, is then read again next time rather than missed. Zoho's times have whole seconds and
If-Modified-Since means "after", so the mark is rounded up to the next second once that second is safely past, so
that an unchanged CRM answers 304.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import IntegrityError, transaction

from sync.models import SyncCursor
from sync.services.context import RunContext


def cursor_margin() -> datetime.timedelta:
    return datetime.timedelta(seconds=float(getattr(settings, "SYNC_CURSOR_MARGIN_SECONDS", 120)))


def cursor_get(ctx: RunContext, key: str) -> SyncCursor:
    found = SyncCursor.objects.filter(organization=ctx.organization, crm_org_id=ctx.crm_org_id, key=key).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return SyncCursor.objects.create(organization=ctx.organization, crm_org_id=ctx.crm_org_id, key=key)
    except IntegrityError:
        return SyncCursor.objects.get(organization=ctx.organization, crm_org_id=ctx.crm_org_id, key=key)


def pull_key(crm_module: str, view_id: str) -> str:
    return f"pull:{crm_module}:{view_id or 'all'}"


def push_key(entity: str, sub_type: str, crm_module: str) -> str:
    return f"push:{entity}{'.' + sub_type if sub_type else ''}:{crm_module}"


def deleted_key(crm_module: str) -> str:
    return f"deleted:{crm_module}"


def parse_crm_time(value: object) -> datetime.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=datetime.UTC)


def next_pull_cursor(
    *,
    previous: datetime.datetime | None,
    max_seen: datetime.datetime | None,
    pull_started: datetime.datetime,
) -> datetime.datetime | None:
    """The cursor after a complete pull that started at `pull_started` and saw records up to `max_seen`."""
    if max_seen is None:
        return previous
    seen_second = max_seen.replace(microsecond=0)
    rounded = seen_second + datetime.timedelta(seconds=1)
    safe = pull_started - cursor_margin()
    # The last second seen is well before the pull started: nothing of it can still arrive. Otherwise stay at or
    # before the safe point, so that what changed around the pull is read again next time.
    candidate = rounded if rounded <= safe else min(seen_second, safe)
    if previous is not None and candidate < previous:
        return previous
    return candidate

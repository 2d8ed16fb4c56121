"""The receiving end of `POST /integrations/zoho-crm/notify/`: verify the channel's token, store each deal of the
notification once, enqueue its processing after commit. Nothing here calls the CRM.

The hot path is two statements and no explicit transaction: the channel (by its unique channel id, joined to its
connection) and one INSERT … ON CONFLICT DO NOTHING RETURNING for the deals, so a repeated delivery inserts
nothing and enqueues nothing.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone

from crm_integration.models import ConnectionStatus, CrmConnection
from triggers.models import ChannelStatus, DealEvent, EventStatus, NotificationChannel
from triggers.services.channels import token_hash

logger = logging.getLogger(__name__)

MAX_IDS = 100  # Zoho notifies at most 100 records per notification (reference §10)


class NotificationRefused(Exception):
    """The body cannot be accepted. `status` is the HTTP answer (400 malformed, 401 not ours)."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class Received:
    channel_id: str
    stored: list[int] = field(default_factory=list)
    duplicates: int = 0
    ignored: str = ""


def _parse(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise NotificationRefused("body: not valid JSON", status=400) from None
    if not isinstance(data, dict):
        raise NotificationRefused("body: expected a JSON object (Zoho's notification)", status=400)
    return data


@dataclass(frozen=True)
class _Channel:
    pk: int
    channel_id: str
    organization_id: int


def _channel_row(channel_id: str) -> tuple[Any, ...] | None:
    """(id, organization id, token hash, previous token hash, whether the previous token is still valid,
    connection status) of the active channel. One statement in SQL rather than through the ORM: it runs on every
    notification, and compiling the ORM query cost more CPU than the rest of the request."""
    channels = NotificationChannel._meta.db_table
    crm = CrmConnection._meta.db_table
    sql = (
        "SELECT ch.id, ch.organization_id, ch.token_hash, ch.previous_token_hash, "  # noqa: S608 (table names only)
        f"ch.previous_token_valid_until IS NOT NULL AND ch.previous_token_valid_until > %s, conn.status "
        f"FROM {channels} ch JOIN {crm} conn ON conn.id = ch.connection_id "
        "WHERE ch.channel_id = %s AND ch.status = %s"
    )
    now = db_connection.ops.adapt_datetimefield_value(timezone.now())
    with db_connection.cursor() as cursor:
        cursor.execute(sql, [now, channel_id, ChannelStatus.ACTIVE.value])
        row = cursor.fetchone()
    return tuple(row) if row is not None else None


def _verify(data: dict[str, Any]) -> _Channel:
    """The channel named by the body, if its token matches (constant-time). Unknown or wrong → 401, same message,
    so a caller learns nothing about which channels exist."""
    channel_id = str(data.get("channel_id") or "")
    token = data.get("token")
    refused = NotificationRefused("token: unknown channel or wrong token", status=401)
    if not channel_id.isdigit() or len(channel_id) > 20 or not isinstance(token, str) or not token:
        raise refused
    row = _channel_row(channel_id)
    given = token_hash(token)
    if row is None:
        hmac.compare_digest(given, given)  # the same work whether or not the channel exists
        raise refused
    pk, organization_id, current_hash, previous_hash, previous_valid, connection_status = row
    ok = hmac.compare_digest(given, current_hash)
    if not ok and previous_hash and previous_valid:
        ok = hmac.compare_digest(given, previous_hash)
    if not ok or connection_status != ConnectionStatus.CONNECTED:
        raise refused
    return _Channel(pk=int(pk), channel_id=channel_id, organization_id=int(organization_id))


def _dedup_key(channel_id: str, deal_id: str, operation: str, server_time: Any, body: bytes) -> str:
    """One deal of one notification: Zoho stamps each with its server_time, so a redelivery has the same key. A
    body without one falls back to the body's own hash (an identical body is the same delivery)."""
    stamp = str(server_time) if server_time is not None else "body:" + hashlib.sha256(body).hexdigest()
    return hashlib.sha256(f"{channel_id}|{deal_id}|{operation}|{stamp}".encode()).hexdigest()


def _insert_new(rows: list[tuple[Any, ...]]) -> list[int]:
    """INSERT … ON CONFLICT (dedup_key) DO NOTHING RETURNING id: the ids of the rows that were new (PostgreSQL
    and SQLite ≥ 3.35 both speak it). One statement, whatever the number of deals."""
    table = DealEvent._meta.db_table
    columns = (
        "channel_id",
        "organization_id",
        "dedup_key",
        "module",
        "deal_id",
        "operation",
        "server_time",
        "status",
        "result",
        "received_at",
    )
    placeholders = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(rows))
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES {placeholders} "  # noqa: S608 (no user text in the SQL)
        "ON CONFLICT (dedup_key) DO NOTHING RETURNING id"
    )
    params = [value for row in rows for value in row]
    with db_connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [int(r[0]) for r in cursor.fetchall()]


def notification_receive(body: bytes) -> Received:
    """Verifies and stores a notification; its deals are processed by `triggers.process_deal_event` after commit.
    Raises NotificationRefused (400 / 401) before anything is stored."""
    data = _parse(body)
    channel = _verify(data)
    received = Received(channel_id=channel.channel_id)
    module = str(data.get("module") or "")
    if module != "Deals":
        received.ignored = f"module '{module[:40]}' is not watched"
        logger.info("notification on channel %s ignored: %s", channel.channel_id, received.ignored)
        return received
    raw_ids = data.get("ids")
    if not isinstance(raw_ids, list):
        raise NotificationRefused("ids: expected a list of record ids", status=400)
    ids = list(dict.fromkeys(str(i) for i in raw_ids if str(i).isdigit() and len(str(i)) <= 40))[:MAX_IDS]
    operation = str(data.get("operation") or "")[:20]
    server_time = data.get("server_time")
    if not isinstance(server_time, int) or isinstance(server_time, bool):
        server_time = None
    if not ids:
        received.ignored = "no record ids"
        return received
    now = db_connection.ops.adapt_datetimefield_value(timezone.now())
    rows = [
        (
            channel.pk,
            channel.organization_id,
            _dedup_key(channel.channel_id, deal_id, operation, server_time, body),
            module,
            deal_id,
            operation,
            server_time,
            EventStatus.RECEIVED.value,
            "",
            now,
        )
        for deal_id in ids
    ]
    # One statement, atomic by itself: outside a transaction it commits at once and on_commit runs right away.
    received.stored = _insert_new(rows)
    if received.stored:
        new = list(received.stored)
        # robust: a broker that cannot be reached is logged, not answered 500. The events are stored, and beat's
        # events_requeue_stale enqueues them again; a 500 would only make Zoho resend what is already here.
        transaction.on_commit(lambda: _enqueue(new), robust=True)
    received.duplicates = len(ids) - len(received.stored)
    return received


def _enqueue(event_ids: list[int]) -> None:
    from triggers.tasks import process_deal_event

    for event_id in event_ids:
        process_deal_event.delay(event_id)


STALE_AFTER = datetime.timedelta(minutes=10)


def events_requeue_stale(*, now: datetime.datetime | None = None, limit: int = 1000) -> int:
    """Enqueues again the events still waiting STALE_AFTER after they arrived (oldest first, at most `limit`)."""
    cutoff = (now or timezone.now()) - STALE_AFTER
    ids = list(
        DealEvent.objects.filter(status=EventStatus.RECEIVED, received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("id", flat=True)[:limit]
    )
    if ids:
        logger.warning("%d deal event(s) waited more than %s: enqueued again", len(ids), STALE_AFTER)
        _enqueue(ids)
    return len(ids)

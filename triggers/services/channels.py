"""The CRM notification channel of a connection (Zoho's `actions/watch`): subscribe, renew, unsubscribe, and the
listeners that follow the connection's life (disabled, enabled, pointed at another CRM org).

The channel's token is random (`secrets.token_urlsafe`), given to the CRM once and kept here only as its SHA-256
hash; `channel_subscribe` returns the plaintext so that a caller (a test, the load bench) can sign notifications.
A renewal rotates the token; the previous hash stays valid for `PREVIOUS_TOKEN_GRACE` so notifications already on
their way are not refused. CRM calls are made outside any transaction of ours (STYLE.md rule 4).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import secrets

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from books.errors import ApplicationError
from books.models import User
from crm_integration.client import CrmClient, CrmError, WatchChannel, WatchResult
from crm_integration.models import CrmConnection
from crm_integration.services.clients import crm_client_for, crm_errors
from triggers.models import ChannelStatus, LogOutcome, NotificationChannel, TriggerLog, TriggerMode, TriggerPreference

logger = logging.getLogger(__name__)

EVENTS = ("Deals.create", "Deals.edit")
# Zoho keeps a channel at most a week; ask for a little less so a renewal is always possible in time.
CHANNEL_LIFETIME = datetime.timedelta(days=6)
RENEW_WITHIN = datetime.timedelta(days=1)
PREVIOUS_TOKEN_GRACE = datetime.timedelta(hours=1)
RENEWAL_LEASE = datetime.timedelta(minutes=10)
TOKEN_BYTES = 32  # token_urlsafe(32) is 43 characters; Zoho accepts 50 at most


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def notify_url() -> str:
    return settings.LB_PUBLIC_BASE_URL.rstrip("/") + reverse("triggers:notify")


def _new_channel_id() -> str:
    # 18 digits: fits Zoho's long, and is unique in practice (the column is unique besides).
    return str(10**17 + secrets.randbelow(9 * 10**17))


def _failed(result: WatchResult, verb: str) -> ApplicationError:
    return ApplicationError(
        f"triggers: Zoho CRM refused to {verb} the notification channel: {result.code}: {result.message}",
        code=1006,
        status=502,
        field="triggers",
    )


def channel_active(*, connection: CrmConnection) -> NotificationChannel | None:
    return (
        NotificationChannel.objects.filter(connection=connection, status=ChannelStatus.ACTIVE).order_by("-id").first()
    )


def channel_subscribe(
    *, connection: CrmConnection, token: str | None = None, client: CrmClient | None = None
) -> tuple[NotificationChannel, str]:
    """Subscribes the connection to Deals notifications (or renews its channel with a fresh token and expiry) and
    returns (channel, plaintext token). Raises ApplicationError when the CRM refuses."""
    token = token or secrets.token_urlsafe(TOKEN_BYTES)
    client = client or crm_client_for(connection)
    existing = channel_active(connection=connection)
    expiry = timezone.now() + CHANNEL_LIFETIME
    url = notify_url()
    result: WatchResult | None = None
    if existing is not None:
        wanted = WatchChannel(
            channel_id=existing.channel_id, events=EVENTS, notify_url=url, token=token, channel_expiry=expiry
        )
        with crm_errors(connection, field="triggers"):
            result = client.watch_update([wanted])[0]
        if not result.ok and result.code != "NOT_SUBSCRIBED":
            raise _failed(result, "renew")
    if existing is None or result is None or not result.ok:
        # No channel yet, or the CRM forgot it (it expired there): a new one.
        wanted = WatchChannel(
            channel_id=_new_channel_id(), events=EVENTS, notify_url=url, token=token, channel_expiry=expiry
        )
        with crm_errors(connection, field="triggers"):
            result = client.watch_enable([wanted])[0]
        if not result.ok:
            raise _failed(result, "subscribe")
    assert result is not None
    expires_at = result.channel_expiry or expiry
    now = timezone.now()
    with transaction.atomic():
        if existing is not None and existing.channel_id == wanted.channel_id:
            channel = NotificationChannel.objects.select_for_update().get(pk=existing.pk)
            channel.previous_token_hash = channel.token_hash
            channel.previous_token_valid_until = now + PREVIOUS_TOKEN_GRACE
        else:
            if existing is not None:
                NotificationChannel.objects.filter(pk=existing.pk).update(
                    status=ChannelStatus.DISABLED, status_reason="replaced by a new channel", updated_at=now
                )
            channel = NotificationChannel(
                connection=connection, organization_id=connection.organization_id, channel_id=wanted.channel_id
            )
        channel.crm_org_id = connection.crm_org_id
        channel.token_hash = token_hash(token)
        channel.notify_url = url
        channel.events = list(EVENTS)
        channel.expires_at = expires_at
        channel.status = ChannelStatus.ACTIVE
        channel.status_reason = ""
        channel.renewal_claimed_until = None
        channel.save()
    return channel, token


def channels_unsubscribe(*, connection: CrmConnection, reason: str, client: CrmClient | None = None) -> int:
    """Marks the connection's channels disabled and asks the CRM to drop them. A CRM that does not answer does not
    keep them alive here: a notification on a disabled channel is refused. Returns how many were active."""
    active = list(
        NotificationChannel.objects.filter(connection=connection, status=ChannelStatus.ACTIVE).values_list(
            "channel_id", flat=True
        )
    )
    if not active:
        return 0
    NotificationChannel.objects.filter(connection=connection, channel_id__in=active).update(
        status=ChannelStatus.DISABLED, status_reason=reason[:500], updated_at=timezone.now()
    )
    try:
        (client or crm_client_for(connection)).watch_disable(active)
    except (CrmError, ApplicationError) as exc:
        logger.warning("could not unsubscribe channels of connection %s: %s", connection.pk, exc)
    return len(active)


def channels_renew_due(*, now: datetime.datetime | None = None) -> int:
    """Beat: renews the active channels that expire within a day (a fresh token and expiry). Channels whose
    connection is no longer active or whose triggers are off are dropped instead. Returns how many were renewed."""
    now = now or timezone.now()
    due = (
        NotificationChannel.objects.filter(status=ChannelStatus.ACTIVE, expires_at__lt=now + RENEW_WITHIN)
        .filter(Q(renewal_claimed_until__isnull=True) | Q(renewal_claimed_until__lt=now))
        .select_related("connection", "connection__organization")
    )
    renewed = 0
    for channel in due:
        # Claim it with a conditional UPDATE (SQLite and PostgreSQL alike): a lease that an overlapping run sees,
        # so a channel is never renewed twice (nor its token rotated twice); a crashed run's lease just expires.
        claimed = (
            NotificationChannel.objects.filter(pk=channel.pk, status=ChannelStatus.ACTIVE)
            .filter(Q(renewal_claimed_until__isnull=True) | Q(renewal_claimed_until__lt=now))
            .update(renewal_claimed_until=now + RENEWAL_LEASE)
        )
        if not claimed:
            continue
        connection = channel.connection
        mode = (
            TriggerPreference.objects.filter(connection=connection).values_list("mode", flat=True).first()
            or TriggerMode.OFF
        )
        if not connection.is_active or mode == TriggerMode.OFF:
            channels_unsubscribe(connection=connection, reason="the integration is not active or triggers are off")
            continue
        try:
            channel_subscribe(connection=connection)
        except ApplicationError as exc:
            logger.warning("could not renew channel %s: %s", channel.channel_id, exc.message)
            TriggerLog.objects.create(
                organization_id=connection.organization_id,
                outcome=LogOutcome.FAILED,
                reason=f"The notification channel could not be renewed: {exc.message}",
            )
            continue
        renewed += 1
    return renewed


# --- listeners of crm_integration.hooks --------------------------------------------------------------------------


def _mode(connection: CrmConnection) -> str:
    return (
        TriggerPreference.objects.filter(connection=connection).values_list("mode", flat=True).first()
        or TriggerMode.OFF
    )


def on_connection_disabled(*, connection: CrmConnection, actor: User | None = None, **_: object) -> None:
    channels_unsubscribe(connection=connection, reason="the integration was disabled")


def on_connection_enabled(*, connection: CrmConnection, actor: User | None = None, **_: object) -> None:
    if _mode(connection) == TriggerMode.OFF:
        return
    try:
        channel_subscribe(connection=connection)
    except ApplicationError as exc:
        TriggerLog.objects.create(
            organization_id=connection.organization_id,
            outcome=LogOutcome.FAILED,
            reason=f"Deal triggers could not subscribe to Zoho CRM notifications again: {exc.message}",
        )


def on_crm_org_changed(*, connection: CrmConnection, actor: User | None = None, **_: object) -> None:
    """The channels and the chosen stages belong to the old CRM org: drop the channels (the new org never had
    them, so only our rows change) and turn triggers off until someone chooses stages of the new org."""
    now = timezone.now()
    NotificationChannel.objects.filter(connection=connection, status=ChannelStatus.ACTIVE).update(
        status=ChannelStatus.DISABLED,
        status_reason="the integration now points at another Zoho CRM org",
        updated_at=now,
    )
    changed = (
        TriggerPreference.objects.filter(connection=connection)
        .exclude(mode=TriggerMode.OFF)
        .update(mode=TriggerMode.OFF, create_quote_stage="", approve_quote_stage="", pipeline_stages=[], updated_at=now)
    )
    if changed:
        TriggerLog.objects.create(
            organization_id=connection.organization_id,
            outcome=LogOutcome.INFO,
            reason="Deal triggers were turned off: the integration now points at another Zoho CRM organization; "
            "use Change Preference to choose its stages.",
        )

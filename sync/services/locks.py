"""The per-connection lease that keeps two runs of one connection from overlapping.

Taken and renewed with conditional UPDATEs (no row lock is held, so it works the same on SQLite and PostgreSQL,
and no transaction stays open across the CRM calls of a run). The holder renews it at every page; a worker killed
mid-run stops renewing and its lease simply expires after SYNC_LOCK_TTL_SECONDS, after which another run may take
it (and marks the dead run as interrupted).
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from crm_integration.models import CrmConnection
from sync.models import SyncLock, SyncRun


class LeaseLost(Exception):
    """Another run took the lease (ours had expired): this run must stop writing."""


def lock_ttl() -> datetime.timedelta:
    return datetime.timedelta(seconds=int(getattr(settings, "SYNC_LOCK_TTL_SECONDS", 300)))


@dataclass
class Lease:
    connection_id: int
    owner: str
    # The run that held the lease before us, if its lease had expired (it was interrupted).
    previous_run_id: int | None = None

    def renew(self) -> None:
        updated = SyncLock.objects.filter(connection_id=self.connection_id, owner=self.owner).update(
            expires_at=timezone.now() + lock_ttl()
        )
        if updated != 1:
            raise LeaseLost(f"the sync lock of connection {self.connection_id} was taken by another run")

    def release(self) -> None:
        SyncLock.objects.filter(connection_id=self.connection_id, owner=self.owner).update(
            owner="", expires_at=None, run=None
        )


def _ensure_row(connection: CrmConnection) -> None:
    if SyncLock.objects.filter(connection=connection).exists():
        return
    try:
        with transaction.atomic():
            SyncLock.objects.create(connection=connection)
    except IntegrityError:  # another process created it between our check and our insert
        pass


def lock_acquire(*, connection: CrmConnection, run: SyncRun | None) -> Lease | None:
    """The lease, or None when a live run holds it."""
    _ensure_row(connection)
    now = timezone.now()
    previous = SyncLock.objects.filter(connection=connection).values_list("run_id", "owner").first()
    owner = secrets.token_hex(16)
    taken = (
        SyncLock.objects.filter(connection=connection)
        .filter(Q(owner="") | Q(expires_at__isnull=True) | Q(expires_at__lt=now))
        .update(owner=owner, expires_at=now + lock_ttl(), run=run)
    )
    if taken != 1:
        return None
    previous_run = previous[0] if previous and previous[1] else None
    return Lease(connection_id=connection.pk, owner=owner, previous_run_id=previous_run)


def lock_holder(*, connection: CrmConnection) -> SyncRun | None:
    """The run holding a live lease on the connection, if any."""
    lock = (
        SyncLock.objects.select_related("run")
        .filter(connection=connection, expires_at__gte=timezone.now())
        .exclude(owner="")
        .first()
    )
    return lock.run if lock is not None else None

"""What every phase of a run shares: the run row, the connection, the CRM client, the lease, and the buffers of
counts and failures that are written once per page (never per record)."""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import reset_queries
from django.db.models import F
from django.utils import timezone

from books.models import Organization
from crm_integration.client import CrmClient
from crm_integration.models import CrmConnection
from sync.models import Direction, Outcome, SyncFailure, SyncRun, SyncRunModule
from sync.services.locks import Lease

logger = logging.getLogger(__name__)

COUNT_FIELDS = ("added", "updated", "skipped", "deleted", "failed", "unchanged", "processed")


def page_size() -> int:
    return max(1, min(200, int(getattr(settings, "SYNC_PAGE_SIZE", 200))))


def push_batch_size() -> int:
    return max(1, min(100, int(getattr(settings, "SYNC_PUSH_BATCH", 100))))


@dataclass
class RunContext:
    run: SyncRun
    connection: CrmConnection
    client: CrmClient
    lease: Lease | None
    full: bool = False
    check_deletions: bool = False
    # Apply CRM records even when their content hash is unchanged (Fetch this contact from Zoho CRM).
    force_apply: bool = False
    progress: Callable[[SyncRun], None] | None = None
    started: datetime.datetime = field(default_factory=timezone.now)
    # Per Books entity, during a pull: whether an unlinked Books record exists at all (no: skip duplicate checks).
    duplicates_possible: dict[str, bool] = field(default_factory=dict)
    total_added: int = 0
    _counts: dict[tuple[str, str], dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    _failures: list[SyncFailure] = field(default_factory=list)
    _processed: int = 0

    @property
    def organization(self) -> Organization:
        return self.connection.organization

    @property
    def crm_org_id(self) -> str:
        return self.connection.crm_org_id

    # -- counting ---------------------------------------------------------------------------------------------
    def count(self, module: str, direction: str, what: str, n: int = 1) -> None:
        if n:
            bucket = self._counts[(module, direction)]
            bucket[what] = bucket.get(what, 0) + n
            if what == "processed":
                self._processed += n
            elif what == "added":
                self.total_added += n

    def fail(
        self,
        *,
        module: str,
        direction: str,
        reason_code: str,
        reason: str,
        crm_module: str = "",
        crm_id: str = "",
        books_id: int | None = None,
        name: str = "",
        outcome: str = Outcome.FAILED,
    ) -> None:
        self.count(module, direction, "failed" if outcome == Outcome.FAILED else "skipped")
        self._failures.append(
            SyncFailure(
                run=self.run,
                organization_id=self.run.organization_id,
                module=module,
                direction=direction,
                outcome=outcome,
                crm_module=crm_module,
                crm_id=crm_id or "",
                books_id=books_id,
                record_name=(name or "")[:255],
                reason_code=reason_code[:120],
                reason=reason,
            )
        )

    def flush(self, *, phase: str | None = None, total: int | None = None) -> None:
        """Writes the buffered counts and failures (a few queries), renews the lease and reports progress. Called
        once per page or batch, inside or outside the page's transaction."""
        for (module, direction), bucket in self._counts.items():
            updates = {k: F(k) + v for k, v in bucket.items() if v}
            if not updates:
                continue
            done = SyncRunModule.objects.filter(run=self.run, module=module, direction=direction).update(**updates)
            if not done:
                SyncRunModule.objects.get_or_create(run=self.run, module=module, direction=direction)
                SyncRunModule.objects.filter(run=self.run, module=module, direction=direction).update(**updates)
        self._counts.clear()
        if self._failures:
            SyncFailure.objects.bulk_create(self._failures, batch_size=500)
            self._failures = []
        now = timezone.now()
        fields: dict[str, Any] = {"heartbeat_at": now}
        if self._processed:
            fields["processed"] = F("processed") + self._processed
            self.run.processed += self._processed
            self._processed = 0
        if phase is not None:
            fields["phase"] = phase[:200]
            self.run.phase = phase[:200]
        if total is not None:
            fields["total"] = total
            self.run.total = total
        SyncRun.objects.filter(pk=self.run.pk).update(**fields)
        if self.lease is not None:
            self.lease.renew()
        if self.progress is not None:
            self.progress(self.run)
        # A long run must not keep every SQL string it ran (DEBUG keeps up to 9,000 of them).
        reset_queries()

    def note(self, text: str) -> None:
        if text not in self.run.notes:
            self.run.notes = [*self.run.notes, text]
            SyncRun.objects.filter(pk=self.run.pk).update(notes=self.run.notes)

    def module_error(self, module: str, direction: str, message: str) -> None:
        SyncRunModule.objects.get_or_create(run=self.run, module=module, direction=direction)
        SyncRunModule.objects.filter(run=self.run, module=module, direction=direction).update(error=message[:2000])


PULL = Direction.PULL.value
PUSH = Direction.PUSH.value

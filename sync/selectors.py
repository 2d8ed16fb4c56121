"""Reads of the sync engine, each scoped to a Books organization (STYLE.md rule 14): the history of runs, one run
with its counts, its failures grouped by reason, the run in progress, and the links of a record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, QuerySet, Window
from django.db.models.functions import RowNumber

from books.errors import NotFound
from books.models import Organization
from sync.models import FINISHED_STATUSES, LinkState, RecordLink, RunStatus, SyncFailure, SyncRun, SyncRunModule

MODULE_ORDER = ("customers", "vendors", "items")


def sync_run_list(*, organization: Organization) -> QuerySet[SyncRun]:
    """Runs newest first (paginate it)."""
    return SyncRun.objects.filter(organization=organization).order_by("-queued_at", "-id")


def sync_run_get(*, organization: Organization, run_id: Any) -> SyncRun:
    try:
        pk = int(str(run_id))
    except (TypeError, ValueError):
        raise NotFound(f"run_id: '{str(run_id)[:40]}' is not a sync run id", field="run_id") from None
    run = SyncRun.objects.filter(organization=organization, pk=pk).first()
    if run is None:
        raise NotFound(f"run_id: no sync run {pk} in this organization", field="run_id")
    return run


def sync_run_current(*, organization: Organization) -> SyncRun | None:
    """The run going now (or queued), if any."""
    return (
        SyncRun.objects.filter(organization=organization, status__in=(RunStatus.RUNNING, RunStatus.QUEUED))
        .exclude(trigger="single_record")
        .order_by("-queued_at", "-id")
        .first()
    )


def sync_run_last_finished(*, organization: Organization) -> SyncRun | None:
    return (
        SyncRun.objects.filter(organization=organization, status__in=FINISHED_STATUSES)
        .exclude(trigger="single_record")
        .order_by("-finished_at", "-id")
        .first()
    )


@dataclass
class ModuleCounts:
    module: str
    added: int = 0
    updated: int = 0
    skipped: int = 0
    deleted: int = 0
    failed: int = 0
    processed: int = 0
    pushed_added: int = 0
    pushed_updated: int = 0
    errors: list[str] = field(default_factory=list)


def sync_run_counts(*, runs: list[SyncRun]) -> dict[int, list[ModuleCounts]]:
    """Per run, per module: the counts both directions together (added/updated/… in Books and in the CRM), with what
    was sent to the CRM apart. One query for all the runs."""
    by_run: dict[int, dict[str, ModuleCounts]] = {r.pk: {} for r in runs}
    for row in SyncRunModule.objects.filter(run__in=[r.pk for r in runs]):
        counts = by_run[row.run_id].setdefault(row.module, ModuleCounts(module=row.module))
        counts.added += row.added
        counts.updated += row.updated
        counts.skipped += row.skipped
        counts.deleted += row.deleted
        counts.failed += row.failed
        counts.processed += row.processed
        if row.direction == "push":
            counts.pushed_added += row.added
            counts.pushed_updated += row.updated
        if row.error:
            counts.errors.append(row.error)
    order = {m: i for i, m in enumerate(MODULE_ORDER)}
    return {
        run_id: sorted(modules.values(), key=lambda c: order.get(c.module, 99)) for run_id, modules in by_run.items()
    }


@dataclass
class FailureGroup:
    reason_code: str
    outcome: str
    count: int
    reason: str  # the sentence of the first one
    examples: list[SyncFailure]


def sync_failures_grouped(*, run: SyncRun, examples: int = 5) -> list[FailureGroup]:
    """A run's failures grouped by reason, biggest group first, with the first few records of each (two queries)."""
    groups = list(
        SyncFailure.objects.filter(run=run)
        .values("reason_code", "outcome")
        .annotate(n=Count("id"))
        .order_by("-n", "reason_code")
    )
    firsts: dict[tuple[str, str], list[SyncFailure]] = {}
    if groups:
        numbered = (
            SyncFailure.objects.filter(run=run)
            .annotate(rank=Window(RowNumber(), partition_by=[F("reason_code"), F("outcome")], order_by=F("id").asc()))
            .filter(rank__lte=examples)
            .order_by("id")
        )
        for failure in numbered:
            firsts.setdefault((failure.reason_code, failure.outcome), []).append(failure)
    return [
        FailureGroup(
            reason_code=g["reason_code"],
            outcome=g["outcome"],
            count=g["n"],
            reason=firsts[(g["reason_code"], g["outcome"])][0].reason,
            examples=firsts[(g["reason_code"], g["outcome"])],
        )
        for g in groups
    ]


def sync_failure_list(*, run: SyncRun, reason_code: str | None = None) -> QuerySet[SyncFailure]:
    """A run's failures (paginate it), optionally one group."""
    qs = SyncFailure.objects.filter(run=run).order_by("id")
    if reason_code:
        qs = qs.filter(reason_code=reason_code)
    return qs


def record_links_for(*, organization: Organization, crm_org_id: str, entity: str, books_id: int) -> list[RecordLink]:
    """The live links of one Books record to the connection's CRM org."""
    return list(
        RecordLink.objects.filter(
            organization=organization,
            crm_org_id=crm_org_id,
            entity=entity,
            books_id=books_id,
            state=LinkState.LINKED,
        ).order_by("crm_module")
    )

"""Sync runs: starting one (Instant Sync, Save and Sync, the schedule, the crm_sync command), running it under the
connection's lease, and recording its history.

`sync_start` is what the pages call (through crm_integration.hooks): it checks that a sync may start, records a
queued `SyncRun` and enqueues `sync.run_sync` after commit. `run_execute` is what the task (and `crm_sync`) runs:
take the lease ("already running" → the run is recorded as not run), sync each enabled module in the order
customers → vendors → items, and finish the run with its status and the connection's next sync time.
`connections_claim_due` is the beat's: it claims the connections whose next sync is due.

A module's phases: customers and vendors pull then push; items, both ways, apply the Books-first rule (see
`module_sync`). A failure of one record never stops the run; a module the CRM refuses (e.g. a view deleted in the
CRM) is recorded and the next module runs; a CRM that is down, or credentials it refuses, end the run.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from books.errors import ApplicationError, Conflict
from books.models import CustomFieldDefinition, User
from crm_integration.client import CrmClient, CrmError, CrmPermanent, CrmReauthenticate, CrmRetryLater
from crm_integration.models import MODULE_ORDER, ConnectionStatus, CrmConnection, ModuleConfig, SyncModule
from crm_integration.selectors import field_mappings_by_config
from crm_integration.services.clients import connection_mark_needs_reauth, crm_client_for, crm_error_message
from sync.models import FINISHED_STATUSES, Direction, IdFieldMode, RunStatus, SyncRun, SyncRunModule, Trigger
from sync.services.context import PULL, PUSH, RunContext
from sync.services.deletions import books_deletions, crm_deletions, deletions_due
from sync.services.idfield import id_field_ensure
from sync.services.lanes import ModulePlan, module_plan
from sync.services.locks import LeaseLost, lock_acquire, lock_holder
from sync.services.pull import pull_lane
from sync.services.push import push_lane, reconcile_intents

logger = logging.getLogger(__name__)

MODULE_LABELS = {m.value: m.label for m in SyncModule}


# --- may a sync start? ----------------------------------------------------------------------------------------


def sync_refusal(*, connection: CrmConnection, modules: Sequence[str] | None = None) -> str:
    """Why a sync of `connection` cannot start now ("" when it can)."""
    if connection.status == ConnectionStatus.DISABLED:
        return "The integration is disabled: enable it to sync."
    if connection.status == ConnectionStatus.NEEDS_REAUTH:
        return "Zoho CRM refused the saved credentials: use Update Credentials, then sync."
    if connection.paused:
        return "Sync is paused: click Resume to sync again."
    enabled = set(ModuleConfig.objects.filter(connection=connection, enabled=True).values_list("module", flat=True))
    if not enabled:
        return "No module is configured yet: click Configure Now next to Customers, Vendors or Items."
    for module in modules or ():
        if module not in SyncModule.values:
            return f"modules: '{str(module)[:40]}' is not one of {', '.join(SyncModule.values)}"
        if module not in enabled:
            return f"modules: {MODULE_LABELS[module]} is not configured for sync; click Configure Now first"
    return ""


def _clean_modules(modules: Sequence[str] | None) -> list[str]:
    if modules is None:
        return []
    if isinstance(modules, str) or not all(isinstance(m, str) for m in modules):
        raise ApplicationError("modules: must be a list of module names", field="modules")
    return [m for m in MODULE_ORDER if m in set(modules)] + [m for m in modules if m not in MODULE_ORDER]


def sync_start(
    *,
    connection: CrmConnection,
    actor: User | None,
    trigger: str,
    modules: Sequence[str] | None = None,
    enqueue: bool = True,
) -> SyncRun:
    """Queues a sync of the connection (every enabled module, or `modules`) and returns its run. With
    `enqueue=False` the caller runs it (`run_execute`, as the crm_sync command does).

    Refused with ApplicationError (409) when the connection is disabled, paused or has nothing to sync, and when a
    run of it is already going or queued ("already running": a sync never runs twice at once)."""
    if trigger not in Trigger.values or trigger == Trigger.SINGLE_RECORD:
        raise ApplicationError(f"trigger: '{str(trigger)[:20]}' is not a sync trigger", field="trigger")
    wanted = _clean_modules(modules)
    refusal = sync_refusal(connection=connection, modules=wanted)
    if refusal:
        raise Conflict(refusal, field="modules" if refusal.startswith("modules:") else "sync")
    holder = lock_holder(connection=connection)
    if holder is not None:
        raise Conflict("A sync is already running for this organization; it will finish on its own.", field="sync")
    queued = SyncRun.objects.filter(connection=connection, status=RunStatus.QUEUED).order_by("-queued_at").first()
    if queued is not None and queued.queued_at > timezone.now() - datetime.timedelta(minutes=10):
        raise Conflict("A sync is already queued for this organization; it starts in a moment.", field="sync")
    run = SyncRun.objects.create(
        organization=connection.organization,
        connection=connection,
        crm_org_id=connection.crm_org_id,
        trigger=trigger,
        modules=wanted,
        requested_by=actor,
    )
    if enqueue:
        transaction.on_commit(lambda: _enqueue(run))
    return run


def _enqueue(run: SyncRun) -> None:
    from sync.tasks import run_sync

    assert run.connection_id is not None
    run_sync.delay(connection_id=run.connection_id, trigger=run.trigger, modules=run.modules, run_id=run.pk)


def sync_start_for_hooks(
    *, connection: CrmConnection, actor: User | None, trigger: str, modules: Sequence[str] | None
) -> str:
    """The sync starter crm_integration calls for Save and Sync and Instant Sync: a sentence for the admin."""
    sync_start(connection=connection, actor=actor, trigger=trigger, modules=modules)
    return "Sync started. Its progress and results are shown below and in Show Sync History."


# --- the schedule -------------------------------------------------------------------------------------------


def connections_claim_due(*, now: datetime.datetime | None = None, limit: int = 100) -> list[SyncRun]:
    """The beat's work: claims every active, unpaused connection with something to sync whose next sync is due,
    moves its next sync one interval on (so an overlapping beat cannot claim it again) and queues a run for it.
    On PostgreSQL the claim skips rows another beat holds (select_for_update(skip_locked=True))."""
    now = now or timezone.now()
    enabled = ModuleConfig.objects.filter(connection=OuterRef("pk"), enabled=True)
    due = (
        CrmConnection.objects.filter(status=ConnectionStatus.CONNECTED, paused=False, next_sync_at__lte=now)
        .filter(Exists(enabled))
        .order_by("next_sync_at")
    )
    runs: list[SyncRun] = []
    with transaction.atomic():
        if db_connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        claimed = list(due[:limit])
        for connection in claimed:
            if lock_holder(connection=connection) is not None:
                # Still running from before: look again in a minute rather than queue a run that would be refused.
                connection.next_sync_at = now + datetime.timedelta(minutes=1)
            else:
                connection.next_sync_at = now + datetime.timedelta(minutes=connection.sync_interval_minutes)
                runs.append(
                    SyncRun.objects.create(
                        organization_id=connection.organization_id,
                        connection=connection,
                        crm_org_id=connection.crm_org_id,
                        trigger=Trigger.AUTO,
                    )
                )
        CrmConnection.objects.bulk_update(claimed, ["next_sync_at"])
        for run in runs:
            transaction.on_commit(lambda run=run: _enqueue(run))  # type: ignore[misc]
    return runs


# --- running ------------------------------------------------------------------------------------------------


@dataclass
class RunOutcome:
    run: SyncRun
    # Set when the run ended because Zoho CRM was not answering: the task retries later.
    retry_later: CrmRetryLater | None = None


def run_for_task(
    *, connection_id: int, trigger: str, modules: Sequence[str] | None, run_id: int | None
) -> SyncRun | None:
    """The run a task should execute: the queued run it was given, or a new one (a retry, or the run was lost).
    None when there is nothing to do (the run already finished: the task was delivered twice)."""
    connection = CrmConnection.objects.select_related("organization").filter(pk=connection_id).first()
    if connection is None:
        return None
    if run_id is not None:
        run = SyncRun.objects.filter(pk=run_id, connection=connection).first()
        if run is not None and run.status == RunStatus.QUEUED:
            return run
        if run is not None and (run.status in FINISHED_STATUSES or lock_holder(connection=connection) == run):
            return None
        # Running but its lease expired: the worker died; run_execute marks it interrupted and a new run goes.
    return SyncRun.objects.create(
        organization_id=connection.organization_id,
        connection=connection,
        crm_org_id=connection.crm_org_id,
        trigger=trigger if trigger in Trigger.values else Trigger.AUTO,
        modules=list(modules or []),
    )


def _finish(run: SyncRun, status: str, error: str = "") -> SyncRun:
    run.status = status
    run.error = error[:5000]
    run.finished_at = timezone.now()
    run.phase = ""
    SyncRun.objects.filter(pk=run.pk).update(
        status=run.status, error=run.error, finished_at=run.finished_at, phase="", notes=run.notes
    )
    return run


def _refuse(run: SyncRun, reason: str) -> SyncRun:
    """Records a queued run as not run — unless another delivery of its task already took it."""
    SyncRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
        status=RunStatus.REFUSED, error=reason, finished_at=timezone.now()
    )
    run.refresh_from_db()
    return run


def _mark_interrupted(run_id: int | None, by: SyncRun) -> None:
    if run_id is None or run_id == by.pk:
        return
    SyncRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
        status=RunStatus.FAILED,
        finished_at=timezone.now(),
        phase="",
        error="The worker running this sync stopped before it finished; the next sync picked up where it left off.",
    )


def run_execute(
    *,
    run: SyncRun,
    client: CrmClient | None = None,
    full: bool = False,
    progress: Callable[[SyncRun], None] | None = None,
) -> RunOutcome:
    """Runs a queued run now, in this process, under the connection's lease."""
    if run.connection_id is None:
        raise ApplicationError("run: the connection of this run no longer exists", field="run", status=409)
    connection = CrmConnection.objects.select_related("organization").get(pk=run.connection_id)
    if run.status != RunStatus.QUEUED:
        raise ApplicationError(f"run: run {run.pk} is {run.status}, not queued", field="run", status=409)
    # Checked again when the run starts: Pause (or Disable) takes effect for runs still queued.
    refusal = sync_refusal(connection=connection, modules=run.modules)
    if refusal:
        return RunOutcome(_refuse(run, refusal))
    lease = lock_acquire(connection=connection, run=run)
    if lease is None:
        return RunOutcome(_refuse(run, "Already running: another sync of this organization is going."))
    # Claimed with a conditional UPDATE: a second delivery of the same task finds it taken and leaves it alone.
    started = timezone.now()
    if not SyncRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=started
    ):
        lease.release()
        run.refresh_from_db()
        return RunOutcome(run)
    _mark_interrupted(lease.previous_run_id, run)
    run.status = RunStatus.RUNNING
    run.started_at = started
    retry: CrmRetryLater | None = None
    try:
        ctx = RunContext(
            run=run,
            connection=connection,
            client=client or crm_client_for(connection),
            lease=lease,
            full=full,
            check_deletions=full,
            progress=progress,
        )
        status, error = _run_modules(ctx)
        if isinstance(error, CrmRetryLater):
            retry = error
            error = crm_error_message(error)
        _finish(run, status, str(error or ""))
    except LeaseLost as exc:
        _finish(run, RunStatus.FAILED, f"Stopped: {exc}.")
    except Exception as exc:
        logger.exception("sync run %s failed", run.pk)
        _finish(run, RunStatus.FAILED, f"Unexpected error: {exc.__class__.__name__}: {exc}")
    finally:
        lease.release()
        _schedule_next(connection, run)
    return RunOutcome(run, retry_later=retry)


def _schedule_next(connection: CrmConnection, run: SyncRun) -> None:
    now = timezone.now()
    fields: dict[str, object] = {"last_sync_at": run.finished_at or now}
    if connection.status == ConnectionStatus.CONNECTED:
        fields["next_sync_at"] = now + datetime.timedelta(minutes=connection.sync_interval_minutes)
    CrmConnection.objects.filter(pk=connection.pk, status=ConnectionStatus.CONNECTED).update(**fields)


def _run_modules(ctx: RunContext) -> tuple[str, str | CrmRetryLater]:
    connection = ctx.connection
    configs = {c.module: c for c in ModuleConfig.objects.filter(connection=connection, enabled=True)}
    maps = field_mappings_by_config(connection=connection)
    custom_defs = list(CustomFieldDefinition.objects.filter(organization=ctx.organization, is_active=True))
    wanted = ctx.run.modules or list(MODULE_ORDER)
    module_errors = 0
    for module in MODULE_ORDER:
        config = configs.get(module)
        if config is None or module not in wanted:
            continue
        plan = module_plan(
            config=config,
            maps=maps.get(config.pk, []),
            custom_defs=custom_defs,
            two_way_allowed=connection.two_way_allowed,
        )
        SyncRunModule.objects.get_or_create(run=ctx.run, module=module, direction=Direction.PULL)
        if plan.push:
            SyncRunModule.objects.get_or_create(run=ctx.run, module=module, direction=Direction.PUSH)
        try:
            _module_sync_checking_access(ctx, plan)
        except CrmReauthenticate as exc:
            message = crm_error_message(exc)
            connection_mark_needs_reauth(connection=connection, reason=message)
            ctx.module_error(module, PULL, message)
            return RunStatus.FAILED, message
        except CrmRetryLater as exc:
            ctx.module_error(module, PULL, crm_error_message(exc))
            return RunStatus.FAILED, exc
        except CrmPermanent as exc:
            # E.g. a view deleted in the CRM: this module cannot sync; the others still do.
            module_errors += 1
            ctx.module_error(module, PULL, crm_error_message(exc))
        except CrmError as exc:
            module_errors += 1
            ctx.module_error(module, PULL, crm_error_message(exc))
    counts = SyncRunModule.objects.filter(run=ctx.run)
    failed = sum(c.failed for c in counts)
    if module_errors and module_errors == len([m for m in MODULE_ORDER if m in configs and m in wanted]):
        return RunStatus.FAILED, "No module could be synced; see the modules' errors."
    if module_errors or failed:
        return RunStatus.PARTIAL, ""
    return RunStatus.SUCCEEDED, ""


def _module_sync_checking_access(ctx: RunContext, plan: ModulePlan, attempts: int = 3) -> None:
    """module_sync, run again when an API call was refused twice with 401 although the connection still works.

    The client refreshes its token once on a 401 and takes a second 401 as "reconnect". A token can also be refused
    for a passing reason (a token revoked by a concurrent refresh, a proxy hiccup): before the connection is marked
    as needing new credentials — which stops every sync until a person acts — one cheap call checks that the
    credentials still get in. Running the module again is safe: every phase is idempotent."""
    for attempt in range(attempts):
        try:
            module_sync(ctx, plan)
            return
        except CrmReauthenticate as exc:
            if exc.status != 401 or attempt == attempts - 1:
                raise
            try:
                ctx.client.get_org()
            except CrmReauthenticate:
                raise exc from None
            logger.warning("run %s: a 401 that a new token cured; running %s again", ctx.run.pk, plan.module)


def module_sync(ctx: RunContext, plan: ModulePlan) -> None:
    """One module: customers and vendors pull then push (the CRM goes first: it wins when both sides changed);
    items both ways go Books first.

    Items both ways are applied in the order pull → push too, but with the Books-first rules, which give the same
    end state as pushing first while duplicates by name can be found in one query per page (a push cannot see the
    CRM's products without reading them): a linked item changed on both sides keeps the Books values (the pull leaves
    it, the push sends it), and a duplicate by name falls in the CRM — Overwrite links the product to the Books item
    and the push writes the Books values over it; Clone keeps both on both sides; Skip syncs neither."""
    label = MODULE_LABELS[plan.module]
    if plan.push:
        # Before the pull, so that the pull can read (and relink by) Ledgerbridge's id field — or, without one, so
        # that records an interrupted insert left in the CRM are linked before the pull takes them for new ones.
        for lane in plan.push:
            if id_field_ensure(ctx, lane.crm_module).mode == IdFieldMode.INTENT:
                reconcile_intents(ctx, lane)
    for lane in plan.pull:
        pull_lane(ctx, lane, label=label)
    for lane in plan.push:
        push_lane(ctx, lane, label=label)
    checked: set[str] = set()
    for lane in plan.pull:
        if lane.crm_module not in checked and deletions_due(ctx, lane.crm_module):
            checked.add(lane.crm_module)
            crm_deletions(ctx, module=plan.module, crm_module=lane.crm_module)
    lanes = {(lane.entity, lane.crm_module): lane for lane in (*plan.pull, *plan.push)}
    for lane in plan.pull:
        if lane.orphans is not None:
            lanes[(lane.orphans.entity, lane.orphans.crm_module)] = lane.orphans
    if checked:
        for lane in lanes.values():
            books_deletions(ctx, lane)
    ctx.flush(phase=f"{label}: done")


__all__ = ["PUSH", "RunOutcome", "connections_claim_due", "run_execute", "sync_refusal", "sync_start"]

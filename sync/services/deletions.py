"""Deletions are not propagated (DESIGN.md): a record deleted on one side stays on the other. They are noticed and
counted in the history, and the link is marked so that the record is neither brought back nor pushed again.

- CRM side: the client's deleted list (`GET /{module}/deleted`, If-Modified-Since = the lane's deletion cursor).
  A deleted CRM record's Books counterpart loses its zcrm_* id (it is no longer linked with Zoho CRM).
- Books side: links whose Books record no longer exists (one UPDATE per lane).

Checked at most every SYNC_DELETIONS_CHECK_MINUTES per CRM module (and on every full sync), so that an incremental
sync that finds nothing new costs one read call per module.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sync.models import LinkState, RecordLink, SyncCursor
from sync.services.context import PULL, PUSH, RunContext
from sync.services.cursors import cursor_get, deleted_key, parse_crm_time
from sync.services.lanes import ADAPTERS_BY_ENTITY, ZCRM_FIELD, Lane


def deletions_interval() -> datetime.timedelta:
    return datetime.timedelta(minutes=float(getattr(settings, "SYNC_DELETIONS_CHECK_MINUTES", 30)))


def deletions_due(ctx: RunContext, crm_module: str) -> bool:
    if ctx.full or ctx.check_deletions:
        return True
    cursor = cursor_get(ctx, deleted_key(crm_module))
    return cursor.modified_since is None or cursor.updated_at <= timezone.now() - deletions_interval()


def crm_deletions(ctx: RunContext, *, module: str, crm_module: str) -> int:
    """Marks the links of CRM records deleted since the last check; returns how many."""
    cursor = cursor_get(ctx, deleted_key(crm_module))
    started = timezone.now()
    if cursor.modified_since is None:
        # First check: nothing linked can have been deleted before now without a later check seeing it.
        SyncCursor.objects.filter(pk=cursor.pk).update(modified_since=started, updated_at=started)
        return 0
    marked = 0
    latest: datetime.datetime | None = None
    batch: list[str] = []
    for entry in ctx.client.iter_deleted(crm_module, modified_since=cursor.modified_since):
        batch.append(str(entry.get("id") or ""))
        when = parse_crm_time(entry.get("deleted_time"))
        if when is not None and (latest is None or when > latest):
            latest = when
        if len(batch) >= 200:
            marked += _mark_crm_deleted(ctx, module=module, crm_module=crm_module, ids=batch)
            batch = []
    if batch:
        marked += _mark_crm_deleted(ctx, module=module, crm_module=crm_module, ids=batch)
    new_since = cursor.modified_since
    if latest is not None:
        new_since = max(new_since, min(latest, started - datetime.timedelta(seconds=60)))
    SyncCursor.objects.filter(pk=cursor.pk).update(modified_since=new_since, updated_at=started)
    return marked


def _mark_crm_deleted(ctx: RunContext, *, module: str, crm_module: str, ids: Sequence[str]) -> int:
    with transaction.atomic():
        links = list(
            RecordLink.objects.filter(
                organization=ctx.organization,
                crm_org_id=ctx.crm_org_id,
                crm_module=crm_module,
                crm_id__in=[i for i in ids if i],
                crm_deleted=False,
            )
        )
        if not links:
            return 0
        zcrm = ZCRM_FIELD[crm_module]
        for entity in {link.entity for link in links}:
            crm_ids = [link.crm_id for link in links if link.entity == entity and link.state == LinkState.LINKED]
            books_ids = [link.books_id for link in links if link.entity == entity]
            model = ADAPTERS_BY_ENTITY[entity][0].model
            # No longer linked with Zoho CRM: the CRM Customers filter and the API's zcrm_* fields follow.
            model._default_manager.filter(
                organization=ctx.organization, pk__in=books_ids, **{f"{zcrm}__in": crm_ids}
            ).update(**{zcrm: ""})
        RecordLink.objects.filter(pk__in=[link.pk for link in links]).update(crm_deleted=True)
        counted = sum(1 for link in links if link.state == LinkState.LINKED)
        ctx.count(module, PULL, "deleted", counted)
        ctx.flush()
    return counted


def books_deletions(ctx: RunContext, lane: Lane) -> int:
    """Marks the links of the lane whose Books record was deleted; returns how many."""
    model = lane.adapter.model
    existing = model._default_manager.filter(organization=ctx.organization).values("pk")
    gone = RecordLink.objects.filter(
        organization=ctx.organization,
        crm_org_id=ctx.crm_org_id,
        entity=lane.entity,
        crm_module=lane.crm_module,
        state=LinkState.LINKED,
        books_deleted=False,
    ).exclude(books_id__in=existing)
    marked = gone.update(books_deleted=True)
    if marked:
        ctx.count(lane.module, PUSH, "deleted", marked)
        ctx.flush()
    return marked

"""The push of a lane (Sync both ways only): Books records with no link, or changed since their link's last sync,
sent to the CRM in batches of at most 100, their links saved per batch.

- Candidates are the Books records updated since the lane's push cursor (all of them the first time), read in
  primary-key order, 100 at a time. A record whose Books-side hash equals its link's is unchanged and not sent: a
  change that came from the CRM is never echoed back.
- Records already linked are updated by id; new ones are sent as an upsert on the Ledgerbridge ID field, so that
  sending a batch again after a crash (written in the CRM, links not saved) updates instead of duplicating.
  Updates and inserts fill separate batches, so N changed records cost at most ceil(N/100) calls of each kind.
- Without that field (the CRM refused to create it) a new record is first recorded as a `PushIntent`, then inserted;
  after a crash, the next push looks for the intents' records by name before sending anything again.
- Skipped duplicates and records deleted in the CRM are not pushed (deletions are not propagated).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from crm_integration import mapping
from crm_integration.client import CrmRecord, RecordResult
from crm_integration.models import CrmModule
from crm_integration.zoho import criteria
from sync.models import CrmIdField, IdFieldMode, LinkState, Outcome, PushIntent, RecordLink
from sync.services import idfield
from sync.services.bulk import insert_rows, update_rows
from sync.services.context import PUSH, RunContext, push_batch_size
from sync.services.cursors import cursor_get, cursor_margin, parse_crm_time, push_key
from sync.services.lanes import CONTACT_PERSON, NAME_FIELD, Lane, books_hash_of, books_values, crm_hash_of

logger = logging.getLogger(__name__)


@dataclass
class Outgoing:
    row: Any
    record: CrmRecord
    books_hash: str
    link: RecordLink | None
    name: str


def _display(lane: Lane, row: Any) -> str:
    return lane.adapter.display_name(row)


def build_record(lane: Lane, row: Any, *, parent_crm_id: str = "") -> CrmRecord:
    """A Books record as the CRM record the lane sends (raises MappingError for a value the CRM cannot take)."""
    values, custom = books_values(lane, row)
    record = mapping.books_to_crm(values, custom, lane.active_maps(), lane.custom_defs)
    # An empty owner is "leave it" (the CRM makes the API user the owner of a new record), not "no owner", which
    # Zoho refuses as an invalid id.
    for m in lane.active_maps():
        if m.crm_data_type in ("ownerlookup", "lookup") and record.get(m.crm_field) is None:
            record.pop(m.crm_field, None)
    # Zoho requires a contact's Last Name; an individual customer may only have a display name.
    if lane.crm_module == CrmModule.CONTACTS and not record.get("Last_Name"):
        fallback = getattr(row, "last_name", "") or getattr(row, "contact_name", "")
        if fallback:
            record["Last_Name"] = fallback
    if lane.is_persons and parent_crm_id:
        record["Account_Name"] = {"id": parent_crm_id}
    return record


def push_lane(ctx: RunContext, lane: Lane, *, label: str) -> None:
    id_field = idfield.id_field_ensure(ctx, lane.crm_module)
    cursor = cursor_get(ctx, push_key(lane.entity, lane.adapter.sub_type, lane.crm_module))
    fingerprint = lane.fingerprint()
    full = ctx.full or cursor.full_resync or cursor.fingerprint != fingerprint
    since = None if full else cursor.books_since
    started = timezone.now()
    if id_field.mode == IdFieldMode.INTENT:
        reconcile_intents(ctx, lane)  # done before the pull already; again in case this lane runs alone

    candidates = lane.adapter.queryset(ctx.organization)
    if since is not None:
        candidates = candidates.filter(updated_at__gte=since)
    total = candidates.count()
    ctx.flush(phase=f"{label}: sending to {lane.crm_module} (0 of {total})")
    batch = push_batch_size()
    updates: list[Outgoing] = []
    inserts: list[Outgoing] = []
    last_pk = 0
    seen = 0
    while True:
        rows = list(candidates.filter(pk__gt=last_pk).order_by("pk")[:batch])
        if not rows:
            break
        last_pk = rows[-1].pk
        seen += len(rows)
        _prepare(ctx, lane, rows, id_field, updates, inserts)
        while len(updates) >= batch:
            _send_updates(ctx, lane, updates[:batch])
            del updates[:batch]
        while len(inserts) >= batch:
            _send_inserts(ctx, lane, inserts[:batch], id_field)
            del inserts[:batch]
        ctx.flush(phase=f"{label}: sending to {lane.crm_module} ({seen} of {total})")
    if updates:
        _send_updates(ctx, lane, updates)
    if inserts:
        _send_inserts(ctx, lane, inserts, id_field)
    ctx.flush()
    # A Books transaction that began before the push started may commit after we read: look back a margin.
    type(cursor).objects.filter(pk=cursor.pk).update(
        books_since=started - max(cursor_margin(), datetime.timedelta(seconds=60)),
        fingerprint=fingerprint,
        full_resync=False,
    )


def _prepare(
    ctx: RunContext,
    lane: Lane,
    rows: Sequence[Any],
    id_field: CrmIdField,
    updates: list[Outgoing],
    inserts: list[Outgoing],
) -> None:
    """Decides, for a chunk of candidates, what is sent (one or two queries for the chunk)."""
    org = ctx.organization
    links = {
        link.books_id: link
        for link in RecordLink.objects.filter(
            organization=org,
            crm_org_id=ctx.crm_org_id,
            entity=lane.entity,
            crm_module=lane.crm_module,
            books_id__in=[r.pk for r in rows],
        )
    }
    parents: dict[int, str] = {}
    if lane.is_persons:
        parents = dict(
            RecordLink.objects.filter(
                organization=org,
                crm_org_id=ctx.crm_org_id,
                crm_module=CrmModule.ACCOUNTS,
                state=LinkState.LINKED,
                crm_deleted=False,
                books_id__in={r.contact_id for r in rows},
            ).values_list("books_id", "crm_id")
        )
    ctx.count(lane.module, PUSH, "processed", len(rows))
    for row in rows:
        link = links.get(row.pk)
        if link is not None and (link.state == LinkState.SKIPPED or link.crm_deleted):
            ctx.count(lane.module, PUSH, "unchanged")
            continue
        books_hash = books_hash_of(lane, row)
        if link is not None and link.books_hash == books_hash:
            ctx.count(lane.module, PUSH, "unchanged")
            continue
        parent_crm_id = ""
        if lane.is_persons:
            parent_crm_id = parents.get(row.contact_id, "")
            if not parent_crm_id:
                ctx.fail(
                    module=lane.module,
                    direction=PUSH,
                    reason_code="parent_not_synced",
                    reason="not sent: its customer is not synced with a Zoho CRM account",
                    books_id=row.pk,
                    name=_display(lane, row),
                    outcome=Outcome.SKIPPED,
                )
                continue
        try:
            record = build_record(lane, row, parent_crm_id=parent_crm_id)
        except mapping.MappingError as exc:
            ctx.fail(
                module=lane.module,
                direction=PUSH,
                reason_code=f"invalid_value:{exc.field}",
                reason=f"{exc.field}: {exc.reason}",
                crm_module=lane.crm_module,
                books_id=row.pk,
                name=_display(lane, row),
            )
            continue
        out = Outgoing(row=row, record=record, books_hash=books_hash, link=link, name=_display(lane, row))
        if link is not None:
            record["id"] = link.crm_id
            updates.append(out)
        else:
            if id_field.mode == IdFieldMode.UPSERT:
                record[id_field.api_name] = idfield.id_value(
                    organization_id=org.pk, entity=lane.entity, books_id=row.pk
                )
            inserts.append(out)


def _crm_failure(ctx: RunContext, lane: Lane, out: Outgoing, result: RecordResult) -> None:
    field = result.details.get("api_name") if isinstance(result.details, dict) else None
    what = f" ({field})" if field else ""
    ctx.fail(
        module=lane.module,
        direction=PUSH,
        reason_code=f"crm:{result.code or 'ERROR'}" + (f":{field}" if field else ""),
        reason=f"Zoho CRM refused it: {result.code} {result.message}{what}".strip(),
        crm_module=lane.crm_module,
        crm_id=out.link.crm_id if out.link else "",
        books_id=out.row.pk,
        name=out.name,
    )


def _is_gone(result: RecordResult) -> bool:
    details = result.details if isinstance(result.details, dict) else {}
    return result.code == "INVALID_DATA" and details.get("api_name") == "id"


def _send_updates(ctx: RunContext, lane: Lane, batch: Sequence[Outgoing]) -> None:
    results = ctx.client.update_records(lane.crm_module, [o.record for o in batch])
    now = timezone.now()
    with transaction.atomic():
        changed: list[RecordLink] = []
        cleared: list[Any] = []
        for out, result in zip(batch, results, strict=True):
            link = out.link
            assert link is not None
            if result.ok:
                link.crm_hash = crm_hash_of(lane, out.record)
                link.books_hash = out.books_hash
                link.crm_modified_time = parse_crm_time(result.modified_time) or link.crm_modified_time
                link.last_synced_at = now
                changed.append(link)
                ctx.count(lane.module, PUSH, "updated")
            elif _is_gone(result):
                # Deleted in the CRM since the last check: marked, not re-created (deletions are not propagated).
                link.crm_deleted = True
                changed.append(link)
                setattr(out.row, lane.zcrm_attr, "")
                cleared.append(out.row)
                ctx.count(lane.module, PUSH, "deleted")
            else:
                _crm_failure(ctx, lane, out, result)
        update_rows(
            RecordLink, changed, ["crm_hash", "books_hash", "crm_modified_time", "last_synced_at", "crm_deleted"]
        )
        update_rows(lane.adapter.model, cleared, [lane.zcrm_attr])
        ctx.flush()


def _send_inserts(ctx: RunContext, lane: Lane, batch: Sequence[Outgoing], id_field: CrmIdField) -> None:
    records = [o.record for o in batch]
    org = ctx.organization
    if id_field.mode == IdFieldMode.UPSERT:
        results = ctx.client.upsert_records(lane.crm_module, records, duplicate_check_fields=[id_field.api_name])
    else:
        name_field = NAME_FIELD[lane.crm_module]
        PushIntent.objects.bulk_create(
            [
                PushIntent(
                    organization=org,
                    crm_org_id=ctx.crm_org_id,
                    crm_module=lane.crm_module,
                    entity=lane.entity,
                    books_id=o.row.pk,
                    name=str(o.record.get(name_field) or "")[:255],
                    created_at=timezone.now(),
                )
                for o in batch
            ],
            ignore_conflicts=True,
        )
        # A plain insert is not repeated when its answer is lost (the client raises CrmRetryLater
        # OUTCOME_UNKNOWN); the intents let the next run find what it wrote.
        results = ctx.client.insert_records(lane.crm_module, records)
    _save_new_links(ctx, lane, batch, results)


def _as_created(lane: Lane, record: CrmRecord, result: RecordResult) -> CrmRecord:
    """The record as the CRM now holds it, as far as the answer tells: an owner left out is the API user, who
    created it (Zoho's rule), so that the next pull does not take the CRM's choice of owner for an edit."""
    created_by = result.details.get("Created_By") if isinstance(result.details, dict) else None
    if not isinstance(created_by, dict):
        return record
    filled = dict(record)
    for m in lane.active_maps():
        if m.crm_data_type == "ownerlookup" and m.crm_field not in filled:
            filled[m.crm_field] = created_by
    return filled


def _save_new_links(ctx: RunContext, lane: Lane, batch: Sequence[Outgoing], results: Sequence[RecordResult]) -> None:
    now = timezone.now()
    org = ctx.organization
    ok_ids = [r.id for r in results if r.ok and r.id]
    with transaction.atomic():
        taken = set(
            RecordLink.objects.filter(
                organization=org, crm_org_id=ctx.crm_org_id, crm_module=lane.crm_module, crm_id__in=ok_ids
            ).values_list("crm_id", flat=True)
        )
        links: list[RecordLink] = []
        rows: list[Any] = []
        for out, result in zip(batch, results, strict=True):
            if not result.ok or not result.id:
                _crm_failure(ctx, lane, out, result)
                continue
            if result.id in taken:
                ctx.fail(
                    module=lane.module,
                    direction=PUSH,
                    reason_code="already_linked",
                    reason=f"Zoho CRM matched record {result.id}, which is linked to another Books record",
                    crm_module=lane.crm_module,
                    crm_id=result.id,
                    books_id=out.row.pk,
                    name=out.name,
                )
                continue
            taken.add(result.id)
            links.append(
                RecordLink(
                    organization=org,
                    crm_org_id=ctx.crm_org_id,
                    crm_module=lane.crm_module,
                    crm_id=result.id,
                    entity=lane.entity,
                    books_id=out.row.pk,
                    state=LinkState.LINKED,
                    crm_hash=crm_hash_of(lane, _as_created(lane, out.record, result)),
                    books_hash=out.books_hash,
                    crm_modified_time=parse_crm_time(result.modified_time),
                    last_synced_at=now,
                )
            )
            setattr(out.row, lane.zcrm_attr, result.id)
            rows.append(out.row)
            ctx.count(lane.module, PUSH, "added")
        insert_rows(RecordLink, links)
        # The zcrm_* field only: the record's updated_at stays, so the next push does not see it as changed.
        update_rows(lane.adapter.model, rows, [lane.zcrm_attr])
        PushIntent.objects.filter(
            organization=org,
            crm_org_id=ctx.crm_org_id,
            crm_module=lane.crm_module,
            entity=lane.entity,
            books_id__in=[o.row.pk for o in batch],
        ).delete()
        ctx.flush()


def reconcile_intents(ctx: RunContext, lane: Lane) -> None:
    """After a crash in intent mode: the records an interrupted insert may have written are looked up by name (one
    search per intent left, which only a crash leaves) and linked, so that they are not inserted twice."""
    org = ctx.organization
    intents = list(
        PushIntent.objects.filter(
            organization=org, crm_org_id=ctx.crm_org_id, crm_module=lane.crm_module, entity=lane.entity
        )
    )
    if not intents:
        return
    name_field = NAME_FIELD[lane.crm_module]
    rows = lane.adapter.model._default_manager.filter(organization=org, pk__in=[i.books_id for i in intents]).in_bulk()
    linked_crm = set(
        RecordLink.objects.filter(organization=org, crm_org_id=ctx.crm_org_id, crm_module=lane.crm_module).values_list(
            "crm_id", flat=True
        )
    )
    now = timezone.now()
    for intent in intents:
        row = rows.get(intent.books_id)
        found: CrmRecord | None = None
        if row is not None and intent.name:
            since = intent.created_at - datetime.timedelta(minutes=10)
            for record in ctx.client.search_records(
                lane.crm_module,
                criteria=criteria.condition(name_field, "equals", intent.name),
                fields=[name_field, "Created_Time"],
            ):
                created = parse_crm_time(record.get("Created_Time"))
                if str(record.get("id")) in linked_crm or (created is not None and created < since):
                    continue
                found = record
        with transaction.atomic():
            if found is not None and row is not None:
                crm_id = str(found["id"])
                RecordLink.objects.create(
                    organization=org,
                    crm_org_id=ctx.crm_org_id,
                    crm_module=lane.crm_module,
                    crm_id=crm_id,
                    entity=lane.entity,
                    books_id=row.pk,
                    crm_hash="",
                    books_hash="",  # sent again as an update, so the CRM record ends with the Books values
                    last_synced_at=now,
                )
                lane.adapter.model._default_manager.filter(pk=row.pk).update(**{lane.zcrm_attr: crm_id})
                linked_crm.add(crm_id)
            PushIntent.objects.filter(pk=intent.pk).delete()
    ctx.note(f"Recovered {len(intents)} interrupted insert(s) into {lane.crm_module} from their recorded intents.")


__all__ = ["CONTACT_PERSON", "build_record", "push_lane", "reconcile_intents"]

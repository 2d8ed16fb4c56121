"""The pull of a lane, page by page: pull → map → match → apply.

- pull (`pull_lane`): `client.iter_pages` with the lane's fields, its view (cvid) and If-Modified-Since = the
  cursor; the next page is fetched in a background thread while the current one is applied.
- map (`map_page`): CRM records → Books values through crm_integration.mapping (pure). A value that does not fit
  fails that record, with the field and the reason; the others go on.
- match (`match_page`): links by CRM id, then Ledgerbridge's id (a record we pushed whose link a crash lost),
  then a duplicate by name — a constant number of queries per page.
- apply (`apply_plan`): Books rows, links (and the zcrm_* fields the Books API reads), counts and failures in ONE
  transaction per page, with bulk writes.

The cursor moves once the whole lane is read (see cursors.py): pages are read in id order, so a page's records say
nothing about the ones not read yet. After a crash the next run reads the same pages again; records applied before
it are then unchanged (their links carry the content hash) and cost nothing but the read.
"""

from __future__ import annotations

import datetime
import logging
import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import Lower
from django.utils import timezone

from books.models import Contact, ContactPerson, Item
from books.services.custom_fields import merge_custom_values
from crm_integration import mapping
from crm_integration.client import CrmRecord
from crm_integration.models import CrmModule, DuplicatePolicy
from sync.models import DeferredRecord, IdFieldMode, LinkState, Outcome, RecordLink
from sync.services import idfield
from sync.services.bulk import insert_rows, update_rows
from sync.services.context import PULL, RunContext, page_size
from sync.services.cursors import cursor_get, next_pull_cursor, parse_crm_time, pull_key
from sync.services.hashing import content_hash
from sync.services.lanes import CONTACT_PERSON, NAME_FIELD, Lane, books_hash_of, crm_fields_for, crm_hash_of

logger = logging.getLogger(__name__)

T = TypeVar("T")
# After a pull added this many rows, PostgreSQL's planner statistics are refreshed (ANALYZE): a bulk load of a new
# table leaves them saying "empty", and the next queries would scan instead of using their indexes.
ANALYZE_AFTER = 5000


def analyze_tables(*models: Any) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


# ------------------------------------------------------------------------------------------------- prefetching


def prefetched(iterator: Iterator[T], depth: int = 1) -> Iterator[T]:
    """The items of `iterator`, each fetched in a background thread while the caller works on the previous one.
    Errors of the iterator are raised in the caller. The thread stops when the caller stops iterating."""
    slots: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in iterator:
                if not put(("item", item)):
                    return
            put(("end", None))
        except BaseException as exc:  # handed to the caller, who raises it
            put(("error", exc))

    thread = threading.Thread(target=work, name="sync-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = slots.get()
            if kind == "item":
                yield value
            elif kind == "end":
                return
            else:
                raise value
    finally:
        stop.set()


# ------------------------------------------------------------------------------------------------------- map


@dataclass
class Incoming:
    """One CRM record of a page, mapped."""

    record: CrmRecord
    crm_id: str
    modified: datetime.datetime | None
    name: str
    lane: Lane  # the lane it goes to (contacts: contact persons or individual customers)
    values: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    crm_hash: str = ""
    error: mapping.MappingError | None = None
    lb_books_id: int | None = None
    account_id: str = ""  # a contact's account (Accounts and their Contacts)


def _record_name(record: CrmRecord, crm_module: str) -> str:
    if crm_module == CrmModule.CONTACTS:
        return " ".join(str(record.get(k) or "") for k in ("First_Name", "Last_Name")).strip()
    return str(record.get(NAME_FIELD[crm_module]) or "")


def _lookup_id(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(value or "") if isinstance(value, (str, int)) else ""


def map_record(lane: Lane, record: CrmRecord, *, organization_id: int, id_field: str = "") -> Incoming:
    """One CRM record as Books values for `lane` (pure). Contacts of a contact-persons lane without an account go
    to its orphans lane."""
    crm_id = str(record.get("id") or "")
    account_id = _lookup_id(record.get("Account_Name")) if lane.is_persons else ""
    target = lane if (not lane.is_persons or account_id or lane.orphans is None) else lane.orphans
    incoming = Incoming(
        record=record,
        crm_id=crm_id,
        modified=parse_crm_time(record.get("Modified_Time")),
        name=_record_name(record, lane.crm_module),
        lane=target,
        account_id=account_id,
    )
    return remap(incoming, target, organization_id=organization_id, id_field=id_field)


def remap(incoming: Incoming, target: Lane, *, organization_id: int, id_field: str = "") -> Incoming:
    incoming.lane = target
    incoming.error = None
    try:
        values, custom = mapping.crm_to_books(
            incoming.record, target._active_maps, target.custom_defs, entity=target.map_entity
        )
    except mapping.MappingError as exc:
        incoming.error = exc
        values, custom = {}, {}
    incoming.values = {k: v for k, v in values.items() if k in target.adapter.fields}
    incoming.custom = custom
    incoming.crm_hash = crm_hash_of(target, incoming.record)
    if id_field:
        incoming.lb_books_id = idfield.id_parse(
            incoming.record.get(id_field), organization_id=organization_id, entity=target.entity
        )
    display = incoming.values.get(target.adapter.name_attr)
    if display and target.adapter is not CONTACT_PERSON:
        incoming.name = str(display)
    return incoming


def map_page(lane: Lane, records: Sequence[CrmRecord], *, organization_id: int, id_field: str = "") -> list[Incoming]:
    return [map_record(lane, r, organization_id=organization_id, id_field=id_field) for r in records if r.get("id")]


# ----------------------------------------------------------------------------------------------------- match


def name_key(value: Any) -> str:
    return str(value or "").strip().lower()


@dataclass
class Plan:
    """What one page does, decided by `match_page` (reads only) and done by `apply_plan` (one transaction)."""

    creates: list[tuple[Incoming, Any, RecordLink | None]] = field(default_factory=list)  # new Books rows
    updates: list[tuple[Incoming, Any, RecordLink | None]] = field(default_factory=list)  # Books rows written
    link_only: list[tuple[Incoming, Any, RecordLink | None]] = field(default_factory=list)  # linked, row kept
    skips: list[tuple[Incoming, int, RecordLink | None]] = field(default_factory=list)  # duplicates skipped
    link_updates: list[RecordLink] = field(default_factory=list)  # e.g. marked deleted in Books
    defer: list[Incoming] = field(default_factory=list)
    undefer: list[str] = field(default_factory=list)
    extra_fields: set[str] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n

    def fail(self, item: Incoming, reason_code: str, reason: str, *, books_id: int | None = None, **kw: Any) -> None:
        self.failures.append(
            {
                "reason_code": reason_code,
                "reason": reason,
                "crm_module": item.lane.crm_module,
                "crm_id": item.crm_id,
                "books_id": books_id,
                "name": item.name,
                **kw,
            }
        )


def _model_value(model: Any, key: str, value: Any) -> Any:
    if value is not None:
        return value
    return model._meta.get_field(key).get_default()


def assign(incoming: Incoming, row: Any, base_currency: str) -> str:
    """Writes the mapped values into a Books row (in memory); returns why the record fails, or ""."""
    lane = incoming.lane
    model = lane.adapter.model
    for key, value in incoming.values.items():
        setattr(row, key, _model_value(model, key, value))
    if lane.adapter.custom_entity is not None and incoming.custom:
        row.custom_fields = merge_custom_values(row.custom_fields or {}, incoming.custom)
    if model is Contact:
        if lane.adapter.sub_type:
            row.customer_sub_type = lane.adapter.sub_type
        if not row.contact_name:
            row.contact_name = row.company_name or " ".join(p for p in (row.first_name, row.last_name) if p)
        row.currency_code = (row.currency_code or base_currency).upper()
        if row.payment_terms is not None and int(row.payment_terms) < 0:
            source = _crm_field_of(lane, "payment_terms")
            return f"{source}: {row.payment_terms} is negative; Payment Terms (days) cannot be"
    if model is Item and row.rate is None:
        row.rate = Decimal("0.00")
    required = lane.adapter.required
    if not getattr(row, required):
        known = mapping.books_field_get(lane.map_entity, required)
        return f"{_crm_field_of(lane, required)}: empty, and {known.label if known else required} is required in Books"
    return ""


def _crm_field_of(lane: Lane, books_field: str) -> str:
    return next((m.crm_field for m in lane.active_maps() if m.books_field == books_field), books_field)


def _reason_code(problem: str) -> str:
    return f"invalid_value:{problem.split(':', 1)[0]}"


def _new_row(incoming: Incoming, ctx: RunContext) -> Any:
    adapter = incoming.lane.adapter
    if adapter.model is Contact:
        return Contact(
            organization=ctx.organization,
            contact_type=adapter.contact_type,
            customer_sub_type=adapter.sub_type or "business",
            source="crm",
        )
    if adapter.model is Item:
        return Item(organization=ctx.organization, source="crm")
    return ContactPerson(organization=ctx.organization)


def match_page(ctx: RunContext, lane: Lane, incoming: list[Incoming], *, id_field: str = "") -> Plan:
    """Decides what each record of the page does. Reads only, a constant number of queries for the page."""
    plan = Plan()
    org = ctx.organization
    links = {
        link.crm_id: link
        for link in RecordLink.objects.filter(
            organization=org,
            crm_org_id=ctx.crm_org_id,
            crm_module=lane.crm_module,
            crm_id__in=[i.crm_id for i in incoming],
        )
    }
    # A record stays the kind of Books record it is linked to (a contact linked as an individual customer that later
    # gets an account stays that customer).
    if lane.is_persons and lane.orphans is not None:
        for item in incoming:
            link = links.get(item.crm_id)
            if link is not None and link.state == LinkState.LINKED and link.entity != item.lane.entity:
                target = lane if link.entity == lane.entity else lane.orphans
                remap(item, target, organization_id=org.pk, id_field=id_field)
    groups: dict[int, tuple[Lane, list[Incoming]]] = {}
    for item in incoming:
        groups.setdefault(id(item.lane), (item.lane, []))[1].append(item)
    for sub_lane, items in groups.values():
        _match_group(ctx, sub_lane, items, links, plan)
    return plan


def _match_group(ctx: RunContext, lane: Lane, items: list[Incoming], links: dict[str, RecordLink], plan: Plan) -> None:
    org = ctx.organization
    adapter = lane.adapter
    base_currency = org.base_currency

    live: list[tuple[Incoming, RecordLink]] = []
    unlinked: list[tuple[Incoming, RecordLink | None]] = []
    for item in items:
        if item.error is not None:
            plan.fail(item, f"invalid_value:{item.error.field}", f"{item.error.field}: {item.error.reason}")
            continue
        link = links.get(item.crm_id)
        if link is not None and link.state == LinkState.LINKED:
            if link.entity == lane.entity:
                live.append((item, link))
            continue
        if link is None and not lane.fetch_new:
            continue  # e.g. a contact without an account, when those are not fetched
        unlinked.append((item, link))

    parents: dict[str, int] = {}
    if lane.is_persons:
        accounts = {i.account_id for i, _ in live + unlinked if i.account_id}
        parents = dict(
            RecordLink.objects.filter(
                organization=org,
                crm_org_id=ctx.crm_org_id,
                crm_module=CrmModule.ACCOUNTS,
                crm_id__in=accounts,
                state=LinkState.LINKED,
                books_deleted=False,
            ).values_list("crm_id", "books_id")
        )

    wanted = {link.books_id for _, link in live}
    wanted |= {i.lb_books_id for i, _ in unlinked if i.lb_books_id}
    wanted |= {link.books_id for _, link in unlinked if link is not None}
    rows: dict[int, Any] = (
        adapter.model._default_manager.filter(organization=org, pk__in=wanted).in_bulk() if wanted else {}
    )

    # Linked records: written when the CRM side changed.
    for item, link in live:
        row = rows.get(link.books_id)
        if row is None or not _same_kind(adapter, row):
            if not link.books_deleted:
                link.books_deleted = True
                plan.link_updates.append(link)
            plan.count("unchanged")  # deleted in Books: not brought back (deletions are not propagated)
            continue
        new_parent = parents.get(item.account_id) if lane.is_persons and item.account_id else None
        moves = new_parent is not None and new_parent != row.contact_id
        if link.crm_hash == item.crm_hash and not link.crm_deleted and not moves and not ctx.force_apply:
            plan.count("unchanged")
            continue
        if lane.books_first and books_hash_of(lane, row) != link.books_hash:
            plan.count("unchanged")  # changed on both sides: Books goes first and wins; the push sends it
            continue
        problem = assign(item, row, base_currency)
        if problem:
            plan.fail(item, _reason_code(problem), problem, books_id=row.pk)
            continue
        if moves:
            row.contact_id = new_parent
            plan.extra_fields.add("contact")
        plan.updates.append((item, row, link))
        plan.count("updated")
    if lane.is_persons:
        plan.undefer.extend(i.crm_id for i, _ in live)

    # Records we pushed whose link a crash lost: linked again to the Books record named in their Ledgerbridge ID.
    taken: set[int] = set()
    relink_ids = [i.lb_books_id for i, _ in unlinked if i.lb_books_id]
    if relink_ids:
        taken = set(
            RecordLink.objects.filter(
                organization=org,
                crm_org_id=ctx.crm_org_id,
                entity=lane.entity,
                crm_module=lane.crm_module,
                books_id__in=relink_ids,
            ).values_list("books_id", flat=True)
        )
    rest: list[tuple[Incoming, RecordLink | None]] = []
    for item, link in unlinked:
        row = rows.get(item.lb_books_id) if item.lb_books_id else None
        if row is None or row.pk in taken or not _same_kind(adapter, row):
            rest.append((item, link))
            continue
        problem = assign(item, row, base_currency)
        if problem:
            plan.fail(item, _reason_code(problem), problem, books_id=row.pk)
            continue
        taken.add(row.pk)
        plan.updates.append((item, row, link))
        plan.count("updated")

    if lane.is_persons:
        # Contact persons go under their account's customer, or wait for it to be synced.
        for item, link in rest:
            parent = parents.get(item.account_id)
            if parent is None:
                plan.defer.append(item)
                continue
            row = _new_row(item, ctx)
            row.contact_id = parent
            problem = assign(item, row, base_currency)
            if problem:
                plan.fail(item, _reason_code(problem), problem)
                continue
            plan.creates.append((item, row, link))
            plan.undefer.append(item.crm_id)
            plan.count("added")
        return

    # Duplicates by name among the Books records not linked yet.
    candidates = _duplicate_candidates(ctx, lane, [i for i, _ in rest], exclude=taken)
    for item, link in rest:
        dup = None
        if link is not None and link.state == LinkState.SKIPPED and link.books_id not in taken:
            dup = rows.get(link.books_id)  # the duplicate it was skipped for, if still there
        if dup is None:
            for candidate in candidates.get(name_key(item.values.get(adapter.name_attr)), ()):
                if candidate.pk not in taken:
                    dup = candidate
                    break
        if dup is not None:
            taken.add(dup.pk)
            if lane.duplicates == DuplicatePolicy.SKIP:
                plan.skips.append((item, dup.pk, link))
                plan.fail(
                    item,
                    "duplicate_skipped",
                    f"skipped: duplicate of the Books record '{adapter.display_name(dup)}' (duplicates: Skip)",
                    books_id=dup.pk,
                    outcome=Outcome.SKIPPED,
                )
                continue
            if lane.duplicates == DuplicatePolicy.OVERWRITE:
                if lane.books_first:
                    plan.link_only.append((item, dup, link))  # the Books item replaces the product: pushed next
                    continue
                problem = assign(item, dup, base_currency)
                if problem:
                    plan.fail(item, _reason_code(problem), problem, books_id=dup.pk)
                    continue
                plan.updates.append((item, dup, link))
                plan.count("updated")
                continue
            # Clone: a new record beside the existing one.
        row = _new_row(item, ctx)
        problem = assign(item, row, base_currency)
        if problem:
            plan.fail(item, _reason_code(problem), problem)
            continue
        plan.creates.append((item, row, link))
        plan.count("added")


def _same_kind(adapter: Any, row: Any) -> bool:
    if adapter.model is Contact:
        return bool(row.contact_type == adapter.contact_type)
    return True


def unlinked_books_exist(ctx: RunContext, lane: Lane) -> bool:
    """Whether any Books record of the lane's kind is not linked to this CRM org: none (an initial pull into an
    empty Books, or everything linked), and no page needs to look for duplicates."""
    adapter = lane.adapter
    linked = RecordLink.objects.filter(
        organization=ctx.organization, crm_org_id=ctx.crm_org_id, entity=adapter.entity, books_id=OuterRef("pk")
    )
    return bool(adapter.duplicates_queryset(ctx.organization).exclude(Exists(linked)).exists())


def _duplicate_candidates(
    ctx: RunContext, lane: Lane, items: Iterable[Incoming], *, exclude: set[int]
) -> dict[str, list[Any]]:
    """Books records not linked to this CRM org whose display name equals one of the page's names (case-insensitive,
    trimmed): two queries, the first on the (lower(name), organization) index."""
    adapter = lane.adapter
    if not ctx.duplicates_possible.get(adapter.entity, True):
        return {}
    keys = {name_key(i.values.get(adapter.name_attr)) for i in items}
    keys.discard("")
    if not keys:
        return {}
    rows = [
        row
        for row in adapter.duplicates_queryset(ctx.organization)
        .annotate(_lname=Lower(adapter.name_attr))
        .filter(_lname__in=keys)
        .order_by("pk")
        if row.pk not in exclude
    ]
    if not rows:
        return {}
    linked = set(
        RecordLink.objects.filter(
            organization=ctx.organization,
            crm_org_id=ctx.crm_org_id,
            entity=adapter.entity,
            books_id__in=[r.pk for r in rows],
        ).values_list("books_id", flat=True)
    )
    found: dict[str, list[Any]] = {}
    for row in rows:
        if row.pk not in linked:
            found.setdefault(name_key(getattr(row, adapter.name_attr)), []).append(row)
    return found


# ----------------------------------------------------------------------------------------------------- apply


def _set_zcrm(lane: Lane, row: Any, crm_id: str) -> None:
    setattr(row, lane.zcrm_attr, crm_id)


def apply_plan(ctx: RunContext, lane: Lane, plan: Plan, *, phase: str | None = None) -> None:
    """Writes a page's plan: Books rows, links (with the zcrm_* fields in step), deferred contacts, counts and
    failures, in one transaction."""
    now = timezone.now()
    with transaction.atomic():
        creates_by_model: dict[Any, list[Any]] = {}
        for item, row, _ in plan.creates:
            _set_zcrm(item.lane, row, item.crm_id)
            row.updated_at = now
            creates_by_model.setdefault(item.lane.adapter.model, []).append(row)
        for model, new_rows in creates_by_model.items():
            insert_rows(model, new_rows)

        updates_by_model: dict[Any, tuple[list[Any], set[str]]] = {}
        for item, row, _ in plan.updates:
            _set_zcrm(item.lane, row, item.crm_id)
            row.updated_at = now
            rows, fields = updates_by_model.setdefault(item.lane.adapter.model, ([], set()))
            if all(r is not row for r in rows):
                rows.append(row)
            fields.update(item.values)
            fields.update({item.lane.zcrm_attr, "updated_at"})
            if item.custom:
                fields.add("custom_fields")
            if item.lane.adapter.model is Contact:
                fields.update({"customer_sub_type", "contact_name", "currency_code"})
        for item, row, _ in plan.link_only:
            _set_zcrm(item.lane, row, item.crm_id)
            rows, fields = updates_by_model.setdefault(item.lane.adapter.model, ([], set()))
            rows.append(row)
            fields.add(item.lane.zcrm_attr)
        for model, (rows, fields) in updates_by_model.items():
            extra = {f for f in plan.extra_fields if model is ContactPerson}
            update_rows(model, rows, sorted(fields | extra))

        new_links: list[RecordLink] = []
        changed_links: list[RecordLink] = list(plan.link_updates)

        def link(item: Incoming, books_id: int, existing: RecordLink | None, books_hash: str, state: str) -> None:
            target = existing or RecordLink(
                organization=ctx.organization,
                crm_org_id=ctx.crm_org_id,
                crm_module=item.lane.crm_module,
                crm_id=item.crm_id,
            )
            target.entity = item.lane.entity
            target.books_id = books_id
            target.state = state
            target.crm_hash = item.crm_hash
            target.books_hash = books_hash
            target.crm_modified_time = item.modified
            target.last_synced_at = now
            target.crm_deleted = False
            target.books_deleted = False
            (changed_links if existing is not None else new_links).append(target)

        for item, row, existing in plan.creates + plan.updates:
            link(item, row.pk, existing, books_hash_of(item.lane, row), LinkState.LINKED)
        for item, row, existing in plan.link_only:
            link(item, row.pk, existing, "", LinkState.LINKED)  # "" = the Books side counts as changed
        for item, books_id, existing in plan.skips:
            link(item, books_id, existing, "", LinkState.SKIPPED)
        insert_rows(RecordLink, new_links)
        if changed_links:
            update_rows(
                RecordLink,
                changed_links,
                [
                    "entity",
                    "books_id",
                    "state",
                    "crm_hash",
                    "books_hash",
                    "crm_modified_time",
                    "last_synced_at",
                    "crm_deleted",
                    "books_deleted",
                ],
            )

        gone = set(plan.undefer) | {i.crm_id for i in plan.defer}
        if gone:
            DeferredRecord.objects.filter(
                organization=ctx.organization,
                crm_org_id=ctx.crm_org_id,
                crm_module=lane.crm_module,
                crm_id__in=gone,
            ).delete()
        if plan.defer:
            DeferredRecord.objects.bulk_create(
                [
                    DeferredRecord(
                        organization=ctx.organization,
                        crm_org_id=ctx.crm_org_id,
                        crm_module=lane.crm_module,
                        crm_id=i.crm_id,
                        waiting_for_module=CrmModule.ACCOUNTS,
                        waiting_for_id=i.account_id,
                        record=i.record,
                    )
                    for i in plan.defer
                ]
            )
        for what, n in plan.counts.items():
            ctx.count(lane.module, PULL, what, n)
        for failure in plan.failures:
            ctx.fail(module=lane.module, direction=PULL, **failure)
        ctx.flush(phase=phase)


def apply_page(
    ctx: RunContext, lane: Lane, incoming: list[Incoming], *, id_field: str = "", phase: str | None = None
) -> None:
    """match + apply of one page. A page another writer raced (a link made meanwhile) is matched again; a page the
    database refuses as a whole is applied record by record, so that one bad record fails alone."""
    ctx.count(lane.module, PULL, "processed", len(incoming))
    for attempt in range(2):
        plan = match_page(ctx, lane, incoming, id_field=id_field)
        try:
            apply_plan(ctx, lane, plan, phase=phase)
            return
        except IntegrityError:
            if attempt == 0:
                logger.info("page of %s raced another writer; matching it again", lane.crm_module)
                continue
            break
        except DatabaseError:
            break
    for item in incoming:  # the slow path, for pages the database refused
        plan = match_page(ctx, lane, [item], id_field=id_field)
        try:
            apply_plan(ctx, lane, plan)
        except DatabaseError as exc:
            logger.warning("Books refused %s %s: %s", lane.crm_module, item.crm_id, exc)
            ctx.fail(
                module=lane.module,
                direction=PULL,
                reason_code="books_refused",
                reason=f"Books could not save this record: {str(exc).splitlines()[0][:300]}",
                crm_module=lane.crm_module,
                crm_id=item.crm_id,
                name=item.name,
            )
            ctx.flush()


# ------------------------------------------------------------------------------------------------------ pull


def id_field_for_pull(ctx: RunContext, crm_module: str) -> str:
    known = idfield.id_field_known(ctx, crm_module)
    return known.api_name if known is not None and known.mode == IdFieldMode.UPSERT else ""


def pull_lane(ctx: RunContext, lane: Lane, *, label: str) -> None:
    """Reads the lane's CRM records changed since its cursor (all of them the first time, or when the view or the
    field map changed) and applies them page by page."""
    id_field = id_field_for_pull(ctx, lane.crm_module)
    cursor = cursor_get(ctx, pull_key(lane.crm_module, lane.view_id))
    fingerprint = lane.fingerprint()
    full = ctx.full or cursor.full_resync or cursor.fingerprint != fingerprint
    since = None if full else cursor.modified_since
    started = timezone.now()
    fields = crm_fields_for(lane, id_field=id_field)
    pages = ctx.client.iter_pages(
        lane.crm_module, fields=fields, cvid=lane.view_id or None, modified_since=since, per_page=page_size()
    )
    for sub_lane in (lane, lane.orphans):
        if sub_lane is not None and not sub_lane.is_persons:
            ctx.duplicates_possible[sub_lane.entity] = unlinked_books_exist(ctx, sub_lane)
    ctx.flush(phase=f"{label}: fetching {lane.crm_module}")
    max_seen: datetime.datetime | None = None
    added_before = ctx.total_added
    org_id = ctx.organization.pk
    # Mapping is pure: it runs in the prefetching thread too, beside the database work of the page before.
    mapped = (map_page(lane, page.records, organization_id=org_id, id_field=id_field) for page in pages)
    for number, incoming in enumerate(prefetched(mapped), start=1):
        apply_page(ctx, lane, incoming, id_field=id_field, phase=f"{label}: fetching {lane.crm_module} (page {number})")
        for item in incoming:
            if item.modified is not None and (max_seen is None or item.modified > max_seen):
                max_seen = item.modified
    if lane.is_persons:
        apply_deferred(ctx, lane, id_field=id_field)
    ctx.duplicates_possible.clear()
    if ctx.total_added - added_before >= ANALYZE_AFTER:
        analyze_tables(lane.adapter.model, RecordLink)
    new_cursor = next_pull_cursor(previous=since, max_seen=max_seen, pull_started=started)
    type(cursor).objects.filter(pk=cursor.pk).update(
        modified_since=new_cursor, fingerprint=fingerprint, full_resync=False
    )


def apply_deferred(ctx: RunContext, lane: Lane, *, id_field: str = "") -> None:
    """Contacts that waited for their account, now that it is linked."""
    linked_accounts = RecordLink.objects.filter(
        organization=ctx.organization,
        crm_org_id=ctx.crm_org_id,
        crm_module=CrmModule.ACCOUNTS,
        state=LinkState.LINKED,
        books_deleted=False,
    ).values("crm_id")
    waiting = DeferredRecord.objects.filter(
        organization=ctx.organization,
        crm_org_id=ctx.crm_org_id,
        crm_module=lane.crm_module,
        waiting_for_id__in=linked_accounts,
    ).order_by("pk")
    last = 0
    while True:
        batch = list(waiting.filter(pk__gt=last)[: page_size()])
        if not batch:
            return
        last = batch[-1].pk
        records = [d.record for d in batch]
        incoming = map_page(lane, records, organization_id=ctx.organization.pk, id_field=id_field)
        apply_page(ctx, lane, incoming, id_field=id_field)


def pull_one(ctx: RunContext, lane: Lane, record: CrmRecord) -> Plan:
    """Applies one CRM record now (Fetch this contact, imports): the same match and apply as a page of one."""
    id_field = id_field_for_pull(ctx, lane.crm_module)
    incoming = map_page(lane, [record], organization_id=ctx.organization.pk, id_field=id_field)
    ctx.count(lane.module, PULL, "processed", len(incoming))
    plan = match_page(ctx, lane, incoming, id_field=id_field)
    apply_plan(ctx, lane, plan)
    return plan


__all__ = ["Incoming", "Plan", "apply_page", "content_hash", "map_page", "match_page", "pull_lane", "pull_one"]

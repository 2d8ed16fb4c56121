"""One record at a time, now: "Fetch this contact from Zoho CRM" on a customer or vendor, and the imports of one
CRM record (Search in Zoho CRM on a transaction form, the Books API's /crm/{account,contact,vendor,item}/{id}/import,
a deal's account or contact for the triggers).

Each goes through the same map → match → apply as a page of a run (so duplicates, links and the zcrm_* fields
follow the same rules) and is recorded in the history as a run with the trigger "Single record". They take no
lease: they touch one record, in one short transaction, and may run beside a full sync. They need an active
connection with the module configured; they are allowed while sync is paused (they are a person's explicit action
on one record, not a sync).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.utils import timezone

from books.errors import ApplicationError, Conflict, NotFound
from books.models import Contact, ContactType, CustomFieldDefinition, Item, Organization, User
from crm_integration.client import CrmClient, CrmError, CrmPermanent
from crm_integration.models import ConnectionStatus, CrmConnection, CrmModule, ModuleConfig, SyncModule
from crm_integration.selectors import field_mappings_by_config
from crm_integration.services.clients import crm_client_for, crm_errors
from sync.models import Entity, LinkState, RecordLink, RunStatus, SyncRun, Trigger
from sync.services.context import RunContext
from sync.services.deletions import _mark_crm_deleted
from sync.services.lanes import Lane, crm_fields_for, module_plan
from sync.services.pull import Plan, id_field_for_pull, pull_one


def _connection(organization: Organization) -> CrmConnection:
    connection = CrmConnection.objects.select_related("organization").filter(organization=organization).first()
    if connection is None:
        raise NotFound("connection: Zoho CRM is not connected for this organization")
    if connection.status == ConnectionStatus.DISABLED:
        raise Conflict("connection: the Zoho CRM integration is disabled; enable it first", field="connection")
    if connection.status == ConnectionStatus.NEEDS_REAUTH:
        raise Conflict(
            "connection: Zoho CRM refused the saved credentials; use Update Credentials first", field="connection"
        )
    return connection


def _config(connection: CrmConnection, module: str) -> ModuleConfig:
    config = ModuleConfig.objects.filter(connection=connection, module=module, enabled=True).first()
    if config is None:
        label = SyncModule(module).label
        raise Conflict(f"{module}: {label} are not synced with Zoho CRM; click Configure Now first", field=module)
    return config


def _lanes(connection: CrmConnection, config: ModuleConfig) -> tuple[Lane, ...]:
    maps = field_mappings_by_config(connection=connection).get(config.pk, [])
    defs = list(CustomFieldDefinition.objects.filter(organization=connection.organization, is_active=True))
    return module_plan(config=config, maps=maps, custom_defs=defs, two_way_allowed=connection.two_way_allowed).pull


def _lane_for(lanes: tuple[Lane, ...], crm_module: str, *, fetch_new: bool = True) -> Lane | None:
    for lane in lanes:
        if lane.crm_module == crm_module:
            if lane.orphans is not None and fetch_new:
                # An explicit import of a contact without an account makes it an individual customer.
                return dataclasses.replace(lane, orphans=dataclasses.replace(lane.orphans, fetch_new=True))
            return lane
    return None


def _start_run(connection: CrmConnection, actor: User | None, module: str) -> SyncRun:
    return SyncRun.objects.create(
        organization=connection.organization,
        connection=connection,
        crm_org_id=connection.crm_org_id,
        trigger=Trigger.SINGLE_RECORD,
        status=RunStatus.RUNNING,
        modules=[module],
        requested_by=actor,
        started_at=timezone.now(),
    )


def _end_run(run: SyncRun, plan: Plan | None, error: str = "") -> None:
    status = (
        RunStatus.FAILED if error else RunStatus.PARTIAL if plan is not None and plan.failures else RunStatus.SUCCEEDED
    )
    SyncRun.objects.filter(pk=run.pk).update(status=status, finished_at=timezone.now(), error=error[:5000], phase="")


def _fetch(client: CrmClient, connection: CrmConnection, lane: Lane, crm_id: str) -> dict[str, Any] | None:
    ctx_fields = crm_fields_for(lane, id_field=_id_field(connection, lane))
    with crm_errors(connection, field="crm_id"):
        try:
            return client.get_record(lane.crm_module, crm_id, fields=ctx_fields)
        except CrmPermanent as exc:
            if exc.status in (400, 404):
                return None
            raise


def _id_field(connection: CrmConnection, lane: Lane) -> str:
    from sync.models import CrmIdField, IdFieldMode

    known = CrmIdField.objects.filter(
        organization=connection.organization, crm_org_id=connection.crm_org_id, crm_module=lane.crm_module
    ).first()
    return known.api_name if known is not None and known.mode == IdFieldMode.UPSERT else ""


def _apply_one(
    *,
    connection: CrmConnection,
    actor: User | None,
    lane: Lane,
    record: dict[str, Any],
    client: CrmClient,
    force: bool = False,
) -> tuple[Plan, SyncRun]:
    run = _start_run(connection, actor, lane.module)
    ctx = RunContext(run=run, connection=connection, client=client, lease=None, force_apply=force)
    try:
        plan = pull_one(ctx, lane, record)
    except Exception as exc:
        _end_run(run, None, f"{exc.__class__.__name__}: {exc}")
        raise
    _end_run(run, plan)
    return plan, run


def _result_id(plan: Plan, crm_id: str) -> tuple[int | None, str]:
    """(Books id, failure reason) of the record `crm_id` in an applied plan."""
    for item, row, _ in (*plan.creates, *plan.updates, *plan.link_only):
        if item.crm_id == crm_id:
            return int(row.pk), ""
    for item, books_id, _ in plan.skips:
        if item.crm_id == crm_id:
            return books_id, ""
    for failure in plan.failures:
        if failure["crm_id"] == crm_id:
            return None, str(failure["reason"])
    return None, ""


def _linked_books_id(connection: CrmConnection, crm_module: str, crm_id: str) -> tuple[str, int] | None:
    link = (
        RecordLink.objects.filter(
            organization=connection.organization,
            crm_org_id=connection.crm_org_id,
            crm_module=crm_module,
            crm_id=crm_id,
            state=LinkState.LINKED,
            crm_deleted=False,
            books_deleted=False,
        )
        .values_list("entity", "books_id")
        .first()
    )
    return (link[0], link[1]) if link else None


def _clean_crm_id(crm_id: Any) -> str:
    text = str(crm_id or "").strip()
    if not text or not text.isdigit() or len(text) > 40:
        raise ApplicationError(f"crm_id: '{text[:40]}' is not a Zoho CRM record id", field="crm_id")
    return text


def _import(
    *,
    organization: Organization,
    actor: User | None,
    module: str,
    crm_module: str,
    crm_id: Any,
    client: CrmClient | None = None,
) -> tuple[int, Lane]:
    crm_id = _clean_crm_id(crm_id)
    connection = _connection(organization)
    config = _config(connection, module)
    lanes = _lanes(connection, config)
    lane = _lane_for(lanes, crm_module)
    if lane is None:
        raise Conflict(
            f"crm_module: {SyncModule(module).label} sync with Zoho CRM {', '.join(config.crm_modules)}, not {crm_module}",
            field="crm_module",
        )
    client = client or crm_client_for(connection)
    record = _fetch(client, connection, lane, crm_id)
    if record is None:
        raise NotFound(f"crm_id: there is no {crm_module} record {crm_id} in Zoho CRM", field="crm_id")
    if lane.is_persons and isinstance(record.get("Account_Name"), dict) and record["Account_Name"].get("id"):
        # A contact of an account: the account becomes the customer, the contact its contact person.
        account_id = str(record["Account_Name"]["id"])
        books_id, _ = _import(
            organization=organization,
            actor=actor,
            module=module,
            crm_module=CrmModule.ACCOUNTS,
            crm_id=account_id,
            client=client,
        )
        _apply_one(connection=connection, actor=actor, lane=lane, record=record, client=client)
        return books_id, lanes[0]
    plan, _run = _apply_one(connection=connection, actor=actor, lane=lane, record=record, client=client)
    found, reason = _result_id(plan, crm_id)
    if found is not None:
        return found, lane
    linked = _linked_books_id(connection, crm_module, crm_id)
    if linked is not None:
        return linked[1], lane
    raise ApplicationError(
        f"crm_id: Zoho CRM {crm_module} record {crm_id} could not be imported: {reason or 'it is not synced'}",
        field="crm_id",
        status=422,
    )


def customer_import_from_crm(
    *,
    organization: Organization,
    actor: User | None,
    crm_module: str,
    crm_id: Any,
    client: CrmClient | None = None,
) -> Contact:
    """Imports one CRM account or contact as a customer now (or refreshes it, when already linked), and returns
    the customer.

    - `crm_module` "Accounts" or "Contacts", and it must be one the customers config syncs (Accounts: business
      customers; Contacts: individual customers; Accounts and their Contacts: a contact with an account brings its
      account as the customer, with the contact as a contact person — the customer is returned).
    - A Books customer with the same display name and no link is handled by the duplicates policy: Overwrite links
      and updates it, Clone makes a new one, Skip returns the existing customer without linking it.
    - Errors (ApplicationError): not connected / disabled (404/409), customers not configured or another CRM module
      (409), an id that is not a record of the CRM (404), a value that does not fit (422, naming the field)."""
    if crm_module not in (CrmModule.ACCOUNTS, CrmModule.CONTACTS):
        raise ApplicationError(
            f"crm_module: customers are imported from Accounts or Contacts, not '{str(crm_module)[:30]}'",
            field="crm_module",
        )
    books_id, _ = _import(
        organization=organization,
        actor=actor,
        module=SyncModule.CUSTOMERS,
        crm_module=crm_module,
        crm_id=crm_id,
        client=client,
    )
    return Contact.objects.get(organization=organization, pk=books_id, contact_type=ContactType.CUSTOMER)


def vendor_import_from_crm(
    *, organization: Organization, actor: User | None, crm_id: Any, client: CrmClient | None = None
) -> Contact:
    """Imports one CRM vendor as a Books vendor now (or refreshes it), with the rules of customer_import_from_crm."""
    books_id, _ = _import(
        organization=organization,
        actor=actor,
        module=SyncModule.VENDORS,
        crm_module=CrmModule.VENDORS,
        crm_id=crm_id,
        client=client,
    )
    return Contact.objects.get(organization=organization, pk=books_id, contact_type=ContactType.VENDOR)


def item_import_from_crm(
    *, organization: Organization, actor: User | None, crm_id: Any, client: CrmClient | None = None
) -> Item:
    """Imports one CRM product as an item now (or refreshes it), with the rules of customer_import_from_crm."""
    books_id, _ = _import(
        organization=organization,
        actor=actor,
        module=SyncModule.ITEMS,
        crm_module=CrmModule.PRODUCTS,
        crm_id=crm_id,
        client=client,
    )
    return Item.objects.get(organization=organization, pk=books_id)


def contact_fetch_from_crm(*, contact: Contact, actor: User | None, client: CrmClient | None = None) -> Contact:
    """ "Fetch this contact from Zoho CRM": reads the customer's or vendor's linked CRM record now and applies it
    (even when the CRM side did not change since the last sync, so the Books record shows the CRM's values).
    Refused (409) when the contact is not linked with Zoho CRM; a CRM record deleted since is marked deleted and
    reported (404)."""
    connection = _connection(contact.organization)
    module = SyncModule.CUSTOMERS if contact.contact_type == ContactType.CUSTOMER else SyncModule.VENDORS
    config = _config(connection, module)
    entity = Entity.CUSTOMER if contact.contact_type == ContactType.CUSTOMER else Entity.VENDOR
    link = (
        RecordLink.objects.filter(
            organization=contact.organization,
            crm_org_id=connection.crm_org_id,
            entity=entity,
            books_id=contact.pk,
            state=LinkState.LINKED,
            crm_deleted=False,
        )
        .order_by("pk")
        .first()
    )
    if link is None:
        raise Conflict(f"contact_id: {contact.contact_name} is not linked with Zoho CRM", field="contact_id")
    lane = _lane_for(_lanes(connection, config), link.crm_module)
    if lane is None:
        raise Conflict(
            f"contact_id: {contact.contact_name} is linked with a Zoho CRM {link.crm_module} record, which the "
            f"{SyncModule(module).label} settings no longer sync",
            field="contact_id",
        )
    client = client or crm_client_for(connection)
    record = _fetch(client, connection, lane, link.crm_id)
    if record is None:
        run = _start_run(connection, actor, module)
        ctx = RunContext(run=run, connection=connection, client=client, lease=None)
        _mark_crm_deleted(ctx, module=module, crm_module=link.crm_module, ids=[link.crm_id])
        _end_run(run, None)
        raise NotFound(
            f"contact_id: the Zoho CRM record of {contact.contact_name} was deleted; the contact stays in Books",
            field="contact_id",
        )
    plan, _run = _apply_one(connection=connection, actor=actor, lane=lane, record=record, client=client, force=True)
    _, reason = _result_id(plan, link.crm_id)
    if reason:
        raise ApplicationError(f"contact_id: Zoho CRM's values could not be applied: {reason}", status=422)
    contact.refresh_from_db()
    return contact


__all__ = [
    "CrmError",
    "contact_fetch_from_crm",
    "customer_import_from_crm",
    "id_field_for_pull",
    "item_import_from_crm",
    "vendor_import_from_crm",
]

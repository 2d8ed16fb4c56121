"""Links across the connection's life. Links are keyed by organization and CRM org id, so Pause, Disable and
Enable change nothing here; pointing the connection at another CRM org must make the Books side forget the old
org's ids (the zcrm_* fields the CRM filters and the Books API read) and take back the ones of the new org, if it
was linked before."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import OuterRef, Subquery

from books.models import Contact, ContactPerson, Item, Organization, User
from crm_integration.models import CrmConnection
from sync.models import Entity, LinkState, RecordLink, SyncCursor
from sync.services.lanes import ZCRM_FIELD

_TARGETS: tuple[tuple[Any, str, str], ...] = (
    (Contact, Entity.CUSTOMER, "Accounts"),
    (Contact, Entity.CUSTOMER, "Contacts"),
    (Contact, Entity.VENDOR, "Vendors"),
    (ContactPerson, Entity.CONTACT_PERSON, "Contacts"),
    (Item, Entity.ITEM, "Products"),
)


def links_restamp(*, organization: Organization, crm_org_id: str) -> None:
    """Sets every zcrm_* field of the organization from its live links to `crm_org_id` (clearing the others), in one
    transaction and a few bulk UPDATEs."""
    with transaction.atomic():
        for model, entity, crm_module in _TARGETS:
            field = ZCRM_FIELD[crm_module]
            links = RecordLink.objects.filter(
                organization=organization,
                crm_org_id=crm_org_id,
                entity=entity,
                crm_module=crm_module,
                state=LinkState.LINKED,
                crm_deleted=False,
            )
            rows = model._default_manager.filter(organization=organization)
            if model is Contact:
                rows = rows.filter(contact_type="vendor" if entity == Entity.VENDOR else "customer")
            rows.exclude(**{field: ""}).exclude(pk__in=links.values("books_id")).update(**{field: ""})
            rows.filter(pk__in=links.values("books_id")).update(
                **{field: Subquery(links.filter(books_id=OuterRef("pk")).values("crm_id")[:1])}
            )


def on_crm_org_changed(*, connection: CrmConnection, actor: User | None = None, **_: Any) -> None:
    """crm_integration.hooks "crm_org_changed": the connection now syncs another CRM org."""
    links_restamp(organization=connection.organization, crm_org_id=connection.crm_org_id)


MODULE_CRM_MODULES = {"customers": ("Accounts", "Contacts"), "vendors": ("Vendors",), "items": ("Products",)}


def on_module_saved(*, connection: CrmConnection, module: str = "", **_: Any) -> None:
    """Edit applies from the next run: the module's pulls read everything again once. (The cursors' fingerprints
    would notice a changed view or map anyway; this also covers a changed duplicate policy or extent.)"""
    cursors = SyncCursor.objects.filter(organization=connection.organization, crm_org_id=connection.crm_org_id)
    for crm_module in MODULE_CRM_MODULES.get(module, ()):
        cursors.filter(key__startswith=f"pull:{crm_module}:").update(full_resync=True)

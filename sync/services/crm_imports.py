"""The Books API's CRM imports (`POST /crm/{account,contact,vendor,item}/{id}/import`, reference §3): the
preconditions of each (the integration's sync type), idempotency, and the import itself (sync.services.records).

- account: customers sync "Accounts" or "Accounts and their Contacts";
- contact: customers sync "Contacts", or "Accounts and their Contacts" with "Include contacts that are not
  associated to any accounts" (a contact with an account then brings its account: the customer returned);
- vendor: vendors are synced; item: items are synced.

A record already imported (a live link) returns its Books record without calling the CRM, so a repeated call is a
no-op answering the same id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from books.errors import Conflict, NotFound
from books.models import Contact, ContactPerson, Item, Organization, User
from crm_integration.client import CrmClient
from crm_integration.models import CrmModule, CrmModuleOption, ModuleConfig, SyncModule
from crm_integration.services.clients import crm_client_for
from sync.models import Entity, LinkState, RecordLink
from sync.services import records
from sync.services.crm_actions import _usable_connection

KINDS = ("account", "contact", "vendor", "item")


@dataclass(frozen=True)
class ImportKind:
    crm_module: str
    module: str
    noun: str


IMPORT_KINDS = {
    "account": ImportKind(CrmModule.ACCOUNTS.value, SyncModule.CUSTOMERS.value, "account"),
    "contact": ImportKind(CrmModule.CONTACTS.value, SyncModule.CUSTOMERS.value, "contact"),
    "vendor": ImportKind(CrmModule.VENDORS.value, SyncModule.VENDORS.value, "vendor"),
    "item": ImportKind(CrmModule.PRODUCTS.value, SyncModule.ITEMS.value, "product"),
}


@dataclass(frozen=True)
class ImportResult:
    record: Contact | Item
    created: bool  # False: it was imported before


def _precondition(config: ModuleConfig | None, kind: str) -> None:
    if kind in ("vendor", "item"):
        if config is None:
            what = "Vendors" if kind == "vendor" else "Items (Products)"
            raise Conflict(
                f"sync_type: {what} are not synced with Zoho CRM; configure them in Settings › Zoho Apps to import "
                f"a CRM {IMPORT_KINDS[kind].noun}",
                field="sync_type",
            )
        return
    if config is None:
        raise Conflict(
            f"sync_type: Customers are not synced with Zoho CRM; configure them in Settings › Zoho Apps to import a "
            f"CRM {kind}",
            field="sync_type",
        )
    option = config.crm_module_option
    if kind == "account" and option not in (CrmModuleOption.ACCOUNTS, CrmModuleOption.ACCOUNTS_AND_CONTACTS):
        raise Conflict(
            f'sync_type: customers sync {CrmModuleOption(option).label}; importing a CRM account needs "Accounts" '
            'or "Accounts and their Contacts"',
            field="sync_type",
        )
    if kind == "contact":
        allowed = option == CrmModuleOption.CONTACTS or (
            option == CrmModuleOption.ACCOUNTS_AND_CONTACTS and config.include_orphan_contacts
        )
        if not allowed:
            raise Conflict(
                f"sync_type: customers sync {CrmModuleOption(option).label}"
                f"{' without contacts that are not associated to any accounts' if option == CrmModuleOption.ACCOUNTS_AND_CONTACTS else ''}"
                '; importing a CRM contact needs "Contacts", or "Accounts and their Contacts" with "Include '
                'contacts that are not associated to any accounts"',
                field="sync_type",
            )


def _existing(organization: Organization, crm_org_id: str, kind: str, crm_id: str) -> Contact | Item | None:
    link = (
        RecordLink.objects.filter(
            organization=organization,
            crm_org_id=crm_org_id,
            crm_module=IMPORT_KINDS[kind].crm_module,
            crm_id=crm_id,
            state=LinkState.LINKED,
            crm_deleted=False,
            books_deleted=False,
        )
        .values_list("entity", "books_id")
        .first()
    )
    if link is None:
        return None
    entity, books_id = link
    if entity == Entity.ITEM:
        return Item.objects.filter(organization=organization, pk=books_id).first()
    if entity == Entity.CONTACT_PERSON:
        person = ContactPerson.objects.filter(organization=organization, pk=books_id).only("contact_id").first()
        if person is None:
            return None
        books_id = person.contact_id
    return Contact.objects.filter(organization=organization, pk=books_id).first()


def crm_record_import(
    *,
    organization: Organization,
    actor: User | None,
    kind: str,
    crm_id: Any,
    client: CrmClient | None = None,
) -> ImportResult:
    """Imports the CRM record `crm_id` (an account, contact, vendor or product) into Books, or returns the Books
    record it already is. Raises ApplicationError: not connected / disabled / credentials refused (409,
    connection), the sync type does not allow it (409, sync_type), not a record of the CRM (404, crm_id), a value
    that does not fit Books (422), the CRM unavailable (503) or refusing (502)."""
    if kind not in IMPORT_KINDS:
        raise NotFound(f"kind: '{str(kind)[:20]}' is not one of {', '.join(KINDS)}", field="kind")
    crm_id = str(crm_id or "").strip()
    if not crm_id.isdigit() or len(crm_id) > 40:
        raise NotFound(f"crm_id: there is no Zoho CRM {IMPORT_KINDS[kind].noun} with id {crm_id[:40]}", field="crm_id")
    connection = _usable_connection(organization)
    config = ModuleConfig.objects.filter(connection=connection, module=IMPORT_KINDS[kind].module, enabled=True).first()
    _precondition(config, kind)
    existing = _existing(organization, connection.crm_org_id, kind, crm_id)
    if existing is not None:
        return ImportResult(record=existing, created=False)
    # The caller waits for the answer: the shorter retries of a page.
    client = client or crm_client_for(connection, interactive=True)
    if kind == "item":
        item = records.item_import_from_crm(organization=organization, actor=actor, crm_id=crm_id, client=client)
        return ImportResult(record=item, created=True)
    if kind == "vendor":
        vendor = records.vendor_import_from_crm(organization=organization, actor=actor, crm_id=crm_id, client=client)
        return ImportResult(record=vendor, created=True)
    customer = records.customer_import_from_crm(
        organization=organization,
        actor=actor,
        crm_module=IMPORT_KINDS[kind].crm_module,
        crm_id=crm_id,
        client=client,
    )
    return ImportResult(record=customer, created=True)


__all__ = ["IMPORT_KINDS", "ImportResult", "crm_record_import"]

"""The accountant's CRM actions on Books pages (the seed's "Working with the Integration in Zoho Books"):

- Search Contacts in CRM (`crm_contact_search`, `crm_contact_choose`): on a sales transaction form, find a CRM
  account or contact by name and import it on the spot as the customer; on a purchase form, a CRM vendor. What the
  search looks for follows the customers config (the seed's Insight): with Contacts only, contacts by first and
  last name; with Accounts, or Accounts and their Contacts, accounts by name, each with the contacts under it.
  Records already imported are marked and simply chosen (no CRM call).
- Associate Potentials With Transactions (`crm_deal_list`, `crm_deal_get`, `transaction_deal_associate`): the
  deals of the chosen customer (searched by the account / contact lookups of Deals), or deals found by name; the
  associated deal when it was deleted in the CRM.
- "Fetch this contact from Zoho CRM" / "Fetch this item from Zoho CRM" (`crm_contact_fetch`, `item_fetch_from_crm`):
  refused while sync is paused (Pause disables manual syncs, as the seed says).

Every CRM call goes through the connection's client (crm_integration), every CRM error becomes an ApplicationError
whose message the page shows inline. No HTTP call is made per record: one search per list, one more for the
contacts of all listed accounts.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from books.errors import ApplicationError, Conflict, NotFound
from books.models import Contact, ContactPerson, ContactType, Item, Organization, Transaction, User
from books.services.transactions import transaction_associate_potential
from crm_integration.client import CrmClient, CrmPermanent, CrmRecord
from crm_integration.models import ConnectionStatus, CrmConnection, CrmModule, CrmModuleOption, ModuleConfig, SyncModule
from crm_integration.selectors import connection_get
from crm_integration.services.clients import crm_client_for, crm_errors
from crm_integration.zoho import criteria as crit
from sync.models import Entity, LinkState, RecordLink
from sync.services import records
from sync.services.context import RunContext
from sync.services.deletions import _mark_crm_deleted

# How many records a search lists (the first ones the CRM returns); the person narrows the name for others.
MAX_RESULTS = 25
# How many contacts of the listed accounts are shown (one search for all of them).
MAX_CHILDREN = 200
# A lookup is searched by the id of the record it points to as `<Lookup>.id` (UNCONFIRMED in Zoho's docs for the
# search API; the sandbox and COQL accept it). Change it here if a CRM wants `<Lookup>` with the id.
LOOKUP_ID = "{field}.id"
DEAL_FIELDS = ("Deal_Name", "Stage", "Amount", "Closing_Date", "Account_Name", "Contact_Name")


@dataclass(frozen=True)
class CrmCandidate:
    """One CRM record a person may choose; `books_id` is the Books contact it already is (imported)."""

    crm_module: str
    crm_id: str
    name: str
    detail: str = ""
    books_id: int | None = None
    selectable: bool = True
    children: tuple[CrmCandidate, ...] = ()

    @property
    def imported(self) -> bool:
        return self.books_id is not None


@dataclass(frozen=True)
class CrmSearch:
    query: str
    searched: str  # what was searched, for the page: "accounts", "contacts" or "vendors"
    hint: str
    candidates: list[CrmCandidate]
    more: bool


@dataclass(frozen=True)
class CrmDeal:
    id: str
    name: str
    stage: str = ""
    amount: Decimal | None = None
    closing_date: str = ""
    account_name: str = ""
    contact_name: str = ""
    deleted: bool = False


@dataclass(frozen=True)
class DealList:
    deals: list[CrmDeal]
    more: bool
    query: str
    searched: str  # "customer" (its deals), "name" (deals found by name) or "" (nothing searched)
    hint: str
    current: CrmDeal | None  # the associated deal, when it is not among `deals` and still in the CRM
    deleted_current: CrmDeal | None  # the associated deal, deleted in the CRM (listed at the bottom)


# ---------------------------------------------------------------------------------------------------- helpers


def _usable_connection(organization: Organization) -> CrmConnection:
    connection = connection_get(organization=organization)
    if connection is None:
        raise Conflict(
            "connection: Zoho CRM is not connected for this organization; an admin connects it in Settings › Zoho Apps",
            field="connection",
        )
    if connection.status == ConnectionStatus.DISABLED:
        raise Conflict(
            "connection: the Zoho CRM integration is disabled; an admin can enable it in Settings › Zoho Apps",
            field="connection",
        )
    if connection.status == ConnectionStatus.NEEDS_REAUTH:
        raise Conflict(
            "connection: Zoho CRM refused the saved credentials; an admin must use Update Credentials in "
            "Settings › Zoho Apps",
            field="connection",
        )
    return connection


def _config(connection: CrmConnection, module: str) -> ModuleConfig:
    config = ModuleConfig.objects.filter(connection=connection, module=module, enabled=True).first()
    if config is None:
        label = SyncModule(module).label
        raise Conflict(
            f"{module}: {label} are not synced with Zoho CRM; an admin can configure them in Settings › Zoho Apps "
            "(Configure Now)",
            field=module,
        )
    return config


def _query(query: Any, *, field: str = "q") -> str:
    text = " ".join(str(query or "").split())
    if len(text) < 2:
        raise ApplicationError(f"{field}: enter at least 2 characters of a name", field=field)
    if len(text) > 100:
        raise ApplicationError(f"{field}: at most 100 characters", field=field)
    return text


def _first(records: Iterator[CrmRecord], limit: int) -> tuple[list[CrmRecord], bool]:
    """The first `limit` records and whether there are more (reads one record past the limit, no more pages)."""
    rows = list(itertools.islice(records, limit + 1))
    return rows[:limit], len(rows) > limit


def _lookup(value: Any) -> tuple[str, str]:
    """(id, name) of a lookup value {"id", "name"}."""
    if isinstance(value, dict):
        return str(value.get("id") or ""), str(value.get("name") or "")
    return "", ""


def _person_name(record: CrmRecord) -> str:
    full = str(record.get("Full_Name") or "").strip()
    if full:
        return full
    return " ".join(str(record.get(k) or "").strip() for k in ("First_Name", "Last_Name") if record.get(k)).strip()


def _links(connection: CrmConnection, crm_ids: Iterable[str]) -> dict[str, tuple[str, int]]:
    """crm id → (entity, Books id) of the live links among `crm_ids` (one query)."""
    ids = [i for i in set(crm_ids) if i]
    if not ids:
        return {}
    rows = RecordLink.objects.filter(
        organization=connection.organization,
        crm_org_id=connection.crm_org_id,
        crm_id__in=ids,
        state=LinkState.LINKED,
        crm_deleted=False,
        books_deleted=False,
    ).values_list("crm_id", "entity", "books_id")
    return {crm_id: (entity, books_id) for crm_id, entity, books_id in rows}


def _imported_contacts(connection: CrmConnection, crm_ids: Iterable[str], contact_type: str) -> dict[str, int]:
    """crm id → the Books contact (customer or vendor) each already-imported CRM record is: a contact person's
    customer for a contact that is a contact person (two queries at most)."""
    links = _links(connection, crm_ids)
    wanted = {Entity.CUSTOMER} if contact_type == ContactType.CUSTOMER else {Entity.VENDOR}
    out = {crm_id: books_id for crm_id, (entity, books_id) in links.items() if entity in wanted}
    persons = {crm_id: books_id for crm_id, (entity, books_id) in links.items() if entity == Entity.CONTACT_PERSON}
    if persons and contact_type == ContactType.CUSTOMER:
        parents = dict(
            ContactPerson.objects.filter(
                organization=connection.organization, pk__in=list(persons.values())
            ).values_list("pk", "contact_id")
        )
        out.update({crm_id: parents[pk] for crm_id, pk in persons.items() if pk in parents})
    return out


def _name_criteria(query: str) -> str:
    """Contacts by first and last name: each word starts the first or the last name; two words or more: the
    first word starts the first name and the rest the last name, or the whole starts the last name."""
    words = query.split()
    if len(words) == 1:
        return crit.any_of(
            crit.condition("First_Name", "starts_with", words[0]),
            crit.condition("Last_Name", "starts_with", words[0]),
        )
    return crit.any_of(
        crit.all_of(
            crit.condition("First_Name", "starts_with", words[0]),
            crit.condition("Last_Name", "starts_with", " ".join(words[1:])),
        ),
        crit.condition("Last_Name", "starts_with", query),
    )


# ----------------------------------------------------------------------------------- Search Contacts in CRM


def crm_contact_search(
    *, organization: Organization, contact_type: str, query: Any, client: CrmClient | None = None
) -> CrmSearch:
    """Search the CRM for the customer (or vendor) of a transaction form. Raises ApplicationError naming the
    problem: a query under 2 characters (q), not connected / disabled / credentials refused (connection), the
    module not synced (customers / vendors), the CRM's refusals and limits (q)."""
    text = _query(query)
    connection = _usable_connection(organization)
    if contact_type == ContactType.VENDOR:
        _config(connection, SyncModule.VENDORS)
        return _search_vendors(connection, text, client or crm_client_for(connection, interactive=True))
    config = _config(connection, SyncModule.CUSTOMERS)
    client = client or crm_client_for(connection, interactive=True)
    if config.crm_module_option == CrmModuleOption.CONTACTS:
        return _search_contacts(connection, text, client)
    return _search_accounts(connection, config, text, client)


def _search_vendors(connection: CrmConnection, query: str, client: CrmClient) -> CrmSearch:
    with crm_errors(connection, field="q"):
        rows, more = _first(
            client.search_records(
                CrmModule.VENDORS,
                criteria=crit.condition("Vendor_Name", "starts_with", query),
                fields=["Vendor_Name", "Email", "City"],
            ),
            MAX_RESULTS,
        )
    imported = _imported_contacts(connection, (str(r.get("id")) for r in rows), ContactType.VENDOR)
    candidates = [
        CrmCandidate(
            crm_module=CrmModule.VENDORS,
            crm_id=str(r["id"]),
            name=str(r.get("Vendor_Name") or ""),
            detail=" · ".join(str(r[k]) for k in ("Email", "City") if r.get(k)),
            books_id=imported.get(str(r["id"])),
        )
        for r in rows
        if r.get("id")
    ]
    return CrmSearch(query, "vendors", "Vendors whose name starts with what you typed.", candidates, more)


def _search_contacts(connection: CrmConnection, query: str, client: CrmClient) -> CrmSearch:
    with crm_errors(connection, field="q"):
        rows, more = _first(
            client.search_records(
                CrmModule.CONTACTS,
                criteria=_name_criteria(query),
                fields=["First_Name", "Last_Name", "Full_Name", "Email", "Account_Name"],
            ),
            MAX_RESULTS,
        )
    imported = _imported_contacts(connection, (str(r.get("id")) for r in rows), ContactType.CUSTOMER)
    candidates = [
        CrmCandidate(
            crm_module=CrmModule.CONTACTS,
            crm_id=str(r["id"]),
            name=_person_name(r),
            detail=" · ".join(v for v in (str(r.get("Email") or ""), _lookup(r.get("Account_Name"))[1]) if v),
            books_id=imported.get(str(r["id"])),
        )
        for r in rows
        if r.get("id")
    ]
    return CrmSearch(
        query, "contacts", "Contacts whose first or last name starts with what you typed.", candidates, more
    )


def _search_accounts(connection: CrmConnection, config: ModuleConfig, query: str, client: CrmClient) -> CrmSearch:
    with_contacts = config.crm_module_option == CrmModuleOption.ACCOUNTS_AND_CONTACTS
    with crm_errors(connection, field="q"):
        accounts, more = _first(
            client.search_records(
                CrmModule.ACCOUNTS,
                criteria=crit.condition("Account_Name", "starts_with", query),
                fields=["Account_Name", "Billing_City", "Phone"],
            ),
            MAX_RESULTS,
        )
        account_ids = [str(a["id"]) for a in accounts if a.get("id")]
        contacts: list[CrmRecord] = []
        if account_ids:
            # The contacts under every listed account, in one search (at most 100 ids fit an `in`; MAX_RESULTS is
            # below that).
            contacts, _ = _first(
                client.search_records(
                    CrmModule.CONTACTS,
                    criteria=crit.condition(LOOKUP_ID.format(field="Account_Name"), "in", account_ids),
                    fields=["First_Name", "Last_Name", "Full_Name", "Email", "Account_Name"],
                ),
                MAX_CHILDREN,
            )
        orphans: list[CrmRecord] = []
        if with_contacts and config.include_orphan_contacts:
            # Contacts without an account are customers of their own: found by their names.
            found, _ = _first(
                client.search_records(
                    CrmModule.CONTACTS,
                    criteria=_name_criteria(query),
                    fields=["First_Name", "Last_Name", "Full_Name", "Email", "Account_Name"],
                ),
                MAX_RESULTS,
            )
            orphans = [r for r in found if not _lookup(r.get("Account_Name"))[0]]
    ids = [*account_ids, *(str(c.get("id")) for c in contacts), *(str(o.get("id")) for o in orphans)]
    imported = _imported_contacts(connection, ids, ContactType.CUSTOMER)
    by_account: dict[str, list[CrmRecord]] = {}
    for contact in contacts:
        by_account.setdefault(_lookup(contact.get("Account_Name"))[0], []).append(contact)
    candidates = []
    for account in accounts:
        account_id = str(account.get("id") or "")
        if not account_id:
            continue
        children = tuple(
            CrmCandidate(
                crm_module=CrmModule.CONTACTS,
                crm_id=str(c["id"]),
                name=_person_name(c),
                detail=str(c.get("Email") or ""),
                # With Accounts only, a contact is not a Books record: choosing its account is how it is used.
                books_id=imported.get(str(c["id"])) if with_contacts else None,
                selectable=with_contacts,
            )
            for c in by_account.get(account_id, [])
            if c.get("id")
        )
        candidates.append(
            CrmCandidate(
                crm_module=CrmModule.ACCOUNTS,
                crm_id=account_id,
                name=str(account.get("Account_Name") or ""),
                detail=" · ".join(str(account[k]) for k in ("Billing_City", "Phone") if account.get(k)),
                books_id=imported.get(account_id),
                children=children,
            )
        )
    candidates += [
        CrmCandidate(
            crm_module=CrmModule.CONTACTS,
            crm_id=str(o["id"]),
            name=_person_name(o),
            detail=" · ".join(v for v in (str(o.get("Email") or ""), "no account") if v),
            books_id=imported.get(str(o["id"])),
        )
        for o in orphans
        if o.get("id")
    ]
    hint = "Accounts whose name starts with what you typed, with the contacts under each."
    return CrmSearch(query, "accounts", hint, candidates, more)


def crm_contact_choose(
    *,
    organization: Organization,
    actor: User | None,
    contact_type: str,
    crm_module: Any,
    crm_id: Any,
    client: CrmClient | None = None,
) -> Contact:
    """The Books customer (or vendor) for a CRM record chosen in the search: the one it already is, or imported now
    (customer_import_from_crm / vendor_import_from_crm, which apply the duplicates policy). With Accounts only, a
    contact chosen under an account brings its account."""
    crm_id = str(crm_id or "").strip()
    if not crm_id.isdigit() or len(crm_id) > 40:
        raise ApplicationError(f"crm_id: '{crm_id[:40]}' is not a Zoho CRM record id", field="crm_id")
    allowed = (
        (CrmModule.VENDORS.value,)
        if contact_type == ContactType.VENDOR
        else (CrmModule.ACCOUNTS.value, CrmModule.CONTACTS.value)
    )
    if crm_module not in allowed:
        raise ApplicationError(
            f"crm_module: '{str(crm_module)[:30]}' is not one of {', '.join(allowed)}", field="crm_module"
        )
    connection = _usable_connection(organization)
    existing = _imported_contacts(connection, [crm_id], contact_type).get(crm_id)
    if existing is not None:
        found = Contact.objects.filter(organization=organization, contact_type=contact_type, pk=existing).first()
        if found is not None:
            return found
    client = client or crm_client_for(connection, interactive=True)
    if contact_type == ContactType.VENDOR:
        return records.vendor_import_from_crm(organization=organization, actor=actor, crm_id=crm_id, client=client)
    config = _config(connection, SyncModule.CUSTOMERS)
    if crm_module == CrmModule.CONTACTS and config.crm_module_option == CrmModuleOption.ACCOUNTS:
        with crm_errors(connection, field="crm_id"):
            contact = client.get_record(CrmModule.CONTACTS, crm_id, fields=["Last_Name", "Account_Name"])
        account_id = _lookup((contact or {}).get("Account_Name"))[0]
        if not account_id:
            raise ApplicationError(
                "crm_id: this Zoho CRM contact has no account; customers sync with Accounts only", field="crm_id"
            )
        crm_module, crm_id = CrmModule.ACCOUNTS.value, account_id
    return records.customer_import_from_crm(
        organization=organization, actor=actor, crm_module=str(crm_module), crm_id=crm_id, client=client
    )


# --------------------------------------------------------------------------------------------- deals


def _decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _deal(record: CrmRecord) -> CrmDeal:
    return CrmDeal(
        id=str(record.get("id") or ""),
        name=str(record.get("Deal_Name") or ""),
        stage=str(record.get("Stage") or ""),
        amount=_decimal(record.get("Amount")),
        closing_date=str(record.get("Closing_Date") or ""),
        account_name=_lookup(record.get("Account_Name"))[1],
        contact_name=_lookup(record.get("Contact_Name"))[1],
    )


def _customer_conditions(customer: Contact) -> list[str]:
    """Deals of this customer: its CRM account or contact, and the CRM contacts of its contact persons (at most
    Zoho's 10 conditions)."""
    conditions = []
    if customer.zcrm_account_id:
        conditions.append(crit.condition(LOOKUP_ID.format(field="Account_Name"), "equals", customer.zcrm_account_id))
    if customer.zcrm_contact_id:
        conditions.append(crit.condition(LOOKUP_ID.format(field="Contact_Name"), "equals", customer.zcrm_contact_id))
    if customer.pk and customer.contact_type == ContactType.CUSTOMER:
        persons = (
            ContactPerson.objects.filter(organization_id=customer.organization_id, contact=customer)
            .exclude(zcrm_contact_id="")
            .values_list("zcrm_contact_id", flat=True)[: crit.MAX_CONDITIONS - len(conditions)]
        )
        conditions += [crit.condition(LOOKUP_ID.format(field="Contact_Name"), "equals", cid) for cid in persons]
    return conditions


def crm_deal_list(
    *,
    organization: Organization,
    customer: Contact | None,
    query: Any = "",
    current_id: str = "",
    current_name: str = "",
    client: CrmClient | None = None,
) -> DealList:
    """The deals the Associate Potential pane lists: found by name when `query` is given, else the customer's.
    The associated deal (`current_id`) is shown even when it is not among them; deleted in the CRM, it comes back
    as `deleted_current` (the pane lists it at the bottom). Raises ApplicationError as crm_contact_search does."""
    text = " ".join(str(query or "").split())
    if text:
        text = _query(text)
    connection = _usable_connection(organization)
    client = client or crm_client_for(connection, interactive=True)
    searched, hint, more = "", "", False
    rows: list[CrmRecord] = []
    if text:
        searched = "name"
        hint = "Deals whose name starts with what you typed. Deals deleted in Zoho CRM are not found."
        with crm_errors(connection, field="q"):
            rows, more = _first(
                client.search_records(
                    "Deals", criteria=crit.condition("Deal_Name", "starts_with", text), fields=list(DEAL_FIELDS)
                ),
                MAX_RESULTS,
            )
    elif customer is not None and customer.contact_type == ContactType.CUSTOMER:
        conditions = _customer_conditions(customer)
        if conditions:
            searched = "customer"
            hint = f"Deals of {customer.contact_name} in Zoho CRM. Search by name for others."
            with crm_errors(connection, field="q"):
                rows, more = _first(
                    client.search_records("Deals", criteria=crit.any_of(*conditions), fields=list(DEAL_FIELDS)),
                    MAX_RESULTS,
                )
        else:
            hint = f"{customer.contact_name} is not linked with Zoho CRM: search its deals by name."
    else:
        hint = "Choose the customer first to see its deals, or search deals by name."
    deals = [_deal(r) for r in rows if r.get("id")]
    current = deleted = None
    current_id = str(current_id or "")
    if current_id and current_id.isdigit() and all(d.id != current_id for d in deals):
        with crm_errors(connection, field="q"):
            record = _deal_record(client, current_id)
        if record is None:
            deleted = CrmDeal(id=current_id, name=current_name or current_id, deleted=True)
        else:
            current = _deal(record)
    return DealList(
        deals=deals, more=more, query=text, searched=searched, hint=hint, current=current, deleted_current=deleted
    )


def _deal_record(client: CrmClient, deal_id: str) -> CrmRecord | None:
    try:
        return client.get_record("Deals", deal_id, fields=list(DEAL_FIELDS))
    except CrmPermanent as exc:
        if exc.status in (400, 404):
            return None
        raise


def crm_deal_get(*, organization: Organization, deal_id: Any, client: CrmClient | None = None) -> CrmDeal:
    """One deal, read from the CRM now. NotFound when it is not (or no longer) a deal there."""
    deal_id = str(deal_id or "").strip()
    if not deal_id.isdigit() or len(deal_id) > 40:
        raise NotFound(f"deal_id: '{deal_id[:40]}' is not a Zoho CRM deal id", field="deal_id")
    connection = _usable_connection(organization)
    client = client or crm_client_for(connection, interactive=True)
    with crm_errors(connection, field="deal_id"):
        record = _deal_record(client, deal_id)
    if record is None:
        raise NotFound(f"deal_id: there is no deal {deal_id} in Zoho CRM (it may have been deleted)", field="deal_id")
    return _deal(record)


def transaction_deal_associate(
    *, txn: Transaction, actor: User | None, deal_id: Any, client: CrmClient | None = None
) -> Transaction:
    """Associate Potential on a saved transaction: the deal is read from the CRM (so its id is real and its name
    current), then books.services.transactions.transaction_associate_potential (which refuses purchase orders and
    a change of a trigger-made association)."""
    deal = crm_deal_get(organization=txn.organization, deal_id=deal_id, client=client)
    return transaction_associate_potential(txn=txn, actor=actor, potential_id=deal.id, potential_name=deal.name)


# ------------------------------------------------------------------------------------------------ fetch


def _not_paused(connection: CrmConnection) -> None:
    if connection.paused:
        raise Conflict(
            "connection: sync with Zoho CRM is paused; an admin can click Resume in Settings › Zoho Apps",
            field="connection",
        )


def crm_contact_fetch(*, contact: Contact, actor: User | None, client: CrmClient | None = None) -> Contact:
    """More › Fetch this contact from Zoho CRM: records.contact_fetch_from_crm, refused while sync is paused."""
    connection = _usable_connection(contact.organization)
    _not_paused(connection)
    if not contact.is_linked_with_zohocrm:
        raise Conflict(f"contact_id: {contact.contact_name} is not linked with Zoho CRM", field="contact_id")
    return records.contact_fetch_from_crm(
        contact=contact, actor=actor, client=client or crm_client_for(connection, interactive=True)
    )


def item_fetch_from_crm(*, item: Item, actor: User | None, client: CrmClient | None = None) -> Item:
    """More › Fetch this item from Zoho CRM: reads the item's linked CRM product now and applies it (as
    contact_fetch_from_crm does for contacts). Refused when not linked or paused; a product deleted in the CRM is
    marked so (the item stays) and reported (404)."""
    connection = _usable_connection(item.organization)
    _not_paused(connection)
    config = records._config(connection, SyncModule.ITEMS)
    link = (
        RecordLink.objects.filter(
            organization=item.organization,
            crm_org_id=connection.crm_org_id,
            entity=Entity.ITEM,
            books_id=item.pk,
            state=LinkState.LINKED,
            crm_deleted=False,
        )
        .order_by("pk")
        .first()
    )
    if link is None:
        raise Conflict(f"item_id: {item.name} is not linked with Zoho CRM", field="item_id")
    lane = records._lane_for(records._lanes(connection, config), link.crm_module)
    if lane is None:
        raise Conflict(f"item_id: the Items settings no longer sync Zoho CRM {link.crm_module}", field="item_id")
    client = client or crm_client_for(connection, interactive=True)
    record = records._fetch(client, connection, lane, link.crm_id)
    if record is None:
        run = records._start_run(connection, actor, SyncModule.ITEMS)
        ctx = RunContext(run=run, connection=connection, client=client, lease=None)
        _mark_crm_deleted(ctx, module=SyncModule.ITEMS, crm_module=link.crm_module, ids=[link.crm_id])
        records._end_run(run, None)
        raise NotFound(
            f"item_id: the Zoho CRM product of {item.name} was deleted; the item stays in Books", field="item_id"
        )
    plan, _run = records._apply_one(
        connection=connection, actor=actor, lane=lane, record=record, client=client, force=True
    )
    _, reason = records._result_id(plan, link.crm_id)
    if reason:
        raise ApplicationError(f"item_id: Zoho CRM's values could not be applied: {reason}", status=422)
    item.refresh_from_db()
    return item

"""What a module config syncs, as lanes: one lane is one CRM module ⇄ one kind of Books record, with its field
maps, view, duplicate policy and direction. The pipeline (pull.py, push.py) runs lanes; it knows nothing of the
options of the Configure Now wizard.

- Customers, Accounts: Accounts ⇄ business customers.
- Customers, Contacts: Contacts ⇄ individual customers.
- Customers, Accounts and their Contacts: Accounts ⇄ business customers; Contacts with an account ⇄ contact
  persons of that account's customer; contacts without one ⇄ individual customers (fetched only when
  include_orphan_contacts; pushed both ways, since an individual customer syncs with Contacts).
- Vendors: Vendors ⇄ vendors. Items: Products ⇄ items.

Books records are read and written through a `BooksAdapter` per Books model, so that a lane handles customers,
vendors, contact persons and items alike.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, QuerySet

from books.models import (
    ADDRESS_PARTS,
    Contact,
    ContactPerson,
    ContactType,
    CustomerSubType,
    CustomFieldDefinition,
    CustomFieldEntity,
    Item,
    Organization,
)
from crm_integration import mapping
from crm_integration.models import CrmModule, CrmModuleOption, FieldMapping, ModuleConfig, SyncExtent, SyncModule
from sync.models import Entity

# The CRM field that names a record (history rows, recovering an insert whose answer was lost).
NAME_FIELD = {
    CrmModule.ACCOUNTS.value: "Account_Name",
    CrmModule.CONTACTS.value: "Last_Name",
    CrmModule.VENDORS.value: "Vendor_Name",
    CrmModule.PRODUCTS.value: "Product_Name",
}
# The Books field holding the CRM id of a linked record (what the Books API's zcrm_* fields and the CRM Customers /
# CRM Vendors filters read).
ZCRM_FIELD = {
    CrmModule.ACCOUNTS.value: "zcrm_account_id",
    CrmModule.CONTACTS.value: "zcrm_contact_id",
    CrmModule.VENDORS.value: "zcrm_vendor_id",
    CrmModule.PRODUCTS.value: "zcrm_product_id",
}
CONTACT_FIELDS = frozenset(
    (
        "contact_name",
        "company_name",
        "salutation",
        "first_name",
        "last_name",
        "email",
        "phone",
        "mobile",
        "website",
        "currency_code",
        "payment_terms",
        "notes",
        "status",
        "crm_owner_id",
        *(f"{kind}_{part}" for kind in ("billing", "shipping") for part in ADDRESS_PARTS),
    )
)
PERSON_FIELDS = frozenset(
    ("salutation", "first_name", "last_name", "email", "phone", "mobile", "designation", "department")
)
ITEM_FIELDS = frozenset(("name", "sku", "product_type", "rate", "description", "unit", "status"))


@dataclass(frozen=True)
class BooksAdapter:
    """How the engine reads and writes one kind of Books record."""

    entity: str  # sync.models.Entity
    model: type[Model]
    fields: frozenset[str]  # the model fields a map may fill
    name_attr: str  # the display name (duplicates, history)
    required: str  # a field that must not be empty
    custom_entity: str | None  # CustomFieldEntity of its custom fields; None = no custom fields
    contact_type: str = ""
    sub_type: str = ""  # the customer sub type this lane reads/writes ("" = any)

    def queryset(self, organization: Organization) -> QuerySet[Any]:
        """The records of this kind (what a push reads)."""
        qs: QuerySet[Any] = self.model._default_manager.filter(organization=organization)
        if self.contact_type:
            qs = qs.filter(contact_type=self.contact_type)
        if self.sub_type:
            qs = qs.filter(customer_sub_type=self.sub_type)
        return qs

    def duplicates_queryset(self, organization: Organization) -> QuerySet[Any]:
        """Where a duplicate by name is looked for: customers of any type for a customer, and so on."""
        qs: QuerySet[Any] = self.model._default_manager.filter(organization=organization)
        if self.contact_type:
            qs = qs.filter(contact_type=self.contact_type)
        return qs

    def display_name(self, obj: Any) -> str:
        if self.model is ContactPerson:
            return " ".join(p for p in (obj.first_name, obj.last_name) if p)
        return str(getattr(obj, self.name_attr) or "")


CUSTOMER_BUSINESS = BooksAdapter(
    entity=Entity.CUSTOMER,
    model=Contact,
    fields=CONTACT_FIELDS,
    name_attr="contact_name",
    required="contact_name",
    custom_entity=CustomFieldEntity.CUSTOMER,
    contact_type=ContactType.CUSTOMER,
    sub_type=CustomerSubType.BUSINESS,
)
CUSTOMER_INDIVIDUAL = BooksAdapter(
    entity=Entity.CUSTOMER,
    model=Contact,
    fields=CONTACT_FIELDS,
    name_attr="contact_name",
    required="contact_name",
    custom_entity=CustomFieldEntity.CUSTOMER,
    contact_type=ContactType.CUSTOMER,
    sub_type=CustomerSubType.INDIVIDUAL,
)
VENDOR = BooksAdapter(
    entity=Entity.VENDOR,
    model=Contact,
    fields=CONTACT_FIELDS,
    name_attr="contact_name",
    required="contact_name",
    custom_entity=CustomFieldEntity.VENDOR,
    contact_type=ContactType.VENDOR,
)
CONTACT_PERSON = BooksAdapter(
    entity=Entity.CONTACT_PERSON,
    model=ContactPerson,
    fields=PERSON_FIELDS,
    name_attr="last_name",
    required="last_name",
    custom_entity=None,
)
ITEM = BooksAdapter(
    entity=Entity.ITEM,
    model=Item,
    fields=ITEM_FIELDS,
    name_attr="name",
    required="name",
    custom_entity=CustomFieldEntity.ITEM,
)

ADAPTERS_BY_ENTITY: dict[str, tuple[BooksAdapter, ...]] = {
    Entity.CUSTOMER: (CUSTOMER_BUSINESS, CUSTOMER_INDIVIDUAL),
    Entity.VENDOR: (VENDOR,),
    Entity.CONTACT_PERSON: (CONTACT_PERSON,),
    Entity.ITEM: (ITEM,),
}


@dataclass(frozen=True)
class Lane:
    """One CRM module ⇄ one kind of Books record within a module config."""

    module: str  # customers | vendors | items
    crm_module: str
    adapter: BooksAdapter
    map_entity: str  # crm_integration.mapping.BooksEntity: the catalog the maps convert into
    maps: tuple[FieldMapping, ...]
    custom_defs: tuple[CustomFieldDefinition, ...]
    view_id: str
    duplicates: str
    both_ways: bool
    # Items synced both ways: the Books side goes first, so it wins when both sides changed, and duplicates by name
    # fall in the CRM (the Books item replaces the product on Overwrite).
    books_first: bool = False
    # Accounts and their Contacts, Contacts lane: contacts with an account are contact persons (this lane); those
    # without one go to `orphans` (individual customers).
    orphans: Lane | None = None
    # False: a pull only updates records already linked (contacts without an account, unless the admin checked
    # "Include contacts that are not associated to any accounts").
    fetch_new: bool = True

    @property
    def entity(self) -> str:
        return self.adapter.entity

    @property
    def zcrm_attr(self) -> str:
        return ZCRM_FIELD[self.crm_module]

    @property
    def is_persons(self) -> bool:
        return self.adapter is CONTACT_PERSON

    @property
    def label(self) -> str:
        what = {
            "customer": "individual customers" if self.adapter.sub_type == "individual" else "business customers",
            "vendor": "vendors",
            "item": "items",
            "contact_person": "contact persons",
        }[self.entity]
        return f"{self.crm_module} ⇄ {what}"

    # Computed once per lane (a lane is immutable; cached_property writes the instance's __dict__ directly).
    @functools.cached_property
    def _active_maps(self) -> tuple[FieldMapping, ...]:
        return tuple(m for m in self.maps if mapping.is_custom(m.books_field) or m.books_field in self.adapter.fields)

    def active_maps(self) -> list[FieldMapping]:
        """The maps whose Books side this kind of record has."""
        return list(self._active_maps)

    @functools.cached_property
    def _books_keys(self) -> tuple[str, ...]:
        return tuple(sorted({m.books_field for m in self._active_maps}))

    def books_keys(self) -> list[str]:
        """The Books fields the Books-side hash covers (custom fields as cf:<api_name>)."""
        return list(self._books_keys)

    @functools.cached_property
    def _crm_keys(self) -> tuple[str, ...]:
        keys = set()
        for m in self._active_maps:
            if self.both_ways and m.crm_data_type in mapping.CRM_READ_ONLY_TYPES:
                continue
            keys.add(m.crm_field)
        return tuple(sorted(keys))

    def crm_keys(self) -> list[str]:
        """The CRM fields the CRM-side hash covers. Both ways, only fields a push writes: otherwise a field the CRM
        computes would make every pushed record look changed in the CRM."""
        return list(self._crm_keys)

    def fingerprint(self) -> str:
        """What the pull of this lane depends on: a change means the next pull reads everything again."""
        parts: list[Any] = [self.crm_module, self.view_id, self.entity, self.adapter.sub_type, self.fetch_new]
        parts.append(sorted((m.books_field, m.crm_field, m.crm_data_type) for m in self.maps))
        if self.orphans is not None:
            parts.append(self.orphans.fingerprint())
        return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:32]


def books_values(lane: Lane, obj: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A Books record's mapped values: (model fields, custom fields by api_name), every mapped key present."""
    values: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    stored = getattr(obj, "custom_fields", None) or {}
    for key in lane._books_keys:
        if mapping.is_custom(key):
            api_name = key[len(mapping.CUSTOM_PREFIX) :]
            custom[api_name] = stored.get(api_name)
        else:
            values[key] = getattr(obj, key)
    return values, custom


def books_hash_of(lane: Lane, obj: Any) -> str:
    from sync.services.hashing import content_hash

    values, custom = books_values(lane, obj)
    flat = {**values, **{mapping.custom_field_name(k): v for k, v in custom.items()}}
    return content_hash(flat, lane._books_keys)


def crm_hash_of(lane: Lane, record: Mapping[str, Any]) -> str:
    from sync.services.hashing import content_hash

    return content_hash(record, lane._crm_keys)


def _maps_for(maps: Iterable[FieldMapping], crm_module: str) -> tuple[FieldMapping, ...]:
    return tuple(m for m in maps if m.crm_module == crm_module)


def _defs(defs: Sequence[CustomFieldDefinition], adapter: BooksAdapter) -> tuple[CustomFieldDefinition, ...]:
    return tuple(d for d in defs if d.entity == adapter.custom_entity)


@dataclass(frozen=True)
class ModulePlan:
    """The lanes of one module config: pulled in `pull` order, pushed in `push` order (empty when fetch only)."""

    module: str
    pull: tuple[Lane, ...]
    push: tuple[Lane, ...]
    books_first: bool


def module_plan(
    *,
    config: ModuleConfig,
    maps: Sequence[FieldMapping],
    custom_defs: Sequence[CustomFieldDefinition],
    two_way_allowed: bool,
) -> ModulePlan:
    both = config.extent == SyncExtent.BOTH_WAYS and two_way_allowed
    common: dict[str, Any] = {"module": config.module, "duplicates": config.duplicates, "both_ways": both}

    def lane(crm_module: str, adapter: BooksAdapter, map_entity: str, view_id: str, **extra: Any) -> Lane:
        return Lane(
            crm_module=crm_module,
            adapter=adapter,
            map_entity=map_entity,
            maps=_maps_for(maps, crm_module),
            custom_defs=_defs(custom_defs, adapter),
            view_id=view_id,
            **common,
            **extra,
        )

    E = mapping.BooksEntity
    if config.module == SyncModule.VENDORS:
        only = lane(CrmModule.VENDORS, VENDOR, E.VENDOR, config.primary_view_id)
        return ModulePlan(config.module, (only,), (only,) if both else (), False)
    if config.module == SyncModule.ITEMS:
        only = lane(CrmModule.PRODUCTS, ITEM, E.ITEM, config.primary_view_id, books_first=both)
        return ModulePlan(config.module, (only,), (only,) if both else (), both)
    option = config.crm_module_option
    if option == CrmModuleOption.ACCOUNTS:
        accounts = lane(CrmModule.ACCOUNTS, CUSTOMER_BUSINESS, E.CUSTOMER_BUSINESS, config.primary_view_id)
        return ModulePlan(config.module, (accounts,), (accounts,) if both else (), False)
    if option == CrmModuleOption.CONTACTS:
        contacts = lane(CrmModule.CONTACTS, CUSTOMER_INDIVIDUAL, E.CUSTOMER_INDIVIDUAL, config.primary_view_id)
        return ModulePlan(config.module, (contacts,), (contacts,) if both else (), False)
    accounts = lane(CrmModule.ACCOUNTS, CUSTOMER_BUSINESS, E.CUSTOMER_BUSINESS, config.primary_view_id)
    orphans = lane(
        CrmModule.CONTACTS,
        CUSTOMER_INDIVIDUAL,
        E.CUSTOMER_INDIVIDUAL,
        config.secondary_view_id,
        fetch_new=config.include_orphan_contacts,
    )
    persons = lane(CrmModule.CONTACTS, CONTACT_PERSON, E.CONTACT_PERSON, config.secondary_view_id, orphans=orphans)
    push = (accounts, orphans, persons) if both else ()
    return ModulePlan(config.module, (accounts, persons), push, False)


def crm_fields_for(lane: Lane, *, id_field: str = "") -> list[str]:
    """The CRM fields a pull of the lane asks for (Zoho lists only the fields asked for, at most 50)."""
    wanted = {m.crm_field for m in lane.maps}
    if lane.orphans is not None:
        wanted |= {m.crm_field for m in lane.orphans.maps}
    wanted.add("Modified_Time")
    wanted.add(NAME_FIELD[lane.crm_module])
    if lane.crm_module == CrmModule.CONTACTS:
        wanted |= {"First_Name", "Last_Name", "Account_Name"}
    if id_field:
        wanted.add(id_field)
    wanted.discard("id")
    return sorted(wanted)

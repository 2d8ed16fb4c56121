"""Module configurations (customers, vendors, items) and their field maps.

`module_config_save` is the one write: the wizard's last step and the integration file both call it. It checks
every choice against the connection (one-way connections cannot sync both ways), against the CRM's live views
and field metadata, and against the Books field catalog and custom fields, and refuses with one message per wrong
input, each naming the input (`ValidationProblems.problems`).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from books.errors import ApplicationError
from books.models import CustomFieldDefinition, CustomFieldType, User
from books.selectors import custom_field_list
from books.services.custom_fields import custom_field_create
from crm_integration import hooks, mapping
from crm_integration.client import CrmClient, CustomView, FieldMeta
from crm_integration.models import (
    ConnectionStatus,
    CrmConnection,
    CrmModule,
    CrmModuleOption,
    DuplicatePolicy,
    FieldMapping,
    ModuleConfig,
    SyncExtent,
    SyncModule,
)
from crm_integration.services import clients


class ValidationProblems(ApplicationError):
    """Several wrong inputs at once: `problems` is a list of (field path, message)."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        first_field, first_message = problems[0]
        super().__init__(first_message, field=first_field, status=422, extra={"problems": list(problems)})
        self.problems = list(problems)


@dataclass
class ModuleInput:
    """A module's settings as entered (pages) or written (file). Views are ids or names; `field_map` is, per CRM
    module, {Books field: CRM field}; None means the default maps."""

    module: str
    crm_module_option: str = ""
    include_orphan_contacts: bool = False
    extent: str = SyncExtent.FETCH_FROM_CRM
    duplicates: str = DuplicatePolicy.SKIP
    primary_view: str = ""
    secondary_view: str = ""
    field_map: dict[str, dict[str, str]] | None = None


@dataclass
class CrmMetadata:
    """What the CRM says now about the modules a config reads: views and fields by CRM module."""

    views: dict[str, list[CustomView]] = field(default_factory=dict)
    fields: dict[str, dict[str, FieldMeta]] = field(default_factory=dict)


# The Books field every record of an entity needs mapped; individual customers take their display name from
# First and Last Name, so they need Last Name.
REQUIRED_MAP: dict[str, str] = {
    mapping.BooksEntity.CUSTOMER_BUSINESS: "contact_name",
    mapping.BooksEntity.CUSTOMER_INDIVIDUAL: "last_name",
    mapping.BooksEntity.CONTACT_PERSON: "last_name",
    mapping.BooksEntity.VENDOR: "contact_name",
    mapping.BooksEntity.ITEM: "name",
}

# Which Books custom-field entity a module's custom fields belong to.
CUSTOM_FIELD_ENTITY = {SyncModule.CUSTOMERS: "customer", SyncModule.VENDORS: "vendor", SyncModule.ITEMS: "item"}

# The keys of the file's view settings, per module and position.
VIEW_KEYS = {
    SyncModule.CUSTOMERS: ("account_view", "contact_view"),
    SyncModule.VENDORS: ("view", ""),
    SyncModule.ITEMS: ("view", ""),
}

_CRM_TO_CUSTOM_TYPE = {
    "email": CustomFieldType.EMAIL,
    "phone": CustomFieldType.PHONE,
    "website": CustomFieldType.URL,
    "picklist": CustomFieldType.PICKLIST,
    "integer": CustomFieldType.NUMBER,
    "bigint": CustomFieldType.NUMBER,
    "double": CustomFieldType.DECIMAL,
    "currency": CustomFieldType.DECIMAL,
    "percent": CustomFieldType.DECIMAL,
    "decimal": CustomFieldType.DECIMAL,
    "boolean": CustomFieldType.CHECKBOX,
    "date": CustomFieldType.DATE,
    "datetime": CustomFieldType.DATE,
}


def crm_modules_for(*, module: str, crm_module_option: str) -> tuple[str, ...]:
    """The CRM modules (API names) a config reads, primary first."""
    if module == SyncModule.VENDORS:
        return (CrmModule.VENDORS.value,)
    if module == SyncModule.ITEMS:
        return (CrmModule.PRODUCTS.value,)
    if crm_module_option == CrmModuleOption.CONTACTS:
        return (CrmModule.CONTACTS.value,)
    if crm_module_option == CrmModuleOption.ACCOUNTS_AND_CONTACTS:
        return (CrmModule.ACCOUNTS.value, CrmModule.CONTACTS.value)
    return (CrmModule.ACCOUNTS.value,)


def entity_for(*, module: str, crm_module: str, crm_module_option: str) -> str:
    return mapping.books_entity_for(module=module, crm_module=crm_module, crm_module_option=crm_module_option)


def custom_fields_for(
    *, connection: CrmConnection, module: str, crm_module: str, crm_module_option: str
) -> list[CustomFieldDefinition]:
    entity = entity_for(module=module, crm_module=crm_module, crm_module_option=crm_module_option)
    if mapping.CUSTOM_FIELD_ENTITY[mapping.BooksEntity(entity)] is None:
        return []
    return custom_field_list(organization=connection.organization, entity=CUSTOM_FIELD_ENTITY[SyncModule(module)])


def suggested_custom_type(crm_data_type: str) -> str:
    return _CRM_TO_CUSTOM_TYPE.get(crm_data_type, CustomFieldType.TEXT)


# --- the CRM's live metadata ---------------------------------------------------------------------------------


def crm_metadata_fetch(
    *, connection: CrmConnection, crm_modules: Iterable[str], client: CrmClient | None = None, views: bool = True
) -> CrmMetadata:
    client = client or clients.crm_client_for(connection)
    metadata = CrmMetadata()
    with clients.crm_errors(connection):
        for crm_module in crm_modules:
            if views:
                metadata.views[crm_module] = list(client.list_custom_views(crm_module))
            metadata.fields[crm_module] = {f.api_name: f for f in client.list_fields(crm_module)}
    return metadata


def default_view(views: Sequence[CustomView], crm_module: str) -> CustomView | None:
    """The CRM's "All <module>" view, else its default view, else the first."""
    for view in views:
        if (view.system_name or "").upper() == "ALLVIEWS" or view.name.lower() == f"all {crm_module.lower()}":
            return view
    for view in views:
        if view.is_default:
            return view
    return views[0] if views else None


def view_resolve(views: Sequence[CustomView], ref: str, *, crm_module: str, field: str) -> CustomView:
    """A view by id or by name (case-insensitive), else ApplicationError listing the views there are."""
    ref = str(ref or "").strip()
    for view in views:
        if view.id == ref:
            return view
    lowered = ref.lower()
    for view in views:
        if lowered in (view.name.lower(), (view.display_value or "").lower()):
            return view
    names = ", ".join(v.display_value or v.name for v in views[:15]) or "none"
    if not ref:
        raise ApplicationError(f"{field}: choose a view of {crm_module} (views: {names})", field=field)
    raise ApplicationError(
        f"{field}: '{ref[:80]}' is not a view of {crm_module} in Zoho CRM (views: {names})", field=field
    )


# --- single choices ------------------------------------------------------------------------------------------


def clean_module(module: str) -> str:
    if module not in SyncModule.values:
        raise ApplicationError(
            f"module: '{str(module)[:40]}' is not one of {', '.join(SyncModule.values)}", field="module"
        )
    return module


def clean_crm_module_option(value: str, *, field: str = "crm_module_option") -> str:
    if value not in CrmModuleOption.values:
        raise ApplicationError(
            f"{field}: '{str(value)[:40]}' is not one of {', '.join(CrmModuleOption.values)}", field=field
        )
    return value


def clean_include_orphans(value: bool, *, crm_module_option: str, field: str = "include_orphan_contacts") -> bool:
    if value and crm_module_option != CrmModuleOption.ACCOUNTS_AND_CONTACTS:
        raise ApplicationError(f"{field}: only applies when the module is Accounts and their Contacts", field=field)
    return bool(value)


def clean_extent(value: str, *, connection: CrmConnection, field: str = "extent") -> str:
    if value not in SyncExtent.values:
        raise ApplicationError(
            f"{field}: '{str(value)[:40]}' is not one of {', '.join(SyncExtent.values)}", field=field
        )
    if value == SyncExtent.BOTH_WAYS and not connection.two_way_allowed:
        raise ApplicationError(
            f"{field}: this connection is one way, because another Zoho Books organization already syncs Zoho CRM "
            f"organization '{connection.crm_org_name}' both ways; choose Fetch from CRM",
            field=field,
        )
    return value


def clean_duplicates(value: str, *, field: str = "duplicates") -> str:
    if value not in DuplicatePolicy.values:
        raise ApplicationError(
            f"{field}: '{str(value)[:40]}' is not one of {', '.join(DuplicatePolicy.values)}", field=field
        )
    return value


def check_currency(connection: CrmConnection) -> None:
    books = (connection.organization.base_currency or "").upper()
    crm = (connection.crm_currency or "").upper()
    if crm and crm != books:
        raise ApplicationError(
            f"currency: the base currencies differ: Zoho CRM organization '{connection.crm_org_name}' uses {crm} and "
            f"this Books organization uses {books}; make them the same before mapping fields",
            field="currency",
            status=422,
        )


# --- field maps ----------------------------------------------------------------------------------------------


def field_map_validate(
    *,
    module: str,
    crm_module: str,
    crm_module_option: str,
    entries: Mapping[str, str],
    crm_fields: Mapping[str, FieldMeta],
    custom_fields: Sequence[CustomFieldDefinition],
    path: str,
) -> tuple[list[mapping.MappingSpec], list[tuple[str, str]]]:
    """Validates {Books field: CRM field} for one CRM module. Empty CRM fields mean "not mapped"."""
    entity = entity_for(module=module, crm_module=crm_module, crm_module_option=crm_module_option)
    defaults = {
        (s.books_field, s.crm_field)
        for s in mapping.default_mappings(crm_module=crm_module, entity=entity, crm_fields=crm_fields)
    }
    specs: list[mapping.MappingSpec] = []
    problems: list[tuple[str, str]] = []
    for books_field, crm_field in entries.items():
        if not isinstance(books_field, str) or not isinstance(crm_field, str):
            problems.append(
                (f"{path}.{books_field}", f"{path}.{books_field}: must be the API name of a CRM field (text)")
            )
            continue
        crm_field = crm_field.strip()
        if not crm_field:
            continue
        try:
            spec = mapping.validate_mapping(
                entity=entity,
                crm_module=crm_module,
                books_field=books_field,
                crm_field=crm_field,
                crm_fields=crm_fields,
                custom_fields=custom_fields,
                is_default=(books_field, crm_field) in defaults,
            )
        except mapping.MappingIncompatible as exc:
            problems.append((f"{path}.{books_field}", f"{path}.{books_field}: {exc.message}"))
            continue
        specs.append(spec)
    required = REQUIRED_MAP[mapping.BooksEntity(entity)]
    if not problems and required not in {s.books_field for s in specs}:
        label = next(f.label for f in mapping.BOOKS_FIELDS[mapping.BooksEntity(entity)] if f.name == required)
        problems.append(
            (
                f"{path}.{required}",
                f"{path}.{required}: {label} must be mapped to a CRM field (every Books "
                f"{entity.replace('_', ' ')} needs one)",
            )
        )
    return specs, problems


def default_field_map(
    *, module: str, crm_module: str, crm_module_option: str, crm_fields: Mapping[str, FieldMeta] | None
) -> dict[str, str]:
    entity = entity_for(module=module, crm_module=crm_module, crm_module_option=crm_module_option)
    return {
        s.books_field: s.crm_field
        for s in mapping.default_mappings(crm_module=crm_module, entity=entity, crm_fields=crm_fields)
    }


# --- saving --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CleanModule:
    module: str
    crm_module_option: str
    include_orphan_contacts: bool
    extent: str
    duplicates: str
    primary_view: CustomView | None
    secondary_view: CustomView | None
    specs: list[mapping.MappingSpec]


def module_input_clean(
    *, connection: CrmConnection, data: ModuleInput, metadata: CrmMetadata, path: str = ""
) -> CleanModule:
    """Every check of a module's settings; raises ValidationProblems with all the problems found."""
    prefix = f"{path}." if path else ""
    problems: list[tuple[str, str]] = []

    def attempt(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return fn(*args, **kwargs)
        except ApplicationError as exc:
            problems.append((exc.field or "", exc.message))
            return None

    module = clean_module(data.module)
    option = ""
    include = False
    if module == SyncModule.CUSTOMERS:
        option = attempt(clean_crm_module_option, data.crm_module_option, field=f"{prefix}module") or ""
        if option:
            include = bool(
                attempt(
                    clean_include_orphans,
                    data.include_orphan_contacts,
                    crm_module_option=option,
                    field=f"{prefix}include_orphan_contacts",
                )
            )
    extent = attempt(clean_extent, data.extent, connection=connection, field=f"{prefix}extent") or ""
    duplicates = attempt(clean_duplicates, data.duplicates, field=f"{prefix}duplicates") or ""
    if problems:
        raise ValidationProblems(problems)
    attempt(check_currency, connection)

    crm_modules = crm_modules_for(module=module, crm_module_option=option)
    view_keys = VIEW_KEYS[SyncModule(module)]
    chosen_views: list[CustomView | None] = []
    for position, crm_module in enumerate(crm_modules):
        ref = data.primary_view if position == 0 else data.secondary_view
        key = f"{prefix}{view_keys[position]}"
        views = metadata.views.get(crm_module, [])
        if not str(ref or "").strip():
            chosen_views.append(default_view(views, crm_module))
            continue
        chosen_views.append(attempt(view_resolve, views, ref, crm_module=crm_module, field=key))
    if module == SyncModule.CUSTOMERS and option != CrmModuleOption.ACCOUNTS_AND_CONTACTS and data.secondary_view:
        problems.append(
            (
                f"{prefix}contact_view",
                f"{prefix}contact_view: only applies when the module is Accounts and their Contacts "
                "(use account_view for Accounts, or for Contacts the view of Contacts)",
            )
        )

    specs: list[mapping.MappingSpec] = []
    given = data.field_map or {}
    unknown = [k for k in given if k not in crm_modules]
    for key in unknown:
        problems.append(
            (
                f"{prefix}field_map.{key}",
                f"{prefix}field_map.{key}: this module maps {', '.join(crm_modules)}, not {key}",
            )
        )
    for crm_module in crm_modules:
        crm_fields = metadata.fields.get(crm_module, {})
        if data.field_map is None or crm_module not in given:
            entries = default_field_map(
                module=module, crm_module=crm_module, crm_module_option=option, crm_fields=crm_fields
            )
        else:
            entries = given[crm_module]
        custom = custom_fields_for(
            connection=connection, module=module, crm_module=crm_module, crm_module_option=option
        )
        module_specs, module_problems = field_map_validate(
            module=module,
            crm_module=crm_module,
            crm_module_option=option,
            entries=entries,
            crm_fields=crm_fields,
            custom_fields=custom,
            path=f"{prefix}field_map.{crm_module}",
        )
        specs.extend(module_specs)
        problems.extend(module_problems)
    if problems:
        raise ValidationProblems(problems)
    return CleanModule(
        module=module,
        crm_module_option=option,
        include_orphan_contacts=include,
        extent=extent,
        duplicates=duplicates,
        primary_view=chosen_views[0] if chosen_views else None,
        secondary_view=chosen_views[1] if len(chosen_views) > 1 else None,
        specs=specs,
    )


def module_config_save(
    *,
    connection: CrmConnection,
    actor: User | None,
    data: ModuleInput,
    metadata: CrmMetadata | None = None,
    client: CrmClient | None = None,
) -> ModuleConfig:
    """Validates and saves a module's settings and field maps, and includes the module in syncs. The CRM's live
    views and fields are read first (outside any transaction) unless `metadata` is given."""
    clean_module(data.module)
    if metadata is None:
        crm_modules = crm_modules_for(module=data.module, crm_module_option=data.crm_module_option)
        metadata = crm_metadata_fetch(connection=connection, crm_modules=crm_modules, client=client)
    clean = module_input_clean(connection=connection, data=data, metadata=metadata)
    with transaction.atomic():
        config = module_config_write(connection=connection, clean=clean).config
    transaction.on_commit(lambda: hooks.emit("module_saved", connection=connection, actor=actor, module=config.module))
    return config


@dataclass(frozen=True)
class WriteResult:
    config: ModuleConfig
    changed: bool


def _spec_key(s: mapping.MappingSpec | FieldMapping) -> tuple[str, str, str, str, str, bool]:
    return (s.crm_module, s.books_field, s.crm_field, s.crm_data_type, s.books_data_type, s.is_default)


def module_config_write(*, connection: CrmConnection, clean: CleanModule) -> WriteResult:
    """The write of a validated module config (inside the caller's transaction). Writes nothing when nothing
    changed, so applying the same settings twice is a no-op."""
    now = timezone.now()
    config, created = ModuleConfig.objects.select_for_update().get_or_create(
        connection=connection, module=clean.module, defaults={"crm_module_option": clean.crm_module_option}
    )
    values = {
        "crm_module_option": clean.crm_module_option,
        "include_orphan_contacts": clean.include_orphan_contacts,
        "extent": clean.extent,
        "duplicates": clean.duplicates,
        "primary_view_id": clean.primary_view.id if clean.primary_view else "",
        "primary_view_name": (clean.primary_view.display_value or clean.primary_view.name)
        if clean.primary_view
        else "",
        "secondary_view_id": clean.secondary_view.id if clean.secondary_view else "",
        "secondary_view_name": (clean.secondary_view.display_value or clean.secondary_view.name)
        if clean.secondary_view
        else "",
        "enabled": True,
    }
    changed = created or any(getattr(config, k) != v for k, v in values.items())
    wanted = {_spec_key(s) for s in clean.specs}
    current = {_spec_key(m): m.pk for m in FieldMapping.objects.filter(module_config=config)}
    stale = [pk for key, pk in current.items() if key not in wanted]
    if stale:
        FieldMapping.objects.filter(pk__in=stale).delete()
    new = [s for s in clean.specs if _spec_key(s) not in current]
    FieldMapping.objects.bulk_create(
        FieldMapping(
            module_config=config,
            crm_module=s.crm_module,
            books_field=s.books_field,
            crm_field=s.crm_field,
            crm_data_type=s.crm_data_type,
            books_data_type=s.books_data_type,
            is_default=s.is_default,
        )
        for s in new
    )
    changed = changed or bool(stale) or bool(new)
    if changed:
        for key, value in values.items():
            setattr(config, key, value)
        config.configured_at = now
        config.save()
    if connection.next_sync_at is None and connection.status == ConnectionStatus.CONNECTED:
        connection.next_sync_at = now + datetime.timedelta(minutes=connection.sync_interval_minutes)
        connection.save(update_fields=["next_sync_at", "updated_at"])
    return WriteResult(config=config, changed=changed)


def module_config_stop(*, connection: CrmConnection, actor: User | None, module: str) -> ModuleConfig | None:
    """The module is no longer synced; its settings are kept for when it is configured again."""
    config = ModuleConfig.objects.filter(connection=connection, module=clean_module(module)).first()
    if config is None or not config.enabled:
        return config
    config.enabled = False
    config.save(update_fields=["enabled", "updated_at"])
    transaction.on_commit(lambda: hooks.emit("module_stopped", connection=connection, actor=actor, module=module))
    return config


def custom_field_create_for_map(
    *,
    connection: CrmConnection,
    actor: User,
    module: str,
    label: str,
    data_type: str,
    options: Sequence[str] = (),
) -> CustomFieldDefinition:
    """A Books custom field made from the field map editor (for a CRM field with no Books counterpart)."""
    entity = CUSTOM_FIELD_ENTITY[SyncModule(clean_module(module))]
    return custom_field_create(
        organization=connection.organization,
        actor=actor,
        entity=entity,
        label=label,
        data_type=data_type,
        options=options,
    )

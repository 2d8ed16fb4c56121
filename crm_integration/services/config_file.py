"""The integration set-up as a file (`crm_config apply` / `crm_config show`), schema in DESIGN.md.

`config_apply` goes through the same services as the pages, in three phases, so that an invalid file changes
nothing:
1. structure: unknown keys, wrong types, bad enum values (no CRM call);
2. the CRM: the credentials are tried, the prerequisites checked, and every module's views and field maps
   validated against the CRM's live views and metadata (no write);
3. one transaction: connection, modules and maps, transactions, the `triggers` key (through its registered
   hook), sync options. Writing the same file twice changes nothing the second time.

Field maps lie over the module's default maps: `{books_field: CRM_Field}` maps or re-maps a Books field, a null
value removes a default map. For customers syncing Accounts and their Contacts, name the CRM module:
`field_map: {Accounts: {...}, Contacts: {...}}` (a flat map applies to the primary module, Accounts). A file
with `connection:` describes a working integration: applying it to a disabled connection enables it again.

Every problem is reported as `key.path: what is wrong`. Secrets are masked in `show`; a masked value given back
to `apply` means "keep the saved one".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml
from django.db import transaction

from books.errors import ApplicationError
from books.models import Organization, User
from crm_integration import crypto, hooks, mapping
from crm_integration.client import Credentials, CrmClient
from crm_integration.datacenters import DATA_CENTERS, data_center_for_accounts_url, is_http_url, normalize_url
from crm_integration.models import (
    SYNC_INTERVAL_MAX,
    SYNC_INTERVAL_MIN,
    ConnectionStatus,
    CrmConnection,
    CrmModuleOption,
    DataCenter,
    DuplicatePolicy,
    ModuleConfig,
    Provider,
    SyncExtent,
    SyncModule,
)
from crm_integration.selectors import connection_get, field_mappings_by_config, module_config_list
from crm_integration.services import clients, connections, modules
from crm_integration.services.modules import CleanModule, CrmMetadata, ModuleInput, ValidationProblems

MASK = "********"
TRIGGER_MODES = ("off", "quote", "invoice")

_CONNECTION_KEYS = ("accounts_url", "api_domain", "client_id", "client_secret", "refresh_token")
_MODULE_KEYS = {
    SyncModule.CUSTOMERS: (
        "module",
        "include_orphan_contacts",
        "extent",
        "duplicates",
        "account_view",
        "contact_view",
        "field_map",
    ),
    SyncModule.VENDORS: ("extent", "duplicates", "view", "field_map"),
    SyncModule.ITEMS: ("extent", "duplicates", "view", "field_map"),
}
_TOP_KEYS = ("connection", "customers", "vendors", "items", "transactions", "triggers", "sync")


class ConfigInvalid(ApplicationError):
    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(problems[0][1], field=problems[0][0], status=422, extra={"problems": problems})
        self.problems = problems


# --- parsing and structure -----------------------------------------------------------------------------------


def config_parse(text: str) -> Any:
    """YAML (JSON is YAML too). A syntax error names the line."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigInvalid([("file", f"file: not valid YAML or JSON{where}: {problem}")]) from None


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"text ('{value[:40]}')"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class _Checker:
    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append((path, f"{path}: {message}"))

    def mapping(self, value: Any, path: str, known: tuple[str, ...]) -> dict[str, Any] | None:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.add(path, f"expected a mapping of keys ({', '.join(known)}), got {_type_name(value)}")
            return None
        for key in value:
            if key not in known:
                self.add(f"{path}.{key}" if path else str(key), f"unknown key (known: {', '.join(known)})")
        return value

    def text(self, data: dict[str, Any], key: str, path: str, *, required: bool = False, ids: bool = False) -> str:
        if key not in data or data[key] is None:
            if required:
                self.add(f"{path}.{key}", "required")
            return ""
        value = data[key]
        if ids and isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            self.add(f"{path}.{key}", f"expected text, got {_type_name(value)}")
            return ""
        if required and not value.strip():
            self.add(f"{path}.{key}", "must not be empty")
        return value.strip()

    def choice(self, data: dict[str, Any], key: str, path: str, choices: list[str], default: str) -> str:
        if key not in data or data[key] is None:
            return default
        value = data[key]
        if not isinstance(value, str) or value not in choices:
            self.add(f"{path}.{key}", f"{_type_name(value)} is not one of {', '.join(choices)}")
            return default
        return value

    def boolean(self, data: dict[str, Any], key: str, path: str, default: bool = False) -> bool:
        if key not in data or data[key] is None:
            return default
        if not isinstance(data[key], bool):
            self.add(f"{path}.{key}", f"expected true or false, got {_type_name(data[key])}")
            return default
        return bool(data[key])


@dataclass
class ParsedConfig:
    raw: dict[str, Any]
    connection: dict[str, str] | None = None
    modules: dict[str, ModuleInput] = field(default_factory=dict)
    # Flat field maps (no CRM module named) are resolved against the module's primary CRM module.
    flat_maps: dict[str, dict[str, str | None]] = field(default_factory=dict)
    nested_maps: dict[str, dict[str, dict[str, str | None]]] = field(default_factory=dict)
    transactions: bool | None = None
    triggers: Any = None
    triggers_given: bool = False
    paused: bool | None = None
    interval_minutes: int | None = None


def _field_map(
    check: _Checker, value: Any, path: str
) -> tuple[dict[str, str | None], dict[str, dict[str, str | None]]]:
    """{Books field: CRM field or null} or, for two CRM modules, {CRM module: {...}}."""
    flat: dict[str, str | None] = {}
    nested: dict[str, dict[str, str | None]] = {}
    if value is None:
        return flat, nested
    if not isinstance(value, dict):
        check.add(path, f"expected a mapping of Books field: CRM field, got {_type_name(value)}")
        return flat, nested
    for key, item in value.items():
        key = str(key)
        if isinstance(item, dict):
            if key not in ("Accounts", "Contacts", "Vendors", "Products"):
                check.add(
                    f"{path}.{key}",
                    "a nested map must be named after a CRM module (Accounts, Contacts, Vendors, Products)",
                )
                continue
            entries: dict[str, str | None] = {}
            for books_field, crm_field in item.items():
                if crm_field is not None and not isinstance(crm_field, str):
                    check.add(
                        f"{path}.{key}.{books_field}", f"expected a CRM field API name, got {_type_name(crm_field)}"
                    )
                    continue
                entries[str(books_field)] = crm_field
            nested[key] = entries
        elif item is None or isinstance(item, str):
            flat[key] = item
        else:
            check.add(f"{path}.{key}", f"expected a CRM field API name, got {_type_name(item)}")
    return flat, nested


def config_structure(data: Any) -> ParsedConfig:
    """Phase 1: keys, types and enum values. Raises ConfigInvalid with every problem found."""
    check = _Checker()
    top = check.mapping(data, "", _TOP_KEYS)
    if top is None:
        raise ConfigInvalid(check.problems or [("file", "file: expected a mapping at the top")])
    parsed = ParsedConfig(raw=top)
    if "connection" in top:
        conn = check.mapping(top["connection"], "connection", _CONNECTION_KEYS)
        if conn is not None:
            values = {k: check.text(conn, k, "connection", required=k != "api_domain") for k in _CONNECTION_KEYS}
            for key in ("accounts_url", "api_domain"):
                if values[key] and not is_http_url(values[key]):
                    check.add(f"connection.{key}", f"'{values[key][:80]}' is not an http(s) URL")
            parsed.connection = values
    for module in SyncModule.values:
        if module not in top:
            continue
        section = check.mapping(top[module], module, _MODULE_KEYS[SyncModule(module)])
        if section is None:
            continue
        option = ""
        if module == SyncModule.CUSTOMERS:
            option = check.choice(section, "module", module, CrmModuleOption.values, CrmModuleOption.ACCOUNTS)
        extent = check.choice(section, "extent", module, SyncExtent.values, SyncExtent.FETCH_FROM_CRM)
        duplicates = check.choice(section, "duplicates", module, DuplicatePolicy.values, DuplicatePolicy.SKIP)
        include = check.boolean(section, "include_orphan_contacts", module) if module == SyncModule.CUSTOMERS else False
        if module == SyncModule.CUSTOMERS:
            primary = check.text(section, "account_view", module, ids=True)
            secondary = check.text(section, "contact_view", module, ids=True)
            if option == CrmModuleOption.CONTACTS and secondary and not primary:
                # With Contacts alone, the contact view is the one view.
                primary, secondary = secondary, ""
        else:
            primary = check.text(section, "view", module, ids=True)
            secondary = ""
        flat, nested = _field_map(check, section.get("field_map"), f"{module}.field_map")
        parsed.flat_maps[module] = flat
        parsed.nested_maps[module] = nested
        parsed.modules[module] = ModuleInput(
            module=module,
            crm_module_option=option,
            include_orphan_contacts=include,
            extent=extent,
            duplicates=duplicates,
            primary_view=primary,
            secondary_view=secondary,
            field_map=None,
        )
    if "transactions" in top:
        section = check.mapping(top["transactions"], "transactions", ("enabled",))
        if section is not None:
            parsed.transactions = check.boolean(section, "enabled", "transactions")
    if "triggers" in top:
        parsed.triggers_given = True
        parsed.triggers = top["triggers"]
        if hooks.config_section("triggers") is None:
            section = check.mapping(top["triggers"], "triggers", ("mode", "create_quote_stage", "approve_quote_stage"))
            if section is not None:
                mode = check.choice(section, "mode", "triggers", list(TRIGGER_MODES), "off")
                if mode != "off" and not any(p[0] == "triggers.mode" for p in check.problems):
                    check.add(
                        "triggers.mode",
                        f"'{mode}': triggers are not available in this installation yet; set mode: off or leave "
                        "triggers out",
                    )
    if "sync" in top:
        section = check.mapping(top["sync"], "sync", ("paused", "interval_minutes"))
        if section is not None:
            if "paused" in section:
                parsed.paused = check.boolean(section, "paused", "sync")
            if section.get("interval_minutes") is not None:
                value = section["interval_minutes"]
                if isinstance(value, bool) or not isinstance(value, int):
                    check.add("sync.interval_minutes", f"expected a whole number of minutes, got {_type_name(value)}")
                elif not SYNC_INTERVAL_MIN <= value <= SYNC_INTERVAL_MAX:
                    check.add(
                        "sync.interval_minutes", f"{value} is outside {SYNC_INTERVAL_MIN}–{SYNC_INTERVAL_MAX} minutes"
                    )
                else:
                    parsed.interval_minutes = value
    if check.problems:
        raise ConfigInvalid(check.problems)
    return parsed


# --- phase 2: against the CRM ----------------------------------------------------------------------------------


@dataclass
class Plan:
    connection: CrmConnection  # unsaved when it is new or its credentials change
    connect: connections.Authorized | None
    chosen: connections.CrmOrgChoice | None
    modules: dict[str, CleanModule]
    client: CrmClient


def _resolve_field_map(
    parsed: ParsedConfig, module: str, data: ModuleInput, metadata: CrmMetadata
) -> dict[str, dict[str, str]] | None:
    """The file's maps laid over the defaults: a Books field given a CRM field is mapped to it, one given null is
    unmapped, the others keep their default."""
    flat = parsed.flat_maps.get(module, {})
    nested = parsed.nested_maps.get(module, {})
    if not flat and not nested:
        return None
    crm_modules = modules.crm_modules_for(module=module, crm_module_option=data.crm_module_option)
    result: dict[str, dict[str, str]] = {}
    for position, crm_module in enumerate(crm_modules):
        base = modules.default_field_map(
            module=module,
            crm_module=crm_module,
            crm_module_option=data.crm_module_option,
            crm_fields=metadata.fields.get(crm_module, {}),
        )
        overrides: dict[str, str | None] = dict(nested.get(crm_module, {}))
        if position == 0:
            overrides = {**flat, **overrides}
        for books_field, crm_field in overrides.items():
            if crm_field is None or not str(crm_field).strip():
                base.pop(books_field, None)
            else:
                base[books_field] = str(crm_field).strip()
        result[crm_module] = base
    for name in nested:
        if name not in crm_modules:
            result[name] = {}  # reported by module_input_clean as a CRM module this module does not map
    return result


def config_plan(
    *,
    organization: Organization,
    parsed: ParsedConfig,
    client_factory: Callable[[Credentials], CrmClient] | None = None,
) -> Plan:
    """Phase 2: the credentials tried, prerequisites checked, modules validated against the live CRM. No write."""
    factory = client_factory or clients.client_from_credentials
    existing = connection_get(organization=organization)
    problems: list[tuple[str, str]] = []
    authorized: connections.Authorized | None = None
    chosen: connections.CrmOrgChoice | None = None
    if parsed.connection is None:
        if existing is None:
            raise ConfigInvalid(
                [("connection", "connection: required: this organization is not connected to Zoho CRM yet")]
            )
        connection = existing
        client = clients.crm_client_for(existing)
        if existing.status == ConnectionStatus.NEEDS_REAUTH:
            raise ConfigInvalid(
                [("connection", "connection: Zoho CRM refused the saved credentials; give new ones under connection")]
            )
    else:
        values = parsed.connection
        accounts_url = normalize_url(values["accounts_url"])
        api_domain = normalize_url(values["api_domain"])
        dc = data_center_for_accounts_url(accounts_url) or DataCenter.CUSTOM
        if dc != DataCenter.CUSTOM and not api_domain:
            api_domain = DATA_CENTERS[dc][1]
        if dc == DataCenter.CUSTOM and not api_domain:
            api_domain = accounts_url
        secret = values["client_secret"]
        token = values["refresh_token"]
        same_client = existing is not None and existing.client_id == values["client_id"]
        try:
            enc_secret = (
                existing.encrypted_client_secret
                if secret == MASK and existing is not None and same_client
                else crypto.encrypt(secret)
            )
            enc_token = (
                existing.encrypted_refresh_token
                if token == MASK and existing is not None and same_client
                else crypto.encrypt(token)
            )
        except crypto.SecretUnreadable as exc:
            raise ConfigInvalid([("connection", f"connection: {exc}")]) from None
        if MASK in (secret, token) and not same_client:
            raise ConfigInvalid(
                [
                    (
                        "connection",
                        "connection: a masked secret (********) keeps the saved one, but no connection with this "
                        "client_id is saved; give the real client_secret and refresh_token",
                    )
                ]
            )
        credentials = Credentials(
            accounts_url=accounts_url,
            api_domain=api_domain,
            client_id=values["client_id"],
            client_secret=crypto.decrypt(enc_secret),
            refresh_token=crypto.decrypt(enc_token),
        )
        unchanged = (
            existing is not None
            and existing.status != ConnectionStatus.NEEDS_REAUTH
            and existing.accounts_url == accounts_url
            and existing.api_domain == api_domain
            and same_client
            and crypto.decrypt(existing.encrypted_client_secret) == credentials.client_secret
            and crypto.decrypt(existing.encrypted_refresh_token) == credentials.refresh_token
        )
        client = factory(credentials)
        try:
            with clients.crm_errors(field="connection", authorizing=True):
                info = client.get_org()
        except ApplicationError as exc:
            raise ConfigInvalid([("connection", f"connection: {exc.message}")]) from None
        chosen = connections.CrmOrgChoice.from_info(info)
        for key, message in connections.prerequisite_problems(crm_org=chosen, organization=organization):
            problems.append((f"connection.{key}", f"connection: {message}"))
        if unchanged and existing is not None and existing.crm_org_id == chosen.id:
            connection = existing
        else:
            authorized = connections.Authorized(
                data_center=dc,
                accounts_url=accounts_url,
                api_domain=api_domain,
                client_id=values["client_id"],
                encrypted_client_secret=enc_secret,
                encrypted_refresh_token=enc_token,
            )
            # The connection as it will be, to validate the modules against (not saved here).
            connection = CrmConnection(
                organization=organization,
                provider=Provider.ZOHO,
                crm_org_id=chosen.id,
                crm_org_name=chosen.name,
                crm_edition=chosen.edition,
                crm_currency=chosen.currency,
                two_way_allowed=not connections.two_way_holder_exists(
                    provider=Provider.ZOHO, crm_org_id=chosen.id, organization=organization
                ),
            )
    if problems:
        raise ConfigInvalid(problems)

    planned: dict[str, CleanModule] = {}
    for module, data in parsed.modules.items():
        crm_modules = modules.crm_modules_for(module=module, crm_module_option=data.crm_module_option)
        try:
            metadata = modules.crm_metadata_fetch(connection=connection, crm_modules=crm_modules, client=client)
        except ApplicationError as exc:
            raise ConfigInvalid([(module, f"{module}: {exc.message}")]) from None
        data.field_map = _resolve_field_map(parsed, module, data, metadata)
        try:
            planned[module] = modules.module_input_clean(
                connection=connection, data=data, metadata=metadata, path=module
            )
        except ValidationProblems as exc:
            problems.extend(exc.problems)
        except ApplicationError as exc:
            problems.append((exc.field or module, exc.message))
    if parsed.transactions:
        missing = [m for m in SyncModule.values if m not in planned]
        if missing:
            problems.append(
                (
                    "transactions.enabled",
                    f"transactions.enabled: needs customers, vendors and items in the file (missing: {', '.join(missing)})",
                )
            )
        if not connection.two_way_allowed:
            problems.append(
                ("transactions.enabled", "transactions.enabled: this connection is one way (Fetch from CRM)")
            )
    section = hooks.config_section("triggers")
    if parsed.triggers_given and section is not None:
        problems.extend(section.validate(parsed.triggers, "triggers"))
    if problems:
        raise ConfigInvalid(problems)
    return Plan(connection=connection, connect=authorized, chosen=chosen, modules=planned, client=client)


# --- phase 3: write ----------------------------------------------------------------------------------------------


def config_apply(
    *,
    organization: Organization,
    data: Any,
    actor: User | None = None,
    client_factory: Callable[[Credentials], CrmClient] | None = None,
) -> list[str]:
    """Applies a parsed file; returns one line per section saying what changed. Raises ConfigInvalid (nothing
    changed) when anything is wrong."""
    parsed = config_structure(data)
    plan = config_plan(organization=organization, parsed=parsed, client_factory=client_factory)
    report: list[str] = []
    with transaction.atomic():
        connection = plan.connection
        if plan.connect is not None and plan.chosen is not None:
            outcome = connections.connection_save_authorized(
                organization=organization, actor=actor, authorized=plan.connect, chosen=plan.chosen
            )
            connection = outcome.connection
            report.append(f"connection: connected to Zoho CRM organization '{connection.crm_org_name}'")
            if outcome.one_way_reason:
                report.append(f"connection: {outcome.one_way_reason}")
        elif connection.status == ConnectionStatus.DISABLED and parsed.connection is not None:
            connections.connection_enable(connection=connection, actor=actor, client=plan.client)
            connection.refresh_from_db()
            report.append("connection: enabled again")
        else:
            report.append(f"connection: unchanged (Zoho CRM organization '{connection.crm_org_name}')")
        for module in SyncModule.values:
            if module in plan.modules:
                result = modules.module_config_write(connection=connection, clean=plan.modules[module])
                report.append(f"{module}: {'saved' if result.changed else 'unchanged'}")
            elif ModuleConfig.objects.filter(connection=connection, module=module, enabled=True).exists():
                modules.module_config_stop(connection=connection, actor=actor, module=module)
                report.append(f"{module}: no longer synced (left out of the file)")
        if parsed.transactions is not None and parsed.transactions != connection.transactions_enabled:
            connections.connection_set_transactions(connection=connection, actor=actor, enabled=parsed.transactions)
            report.append(f"transactions: {'enabled' if parsed.transactions else 'disabled'}")
        section = hooks.config_section("triggers")
        if parsed.triggers_given and section is not None:
            section.apply(connection, parsed.triggers, actor)
            report.append("triggers: applied")
        before = (connection.paused, connection.sync_interval_minutes)
        connections.connection_set_sync_options(
            connection=connection, actor=actor, interval_minutes=parsed.interval_minutes, paused=parsed.paused
        )
        if (connection.paused, connection.sync_interval_minutes) != before:
            report.append(
                f"sync: {'paused' if connection.paused else 'running'}, every {connection.sync_interval_minutes} minutes"
            )
    return report


# --- show --------------------------------------------------------------------------------------------------------


def config_show(*, organization: Organization) -> dict[str, Any]:
    """The current set-up in the file's schema, secrets masked."""
    connection = connection_get(organization=organization)
    if connection is None:
        return {}
    out: dict[str, Any] = {
        "connection": {
            "accounts_url": connection.accounts_url,
            "api_domain": connection.api_domain,
            "client_id": connection.client_id,
            "client_secret": MASK,
            "refresh_token": MASK,
        }
    }
    maps = field_mappings_by_config(connection=connection)
    for config in module_config_list(connection=connection):
        if not config.enabled:
            continue
        section: dict[str, Any] = {}
        if config.module == SyncModule.CUSTOMERS:
            section["module"] = config.crm_module_option
            section["include_orphan_contacts"] = config.include_orphan_contacts
        section["extent"] = config.extent
        section["duplicates"] = config.duplicates
        if config.module == SyncModule.CUSTOMERS:
            if config.crm_module_option == CrmModuleOption.CONTACTS:
                section["contact_view"] = config.primary_view_name or config.primary_view_id
            else:
                section["account_view"] = config.primary_view_name or config.primary_view_id
                if config.crm_module_option == CrmModuleOption.ACCOUNTS_AND_CONTACTS:
                    section["contact_view"] = config.secondary_view_name or config.secondary_view_id
        else:
            section["view"] = config.primary_view_name or config.primary_view_id
        by_module: dict[str, dict[str, str | None]] = {}
        for m in maps.get(config.pk, []):
            by_module.setdefault(m.crm_module, {})[m.books_field] = m.crm_field
        crm_modules = modules.crm_modules_for(module=config.module, crm_module_option=config.crm_module_option)
        for crm_module in crm_modules:
            entity = modules.entity_for(
                module=config.module, crm_module=crm_module, crm_module_option=config.crm_module_option
            )
            current = by_module.setdefault(crm_module, {})
            # A default map that was removed is shown as null, so applying this output keeps it removed.
            for spec in mapping.default_mappings(crm_module=crm_module, entity=entity):
                current.setdefault(spec.books_field, None)
        if len(crm_modules) == 1:
            section["field_map"] = by_module.get(crm_modules[0], {})
        else:
            section["field_map"] = {m: by_module.get(m, {}) for m in crm_modules}
        out[config.module] = section
    out["transactions"] = {"enabled": connection.transactions_enabled}
    triggers = hooks.config_section("triggers")
    shown = triggers.show(connection) if triggers is not None else None
    if shown is not None:
        out["triggers"] = shown
    out["sync"] = {"paused": connection.paused, "interval_minutes": connection.sync_interval_minutes}
    return out


def config_dump(data: dict[str, Any], *, as_json: bool = False) -> str:
    if as_json:
        return json.dumps(data, indent=2, sort_keys=False) + "\n"
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)

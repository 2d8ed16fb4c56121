"""The Configure Now wizard: one step at a time with Back and Next, its state kept server-side as a
`ModuleConfigDraft` (validated at each step and all over again on save).

Customers take five steps (module, extent, duplicates, views, fields); vendors and items four (no module step).
The last step's Save and Sync / Save and Sync Later go through `module_config_save`, like the integration file.
"""

from __future__ import annotations

from typing import Any

from books.errors import ApplicationError
from books.models import User
from crm_integration.models import (
    CrmConnection,
    CrmModuleOption,
    DuplicatePolicy,
    ModuleConfig,
    ModuleConfigDraft,
    SyncExtent,
    SyncModule,
)
from crm_integration.services import modules as module_services
from crm_integration.services.connections import connection_sync_now, sync_refusal
from crm_integration.services.modules import CrmMetadata, ModuleInput, ValidationProblems

STEPS: dict[str, tuple[str, ...]] = {
    SyncModule.CUSTOMERS: ("module", "extent", "duplicates", "views", "fields"),
    SyncModule.VENDORS: ("extent", "duplicates", "views", "fields"),
    SyncModule.ITEMS: ("extent", "duplicates", "views", "fields"),
}
STEP_TITLES = {
    "module": "Select the module to be synced",
    "extent": "Select the extent of sync",
    "duplicates": "Handle duplicate records",
    "views": "Select a view to be synced",
    "fields": "Map fields",
}


def wizard_steps(module: str) -> tuple[str, ...]:
    return STEPS[SyncModule(module_services.clean_module(module))]


def draft_step_name(draft: ModuleConfigDraft) -> str:
    steps = wizard_steps(draft.module)
    return steps[min(max(draft.step, 1), len(steps)) - 1]


def _initial_data(connection: CrmConnection, module: str) -> dict[str, Any]:
    config = ModuleConfig.objects.filter(connection=connection, module=module).first()
    if config is not None:
        field_map: dict[str, dict[str, str]] = {}
        for m in config.field_mappings.all().order_by("crm_module", "id"):
            field_map.setdefault(m.crm_module, {})[m.books_field] = m.crm_field
        return {
            "crm_module_option": config.crm_module_option,
            "include_orphan_contacts": config.include_orphan_contacts,
            "extent": config.extent if connection.two_way_allowed else SyncExtent.FETCH_FROM_CRM,
            "duplicates": config.duplicates,
            "primary_view": config.primary_view_id,
            "secondary_view": config.secondary_view_id,
            "field_map": field_map,
        }
    return {
        "crm_module_option": CrmModuleOption.ACCOUNTS if module == SyncModule.CUSTOMERS else "",
        "include_orphan_contacts": False,
        # The seed: once connected, data syncs both ways, unless this connection may only fetch.
        "extent": SyncExtent.BOTH_WAYS if connection.two_way_allowed else SyncExtent.FETCH_FROM_CRM,
        "duplicates": DuplicatePolicy.SKIP,
        "primary_view": "",
        "secondary_view": "",
    }


def draft_open(
    *, connection: CrmConnection, module: str, actor: User | None, restart: bool = False
) -> ModuleConfigDraft:
    """The module's draft: the one in progress, or a new one from the saved settings (Edit) or the defaults."""
    module = module_services.clean_module(module)
    draft = ModuleConfigDraft.objects.filter(connection=connection, module=module).first()
    if draft is not None and not restart:
        return draft
    data = _initial_data(connection, module)
    if draft is None:
        draft, _ = ModuleConfigDraft.objects.get_or_create(
            connection=connection, module=module, defaults={"data": data, "step": 1, "updated_by": actor}
        )
    else:
        draft.data = data
        draft.step = 1
        draft.updated_by = actor
        draft.save()
    return draft


def draft_discard(*, connection: CrmConnection, module: str) -> None:
    ModuleConfigDraft.objects.filter(connection=connection, module=module_services.clean_module(module)).delete()


def draft_back(*, draft: ModuleConfigDraft) -> ModuleConfigDraft:
    if draft.step > 1:
        draft.step -= 1
        draft.save(update_fields=["step", "updated_at"])
    return draft


def draft_goto(*, draft: ModuleConfigDraft, step_name: str) -> ModuleConfigDraft:
    """Back to an earlier step (never forward past what was validated)."""
    steps = wizard_steps(draft.module)
    if step_name in steps and steps.index(step_name) + 1 <= draft.step:
        draft.step = steps.index(step_name) + 1
        draft.save(update_fields=["step", "updated_at"])
    return draft


def draft_crm_modules(draft: ModuleConfigDraft) -> tuple[str, ...]:
    return module_services.crm_modules_for(
        module=draft.module, crm_module_option=str(draft.data.get("crm_module_option") or "")
    )


def draft_input(draft: ModuleConfigDraft) -> ModuleInput:
    data = draft.data or {}
    field_map = data.get("field_map")
    return ModuleInput(
        module=draft.module,
        crm_module_option=str(data.get("crm_module_option") or ""),
        include_orphan_contacts=bool(data.get("include_orphan_contacts")),
        extent=str(data.get("extent") or ""),
        duplicates=str(data.get("duplicates") or ""),
        primary_view=str(data.get("primary_view") or ""),
        secondary_view=str(data.get("secondary_view") or ""),
        field_map={k: dict(v) for k, v in field_map.items()} if isinstance(field_map, dict) else None,
    )


def draft_submit(
    *,
    draft: ModuleConfigDraft,
    actor: User | None,
    step_name: str,
    values: dict[str, Any],
    metadata: CrmMetadata | None = None,
) -> ModuleConfigDraft:
    """Validates one step's values, stores them in the draft and moves to the next step. Raises
    ValidationProblems (nothing stored) when a value is wrong."""
    steps = wizard_steps(draft.module)
    if step_name not in steps:
        raise ApplicationError(f"step: '{step_name[:40]}' is not a step of this wizard", field="step")
    connection = draft.connection
    data = dict(draft.data or {})
    problems: list[tuple[str, str]] = []
    try:
        if step_name == "module":
            option = module_services.clean_crm_module_option(str(values.get("crm_module_option") or ""))
            include = module_services.clean_include_orphans(
                bool(values.get("include_orphan_contacts")), crm_module_option=option
            )
            if option != data.get("crm_module_option"):
                # Views and fields belong to the CRM module(s) chosen: start them again.
                for key in ("primary_view", "secondary_view", "field_map"):
                    data.pop(key, None)
            data["crm_module_option"] = option
            data["include_orphan_contacts"] = include
        elif step_name == "extent":
            data["extent"] = module_services.clean_extent(str(values.get("extent") or ""), connection=connection)
        elif step_name == "duplicates":
            data["duplicates"] = module_services.clean_duplicates(str(values.get("duplicates") or ""))
        elif step_name == "views":
            assert metadata is not None, "the views step needs the CRM's views"
            crm_modules = draft_crm_modules(draft)
            keys = ("primary_view", "secondary_view")
            for position, crm_module in enumerate(crm_modules):
                views = metadata.views.get(crm_module, [])
                ref = str(values.get(keys[position]) or "").strip()
                try:
                    chosen = module_services.default_view(views, crm_module) if not ref else None
                    view = chosen or module_services.view_resolve(
                        views, ref, crm_module=crm_module, field=keys[position]
                    )
                    data[keys[position]] = view.id
                except ApplicationError as exc:
                    problems.append((exc.field or keys[position], exc.message))
        elif step_name == "fields":
            assert metadata is not None, "the fields step needs the CRM's fields"
            field_map = values.get("field_map") or {}
            data["field_map"] = field_map
            candidate = ModuleInput(**{**draft_input(draft).__dict__, "field_map": field_map})
            try:
                module_services.module_input_clean(connection=connection, data=candidate, metadata=metadata)
            except ValidationProblems as exc:
                problems.extend(exc.problems)
    except ApplicationError as exc:
        problems.append((exc.field or step_name, exc.message))
    if problems:
        raise ValidationProblems(problems)
    draft.data = data
    draft.step = min(steps.index(step_name) + 2, len(steps))
    draft.updated_by = actor
    draft.save()
    return draft


def draft_set_field_map(*, draft: ModuleConfigDraft, field_map: dict[str, dict[str, str]]) -> ModuleConfigDraft:
    """Keeps what was entered on the fields step (even with problems) so nothing typed is lost."""
    data = dict(draft.data or {})
    data["field_map"] = field_map
    draft.data = data
    draft.save(update_fields=["data", "updated_at"])
    return draft


def draft_save(
    *, draft: ModuleConfigDraft, actor: User | None, sync_now: bool, metadata: CrmMetadata | None = None
) -> tuple[ModuleConfig, str]:
    """Save and Sync / Save and Sync Later. Returns the saved config and a sentence for the admin."""
    connection = draft.connection
    config = module_services.module_config_save(
        connection=connection, actor=actor, data=draft_input(draft), metadata=metadata
    )
    draft.delete()
    label = SyncModule(config.module).label
    if not sync_now:
        return config, f"{label} settings saved. They will sync at the next automatic sync, or click Instant Sync."
    refusal = sync_refusal(connection)
    if refusal:
        return config, f"{label} settings saved. {refusal}"
    try:
        started = connection_sync_now(connection=connection, actor=actor, trigger="initial", modules=[config.module])
    except ApplicationError as exc:
        return config, f"{label} settings saved. {exc.message}"
    return config, f"{label} settings saved. {started}"

"""Reads of crm_integration, each scoped to a Books organization (STYLE.md rule 14)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from books.errors import NotFound
from books.models import Organization
from crm_integration.models import (
    MODULE_ORDER,
    ConnectionStatus,
    CrmConnection,
    FieldMapping,
    ModuleConfig,
    ModuleConfigDraft,
    SyncModule,
)


def connection_get(*, organization: Organization) -> CrmConnection | None:
    """The organization's connection (any status), or None when it never connected."""
    return CrmConnection.objects.select_related("organization").filter(organization=organization).first()


def connection_require(*, organization: Organization) -> CrmConnection:
    connection = connection_get(organization=organization)
    if connection is None:
        raise NotFound("connection: Zoho CRM is not connected for this organization; click Connect first")
    return connection


def connection_list_active() -> QuerySet[CrmConnection]:
    """Connections that may sync (connected, any pause state)."""
    return CrmConnection.objects.select_related("organization").filter(status=ConnectionStatus.CONNECTED)


def module_name_clean(module: Any) -> str:
    if module not in SyncModule.values:
        raise NotFound(f"module: '{str(module)[:40]}' is not one of {', '.join(SyncModule.values)}", field="module")
    return str(module)


def module_config_list(*, connection: CrmConnection) -> list[ModuleConfig]:
    configs = {c.module: c for c in ModuleConfig.objects.filter(connection=connection)}
    return [configs[m] for m in MODULE_ORDER if m in configs]


def module_config_get(*, connection: CrmConnection, module: str) -> ModuleConfig | None:
    return ModuleConfig.objects.filter(connection=connection, module=module_name_clean(module)).first()


def field_mapping_list(*, module_config: ModuleConfig) -> list[FieldMapping]:
    return list(FieldMapping.objects.filter(module_config=module_config).order_by("crm_module", "id"))


def field_mappings_by_config(*, connection: CrmConnection) -> dict[int, list[FieldMapping]]:
    """Every field map of the connection in one query, keyed by module config id."""
    grouped: dict[int, list[FieldMapping]] = {}
    for mapping in FieldMapping.objects.filter(module_config__connection=connection).order_by(
        "module_config_id", "crm_module", "id"
    ):
        grouped.setdefault(mapping.module_config_id, []).append(mapping)
    return grouped


def draft_get(*, connection: CrmConnection, module: str) -> ModuleConfigDraft | None:
    return ModuleConfigDraft.objects.filter(connection=connection, module=module_name_clean(module)).first()

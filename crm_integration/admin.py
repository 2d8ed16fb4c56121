"""Read-only views of the integration for staff. Secrets are never shown (not even encrypted); changes go through
Settings › Zoho Apps or `crm_config`, which run the checks."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from crm_integration.models import CrmConnection, FieldMapping, ModuleConfig

SECRET_FIELDS = ("encrypted_client_secret", "encrypted_refresh_token")


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CrmConnection)
class CrmConnectionAdmin(ReadOnlyAdmin):
    list_display = ("organization", "crm_org_name", "status", "two_way_allowed", "paused", "next_sync_at")
    list_filter = ("status", "paused", "two_way_allowed")
    exclude = SECRET_FIELDS


class FieldMappingInline(admin.TabularInline[FieldMapping, ModuleConfig]):
    model = FieldMapping
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ModuleConfig)
class ModuleConfigAdmin(ReadOnlyAdmin):
    list_display = ("connection", "module", "extent", "duplicates", "primary_view_name", "enabled")
    list_filter = ("module", "enabled")
    inlines = (FieldMappingInline,)

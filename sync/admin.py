"""Read-only admin of the sync engine's records (links, runs, failures), for support."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from sync.models import RecordLink, SyncFailure, SyncRun


class ReadOnly(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RecordLink)
class RecordLinkAdmin(ReadOnly):
    list_display = ("organization", "crm_org_id", "crm_module", "crm_id", "entity", "books_id", "state")
    list_filter = ("crm_module", "entity", "state", "crm_deleted", "books_deleted")
    search_fields = ("crm_id",)


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnly):
    list_display = ("pk", "organization", "trigger", "status", "queued_at", "started_at", "finished_at")
    list_filter = ("status", "trigger")


@admin.register(SyncFailure)
class SyncFailureAdmin(ReadOnly):
    list_display = ("run", "module", "direction", "record_name", "reason_code")
    list_filter = ("outcome", "direction")

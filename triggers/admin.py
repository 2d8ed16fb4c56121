"""Read-only admin of the triggers' records (channels, received events, deal actions, the log), for support. A
channel's token hash is not shown: it is useless to a person and need not be on a screen."""

from __future__ import annotations

from django.contrib import admin

from sync.admin import ReadOnly
from triggers.models import DealAction, DealEvent, NotificationChannel, TriggerLog, TriggerPreference


@admin.register(TriggerPreference)
class TriggerPreferenceAdmin(ReadOnly):
    list_display = ("connection", "mode", "create_quote_stage", "approve_quote_stage", "updated_at")
    list_filter = ("mode",)


@admin.register(NotificationChannel)
class NotificationChannelAdmin(ReadOnly):
    list_display = ("channel_id", "organization", "status", "expires_at", "notify_url")
    list_filter = ("status",)
    exclude = ("token_hash", "previous_token_hash")


@admin.register(DealEvent)
class DealEventAdmin(ReadOnly):
    list_display = ("pk", "organization", "deal_id", "operation", "status", "received_at", "processed_at")
    list_filter = ("status", "operation")
    search_fields = ("deal_id",)


@admin.register(DealAction)
class DealActionAdmin(ReadOnly):
    list_display = ("organization", "deal_id", "action", "txn", "created_at")
    list_filter = ("action",)
    search_fields = ("deal_id",)


@admin.register(TriggerLog)
class TriggerLogAdmin(ReadOnly):
    list_display = ("created_at", "organization", "deal_name", "action", "outcome", "reason")
    list_filter = ("outcome", "action")
    search_fields = ("deal_id", "deal_name")

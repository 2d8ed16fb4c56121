"""Reads of the triggers, scoped by organization."""

from __future__ import annotations

from django.db.models import QuerySet

from books.models import Organization
from triggers.models import TriggerLog


def trigger_log_list(*, organization: Organization) -> QuerySet[TriggerLog]:
    return TriggerLog.objects.filter(organization=organization).select_related("txn").order_by("-created_at", "-id")

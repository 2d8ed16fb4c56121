"""The webhook the CRM notifies (`POST /integrations/zoho-crm/notify/`), the Change Preference page, and the two
panels the triggers add to Settings › Zoho Apps (Show Details: "Deal triggers"; Show Sync History: the trigger
log). Views parse, authorize and call a service; nothing here calls the CRM except to list the pipeline's stages
for the form."""

from __future__ import annotations

import logging
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from books.errors import ApplicationError
from books.models import Organization, User
from books.permissions import admin_page
from crm_integration.models import CrmConnection
from crm_integration.selectors import connection_get
from triggers import selectors
from triggers.forms import TriggerPreferenceForm
from triggers.models import TriggerMode
from triggers.services import preferences
from triggers.services.notifications import NotificationRefused, notification_receive

logger = logging.getLogger(__name__)

HISTORY_LOG = 200


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"code": status, "message": message}, status=status)


@csrf_exempt
@require_POST
def notify(request: HttpRequest) -> HttpResponse:
    """Zoho's notification: 401 for an unknown channel or a wrong token, 400 for a malformed body, 413 when too
    large; otherwise 202 at once (the work runs in the `triggers.process_deal_event` task)."""
    limit = int(settings.TRIGGERS_MAX_BODY_BYTES)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return _error(f"body: larger than {limit} bytes", 413)
    body = request.read(limit + 1)
    if len(body) > limit:
        return _error(f"body: larger than {limit} bytes", 413)
    try:
        received = notification_receive(body)
    except NotificationRefused as exc:
        return _error(exc.message, exc.status)
    return JsonResponse(
        {"code": 0, "message": received.ignored or "accepted", "stored": len(received.stored)}, status=202
    )


def _org(request: HttpRequest) -> Organization:
    return request.organization  # type: ignore[attr-defined]


@admin_page
def trigger_preferences(request: HttpRequest) -> HttpResponse:
    """Change Preference: Quote (with its two stages), Invoice, or Off."""
    connection = connection_get(organization=_org(request))
    if connection is None or not connection.is_active:
        messages.error(request, "Connect Zoho CRM (and keep the integration enabled) to set up deal triggers.")
        return redirect("crm_integration:crm_details")
    preference = preferences.preference_get(connection=connection)
    errors: dict[str, list[str]] = {}
    stage_names: list[str] = []
    try:
        stage_names = [s.name for s in preferences.pipeline_stages(connection=connection)]
    except ApplicationError as exc:
        errors.setdefault("", []).append(f"The Deals pipeline could not be read: {exc.message}")
    initial = {
        "mode": preference.mode,
        "create_quote_stage": preference.create_quote_stage,
        "approve_quote_stage": preference.approve_quote_stage,
    }
    form = TriggerPreferenceForm(request.POST or None, initial=initial, stages=stage_names)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                preferences.trigger_preferences_save(
                    connection=connection,
                    actor=cast(User, request.user),
                    mode=form.cleaned_data["mode"],
                    create_quote_stage=form.cleaned_data.get("create_quote_stage") or "",
                    approve_quote_stage=form.cleaned_data.get("approve_quote_stage") or "",
                )
            except ApplicationError as exc:
                problems = exc.extra.get("problems") or [(exc.field or "", exc.message)]
                for field, message in problems:
                    name = field if field in form.fields else None
                    form.add_error(name, message)
            else:
                messages.success(request, "Deal trigger preference saved.")
                return redirect("crm_integration:crm_details")
        status = 422
    return TemplateResponse(
        request,
        "triggers/preferences.html",
        {"connection": connection, "form": form, "page_errors": errors.get("", []), "stages": stage_names},
        status=status,
    )


def details_panel_context(request: HttpRequest, connection: CrmConnection) -> dict[str, Any]:
    preference = preferences.preference_get(connection=connection)
    return {
        "connection": connection,
        "preference": preference,
        "quote_mode": preference.mode == TriggerMode.QUOTE,
        "channel_state": preferences.channel_state(connection=connection) if preference.mode != "off" else "",
    }


def history_panel_context(request: HttpRequest, connection: CrmConnection) -> dict[str, Any]:
    # The latest entries, unpaginated: the page's `page` parameter belongs to the sync runs panel beside it.
    return {"log": list(selectors.trigger_log_list(organization=connection.organization)[:HISTORY_LOG])}

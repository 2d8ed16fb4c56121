"""Settings › Zoho Apps › Zoho CRM › Manage Users and Roles › Manage Users (admins only; a page that works
without JavaScript, shown like the pop-up of the seed): the CRM's users with a role filter; checking users or
whole roles and Save gives them the Integration User (Zoho CRM) role, unchecking removes them."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from books.errors import ApplicationError
from books.models import Organization, User
from books.permissions import admin_page
from crm_integration.models import CrmConnection
from crm_integration.selectors import connection_get
from crm_integration.services import users as user_services


def _connection(request: HttpRequest) -> CrmConnection:
    connection = connection_get(organization=cast(Organization, request.organization))  # type: ignore[attr-defined]
    if connection is None:
        raise Http404("Zoho CRM is not connected")
    return connection


def _strip(message: str) -> str:
    text = message.split(": ", 1)[1] if ": " in message else message
    return text[:1].upper() + text[1:]


def _page(
    request: HttpRequest,
    connection: CrmConnection,
    *,
    role_id: str,
    errors: list[str] | None = None,
    checked: set[str] | None = None,
    roles_checked: set[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    overview = None
    errors = list(errors or [])
    try:
        overview = user_services.integration_users_overview(connection=connection, role_id=role_id)
    except ApplicationError as exc:
        errors.append(_strip(exc.message))
        status = status if status != 200 else 502 if exc.status >= 500 else exc.status
    if overview is not None and checked is None:
        checked = {row.key for row in overview.rows if row.selected}
    context: dict[str, Any] = {
        "connection": connection,
        "overview": overview,
        "role_id": role_id,
        "errors": errors,
        "checked": checked or set(),
        "roles_checked": roles_checked or set(),
    }
    return TemplateResponse(request, "crm_integration/manage_users.html", context, status=status)


@admin_page
@require_http_methods(["GET", "POST"])
def crm_manage_users(request: HttpRequest) -> HttpResponse:
    connection = _connection(request)
    if not user_services.manage_users_available(connection):
        messages.error(request, "Manage Users is enabled once you enable Sync Transaction Modules.")
        return redirect("crm_integration:crm_details")
    role_id = str(request.GET.get("role") or request.POST.get("role_filter") or "").strip()[:40]
    if request.method == "GET":
        return _page(request, connection, role_id=role_id)
    users = [str(v) for v in request.POST.getlist("user")]
    roles = [str(v) for v in request.POST.getlist("role")]
    shown = [str(v) for v in request.POST.getlist("shown")]
    try:
        outcome = user_services.integration_users_save(
            connection=connection,
            actor=cast(User, request.user),
            user_ids=users,
            role_ids=roles,
            shown=shown,
        )
    except ApplicationError as exc:
        return _page(
            request,
            connection,
            role_id=role_id,
            errors=[_strip(exc.message)],
            checked=set(users),
            roles_checked=set(roles),
            status=exc.status if exc.status < 500 else 502,
        )
    parts = []
    if outcome.added:
        parts.append(f"{len(outcome.added)} added")
    if outcome.removed:
        parts.append(f"{len(outcome.removed)} removed")
    summary = ", ".join(parts) or "no change"
    messages.success(request, f"Integration User (Zoho CRM): {summary}; {outcome.total} users added in all.")
    for email, why in outcome.skipped:
        messages.warning(request, f"{email}: {why}.")
    return redirect(reverse("crm_integration:crm_details") + "#users-roles")

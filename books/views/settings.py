"""Settings › Organization (profile and the Quotes preference), Custom Fields and Users."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from books.errors import ApplicationError
from books.forms import CustomFieldForm, MemberInviteForm, MemberRoleForm, OrganizationForm, add_service_error
from books.models import CustomFieldEntity, Role
from books.permissions import admin_page, books_page
from books.selectors import custom_field_get, custom_field_list, member_get, member_list
from books.services.custom_fields import custom_field_create, custom_field_set_active, custom_field_update
from books.services.organizations import (
    member_invite,
    member_remove,
    member_set_role,
    organization_update,
    time_zone_choices,
)
from books.views.common import BooksRequest, get_or_404, page_numbers, paginate, render

ORGANIZATION_FIELDS = ("name", "email", "country", "time_zone", "base_currency", "quote_conversion")


@admin_page
@require_http_methods(["GET", "POST"])
def organization_settings(request: BooksRequest) -> HttpResponse:
    org = request.organization
    zones = time_zone_choices()
    if org.time_zone not in zones:
        zones = [org.time_zone, *zones]
    if request.method == "POST":
        form = OrganizationForm(request.POST, time_zones=zones)
        if form.is_valid():
            try:
                organization_update(
                    organization=org,
                    actor=request.user,
                    **{name: form.cleaned_data[name] for name in ORGANIZATION_FIELDS},
                )
                messages.success(request, "Organization profile has been updated.")
                return redirect("books:organization_settings")
            except ApplicationError as exc:
                org.refresh_from_db()  # the service set the refused values on the instance the page shows
                add_service_error(form, exc)
        status = 400
    else:
        form = OrganizationForm(initial={name: getattr(org, name) for name in ORGANIZATION_FIELDS}, time_zones=zones)
        status = 200
    return render(request, "books/settings/organization.html", {"form": form}, status=status)


# --- custom fields -------------------------------------------------------------------------------------------------


def _entity(value: str | None) -> str:
    return value if value in CustomFieldEntity.values else CustomFieldEntity.CUSTOMER


@admin_page
def custom_field_list_page(request: BooksRequest) -> HttpResponse:
    entity = _entity(request.GET.get("entity"))
    context = {
        "entity": entity,
        "entity_label": CustomFieldEntity(entity).label,
        "entities": CustomFieldEntity.choices,
        "definitions": custom_field_list(organization=request.organization, entity=entity, active_only=False),
    }
    return render(request, "books/settings/custom_fields.html", context)


@admin_page
@require_http_methods(["GET", "POST"])
def custom_field_form(request: BooksRequest, pk: int | None = None) -> HttpResponse:
    org = request.organization
    definition = get_or_404(custom_field_get, organization=org, custom_field_id=pk) if pk is not None else None
    if request.method == "POST":
        form = CustomFieldForm(request.POST, definition=definition)
        if form.is_valid():
            try:
                if definition is None:
                    definition = custom_field_create(
                        organization=org,
                        actor=request.user,
                        entity=form.cleaned_data["entity"],
                        label=form.cleaned_data["label"],
                        data_type=form.cleaned_data["data_type"],
                        options=form.option_list(),
                    )
                    messages.success(request, f"The custom field {definition.label} has been created.")
                else:
                    definition = custom_field_update(
                        definition=definition,
                        actor=request.user,
                        label=form.cleaned_data["label"],
                        options=form.option_list(),
                    )
                    messages.success(request, f"The custom field {definition.label} has been updated.")
                return redirect(f"{reverse('books:custom_field_list')}?entity={definition.entity}")
            except ApplicationError as exc:
                add_service_error(form, exc)
        status = 400
    else:
        initial = {"entity": _entity(request.GET.get("entity"))} if definition is None else None
        form = CustomFieldForm(definition=definition, **({"initial": initial} if initial else {}))
        status = 200
    return render(
        request, "books/settings/custom_field_form.html", {"form": form, "definition": definition}, status=status
    )


@admin_page
@require_POST
def custom_field_status(request: BooksRequest, pk: int, state: str) -> HttpResponse:
    definition = get_or_404(custom_field_get, organization=request.organization, custom_field_id=pk)
    if state not in ("active", "inactive"):
        messages.error(request, f"status: '{state[:20]}' is not one of active, inactive")
    else:
        custom_field_set_active(definition=definition, actor=request.user, is_active=state == "active")
        messages.success(request, f"The custom field {definition.label} has been marked as {state}.")
    return redirect(f"{reverse('books:custom_field_list')}?entity={definition.entity}")


# --- users ---------------------------------------------------------------------------------------------------------


@books_page()
@require_http_methods(["GET", "POST"])
def member_list_page(request: BooksRequest) -> HttpResponse:
    """Everyone sees who is in the organization; only admins add people (a POST from anyone else is a 403)."""
    org = request.organization
    is_admin = request.membership.role == Role.ADMIN
    form = MemberInviteForm() if is_admin else None
    status = 200
    if request.method == "POST":
        if not is_admin:
            return render(
                request,
                "books/denied.html",
                {"title": "Admins only", "message": "Only an administrator of this organization can add users."},
                status=403,
            )
        form = MemberInviteForm(request.POST)
        if form.is_valid():
            try:
                membership = member_invite(organization=org, actor=request.user, **form.cleaned_data)
                messages.success(
                    request, f"{membership.user.email} has been added as {Role(membership.role).label.lower()}."
                )
                return redirect("books:member_list")
            except ApplicationError as exc:
                add_service_error(form, exc)
        status = 400
    # Integration users (the CRM's, up to 1000) are listed apart, page by page: "Users Added" at the top.
    integration_only = request.GET.get("role") == Role.INTEGRATION_USER
    page = None
    if integration_only:
        page = paginate(request, member_list(organization=org, role=Role.INTEGRATION_USER))
        members = list(page.object_list)
    else:
        members = list(member_list(organization=org).exclude(role=Role.INTEGRATION_USER))
    context = {
        "members": members,
        "form": form,
        "is_admin": is_admin,
        "integration_only": integration_only,
        "page": page,
        "page_numbers": page_numbers(page) if page else [],
        "integration_count": member_list(organization=org, role=Role.INTEGRATION_USER).count(),
    }
    return render(request, "books/settings/users.html", context, status=status)


@admin_page
@require_http_methods(["GET", "POST"])
def member_edit(request: BooksRequest, pk: int) -> HttpResponse:
    membership = get_or_404(member_get, organization=request.organization, membership_id=pk)
    if membership.role == Role.INTEGRATION_USER:
        messages.error(request, "Integration users are managed from Settings › Zoho Apps › Manage Users.")
        return redirect("books:member_list")
    if request.method == "POST":
        form = MemberRoleForm(request.POST)
        if form.is_valid():
            try:
                member_set_role(membership=membership, actor=request.user, role=form.cleaned_data["role"])
                messages.success(request, f"{membership.user.email} is now {Role(membership.role).label.lower()}.")
                return redirect("books:member_list")
            except ApplicationError as exc:
                add_service_error(form, exc)
        status = 400
    else:
        form = MemberRoleForm(initial={"role": membership.role})
        status = 200
    return render(request, "books/settings/member_form.html", {"form": form, "member": membership}, status=status)


@admin_page
@require_http_methods(["GET", "POST"])
def member_delete(request: BooksRequest, pk: int) -> HttpResponse:
    membership = get_or_404(member_get, organization=request.organization, membership_id=pk)
    if request.method == "POST":
        try:
            member_remove(membership=membership, actor=request.user)
        except ApplicationError as exc:
            messages.error(request, exc.message.split(": ", 1)[-1])
            return redirect("books:member_list")
        messages.success(request, f"{membership.user.email} has been removed from {request.organization.name}.")
        return redirect("books:member_list")
    context = {
        "title": f"Remove {membership.user.email}?",
        "message": f"They will no longer be able to open {request.organization.name}. Their account stays.",
        "confirm_label": "Remove",
        "cancel_url": reverse("books:member_list"),
    }
    return render(request, "books/confirm.html", context)

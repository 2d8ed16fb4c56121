"""Settings › Zoho Apps: connect the CRM, configure what syncs, and run it (function-based: form → service →
TemplateResponse). Admins only (`admin_page`); every page works without JavaScript; wrong input comes back as an
inline message on the field it concerns, never a 500."""

from __future__ import annotations

import logging
from typing import Any, cast

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from books.errors import ApplicationError, NotFound
from books.models import CustomFieldType, Organization, User
from books.permissions import admin_page
from crm_integration import hooks, mapping
from crm_integration.client import CustomView, FieldMeta
from crm_integration.forms import (
    ConnectForm,
    CustomFieldForm,
    DuplicatesStepForm,
    ExtentStepForm,
    ModuleStepForm,
    OrganizationChoiceForm,
    SyncOptionsForm,
    field_map_from_post,
)
from crm_integration.models import (
    ConnectionStatus,
    CrmConnection,
    CrmModuleOption,
    DataCenter,
    DuplicatePolicy,
    ModuleConfigDraft,
    SyncExtent,
    SyncModule,
)
from crm_integration.selectors import (
    connection_get,
    draft_get,
    field_mappings_by_config,
    module_config_list,
    module_name_clean,
)
from crm_integration.services import connections as conn_services
from crm_integration.services import modules as module_services
from crm_integration.services import users as user_services
from crm_integration.services import wizard
from crm_integration.services.modules import CrmMetadata, ValidationProblems

logger = logging.getLogger(__name__)

SESSION_STATE = "crm_oauth_state"

# The seed's words for each choice, shown beside it.
MODULE_OPTION_HELP = {
    CrmModuleOption.ACCOUNTS: "The Accounts in Zoho CRM will be synced as Customers in Zoho Books with their "
    "Customer Type as Business. The Contacts in Zoho CRM will not be synced to Zoho Books.",
    CrmModuleOption.CONTACTS: "The Contacts in Zoho CRM will be synced as Customers in Zoho Books with their "
    "Customer Type as Individual. The Accounts in Zoho CRM will not be synced to Zoho Books.",
    CrmModuleOption.ACCOUNTS_AND_CONTACTS: "The Accounts and their Associated Contacts in Zoho CRM will be synced "
    "as Customers and their Contact Persons in Zoho Books. The Contacts in Zoho CRM that are not associated with "
    "an Account will not be synced, unless you check the option below.",
}
EXTENT_HELP = {
    SyncModule.CUSTOMERS: {
        SyncExtent.FETCH_FROM_CRM: "Only the records from Zoho CRM will be fetched into Zoho Books. No Zoho Books "
        "data will be available in Zoho CRM. However, data that's already been pushed to Zoho CRM will not be "
        "affected.",
        SyncExtent.BOTH_WAYS: "The records from Zoho CRM will be fetched into Zoho Books, and vice versa. The CRM "
        "records will be fetched first.",
    },
    SyncModule.ITEMS: {
        SyncExtent.FETCH_FROM_CRM: "Only the products in Zoho CRM will be imported as items in Zoho Books. However, "
        "no Zoho Books data will be exported to Zoho CRM.",
        SyncExtent.BOTH_WAYS: "Items from Zoho Books will be exported as products to Zoho CRM and vice versa. The "
        "records from Zoho Books will be synced first.",
    },
}
EXTENT_HELP[SyncModule.VENDORS] = {
    SyncExtent.FETCH_FROM_CRM: "Only the vendors from Zoho CRM will be fetched into Zoho Books. No Zoho Books data "
    "will be available in Zoho CRM.",
    SyncExtent.BOTH_WAYS: "The vendors from Zoho CRM will be fetched into Zoho Books, and vice versa. The CRM "
    "records will be fetched first.",
}
DUPLICATES_HELP = {
    "default": {
        DuplicatePolicy.CLONE: "The duplicate record will be cloned while syncing, i.e. both the original and the "
        "new record will be available.",
        DuplicatePolicy.OVERWRITE: "The duplicate record will overwrite the existing record. That is, when there are "
        "duplicates, the Zoho CRM data will replace existing Zoho Books data.",
        DuplicatePolicy.SKIP: "The duplicate record will not be synced, and the existing record will be retained.",
    },
    SyncModule.ITEMS: {
        DuplicatePolicy.CLONE: "The duplicate record will be cloned while syncing, i.e. both the original and the "
        "new record will be available.",
        DuplicatePolicy.OVERWRITE: "The duplicate record will overwrite the existing record. When there are "
        "duplicate records, the Zoho Books record will replace the existing Zoho CRM record.",
        DuplicatePolicy.SKIP: "The duplicate record will not be synced, and the existing record will be retained.",
    },
}
DUPLICATES_INTRO = {
    SyncModule.CUSTOMERS: "Duplicate records are identified by comparing the Account name in Zoho CRM to the "
    "Customer Display Name in Zoho Books.",
    SyncModule.VENDORS: "Duplicate records are identified by comparing the Vendor name in Zoho CRM to the Vendor "
    "Display Name in Zoho Books.",
    SyncModule.ITEMS: "An item in Zoho Books might have the same name as a product in Zoho CRM. If you sync both "
    "ways, Zoho Books items are pushed to Zoho CRM first, so duplicates fall in Zoho CRM; one way, they are in "
    "Zoho Books.",
}
VIEW_LABELS = {
    "Accounts": "Account view",
    "Contacts": "Contact view",
    "Vendors": "Vendor view",
    "Products": "Product view",
}


def _org(request: HttpRequest) -> Organization:
    return request.organization  # type: ignore[attr-defined]


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _errors(exc: ApplicationError) -> dict[str, list[str]]:
    """ApplicationError → {field: [messages]} for the template ("" = the form as a whole)."""
    problems = exc.extra.get("problems") if isinstance(exc.extra, dict) else None
    errors: dict[str, list[str]] = {}
    for field, message in problems or [(exc.field or "", exc.message)]:
        errors.setdefault(field or "", []).append(message)
    return errors


def _render(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> TemplateResponse:
    return TemplateResponse(request, template, context, status=status)


def _details_url() -> str:
    return reverse("crm_integration:crm_details")


def _module_url(module: str) -> str:
    return reverse("crm_integration:module_configure", args=[module])


# --- Zoho Apps and the details page ---------------------------------------------------------------------------


@admin_page
def zoho_apps(request: HttpRequest) -> HttpResponse:
    connection = connection_get(organization=_org(request))
    return _render(request, "crm_integration/zoho_apps.html", {"connection": connection})


def _connect_initial(organization: Organization, connection: CrmConnection | None) -> dict[str, str]:
    if connection is not None:
        return {
            "data_center": connection.data_center,
            "accounts_url": connection.accounts_url if connection.data_center == DataCenter.CUSTOM else "",
            "api_domain": connection.api_domain if connection.data_center == DataCenter.CUSTOM else "",
            "client_id": connection.client_id,
            "has_secret": "yes",
        }
    return conn_services.installation_client()


def _credentials_context(
    request: HttpRequest, connection: CrmConnection | None, *, values: dict[str, str] | None = None
) -> dict[str, Any]:
    organization = _org(request)
    initial = _connect_initial(organization, connection)
    if values:
        initial = {**initial, **{k: v for k, v in values.items() if k != "client_secret"}}
    return {
        "values": initial,
        "data_centers": DataCenter.choices,
        "redirect_uri": conn_services.redirect_uri(),
        "shared": conn_services.shared_with_crm(organization),
        "pending": conn_services.pending_get(organization=organization),
    }


@admin_page
def crm_details(request: HttpRequest) -> HttpResponse:
    organization = _org(request)
    connection = connection_get(organization=organization)
    if connection is None:
        context = {"connection": None, **_credentials_context(request, None)}
        return _render(request, "crm_integration/details.html", context)
    return _render(request, "crm_integration/details.html", _details_context(request, connection))


def _details_context(request: HttpRequest, connection: CrmConnection) -> dict[str, Any]:
    configs = {c.module: c for c in module_config_list(connection=connection)}
    maps = field_mappings_by_config(connection=connection)
    drafts = set(ModuleConfigDraft.objects.filter(connection=connection).values_list("module", flat=True))
    modules = []
    for module in SyncModule:
        config = configs.get(module.value)
        modules.append(
            {
                "key": module.value,
                "label": module.label,
                "config": config,
                "map_count": len(maps.get(config.pk, [])) if config else 0,
                "draft": module.value in drafts,
                "steps": len(wizard.wizard_steps(module.value)),
            }
        )
    integration_users = user_services.integration_users_count(connection)
    panels = []
    for panel in hooks.panels("details"):
        html: str = ""
        try:
            html = render_to_string(panel.template_name, panel.context(request, connection), request=request)
        except Exception:  # one app's broken panel must not take the settings page down
            logger.exception("details panel %s failed", panel.key)
        panels.append({"key": panel.key, "title": panel.title, "html": mark_safe(html)})  # noqa: S308
    return {
        "connection": connection,
        "modules": modules,
        "configured_all": all(c is not None and c.enabled for c in (configs.get(m) for m in SyncModule.values)),
        "sync_available": hooks.sync_available(),
        "sync_refusal": conn_services.sync_refusal(connection),
        "panels": panels,
        "one_way_reason": "" if connection.two_way_allowed else conn_services.one_way_reason(connection.crm_org_name),
        "data_center_label": DataCenter(connection.data_center).label,
        "manage_users_available": connection.transactions_enabled or integration_users > 0,
        "integration_users_added": integration_users,
    }


# --- connecting -----------------------------------------------------------------------------------------------


@admin_page
def crm_connect(request: HttpRequest) -> HttpResponse:
    """GET: the credentials form (Update Credentials when connected). POST: Connect (OAuth) or Connect with
    grant code (Self Client)."""
    organization = _org(request)
    connection = connection_get(organization=organization)
    if request.method != "POST":
        context = {
            "connection": connection,
            "updating": connection is not None,
            **_credentials_context(request, connection),
        }
        return _render(request, "crm_integration/connect.html", context)
    form = ConnectForm(request.POST)
    values = {k: str(request.POST.get(k, ""))[:500] for k in ("data_center", "accounts_url", "api_domain", "client_id")}
    errors: dict[str, list[str]] = {}
    if not form.is_valid():
        for field, field_errors in form.errors.items():
            for message in field_errors:
                errors.setdefault(field, []).append(f"{field}: {message}")
    else:
        data = form.cleaned_data
        try:
            if data["method"] == "self_client":
                conn_services.self_client_authorize(
                    organization=organization,
                    actor=_actor(request),
                    data_center=data["data_center"],
                    accounts_url=data["accounts_url"],
                    api_domain=data["api_domain"],
                    client_id=data["client_id"],
                    client_secret=data["client_secret"],
                    grant_code=data["grant_code"],
                )
                return redirect("crm_integration:crm_choose_org")
            url, state = conn_services.oauth_start(
                organization=organization,
                actor=_actor(request),
                data_center=data["data_center"],
                accounts_url=data["accounts_url"],
                api_domain=data["api_domain"],
                client_id=data["client_id"],
                client_secret=data["client_secret"],
            )
            request.session[SESSION_STATE] = state
            return HttpResponseRedirect(url)
        except ApplicationError as exc:
            errors = _errors(exc)
    context = {
        "connection": connection,
        "updating": connection is not None,
        "errors": errors,
        "method": request.POST.get("method", "oauth"),
        **_credentials_context(request, connection, values=values),
    }
    return _render(request, "crm_integration/connect.html", context, status=400)


@admin_page
def oauth_callback(request: HttpRequest) -> HttpResponse:
    """Where the CRM's consent page sends the browser back (`{LB_PUBLIC_URL}/settings/zoho-apps/oauth/callback/`)."""
    organization = _org(request)
    session_state = request.session.pop(SESSION_STATE, "")
    try:
        conn_services.oauth_finish(
            organization=organization,
            actor=_actor(request),
            state=str(request.GET.get("state", "")),
            session_state=str(session_state or ""),
            code=str(request.GET.get("code", "")),
            accounts_server=str(request.GET.get("accounts-server", "")),
            error=str(request.GET.get("error", "")),
        )
    except ApplicationError as exc:
        connection = connection_get(organization=organization)
        context = {
            "connection": connection,
            "updating": connection is not None,
            "errors": _errors(exc),
            **_credentials_context(request, connection),
        }
        return _render(request, "crm_integration/connect.html", context, status=exc.status if exc.status < 500 else 400)
    return redirect("crm_integration:crm_choose_org")


@admin_page
def crm_choose_org(request: HttpRequest) -> HttpResponse:
    """Choose the Zoho CRM organization (the dropdown disabled when there is only one) and Save."""
    organization = _org(request)
    pending = conn_services.pending_get(organization=organization)
    if pending is None or not pending.authorized:
        messages.info(request, "Click Connect to sign in to Zoho CRM first.")
        return redirect("crm_integration:crm_details")
    choices = conn_services.pending_org_choices(pending)
    existing = connection_get(organization=organization)
    errors: dict[str, list[str]] = {}
    selected = choices[0].id if choices else ""
    status = 200
    if request.method == "POST":
        form = OrganizationChoiceForm(request.POST)
        form.is_valid()
        selected = form.cleaned_data.get("organization") or (choices[0].id if len(choices) == 1 else "")
        try:
            outcome = conn_services.connection_connect(
                organization=organization,
                actor=_actor(request),
                crm_org_id=selected,
            )
        except ApplicationError as exc:
            errors = _errors(exc)
            status = 422
        else:
            connection = outcome.connection
            messages.success(
                request,
                f"Connected to Zoho CRM organization '{connection.crm_org_name}'. Next, click Configure Now next to "
                "Customers, Vendors or Items to choose what syncs.",
            )
            if outcome.one_way_reason:
                messages.warning(request, outcome.one_way_reason)
            if outcome.reset_extents:
                messages.warning(
                    request,
                    f"{', '.join(m.title() for m in outcome.reset_extents)} now fetch from CRM only (one-way connection).",
                )
            if outcome.crm_org_changed:
                messages.warning(
                    request,
                    "This is another Zoho CRM organization than before: configure the modules again (Configure Now).",
                )
            return redirect("crm_integration:crm_details")
    rows = [
        {
            "choice": c,
            "problems": conn_services.prerequisite_problems(crm_org=c, organization=organization),
            "one_way": conn_services.two_way_holder_exists(provider="zoho", crm_org_id=c.id, organization=organization),
        }
        for c in choices
    ]
    context = {
        "pending": pending,
        "choices": choices,
        "rows": rows,
        "selected": selected,
        "errors": errors,
        "shared": conn_services.shared_with_crm(organization),
        "existing": existing,
    }
    return _render(request, "crm_integration/choose_org.html", context, status=status)


@admin_page
@require_POST
def crm_connect_cancel(request: HttpRequest) -> HttpResponse:
    conn_services.pending_discard(organization=_org(request))
    request.session.pop(SESSION_STATE, None)
    messages.info(request, "Connecting was cancelled.")
    return redirect("crm_integration:crm_details")


# --- actions on the connection ----------------------------------------------------------------------------------


def _require_connection(request: HttpRequest) -> CrmConnection:
    connection = connection_get(organization=_org(request))
    if connection is None:
        raise Http404("Zoho CRM is not connected")
    return connection


def _action(request: HttpRequest, fn: Any, success: str) -> HttpResponse:
    connection = _require_connection(request)
    try:
        result = fn(connection=connection, actor=_actor(request))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success if success else str(result))
        reason = getattr(result, "one_way_reason", "")
        if reason:
            messages.warning(request, reason)
    return redirect("crm_integration:crm_details")


@admin_page
@require_POST
def crm_disable(request: HttpRequest) -> HttpResponse:
    return _action(
        request,
        conn_services.connection_disable,
        "Integration disabled: nothing syncs with Zoho CRM until you enable it again.",
    )


@admin_page
@require_POST
def crm_enable(request: HttpRequest) -> HttpResponse:
    return _action(request, conn_services.connection_enable, "Integration enabled again.")


@admin_page
@require_POST
def crm_pause(request: HttpRequest) -> HttpResponse:
    return _action(
        request, conn_services.connection_pause, "Sync paused: no automatic sync and no Instant Sync until Resume."
    )


@admin_page
@require_POST
def crm_resume(request: HttpRequest) -> HttpResponse:
    return _action(request, conn_services.connection_resume, "Sync resumed.")


@admin_page
@require_POST
def crm_instant_sync(request: HttpRequest) -> HttpResponse:
    connection = _require_connection(request)
    try:
        message = conn_services.connection_sync_now(connection=connection, actor=_actor(request), trigger="instant")
    except ApplicationError as exc:
        messages.warning(request, exc.message)
    else:
        messages.success(request, message)
    return redirect("crm_integration:crm_details")


@admin_page
@require_POST
def crm_sync_options(request: HttpRequest) -> HttpResponse:
    connection = _require_connection(request)
    form = SyncOptionsForm(request.POST)
    if not form.is_valid():
        context = _details_context(request, connection)
        context["errors"] = {"interval_minutes": [str(e) for e in form.errors.get("interval_minutes", [])]}
        context["interval_value"] = str(request.POST.get("interval_minutes", ""))[:20]
        return _render(request, "crm_integration/details.html", context, status=400)
    try:
        conn_services.connection_set_sync_options(
            connection=connection,
            actor=_actor(request),
            interval_minutes=form.cleaned_data["interval_minutes"],
        )
    except ApplicationError as exc:
        context = _details_context(request, connection)
        context["errors"] = _errors(exc)
        return _render(request, "crm_integration/details.html", context, status=400)
    messages.success(request, f"Automatic sync every {connection.sync_interval_minutes} minutes.")
    return redirect("crm_integration:crm_details")


@admin_page
@require_POST
def crm_transactions(request: HttpRequest) -> HttpResponse:
    connection = _require_connection(request)
    enable = request.POST.get("enabled") == "1"
    if enable and request.POST.get("confirm") != "1":
        return _render(request, "crm_integration/confirm_transactions.html", {"connection": connection})
    try:
        conn_services.connection_set_transactions(connection=connection, actor=_actor(request), enabled=enable)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Transaction modules enabled." if enable else "Transaction modules disabled.")
    return redirect("crm_integration:crm_details")


@admin_page
def crm_sync_history(request: HttpRequest) -> HttpResponse:
    connection = _require_connection(request)
    panels = []
    for panel in hooks.panels("history"):
        html = render_to_string(panel.template_name, panel.context(request, connection), request=request)
        panels.append({"key": panel.key, "title": panel.title, "html": mark_safe(html)})  # noqa: S308
    return _render(request, "crm_integration/history.html", {"connection": connection, "panels": panels})


# --- Configure Now: the wizard ---------------------------------------------------------------------------------


def _wizard_connection(request: HttpRequest, module: str) -> CrmConnection | HttpResponse:
    try:
        module_name_clean(module)
    except NotFound as exc:
        raise Http404(exc.message) from None
    connection = connection_get(organization=_org(request))
    if connection is None:
        messages.info(request, "Connect Zoho CRM first.")
        return redirect("crm_integration:crm_details")
    if connection.status != ConnectionStatus.CONNECTED:
        messages.warning(
            request,
            "The integration is disabled: enable it before configuring modules."
            if connection.status == ConnectionStatus.DISABLED
            else "Zoho CRM refused the saved credentials: use Update Credentials first.",
        )
        return redirect("crm_integration:crm_details")
    return connection


@admin_page
@require_POST
def module_start(request: HttpRequest, module: str) -> HttpResponse:
    """Configure Now (continue the wizard) or Edit (`restart=1`: start again from the saved settings)."""
    connection = _wizard_connection(request, module)
    if isinstance(connection, HttpResponse):
        return connection
    wizard.draft_open(
        connection=connection,
        module=module,
        actor=_actor(request),
        restart=request.POST.get("restart") == "1",
    )
    return redirect(_module_url(module))


@admin_page
@require_POST
def module_stop(request: HttpRequest, module: str) -> HttpResponse:
    connection = _wizard_connection(request, module)
    if isinstance(connection, HttpResponse):
        return connection
    module_services.module_config_stop(connection=connection, actor=_actor(request), module=module)
    messages.success(request, f"{SyncModule(module).label} are no longer synced. Configure Now includes them again.")
    return redirect("crm_integration:crm_details")


@admin_page
def module_configure(request: HttpRequest, module: str) -> HttpResponse:
    connection = _wizard_connection(request, module)
    if isinstance(connection, HttpResponse):
        return connection
    draft = draft_get(connection=connection, module=module) or wizard.draft_open(
        connection=connection,
        module=module,
        actor=_actor(request),
    )
    if request.method != "POST":
        return _wizard_render(request, connection, draft)
    action = str(request.POST.get("action", "next"))
    step = wizard.draft_step_name(draft)
    posted_step = str(request.POST.get("step", step))
    if action == "cancel":
        wizard.draft_discard(connection=connection, module=module)
        messages.info(request, f"{SyncModule(module).label}: nothing was saved.")
        return redirect("crm_integration:crm_details")
    if step == "fields" and posted_step == step and (action == "back" or action.startswith("goto:")):
        # Going back keeps the field map as entered, so nothing typed is lost.
        wizard.draft_set_field_map(
            draft=draft, field_map=field_map_from_post(request.POST, wizard.draft_crm_modules(draft))
        )
    if action == "back":
        wizard.draft_back(draft=draft)
        return redirect(_module_url(module))
    if action.startswith("goto:"):
        wizard.draft_goto(draft=draft, step_name=action[5:])
        return redirect(_module_url(module))
    if posted_step != step:
        messages.warning(request, "This step changed in another window; here is where the set-up is now.")
        return redirect(_module_url(module))
    metadata: CrmMetadata | None = None
    if step in ("views", "fields"):
        try:
            metadata = module_services.crm_metadata_fetch(
                connection=connection, crm_modules=wizard.draft_crm_modules(draft)
            )
        except ApplicationError as exc:
            return _wizard_render(request, connection, draft, errors=_errors(exc), status=503)
    if action == "create_field" and step == "fields":
        return _create_custom_field(request, connection, draft, metadata)
    values = _step_values(request, draft, step)
    try:
        wizard.draft_submit(draft=draft, actor=_actor(request), step_name=step, values=values, metadata=metadata)
    except ValidationProblems as exc:
        if step == "fields":
            wizard.draft_set_field_map(draft=draft, field_map=values["field_map"])
        return _wizard_render(
            request, connection, draft, errors=_errors(exc), posted=values, metadata=metadata, status=422
        )
    if step != "fields":
        return redirect(_module_url(module))
    if action not in ("save_sync", "save_later"):
        return redirect(_module_url(module))
    try:
        _config, message = wizard.draft_save(
            draft=draft,
            actor=_actor(request),
            sync_now=action == "save_sync",
            metadata=metadata,
        )
    except ApplicationError as exc:
        return _wizard_render(
            request, connection, draft, errors=_errors(exc), posted=values, metadata=metadata, status=422
        )
    messages.success(request, message)
    return redirect("crm_integration:crm_details")


def _step_values(request: HttpRequest, draft: ModuleConfigDraft, step: str) -> dict[str, Any]:
    post = request.POST
    if step == "module":
        form: Any = ModuleStepForm(post)
        form.is_valid()
        return {
            "crm_module_option": str(post.get("crm_module_option", "")),
            "include_orphan_contacts": post.get("include_orphan_contacts") in ("on", "1", "true"),
        }
    if step == "extent":
        ExtentStepForm(post).is_valid()
        return {"extent": str(post.get("extent", ""))}
    if step == "duplicates":
        DuplicatesStepForm(post).is_valid()
        return {"duplicates": str(post.get("duplicates", ""))}
    if step == "views":
        return {
            "primary_view": str(post.get("primary_view", "")),
            "secondary_view": str(post.get("secondary_view", "")),
        }
    return {"field_map": field_map_from_post(post, wizard.draft_crm_modules(draft))}


def _create_custom_field(
    request: HttpRequest, connection: CrmConnection, draft: ModuleConfigDraft, metadata: CrmMetadata | None
) -> HttpResponse:
    crm_modules = wizard.draft_crm_modules(draft)
    field_map = field_map_from_post(request.POST, crm_modules)
    wizard.draft_set_field_map(draft=draft, field_map=field_map)
    form = CustomFieldForm(request.POST)
    errors: dict[str, list[str]] = {}
    if not form.is_valid() or form.cleaned_data["cf_crm_module"] not in crm_modules:
        errors["cf_crm_module"] = ["cf_crm_module: choose the CRM module the new field is for"]
    else:
        data = form.cleaned_data
        crm_module = data["cf_crm_module"]
        crm_field = data["cf_crm_field"].strip()
        crm_fields = metadata.fields.get(crm_module, {}) if metadata else {}
        meta = crm_fields.get(crm_field)
        if crm_field and meta is None:
            errors["cf_crm_field"] = [f"cf_crm_field: '{crm_field[:60]}' is not a field of {crm_module} in Zoho CRM"]
        else:
            label = (data["cf_label"] or (meta.label if meta else "")).strip()
            data_type = data["cf_data_type"] or (
                module_services.suggested_custom_type(meta.data_type) if meta else CustomFieldType.TEXT
            )
            options = [o.strip() for o in (data["cf_options"] or "").split(",") if o.strip()]
            if not options and meta is not None and data_type == CustomFieldType.PICKLIST:
                options = list(meta.picklist_values)
            try:
                definition = module_services.custom_field_create_for_map(
                    connection=connection,
                    actor=_actor(request),
                    module=draft.module,
                    label=label,
                    data_type=data_type,
                    options=options,
                )
            except ApplicationError as exc:
                errors = {f"cf_{exc.field}" if exc.field else "cf_label": [exc.message]}
            else:
                if crm_field:
                    field_map.setdefault(crm_module, {})[mapping.custom_field_name(definition.api_name)] = crm_field
                    wizard.draft_set_field_map(draft=draft, field_map=field_map)
                    messages.success(
                        request, f"Books custom field '{definition.label}' created and mapped to {crm_field}."
                    )
                else:
                    messages.success(request, f"Books custom field '{definition.label}' created: map it below.")
                return redirect(_module_url(draft.module))
    return _wizard_render(
        request,
        connection,
        draft,
        errors=errors,
        posted={"field_map": field_map, **{k: request.POST.get(k, "") for k in form.fields}},
        metadata=metadata,
        status=422,
    )


def _view_groups(views: list[CustomView]) -> list[tuple[str, list[CustomView]]]:
    predefined = [v for v in views if v.system_defined]
    created = [v for v in views if not v.system_defined]
    groups = []
    if predefined:
        groups.append(("Predefined views", predefined))
    if created:
        groups.append(("Views created in Zoho CRM", created))
    return groups


def _field_rows(
    *,
    connection: CrmConnection,
    draft: ModuleConfigDraft,
    crm_module: str,
    crm_fields: dict[str, FieldMeta],
    chosen: dict[str, str],
    errors: dict[str, list[str]],
) -> dict[str, Any]:
    option = str(draft.data.get("crm_module_option") or "")
    entity = module_services.entity_for(module=draft.module, crm_module=crm_module, crm_module_option=option)
    custom = module_services.custom_fields_for(
        connection=connection, module=draft.module, crm_module=crm_module, crm_module_option=option
    )
    catalog = mapping.books_catalog(entity, custom)
    sorted_fields = sorted(crm_fields.values(), key=lambda f: f.label.lower())
    rows = []
    for books_field in catalog:
        accepted = mapping.COMPATIBLE.get(books_field.type, frozenset())
        fits = [f for f in sorted_fields if f.data_type in accepted]
        others = [f for f in sorted_fields if f.data_type not in accepted]
        key = f"field_map.{crm_module}.{books_field.name}"
        rows.append(
            {
                "field": books_field,
                "input": f"map__{crm_module}__{books_field.name}",
                "value": chosen.get(books_field.name, ""),
                "fits": fits,
                "others": others,
                "errors": errors.get(key, []),
                "required": books_field.name == module_services.REQUIRED_MAP[entity],
            }
        )
    mapped = set(chosen.values())
    unmapped = [f for f in sorted_fields if f.api_name not in mapped and f.data_type not in mapping.CRM_NOT_MAPPABLE]
    return {
        "crm_module": crm_module,
        "entity": entity,
        "entity_label": entity.replace("_", " "),
        "rows": rows,
        "unmapped": unmapped,
        "can_create_custom": mapping.CUSTOM_FIELD_ENTITY[mapping.BooksEntity(entity)] is not None,
        "metadata_missing": not crm_fields,
    }


def _wizard_render(
    request: HttpRequest,
    connection: CrmConnection,
    draft: ModuleConfigDraft,
    *,
    errors: dict[str, list[str]] | None = None,
    posted: dict[str, Any] | None = None,
    metadata: CrmMetadata | None = None,
    status: int = 200,
) -> HttpResponse:
    errors = errors or {}
    steps = wizard.wizard_steps(draft.module)
    step = wizard.draft_step_name(draft)
    data = {**(draft.data or {}), **(posted or {})}
    module = draft.module
    context: dict[str, Any] = {
        "connection": connection,
        "draft": draft,
        "module": module,
        "module_label": SyncModule(module).label,
        "steps": [
            {
                "name": s,
                "title": wizard.STEP_TITLES[s],
                "number": i + 1,
                "done": i + 1 < draft.step,
                "active": s == step,
            }
            for i, s in enumerate(steps)
        ],
        "step": step,
        "step_number": steps.index(step) + 1,
        "step_count": len(steps),
        "step_title": wizard.STEP_TITLES[step],
        "is_last": step == steps[-1],
        "data": data,
        "errors": errors,
        "form_errors": errors.get("", [])
        + [m for k, v in errors.items() if k and not _error_shown(k, step) for m in v],
    }
    if step == "module":
        context["options"] = [
            {"value": o.value, "label": o.label, "help": MODULE_OPTION_HELP[o]} for o in CrmModuleOption
        ]
    elif step == "extent":
        context["options"] = [
            {
                "value": e.value,
                "label": e.label,
                "help": EXTENT_HELP[SyncModule(module)][e],
                "disabled": e == SyncExtent.BOTH_WAYS and not connection.two_way_allowed,
            }
            for e in SyncExtent
        ]
        context["one_way_reason"] = (
            "" if connection.two_way_allowed else conn_services.one_way_reason(connection.crm_org_name)
        )
    elif step == "duplicates":
        helps = DUPLICATES_HELP.get(module, DUPLICATES_HELP["default"])
        context["intro"] = DUPLICATES_INTRO[SyncModule(module)]
        context["options"] = [{"value": d.value, "label": d.label, "help": helps[d]} for d in DuplicatePolicy]
    elif step in ("views", "fields"):
        crm_modules = wizard.draft_crm_modules(draft)
        if metadata is None or (step == "views" and not metadata.views):
            try:
                metadata = module_services.crm_metadata_fetch(connection=connection, crm_modules=crm_modules)
            except ApplicationError as exc:
                context["form_errors"] = [*context["form_errors"], exc.message]
                metadata = CrmMetadata()
                status = 503 if status == 200 else status
        if step == "views":
            keys = ("primary_view", "secondary_view")
            selects = []
            for position, crm_module in enumerate(crm_modules):
                views = metadata.views.get(crm_module, [])
                current = str(data.get(keys[position]) or "")
                if not current:
                    default = module_services.default_view(views, crm_module)
                    current = default.id if default else ""
                selects.append(
                    {
                        "name": keys[position],
                        "label": VIEW_LABELS.get(crm_module, crm_module),
                        "crm_module": crm_module,
                        "groups": _view_groups(views),
                        "value": current,
                        "errors": errors.get(keys[position], []),
                    }
                )
            context["view_selects"] = selects
        else:
            given = data.get("field_map") if isinstance(data.get("field_map"), dict) else None
            tables = []
            option = str(data.get("crm_module_option") or "")
            for crm_module in crm_modules:
                crm_fields = metadata.fields.get(crm_module, {})
                chosen = (given or {}).get(crm_module)
                if given is None or chosen is None:
                    chosen = module_services.default_field_map(
                        module=module, crm_module=crm_module, crm_module_option=option, crm_fields=crm_fields
                    )
                tables.append(
                    _field_rows(
                        connection=connection,
                        draft=draft,
                        crm_module=crm_module,
                        crm_fields=crm_fields,
                        chosen=chosen,
                        errors=errors,
                    )
                )
            context["tables"] = tables
            context["custom_types"] = CustomFieldType.choices
            context["sync_refusal"] = conn_services.sync_refusal(connection)
            context["sync_available"] = hooks.sync_available()
    return _render(request, "crm_integration/wizard.html", context, status=status)


def _error_shown(key: str, step: str) -> bool:
    """Whether the template shows this error next to its input (else it goes to the top of the form)."""
    if step == "fields":
        return key.startswith("field_map.") or key.startswith("cf_")
    if step == "views":
        return key in ("primary_view", "secondary_view")
    if step == "module":
        return key in ("crm_module_option", "include_orphan_contacts")
    return key == step

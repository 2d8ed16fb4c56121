"""Zoho Accounts' endpoints (`/oauth/v2/auth`, `/oauth/v2/token`, revoke) and the sandbox's own pages, where a
person browses and edits records (through the same services as the API, so notifications fire alike), sees
notification deliveries and sets faults. The pages need the sandbox login (admin / admin after `seed`)."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from crm_sandbox import fieldcache, selectors
from crm_sandbox.common import public_base_url
from crm_sandbox.forms import FaultForm, RecordForm
from crm_sandbox.models import CrmUser, Delivery, OAuthClient, Org, Record
from crm_sandbox.schema import MODULES
from crm_sandbox.services import faults, limits, oauth, orgs
from crm_sandbox.services import records as record_services

# ---- OAuth ----------------------------------------------------------------------------------------------------------


def _oauth_json(body: dict[str, Any]) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=200, content_type="application/json;charset=UTF-8")


@csrf_exempt
def oauth_token(request: HttpRequest) -> HttpResponse:
    limits.count_call(f"{request.method} /oauth/v2/token")
    if request.method != "POST":
        return _oauth_json({"error": "invalid_request_method"})  # UNCONFIRMED string
    params = {**request.GET.dict(), **request.POST.dict()}
    return _oauth_json(oauth.token_exchange(params=params))


@csrf_exempt
def oauth_revoke(request: HttpRequest) -> HttpResponse:
    limits.count_call(f"{request.method} /oauth/v2/token/revoke")
    params = {**request.GET.dict(), **request.POST.dict()}
    return _oauth_json(oauth.token_revoke(token=params.get("token", "")))


@require_http_methods(["GET", "POST"])
def oauth_auth(request: HttpRequest) -> HttpResponse:
    """The consent page. A person in several orgs picks the org here (UNCONFIRMED: Zoho's consent page for CRM
    offers the user's orgs; API calls may also pick one with X-CRM-ORG)."""
    params = request.GET if request.method == "GET" else request.POST
    client = OAuthClient.objects.filter(client_id=params.get("client_id", "")).first()
    redirect_uri = params.get("redirect_uri", "")
    problem = ""
    if client is None:
        problem = "Invalid client: the client_id is not registered with this sandbox."
    elif params.get("response_type", "code") != "code":
        problem = "Invalid response_type: only 'code' is supported."
    elif not redirect_uri or not urllib.parse.urlsplit(redirect_uri).scheme.startswith("http"):
        problem = "Invalid redirect_uri: it must be an http(s) URL."
    elif not oauth.redirect_allowed(client, redirect_uri):
        problem = "Invalid redirect_uri: it is not one of the client's registered redirect URIs."
    users = list(CrmUser.objects.select_related("org").filter(status=CrmUser.Status.ACTIVE).order_by("org_id", "id"))
    context: dict[str, Any] = {"problem": problem, "client": client, "params": params, "users": users}
    if problem:
        return TemplateResponse(request, "crm_sandbox/consent.html", context, status=400)
    assert client is not None
    if request.method == "GET":
        return TemplateResponse(request, "crm_sandbox/consent.html", context)
    separator = "&" if "?" in redirect_uri else "?"
    state = params.get("state")
    if params.get("decision") != "accept":
        query = {"error": "access_denied", **({"state": state} if state else {})}
        return HttpResponseRedirect(redirect_uri + separator + urllib.parse.urlencode(query))
    user_id = params.get("user_id", "")
    user = next((u for u in users if str(u.id) == user_id), None)
    if user is None:
        context["problem_user"] = "Choose the user and org to connect."
        return TemplateResponse(request, "crm_sandbox/consent.html", context, status=400)
    grant = oauth.grant_create(
        client=client, user=user, scope=params.get("scope", oauth.DEFAULT_SCOPE), redirect_uri=redirect_uri
    )
    query = {"code": grant.code, "location": "us", "accounts-server": public_base_url()}
    if state:
        query["state"] = state
    return HttpResponseRedirect(redirect_uri + separator + urllib.parse.urlencode(query))


# ---- pages ------------------------------------------------------------------------------------------------------


def _org(request: HttpRequest) -> Org:
    wanted = request.GET.get("org", "")
    if wanted.isdigit():
        org = Org.objects.filter(pk=int(wanted)).first()
        if org is not None:
            return org
    org = orgs.default_org()
    if org is None:
        raise Http404("The sandbox has no org yet: run `manage.py crm_sandbox seed`.")
    return org


def _module_or_404(module: str) -> str:
    if module not in MODULES:
        raise Http404(f"No module {module!r}; modules: {', '.join(MODULES)}")
    return module


@login_required(login_url="/admin/login/")
def home(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    counts = {m: Record.objects.filter(org=org, module=m, deleted_time__isnull=True).count() for m in MODULES}
    return TemplateResponse(
        request,
        "crm_sandbox/home.html",
        {"org": org, "counts": counts, "orgs": Org.objects.order_by("id"), "base_url": public_base_url()},
    )


PAGE_SIZE = 50


@login_required(login_url="/admin/login/")
def record_list(request: HttpRequest, module: str) -> HttpResponse:
    module = _module_or_404(module)
    org = _org(request)
    qs = Record.objects.filter(org=org, module=module, deleted_time__isnull=True)
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(Q(name__contains=q.lower()) | Q(email__contains=q.lower()))
    paginator = Paginator(qs.order_by("-modified_time", "-id").values_list(*selectors.ROW_FIELDS), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    spec = MODULES[module]
    columns = [spec.name_field, "Owner", "Modified_Time"]
    if module == "Deals":
        columns[1:1] = ["Stage", "Amount", "Account_Name"]
    elif module in ("Contacts",):
        columns[1:1] = ["Email", "Account_Name"]
    records = selectors.render_records(org, module, list(page.object_list), columns)
    rows = [[_cell(r.get(c)) for c in columns] for r in records]
    return TemplateResponse(
        request,
        "crm_sandbox/record_list.html",
        {
            "org": org,
            "module": module,
            "page": page,
            "rows": list(zip(records, rows, strict=True)),
            "columns": columns,
            "q": q,
        },
    )


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("name") or value.get("id") or "")
    return "" if value is None else str(value)


@login_required(login_url="/admin/login/")
@require_http_methods(["GET", "POST"])
def record_edit(request: HttpRequest, module: str, record_id: str = "") -> HttpResponse:
    module = _module_or_404(module)
    org = _org(request)
    defs = fieldcache.fields_of(org.id, module)
    users = fieldcache.users_of(org.id)
    initial: dict[str, Any] = {}
    lookup_names: dict[str, str | None] = {}
    if record_id:
        rows = list(
            Record.objects.filter(
                org=org, module=module, deleted_time__isnull=True, id=int(record_id) if record_id.isdigit() else -1
            ).values_list(*selectors.ROW_FIELDS)
        )
        if not rows:
            raise Http404(f"No {module} record {record_id}")
        current = selectors.render_records(org, module, rows, None)[0]
        for name, value in current.items():
            if isinstance(value, dict):
                initial[name] = value.get("id")
                lookup_names[name] = value.get("name")
            else:
                initial[name] = value
    else:
        initial["Owner"] = str(orgs.primary_user(org).id)
    form = RecordForm(request.POST or None, initial=initial, defs=defs, users=users, lookup_names=lookup_names)
    if request.method == "POST" and form.is_valid():
        actor = orgs.primary_user(org)
        values = form.record_values()
        if record_id:
            result = record_services.records_update(
                org=org, module=module, rows=[values], actor=actor, force_id=int(record_id)
            )[0]
        else:
            result = record_services.records_insert(org=org, module=module, rows=[values], actor=actor)[0]
        if result.ok:
            messages.success(request, f"{MODULES[module].singular} saved.")
            return redirect("crm_sandbox:record_edit", module=module, record_id=str(result.record_id))
        field_name = str(result.details.get("api_name") or "")
        form.add_error(field_name if field_name in form.fields else None, f"{result.code}: {result.message}")
    return TemplateResponse(
        request,
        "crm_sandbox/record_edit.html",
        {
            "org": org,
            "module": module,
            "form": form,
            "record_id": record_id,
            "initial": initial,
            "title": initial.get(MODULES[module].name_field),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required(login_url="/admin/login/")
@require_POST
def record_delete(request: HttpRequest, module: str, record_id: str) -> HttpResponse:
    module = _module_or_404(module)
    org = _org(request)
    result = record_services.records_delete(org=org, module=module, ids=[record_id], actor=orgs.primary_user(org))[0]
    if result.ok:
        messages.success(request, "Record deleted.")
    else:
        messages.error(request, f"{result.code}: {result.message}")
    return redirect("crm_sandbox:record_list", module=module)


@login_required(login_url="/admin/login/")
def delivery_list(request: HttpRequest) -> HttpResponse:
    paginator = Paginator(Delivery.objects.order_by("-id"), PAGE_SIZE)
    return TemplateResponse(
        request, "crm_sandbox/deliveries.html", {"page": paginator.get_page(request.GET.get("page"))}
    )


@login_required(login_url="/admin/login/")
@require_http_methods(["GET", "POST"])
def fault_settings(request: HttpRequest) -> HttpResponse:
    current = faults.current()
    form = FaultForm(request.POST or None, initial={k: getattr(current, k) for k in FaultForm.base_fields})
    if request.method == "POST" and form.is_valid():
        try:
            faults.faults_set(values=form.values())
            messages.success(request, "Fault settings saved.")
            return redirect("crm_sandbox:faults")
        except faults.FaultSpecError as exc:
            form.add_error(None, str(exc))
    return TemplateResponse(
        request, "crm_sandbox/faults.html", {"form": form}, status=400 if request.method == "POST" else 200
    )

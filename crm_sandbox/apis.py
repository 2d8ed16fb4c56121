"""The Zoho CRM v8 REST API of the sandbox (`/crm/v8/…`).

Every view goes through `crm_api`: count the call, decide faults (before anything is written), authenticate
(`Authorization: Zoho-oauthtoken …`, `X-CRM-ORG` to pick another org of the same person), take a concurrency slot
and a credit, run, and answer JSON as Zoho does (`application/json;charset=UTF-8`, 204 with no body, errors in
the envelope of reference §12). Views parse and validate parameters and call selectors and services.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from crm_sandbox import fieldcache, metadata, selectors
from crm_sandbox.common import CrmApiError, fmt_dt, parse_dt
from crm_sandbox.models import CrmUser, Org, Record, UniqueValue, WatchChannel
from crm_sandbox.schema import MODULES
from crm_sandbox.services import faults, limits, notifications, oauth
from crm_sandbox.services import records as record_services
from crm_sandbox.services.fields import field_create

log = logging.getLogger(__name__)
JSON_TYPE = "application/json;charset=UTF-8"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
MAX_WRITE = 100
MAX_FIELDS = 50


@dataclass(frozen=True)
class Ctx:
    user: CrmUser
    org: Org


def json_response(body: Any, status: int = 200) -> HttpResponse:
    response = HttpResponse(json.dumps(body, default=str), status=status, content_type=JSON_TYPE)
    return response


def no_content(status: int = 204) -> HttpResponse:
    response = HttpResponse(status=status)
    del response["Content-Type"]
    return response


def error_response(exc: CrmApiError) -> HttpResponse:
    return json_response(exc.body(), status=exc.status)


def drop_connection(request: HttpRequest) -> None:
    """Close the client's socket with no HTTP answer (waitress exposes its channel; see crm_sandbox/server.py)."""
    channel = request.META.get("crm_sandbox.channel")
    if channel is None:
        raise ConnectionAbortedError("fault injection: connection dropped")
    channel.will_close = True
    try:
        channel.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        channel.socket.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _label(request: HttpRequest, kwargs: dict[str, Any]) -> str:
    match = request.resolver_match
    route = match.route if match else request.path
    for key, value in kwargs.items():
        route = route.replace(f"<str:{key}>", "{id}" if key.endswith("id") else str(value))
    return f"{request.method} /{route.lstrip('/')}"


def authenticate(request: HttpRequest) -> Ctx:
    header = request.headers.get("Authorization", "")
    if not header:
        raise CrmApiError("AUTHENTICATION_FAILURE", "Authentication failed", status=401)
    prefix, _, token = header.partition(" ")
    if prefix.lower() not in ("zoho-oauthtoken", "bearer") or not token.strip():
        raise CrmApiError("INVALID_TOKEN", "invalid oauth token", status=401)
    info = oauth.access_token_resolve(token.strip())
    if info is None:
        raise CrmApiError("INVALID_TOKEN", "invalid oauth token", status=401)
    user = CrmUser.objects.select_related("org").filter(pk=info.user_id).first()
    if user is None:
        raise CrmApiError("INVALID_TOKEN", "invalid oauth token", status=401)
    wanted = request.headers.get("X-CRM-ORG", "").strip()
    if wanted and wanted not in (str(user.org_id), user.org.zgid):
        # One person (zuid) may be a user of several orgs; X-CRM-ORG (org id or zgid) picks one.
        # UNCONFIRMED: the header is used by Zoho's own SDKs and Deluge; the error for an org the user is not in.
        other = (
            CrmUser.objects.select_related("org")
            .filter(zuid=user.zuid)
            .filter(Q(org__zgid=wanted) | Q(org_id=int(wanted) if wanted.isdigit() else -1))
            .first()
        )
        if other is None:
            raise CrmApiError(
                "AUTHORIZATION_FAILED",
                "User does not have sufficient privilege to access the organization given in X-CRM-ORG",
                details={"header": "X-CRM-ORG"},
            )
        user = other
    return Ctx(user=user, org=fieldcache.org(user.org_id))


class _QueryCounter:
    """Counts the SQL queries of one call (reported by the control API's counters, asserted by tests)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def crm_api(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        label = _label(request, kwargs)
        limits.count_call(label)
        decision = faults.decide(is_write=request.method in WRITE_METHODS)
        if decision.fault == "drop":
            drop_connection(request)
            return no_content(500)
        if decision.fault == "5xx":
            return error_response(CrmApiError("INTERNAL_ERROR", "Internal Server Error", status=500))
        if decision.fault == "429":
            return error_response(CrmApiError("TOO_MANY_REQUESTS", limits.TOO_MANY_MESSAGE, status=429))
        try:
            ctx = authenticate(request)
            if decision.fault == "expired":
                raise CrmApiError("INVALID_TOKEN", "invalid oauth token", status=401)
            limits.acquire(ctx.org)
            try:
                if decision.slow_ms:
                    time.sleep(decision.slow_ms / 1000)
                queries = _QueryCounter()
                with connection.execute_wrapper(queries):
                    response = view(request, ctx, **kwargs)
                limits.count_queries(label, queries.count)
            finally:
                limits.release(ctx.org)
        except CrmApiError as exc:
            response = error_response(exc)
        if decision.drop_after_write and response.status_code < 300:
            drop_connection(request)
        return response

    return wrapper


# ---- parameter helpers ----------------------------------------------------------------------------------------------


def _module(name: str) -> str:
    for module in MODULES:
        if module.lower() == name.lower():
            return module
    raise CrmApiError("INVALID_MODULE", "the module name given seems to be invalid", details={"resource_path_index": 0})


def _int_param(request: HttpRequest, name: str, default: int, *, low: int = 1, high: int | None = None) -> int:
    raw = request.GET.get(name) or ""
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < low or (high is not None and int(raw) > high):
        details: dict[str, Any] = {"param_name": name}
        if high is not None:
            details["maximum"] = high
        raise CrmApiError("INVALID_DATA", "invalid data", details=details)
    return int(raw)


def _body(request: HttpRequest) -> Any:
    """The JSON body whatever the Content-Type (the SDK sends none)."""
    if not request.body:
        return {}
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise CrmApiError(
            "INVALID_DATA", "body is not valid JSON", details={"expected_data_type": "jsonobject"}
        ) from None


def _data_rows(request: HttpRequest) -> list[Any]:
    body = _body(request)
    rows = body.get("data") if isinstance(body, dict) else None
    if rows is None:
        raise CrmApiError(
            "MANDATORY_NOT_FOUND", "required field not found", details={"api_name": "data", "json_path": "$.data"}
        )
    if not isinstance(rows, list) or not rows:
        raise CrmApiError(
            "INVALID_DATA", "invalid data", details={"api_name": "data", "expected_data_type": "jsonarray"}
        )
    if len(rows) > MAX_WRITE:
        raise CrmApiError(
            "LIMIT_EXCEEDED", f"the number of records exceeds the limit of {MAX_WRITE}", details={"limit": MAX_WRITE}
        )
    return rows


def _fields_param(request: HttpRequest, *, required: bool) -> list[str] | None:
    raw = request.GET.get("fields", "")
    names = [n.strip() for n in raw.split(",") if n.strip()]
    if not names:
        if required:
            raise CrmApiError(
                "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", details={"param_name": "fields"}
            )
        return None
    if len(names) > MAX_FIELDS:
        raise CrmApiError(
            "LIMIT_EXCEEDED", "Fields limit exceeded", details={"param_name": "fields", "limit": MAX_FIELDS}
        )
    return names


def _if_modified_since(request: HttpRequest) -> Any:
    raw = request.headers.get("If-Modified-Since", "")
    if not raw:
        return None
    parsed = parse_dt(raw)
    if parsed is None:
        raise CrmApiError("INVALID_DATA", "invalid data", details={"header_name": "If-Modified-Since"})
    return parsed


def _write_status(results: list[record_services.RecordResult], *, created: bool) -> int:
    ok = sum(1 for r in results if r.ok)
    if ok == len(results):
        return 201 if created else 200
    if ok == 0:
        return 400  # UNCONFIRMED (reference §3.3): every record failed
    return 207


def _live(org: Org, module: str) -> Any:
    return Record.objects.filter(org=org, module=module, deleted_time__isnull=True)


# ---- records --------------------------------------------------------------------------------------------------------


@crm_api
def module_records(request: HttpRequest, ctx: Ctx, module: str) -> HttpResponse:
    module = _module(module)
    if request.method == "GET":
        return _list(request, ctx, module)
    if request.method == "POST":
        results = record_services.records_insert(org=ctx.org, module=module, rows=_data_rows(request), actor=ctx.user)
        return json_response({"data": [r.as_json() for r in results]}, _write_status(results, created=True))
    if request.method == "PUT":
        results = record_services.records_update(org=ctx.org, module=module, rows=_data_rows(request), actor=ctx.user)
        return json_response({"data": [r.as_json() for r in results]}, _write_status(results, created=False))
    if request.method == "DELETE":
        ids = [i.strip() for i in request.GET.get("ids", "").split(",") if i.strip()]
        if not ids:
            raise CrmApiError(
                "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", details={"param_name": "ids"}
            )
        if len(ids) > MAX_WRITE:
            raise CrmApiError(
                "LIMIT_EXCEEDED", f"the number of ids exceeds the limit of {MAX_WRITE}", details={"limit": MAX_WRITE}
            )
        results = record_services.records_delete(org=ctx.org, module=module, ids=ids, actor=ctx.user)
        return json_response({"data": [r.as_json() for r in results]}, _write_status(results, created=False))
    raise _bad_method()


def _bad_method() -> CrmApiError:
    return CrmApiError("INVALID_REQUEST_METHOD", "The http request method type is not a valid one", status=400)


def _list(request: HttpRequest, ctx: Ctx, module: str) -> HttpResponse:
    fields = _fields_param(request, required=True)
    per_page = _int_param(request, "per_page", 200, high=200)
    has_page = bool(request.GET.get("page"))
    page_token = request.GET.get("page_token") or None
    if has_page and page_token:
        raise CrmApiError(
            "AMBIGUITY_DURING_PROCESSING",
            "page and page_token cannot be given together",
            details={"ambiguity_due_to": ["page", "page_token"]},
        )
    cvid = request.GET.get("cvid", "")
    if cvid and request.GET.get("sort_by"):
        raise CrmApiError(
            "AMBIGUITY_DURING_PROCESSING",
            "cvid and sort_by cannot be given together",
            details={"ambiguity_due_to": ["cvid", "sort_by"]},
        )
    sort_by = request.GET.get("sort_by") or "id"
    if sort_by not in selectors.SORT_COLUMNS:
        raise CrmApiError(
            "INVALID_DATA",
            "invalid data",
            details={"param_name": "sort_by", "supported_values": list(selectors.SORT_COLUMNS)},
        )
    sort_order = request.GET.get("sort_order") or "desc"
    if sort_order not in ("asc", "desc"):
        raise CrmApiError(
            "INVALID_DATA", "invalid data", details={"param_name": "sort_order", "supported_values": ["asc", "desc"]}
        )
    page = _int_param(request, "page", 1)
    qs = _live(ctx.org, module)
    ims = _if_modified_since(request)
    if ims is not None:
        qs = qs.filter(modified_time__gt=ims)
    ids_param = request.GET.get("ids", "")
    if ids_param:
        ids = [int(i) for i in ids_param.split(",") if i.strip().isdigit()]
        qs = qs.filter(id__in=ids[:100])
    if cvid:
        qs = selectors.apply_view(qs, ctx.org, module, selectors.view_get(ctx.org, module, cvid), ctx.user)
    bound = {"fields": ",".join(fields or []), "per_page": per_page, "sort_by": sort_by, "sort_order": sort_order,
             "cvid": cvid, "ids": ids_param, "ims": request.headers.get("If-Modified-Since", "")}  # fmt: skip
    result = selectors.records_page(
        qs=qs, user=ctx.user, module=module, sort_by=sort_by, sort_order=sort_order, per_page=per_page,
        page=page if has_page else None, page_token=page_token, bound=bound,
    )  # fmt: skip
    if not result.rows:
        return no_content(304 if ims is not None and result.page == 1 else 204)
    data = selectors.render_records(ctx.org, module, result.rows, fields)
    info = {
        "call": False,
        "per_page": per_page,
        "next_page_token": result.next_token,
        "count": len(data),
        "sort_by": sort_by,
        "page": result.page,
        "previous_page_token": None,
        "page_token_expiry": fmt_dt(result.token_expiry, ctx.org.time_zone),
        "sort_order": sort_order,
        "email": False,
        "more_records": result.more,
    }
    return json_response({"data": data, "info": info})


@crm_api
def record_detail(request: HttpRequest, ctx: Ctx, module: str, record_id: str) -> HttpResponse:
    module = _module(module)
    if request.headers.get("X-EXTERNAL"):
        rid = _external_record_id(request, ctx, module, record_id)
        record_id = str(rid)
    elif not record_id.isdigit():
        raise CrmApiError("INVALID_DATA", "the id given seems to be invalid", details={"resource_path_index": 1})
    rid = int(record_id)
    if request.method == "GET":
        fields = _fields_param(request, required=False)
        rows = list(_live(ctx.org, module).filter(id=rid).values_list(*selectors.ROW_FIELDS))
        if not rows:
            return no_content()  # UNCONFIRMED: a missing record answers 204
        return json_response({"data": selectors.render_records(ctx.org, module, rows, fields)})
    if request.method == "PUT":
        rows = _data_rows(request)
        results = record_services.records_update(
            org=ctx.org, module=module, rows=rows[:1], actor=ctx.user, force_id=rid
        )
        return json_response({"data": [r.as_json() for r in results]}, _write_status(results, created=False))
    if request.method == "DELETE":
        results = record_services.records_delete(org=ctx.org, module=module, ids=[record_id], actor=ctx.user)
        return json_response({"data": [r.as_json() for r in results]}, _write_status(results, created=False))
    raise _bad_method()


def _external_record_id(request: HttpRequest, ctx: Ctx, module: str, value: str) -> int:
    """Records APIs using External ID: `X-EXTERNAL: {Module}.{external field}` makes the path's id a value of that
    field. An unknown value resolves to -1 (no record)."""
    header = request.headers.get("X-EXTERNAL", "")
    header_module, _, api_name = header.partition(".")
    spec = fieldcache.fields_of(ctx.org.id, module).get(api_name)
    if header_module.lower() != module.lower() or spec is None or not spec.external:
        raise CrmApiError(
            "INVALID_DATA",
            "the X-EXTERNAL header must name an external field of the module",
            details={"header_name": "X-EXTERNAL"},
        )
    key = value if spec.unique_casesensitive else value.lower()
    found = (
        UniqueValue.objects.filter(org=ctx.org, module=module, api_name=api_name, value=key)
        .values_list("record_id", flat=True)
        .first()
    )
    return found if found is not None else -1


@crm_api
def upsert(request: HttpRequest, ctx: Ctx, module: str) -> HttpResponse:
    module = _module(module)
    if request.method != "POST":
        raise _bad_method()
    rows = _data_rows(request)
    body = _body(request)
    check = body.get("duplicate_check_fields") if isinstance(body, dict) else None
    if check is not None:
        if not isinstance(check, list) or not all(isinstance(c, str) for c in check):
            raise CrmApiError("INVALID_DATA", "invalid data", details={"api_name": "duplicate_check_fields"})
        bad = record_services.duplicate_check_fields_valid(fieldcache.fields_of(ctx.org.id, module), module, check)
        if bad:
            raise CrmApiError(
                "INVALID_DATA",
                "the field given in duplicate_check_fields is neither a system-defined duplicate check field nor a unique field",
                details={"api_name": bad[0], "json_path": "$.duplicate_check_fields"},
            )
    results = record_services.records_upsert(
        org=ctx.org, module=module, rows=rows, actor=ctx.user, duplicate_check_fields=check or None
    )
    status = _write_status(results, created=False)
    if status == 200 and all(r.action == "insert" for r in results):
        status = 201  # UNCONFIRMED (reference §3.3): an upsert that only inserted
    return json_response({"data": [r.as_json() for r in results]}, status)


WORD_RE = re.compile(r"^[\w\s.@'-]{2,}$", re.UNICODE)


@crm_api
def search(request: HttpRequest, ctx: Ctx, module: str) -> HttpResponse:
    module = _module(module)
    if request.method != "GET":
        raise _bad_method()
    kind, value = next(
        ((k, request.GET[k]) for k in ("criteria", "email", "phone", "word") if request.GET.get(k)), (None, "")
    )
    if kind is None:
        raise CrmApiError(
            "EXPECTED_PARAM_MISSING",
            "mandatory param missing",
            details={"expected_params": ["criteria", "email", "phone", "word"]},
        )
    if kind == "word" and not WORD_RE.match(value):
        raise CrmApiError(
            "INVALID_DATA", "please check whether the input values are correct", details={"param_name": "word"}
        )
    per_page = _int_param(request, "per_page", 200, high=200)
    page = _int_param(request, "page", 1)
    if page * per_page > selectors.SEARCH_LIMIT:
        raise CrmApiError(
            "LIMIT_REACHED", "Maximum response iteration limit reached", details={"limit": selectors.SEARCH_LIMIT}
        )
    fields = _fields_param(request, required=False)
    q, aliases = selectors.search_q(ctx.org, module, ctx.user, kind=kind, value=value)
    qs = _live(ctx.org, module).alias(**aliases).filter(q)
    cvid = request.GET.get("cvid", "")
    if cvid:
        qs = selectors.apply_view(qs, ctx.org, module, selectors.view_get(ctx.org, module, cvid), ctx.user)
    offset = (page - 1) * per_page
    rows = selectors.fetch_rows(qs.order_by("-id"), offset, offset + per_page + 1)
    if not rows:
        return no_content()
    more = len(rows) > per_page
    data = selectors.render_records(ctx.org, module, rows[:per_page], fields)
    info: dict[str, Any] = {"per_page": per_page, "count": len(data), "page": page, "more_records": more}
    if kind == "criteria":
        info.update(sort_by="id", sort_order="desc")
    return json_response({"data": data, "info": info})


@crm_api
def count(request: HttpRequest, ctx: Ctx, module: str) -> HttpResponse:
    module = _module(module)
    qs = _live(ctx.org, module)
    kind, value = next(
        ((k, request.GET[k]) for k in ("criteria", "email", "phone", "word") if request.GET.get(k)), (None, "")
    )
    if kind is not None:
        q, aliases = selectors.search_q(ctx.org, module, ctx.user, kind=kind, value=value)
        qs = qs.alias(**aliases).filter(q)
    cvid = request.GET.get("cvid", "")
    if cvid:
        qs = selectors.apply_view(qs, ctx.org, module, selectors.view_get(ctx.org, module, cvid), ctx.user)
    return json_response({"count": qs.count()})


@crm_api
def deleted(request: HttpRequest, ctx: Ctx, module: str) -> HttpResponse:
    module = _module(module)
    kind = request.GET.get("type", "all")
    if kind not in ("all", "recycle", "permanent"):
        raise CrmApiError(
            "INVALID_DATA",
            "invalid data",
            details={"param_name": "type", "supported_values": ["all", "recycle", "permanent"]},
        )
    per_page = _int_param(request, "per_page", 200, high=200)
    page = _int_param(request, "page", 1)
    if kind == "permanent":
        return no_content()  # the sandbox keeps deleted records in the recycle bin
    qs = Record.objects.filter(org=ctx.org, module=module, deleted_time__isnull=False)
    ims = _if_modified_since(request)
    if ims is not None:
        qs = qs.filter(deleted_time__gt=ims)
    offset = (page - 1) * per_page
    rows = list(
        qs.order_by("-deleted_time", "-id").values_list("id", "data", "deleted_time", "deleted_by_id", "created_by_id")[
            offset : offset + per_page + 1
        ]
    )
    if not rows:
        return no_content(304 if ims is not None else 204)
    users = fieldcache.users_of(ctx.org.id)
    name_field = MODULES[module].name_field

    def who(uid: int | None) -> dict[str, Any] | None:
        u = users.get(uid or 0)
        return {"name": u["name"], "id": u["id"]} if u else None

    data = [
        {
            "deleted_by": who(deleted_by),
            "id": str(rid),
            "display_name": record_data.get(name_field),
            "type": "recycle",
            "created_by": who(created_by),
            "deleted_time": fmt_dt(deleted_time, ctx.org.time_zone),
        }
        for rid, record_data, deleted_time, deleted_by, created_by in rows[:per_page]
    ]
    return json_response(
        {
            "data": data,
            "info": {"per_page": per_page, "count": len(data), "page": page, "more_records": len(rows) > per_page},
        }
    )


# ---- metadata ------------------------------------------------------------------------------------------------------


def _module_param(request: HttpRequest) -> str:
    name = request.GET.get("module", "")
    if not name:
        raise CrmApiError(
            "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", details={"param_name": "module"}
        )
    return _module(name)


@crm_api
def fields(request: HttpRequest, ctx: Ctx, field_id: str = "") -> HttpResponse:
    module = _module_param(request)
    if request.method == "POST" and not field_id:
        body = _body(request)
        items = body.get("fields") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise CrmApiError(
                "MANDATORY_NOT_FOUND",
                "required field not found",
                details={"api_name": "fields", "json_path": "$.fields"},
            )
        results = [field_create(org=ctx.org, module=module, spec=item, index=i) for i, item in enumerate(items)]
        ok = sum(1 for r in results if r["status"] == "success")
        return json_response({"fields": results}, 201 if ok == len(results) else 207 if ok else 400)
    if request.method != "GET":
        raise _bad_method()
    defs = [
        f
        for f in fieldcache.fields_of(ctx.org.id, module).values()
        if ctx.org.mc_status or f.api_name not in ("Currency", "Exchange_Rate")
    ]
    if field_id:
        match = [f for f in defs if str(f.id) == field_id]
        if not match:
            raise CrmApiError("INVALID_DATA", "the id given seems to be invalid", details={"resource_path_index": 2})
        defs = match
    return json_response({"fields": [metadata.field_json(ctx.org, f) for f in defs]})


@crm_api
def modules(request: HttpRequest, ctx: Ctx, api_name: str = "") -> HttpResponse:
    items = [metadata.module_json(m) for m in MODULES]
    if api_name:
        items = [m for m in items if m["api_name"].lower() == api_name.lower()]
        if not items:
            raise CrmApiError(
                "INVALID_MODULE", "the module name given seems to be invalid", details={"resource_path_index": 2}
            )
    return json_response({"modules": items})


@crm_api
def custom_views(request: HttpRequest, ctx: Ctx, view_id: str = "") -> HttpResponse:
    module = _module_param(request)
    if view_id:
        view = selectors.view_get(ctx.org, module, view_id)
        return json_response({"custom_views": [metadata.view_json(ctx.org, view, detail=True)]})
    views = list(ctx.org.views.filter(module=module).order_by("id"))
    default = next((v for v in views if v.is_default), views[0] if views else None)
    return json_response(
        {
            "custom_views": [metadata.view_json(ctx.org, v, detail=False) for v in views],
            "info": {
                "per_page": len(views),
                "default": str(default.id) if default else None,
                "count": len(views),
                "page": 1,
                "more_records": False,
                "translation": {
                    "public_views": "Public Views",
                    "other_users_views": "Other Users' Views",
                    "shared_with_me": "Shared With Me",
                    "created_by_me": "Created By Me",
                },
            },
        }
    )


@crm_api
def layouts(request: HttpRequest, ctx: Ctx, layout_id: str = "") -> HttpResponse:
    module = _module_param(request)
    layout = metadata.layout_json(ctx.org, module)
    if layout_id and layout_id != layout["id"]:
        raise CrmApiError("INVALID_DATA", "the id given seems to be invalid", details={"resource_path_index": 2})
    return json_response({"layouts": [layout]})


@crm_api
def pipeline(request: HttpRequest, ctx: Ctx) -> HttpResponse:
    layout_id = request.GET.get("layout_id", "")
    if not layout_id:
        raise CrmApiError(
            "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", details={"param_name": "layout_id"}
        )
    if layout_id != str(metadata.layout_id(ctx.org, "Deals")):
        raise CrmApiError("INVALID_DATA", "the id given seems to be invalid", details={"param_name": "layout_id"})
    return json_response({"pipeline": [metadata.pipeline_json(ctx.org)]})


@crm_api
def roles(request: HttpRequest, ctx: Ctx, role_id: str = "") -> HttpResponse:
    items = list(ctx.org.roles.select_related("reporting_to").order_by("id"))
    if role_id:
        items = [r for r in items if str(r.id) == role_id]
        if not items:
            raise CrmApiError("INVALID_DATA", "the id given seems to be invalid", details={"resource_path_index": 2})
    return json_response({"roles": [metadata.role_json(ctx.org, r) for r in items]})


USER_TYPES = {
    "AllUsers": Q(),
    "ActiveUsers": Q(status="active"),
    "DeactiveUsers": Q(status="disabled"),
    "ConfirmedUsers": Q(),
    "NotConfirmedUsers": Q(pk__isnull=True),
    "DeletedUsers": Q(pk__isnull=True),
    "ActiveConfirmedUsers": Q(status="active"),
    "AdminUsers": Q(is_admin=True),
    "ActiveConfirmedAdmins": Q(is_admin=True, status="active"),
}


@crm_api
def users(request: HttpRequest, ctx: Ctx, user_id: str = "") -> HttpResponse:
    qs = ctx.org.users.select_related("role").order_by("id")
    if user_id:
        qs = qs.filter(id=int(user_id) if user_id.isdigit() else -1)
        if not qs.exists():
            raise CrmApiError("INVALID_DATA", "the id given seems to be invalid", details={"resource_path_index": 1})
        return json_response({"users": [metadata.user_json(ctx.org, u) for u in qs]})
    kind = request.GET.get("type", "AllUsers")
    if kind == "CurrentUser":
        qs = qs.filter(pk=ctx.user.pk)
    elif kind in USER_TYPES:
        qs = qs.filter(USER_TYPES[kind])
    else:
        raise CrmApiError(
            "INVALID_DATA",
            "invalid data",
            details={"param_name": "type", "supported_values": [*USER_TYPES, "CurrentUser"]},
        )
    per_page = _int_param(request, "per_page", 200, high=200)
    page = _int_param(request, "page", 1)
    items = list(qs[(page - 1) * per_page : page * per_page + 1])
    if not items:
        return no_content()
    return json_response(
        {
            "users": [metadata.user_json(ctx.org, u) for u in items[:per_page]],
            "info": {
                "per_page": per_page,
                "count": min(len(items), per_page),
                "page": page,
                "more_records": len(items) > per_page,
            },
        }
    )


@crm_api
def org(request: HttpRequest, ctx: Ctx) -> HttpResponse:
    return json_response({"org": [metadata.org_json(ctx.org)]})


@crm_api
def currencies(request: HttpRequest, ctx: Ctx, currency_id: str = "") -> HttpResponse:
    items = list(ctx.org.currencies.all())
    if currency_id:
        items = [c for c in items if str(c.id) == currency_id]
        if not items:
            raise CrmApiError("INVALID_DATA", "the id given seems to be invalid", details={"resource_path_index": 2})
    return json_response({"currencies": [metadata.currency_json(ctx.org, c) for c in items]})


# ---- notifications ---------------------------------------------------------------------------------------------------


@crm_api
def watch(request: HttpRequest, ctx: Ctx) -> HttpResponse:
    if request.method == "GET":
        qs = WatchChannel.objects.filter(org=ctx.org)
        if request.GET.get("channel_id", "").isdigit():
            qs = qs.filter(channel_id=int(request.GET["channel_id"]))
        module_name = request.GET.get("module")
        channels = [c for c in qs if not module_name or any(e.startswith(f"{module_name}.") for e in c.events)]
        if not channels:
            return no_content()
        return json_response(
            {
                "watch": [notifications.watch_json(c, ctx.org) for c in channels],
                "info": {"per_page": 200, "count": len(channels), "page": 1, "more_records": False},
            }
        )
    if request.method == "DELETE":
        ids = [i.strip() for i in request.GET.get("channel_ids", "").split(",") if i.strip()]
        if not ids:
            raise CrmApiError(
                "REQUIRED_PARAM_MISSING",
                "One of the expected parameter is missing",
                details={"param_name": "channel_ids"},
            )
        results = notifications.watch_disable(org=ctx.org, channel_ids=ids)
    elif request.method == "POST":
        results = notifications.watch_enable(
            org=ctx.org, items=notifications.ensure_watch_body(_body(request)), actor=ctx.user
        )
    elif request.method in ("PUT", "PATCH"):
        results = notifications.watch_update(
            org=ctx.org, items=notifications.ensure_watch_body(_body(request)), replace=request.method == "PUT"
        )
    else:
        raise _bad_method()
    ok = sum(1 for r in results if r["status"] == "success")
    status = (201 if request.method == "POST" else 200) if ok == len(results) else 207 if ok else 400
    return json_response({"watch": results}, status)


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    limits.count_call(f"{request.method} /crm/v8/<unknown>")
    return error_response(
        CrmApiError("INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one", status=404)
    )

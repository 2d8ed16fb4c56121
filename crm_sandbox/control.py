"""The test-control JSON API under `/sandbox/api/`, guarded by the header `X-Sandbox-Admin-Key` (env
CRM_SANDBOX_ADMIN_KEY, default "sandbox-admin"). Faults never apply here.

  POST /sandbox/api/reset           {"accounts":N,"contacts":N,"vendors":N,"products":N,"deals":N}
  GET  /sandbox/api/org             the default org (or ?org_id=)
  POST /sandbox/api/org             {"company_name","edition","currency","mc_status","api_credits","concurrency",
                                     "time_zone"} (+ "org_id" for another org)
  GET  /sandbox/api/orgs            every org
  POST /sandbox/api/orgs            {"company_name","edition","currency","mc_status"}: a second org, whose admin is
                                     the same person as the default org's (pick it with X-CRM-ORG)
  GET  /sandbox/api/faults          POST /sandbox/api/faults {"5xx","429","slow","drop","expired","after_write",
                                     "slow_ms","seed"} (replaces; rates 0–1)
  GET  /sandbox/api/counters        POST /sandbox/api/counters/reset
  GET  /sandbox/api/deliveries      ?status=&channel_id=
  POST /sandbox/api/tokens/expire   every live access token expires now
  GET  /sandbox/api/credentials     the contract JSON for this server
"""

from __future__ import annotations

import functools
import hmac
import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from crm_sandbox import metadata
from crm_sandbox.common import admin_key, fmt_dt
from crm_sandbox.models import Delivery, Org
from crm_sandbox.services import faults, limits, oauth, orgs

SEED_KEYS = ("accounts", "contacts", "vendors", "products", "deals")
MAX_RESET = 200_000


def _json(body: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(body, default=str), status=status, content_type="application/json;charset=UTF-8")


def _error(message: str, status: int = 400, field: str | None = None) -> HttpResponse:
    body: dict[str, Any] = {"status": "error", "message": message}
    if field:
        body["field"] = field
    return _json(body, status)


class BadInput(Exception):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def guarded(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        given = request.headers.get("X-Sandbox-Admin-Key", "")
        if not hmac.compare_digest(given.encode(), admin_key().encode()):
            return _error("X-Sandbox-Admin-Key header missing or wrong", 401, "X-Sandbox-Admin-Key")
        try:
            return view(request, **kwargs)
        except BadInput as exc:
            return _error(exc.message, 400, exc.field)

    return wrapper


def _body(request: HttpRequest) -> dict[str, Any]:
    if not request.body:
        return {}
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise BadInput("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise BadInput("the body must be a JSON object")
    return body


def _counts(body: dict[str, Any]) -> orgs.SeedCounts:
    unknown = set(body) - set(SEED_KEYS)
    if unknown:
        raise BadInput(f"unknown key(s) {sorted(unknown)}; known: {list(SEED_KEYS)}", sorted(unknown)[0])
    values = {}
    for key in SEED_KEYS:
        if key in body:
            value = body[key]
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_RESET:
                raise BadInput(f"{key} must be a whole number between 0 and {MAX_RESET}", key)
            values[key] = value
    return orgs.SeedCounts(**values)


def _method(request: HttpRequest, *allowed: str) -> None:
    if request.method not in allowed:
        raise BadInput(f"use {' or '.join(allowed)}", "method")


@guarded
def reset(request: HttpRequest) -> HttpResponse:
    _method(request, "POST")
    counts = _counts(_body(request))
    org = orgs.sandbox_reset(counts=counts)
    faults.faults_set(values={})
    limits.reset()
    oauth.forget_cached()
    return _json({"status": "success", "org_id": str(org.id), "counts": counts.as_dict()})


def _org_for(request: HttpRequest, body: dict[str, Any]) -> Org:
    raw = str(body.pop("org_id", "") or request.GET.get("org_id", ""))
    if raw:
        org = Org.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
        if org is None:
            raise BadInput(f"no org with id {raw!r}", "org_id")
        return org
    org = orgs.default_org()
    if org is None:
        raise BadInput("the sandbox has no org yet: run `crm_sandbox seed` or POST /sandbox/api/reset", "org_id")
    return org


def _org_out(org: Org) -> dict[str, Any]:
    return {
        **metadata.org_json(org),
        "edition": org.edition,
        "is_default": org.is_default,
        "api_credits": limits.credits_allowed(org),
        "concurrency": limits.concurrency_allowed(org),
    }


@guarded
def org(request: HttpRequest) -> HttpResponse:
    _method(request, "GET", "POST")
    body = _body(request) if request.method == "POST" else {}
    target = _org_for(request, body)
    if request.method == "POST":
        try:
            target = orgs.org_update(org=target, values=body)
        except ValueError as exc:
            raise BadInput(str(exc), next(iter(body), None)) from None
    return _json({"org": _org_out(target)})


@guarded
def org_list(request: HttpRequest) -> HttpResponse:
    _method(request, "GET", "POST")
    if request.method == "GET":
        return _json({"orgs": [_org_out(o) for o in Org.objects.order_by("id")]})
    body = _body(request)
    default = orgs.default_org()
    if default is None:
        raise BadInput("seed the sandbox before adding a second org", "org_id")
    name = str(body.pop("company_name", "") or "").strip() or "Second Org"
    settings = {
        k: body.pop(k) for k in list(body) if k in ("edition", "currency", "mc_status", "api_credits", "concurrency")
    }
    if body:
        raise BadInput(f"unknown key(s) {sorted(body)}", sorted(body)[0])
    new = orgs.org_second_create(company_name=name)
    if settings:
        try:
            new = orgs.org_update(org=new, values=settings)
        except ValueError as exc:
            new.delete()
            raise BadInput(str(exc)) from None
    return _json({"org": _org_out(new)}, 201)


@guarded
def faults_view(request: HttpRequest) -> HttpResponse:
    _method(request, "GET", "POST")
    if request.method == "POST":
        try:
            faults.faults_set(values=_body(request))
        except faults.FaultSpecError as exc:
            raise BadInput(str(exc), "faults") from None
    return _json({"faults": faults.as_dict()})


@guarded
def counters(request: HttpRequest) -> HttpResponse:
    _method(request, "GET")
    return _json(limits.snapshot())


@guarded
def counters_reset(request: HttpRequest) -> HttpResponse:
    _method(request, "POST")
    limits.reset()
    return _json(limits.snapshot())


@guarded
def deliveries(request: HttpRequest) -> HttpResponse:
    _method(request, "GET")
    qs = Delivery.objects.order_by("id")
    if request.GET.get("status"):
        qs = qs.filter(status=request.GET["status"])
    if request.GET.get("channel_id", "").isdigit():
        qs = qs.filter(channel_id=int(request.GET["channel_id"]))
    return _json(
        {
            "deliveries": [
                {
                    "id": d.id,
                    "channel_id": str(d.channel_id),
                    "notify_url": d.notify_url,
                    "status": d.status,
                    "attempts": d.attempts,
                    "last_status_code": d.last_status_code,
                    "last_error": d.last_error,
                    "payload": d.payload,
                    "created_time": fmt_dt(d.created_time),
                    "delivered_time": fmt_dt(d.delivered_time),
                }
                for d in qs[:1000]
            ]
        }
    )


@guarded
def tokens_expire(request: HttpRequest) -> HttpResponse:
    _method(request, "POST")
    return _json({"expired": oauth.access_tokens_expire()})


@guarded
def credentials(request: HttpRequest) -> HttpResponse:
    _method(request, "GET")
    from crm_sandbox.services.credentials import credentials_json

    return _json(credentials_json())

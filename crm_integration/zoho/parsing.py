"""Zoho JSON → the typed results of crm_integration.client. Pure functions; records themselves stay plain dicts.

Where Zoho's key sets differ between versions or are UNCONFIRMED (reference §16), the readers take the first key
present and fall back to a neutral default instead of failing on a missing key."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from crm_integration.client import (
    CrmRole,
    CrmUser,
    Currency,
    CustomView,
    FieldMeta,
    Layout,
    OrgInfo,
    Pipeline,
    RecordResult,
    Stage,
    WatchChannel,
    WatchResult,
)


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _id(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("id")
    return None if value in (None, "") else str(value)


def parse_datetime(value: Any) -> datetime.datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=datetime.UTC)


def record_results(items: Sequence[Any], *, count: int, offset: int = 0) -> list[RecordResult]:
    """One RecordResult per input record, in input order. Zoho answers `data[i]` for input `i`; should it answer
    fewer entries, the missing ones are failures rather than silently dropped."""
    results: list[RecordResult] = []
    for i in range(count):
        item = items[i] if i < len(items) and isinstance(items[i], Mapping) else None
        if item is None:
            results.append(RecordResult(index=offset + i, ok=False, code="NO_RESULT", message="Zoho gave no result"))
            continue
        details = item.get("details") or {}
        ok = item.get("status") == "success"
        results.append(
            RecordResult(
                index=offset + i,
                ok=ok,
                code=_s(item.get("code")),
                message=_s(item.get("message")),
                id=_id(details.get("id")) if ok and isinstance(details, Mapping) else None,
                action=item.get("action"),
                details=dict(details) if isinstance(details, Mapping) else {"value": details},
                modified_time=details.get("Modified_Time") if isinstance(details, Mapping) else None,
            )
        )
    return results


def field_meta(item: Mapping[str, Any]) -> FieldMeta:
    lookup = item.get("lookup") or {}
    module = lookup.get("module") if isinstance(lookup, Mapping) else None
    lookup_module = None
    if isinstance(module, Mapping):
        lookup_module = module.get("api_name")
    elif isinstance(module, str):
        lookup_module = module
    picklist = item.get("pick_list_values") or []
    unique = item.get("unique")
    return FieldMeta(
        api_name=_s(item.get("api_name")),
        label=_s(item.get("field_label") or item.get("display_label") or item.get("api_name")),
        data_type=_s(item.get("data_type")),
        json_type=_s(item.get("json_type") or "string"),
        custom_field=bool(item.get("custom_field")),
        read_only=bool(item.get("read_only") or item.get("field_read_only")),
        mandatory=bool(item.get("system_mandatory") or item.get("mandatory")),
        length=item.get("length") if isinstance(item.get("length"), int) else None,
        picklist_values=tuple(
            _s(p.get("actual_value") or p.get("display_value")) for p in picklist if isinstance(p, Mapping)
        ),
        lookup_module=lookup_module,
        id=_s(item.get("id")),
        # `unique` is `{}` for ordinary fields and e.g. `{"casesensitive": "false"}` for unique ones.
        unique=bool(unique) if isinstance(unique, Mapping) else unique is True,
    )


def custom_view(item: Mapping[str, Any]) -> CustomView:
    return CustomView(
        id=_s(item.get("id")),
        name=_s(item.get("name")),
        display_value=_s(item.get("display_value") or item.get("name")),
        system_defined=bool(item.get("system_defined")),
        system_name=item.get("system_name"),
        category=_s(item.get("category") or "public_views"),
        is_default=bool(item.get("default")),
        criteria=item.get("criteria") or None,
    )


def layout(item: Mapping[str, Any]) -> Layout:
    return Layout(
        id=_s(item.get("id")),
        name=_s(item.get("name")),
        display_label=_s(item.get("display_label") or item.get("name")),
        status=_s(item.get("status") or "active"),
    )


def edition(license_details: Any) -> str:
    """`paid_type`, or `trial_type` during a trial, lower-cased (as Airbyte's connector derives it); an org with
    neither is on the free edition."""
    if not isinstance(license_details, Mapping):
        return "free"
    value = license_details.get("paid_type") or license_details.get("trial_type") or "free"
    return str(value).strip().lower()


def org_info(item: Mapping[str, Any]) -> OrgInfo:
    return OrgInfo(
        id=_s(item.get("id")),
        company_name=_s(item.get("company_name")),
        primary_email=_s(item.get("primary_email")),
        country_code=_s(item.get("country_code")),
        currency_iso=_s(item.get("iso_code") or item.get("currency_locale")),
        edition=edition(item.get("license_details")),
        mc_status=bool(item.get("mc_status")),
        zgid=_s(item.get("zgid")),
        time_zone=_s(item.get("time_zone")),
    )


def currency(item: Mapping[str, Any]) -> Currency:
    return Currency(
        id=_s(item.get("id")),
        iso_code=_s(item.get("iso_code")),
        name=_s(item.get("name")),
        is_base=bool(item.get("is_base")),
        exchange_rate=_s(item.get("exchange_rate") or "1"),
    )


def user(item: Mapping[str, Any]) -> CrmUser:
    role = _mapping(item.get("role"))
    profile = _mapping(item.get("profile"))
    full_name = item.get("full_name") or " ".join(
        p for p in (_s(item.get("first_name")), _s(item.get("last_name"))) if p
    )
    return CrmUser(
        id=_s(item.get("id")),
        full_name=_s(full_name),
        email=_s(item.get("email")),
        status=_s(item.get("status")),
        role_id=_s(role.get("id")),
        role_name=_s(role.get("name")),
        profile_name=_s(profile.get("name")),
    )


def role(item: Mapping[str, Any]) -> CrmRole:
    return CrmRole(
        id=_s(item.get("id")),
        name=_s(item.get("name") or item.get("display_label")),
        reporting_to_id=_id(item.get("reporting_to")),
    )


def pipeline(item: Mapping[str, Any], probabilities: Mapping[str, int | None]) -> Pipeline:
    stages = []
    for m in item.get("maps") or []:
        if not isinstance(m, Mapping):
            continue
        name = _s(m.get("actual_value") or m.get("display_value"))
        probability = m.get("probability")
        if not isinstance(probability, int):
            probability = probabilities.get(name)
        stages.append(
            Stage(
                name=name,
                probability=probability,
                forecast_type=_s(m.get("forecast_type") or "Open"),
                sequence=int(m.get("sequence_number") or 0),
            )
        )
    stages.sort(key=lambda s: s.sequence)
    return Pipeline(
        id=_s(item.get("id")),
        name=_s(item.get("actual_value") or item.get("display_value")),
        is_default=bool(item.get("default")),
        stages=tuple(stages),
    )


def stage_probabilities(fields: Sequence[Mapping[str, Any]]) -> dict[str, int | None]:
    """Stage → probability from the Deals `Stage` field's picklist (where Zoho keeps the mapping)."""
    for f in fields:
        if f.get("api_name") == "Stage":
            out: dict[str, int | None] = {}
            for p in f.get("pick_list_values") or []:
                value = p.get("probability")
                out[_s(p.get("actual_value") or p.get("display_value"))] = value if isinstance(value, int) else None
            return out
    return {}


def watch_channels(items: Sequence[Any]) -> list[WatchChannel]:
    """Zoho lists a channel once per module it watches; merged here into one channel with all its events."""
    merged: dict[str, dict[str, Any]] = {}
    for item in items:
        if not isinstance(item, Mapping):
            continue
        channel_id = _s(item.get("channel_id"))
        entry = merged.setdefault(
            channel_id,
            {
                "events": [],
                "notify_url": _s(item.get("notify_url")),
                "token": _s(item.get("token")),
                "channel_expiry": parse_datetime(item.get("channel_expiry")),
            },
        )
        for event in item.get("events") or []:
            if event not in entry["events"]:
                entry["events"].append(event)
    return [
        WatchChannel(
            channel_id=cid,
            events=tuple(e["events"]),
            notify_url=e["notify_url"],
            token=e["token"],
            channel_expiry=e["channel_expiry"],
        )
        for cid, e in merged.items()
    ]


def watch_results(items: Sequence[Any], channel_ids: Sequence[str]) -> list[WatchResult]:
    results = []
    for i, channel_id in enumerate(channel_ids):
        item = items[i] if i < len(items) and isinstance(items[i], Mapping) else {}
        details = _mapping(item.get("details"))
        events = details.get("events")
        if not isinstance(events, list):
            events = []
        expiry = None
        for event in events:
            if isinstance(event, Mapping) and event.get("channel_expiry"):
                expiry = parse_datetime(event.get("channel_expiry"))
                break
        results.append(
            WatchResult(
                channel_id=channel_id,
                ok=item.get("status") == "success",
                code=_s(item.get("code") or "NO_RESULT"),
                message=_s(item.get("message") or "Zoho gave no result"),
                channel_expiry=expiry,
            )
        )
    return results

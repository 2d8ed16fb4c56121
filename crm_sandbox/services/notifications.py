"""Notification channels (`actions/watch`) and the outbox.

A record write calls `notifications_enqueue` inside its transaction: one `Delivery` per matching channel goes
into the outbox with the write, and the deliverer thread (crm_sandbox/deliverer.py) is woken after commit. The
API call that caused it never waits for the receiver.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from collections.abc import Sequence
from typing import Any

from django.db import transaction

from crm_sandbox.common import CrmApiError, fmt_dt, now, parse_dt, public_base_url
from crm_sandbox.models import CrmUser, Delivery, Org, Record, WatchChannel
from crm_sandbox.schema import MODULES, notify_operations

DEFAULT_EXPIRY = dt.timedelta(hours=1)
MAX_EXPIRY = dt.timedelta(days=7)
EVENT_ACTIONS = ("create", "edit", "delete", "all")


def _selected_fields(channel: WatchChannel, module: str) -> set[str] | None:
    """The fields a `field_selection` condition watches for this module, or None for every field."""
    selected: set[str] = set()
    found = False
    for cond in channel.notification_condition or []:
        if not isinstance(cond, dict) or cond.get("type") != "field_selection":
            continue
        if (cond.get("module") or {}).get("api_name") not in (None, module):
            continue
        found = True
        stack = [cond.get("field_selection") or {}]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                if "field" in node and isinstance(node["field"], dict):
                    selected.add(str(node["field"].get("api_name")))
                stack.extend(node.get("group") or [])
    return selected if found else None


def notifications_enqueue(*, org: Org, module: str, event: str, changes: dict[int, set[str]]) -> int:
    """Put the notifications for a write of `changes` (record id → changed fields) into the outbox."""
    stamp = now()
    channels = [
        c
        for c in WatchChannel.objects.filter(org=org, channel_expiry__gt=stamp)
        if f"{module}.{event}" in c.events or f"{module}.all" in c.events
    ]
    if not channels:
        return 0
    operation = notify_operations()[event]
    deliveries = []
    base = public_base_url()
    for channel in channels:
        selected = _selected_fields(channel, module)
        ids = [rid for rid, fields in changes.items() if event != "edit" or selected is None or fields & selected]
        if not ids:
            continue
        affected: list[Any] = []
        if event == "edit":
            # UNCONFIRMED shape (reference §10.2): [{"<record id>": ["Stage", "Amount"]}].
            affected = [{str(rid): sorted(changes[rid])} for rid in ids]
        query = urllib.parse.urlsplit(channel.notify_url).query
        payload = {
            "server_time": int(stamp.timestamp() * 1000),
            "query_params": dict(urllib.parse.parse_qsl(query)),
            "module": module,
            "resource_uri": f"{base}/crm/v2/{module}",
            "ids": [str(i) for i in ids],
            "affected_fields": affected,
            "operation": operation,
            "channel_id": str(channel.channel_id),
            "token": channel.token or None,
        }
        if channel.return_affected_field_values and event == "edit":
            values = dict(Record.objects.filter(id__in=ids).values_list("id", "data"))
            payload["affected_values"] = [
                {"id": str(rid), **{k: values.get(rid, {}).get(k) for k in sorted(changes[rid])}} for rid in ids
            ]
        deliveries.append(
            Delivery(
                org=org,
                channel_id=channel.channel_id,
                notify_url=channel.notify_url,
                payload=payload,
                next_attempt_at=stamp,
            )
        )
    Delivery.objects.bulk_create(deliveries)
    if deliveries:
        from crm_sandbox import deliverer

        transaction.on_commit(deliverer.wake)
    return len(deliveries)


# ---- actions/watch ---------------------------------------------------------------------------------------------


def _item_error(code: str, message: str, details: dict[str, Any]) -> dict[str, Any]:
    return {"code": code, "details": details, "message": message, "status": "error"}


def _parse_channel(item: Any, index: int, *, partial: bool) -> dict[str, Any] | dict[str, Any]:
    """Validate one `watch[]` item. Returns cleaned values, or {"error": item-level error}."""
    if not isinstance(item, dict):
        return {"error": _item_error("INVALID_DATA", "invalid data", {"json_path": f"$.watch[{index}]"})}
    out: dict[str, Any] = {}
    raw_id = item.get("channel_id")
    if raw_id in (None, ""):
        return {
            "error": _item_error(
                "MANDATORY_NOT_FOUND",
                "required field not found",
                {"api_name": "channel_id", "json_path": f"$.watch[{index}].channel_id"},
            )
        }
    if not str(raw_id).isdigit():
        return {
            "error": _item_error(
                "INVALID_DATA", "invalid data", {"api_name": "channel_id", "expected_data_type": "long"}
            )
        }
    out["channel_id"] = int(str(raw_id))
    if "events" in item or not partial:
        events = item.get("events")
        if not isinstance(events, list) or not events:
            return {
                "error": _item_error(
                    "MANDATORY_NOT_FOUND",
                    "required field not found",
                    {"api_name": "events", "json_path": f"$.watch[{index}].events"},
                )
            }
        for event in events:
            mod, _, action = str(event).partition(".")
            if mod not in MODULES or action not in EVENT_ACTIONS:
                return {"error": _item_error("INVALID_DATA", "invalid data", {"api_name": "events", "value": event})}
        out["events"] = [str(e) for e in events]
    if "notify_url" in item or not partial:
        url = item.get("notify_url")
        parts = urllib.parse.urlsplit(str(url or ""))
        if not url:
            return {
                "error": _item_error(
                    "MANDATORY_NOT_FOUND",
                    "required field not found",
                    {"api_name": "notify_url", "json_path": f"$.watch[{index}].notify_url"},
                )
            }
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return {"error": _item_error("INVALID_DATA", "invalid data", {"api_name": "notify_url"})}
        out["notify_url"] = str(url)
    if "token" in item:
        token = item.get("token") or ""
        if len(str(token)) > 50:
            return {"error": _item_error("INVALID_DATA", "invalid data", {"api_name": "token", "maximum_length": 50})}
        out["token"] = str(token)
    if "channel_expiry" in item or not partial:
        raw_expiry = item.get("channel_expiry")
        stamp = now()
        if raw_expiry in (None, ""):
            expiry = stamp + DEFAULT_EXPIRY
        else:
            parsed = parse_dt(str(raw_expiry))
            if parsed is None or parsed <= stamp or parsed > stamp + MAX_EXPIRY:
                return {"error": _item_error("INVALID_DATA", "invalid data", {"api_name": "channel_expiry"})}
            expiry = parsed
        out["channel_expiry"] = expiry
    if "notification_condition" in item:
        cond = item.get("notification_condition") or []
        if not isinstance(cond, list):
            return {"error": _item_error("INVALID_DATA", "invalid data", {"api_name": "notification_condition"})}
        out["notification_condition"] = cond
    for flag in ("return_affected_field_values", "notify_on_related_action"):
        if flag in item:
            out[flag] = bool(item[flag])
    return out


def _events_detail(channel: WatchChannel, org: Org) -> dict[str, Any]:
    base = public_base_url()
    from crm_sandbox.services.records import module_id

    return {
        "events": [
            {
                "channel_expiry": fmt_dt(channel.channel_expiry, org.time_zone),
                "resource_uri": f"{base}/crm/v8/{event.split('.')[0]}",
                "resource_id": str(module_id(event.split(".")[0])),
                "resource_name": event.split(".")[0],
                "channel_id": str(channel.channel_id),
            }
            for event in channel.events
        ]
    }


def watch_enable(*, org: Org, items: Sequence[Any], actor: CrmUser) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        values = _parse_channel(item, index, partial=False)
        if "error" in values:
            results.append(values["error"])
            continue
        channel, _ = WatchChannel.objects.update_or_create(
            org=org,
            channel_id=values["channel_id"],
            defaults={**values, "created_by": actor},
        )
        results.append(
            {
                "code": "SUCCESS",
                "details": _events_detail(channel, org),
                "message": "Successfully subscribed for actions-watch of the given module",
                "status": "success",
            }
        )
    return results


def watch_update(*, org: Org, items: Sequence[Any], replace: bool) -> list[dict[str, Any]]:
    """PUT replaces a channel's config; PATCH merges (and `_delete_events: true` removes the listed events)."""
    results: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        values = _parse_channel(item, index, partial=not replace)
        if "error" in values:
            results.append(values["error"])
            continue
        channel = WatchChannel.objects.filter(org=org, channel_id=values["channel_id"]).first()
        if channel is None:
            results.append(
                _item_error(
                    "NOT_SUBSCRIBED",
                    "Not subscribed for actions-watch of the given module",
                    {"channel_id": str(values["channel_id"])},
                )
            )
            continue
        if not replace and isinstance(item, dict) and item.get("_delete_events"):
            removed = set(values.get("events", []))
            channel.events = [e for e in channel.events if e not in removed]
            if not channel.events:
                channel.delete()
                results.append(
                    {
                        "code": "SUCCESS",
                        "details": {},
                        "message": "Successfully removed the subscribe details",
                        "status": "success",
                    }
                )
                continue
            channel.save()
            results.append(
                {
                    "code": "SUCCESS",
                    "details": _events_detail(channel, org),
                    "message": "Successfully removed the subscribe details",
                    "status": "success",
                }
            )
            continue
        if not replace and "events" in values:
            values["events"] = sorted(set(channel.events) | set(values["events"]))
        for key, value in values.items():
            setattr(channel, key, value)
        channel.save()
        results.append(
            {
                "code": "SUCCESS",
                "details": _events_detail(channel, org),
                "message": "Successfully updated the subscribe details",
                "status": "success",
            }
        )
    return results


def watch_disable(*, org: Org, channel_ids: Sequence[str]) -> list[dict[str, Any]]:
    results = []
    for raw in channel_ids:
        if not raw.isdigit():
            results.append(_item_error("INVALID_DATA", "invalid data", {"channel_id": raw}))
            continue
        deleted, _ = WatchChannel.objects.filter(org=org, channel_id=int(raw)).delete()
        if deleted:
            results.append(
                {
                    "code": "SUCCESS",
                    "details": {"channel_id": raw},
                    "message": "Successfully un-subscribed from actions-watch",
                    "status": "success",
                }
            )
        else:
            results.append(
                _item_error(
                    "NOT_SUBSCRIBED", "Not subscribed for actions-watch of the given module", {"channel_id": raw}
                )
            )
    return results


def watch_json(channel: WatchChannel, org: Org) -> dict[str, Any]:
    return {
        "notify_on_related_action": channel.notify_on_related_action,
        "channel_expiry": fmt_dt(channel.channel_expiry, org.time_zone),
        "resource_uri": f"{public_base_url()}/crm/v8/{channel.events[0].split('.')[0] if channel.events else ''}",
        "resource_id": None,
        "return_affected_field_values": channel.return_affected_field_values,
        "notification_condition": channel.notification_condition or None,
        "resource_name": channel.events[0].split(".")[0] if channel.events else None,
        "notify_url": channel.notify_url,
        "channel_id": str(channel.channel_id),
        "events": channel.events,
        "token": channel.token or None,
    }


def ensure_watch_body(body: Any) -> list[Any]:
    if not isinstance(body, dict) or not isinstance(body.get("watch"), list) or not body["watch"]:
        raise CrmApiError("INVALID_DATA", "invalid data", details={"api_name": "watch"})
    return list(body["watch"])

"""Field definitions and users per org, cached in the process (a list page must not query them each time).

Writes that change them call `invalidate()`; a short time-to-live covers edits made by another process.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from crm_sandbox.models import CrmUser, FieldDef, Org

_TTL = 2.0
_lock = threading.Lock()
_fields: dict[tuple[int, str], tuple[float, dict[str, FieldDef]]] = {}
_users: dict[int, tuple[float, dict[int, dict[str, Any]]]] = {}
_orgs: dict[int, tuple[float, Org]] = {}


def invalidate() -> None:
    with _lock:
        _fields.clear()
        _users.clear()
        _orgs.clear()


def fields_of(org_id: int, module: str) -> dict[str, FieldDef]:
    key = (org_id, module)
    hit = _fields.get(key)
    if hit and time.monotonic() - hit[0] < _TTL:
        return hit[1]
    defs = {f.api_name: f for f in FieldDef.objects.filter(org_id=org_id, module=module).order_by("sequence", "id")}
    with _lock:
        _fields[key] = (time.monotonic(), defs)
    return defs


def users_of(org_id: int) -> dict[int, dict[str, Any]]:
    hit = _users.get(org_id)
    if hit and time.monotonic() - hit[0] < _TTL:
        return hit[1]
    users = {
        u.id: {"name": u.full_name, "id": str(u.id), "email": u.email}
        for u in CrmUser.objects.filter(org_id=org_id).only("id", "first_name", "last_name", "email")
    }
    with _lock:
        _users[org_id] = (time.monotonic(), users)
    return users


def org(org_id: int) -> Org:
    hit = _orgs.get(org_id)
    if hit and time.monotonic() - hit[0] < _TTL:
        return hit[1]
    value = Org.objects.get(pk=org_id)
    with _lock:
        _orgs[org_id] = (time.monotonic(), value)
    return value

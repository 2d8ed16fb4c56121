"""Fixtures of the sync tests: an organization connected to the live CRM sandbox through the same services as the
pages, module configs saved through crm_integration's services, and helpers that run a sync and read both sides."""

from __future__ import annotations

from typing import Any

import pytest

from crm_integration import hooks
from crm_integration.models import CrmConnection
from crm_integration.services import connections
from crm_integration.services.modules import ModuleInput, default_field_map, module_config_save
from crm_integration.zoho import RetryPolicy
from sync.models import SyncRun, Trigger
from sync.services import runs

FAST_RETRIES = RetryPolicy(budget=120.0, base_delay=0.02, max_delay=0.5)


@pytest.fixture(autouse=True)
def _isolated_hooks():
    with hooks.registry_snapshot():
        yield


@pytest.fixture
def connected(sandbox, org, admin_user) -> CrmConnection:
    """`org` connected to the live sandbox (credentials with a refresh token, then the CRM org chosen)."""
    connections.pending_authorize_with_refresh_token(
        organization=org, actor=admin_user, credentials=sandbox.credentials()
    )
    return connections.connection_connect(organization=org, actor=admin_user).connection


def configure(connection: CrmConnection, module: str, *, extra_map: dict[str, dict[str, str]] | None = None, **kw: Any):
    """Saves a module config through crm_integration (validated against the live CRM); `extra_map` adds maps to the
    default ones, per CRM module."""
    data = ModuleInput(module=module, **kw)
    if extra_map:
        data.field_map = {}
        option = kw.get("crm_module_option", "")
        for crm_module, extra in extra_map.items():
            base = default_field_map(module=module, crm_module=crm_module, crm_module_option=option, crm_fields=None)
            data.field_map[crm_module] = {**base, **extra}
    return module_config_save(connection=connection, actor=None, data=data)


def sync_now(connection: CrmConnection, *, full: bool = False, client=None, modules=None) -> SyncRun:
    """One sync, run here (as the crm_sync command does)."""
    connection.refresh_from_db()
    run = runs.sync_start(connection=connection, actor=None, trigger=Trigger.MANUAL, modules=modules, enqueue=False)
    outcome = runs.run_execute(run=run, full=full, client=client)
    outcome.run.refresh_from_db()
    return outcome.run


def counts(run: SyncRun) -> dict[tuple[str, str], dict[str, int]]:
    return {
        (c.module, c.direction): {
            k: getattr(c, k) for k in ("added", "updated", "skipped", "deleted", "failed", "unchanged")
        }
        for c in run.module_counts.all()
    }


def crm_all(sandbox, module: str, fields: list[str]) -> list[dict[str, Any]]:
    """Every live record of a CRM module, read over HTTP from the sandbox (`page` up to 2,000 records, then
    `page_token`, as Zoho pages)."""
    out: list[dict[str, Any]] = []
    page = 1
    params: dict[str, Any] = {"fields": ",".join(fields), "per_page": 200, "page": page}
    while True:
        response = sandbox.api("GET", module, params=params)
        if response.status_code == 204:
            return out
        assert response.status_code == 200, response.text
        body = response.json()
        out.extend(body["data"])
        if not body["info"]["more_records"]:
            return out
        page += 1
        if page * 200 > 2000:
            params = {"fields": ",".join(fields), "per_page": 200, "page_token": body["info"]["next_page_token"]}
        else:
            params = {"fields": ",".join(fields), "per_page": 200, "page": page}

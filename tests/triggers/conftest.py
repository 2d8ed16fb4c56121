"""Fixtures of the deal-trigger tests: an organization connected to the live CRM sandbox with customers synced,
triggers set up through the same services as the pages, and helpers that make and move deals in the sandbox and
deliver notifications to the webhook's service exactly as Zoho words them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from crm_integration import hooks
from crm_integration.models import CrmConnection
from crm_integration.services import connections
from crm_integration.services.modules import ModuleInput, module_config_save
from triggers.models import DealEvent, NotificationChannel
from triggers.services import channels, notifications, preferences

CREATE_STAGE = "Proposal/Price Quote"
APPROVE_STAGE = "Negotiation/Review"


@pytest.fixture(autouse=True)
def _isolated_hooks():
    with hooks.registry_snapshot():
        yield


@pytest.fixture(autouse=True)
def _notify_nowhere(settings):
    """The sandbox really POSTs notifications to the channel's URL: outside the live tests it must reach nothing
    (port 1 refuses at once), never a developer's server on the default port."""
    settings.LB_PUBLIC_BASE_URL = "http://127.0.0.1:1"


@pytest.fixture
def connected(sandbox, org, admin_user) -> CrmConnection:
    connections.pending_authorize_with_refresh_token(
        organization=org, actor=admin_user, credentials=sandbox.credentials()
    )
    return connections.connection_connect(organization=org, actor=admin_user).connection


def configure_customers(connection: CrmConnection, option: str = "accounts") -> None:
    module_config_save(
        connection=connection, actor=None, data=ModuleInput(module="customers", crm_module_option=option)
    )


def set_mode(connection: CrmConnection, mode: str, **stages: str) -> tuple[NotificationChannel, str]:
    """Saves the preference (as Change Preference does) and returns the channel with a token to sign with."""
    if mode == "quote":
        stages = {"create_quote_stage": CREATE_STAGE, "approve_quote_stage": APPROVE_STAGE, **stages}
    preferences.trigger_preferences_save(connection=connection, actor=None, mode=mode, **stages)
    return channels.channel_subscribe(connection=connection)


@pytest.fixture
def quote_mode(connected) -> tuple[NotificationChannel, str]:
    configure_customers(connected)
    return set_mode(connected, "quote")


@pytest.fixture
def invoice_mode(connected) -> tuple[NotificationChannel, str]:
    configure_customers(connected)
    return set_mode(connected, "invoice")


def first_id(sandbox, module: str, field: str) -> str:
    response = sandbox.api("GET", module, params={"fields": field, "per_page": 5})
    assert response.status_code == 200, response.text
    return str(response.json()["data"][0]["id"])


def new_deal(sandbox, *, stage: str = "Qualification", account_id: str | None = None, **fields: Any) -> str:
    record: dict[str, Any] = {
        "Deal_Name": fields.pop("name", "Forty licences"),
        "Stage": stage,
        "Amount": fields.pop("amount", 1250.5),
        "Description": fields.pop("description", "Annual plan, 40 seats"),
        **fields,
    }
    if account_id:
        record["Account_Name"] = {"id": account_id}
    response = sandbox.api("POST", "Deals", json={"data": [record]})
    assert response.status_code in (200, 201), response.text
    item = response.json()["data"][0]
    assert item["status"] == "success", item
    return str(item["details"]["id"])


def move(sandbox, deal_id: str, stage: str, **fields: Any) -> None:
    response = sandbox.api("PUT", "Deals", json={"data": [{"id": deal_id, "Stage": stage, **fields}]})
    assert response.status_code in (200, 202), response.text
    assert response.json()["data"][0]["status"] == "success", response.text


_clock = [int(time.time() * 1000)]


def notification(
    channel_id: str, token: str, deal_id: str, *, operation: str = "update", server_time: int | None = None
) -> dict[str, Any]:
    if server_time is None:
        _clock[0] += 1
        server_time = _clock[0]
    return {
        "server_time": server_time,
        "query_params": {},
        "module": "Deals",
        "resource_uri": "https://www.zohoapis.com/crm/v2/Deals",
        "ids": [deal_id],
        "affected_fields": [{deal_id: ["Stage"]}] if operation == "update" else [],
        "operation": operation,
        "channel_id": channel_id,
        "token": token,
    }


@pytest.fixture
def deliver(django_capture_on_commit_callbacks) -> Callable[..., notifications.Received]:
    """Delivers a notification body to the webhook's service and runs what it enqueued (Celery is eager)."""

    def _deliver(body: dict[str, Any] | bytes) -> notifications.Received:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        with django_capture_on_commit_callbacks(execute=True):
            return notifications.notification_receive(raw)

    return _deliver


def events_count() -> int:
    return DealEvent.objects.count()

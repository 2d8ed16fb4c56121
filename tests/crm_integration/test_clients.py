"""crm_client_for: one client per connection and process, so consecutive calls (deal events, pages) reuse the open
HTTP connection to the CRM; other credentials or another kind of caller get another client; a forked child
(a Celery or gunicorn worker) never inherits its parent's clients."""

from __future__ import annotations

import dataclasses
import os

import pytest

from crm_integration.services import clients
from crm_integration.services.clients import client_from_credentials, connection_credentials, crm_client_for

pytestmark = pytest.mark.django_db


def test_consecutive_calls_share_one_client_and_one_open_connection(connected) -> None:
    first = crm_client_for(connected)
    assert crm_client_for(connected) is first
    for _ in range(3):
        crm_client_for(connected).get_org()
    api = connection_credentials(connected).api_domain
    pools = first.session.get_adapter(api).poolmanager.pools
    opened = sum(pools[key].num_connections for key in pools.keys())  # noqa: SIM118 (urllib3 forbids iterating it)
    assert opened == 1  # three calls, one TCP (with Zoho: TLS) connection
    assert crm_client_for(connected, interactive=True) is not first  # a person waiting: shorter retries


def test_other_credentials_get_another_client(connected) -> None:
    credentials, edition = connection_credentials(connected), connected.crm_edition
    assert client_from_credentials(credentials, edition=edition) is crm_client_for(connected)
    rotated = dataclasses.replace(credentials, refresh_token=credentials.refresh_token + "x")
    assert client_from_credentials(rotated, edition=edition) is not crm_client_for(connected)
    other = "free" if edition.lower() != "free" else "ultimate"  # another concurrency limit
    assert client_from_credentials(credentials, edition=other) is not crm_client_for(connected)


def test_a_forked_child_starts_without_its_parents_clients(connected) -> None:
    crm_client_for(connected)
    assert clients._client.cache_info().currsize >= 1
    pid = os.fork()
    if pid == 0:  # the child: exit at once, 0 when it holds no client
        os._exit(0 if clients._client.cache_info().currsize == 0 else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert clients._client.cache_info().currsize >= 1  # the parent keeps its own

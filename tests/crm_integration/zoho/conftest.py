"""Fixtures for the Zoho client's wire tests (`responses`) and live tests (the sandbox)."""

from __future__ import annotations

import uuid

import pytest
import responses

from crm_integration.zoho import RetryPolicy, ZohoCrmClient
from crm_integration.zoho.oauth import AccessTokens
from tests.crm_integration.zoho.support import CREDS, FakeTime


@pytest.fixture(autouse=True)
def _fresh_token_store():
    AccessTokens.forget_all()
    yield
    AccessTokens.forget_all()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def make_client(fake_time):
    made: list[ZohoCrmClient] = []

    def make(**kwargs) -> ZohoCrmClient:
        kwargs.setdefault("connection_key", f"test:{uuid.uuid4()}")
        kwargs.setdefault("retry", RetryPolicy(budget=60.0, base_delay=0.5, max_delay=8.0))
        kwargs.setdefault("sleep", fake_time.sleep)
        kwargs.setdefault("clock", fake_time.clock)
        client = ZohoCrmClient(kwargs.pop("credentials", CREDS), **kwargs)
        made.append(client)
        return client

    yield make
    for c in made:
        c.close()

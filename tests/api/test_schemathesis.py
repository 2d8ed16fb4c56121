"""Schemathesis against the generated schema: for every operation it generates requests that fit the schema and
requests that break it (as the organization's admin, within the organization), and checks that the API never
answers 5xx, answers only documented statuses and content types, and matches its documented response shapes.
`LB_SCHEMATHESIS_EXAMPLES` sets the examples per operation (10 by default; 100 for a deeper run)."""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from books.services.organizations import api_token_create

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@cache
def _openapi() -> dict[str, Any]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(schema))


@cache
def _loaded() -> Any:
    loaded = schemathesis.openapi.from_dict(_openapi())
    loaded.app = WSGIHandler()
    return loaded


def _cases() -> list[tuple[str, str, GenerationMode]]:
    """Every operation with valid requests; with invalid ones too where a request can break the schema at all
    (an operation whose only parameter is a free-form path segment cannot be given an invalid request)."""
    cases = []
    for path, item in _openapi()["paths"].items():
        for method, operation in item.items():
            cases.append((method.upper(), path, GenerationMode.POSITIVE))
            breakable = "requestBody" in operation or any(p["in"] != "path" for p in operation.get("parameters", []))
            if breakable:
                cases.append((method.upper(), path, GenerationMode.NEGATIVE))
    return sorted(cases)


@pytest.fixture
def in_test_transaction():
    """Requests run in the test's transaction, as Django's test client runs them: the end of a request must not
    close the connection under it."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.parametrize(("method", "path", "mode"), _cases())
def test_operation_conforms_to_the_schema(in_test_transaction, admin_user, org, customer, item, method, path, mode):
    _, token = api_token_create(user=admin_user)
    operation = _loaded()[path][method]
    strategy = operation.as_strategy(
        generation_mode=mode,
        headers={"Authorization": f"Zoho-oauthtoken {token}"},
    )
    # Not `negative_data_rejection`: like Zoho, the API coerces what is unambiguous (15 for "15" in a text field,
    # "19.99" for a number, "true" for a boolean), which that check counts as accepting invalid data. What must be
    # refused (objects or lists for scalars, non-numbers for numbers …) is pinned by test_schema_and_fuzz.py.
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

    @given(case=strategy)
    @settings(
        max_examples=int(os.environ.get("LB_SCHEMATHESIS_EXAMPLES", "10")),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        if "organization_id" in (case.query or {}) or mode == GenerationMode.POSITIVE:
            case.query = {**(case.query or {}), "organization_id": str(org.pk)}
        response = case.call()
        case.validate_response(response, checks=checks)

    run()

"""The OpenAPI schema (valid, no warnings, every operation documented), the docs page (nothing from a CDN), and a
schema-driven fuzz: every operation that takes a body gets bodies of the wrong shape and every property the wrong
type, and must answer 4xx in the envelope naming the property, never a 500."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from books.models import ContactPerson
from books.services.transactions import LineInput, TransactionInput, transaction_create
from tests.api.conftest import url

pytestmark = pytest.mark.django_db


@cache
def _schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = _schema()["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _operations(with_body: bool) -> list[tuple[str, str]]:
    result = []
    for path, item in _schema()["paths"].items():
        for method, operation in item.items():
            if not with_body or "requestBody" in operation:
                result.append((method, path))
    return sorted(result)


def test_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert "operationId: create_invoice" in target.read_text()


def test_every_api_route_is_documented():
    documented = {(m.upper(), p) for m, p in _operations(with_body=False)}
    routed = set()
    for pattern in get_resolver().url_patterns:
        if str(pattern.pattern) != "books/v3/":
            continue
        for sub in pattern.url_patterns:
            views = getattr(sub.callback, "route_views", None)
            if not views:
                continue
            path = "/books/v3/" + re.sub(r"<str:(\w+)>", r"{\1}", str(sub.pattern))
            routed |= {(method, path) for method in views}
    assert routed
    assert routed == documented
    assert len(documented) == 58  # 54 + the four CRM imports (sync.apis)


def test_schema_is_served_without_authentication(db):
    response = APIClient().get("/books/v3/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert "/books/v3/contacts" in schema["paths"]
    assert schema["components"]["securitySchemes"]["ZohoOAuthToken"]["name"] == "Authorization"
    parameters = schema["paths"]["/books/v3/contacts"]["get"]["parameters"]
    assert {"organization_id", "filter_by", "page", "per_page", "zcrm_account_id"} <= {p["name"] for p in parameters}


def test_docs_page_needs_no_cdn(db):
    response = APIClient().get("/books/v3/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    assert all(asset.startswith("/static/") for asset in assets), assets
    assert "cdn" not in html.lower()
    for asset in assets:
        assert APIClient().get(asset).status_code == 200, asset


# --- fuzz ----------------------------------------------------------------------------------------------------------


WRONG_VALUES = {
    "string": [{"an": "object"}, ["a", "list"], 1.5],
    "integer": ["abc", {"an": "object"}, [1], True],
    "number": ["abc", {"an": "object"}, [1], True],
    "boolean": ["perhaps", {"an": "object"}, [True]],
    "array": [{"an": "object"}, "text", 5],
    "object": [["a", "list"], "text", 5],
}
WRONG_BODIES = [[], ["a"], "text", 5, None]


@pytest.fixture
def records(org, customer, vendor, item, admin_user):
    person = ContactPerson.objects.create(organization=org, contact=customer, last_name="Smith")
    ids = {
        "contact_id": customer.pk,
        "contact_person_id": person.pk,
        "item_id": item.pk,
        "user_id": admin_user.pk,
        "organization_id": org.pk,
        # CRM record ids of the CRM imports (nothing to import: the organization is not connected)
        **dict.fromkeys(("crm_account_id", "crm_contact_id", "crm_vendor_id", "crm_product_id"), "5725767000000000001"),
    }
    for kind, key, contact in (
        ("quote", "estimate_id", customer),
        ("salesorder", "salesorder_id", customer),
        ("invoice", "invoice_id", customer),
        ("purchaseorder", "purchaseorder_id", vendor),
    ):
        txn = transaction_create(
            organization=org,
            actor=None,
            kind=kind,
            data=TransactionInput(contact_id=contact.pk, lines=[LineInput(name="x", rate="1")]),
        )
        ids[key] = txn.pk
    expense = transaction_create(
        organization=org,
        actor=None,
        kind="expense",
        data=TransactionInput(account_name="Travel", amount="5"),
    )
    ids["expense_id"] = expense.pk
    return ids


def _fill(path: str, ids: dict[str, Any], operation: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "state":
            parameter = next(p for p in operation["parameters"] if p["name"] == "state")
            return parameter["schema"]["enum"][0]
        return str(ids[name])

    return re.sub(r"\{(\w+)\}", value, path).removeprefix("/books/v3/")


def _request(api, method: str, path: str, body: Any):
    return getattr(api, method)(url(api, path), json.dumps(body), content_type="application/json")


def _assert_refused(response, *, field: str | None = None) -> None:
    assert response.status_code != 500, response.content
    assert 400 <= response.status_code < 500, response.content
    envelope = response.json()
    assert envelope["code"] != 0
    assert envelope["message"]
    if field is not None:
        # the message names the first problem; `errors` lists them all when several fields are wrong at once
        errors = envelope.get("errors", {})
        assert envelope["message"].startswith(field) or field in errors, (field, envelope)


@pytest.mark.parametrize(("method", "path"), _operations(with_body=True))
def test_fuzz_bodies_of_every_operation(api, records, method, path):
    operation = _schema()["paths"][path][method]
    target = _fill(path, records, operation)
    for body in WRONG_BODIES:
        _assert_refused(_request(api, method, target, body), field="body")
    if method == "post":  # every POST with a body creates something, and needs at least one field
        _assert_refused(_request(api, method, target, {}))
    for raw in ('{"a": ', "{'a': 1}", "[1,]"):
        response = getattr(api, method)(url(api, target), raw, content_type="application/json")
        _assert_refused(response)
        assert response.json()["code"] == 1038
    schema = _resolve(operation["requestBody"]["content"]["application/json"]["schema"])
    for name, prop in schema["properties"].items():
        prop = _resolve(prop)
        kind = prop.get("type", "object" if "properties" in prop else None)
        if kind is None and prop.get("enum"):
            kind = "string"
        for wrong in WRONG_VALUES.get(kind, []):
            _assert_refused(_request(api, method, target, {name: wrong}), field=name)
        if prop.get("enum"):
            _assert_refused(_request(api, method, target, {name: "not-a-choice"}), field=name)


@pytest.mark.parametrize(("method", "path"), _operations(with_body=False))
def test_fuzz_unknown_ids_and_no_token_on_every_operation(api, records, method, path):
    operation = _schema()["paths"][path][method]
    if "{" in path:
        unknown = dict.fromkeys(records, "987654321")
        response = getattr(api, method)(url(api, _fill(path, unknown, operation)), {}, format="json")
        _assert_refused(response)
        if path.startswith("/books/v3/crm/"):
            # The CRM imports: this organization has no CRM to look the id up in (tests/crmux covers the 404s).
            assert response.status_code == 409
            assert response.json()["message"].startswith("connection: Zoho CRM is not connected")
        else:
            assert response.status_code == 404
    response = getattr(APIClient(), method)(url(api, _fill(path, records, operation)), {}, format="json")
    _assert_refused(response)
    assert response.status_code == 401

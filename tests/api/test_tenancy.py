"""Tenancy through the API: a member of org A can neither read nor change org B's records, whatever the path,
the organization_id or the ids inside a body (404 in the envelope, never data)."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict

from books.models import Contact, ContactPerson, Item, Transaction, TransactionKind
from books.services.transactions import LineInput, TransactionInput, transaction_create
from tests.api.conftest import assert_error, client_for, url

pytestmark = pytest.mark.django_db
K = TransactionKind


@pytest.fixture
def foreign(other_org, other_admin, other_customer, other_vendor, other_item):
    """org B's records, one of each kind."""
    person = ContactPerson.objects.create(organization=other_org, contact=other_customer, last_name="Secretary")

    def make(kind, contact, **extra):
        return transaction_create(
            organization=other_org,
            actor=None,
            kind=kind,
            data=TransactionInput(contact_id=contact.pk, lines=[LineInput(item_id=other_item.pk)], **extra),
        )

    return {
        "contact": other_customer,
        "vendor": other_vendor,
        "person": person,
        "item": other_item,
        "user": other_admin,
        "org": other_org,
        "estimate": make(K.QUOTE, other_customer),
        "salesorder": make(K.SALES_ORDER, other_customer),
        "invoice": make(K.INVOICE, other_customer),
        "purchaseorder": make(K.PURCHASE_ORDER, other_vendor),
        "expense": make(K.EXPENSE, other_vendor, account_name="Travel", amount="5"),
    }


# (method, path template, body, field named in the 404)
RECORD_OPERATIONS = [
    ("get", "contacts/{contact}", None, "contact_id"),
    ("put", "contacts/{contact}", {"notes": "pwned"}, "contact_id"),
    ("delete", "contacts/{contact}", None, "contact_id"),
    ("post", "contacts/{contact}/active", None, "contact_id"),
    ("post", "contacts/{contact}/inactive", None, "contact_id"),
    ("get", "contacts/{contact}/contactpersons", None, "contact_id"),
    ("get", "contacts/{contact}/contactpersons/{person}", None, "contact_id"),
    ("put", "contacts/contactpersons/{person}", {"last_name": "pwned"}, "contact_person_id"),
    ("delete", "contacts/contactpersons/{person}", None, "contact_person_id"),
    ("post", "contacts/contactpersons/{person}/primary", None, "contact_person_id"),
    ("get", "items/{item}", None, "item_id"),
    ("put", "items/{item}", {"name": "pwned"}, "item_id"),
    ("delete", "items/{item}", None, "item_id"),
    ("post", "items/{item}/active", None, "item_id"),
    ("post", "items/{item}/inactive", None, "item_id"),
    ("get", "users/{user}", None, "user_id"),
    ("get", "organizations/{org}", None, "organization_id"),
]
for _resource, _key, _state in (
    ("estimates", "estimate", "accepted"),
    ("salesorders", "salesorder", "open"),
    ("invoices", "invoice", "sent"),
    ("purchaseorders", "purchaseorder", "open"),
    ("expenses", "expense", None),
):
    RECORD_OPERATIONS += [
        ("get", f"{_resource}/{{{_key}}}", None, f"{_key}_id"),
        ("put", f"{_resource}/{{{_key}}}", {"notes": "pwned"}, f"{_key}_id"),
        ("delete", f"{_resource}/{{{_key}}}", None, f"{_key}_id"),
    ]
    if _state:
        RECORD_OPERATIONS.append(("post", f"{_resource}/{{{_key}}}/status/{_state}", None, f"{_key}_id"))


def _snapshot():
    return {
        model.__name__: sorted((obj.pk, str(model_to_dict(obj))) for obj in model.objects.all())
        for model in (Contact, ContactPerson, Item, Transaction)
    }


def _path(template, foreign):
    return template.format(**{key: value.pk for key, value in foreign.items()})


@pytest.mark.parametrize(("method", "template", "body", "field"), RECORD_OPERATIONS)
def test_records_of_another_org_are_not_found(api, foreign, method, template, body, field):
    before = _snapshot()
    response = getattr(api, method)(url(api, _path(template, foreign)), body, format="json")
    assert_error(response, 404, code=1002, field=field)
    assert "Secret" not in response.content.decode()
    assert _snapshot() == before


@pytest.mark.parametrize(("method", "template", "body", "field"), RECORD_OPERATIONS)
def test_passing_the_other_orgs_id_gives_no_data(api, foreign, method, template, body, field):
    before = _snapshot()
    path = _path(template, foreign)
    response = getattr(api, method)(f"/books/v3/{path}?organization_id={foreign['org'].pk}", body, format="json")
    assert_error(response, 404, code=1002, field="organization_id")
    assert "Secret" not in response.content.decode()
    assert _snapshot() == before


# list -> (id key of its rows, the foreign records of that kind)
LISTS = {
    "contacts": ("contact_id", ("contact", "vendor")),
    "items": ("item_id", ("item",)),
    "estimates": ("estimate_id", ("estimate",)),
    "salesorders": ("salesorder_id", ("salesorder",)),
    "invoices": ("invoice_id", ("invoice",)),
    "purchaseorders": ("purchaseorder_id", ("purchaseorder",)),
    "expenses": ("expense_id", ("expense",)),
    "users": ("user_id", ("user",)),
}


@pytest.mark.parametrize("resource", LISTS)
def test_lists_show_only_the_own_org(api, org, foreign, customer, item, resource):
    transaction_create(
        organization=org,
        actor=None,
        kind=K.QUOTE,
        data=TransactionInput(contact_id=customer.pk, lines=[LineInput(item_id=item.pk)]),
    )
    response = api.get(url(api, resource))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Secret" not in text
    assert "admin@other.test" not in text
    id_key, kinds = LISTS[resource]
    rows = response.json()[resource]
    assert {row[id_key] for row in rows}.isdisjoint({str(foreign[kind].pk) for kind in kinds})


@pytest.mark.parametrize("resource", LISTS)
def test_lists_with_the_other_orgs_id_give_no_data(api, foreign, resource):
    response = api.get(f"/books/v3/{resource}?organization_id={foreign['org'].pk}")
    body = assert_error(response, 404, code=1002, field="organization_id")
    assert resource not in body


def test_a_member_of_both_orgs_is_scoped_by_organization_id(member_of_both, org, other_org, foreign):
    client = client_for(member_of_both, org)
    assert_error(client.get(url(client, f"contacts/{foreign['contact'].pk}")), 404, field="contact_id")
    response = client.get(f"/books/v3/contacts/{foreign['contact'].pk}?organization_id={other_org.pk}")
    assert response.json()["contact"]["contact_name"] == "Secret Customer"
    names = [o["name"] for o in client.get("/books/v3/organizations").json()["organizations"]]
    assert names == ["Acme Books", "Other Books"]


# --- ids of another org inside a body ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "body", "status", "field"),
    [
        ("estimates", {"customer_id": "{contact}", "line_items": [{"name": "x", "rate": 1}]}, 404, "customer_id"),
        ("salesorders", {"customer_id": "{contact}", "line_items": [{"name": "x", "rate": 1}]}, 404, "customer_id"),
        ("invoices", {"customer_id": "{contact}", "line_items": [{"name": "x", "rate": 1}]}, 404, "customer_id"),
        ("purchaseorders", {"vendor_id": "{vendor}", "line_items": [{"name": "x", "rate": 1}]}, 404, "vendor_id"),
        ("expenses", {"vendor_id": "{vendor}", "account_name": "T", "amount": 1}, 404, "vendor_id"),
        ("expenses", {"customer_id": "{contact}", "account_name": "T", "amount": 1}, 404, "customer_id"),
        ("estimates", {"customer_id": "{own}", "line_items": [{"item_id": "{item}"}]}, 400, "line_items[0].item_id"),
        ("invoices", {"estimate_id": "{estimate}"}, 404, "estimate_id"),
        ("invoices", {"invoiced_estimate_id": "{estimate}"}, 404, "invoiced_estimate_id"),
        ("contacts/contactpersons", {"contact_id": "{contact}", "last_name": "x"}, 404, "contact_id"),
    ],
)
def test_ids_of_another_org_in_a_body_are_refused(api, customer, foreign, resource, body, status, field):
    ids = {key: str(value.pk) for key, value in foreign.items()} | {"own": str(customer.pk)}

    def fill(value):
        if isinstance(value, str):
            return value.format(**ids)
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    before = _snapshot()
    response = api.post(url(api, resource), fill(body), format="json")
    assert_error(response, status, field=field)
    assert "Secret" not in response.content.decode()
    assert _snapshot() == before


def test_updating_with_ids_of_another_org_is_refused(api, org, customer, vendor, foreign):
    own = transaction_create(
        organization=org,
        actor=None,
        kind=K.QUOTE,
        data=TransactionInput(contact_id=customer.pk, lines=[LineInput(name="x", rate="1")]),
    )
    before = _snapshot()
    response = api.put(url(api, f"estimates/{own.pk}"), {"customer_id": foreign["contact"].pk}, format="json")
    assert_error(response, 404, field="customer_id")
    response = api.put(
        url(api, f"estimates/{own.pk}"), {"line_items": [{"item_id": foreign["item"].pk}]}, format="json"
    )
    assert_error(response, 400, field="line_items[0].item_id")
    assert _snapshot() == before

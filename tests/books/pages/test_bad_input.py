"""Every form and action of the pages answers bad input (missing fields, wrong types, garbage, tampered
formsets, huge numbers, unknown ids) with an inline error, a message or a 404, never a 500."""

from __future__ import annotations

import pytest
from django.test import Client

from books.models import Contact, Item, Transaction
from books.services.custom_fields import custom_field_create
from tests.books.pages.conftest import make_txn

pytestmark = pytest.mark.django_db

GARBAGE = [
    {},
    {"contact_name": ["a", "b"], "email": "x" * 500, "rate": "NaN", "quantity": "Infinity", "date": "2026-13-45"},
    {"lines-TOTAL_FORMS": "abc", "lines-0-rate": "1e400", "payment_terms": "9" * 30, "status": "\x00"},
    {"lines-TOTAL_FORMS": "100000", "lines-INITIAL_FORMS": "-1", "contact_id": "1 OR 1=1", "customer_id": "-7"},
    {"lines-TOTAL_FORMS": "1", "lines-0-rate": "1e20", "lines-0-name": "Big", "lines-0-quantity": "99999999999"},
    {
        "amount": "1e30",
        "account_name": "A" * 300,
        "is_billable": "maybe",
        "cf_x": "y",
        "entity": "",
        "label": "L" * 999,
    },
    {"name": "\u0000", "time_zone": "../../etc", "base_currency": "€€€", "role": "owner", "password": "x"},
]


@pytest.fixture
def form_urls(org, customer, vendor, item, person):
    custom = custom_field_create(organization=org, actor=None, entity="customer", label="Seats", data_type="number")
    urls = [
        "/customers/new/",
        f"/customers/{customer.pk}/edit/",
        f"/customers/{customer.pk}/contactpersons/new/",
        f"/customers/{customer.pk}/contactpersons/{person.pk}/edit/",
        "/vendors/new/",
        f"/vendors/{vendor.pk}/edit/",
        "/items/new/",
        f"/items/{item.pk}/edit/",
        "/settings/",
        "/settings/custom-fields/new/",
        f"/settings/custom-fields/{custom.pk}/edit/",
        "/settings/users/",
        "/customers/bulk/",
        "/vendors/bulk/",
        "/items/bulk/",
    ]
    for kind, slug, contact in (
        ("quote", "quotes", customer),
        ("salesorder", "salesorders", customer),
        ("invoice", "invoices", customer),
        ("purchaseorder", "purchaseorders", vendor),
        ("expense", "expenses", vendor),
    ):
        txn = make_txn(org, kind, contact)
        urls += [f"/{slug}/new/", f"/{slug}/{txn.pk}/edit/"]
    return urls


@pytest.mark.parametrize("payload", range(len(GARBAGE)))
def test_no_form_answers_garbage_with_a_500(admin_user, org, form_urls, payload):
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    contacts, items, txns = Contact.objects.count(), Item.objects.count(), Transaction.objects.count()
    for url in form_urls:
        response = client.post(url, GARBAGE[payload])
        assert response.status_code in (200, 302, 400), (url, response.status_code)
        for action in ("_add_line", "_remove_line", "_fill_line", "_find_contact", "_find_customer", "_totals"):
            if url.startswith(("/invoices/", "/expenses/")):
                response = client.post(url, {**GARBAGE[payload], action: "1"})
                assert response.status_code in (200, 302, 400), (url, action, response.status_code)
    # Nothing was created from garbage (edits may have been refused or kept values; nothing new appeared).
    assert (Contact.objects.count(), Item.objects.count(), Transaction.objects.count()) == (contacts, items, txns)


def test_huge_numbers_are_inline_errors_not_database_errors(admin_client, org, customer):
    data = {
        "contact_id": customer.pk,
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-name": "Big",
        "lines-0-rate": "999999999999",
        "lines-0-quantity": "1000",
    }
    response = admin_client.post("/invoices/new/", data)
    assert response.status_code == 400
    assert "The line amount is too large" in response.content.decode()
    data["lines-0-quantity"] = "100000000000"
    response = admin_client.post("/invoices/new/", data)
    assert "Must be less than 100,000,000,000" in response.content.decode()
    response = admin_client.post("/expenses/new/", {"account_name": "A" * 101, "amount": "1"})
    assert response.status_code == 400
    assert "at most 100 characters" in response.content.decode()
    assert not Transaction.objects.exists()


def test_tampered_formset_is_an_error_not_a_crash(admin_client, customer):
    response = admin_client.post("/invoices/new/", {"contact_id": customer.pk, "lines-0-name": "X"})
    assert response.status_code == 400
    assert "ManagementForm data is missing or has been tampered with" in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/customers/abc/",
        "/customers/999999/",
        "/customers/999999/edit/",
        "/vendors/999999/",
        "/items/999999/",
        "/items/-1/",
        "/invoices/999999/",
        "/quotes/999999/convert/",
        "/customers/1/contactpersons/999999/edit/",
        "/settings/custom-fields/999999/edit/",
        "/settings/users/999999/edit/",
        "/invoices/?contact_id=abc",
        "/invoices/?contact_id=999999",
    ],
)
def test_unknown_ids_are_404(admin_client, customer, url):
    method = "post" if url.endswith("convert/") else "get"
    response = getattr(admin_client, method)(url)
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


@pytest.mark.parametrize(
    "url", ["/customers/1/status/active/", "/invoices/1/status/sent/", "/quotes/1/convert/", "/customers/bulk/"]
)
def test_actions_refuse_get(admin_client, url):
    assert admin_client.get(url).status_code in (302, 404, 405)

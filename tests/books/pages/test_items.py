"""Items pages: list, bulk update, detail, form with inline errors and custom fields, status, delete."""

from __future__ import annotations

from decimal import Decimal

import pytest

from books.models import Item, TransactionKind
from books.services.custom_fields import custom_field_create
from books.services.transactions import LineInput
from tests.books.pages.conftest import make_txn
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return response.content.decode()


def test_empty_state_and_list(admin_client, org):
    assert "Create your first item" in _text(admin_client.get("/items/"))
    ItemFactory(organization=org, name="Widget", rate=Decimal("9.50"), zcrm_product_id="55")
    ItemFactory(organization=org, name="Gadget", status="inactive")
    body = _text(admin_client.get("/items/"))
    assert "Widget" in body
    assert "USD 9.50" in body
    assert "CRM Items" in body
    assert "Gadget" not in _text(admin_client.get("/items/?filter=crm"))
    assert "Widget" not in _text(admin_client.get("/items/?filter=inactive"))
    assert "Gadget" not in _text(admin_client.get("/items/?q=widg"))
    cheap_first = _text(admin_client.get("/items/?sort=rate"))
    assert cheap_first.index("Widget") < cheap_first.index("Gadget")


def test_create_item_with_custom_field(admin_client, org):
    custom_field_create(organization=org, actor=None, entity="item", label="Warranty Until", data_type="date")
    form = _text(admin_client.get("/items/new/"))
    assert 'type="date" name="cf_warranty_until"' in form
    assert "Selling Price" in form
    response = admin_client.post(
        "/items/new/",
        {
            "product_type": "service",
            "name": "Support Plan",
            "rate": "99.99",
            "unit": "mo",
            "cf_warranty_until": "2027-01-01",
        },
    )
    assert response.status_code == 302
    item = Item.objects.get(organization=org, name="Support Plan")
    assert item.rate == Decimal("99.99")
    assert item.product_type == "service"
    assert item.custom_fields == {"cf_warranty_until": "2027-01-01"}
    detail = _text(admin_client.get(response["Location"]))
    assert "The item Support Plan has been created." in detail
    assert "Warranty Until" in detail


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": ""}, "name", "The item name is required"),
        ({"name": "X", "rate": "cheap"}, "rate", "Enter a number."),
        ({"name": "X", "rate": "-1"}, "rate", "Must not be negative"),
        ({"name": "X", "rate": "12345678901234"}, "rate", "Ensure that there are no more than 14 digits in total."),
        ({"name": "X", "product_type": "magic"}, "product_type", "Select a valid choice."),
    ],
)
def test_item_form_errors_are_inline(admin_client, org, data, field, message):
    response = admin_client.post("/items/new/", {"product_type": "goods", **data})
    assert response.status_code == 400
    assert any(message in e for e in response.context["form"].errors[field]), response.context["form"].errors
    assert not Item.objects.filter(organization=org).exists()


def test_edit_status_and_delete(admin_client, org, item):
    response = admin_client.post(f"/items/{item.pk}/edit/", {"product_type": "goods", "name": "SSD", "rate": "80"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.name, item.rate) == ("SSD", Decimal("80.00"))
    assert "SSD has been marked as inactive." in _text(
        admin_client.post(f"/items/{item.pk}/status/inactive/", follow=True)
    )
    assert "Delete the item SSD?" in _text(admin_client.get(f"/items/{item.pk}/delete/"))
    admin_client.post(f"/items/{item.pk}/delete/")
    assert not Item.objects.filter(pk=item.pk).exists()


def test_item_used_on_a_transaction_cannot_be_deleted(admin_client, org, item, customer):
    make_txn(org, TransactionKind.INVOICE, customer, lines=[LineInput(item_id=item.pk)])
    response = admin_client.post(f"/items/{item.pk}/delete/", follow=True)
    assert "is used in transactions; mark it inactive instead" in _text(response)
    assert Item.objects.filter(pk=item.pk).exists()


def test_bulk_update_items(admin_client, org):
    items = ItemFactory.create_batch(3, organization=org)
    admin_client.post("/items/bulk/", {"status": "inactive", "ids": [items[0].pk, items[1].pk]})
    assert [i.status for i in Item.objects.filter(organization=org).order_by("pk")] == [
        "inactive",
        "inactive",
        "active",
    ]
    response = admin_client.post("/items/bulk/", {"status": "active", "select_all_matching": "1"}, follow=True)
    assert "3 items marked as active." in _text(response)
    assert set(Item.objects.filter(organization=org).values_list("status", flat=True)) == {"active"}

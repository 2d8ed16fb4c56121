"""Items through the API."""

from __future__ import annotations

from decimal import Decimal

import pytest

from books.models import CustomFieldEntity, Item, Status
from books.services.custom_fields import custom_field_create
from books.services.transactions import LineInput, TransactionInput, transaction_create
from tests.api.conftest import assert_error, url
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db


def test_item_lifecycle(api, org):
    custom_field_create(organization=org, actor=None, entity=CustomFieldEntity.ITEM, label="Grade", data_type="text")
    response = api.post(
        url(api, "items"),
        {
            "name": "Hard Drive",
            "rate": 120.5,
            "description": "500GB",
            "sku": "s12345",
            "unit": "Nos",
            "product_type": "goods",
            "custom_fields": [{"label": "Grade", "value": "Normal"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["message"] == "The item has been added."
    item = body["item"]
    saved = Item.objects.get(organization=org)
    assert item["item_id"] == str(saved.pk)
    assert saved.rate == Decimal("120.50")
    assert item["rate"] == 120.5
    assert item["status"] == "active"
    assert item["product_type"] == "goods"
    assert item["source"] == "books"
    assert item["zcrm_product_id"] == ""
    assert item["is_linked_with_zohocrm"] is False
    assert item["custom_field_hash"] == {"cf_grade": "Normal", "cf_grade_unformatted": "Normal"}

    response = api.put(url(api, f"items/{saved.pk}"), {"rate": "99.99"}, format="json")
    assert response.json()["message"] == "The item details have been saved."
    saved.refresh_from_db()
    assert saved.rate == Decimal("99.99")
    assert saved.name == "Hard Drive"

    assert api.get(url(api, f"items/{saved.pk}")).json()["item"]["rate"] == 99.99
    response = api.post(url(api, f"items/{saved.pk}/inactive"))
    assert response.json()["message"] == "The item has been marked as inactive."
    saved.refresh_from_db()
    assert saved.status == Status.INACTIVE
    api.post(url(api, f"items/{saved.pk}/active"))
    saved.refresh_from_db()
    assert saved.status == Status.ACTIVE

    assert api.delete(url(api, f"items/{saved.pk}")).json() == {"code": 0, "message": "The item has been deleted."}
    assert not Item.objects.filter(pk=saved.pk).exists()


def test_item_used_in_a_transaction_cannot_be_deleted(api, org, customer, item):
    transaction_create(
        organization=org,
        actor=None,
        kind="quote",
        data=TransactionInput(contact_id=customer.pk, lines=[LineInput(item_id=item.pk)]),
    )
    assert_error(api.delete(url(api, f"items/{item.pk}")), 409, code=1003, field="item_id")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"name": {"x": 1}}, "name"),
        ({"name": "x", "rate": "abc"}, "rate"),
        ({"name": "x", "rate": -1}, "rate"),
        ({"name": "x", "rate": [1]}, "rate"),
        ({"name": "x", "rate": True}, "rate"),
        ({"name": "x", "rate": "1e20"}, "rate"),
        ({"name": "x", "product_type": "digital_service"}, "product_type"),
        ({"name": "x", "sku": "s" * 101}, "sku"),
        ({"name": "x", "zcrm_product_id": "1"}, "zcrm_product_id"),
        ({"name": "x", "source": "crm"}, "source"),
        ({"name": "x", "is_linked_with_zohocrm": True}, "is_linked_with_zohocrm"),
        ({"name": "x", "custom_fields": [{"index": 1, "value": "x"}]}, "custom_fields[0].index"),
    ],
)
def test_bad_item_bodies_are_400_naming_the_field(api, body, field):
    assert_error(api.post(url(api, "items"), body, format="json"), 400, field=field)
    assert Item.objects.count() == 0


def test_item_update_keeps_sync_fields(api, org):
    item = ItemFactory(organization=org, zcrm_product_id="P1", source="crm")
    assert_error(api.put(url(api, f"items/{item.pk}"), {"zcrm_product_id": "P2"}, format="json"), 400)
    assert_error(api.put(url(api, f"items/{item.pk}"), {"name": ""}, format="json"), 400, field="name")
    item.refresh_from_db()
    assert item.zcrm_product_id == "P1"


def test_item_list_filters(api, org):
    ItemFactory(organization=org, name="Alpha Disk", rate=Decimal("10"))
    ItemFactory(organization=org, name="Beta Cable", rate=Decimal("30"), status=Status.INACTIVE)
    ItemFactory(organization=org, name="Gamma Board", rate=Decimal("20"), zcrm_product_id="P9", sku="GB-1")

    def names(**params):
        response = api.get(url(api, "items", **params))
        assert response.status_code == 200, response.content
        return [i["name"] for i in response.json()["items"]]

    assert names() == ["Alpha Disk", "Beta Cable", "Gamma Board"]
    assert names(zcrm_product_id="P9") == ["Gamma Board"]
    assert names(filter_by="Status.Inactive") == ["Beta Cable"]
    assert names(filter_by="Status.Active") == ["Alpha Disk", "Gamma Board"]
    assert names(filter_by="Status.Crm") == ["Gamma Board"]
    assert names(search_text="gb-1") == ["Gamma Board"]
    assert names(name_startswith="be") == ["Beta Cable"]
    assert names(name_contains="disk") == ["Alpha Disk"]
    assert names(name="gamma board") == ["Gamma Board"]
    assert names(sort_column="rate", sort_order="D") == ["Beta Cable", "Gamma Board", "Alpha Disk"]
    body = api.get(url(api, "items", zcrm_product_id="P9")).json()
    assert body["items"][0]["is_linked_with_zohocrm"] is True
    assert body["page_context"]["report_name"] == "Items"
    assert_error(api.get(url(api, "items", filter_by="Status.Nope")), 400, field="filter_by")
    assert_error(api.get(url(api, "items", sort_column="secret")), 400, field="sort_column")


@pytest.mark.parametrize("item_id", ["999999", "x", "12345678901234567890"])
def test_unknown_item_is_404(api, item_id):
    assert_error(api.get(url(api, f"items/{item_id}")), 404, code=1002, field="item_id")
    assert_error(api.put(url(api, f"items/{item_id}"), {"name": "y"}, format="json"), 404, field="item_id")
    assert_error(api.delete(url(api, f"items/{item_id}")), 404, field="item_id")
    assert_error(api.post(url(api, f"items/{item_id}/inactive")), 404, field="item_id")

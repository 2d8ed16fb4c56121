"""Items (goods and services), as Zoho Books v3 serves them (reference §4)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from books.apis.base import BooksApi, BooksListApi, choice, parse_id, sort_order_field
from books.apis.custom_fields import (
    CustomFieldInputSerializer,
    CustomFieldsOutputMixin,
    definitions_for,
    values_from_api,
)
from books.apis.fields import MoneyInput, OutId, OutMoney, OutText, OutTimestamp, TextInput
from books.models import CustomFieldDefinition, CustomFieldEntity, Item, ProductType, Status
from books.selectors import ITEM_API_SORTS, item_get, item_search
from books.services.items import CRM_FIELDS, item_create, item_delete, item_set_status, item_update

ITEM_FILTERS: dict[str, dict[str, Any]] = {
    "Status.All": {},
    "Status.Active": {"status": Status.ACTIVE},
    "Status.Inactive": {"status": Status.INACTIVE},
    "Status.Crm": {"crm_linked_only": True},
}
ITEM_READ_ONLY = (*CRM_FIELDS, "is_linked_with_zohocrm")


class ItemOutputSerializer(CustomFieldsOutputMixin):
    item_id = OutId(source="pk")
    name = OutText()
    status = OutText()
    rate = OutMoney()
    description = OutText()
    sku = OutText()
    unit = OutText()
    product_type = OutText()
    source = OutText()  # type: ignore[assignment]
    zcrm_product_id = OutText()
    is_linked_with_zohocrm = serializers.BooleanField(read_only=True)
    created_time = OutTimestamp(source="created_at")
    last_modified_time = OutTimestamp(source="updated_at")

    class Meta:
        ref_name = "Item"

    def custom_field_entity(self, instance: Item) -> str:
        return CustomFieldEntity.ITEM


class ItemFieldsSerializer(serializers.Serializer[Any]):
    name = TextInput(max_length=200)
    rate = MoneyInput(allow_null=True)
    description = TextInput(max_length=10000)
    sku = TextInput(max_length=100)
    unit = TextInput(max_length=30)
    product_type = choice(ProductType.values, required=False)
    custom_fields = CustomFieldInputSerializer(many=True, required=False)

    class Meta:
        ref_name = "ItemFields"


class ItemApiMixin(BooksApi):
    tag = "items"
    payload_key = "item"
    OutputSerializer: ClassVar[type[serializers.BaseSerializer[Any]] | None] = ItemOutputSerializer
    read_only_keys: ClassVar[tuple[str, ...]] = ITEM_READ_ONLY

    _definitions: dict[str, list[CustomFieldDefinition]] | None = None

    def definitions(self) -> dict[str, list[CustomFieldDefinition]]:
        if self._definitions is None:
            self._definitions = definitions_for(organization=self.organization, entities=(CustomFieldEntity.ITEM,))
        return self._definitions

    def serializer_context(self, instances: Sequence[Any]) -> dict[str, Any]:
        return {"custom_field_definitions": self.definitions()}

    def get_item(self, item_id: str) -> Item:
        return item_get(organization=self.organization, item_id=parse_id(item_id, field="item_id", noun="item"))

    def custom_values(self, data: dict[str, Any]) -> dict[str, Any] | None:
        rows = data.pop("custom_fields", None)
        if not rows:
            return None
        return values_from_api(rows, definitions=self.definitions(), entity=CustomFieldEntity.ITEM)


class ItemListApi(ItemApiMixin, BooksListApi):
    """List items. `zcrm_product_id` finds the item of a CRM product."""

    operation_id = "list_items"
    payload_key = "items"
    report_name = "Items"
    # Integration users pick items for the estimates and sales orders they create.
    integration_user_allowed = True

    class FilterSerializer(serializers.Serializer[Any]):
        filter_by = choice(tuple(ITEM_FILTERS), required=False, allow_blank=True, default="Status.All")
        search_text = serializers.CharField(required=False, allow_blank=True, max_length=200)
        name = serializers.CharField(required=False, allow_blank=True, max_length=200)
        name_startswith = serializers.CharField(required=False, allow_blank=True, max_length=200)
        name_contains = serializers.CharField(required=False, allow_blank=True, max_length=200)
        zcrm_product_id = serializers.CharField(required=False, allow_blank=True, max_length=40)
        sort_column = choice(tuple(ITEM_API_SORTS), required=False, allow_blank=True, default="name")
        sort_order = sort_order_field()

        class Meta:
            ref_name = "ItemListFilter"

    def get(self, request: Request) -> Response:
        filters = self.filters()
        applied = filters.pop("filter_by")
        sort_column = filters.pop("sort_column")
        sort_order = filters.pop("sort_order", "A")
        qs = item_search(
            organization=self.organization,
            sort_column=sort_column,
            descending=sort_order == "D",
            **filters,
            **ITEM_FILTERS[applied],
        )
        return self.page(qs, applied_filter=applied, sort_column=sort_column, sort_order=sort_order)


class ItemCreateApi(ItemApiMixin):
    """Create an item."""

    operation_id = "create_item"
    success_status = 201

    class InputSerializer(ItemFieldsSerializer):
        name = TextInput(max_length=200, required=True, allow_blank=False, allow_null=False)

        class Meta:
            ref_name = "ItemCreateInput"

    def post(self, request: Request) -> Response:
        data = self.validated(self.InputSerializer, self.body())
        custom = self.custom_values(data)
        item = item_create(organization=self.organization, actor=self.actor, data=data, custom_fields=custom)
        return self.reply("The item has been added.", status=201, item=self.render(item))


class ItemGetApi(ItemApiMixin):
    """Get an item."""

    operation_id = "get_item"
    integration_user_allowed = True

    def get(self, request: Request, item_id: str) -> Response:
        return self.reply(item=self.render(self.get_item(item_id)))


class ItemUpdateApi(ItemApiMixin):
    """Update an item. Only the fields sent change."""

    operation_id = "update_item"

    class InputSerializer(ItemFieldsSerializer):
        class Meta:
            ref_name = "ItemUpdateInput"

    def put(self, request: Request, item_id: str) -> Response:
        item = self.get_item(item_id)
        data = self.validated(self.InputSerializer, self.body(), partial=True)
        custom = self.custom_values(data)
        item = item_update(item=item, actor=self.actor, data=data, custom_fields=custom)
        return self.reply("The item details have been saved.", item=self.render(item))


class ItemDeleteApi(ItemApiMixin):
    """Delete an item. An item used in transactions cannot be deleted (409): mark it inactive instead."""

    operation_id = "delete_item"
    payload_key = ""

    def delete(self, request: Request, item_id: str) -> Response:
        item_delete(item=self.get_item(item_id), actor=self.actor)
        return self.reply("The item has been deleted.")


class ItemSetStatusApi(ItemApiMixin):
    payload_key = ""
    status: ClassVar[str] = ""

    def post(self, request: Request, item_id: str) -> Response:
        item_set_status(item=self.get_item(item_id), actor=self.actor, status=self.status)
        return self.reply(f"The item has been marked as {self.status}.")


class ItemMarkActiveApi(ItemSetStatusApi):
    """Mark an item as active."""

    operation_id = "mark_item_active"
    status = Status.ACTIVE


class ItemMarkInactiveApi(ItemSetStatusApi):
    """Mark an item as inactive."""

    operation_id = "mark_item_inactive"
    status = Status.INACTIVE

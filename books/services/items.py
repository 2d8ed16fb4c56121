"""Items (goods and services)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from books.errors import ApplicationError, Conflict
from books.models import CustomFieldEntity, Item, Organization, Status, TransactionLine, User
from books.money import money_round, parse_decimal
from books.selectors import item_list
from books.services.custom_fields import custom_field_values_clean, merge_custom_values
from books.validation import validate_instance

ITEM_FIELDS = ("name", "sku", "product_type", "rate", "description", "unit", "status")
CRM_FIELDS = ("source", "zcrm_product_id")


def _apply(item: Item, data: Mapping[str, Any], allowed: Sequence[str]) -> None:
    for key, value in data.items():
        if key not in allowed:
            raise ApplicationError(f"{key}: unknown or read-only field", field=key)
        if key == "rate":
            try:
                rate = parse_decimal(value if value not in (None, "") else "0")
            except ValueError:
                raise ApplicationError(f"rate: '{str(value)[:40]}' is not a number", field="rate") from None
            if rate < 0:
                raise ApplicationError("rate: must not be negative", field="rate")
            item.rate = money_round(rate)
            continue
        setattr(item, key, (value or "").strip() if isinstance(value, str) or value is None else value)
    if not item.name:
        raise ApplicationError("name: the item name is required", field="name")
    validate_instance(item, exclude=["organization", "custom_fields"])


@transaction.atomic
def item_create(
    *,
    organization: Organization,
    actor: User | None,
    data: Mapping[str, Any],
    custom_fields: Mapping[str, Any] | None = None,
    crm: Mapping[str, str] | None = None,
) -> Item:
    item = Item(organization=organization, rate=Decimal("0.00"))
    _apply(item, data, ITEM_FIELDS)
    if crm:
        _apply(item, crm, CRM_FIELDS)
    if custom_fields:
        item.custom_fields = merge_custom_values(
            {},
            custom_field_values_clean(organization=organization, entity=CustomFieldEntity.ITEM, values=custom_fields),
        )
    item.save()
    return item


@transaction.atomic
def item_update(
    *,
    item: Item,
    actor: User | None,
    data: Mapping[str, Any],
    custom_fields: Mapping[str, Any] | None = None,
    crm: Mapping[str, str] | None = None,
) -> Item:
    _apply(item, data, ITEM_FIELDS)
    if crm:
        _apply(item, crm, CRM_FIELDS)
    if custom_fields:
        item.custom_fields = merge_custom_values(
            item.custom_fields,
            custom_field_values_clean(
                organization=item.organization, entity=CustomFieldEntity.ITEM, values=custom_fields
            ),
        )
    item.save()
    return item


def item_set_status(*, item: Item, actor: User | None, status: str) -> Item:
    if status not in Status.values:
        raise ApplicationError(f"status: '{status}' is not one of active, inactive", field="status")
    if item.status != status:
        item.status = status
        item.save(update_fields=["status", "updated_at"])
    return item


def item_bulk_set_status(
    *, organization: Organization, actor: User | None, item_ids: Sequence[int], status: str
) -> int:
    if status not in Status.values:
        raise ApplicationError(f"status: '{status}' is not one of active, inactive", field="status")
    return Item.objects.filter(organization=organization, pk__in=list(item_ids)).update(
        status=status, updated_at=timezone.now()
    )


def item_list_set_status(
    *,
    organization: Organization,
    actor: User | None,
    status: str,
    item_ids: Sequence[Any] | None = None,
    filter_by: str = "all",
    search: str = "",
) -> int:
    """Bulk update from the Items list page: the selected rows, or with None every item matching the list's
    filter and search. One UPDATE, scoped to the organization."""
    if status not in Status.values:
        raise ApplicationError(f"status: '{status}' is not one of active, inactive", field="status")
    matching = item_list(organization=organization, filter_by=filter_by, search=search)
    if item_ids is not None:
        ids = [int(i) for i in item_ids if str(i).isdigit()]
        if not ids:
            raise ApplicationError("item_ids: select at least one row", field="item_ids")
        matching = matching.filter(pk__in=ids)
    return Item.objects.filter(pk__in=matching.order_by().values("pk")).update(status=status, updated_at=timezone.now())


def item_delete(*, item: Item, actor: User | None) -> None:
    if TransactionLine.objects.filter(item=item).exists():
        raise Conflict(f"item_id: {item.name} is used in transactions; mark it inactive instead", field="item_id")
    item.delete()

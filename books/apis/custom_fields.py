"""Custom fields on the wire. Zoho writes them as a list of `{<key>: ..., "value": ...}` where the key is
`customfield_id`, `api_name` (also `placeholder`), `label` or `index` (1-based, in creation order per module),
and reads them back as a list with the definition's metadata plus a flat `custom_field_hash` (reference §7).
Values are typed and checked by books.services.custom_fields; this module only translates keys."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from books.errors import ApplicationError
from books.models import CustomFieldDefinition, CustomFieldEntity, CustomFieldType, Organization
from books.selectors import custom_field_list_for_entities

ZOHO_DATA_TYPES = {
    CustomFieldType.TEXT: "string",
    CustomFieldType.NUMBER: "number",
    CustomFieldType.DECIMAL: "decimal",
    CustomFieldType.DATE: "date",
    CustomFieldType.CHECKBOX: "check_box",
    CustomFieldType.PICKLIST: "dropdown",
    CustomFieldType.EMAIL: "email",
    CustomFieldType.URL: "url",
    CustomFieldType.PHONE: "phone",
}
KEYS = ("customfield_id", "api_name", "placeholder", "label", "index")
Definitions = Mapping[str, Sequence[CustomFieldDefinition]]


class CustomFieldInputSerializer(serializers.Serializer[Any]):
    customfield_id = serializers.CharField(required=False, max_length=40)
    api_name = serializers.CharField(required=False, max_length=110)
    placeholder = serializers.CharField(required=False, max_length=110)
    label = serializers.CharField(required=False, max_length=100)  # type: ignore[assignment]
    index = serializers.IntegerField(required=False, min_value=1, max_value=1000)
    value = serializers.JSONField(required=False, allow_null=True, encoder=DjangoJSONEncoder)

    class Meta:
        ref_name = "CustomFieldInput"

    def validate_value(self, value: Any) -> Any:
        if isinstance(value, (dict, list)):
            raise serializers.ValidationError(
                f"expected a text, number, date or true/false value, got {'an object' if isinstance(value, dict) else 'a list'}"
            )
        if isinstance(value, str) and "\x00" in value:
            raise serializers.ValidationError("Null characters are not allowed.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not any(key in attrs for key in KEYS):
            raise serializers.ValidationError("give one of customfield_id, api_name, label or index")
        if "value" not in attrs:
            raise serializers.ValidationError({"value": "This field is required."})
        return attrs


class CustomFieldOutputSerializer(serializers.Serializer[Any]):
    customfield_id = serializers.CharField()
    index = serializers.IntegerField()
    api_name = serializers.CharField()
    placeholder = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    value = serializers.JSONField()
    data_type = serializers.CharField()
    is_active = serializers.BooleanField()

    class Meta:
        ref_name = "CustomField"


def definitions_for(*, organization: Organization, entities: tuple[str, ...]) -> dict[str, list[CustomFieldDefinition]]:
    """One query for every definition a response needs, grouped by entity in creation order."""
    grouped: dict[str, list[CustomFieldDefinition]] = defaultdict(list)
    for definition in custom_field_list_for_entities(organization=organization, entities=entities):
        grouped[definition.entity].append(definition)
    return dict(grouped)


def _entity_noun(entity: str) -> str:
    return CustomFieldEntity(entity).label.lower()


def values_from_api(
    rows: Sequence[Mapping[str, Any]], *, definitions: Definitions, entity: str, field: str = "custom_fields"
) -> dict[str, Any]:
    """`{api_name: raw value}` for the service to type-check; unknown keys are an error naming the row."""
    defs = list(definitions.get(entity, ()))
    lookups: dict[str, dict[Any, CustomFieldDefinition]] = {
        "customfield_id": {str(d.pk): d for d in defs},
        "api_name": {d.api_name.lower(): d for d in defs},
        "placeholder": {d.api_name.lower(): d for d in defs},
        "label": {d.label.lower(): d for d in defs},
        "index": dict(enumerate(defs, start=1)),
    }
    values: dict[str, Any] = {}
    for position, row in enumerate(rows):
        key = next(k for k in KEYS if k in row)
        wanted = row[key] if key == "index" else str(row[key]).strip()
        lookup_key = wanted if key in ("index", "customfield_id") else str(wanted).lower()
        definition = lookups[key].get(lookup_key)
        if definition is None or not definition.is_active:
            raise ApplicationError(
                f"{field}[{position}].{key}: no active custom field {wanted!r} for {_entity_noun(entity)}",
                field=f"{field}[{position}].{key}",
            )
        values[definition.api_name] = row["value"]
    return values


def _typed(definition: CustomFieldDefinition, value: Any) -> Any:
    if definition.data_type == CustomFieldType.DECIMAL and isinstance(value, str):
        try:
            return Decimal(value)
        except ArithmeticError:  # pragma: no cover - stored values were checked on the way in
            return value
    return value


def values_to_api(values: Mapping[str, Any], definitions: Sequence[CustomFieldDefinition]) -> list[dict[str, Any]]:
    out = []
    for position, definition in enumerate(definitions, start=1):
        if definition.api_name not in values:
            continue
        out.append(
            {
                "customfield_id": str(definition.pk),
                "index": position,
                "api_name": definition.api_name,
                "placeholder": definition.api_name,
                "label": definition.label,
                "value": _typed(definition, values[definition.api_name]),
                "data_type": ZOHO_DATA_TYPES.get(CustomFieldType(definition.data_type), "string"),
                "is_active": definition.is_active,
            }
        )
    return out


def hash_to_api(values: Mapping[str, Any], definitions: Sequence[CustomFieldDefinition]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for definition in definitions:
        if definition.api_name not in values:
            continue
        raw = _typed(definition, values[definition.api_name])
        formatted = ("true" if raw else "false") if isinstance(raw, bool) else str(raw)
        result[definition.api_name] = formatted
        result[f"{definition.api_name}_unformatted"] = raw
    return result


class CustomFieldsOutputMixin(serializers.Serializer[Any]):
    """Adds `custom_fields` and `custom_field_hash`; the view puts the definitions in the context once."""

    custom_fields = serializers.SerializerMethodField()
    custom_field_hash = serializers.SerializerMethodField()

    def custom_field_entity(self, instance: Any) -> str:
        raise NotImplementedError

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = dict(super().to_representation(instance))
        for key in ("custom_fields", "custom_field_hash"):  # after the record's own fields, as Zoho lists them
            data[key] = data.pop(key)
        return data

    def _definitions(self, instance: Any) -> Sequence[CustomFieldDefinition]:
        definitions: Definitions = self.context.get("custom_field_definitions", {})
        return definitions.get(self.custom_field_entity(instance), ())

    @extend_schema_field(CustomFieldOutputSerializer(many=True))
    def get_custom_fields(self, instance: Any) -> list[dict[str, Any]]:
        return values_to_api(instance.custom_fields or {}, self._definitions(instance))

    @extend_schema_field(serializers.DictField(child=serializers.JSONField()))
    def get_custom_field_hash(self, instance: Any) -> dict[str, Any]:
        return hash_to_api(instance.custom_fields or {}, self._definitions(instance))

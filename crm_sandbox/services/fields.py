"""Create Custom Field (`POST /settings/fields?module=…`, ZohoCRM.settings.fields.CREATE; Zoho's v8 docs page
"Create Custom Fields"). Input keys: `field_label` and `data_type` (mandatory), `length`, `api_name`,
`pick_list_values` [{display_value, actual_value}], `unique` {casesensitive} and `external` {show, type,
allow_multiple_config} (the "External ID" field of "Records APIs using External ID", a unique single-line field).
"""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction

from crm_sandbox import fieldcache
from crm_sandbox.common import new_id
from crm_sandbox.models import FieldDef, Org
from crm_sandbox.schema import JSON_TYPES

CREATABLE_TYPES = {
    "text", "textarea", "email", "phone", "website", "picklist", "multiselectpicklist", "integer", "bigint",
    "double", "currency", "percent", "boolean", "date", "datetime",
}  # fmt: skip
UNIQUE_TYPES = {"text", "email", "phone", "website", "integer", "bigint", "double", "currency", "percent"}
DEFAULT_LENGTH = {"text": 255, "email": 100, "phone": 30, "website": 255, "textarea": 32000}


def _error(code: str, message: str, index: int, api_name: str, **extra: Any) -> dict[str, Any]:
    return {
        "code": code,
        "details": {"api_name": api_name, "json_path": f"$.fields[{index}].{api_name}", **extra},
        "message": message,
        "status": "error",
    }


def api_name_from_label(label: str) -> str:
    """ "Ledgerbridge ID" → "Ledgerbridge_ID": letters, digits and single underscores, starting with a letter."""
    name = re.sub(r"[^A-Za-z0-9]+", "_", label).strip("_")
    if not name or not name[0].isalpha():
        name = f"Field_{name}".strip("_")
    return name[:50]


def field_create(*, org: Org, module: str, spec: Any, index: int = 0) -> dict[str, Any]:
    """One `fields[]` item → its result entry (SUCCESS with the new id, or an error naming the key)."""
    if not isinstance(spec, dict):
        return _error("INVALID_DATA", "invalid data", index, "fields")
    label = str(spec.get("field_label") or "").strip()
    if not label:
        return _error("MANDATORY_NOT_FOUND", "required field not found", index, "field_label")
    data_type = spec.get("data_type")
    if not data_type:
        return _error("MANDATORY_NOT_FOUND", "required field not found", index, "data_type")
    if data_type not in CREATABLE_TYPES:
        return _error("INVALID_DATA", "invalid data", index, "data_type", supported_values=sorted(CREATABLE_TYPES))
    api_name = str(spec.get("api_name") or api_name_from_label(label))
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,49}", api_name) or "__" in api_name or api_name.endswith("_"):
        return _error("INVALID_DATA", "invalid data", index, "api_name")
    length = spec.get("length", DEFAULT_LENGTH.get(data_type))
    if length is not None and (not isinstance(length, int) or isinstance(length, bool) or not 1 <= length <= 32000):
        return _error("INVALID_DATA", "invalid data", index, "length", expected_data_type="integer")
    unique = spec.get("unique")
    external = spec.get("external")
    if unique not in (None, {}, False) and not isinstance(unique, dict):
        return _error("INVALID_DATA", "invalid data", index, "unique", expected_data_type="jsonobject")
    if external not in (None, {}, False) and not isinstance(external, dict):
        return _error("INVALID_DATA", "invalid data", index, "external", expected_data_type="jsonobject")
    is_external = bool(external)
    is_unique = bool(unique) or is_external  # an external-id field holds one record's id: unique by nature
    if is_external and data_type != "text":
        return _error("INVALID_DATA", "an external field must be a single line (text) field", index, "external")
    if is_unique and data_type not in UNIQUE_TYPES:
        return _error("INVALID_DATA", f"a {data_type} field cannot be unique", index, "unique")
    casesensitive = (
        str((unique or {}).get("casesensitive", "false")).lower() == "true" if isinstance(unique, dict) else False
    )
    picklist: list[str] = []
    if data_type in ("picklist", "multiselectpicklist"):
        values = spec.get("pick_list_values")
        if not isinstance(values, list) or not values:
            return _error("MANDATORY_NOT_FOUND", "required field not found", index, "pick_list_values")
        for value in values:
            text = value.get("actual_value") or value.get("display_value") if isinstance(value, dict) else value
            if not isinstance(text, str) or not text.strip():
                return _error("INVALID_DATA", "invalid data", index, "pick_list_values")
            picklist.append(text.strip())
    with transaction.atomic():
        existing = FieldDef.objects.filter(org=org, module=module)
        if existing.filter(api_name__iexact=api_name).exists():
            return _error("DUPLICATE_DATA", "duplicate data", index, "api_name")
        if existing.filter(field_label__iexact=label).exists():
            return _error("DUPLICATE_DATA", "duplicate data", index, "field_label")
        last = existing.order_by("-sequence").values_list("sequence", flat=True).first() or 0
        field = FieldDef.objects.create(
            id=new_id(),
            org=org,
            module=module,
            api_name=api_name,
            field_label=label,
            data_type=data_type,
            json_type=JSON_TYPES.get(data_type, "string"),
            length=length if data_type in DEFAULT_LENGTH or data_type == "textarea" else None,
            decimal_place=2 if data_type == "currency" else None,
            custom_field=True,
            unique=is_unique,
            unique_casesensitive=casesensitive,
            external=is_external,
            pick_list_values=picklist,
            sequence=last + 1,
        )
    fieldcache.invalidate()
    return {"code": "SUCCESS", "details": {"id": str(field.id)}, "message": "field created", "status": "success"}

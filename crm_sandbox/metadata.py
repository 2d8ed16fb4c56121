"""The JSON of metadata answers (fields, modules, views, layouts, pipeline, org, currencies, users, roles), shaped
as the SDK's json_details.json and the reference's samples describe them."""

from __future__ import annotations

from typing import Any

from crm_sandbox import fieldcache
from crm_sandbox.common import ID_PREFIX, fmt_dt
from crm_sandbox.models import CrmUser, Currency, CustomView, FieldDef, Org, Role
from crm_sandbox.schema import MODULES, PIPELINE_NAME, STAGE_DISPLAY, STAGES
from crm_sandbox.services.records import module_id


def static_id(org: Org, slot: int) -> int:
    """Stable ids for things the sandbox does not store (layouts, pipeline, stages, profiles): 19 digits."""
    return int(f"{ID_PREFIX}9{org.id % 10**9:09d}{slot:02d}")


def layout_id(org: Org, module: str) -> int:
    return static_id(org, list(MODULES).index(module))


def _stage_id(org: Org, index: int) -> int:
    return static_id(org, 20 + index)


FORECAST_CATEGORY_SLOTS = {"Pipeline": 60, "Best Case": 61, "Closed": 62, "Omitted": 63}


def _picklist(org: Org, f: FieldDef) -> list[dict[str, Any]]:
    if f.api_name == "Stage" and f.module == "Deals":
        return [
            {
                "display_value": STAGE_DISPLAY.get(name, name),
                "actual_value": name,
                "reference_value": STAGE_DISPLAY.get(name, name),
                "sequence_number": i + 1,
                "type": "used",
                "id": str(_stage_id(org, i)),
                "probability": probability,
                "forecast_type": forecast_type,
                "forecast_category": {"name": category, "id": str(static_id(org, FORECAST_CATEGORY_SLOTS[category]))},
                "colour_code": None,
            }
            for i, (name, probability, forecast_type, category) in enumerate(STAGES)
        ]
    values = [v for v in f.pick_list_values if isinstance(v, str)]
    if f.data_type == "picklist" and "-None-" not in values and not f.custom_field and f.api_name != "Currency":
        values = ["-None-", *values]
    return [
        {
            "display_value": v,
            "actual_value": v,
            "reference_value": v,
            "sequence_number": i + 1,
            "type": "used",
            "id": str(f.id + 100_000_000 + i),  # stable per field and value
            "colour_code": None,
        }
        for i, v in enumerate(values)
    ]


def field_json(org: Org, f: FieldDef) -> dict[str, Any]:
    lookup: dict[str, Any] = {}
    if f.data_type == "lookup" and f.lookup_module:
        lookup = {
            "display_label": f.field_label,
            "api_name": f.api_name,
            "module": {"api_name": f.lookup_module, "id": str(module_id(f.lookup_module))},
            "id": str(f.id + 200_000_000),
        }
    return {
        "api_name": f.api_name,
        "field_label": f.field_label,
        "display_label": f.field_label,
        "id": str(f.id),
        "data_type": f.data_type,
        "json_type": f.json_type,
        "custom_field": f.custom_field,
        "system_mandatory": f.system_mandatory,
        "read_only": f.read_only,
        "field_read_only": f.read_only,
        "visible": True,
        "length": f.length,
        "decimal_place": f.decimal_place,
        "unique": {"casesensitive": "true" if f.unique_casesensitive else "false"} if f.unique else {},
        "external": {"show": True, "type": "user", "allow_multiple_config": False} if f.external else None,
        "pick_list_values": _picklist(org, f) if f.data_type in ("picklist", "multiselectpicklist") else [],
        "lookup": lookup,
        "currency": {"rounding_option": "normal", "precision": 2} if f.data_type == "currency" else {},
        "created_source": "crm" if f.custom_field else "default",
        "type": "used",
        "searchable": True,
        "filterable": True,
        "sortable": f.api_name in ("Created_Time", "Modified_Time"),
        "operation_type": {
            "web_update": not f.read_only,
            "api_create": not f.read_only,
            "web_create": not f.read_only,
            "api_update": not f.read_only,
        },
        "created_time": fmt_dt(f.created_time, org.time_zone) if f.custom_field else None,
    }


def module_json(module: str) -> dict[str, Any]:
    spec = MODULES[module]
    return {
        "id": str(module_id(module)),
        "api_name": module,
        "module_name": module,
        "plural_label": module,
        "singular_label": spec.singular,
        "api_supported": True,
        "generated_type": "default",
        "creatable": True,
        "editable": True,
        "deletable": True,
        "viewable": True,
        "visible": True,
        "status": "visible",
        "sequence_number": list(MODULES).index(module) + 1,
        "global_search_supported": True,
        "modified_time": None,
    }


def _criteria_json(org: Org, module: str, node: Any) -> Any:
    if not node:
        return None
    if "group" in node:
        return {
            "group_operator": node.get("group_operator", "and"),
            "group": [_criteria_json(org, module, item) for item in node["group"]],
        }
    api_name = (node.get("field") or {}).get("api_name", "")
    f = fieldcache.fields_of(org.id, module).get(api_name)
    return {
        "comparator": node.get("comparator", "equal"),
        "field": {"api_name": api_name, "id": str(f.id) if f else None},
        "value": node.get("value"),
    }


def view_json(org: Org, view: CustomView, *, detail: bool) -> dict[str, Any]:
    users = fieldcache.users_of(org.id)
    creator = users.get(view.created_by_id or 0)
    body: dict[str, Any] = {
        "display_value": view.name,
        "created_time": None if view.system_defined else fmt_dt(view.created_time, org.time_zone),
        "system_name": view.system_name or None,
        "created_by": {"name": creator["name"], "id": creator["id"]} if creator else None,
        "default": view.is_default,
        "modified_time": None if view.system_defined else fmt_dt(view.modified_time, org.time_zone),
        "name": view.name,
        "system_defined": view.system_defined,
        "modified_by": {"name": creator["name"], "id": creator["id"]} if creator else None,
        "id": str(view.id),
        "category": view.category,
        "last_accessed_time": None,
        "locked": False,
        "favorite": None,
    }
    if detail:
        body.update(
            criteria=_criteria_json(org, view.module, view.criteria),
            fields=[{"api_name": MODULES[view.module].name_field, "id": None}],
            sort_by=None,
            sort_order=None,
            shared_to=None,
            access_type="public" if view.category == CustomView.Category.PUBLIC else "only_to_me",
            module={"api_name": view.module, "id": str(module_id(view.module))},
        )
    return body


def layout_json(org: Org, module: str) -> dict[str, Any]:
    defs = fieldcache.fields_of(org.id, module)
    return {
        "id": str(layout_id(org, module)),
        "name": "Standard",
        "display_label": "Standard",
        "api_name": "Standard",
        "status": "active",
        "visible": True,
        "source": "crm",
        "generated_type": "default",
        "created_time": None,
        "modified_time": None,
        "profiles": [{"name": "Administrator", "id": str(static_id(org, 40)), "default": True}],
        "sections": [
            {
                "display_label": f"{MODULES[module].singular} Information",
                "api_name": f"{MODULES[module].singular} Information",
                "sequence_number": 1,
                "column_count": 2,
                "fields": [
                    {"api_name": f.api_name, "id": str(f.id), "field_label": f.field_label, "data_type": f.data_type}
                    for f in defs.values()
                    if org.mc_status or f.api_name not in ("Currency", "Exchange_Rate")
                ],
            }
        ],
    }


def pipeline_json(org: Org) -> dict[str, Any]:
    return {
        "id": str(static_id(org, 10)),
        "display_value": PIPELINE_NAME,
        "actual_value": PIPELINE_NAME.split(" ")[0],
        "default": True,
        "child_available": False,
        "maps": [
            {
                "display_value": STAGE_DISPLAY.get(name, name),
                "actual_value": name,
                "sequence_number": i + 1,
                "id": str(_stage_id(org, i)),
                "forecast_type": forecast_type,
                "forecast_category": {"name": category, "id": str(static_id(org, FORECAST_CATEGORY_SLOTS[category]))},
                "colour_code": None,
            }
            for i, (name, _probability, forecast_type, category) in enumerate(STAGES)
        ],
    }


def org_json(org: Org) -> dict[str, Any]:
    base = org.currencies.filter(is_base=True).first()
    users = len(fieldcache.users_of(org.id))
    return {
        "id": str(org.id),
        "company_name": org.company_name,
        "alias": None,
        "domain_name": org.domain_name,
        "type": "production",
        "primary_email": org.primary_email,
        "primary_zuid": str(
            CrmUser.objects.filter(org=org, is_admin=True).order_by("id").values_list("zuid", flat=True).first() or ""
        ),
        "zgid": org.zgid,
        "phone": None,
        "mobile": None,
        "website": None,
        "fax": None,
        "employee_count": str(users),
        "description": None,
        "time_zone": org.time_zone,
        "iso_code": org.currency_iso,
        "currency_locale": org.currency_iso,
        "currency_symbol": base.symbol if base else "$",
        "currency": base.name if base else org.currency_iso,
        "mc_status": org.mc_status,
        "country": None,
        "country_code": org.country_code,
        "street": None,
        "city": None,
        "state": None,
        "zip": None,
        "gapps_enabled": False,
        "translation_enabled": False,
        "privacy_settings": False,
        "hipaa_compliance_enabled": False,
        "max_per_page": 200,
        "created_time": fmt_dt(org.created_time, org.time_zone),
        "license_details": {
            "paid": org.edition != "free",
            # UNCONFIRMED vocabulary (reference §7.1): the lower-case edition names.
            "paid_type": org.edition,
            "paid_expiry": None,
            "users_license_purchased": users,
            "trial_type": None,
            "trial_expiry": None,
            "portal_users_license_purchased": 0,
        },
    }


def currency_json(org: Org, c: Currency) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "name": c.name,
        "iso_code": c.iso_code,
        "symbol": c.symbol,
        "is_base": c.is_base,
        "is_active": c.is_active,
        "exchange_rate": f"{c.exchange_rate:.9f}",
        "prefix_symbol": True,
        "format": {"decimal_separator": "Period", "thousand_separator": "Comma", "decimal_places": "2"},
        "created_time": fmt_dt(c.created_time, org.time_zone),
        "modified_time": fmt_dt(c.created_time, org.time_zone),
    }


def user_json(org: Org, u: CrmUser) -> dict[str, Any]:
    return {
        "id": str(u.id),
        "full_name": u.full_name,
        "first_name": u.first_name,
        "last_name": u.last_name,
        "email": u.email,
        "status": u.status,
        "confirm": True,
        "zuid": u.zuid,
        "role": {"name": u.role.name, "id": str(u.role.id)} if u.role else None,
        "profile": {"name": u.profile_name, "id": str(static_id(org, 40 if u.profile_name == "Administrator" else 41))},
        "time_zone": org.time_zone,
        "locale": "en_US",
        "country_locale": "en_US",
        "Currency": org.currency_iso,
        "Modified_Time": fmt_dt(u.modified_time, org.time_zone),
        "type__s": "Regular User",
    }


def role_json(org: Org, r: Role) -> dict[str, Any]:
    return {
        "id": str(r.id),
        "name": r.name,
        "display_label": r.name,
        "description": None,
        "reporting_to": {"name": r.reporting_to.name, "id": str(r.reporting_to.id)} if r.reporting_to else None,
        "share_with_peers": r.share_with_peers,
        "forecast_manager": None,
        "admin_user": r.admin_user,
        "created_time__s": fmt_dt(r.created_time, org.time_zone),
        "modified_time__s": fmt_dt(r.created_time, org.time_zone),
    }

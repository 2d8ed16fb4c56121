"""Every write of a record goes through here: the API views and the sandbox's own pages call the same functions,
so an edit on a page fires the same notifications as an API call.

Each function takes a batch (≤100 for the API), validates every record on its own, writes the good ones in one
transaction with bulk queries, puts the notifications for them in the outbox in that same transaction, and
returns one result per input record, in input order (reference §3.3).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models.fields.json import KT

from crm_sandbox import fieldcache
from crm_sandbox.common import fmt_dt, new_ids, now
from crm_sandbox.models import CrmUser, FieldDef, Org, Record, UniqueValue
from crm_sandbox.schema import MODULES, PIPELINE_NAME, STAGE_PROBABILITY, SYSTEM_FIELD_NAMES
from crm_sandbox.services.notifications import notifications_enqueue

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class RecordResult:
    ok: bool
    code: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    action: str | None = None  # upsert only
    duplicate_field: str | None = None
    upsert: bool = False
    record_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "code": self.code,
            "details": self.details,
            "message": self.message,
            "status": "success" if self.ok else "error",
        }
        if self.upsert and self.ok:
            body["action"] = self.action
            body["duplicate_field"] = self.duplicate_field
        return body


class FieldError(Exception):
    def __init__(self, code: str, message: str, api_name: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.api_name = api_name
        self.extra = extra

    def result(self, index: int) -> RecordResult:
        details = {"api_name": self.api_name, "json_path": f"$.data[{index}].{self.api_name}", **self.extra}
        return RecordResult(False, self.code, self.message, details)


def _invalid(api_name: str, expected: str) -> FieldError:
    return FieldError("INVALID_DATA", "invalid data", api_name, expected_data_type=expected)


def _id_of(value: Any) -> int | None:
    if isinstance(value, dict):
        value = value.get("id")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _clean_value(f: FieldDef, value: Any) -> Any:
    if value is None:
        return None
    t = f.data_type
    if t in {"text", "textarea", "email", "phone", "website", "picklist", "autonumber"}:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise _invalid(f.api_name, "string")
        text = str(value)
        if f.length and len(text) > f.length:
            raise FieldError("INVALID_DATA", "invalid data", f.api_name, maximum_length=f.length)
        if t == "email" and text and not EMAIL_RE.match(text):
            raise _invalid(f.api_name, "email")
        if t == "picklist" and text == "-None-":
            return None
        return text
    if t in {"integer", "bigint"}:
        if isinstance(value, bool):
            raise _invalid(f.api_name, "integer")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise _invalid(f.api_name, "integer")
    if t in {"double", "currency", "percent"}:
        if isinstance(value, bool):
            raise _invalid(f.api_name, "double")
        if isinstance(value, int | float):
            return value
        if isinstance(value, str):
            try:
                return float(Decimal(value.strip()))
            except InvalidOperation:
                pass
        raise _invalid(f.api_name, "double")
    if t == "boolean":
        if isinstance(value, bool):
            return value
        raise _invalid(f.api_name, "boolean")
    if t == "date":
        if isinstance(value, str) and DATE_RE.match(value):
            try:
                dt.date.fromisoformat(value)
                return value
            except ValueError:
                pass
        raise _invalid(f.api_name, "date")
    if t == "datetime":
        if isinstance(value, str):
            try:
                dt.datetime.fromisoformat(value)
                return value
            except ValueError:
                pass
        raise _invalid(f.api_name, "datetime")
    if t in {"lookup", "ownerlookup"}:
        ref = _id_of(value)
        if ref is None:
            raise FieldError("INVALID_DATA", "the id given seems to be invalid", f.api_name, expected_data_type=t)
        return {"id": str(ref)}
    if t == "multiselectpicklist":
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        raise _invalid(f.api_name, "jsonarray")
    return value


@dataclass
class _Prepared:
    index: int
    data: dict[str, Any]
    owner_id: int | None
    changed: set[str]
    record: Record | None = None


def _prepare(
    org: Org, module: str, defs: dict[str, FieldDef], raw: Any, index: int, *, creating: bool, actor: CrmUser
) -> _Prepared | RecordResult:
    if not isinstance(raw, dict):
        return RecordResult(False, "INVALID_DATA", "invalid data", {"json_path": f"$.data[{index}]"})
    data: dict[str, Any] = {}
    owner_id: int | None = None
    try:
        for key, value in raw.items():
            f = defs.get(key)
            if f is None or key == "id":
                continue  # unknown keys and `$` meta keys are ignored, as Zoho does
            if key == "Owner":
                ref = _id_of(value)
                if ref is None or ref not in fieldcache.users_of(org.id):
                    raise FieldError("INVALID_DATA", "the id given seems to be invalid", "Owner")
                owner_id = ref
                continue
            if f.read_only or key in SYSTEM_FIELD_NAMES:
                continue
            data[key] = _clean_value(f, value)
    except FieldError as exc:
        return exc.result(index)
    if creating:
        for f in defs.values():
            if f.system_mandatory and data.get(f.api_name) in (None, ""):
                return RecordResult(
                    False,
                    "MANDATORY_NOT_FOUND",
                    "required field not found",
                    {"api_name": f.api_name, "json_path": f"$.data[{index}].{f.api_name}"},
                )
        if owner_id is None:
            owner_id = actor.id
    return _Prepared(
        index=index, data=data, owner_id=owner_id, changed=set(data) | ({"Owner"} if "Owner" in raw else set())
    )


def _derive(org: Org, module: str, data: dict[str, Any], changed: set[str]) -> None:
    """Fields the CRM computes: a contact's Full_Name, a deal's Probability from its Stage and Expected_Revenue."""
    if module == "Contacts":
        full = " ".join(p for p in (data.get("First_Name"), data.get("Last_Name")) if p)
        if data.get("Full_Name") != full:
            data["Full_Name"] = full
            changed.add("Full_Name")
    if module == "Deals":
        if "Stage" in changed and "Probability" not in changed and data.get("Stage") in STAGE_PROBABILITY:
            data["Probability"] = STAGE_PROBABILITY[data["Stage"]]
            changed.add("Probability")
        if not data.get("Pipeline"):
            data["Pipeline"] = PIPELINE_NAME  # UNCONFIRMED: Zoho requires Pipeline only where pipelines are enabled
        amount, prob = data.get("Amount"), data.get("Probability")
        expected = round(float(amount) * float(prob) / 100, 2) if amount is not None and prob is not None else None
        if data.get("Expected_Revenue") != expected:
            data["Expected_Revenue"] = expected
            changed.add("Expected_Revenue")
    if org.mc_status and "Currency" in data and not data.get("Currency"):
        data["Currency"] = org.currency_iso


def _check_probability(module: str, p: _Prepared) -> RecordResult | None:
    """Deals: a Stage must be one of the pipeline's stages, and Probability within 0–100."""
    if module == "Deals" and "Stage" in p.changed and p.data.get("Stage") not in STAGE_PROBABILITY:
        return RecordResult(
            False,
            "INVALID_DATA",
            "Pipeline doesn't contain the Stage",
            {"api_name": "Stage", "json_path": f"$.data[{p.index}].Stage"},
        )
    if module == "Deals" and p.data.get("Probability") is not None and not 0 <= p.data["Probability"] <= 100:
        return RecordResult(
            False,
            "INVALID_DATA",
            "Given Probability is not valid",
            {"api_name": "Probability", "json_path": f"$.data[{p.index}].Probability"},
        )
    return None


def _check_lookups(org: Org, defs: dict[str, FieldDef], items: Sequence[_Prepared]) -> dict[int, RecordResult]:
    """Lookup ids must name live records of the right module: one query per target module for the batch."""
    wanted: dict[str, set[int]] = {}
    for p in items:
        for key, value in p.data.items():
            f = defs[key]
            if f.data_type == "lookup" and value:
                wanted.setdefault(f.lookup_module, set()).add(int(value["id"]))
    found: dict[str, set[int]] = {
        mod: set(
            Record.objects.filter(org=org, module=mod, deleted_time__isnull=True, id__in=ids).values_list(
                "id", flat=True
            )
        )
        for mod, ids in wanted.items()
    }
    errors: dict[int, RecordResult] = {}
    for p in items:
        for key, value in p.data.items():
            f = defs[key]
            if f.data_type == "lookup" and value and int(value["id"]) not in found[f.lookup_module]:
                errors[p.index] = RecordResult(
                    False,
                    "INVALID_DATA",
                    "the id given seems to be invalid",
                    {"api_name": key, "json_path": f"$.data[{p.index}].{key}", "expected_data_type": "lookup"},
                )
                break
    return errors


def _unique_fields(defs: dict[str, FieldDef]) -> list[FieldDef]:
    return [f for f in defs.values() if f.unique]


def _unique_key(f: FieldDef, value: Any) -> str:
    text = str(value)
    return text if f.unique_casesensitive else text.lower()


def _check_unique(
    org: Org, module: str, defs: dict[str, FieldDef], items: Sequence[_Prepared], users: dict[int, dict[str, Any]]
) -> dict[int, RecordResult]:
    """DUPLICATE_DATA for a value of a user-defined unique field that another record (or an earlier one in the
    batch) already has. System duplicate-check fields (Account_Name, …) do not block inserts."""
    uniques = _unique_fields(defs)
    if not uniques:
        return {}
    errors: dict[int, RecordResult] = {}
    wanted: dict[str, set[str]] = {}
    for p in items:
        for f in uniques:
            if p.data.get(f.api_name) not in (None, ""):
                wanted.setdefault(f.api_name, set()).add(_unique_key(f, p.data[f.api_name]))
    taken: dict[tuple[str, str], tuple[int, int | None]] = {}
    for api_name, values in wanted.items():
        for uv_field, uv_value, rec_id, owner_id in UniqueValue.objects.filter(
            org=org, module=module, api_name=api_name, value__in=values
        ).values_list("api_name", "value", "record_id", "record__owner_id"):
            taken[(uv_field, uv_value)] = (rec_id, owner_id)
    for p in items:
        own_id = p.record.id if p.record else None
        for f in uniques:
            value = p.data.get(f.api_name)
            if value in (None, ""):
                continue
            key = (f.api_name, _unique_key(f, value))
            holder = taken.get(key)
            if holder and holder[0] != own_id:
                owner = users.get(holder[1] or 0, {})
                errors[p.index] = RecordResult(
                    False,
                    "DUPLICATE_DATA",
                    "duplicate data",
                    {
                        "api_name": f.api_name,
                        "json_path": f"$.data[{p.index}].{f.api_name}",
                        "duplicate_record": {
                            "id": str(holder[0]),
                            "module": {"api_name": module, "id": str(module_id(module))},
                            "Owner": {"name": owner.get("name"), "id": owner.get("id"), "zuid": owner.get("id")},
                        },
                        "more_records": False,
                    },
                )
                break
            taken[key] = (own_id or -p.index - 1, p.owner_id)
    return errors


def module_id(module: str) -> int:
    """A stable id for a module (the same in every org, like the ids of Zoho's standard modules)."""
    return 5725767000000002000 + list(MODULES).index(module) * 2 + 175


def _columns(module: str, data: dict[str, Any]) -> tuple[str, str]:
    spec = MODULES[module]
    name = str(data.get(spec.name_field) or "").lower()[:255]
    email = str(data.get(spec.email_field) or "").lower()[:255] if spec.email_field else ""
    return name, email


def _write_unique_values(org: Org, module: str, defs: dict[str, FieldDef], items: Iterable[_Prepared]) -> None:
    uniques = _unique_fields(defs)
    if not uniques:
        return
    touched = [p for p in items if p.record is not None and any(f.api_name in p.changed for f in uniques)]
    if not touched:
        return
    names = [f.api_name for f in uniques]
    UniqueValue.objects.filter(record_id__in=[p.record.id for p in touched if p.record], api_name__in=names).delete()
    UniqueValue.objects.bulk_create(
        [
            UniqueValue(
                org=org, module=module, api_name=f.api_name, value=_unique_key(f, p.data[f.api_name]), record=p.record
            )
            for p in touched
            if p.record
            for f in uniques
            if p.data.get(f.api_name) not in (None, "")
        ]
    )


def _success(record: Record, message: str, org: Org, users: dict[int, dict[str, Any]]) -> RecordResult:
    def who(user_id: int | None) -> dict[str, Any] | None:
        u = users.get(user_id or 0)
        return {"name": u["name"], "id": u["id"]} if u else None

    return RecordResult(
        True,
        "SUCCESS",
        message,
        {
            "Modified_Time": fmt_dt(record.modified_time, org.time_zone),
            "Modified_By": who(record.modified_by_id),
            "Created_Time": fmt_dt(record.created_time, org.time_zone),
            "id": str(record.id),
            "Created_By": who(record.created_by_id),
            "$approval_state": "approved",
        },
        record_id=record.id,
    )


def records_insert(
    *, org: Org, module: str, rows: Sequence[Any], actor: CrmUser, notify: bool = True
) -> list[RecordResult]:
    defs = fieldcache.fields_of(org.id, module)
    users = fieldcache.users_of(org.id)
    results: dict[int, RecordResult] = {}
    prepared: list[_Prepared] = []
    for index, raw in enumerate(rows):
        p = _prepare(org, module, defs, raw, index, creating=True, actor=actor)
        if isinstance(p, RecordResult):
            results[index] = p
            continue
        _derive(org, module, p.data, p.changed)
        error = _check_probability(module, p)
        if error:
            results[index] = error
            continue
        prepared.append(p)
    with transaction.atomic():
        results.update(_check_lookups(org, defs, prepared))
        prepared = [p for p in prepared if p.index not in results]
        results.update(_check_unique(org, module, defs, prepared, users))
        prepared = [p for p in prepared if p.index not in results]
        stamp = now()
        for p, new_id in zip(prepared, new_ids(len(prepared)), strict=True):
            name, email = _columns(module, p.data)
            p.record = Record(
                id=new_id,
                org=org,
                module=module,
                data=p.data,
                name=name,
                email=email,
                owner_id=p.owner_id,
                created_by_id=actor.id,
                modified_by_id=actor.id,
                created_time=stamp,
                modified_time=stamp,
            )
        Record.objects.bulk_create([p.record for p in prepared if p.record])
        try:
            _write_unique_values(org, module, defs, prepared)
        except IntegrityError:  # a concurrent writer took the value between our check and our insert
            transaction.set_rollback(True)
            raise
        for p in prepared:
            assert p.record is not None
            results[p.index] = _success(p.record, "record added", org, users)
        if notify and prepared:
            notifications_enqueue(
                org=org, module=module, event="create", changes={p.record.id: set(p.data) for p in prepared if p.record}
            )
    return [results[i] for i in range(len(rows))]


def records_update(
    *, org: Org, module: str, rows: Sequence[Any], actor: CrmUser, notify: bool = True, force_id: int | None = None
) -> list[RecordResult]:
    defs = fieldcache.fields_of(org.id, module)
    users = fieldcache.users_of(org.id)
    results: dict[int, RecordResult] = {}
    ids: dict[int, int] = {}
    for index, raw in enumerate(rows):
        rid = force_id if force_id is not None else _id_of(raw.get("id")) if isinstance(raw, dict) else None
        if rid is None:
            results[index] = RecordResult(
                False,
                "MANDATORY_NOT_FOUND" if isinstance(raw, dict) and "id" not in raw else "INVALID_DATA",
                "required field not found"
                if isinstance(raw, dict) and "id" not in raw
                else "the id given seems to be invalid",
                {"api_name": "id", "json_path": f"$.data[{index}].id"},
            )
        else:
            ids[index] = rid
    with transaction.atomic():
        existing = Record.objects.filter(org=org, module=module, deleted_time__isnull=True).in_bulk(
            list(set(ids.values()))
        )
        prepared: list[_Prepared] = []
        for index, rid in ids.items():
            record = existing.get(rid)
            if record is None:
                results[index] = RecordResult(
                    False,
                    "INVALID_DATA",
                    "the id given seems to be invalid",
                    {"api_name": "id", "json_path": f"$.data[{index}].id", "expected_data_type": "bigint"},
                )
                continue
            p = _prepare(org, module, defs, rows[index], index, creating=False, actor=actor)
            if isinstance(p, RecordResult):
                results[index] = p
                continue
            merged = {**record.data, **p.data}
            changed = {k for k in p.data if record.data.get(k) != p.data[k]}
            if p.owner_id is not None and p.owner_id != record.owner_id:
                changed.add("Owner")
            p.changed = changed
            p.data = merged
            _derive(org, module, merged, changed)
            for f in defs.values():
                if f.system_mandatory and f.api_name in p.data and merged.get(f.api_name) in (None, ""):
                    results[index] = RecordResult(
                        False,
                        "MANDATORY_NOT_FOUND",
                        "required field not found",
                        {"api_name": f.api_name, "json_path": f"$.data[{index}].{f.api_name}"},
                    )
                    break
            else:
                error = _check_probability(module, p)
                if error:
                    results[index] = error
                    continue
                p.record = record
                prepared.append(p)
        results.update(_check_lookups(org, defs, prepared))
        prepared = [p for p in prepared if p.index not in results]
        results.update(_check_unique(org, module, defs, prepared, users))
        prepared = [p for p in prepared if p.index not in results]
        stamp = now()
        for p in prepared:
            assert p.record is not None
            p.record.data = p.data
            p.record.name, p.record.email = _columns(module, p.data)
            if p.owner_id is not None:
                p.record.owner_id = p.owner_id
            p.record.modified_by_id = actor.id
            p.record.modified_time = stamp
        Record.objects.bulk_update(
            [p.record for p in prepared if p.record],
            ["data", "name", "email", "owner", "modified_by", "modified_time"],
        )
        _write_unique_values(org, module, defs, prepared)
        for p in prepared:
            assert p.record is not None
            results[p.index] = _success(p.record, "record updated", org, users)
        if notify and prepared:
            notifications_enqueue(
                org=org, module=module, event="edit", changes={p.record.id: p.changed for p in prepared if p.record}
            )
    return [results[i] for i in range(len(rows))]


def duplicate_check_fields_valid(defs: dict[str, FieldDef], module: str, names: Sequence[str]) -> list[str]:
    """The fields upsert may match on: the module's system duplicate-check field(s) and user-defined unique fields."""
    spec = MODULES[module]
    allowed = {spec.name_field, *([spec.email_field] if spec.email_field else [])} | {
        f.api_name for f in defs.values() if f.unique
    }
    if module == "Contacts":
        allowed.discard("Full_Name")
    return [n for n in names if n not in allowed]


def _default_check_fields(defs: dict[str, FieldDef], module: str) -> list[str]:
    spec = MODULES[module]
    system = spec.email_field if module == "Contacts" else spec.name_field
    return [system, *[f.api_name for f in defs.values() if f.unique]]


def _match_key(defs: dict[str, FieldDef], name: str, value: Any) -> str:
    spec = defs.get(name)
    return str(value) if spec is not None and spec.unique and spec.unique_casesensitive else str(value).lower()


def records_upsert(
    *, org: Org, module: str, rows: Sequence[Any], actor: CrmUser, duplicate_check_fields: Sequence[str] | None = None
) -> list[RecordResult]:
    defs = fieldcache.fields_of(org.id, module)
    check = list(duplicate_check_fields or _default_check_fields(defs, module))
    spec = MODULES[module]
    # Find, per record, the first check field (in priority order) whose value matches an existing record.
    pending_keys: dict[tuple[str, str], int] = {}  # first in-batch insert per key: later ones update it
    deferred: dict[int, tuple[int, str]] = {}
    with transaction.atomic():
        lookups: dict[str, dict[str, int]] = {}
        for name in check:
            values = {str(r.get(name)).lower() for r in rows if isinstance(r, dict) and r.get(name) not in (None, "")}
            if not values:
                lookups[name] = {}
                continue
            if name == spec.name_field:
                pairs = Record.objects.filter(
                    org=org, module=module, deleted_time__isnull=True, name__in=values
                ).order_by("id")
                found = {n: i for i, n in reversed(list(pairs.values_list("id", "name")))}
            elif name == spec.email_field:
                pairs = Record.objects.filter(
                    org=org, module=module, deleted_time__isnull=True, email__in=values
                ).order_by("id")
                found = {e: i for i, e in reversed(list(pairs.values_list("id", "email")))}
            else:
                f = defs[name]
                raw_values = {
                    _unique_key(f, r.get(name)) for r in rows if isinstance(r, dict) and r.get(name) not in (None, "")
                }
                found = dict(
                    UniqueValue.objects.filter(org=org, module=module, api_name=name, value__in=raw_values).values_list(
                        "value", "record_id"
                    )
                )
                found = {k.lower(): v for k, v in found.items()} if not f.unique_casesensitive else found
            lookups[name] = found
        inserts: list[tuple[int, Any]] = []
        updates: list[tuple[int, Any, int, str]] = []
        for index, raw in enumerate(rows):
            if not isinstance(raw, dict):
                inserts.append((index, raw))
                continue
            match: tuple[int, str] | None = None
            for name in check:
                value = raw.get(name)
                if value in (None, ""):
                    continue
                key = _match_key(defs, name, value)
                if key in lookups.get(name, {}):
                    match = (lookups[name][key], name)
                    break
                if (name, key) in pending_keys:
                    deferred[index] = (pending_keys[(name, key)], name)
                    break
            if index in deferred:
                continue
            if match:
                updates.append((index, raw, match[0], match[1]))
            else:
                for name in check:
                    value = raw.get(name)
                    if value not in (None, ""):
                        key = _match_key(defs, name, value)
                        pending_keys.setdefault((name, key), index)
                inserts.append((index, raw))
        results: dict[int, RecordResult] = {}
        inserted = records_insert(org=org, module=module, rows=[r for _, r in inserts], actor=actor)
        for (index, _), result in zip(inserts, inserted, strict=True):
            result.upsert, result.action = True, "insert"
            results[index] = result
        for index, raw, target, name in updates:
            result = records_update(org=org, module=module, rows=[raw], actor=actor, force_id=target)[0]
            result.upsert, result.action, result.duplicate_field = True, "update", name
            results[index] = result
        for index, (first_index, name) in deferred.items():
            first = results.get(first_index)
            if first is None or not first.ok or first.record_id is None:
                results[index] = RecordResult(False, "DUPLICATE_DATA", "duplicate data", {"api_name": name})
                continue
            result = records_update(org=org, module=module, rows=[rows[index]], actor=actor, force_id=first.record_id)[
                0
            ]
            result.upsert, result.action, result.duplicate_field = True, "update", name
            results[index] = result
    return [results[i] for i in range(len(rows))]


def records_delete(*, org: Org, module: str, ids: Sequence[str], actor: CrmUser) -> list[RecordResult]:
    parsed = [int(i) if str(i).isdigit() else None for i in ids]
    with transaction.atomic():
        existing = Record.objects.filter(org=org, module=module, deleted_time__isnull=True).in_bulk(
            [i for i in parsed if i]
        )
        results: list[RecordResult] = []
        done: list[int] = []
        for raw, rid in zip(ids, parsed, strict=True):
            if rid is None or rid not in existing or rid in done:
                results.append(RecordResult(False, "INVALID_DATA", "record not deleted", {"id": str(raw)}))
                continue
            done.append(rid)
            results.append(RecordResult(True, "SUCCESS", "record deleted", {"id": str(rid)}, record_id=rid))
        if done:
            Record.objects.filter(id__in=done).update(deleted_time=now(), deleted_by_id=actor.id)
            UniqueValue.objects.filter(record_id__in=done).delete()
            notifications_enqueue(org=org, module=module, event="delete", changes={rid: set() for rid in done})
    return results


def lookup_names(org: Org, refs: dict[str, set[int]]) -> dict[int, str]:
    """Display names of referenced records, one query per module."""
    names: dict[int, str] = {}
    for mod, ids in refs.items():
        if not ids:
            continue
        field_name = MODULES[mod].name_field
        for rid, name in (
            Record.objects.filter(org=org, id__in=ids).annotate(n=KT(f"data__{field_name}")).values_list("id", "n")
        ):
            names[rid] = name
    return names

"""Reads of records: lists with paging and page tokens, view criteria and search criteria evaluated in SQL
(SQLite's json_extract through Django's KT()), and the rendering of records as Zoho's JSON.

A list page is one query for the records plus at most one per lookup module for the names it shows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.db import connections
from django.db.models import BigIntegerField, Expression, FloatField, IntegerField, Q, QuerySet
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from crm_sandbox import fieldcache
from crm_sandbox.common import CrmApiError, fmt_dt, now, parse_dt
from crm_sandbox.models import CrmUser, CustomView, FieldDef, Org, Record
from crm_sandbox.schema import NUMBER_TYPES, RECENT_DAYS, SYSTEM_FIELD_NAMES
from crm_sandbox.services.records import lookup_names

ROW_FIELDS = ("id", "data", "owner_id", "created_by_id", "modified_by_id", "created_time", "modified_time")
DISCRETE_LIMIT = 2000
HARD_LIMIT = 100_000
SEARCH_LIMIT = 2000
MAX_CONDITIONS = 10
TOKEN_TTL = dt.timedelta(hours=24)
_TOKEN_SALT = "crm_sandbox.page_token"  # noqa: S105 - a signing salt, not a secret


# ---- criteria ------------------------------------------------------------------------------------------------------


class _Builder:
    """Turns conditions into Q objects over annotated aliases (one alias per JSON path and type)."""

    def __init__(self, org: Org, module: str, user: CrmUser | None, *, search: bool) -> None:
        self.org = org
        self.module = module
        self.user = user
        self.search = search
        self.defs = fieldcache.fields_of(org.id, module)
        self.aliases: dict[str, Expression] = {}

    def _alias(self, expr: Expression) -> str:
        name = f"c{len(self.aliases)}"
        self.aliases[name] = expr
        return name

    def error(self, message: str, **details: Any) -> CrmApiError:
        return CrmApiError("INVALID_QUERY", message, details=details)

    def condition(self, api_name: str, op: str, value: Any) -> Q:
        op = {"equal": "equals", "not_equals": "not_equal"}.get(op, op)
        if isinstance(value, str) and value in ("${EMPTY}", "${NOTEMPTY}"):
            empty = self._empty(api_name)
            return empty if (value == "${EMPTY}") == (op == "equals") else ~empty
        base_name, _, sub = api_name.partition(".")
        if api_name == "id":
            return self._compare("id", op, value, int)
        if base_name in ("Created_Time", "Modified_Time"):
            column = "created_time" if base_name == "Created_Time" else "modified_time"
            return self._compare(column, op, value, self._datetime(base_name))
        if base_name in ("Owner", "Created_By", "Modified_By"):
            column = {"Owner": "owner_id", "Created_By": "created_by_id", "Modified_By": "modified_by_id"}[base_name]
            return self._users(column, op, value)
        f = self.defs.get(base_name)
        if f is None:
            raise self.error("invalid query formed", api_name=api_name, reason="field not found")
        if f.data_type == "lookup":
            path = f"data__{base_name}__id"
            if sub == "id" or (isinstance(value, str | int) and str(value).isdigit()):
                return self._compare(self._alias(Cast(KT(path), BigIntegerField())), op, value, int)
            if op not in ("equals", "not_equal", "in", "starts_with"):
                raise self.error("invalid query formed", api_name=api_name, operator=op)
            names = value if isinstance(value, list) else [value]
            targets = Record.objects.filter(org=self.org, module=f.lookup_module, deleted_time__isnull=True)
            name_q = Q()
            for name in names:
                name_q |= Q(name__startswith=str(name).lower()) if op == "starts_with" else Q(name=str(name).lower())
            q = Q(**{f"{self._alias(Cast(KT(path), BigIntegerField()))}__in": targets.filter(name_q).values("id")})
            return ~q if op == "not_equal" else q
        if f.data_type in NUMBER_TYPES:
            return self._compare(self._alias(Cast(KT(f"data__{base_name}"), FloatField())), op, value, float)
        if f.data_type == "boolean":
            if op not in ("equals", "not_equal"):
                raise self.error("invalid query formed", api_name=api_name, operator=op)
            flag = value if isinstance(value, bool) else str(value).lower() == "true"
            alias = self._alias(Cast(KT(f"data__{base_name}"), IntegerField()))
            q = Q(**{alias: 1 if flag else 0})
            return ~q if op == "not_equal" else q
        alias = self._alias(KT(f"data__{base_name}"))
        if f.data_type in ("date", "datetime"):
            return self._compare(alias, op, value, str)
        return self._text(alias, f, op, value)

    def _datetime(self, api_name: str) -> Any:
        def convert(value: Any) -> dt.datetime:
            parsed = parse_dt(str(value))
            if parsed is None:
                raise self.error("invalid query formed", api_name=api_name, expected_data_type="datetime")
            return parsed

        return convert

    def _empty(self, api_name: str) -> Q:
        if api_name in SYSTEM_FIELD_NAMES or api_name == "id":
            return Q(pk__isnull=True)
        if api_name not in self.defs:
            raise self.error("invalid query formed", api_name=api_name, reason="field not found")
        alias = self._alias(KT(f"data__{api_name}"))
        return Q(**{f"{alias}__isnull": True}) | Q(**{alias: ""})

    def _compare(self, target: str, op: str, value: Any, convert: Any) -> Q:
        try:
            if op == "between":
                parts = value if isinstance(value, list) else _split_values(str(value))
                if len(parts) != 2:
                    raise self.error("invalid query formed", operator="between", reason="two values needed")
                return Q(**{f"{target}__gte": convert(parts[0]), f"{target}__lte": convert(parts[1])})
            if op == "in":
                parts = value if isinstance(value, list) else _split_values(str(value))
                return Q(**{f"{target}__in": [convert(p) for p in parts[:100]]})
            lookup = {
                "equals": "",
                "not_equal": "",
                "greater_than": "__gt",
                "greater_equal": "__gte",
                "less_than": "__lt",
                "less_equal": "__lte",
            }.get(op)
            if lookup is None:
                raise self.error("invalid query formed", operator=op)
            q = Q(**{f"{target}{lookup}": convert(value)})
            return ~q if op == "not_equal" else q
        except (TypeError, ValueError):
            raise self.error("invalid query formed", value=str(value), reason="value of the wrong type") from None

    def _users(self, column: str, op: str, value: Any) -> Q:
        values = value if isinstance(value, list) else _split_values(str(value)) if op == "in" else [value]
        ids: list[int] = []
        users = fieldcache.users_of(self.org.id)
        for v in values:
            text = str(v)
            if text == "${CURRENTUSER}" and self.user is not None:
                ids.append(self.user.id)
            elif text.isdigit():
                ids.append(int(text))
            else:
                ids.extend(uid for uid, u in users.items() if text.lower() in (u["name"].lower(), u["email"].lower()))
        if op not in ("equals", "not_equal", "in"):
            raise self.error("invalid query formed", operator=op)
        q = Q(**{f"{column}__in": ids})
        return ~q if op == "not_equal" else q

    def _text(self, alias: str, f: FieldDef, op: str, value: Any) -> Q:
        text = str(value)
        if op == "equals":
            # Search: `equals` on a text field matches as "contains" (reference §4). Views: exact, any case.
            loose = self.search and f.data_type not in ("picklist",)
            return Q(**{f"{alias}__icontains" if loose else f"{alias}__iexact": text})
        if op == "not_equal":
            return ~Q(**{f"{alias}__iexact": text}) | Q(**{f"{alias}__isnull": True})
        if op == "starts_with":
            return Q(**{f"{alias}__istartswith": text})
        if op == "ends_with" and not self.search:
            return Q(**{f"{alias}__iendswith": text})
        if op in ("contains", "not_contains") and not self.search:
            q = Q(**{f"{alias}__icontains": text})
            return ~q if op == "not_contains" else q
        if op == "in":
            parts = value if isinstance(value, list) else _split_values(text)
            q = Q()
            for part in parts[:100]:
                q |= Q(**{f"{alias}__iexact": str(part)})
            return q
        raise self.error("invalid query formed", api_name=f.api_name, operator=op)


def _split_values(text: str) -> list[str]:
    parts, current, escaped = [], "", False
    for ch in text:
        if escaped:
            current += ch
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ",":
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return parts


def parse_search_criteria(text: str) -> Any:
    """`((A:equals:x)and(B:starts_with:y))` → nested ("and"|"or", [items]) / (field, op, value) tuples."""
    pos = 0
    count = 0

    def fail(reason: str) -> CrmApiError:
        return CrmApiError("INVALID_QUERY", "invalid query formed", details={"criteria": text, "reason": reason})

    def skip_ws() -> None:
        nonlocal pos
        while pos < len(text) and text[pos].isspace():
            pos += 1

    def parse_expr() -> Any:
        nonlocal pos
        items = [parse_term()]
        ops = []
        while True:
            skip_ws()
            match = re.match(r"(and|or)", text[pos:], re.IGNORECASE)
            if not match:
                break
            ops.append(match.group(1).lower())
            pos += len(match.group(1))
            items.append(parse_term())
        if not ops:
            return items[0]
        if len(set(ops)) > 1:
            raise fail("mixing and/or needs parentheses")
        return (ops[0], items)

    def parse_term() -> Any:
        nonlocal pos, count
        skip_ws()
        if pos >= len(text) or text[pos] != "(":
            raise fail("expected (")
        pos += 1
        skip_ws()
        if pos < len(text) and text[pos] == "(":
            inner = parse_expr()
            skip_ws()
            if pos >= len(text) or text[pos] != ")":
                raise fail("expected )")
            pos += 1
            return inner
        raw, escaped = "", False
        while pos < len(text):
            ch = text[pos]
            if escaped:
                raw += "\\" + ch
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == ")":
                break
            else:
                raw += ch
            pos += 1
        if pos >= len(text):
            raise fail("expected )")
        pos += 1
        field_name, sep1, rest = raw.partition(":")
        op, sep2, value = rest.partition(":")
        if not sep1 or not sep2 or not field_name.strip():
            raise fail(f"condition {raw!r} must be field:operator:value")
        count += 1
        if count > MAX_CONDITIONS:
            raise fail(f"at most {MAX_CONDITIONS} conditions")
        op = op.strip()
        if op not in (
            "equals",
            "not_equal",
            "starts_with",
            "in",
            "greater_than",
            "greater_equal",
            "less_than",
            "less_equal",
            "between",
        ):
            raise CrmApiError(
                "INVALID_QUERY", "invalid query formed", details={"operator": op, "api_name": field_name.strip()}
            )
        if op in ("in", "between"):
            return (field_name.strip(), op, _split_values(value))
        return (field_name.strip(), op, re.sub(r"\\(.)", r"\1", value))

    tree = parse_expr()
    skip_ws()
    if pos != len(text):
        raise fail("unexpected text after the criteria")
    return tree


def _tree_q(builder: _Builder, node: Any) -> Q:
    if len(node) == 2 and node[0] in ("and", "or"):
        q = Q()
        for item in node[1]:
            q = (q & _tree_q(builder, item)) if node[0] == "and" else (q | _tree_q(builder, item))
        return q
    return builder.condition(*node)


def view_criteria_q(builder: _Builder, criteria: Any) -> Q:
    """Zoho's view criteria JSON ({"group_operator","group"} or one {"comparator","field","value"}) → Q."""
    if not criteria:
        return Q()
    if "group" in criteria:
        q = Q()
        for item in criteria["group"]:
            part = view_criteria_q(builder, item)
            q = (q | part) if str(criteria.get("group_operator", "and")).lower() == "or" else (q & part)
        return q
    api_name = (criteria.get("field") or {}).get("api_name", "")
    return builder.condition(api_name, str(criteria.get("comparator", "equal")), criteria.get("value"))


def apply_view(qs: QuerySet[Record], org: Org, module: str, view: CustomView, user: CrmUser | None) -> QuerySet[Record]:
    if view.system_defined:
        stamp = now()
        if view.system_name == "MYVIEWS" and user is not None:
            return qs.filter(owner_id=user.id)
        if view.system_name == "RECENTLYCREATED":
            return qs.filter(created_time__gte=stamp - dt.timedelta(days=RECENT_DAYS))
        if view.system_name == "RECENTLYMODIFIED":
            return qs.filter(modified_time__gte=stamp - dt.timedelta(days=RECENT_DAYS))
        if view.system_name == "today":
            return qs.filter(created_time__gte=stamp.replace(hour=0, minute=0, second=0, microsecond=0))
        return qs
    builder = _Builder(org, module, user, search=False)
    q = view_criteria_q(builder, view.criteria)
    return qs.alias(**builder.aliases).filter(q)


def view_get(org: Org, module: str, cvid: str) -> CustomView:
    view = CustomView.objects.filter(org=org, module=module, id=int(cvid)).first() if cvid.isdigit() else None
    if view is None:
        raise CrmApiError("INVALID_DATA", "the id given seems to be invalid", details={"param_name": "cvid"})
    return view


# ---- lists ----------------------------------------------------------------------------------------------------------


def _utc(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)


def fetch_rows(qs: QuerySet[Record], start: int, stop: int) -> list[tuple[Any, ...]]:
    """Rows of ROW_FIELDS of an ordered queryset's [start:stop], read with the cursor directly: Django's per-value
    converters (regex datetime parsing) cost more than the rest of a 200-record page. Same SQL, same params."""
    compiler = qs.values_list(*ROW_FIELDS)[start:stop].query.get_compiler(using=qs.db)
    sql, params = compiler.as_sql()
    with connections[qs.db].cursor() as cursor:
        cursor.execute(sql, params)
        raw = cursor.fetchall()
    return [
        (rid, json.loads(data) if isinstance(data, str) else data, owner, created_by, modified_by, _utc(ct), _utc(mt))
        for rid, data, owner, created_by, modified_by, ct, mt in raw
    ]


@dataclass
class PageResult:
    rows: list[tuple[Any, ...]]
    more: bool
    page: int
    next_token: str | None
    token_expiry: dt.datetime | None


SORT_COLUMNS = {"id": "id", "Created_Time": "created_time", "Modified_Time": "modified_time"}


def _params_hash(user_id: int, module: str, key: dict[str, Any]) -> str:
    return hashlib.sha1(f"{user_id}|{module}|{sorted(key.items())}".encode(), usedforsecurity=False).hexdigest()[:16]


def records_page(
    *,
    qs: QuerySet[Record],
    user: CrmUser,
    module: str,
    sort_by: str,
    sort_order: str,
    per_page: int,
    page: int | None,
    page_token: str | None,
    bound: dict[str, Any],
) -> PageResult:
    """One page by `page` (offset, the first 2,000 records only) or by `page_token` (keyset, up to 100,000)."""
    column = SORT_COLUMNS[sort_by]
    desc = sort_order == "desc"
    ordering = [f"-{column}", "-id"] if desc else [column, "id"]
    if column == "id":
        ordering = ordering[:1]
    params_hash = _params_hash(user.id, module, bound)
    if page_token:
        try:
            token = signing.loads(page_token, salt=_TOKEN_SALT)
        except signing.BadSignature:
            raise CrmApiError("INVALID_DATA", "invalid data", details={"param_name": "page_token"}) from None
        if token.get("e", 0) < now().timestamp():
            raise CrmApiError("EXPIRED_VALUE", "the given page_token has expired", details={"param_name": "page_token"})
        if token.get("h") != params_hash:
            raise CrmApiError(
                "TOKEN_BOUND_DATA_MISMATCH",
                "the parameters do not match the ones the page_token was issued for",
                details={"param_name": "page_token"},
            )
        page = int(token["p"])
        if (page - 1) * per_page >= HARD_LIMIT:
            raise CrmApiError("PAGINATION_LIMIT_EXCEEDED", "pagination limit exceeded", details={"limit": HARD_LIMIT})
        last_value, last_id = token["k"]
        if column == "id":
            qs = qs.filter(id__lt=last_id) if desc else qs.filter(id__gt=last_id)
        else:
            value = parse_dt(last_value)
            if desc:
                qs = qs.filter(Q(**{f"{column}__lt": value}) | Q(**{column: value, "id__lt": last_id}))
            else:
                qs = qs.filter(Q(**{f"{column}__gt": value}) | Q(**{column: value, "id__gt": last_id}))
        rows = fetch_rows(qs.order_by(*ordering), 0, per_page + 1)
    else:
        page = page or 1
        if page * per_page > DISCRETE_LIMIT:
            raise CrmApiError(
                "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
                "Maximum number of records that can be fetched with page param is 2000. "
                "Use page_token param to fetch more records.",
                details={"param": "page", "limit": DISCRETE_LIMIT},
            )
        offset = (page - 1) * per_page
        rows = fetch_rows(qs.order_by(*ordering), offset, offset + per_page + 1)
    more = len(rows) > per_page
    rows = rows[:per_page]
    next_token = None
    expiry = None
    if more and rows:
        last = rows[-1]
        key_value = last[ROW_FIELDS.index(column)] if column != "id" else last[0]
        expiry = now() + TOKEN_TTL
        next_token = signing.dumps(
            {
                "k": [key_value.isoformat() if isinstance(key_value, dt.datetime) else key_value, last[0]],
                "h": params_hash,
                "p": page + 1,
                "e": int(expiry.timestamp()),
            },
            salt=_TOKEN_SALT,
            compress=True,
        )
    return PageResult(rows=rows, more=more, page=page, next_token=next_token, token_expiry=expiry)


def search_q(org: Org, module: str, user: CrmUser, *, kind: str, value: str) -> tuple[Q, dict[str, Expression]]:
    builder = _Builder(org, module, user, search=True)
    if kind == "criteria":
        return _tree_q(builder, parse_search_criteria(value)), builder.aliases
    if kind == "email":
        email_fields = [f.api_name for f in builder.defs.values() if f.data_type == "email"]
        if not email_fields:
            return Q(pk__isnull=True), {}
        q = Q()
        for name in email_fields:
            q |= Q(**{f"{builder._alias(KT(f'data__{name}'))}__iexact": value})
        return q, builder.aliases
    if kind == "phone":
        phone_fields = [f.api_name for f in builder.defs.values() if f.data_type == "phone"]
        q = Q()
        for name in phone_fields:
            q |= Q(**{f"{builder._alias(KT(f'data__{name}'))}__icontains": value})
        return q, builder.aliases
    # word: any text field containing it
    text_fields = [
        f.api_name for f in builder.defs.values() if f.data_type in ("text", "email", "phone", "website", "textarea")
    ]
    q = Q()
    for name in text_fields:
        q |= Q(**{f"{builder._alias(KT(f'data__{name}'))}__icontains": value})
    return q, builder.aliases


# ---- rendering ------------------------------------------------------------------------------------------------------


def render_records(
    org: Org, module: str, rows: Sequence[tuple[Any, ...]], fields: Sequence[str] | None
) -> list[dict[str, Any]]:
    """Zoho's JSON for rows of ROW_FIELDS: lookups as {"name","id"}, Owner with email, datetimes with offset."""
    defs = fieldcache.fields_of(org.id, module)
    users = fieldcache.users_of(org.id)
    visible = [f for f in defs.values() if org.mc_status or f.api_name not in ("Currency", "Exchange_Rate")]
    names = [f.api_name for f in visible] if fields is None else [n for n in fields if n in defs and n != "id"]
    lookups = {n: defs[n].lookup_module for n in names if defs[n].data_type == "lookup"}
    refs: dict[str, set[int]] = {}
    for row in rows:
        data = row[1]
        for name, target in lookups.items():
            value = data.get(name)
            if value and str(value.get("id", "")).isdigit():
                refs.setdefault(target, set()).add(int(value["id"]))
    resolved = lookup_names(org, refs)
    tz = org.time_zone
    out = []
    for rid, data, owner_id, created_by_id, modified_by_id, created_time, modified_time in rows:
        record: dict[str, Any] = {}
        for name in names:
            if name == "Owner":
                record[name] = users.get(owner_id)
            elif name == "Created_By":
                u = users.get(created_by_id)
                record[name] = {"name": u["name"], "id": u["id"], "email": u["email"]} if u else None
            elif name == "Modified_By":
                u = users.get(modified_by_id)
                record[name] = {"name": u["name"], "id": u["id"], "email": u["email"]} if u else None
            elif name == "Created_Time":
                record[name] = fmt_dt(created_time, tz)
            elif name == "Modified_Time":
                record[name] = fmt_dt(modified_time, tz)
            elif name in lookups:
                value = data.get(name)
                if value and str(value.get("id", "")).isdigit():
                    record[name] = {"name": resolved.get(int(value["id"])), "id": str(value["id"])}
                else:
                    record[name] = None
            else:
                record[name] = data.get(name)
        record["id"] = str(rid)
        out.append(record)
    return out

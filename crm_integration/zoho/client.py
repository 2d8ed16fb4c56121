"""`ZohoCrmClient`: the Zoho CRM v8 implementation of `crm_integration.client.CrmClient`, one method per endpoint.

Every CRM URL of Ledgerbridge is built here (and the OAuth ones in oauth.py). Calls go through `_call`, which adds
the access token, refreshes it once on a 401 INVALID_TOKEN / INVALID_OAUTHTOKEN / AUTHENTICATION_FAILURE and
retries once (a second 401 means a person must reconnect: CrmReauthenticate), and maps request-level errors to
CrmPermanent with Zoho's code, message and details. Retries, backoff, the time budget and the concurrency limit
live in http.py.

Writes, and whether repeating them is safe (http.py repeats only what is safe):
- upsert (`POST /{module}/upsert` with `duplicate_check_fields`): safe. A repeat finds the record the first try made
  by its unique field and updates it. This is how the sync engine inserts: on a unique external-id field.
- update by id (`PUT /{module}`): safe; it sets the same values again (pass `trigger=[]` to keep workflows quiet).
- delete by ids: safe; a repeat answers a per-record error for ids already gone, which callers read as "deleted".
- plain insert (`POST /{module}`): NOT safe, a repeat after a lost answer creates the records twice. By default it
  is repeated only when Zoho provably did not act (429, connection never opened); otherwise the caller gets
  CrmRetryLater(code="OUTCOME_UNKNOWN"). `insert_records(..., retry_unsafe=True)` opts into repeating anyway.
- watch enable/update/disable: safe; they set a channel's state by its id.
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
import logging
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import requests

from crm_integration.client import (
    Credentials,
    CrmClient,
    CrmPermanent,
    CrmReauthenticate,
    CrmRecord,
    CrmRole,
    CrmUser,
    Currency,
    CustomView,
    FieldMeta,
    Layout,
    OrgInfo,
    Page,
    Pipeline,
    RecordResult,
    TokenCache,
    TokenSet,
    WatchChannel,
    WatchResult,
)
from crm_integration.zoho import parsing
from crm_integration.zoho.http import (
    HttpResult,
    Limiter,
    RetryPolicy,
    Stats,
    Transport,
    connection_limiter,
    error_from_envelope,
    new_session,
)
from crm_integration.zoho.oauth import AccessTokens

logger = logging.getLogger(__name__)

API_PATH = "/crm/v8"
MAX_PER_PAGE = 200
MAX_WRITE_BATCH = 100
MAX_FIELDS = 50
PAGE_LIMIT_RECORDS = 2000  # `page` reaches this many records; past it only `page_token` does (reference §3.1)
SEARCH_LIMIT_RECORDS = 2000
WATCH_TOKEN_MAX = 50
DEFAULT_MAX_CONCURRENCY = 5  # Zoho's limit for the Free edition; raise it per edition (10/15/20/25)


def connection_key_for(credentials: Credentials) -> str:
    """A stable name for a connection that reveals none of its secrets (token cache and concurrency keys)."""
    digest = hashlib.sha256(
        "\0".join((credentials.accounts_url, credentials.client_id, credentials.refresh_token)).encode()
    ).hexdigest()
    return f"zoho:{digest[:24]}"


def http_date(value: datetime.datetime) -> str:
    """If-Modified-Since as Zoho wants it: ISO 8601 with the offset, e.g. 2019-07-25T15:26:49+05:30."""
    if value.tzinfo is None:
        raise ValueError("modified_since must be timezone-aware")
    return value.isoformat(timespec="seconds")


def _chunks(items: Sequence[Any], size: int) -> Iterator[tuple[int, Sequence[Any]]]:
    for start in range(0, len(items), size):
        yield start, items[start : start + size]


def _channel_id(value: str) -> int | str:
    # Zoho types channel_id as a long; the SDK sends a number. Non-numeric ids are passed through for Zoho to judge.
    return int(value) if value.isdigit() else value


class ZohoCrmClient:
    """One Zoho CRM org. Thread-safe: one instance may serve many threads of a worker.

    `credentials`: the connection's accounts URL, API domain, client id/secret and refresh token.
    `connection_key`: names the connection for the token cache and the concurrency limit (default: derived from
    the credentials without revealing them). `token_cache`: shares access tokens between processes.
    `max_concurrency`: concurrent calls of this connection. `limiter`: makes the limiter of a connection key and
    size (default: slots of this process; `crm_integration.zoho.limits.SharedLimiter` shares them between
    processes). `retry`: the per-call time budget and backoff. `session`, `sleep`, `clock`: injectable for tests and
    benchmarks."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        connection_key: str | None = None,
        token_cache: TokenCache | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        limiter: Callable[[str, int], Limiter] | None = None,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.credentials = credentials
        self.connection_key = connection_key or connection_key_for(credentials)
        self.stats = Stats()
        self._own_session = session is None
        self.session = session or new_session(pool_size=max_concurrency)
        transport_kwargs: dict[str, Any] = {}
        if sleep is not None:
            transport_kwargs["sleep"] = sleep
        if clock is not None:
            transport_kwargs["clock"] = clock
        self.transport = Transport(
            session=self.session,
            policy=retry or RetryPolicy(),
            limiter=(limiter or connection_limiter)(self.connection_key, max_concurrency),
            stats=self.stats,
            **transport_kwargs,
        )
        self.tokens = AccessTokens(
            credentials=credentials,
            transport=self.transport,
            # The credentials' fingerprint is part of the token's key: after "Update Credentials" (a new refresh
            # token, maybe another org) a token minted for the old ones is never used again.
            key=f"{self.connection_key}:{connection_key_for(credentials).removeprefix('zoho:')[:12]}",
            cache=token_cache,
        )

    # ------------------------------------------------------------------ plumbing
    def close(self) -> None:
        if self._own_session:
            self.session.close()

    def __enter__(self) -> ZohoCrmClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        safe_to_retry: bool = True,
        per_item_key: str | None = None,
        empty_ok: bool = True,
    ) -> HttpResult:
        """One API call: token, 401 handling, error mapping. Returns 2xx/304 answers, and 4xx answers that carry
        per-item results under `per_item_key` (a batch where every record failed)."""
        deadline = self.transport.deadline()
        token = self.tokens.get()
        renewed = False
        while True:
            url = f"{self.tokens.api_domain(token)}{API_PATH}{path}"
            all_headers = {"Authorization": f"Zoho-oauthtoken {token.access_token}"}
            if headers:
                all_headers.update(headers)
            result = self.transport.send(
                method,
                url,
                deadline=deadline,
                params=params,
                json_body=json_body,
                headers=all_headers,
                safe_to_retry=safe_to_retry,
            )
            if result.status == 401:
                code = result.body.get("code", "") if isinstance(result.body, Mapping) else ""
                message = result.body.get("message", "") if isinstance(result.body, Mapping) else ""
                # INVALID_TOKEN / INVALID_OAUTHTOKEN (the v8 docs' name) / AUTHENTICATION_FAILURE: a stale token, a
                # refresh fixes it; any other 401 gets the same one chance (reference §1.4), except a scope mismatch,
                # which needs the admin to grant the scope again.
                if code != "OAUTH_SCOPE_MISMATCH" and not renewed:
                    token = self.tokens.renew(token)
                    renewed = True
                    continue
                raise CrmReauthenticate(
                    f"Zoho refused the connection's access ({code or 'HTTP 401'}: {message}); reconnect the CRM",
                    code=code or "HTTP_401",
                    status=401,
                    details=result.body.get("details", {}) if isinstance(result.body, Mapping) else {},
                )
            if result.status < 400 or (
                per_item_key is not None
                and isinstance(result.body, Mapping)
                and isinstance(result.body.get(per_item_key), list)
            ):
                if result.status == 204 and not empty_ok:
                    raise CrmPermanent(f"{method} {path}: Zoho answered nothing", code="NO_CONTENT", status=204)
                return result
            raise error_from_envelope(result.status, result.body, what=f"{method} {path.split('?')[0]}")

    def current_token(self) -> TokenSet:
        """The access token in use (refreshed if due): for callers that must hand one to another Zoho tool."""
        return self.tokens.get()

    # ------------------------------------------------------------------ records: reading
    def iter_pages(
        self,
        module: str,
        *,
        fields: Sequence[str],
        cvid: str | None = None,
        modified_since: datetime.datetime | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        per_page: int = MAX_PER_PAGE,
    ) -> Iterator[Page]:
        """Pages of `GET /{module}`, fetched lazily: `page` 1, 2, … while it reaches (the first 2,000 records),
        then `page_token` from `info.next_page_token`. Memory is one page. With `modified_since` Zoho answers 304
        when nothing is newer: no pages. A view (`cvid`) has its own order, and Zoho refuses `cvid` with `sort_by`
        (AMBIGUITY_DURING_PROCESSING), so sorting is dropped when a view is given."""
        if not fields:
            raise ValueError("fields is required: Zoho lists only the fields asked for")
        if len(fields) > MAX_FIELDS:
            raise ValueError(f"Zoho returns at most {MAX_FIELDS} fields per list call, {len(fields)} were asked")
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError(f"per_page must be 1..{MAX_PER_PAGE}")
        base: dict[str, Any] = {"fields": ",".join(fields), "per_page": per_page}
        if cvid:
            base["cvid"] = cvid
        else:
            if sort_by:
                base["sort_by"] = sort_by
            if sort_order:
                base["sort_order"] = sort_order
        headers = {"If-Modified-Since": http_date(modified_since)} if modified_since else None
        # Checked above, at the call; the pages themselves are fetched when iterated.
        return self._pages(module, base, headers, per_page)

    def _pages(
        self, module: str, base: Mapping[str, Any], headers: Mapping[str, str] | None, per_page: int
    ) -> Iterator[Page]:
        path = f"/{quote(module)}"
        page = 1
        token: str | None = None
        while True:
            params = dict(base)
            if token is None:
                params["page"] = page
            else:
                params["page_token"] = token
            result = self._call("GET", path, params=params, headers=headers)
            if result.status in (204, 304) or not isinstance(result.body, Mapping):
                return
            records = result.body.get("data") or []
            info = result.body.get("info") or {}
            more = bool(info.get("more_records"))
            next_token = info.get("next_page_token") or None
            yield Page(records=records, page=page, more_records=more, next_page_token=next_token)
            if not more or not records:
                return
            if token is not None or page * per_page >= PAGE_LIMIT_RECORDS:
                if not next_token:
                    raise CrmPermanent(
                        f"Zoho said more {module} records follow record {page * per_page} but gave no page token",
                        code="NO_PAGE_TOKEN",
                    )
                token = next_token
            page += 1

    def iter_records(
        self,
        module: str,
        *,
        fields: Sequence[str],
        cvid: str | None = None,
        modified_since: datetime.datetime | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
    ) -> Iterator[CrmRecord]:
        """The records of iter_pages, one by one (still fetched a page at a time)."""
        pages = self.iter_pages(
            module, fields=fields, cvid=cvid, modified_since=modified_since, sort_by=sort_by, sort_order=sort_order
        )
        return itertools.chain.from_iterable(page.records for page in pages)

    def get_record(self, module: str, record_id: str, *, fields: Sequence[str] | None = None) -> CrmRecord | None:
        """One record with everything (subforms and multi-select lookups come only this way); None if it is gone."""
        params = {"fields": ",".join(fields)} if fields else None
        try:
            result = self._call("GET", f"/{quote(module)}/{quote(str(record_id))}", params=params)
        except CrmPermanent as exc:
            # An id that is not (or no longer) a record: INVALID_DATA about the id, or a 404.
            details = exc.details if isinstance(exc.details, Mapping) else {}
            about_id = "resource_path_index" in details or details.get("api_name") == "id" or "id given" in exc.message
            if exc.status == 404 or (exc.code == "INVALID_DATA" and about_id):
                return None
            raise
        if result.status == 204 or not isinstance(result.body, Mapping):
            return None
        data = result.body.get("data") or []
        return data[0] if data else None

    def iter_deleted(
        self, module: str, *, modified_since: datetime.datetime | None = None, type: str = "all"
    ) -> Iterator[CrmRecord]:
        """`GET /{module}/deleted`: entries with id, display_name, deleted_time, deleted_by, type."""
        headers = {"If-Modified-Since": http_date(modified_since)} if modified_since else None
        page = 1
        while True:
            result = self._call(
                "GET",
                f"/{quote(module)}/deleted",
                params={"type": type, "page": page, "per_page": MAX_PER_PAGE},
                headers=headers,
            )
            if result.status in (204, 304) or not isinstance(result.body, Mapping):
                return
            yield from result.body.get("data") or []
            if not (result.body.get("info") or {}).get("more_records"):
                return
            page += 1

    def search_records(
        self,
        module: str,
        *,
        criteria: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        word: str | None = None,
        fields: Sequence[str] | None = None,
        per_page: int = MAX_PER_PAGE,
    ) -> Iterator[CrmRecord]:
        """`GET /{module}/search` with exactly one of criteria (build it with crm_integration.zoho.criteria, which
        escapes values), email, phone or word. Nothing found: nothing yielded (Zoho answers 204). Zoho stops at
        2,000 matches: a search that matches more raises CrmPermanent(code="LIMIT_REACHED") once those are read."""
        given = {k: v for k, v in (("criteria", criteria), ("email", email), ("phone", phone), ("word", word)) if v}
        if len(given) != 1:
            raise ValueError("search takes exactly one of criteria, email, phone or word")
        if word is not None and len(word.strip()) < 2:
            raise ValueError("a word search needs at least 2 characters")
        params: dict[str, Any] = {**given, "per_page": per_page}
        if fields:
            params["fields"] = ",".join(fields)
        return self._search_pages(module, params, per_page)

    def _search_pages(self, module: str, params: dict[str, Any], per_page: int) -> Iterator[CrmRecord]:
        page = 1
        while True:
            params["page"] = page
            result = self._call("GET", f"/{quote(module)}/search", params=params)
            if result.status in (204, 304) or not isinstance(result.body, Mapping):
                return
            records = result.body.get("data") or []
            yield from records
            if not (result.body.get("info") or {}).get("more_records") or not records:
                return
            if page * per_page >= SEARCH_LIMIT_RECORDS:
                raise CrmPermanent(
                    f"the search matched more than {SEARCH_LIMIT_RECORDS} {module} records; narrow it",
                    code="LIMIT_REACHED",
                )
            page += 1

    # ------------------------------------------------------------------ records: writing
    def _write(
        self,
        method: str,
        path: str,
        records: Sequence[CrmRecord],
        *,
        extra: Mapping[str, Any],
        safe_to_retry: bool,
    ) -> list[RecordResult]:
        results: list[RecordResult] = []
        for start, batch in _chunks(records, MAX_WRITE_BATCH):
            body = {"data": list(batch), **extra}
            result = self._call(
                method, path, json_body=body, safe_to_retry=safe_to_retry, per_item_key="data", empty_ok=False
            )
            items = result.body.get("data") if isinstance(result.body, Mapping) else None
            results.extend(parsing.record_results(items or [], count=len(batch), offset=start))
        return results

    @staticmethod
    def _trigger(trigger: Sequence[str] | None) -> dict[str, Any]:
        # Omitted: workflows, approvals and blueprints run. []: none of them runs.
        return {} if trigger is None else {"trigger": list(trigger)}

    def insert_records(
        self,
        module: str,
        records: Sequence[CrmRecord],
        *,
        trigger: Sequence[str] | None = None,
        retry_unsafe: bool = False,
    ) -> list[RecordResult]:
        """`POST /{module}`, 100 a call. Repeating a lost insert duplicates records: see the module docstring."""
        return self._write(
            "POST", f"/{quote(module)}", records, extra=self._trigger(trigger), safe_to_retry=retry_unsafe
        )

    def update_records(
        self, module: str, records: Sequence[CrmRecord], *, trigger: Sequence[str] | None = None
    ) -> list[RecordResult]:
        """`PUT /{module}`, 100 a call; every record carries its "id"."""
        for i, record in enumerate(records):
            if not record.get("id"):
                raise ValueError(f"records[{i}] has no id; update needs the CRM id of each record")
        return self._write("PUT", f"/{quote(module)}", records, extra=self._trigger(trigger), safe_to_retry=True)

    def upsert_records(
        self,
        module: str,
        records: Sequence[CrmRecord],
        *,
        duplicate_check_fields: Sequence[str],
        trigger: Sequence[str] | None = None,
    ) -> list[RecordResult]:
        """`POST /{module}/upsert`, 100 a call: insert, or update the record whose duplicate-check field (in the
        order given: system unique fields or user-defined unique fields) matches. RecordResult.action tells which."""
        if not duplicate_check_fields:
            raise ValueError("duplicate_check_fields is required for an upsert")
        extra = {"duplicate_check_fields": list(duplicate_check_fields), **self._trigger(trigger)}
        return self._write("POST", f"/{quote(module)}/upsert", records, extra=extra, safe_to_retry=True)

    def delete_records(self, module: str, ids: Sequence[str], *, wf_trigger: bool = True) -> list[RecordResult]:
        """`DELETE /{module}?ids=…`, 100 ids a call."""
        results: list[RecordResult] = []
        for start, batch in _chunks(list(ids), MAX_WRITE_BATCH):
            result = self._call(
                "DELETE",
                f"/{quote(module)}",
                params={"ids": ",".join(str(i) for i in batch), "wf_trigger": "true" if wf_trigger else "false"},
                per_item_key="data",
                empty_ok=False,
            )
            items = result.body.get("data") if isinstance(result.body, Mapping) else None
            results.extend(parsing.record_results(items or [], count=len(batch), offset=start))
        return results

    # ------------------------------------------------------------------ metadata
    def _fields_raw(self, module: str) -> list[Mapping[str, Any]]:
        result = self._call("GET", "/settings/fields", params={"module": module})
        if not isinstance(result.body, Mapping):
            return []
        return [f for f in result.body.get("fields") or [] if isinstance(f, Mapping)]

    def list_fields(self, module: str) -> list[FieldMeta]:
        return [parsing.field_meta(f) for f in self._fields_raw(module)]

    def get_field(self, module: str, field_id: str) -> FieldMeta:
        result = self._call("GET", f"/settings/fields/{quote(str(field_id))}", params={"module": module})
        items = result.body.get("fields") if isinstance(result.body, Mapping) else None
        if not items:
            raise CrmPermanent(f"no field {field_id} in {module}", code="INVALID_DATA", status=result.status)
        return parsing.field_meta(items[0])

    def create_field(
        self,
        module: str,
        *,
        label: str,
        data_type: str = "text",
        length: int | None = 255,
        unique: bool = False,
        external: str | None = None,
    ) -> FieldMeta:
        """`POST /settings/fields?module=` (v8 "Create Custom Fields"): `{"fields":[{"field_label","data_type",
        "length","unique":{"case_sensitive":false}}]}`. Zoho answers the new field's id only; its API name (which
        Zoho derives from the label) is then read with one GET. A unique text field is what the sync engine upserts
        on (its external id); it works on every edition. `external="org"` (or "user") makes it Zoho's own External
        ID field instead (Enterprise and Ultimate only, Kaizen #64), which is unique by nature."""
        spec: dict[str, Any] = {"field_label": label, "data_type": data_type}
        if length is not None:
            spec["length"] = length
        if unique:
            spec["unique"] = {"case_sensitive": False}
        if external is not None:
            if external not in ("org", "user"):
                raise ValueError("external is 'org' or 'user'")
            spec["external"] = {"type": external, "show": True}
        result = self._call(
            "POST", "/settings/fields", params={"module": module}, json_body={"fields": [spec]}, per_item_key="fields"
        )
        items = result.body.get("fields") if isinstance(result.body, Mapping) else None
        item = items[0] if items and isinstance(items[0], Mapping) else {}
        if item.get("status") != "success":
            raise CrmPermanent(
                str(item.get("message") or f"Zoho did not create the field {label!r}"),
                code=str(item.get("code") or "NO_RESULT"),
                status=result.status,
                details=item.get("details") or {},
            )
        details = item.get("details") or {}
        return self.get_field(module, str(details.get("id")))

    def list_custom_views(self, module: str) -> list[CustomView]:
        result = self._call("GET", "/settings/custom_views", params={"module": module})
        if not isinstance(result.body, Mapping):
            return []
        return [parsing.custom_view(v) for v in result.body.get("custom_views") or [] if isinstance(v, Mapping)]

    def get_custom_view(self, module: str, view_id: str) -> CustomView:
        result = self._call(
            "GET", f"/settings/custom_views/{quote(str(view_id))}", params={"module": module}, empty_ok=False
        )
        views = result.body.get("custom_views") if isinstance(result.body, Mapping) else None
        if not views:
            raise CrmPermanent(f"no custom view {view_id} in {module}", code="INVALID_DATA", status=result.status)
        return parsing.custom_view(views[0])

    def list_layouts(self, module: str) -> list[Layout]:
        result = self._call("GET", "/settings/layouts", params={"module": module})
        if not isinstance(result.body, Mapping):
            return []
        return [parsing.layout(v) for v in result.body.get("layouts") or [] if isinstance(v, Mapping)]

    def list_pipelines(self, module: str = "Deals", *, layout_id: str | None = None) -> list[Pipeline]:
        """`GET /settings/pipeline?layout_id=` (layout_id is mandatory for Zoho: the module's first active layout is
        used when none is given). Stage probabilities are not in the pipeline answer; they come from the `Stage`
        field's picklist, read only when some stage lacks one."""
        if layout_id is None:
            layouts = self.list_layouts(module)
            active = [x for x in layouts if x.status == "active"] or layouts
            if not active:
                return []
            layout_id = active[0].id
        result = self._call("GET", "/settings/pipeline", params={"layout_id": layout_id})
        if not isinstance(result.body, Mapping):
            return []
        raw = [p for p in result.body.get("pipeline") or [] if isinstance(p, Mapping)]
        probabilities: dict[str, int | None] = {}
        if any(not isinstance(m.get("probability"), int) for p in raw for m in p.get("maps") or []):
            probabilities = parsing.stage_probabilities(self._fields_raw(module))
        return [parsing.pipeline(p, probabilities) for p in raw]

    def get_org(self) -> OrgInfo:
        result = self._call("GET", "/org", empty_ok=False)
        orgs = result.body.get("org") if isinstance(result.body, Mapping) else None
        if not orgs:
            raise CrmPermanent("Zoho returned no organization", code="NO_CONTENT", status=result.status)
        return parsing.org_info(orgs[0])

    def list_currencies(self) -> list[Currency]:
        result = self._call("GET", "/org/currencies")
        if not isinstance(result.body, Mapping):
            return []
        return [parsing.currency(c) for c in result.body.get("currencies") or [] if isinstance(c, Mapping)]

    def list_users(self, *, type: str = "ActiveUsers") -> list[CrmUser]:
        users: list[CrmUser] = []
        page = 1
        while True:
            result = self._call("GET", "/users", params={"type": type, "page": page, "per_page": MAX_PER_PAGE})
            if not isinstance(result.body, Mapping):
                return users
            users.extend(parsing.user(u) for u in result.body.get("users") or [] if isinstance(u, Mapping))
            if not (result.body.get("info") or {}).get("more_records"):
                return users
            page += 1

    def current_user(self) -> CrmUser:
        result = self._call("GET", "/users", params={"type": "CurrentUser"}, empty_ok=False)
        users = result.body.get("users") if isinstance(result.body, Mapping) else None
        if not users:
            raise CrmPermanent("Zoho returned no current user", code="NO_CONTENT", status=result.status)
        return parsing.user(users[0])

    def list_roles(self) -> list[CrmRole]:
        result = self._call("GET", "/settings/roles")
        if not isinstance(result.body, Mapping):
            return []
        return [parsing.role(r) for r in result.body.get("roles") or [] if isinstance(r, Mapping)]

    # ------------------------------------------------------------------ notifications
    @staticmethod
    def _watch_item(channel: WatchChannel) -> dict[str, Any]:
        if len(channel.token) > WATCH_TOKEN_MAX:
            raise ValueError(f"a channel token is at most {WATCH_TOKEN_MAX} characters (Zoho's limit)")
        if not channel.events:
            raise ValueError("a watch channel needs at least one event, e.g. 'Deals.edit'")
        item: dict[str, Any] = {
            "channel_id": _channel_id(channel.channel_id),
            "events": list(channel.events),
            "notify_url": channel.notify_url,
        }
        if channel.token:
            item["token"] = channel.token
        if channel.channel_expiry is not None:
            item["channel_expiry"] = http_date(channel.channel_expiry)
        return item

    def watch_enable(self, channels: Sequence[WatchChannel]) -> list[WatchResult]:
        body = {"watch": [self._watch_item(c) for c in channels]}
        result = self._call("POST", "/actions/watch", json_body=body, per_item_key="watch", empty_ok=False)
        items = result.body.get("watch") if isinstance(result.body, Mapping) else None
        return parsing.watch_results(items or [], [c.channel_id for c in channels])

    def watch_list(self, *, module: str | None = None) -> list[WatchChannel]:
        items: list[Any] = []
        page = 1
        while True:
            params: dict[str, Any] = {"page": page, "per_page": MAX_PER_PAGE}
            if module:
                params["module"] = module
            result = self._call("GET", "/actions/watch", params=params)
            if not isinstance(result.body, Mapping):
                break
            items.extend(result.body.get("watch") or [])
            if not (result.body.get("info") or {}).get("more_records"):
                break
            page += 1
        return parsing.watch_channels(items)

    def watch_update(self, channels: Sequence[WatchChannel]) -> list[WatchResult]:
        """`PUT /actions/watch`: replaces each channel's events, URL, token and expiry (renew before expiry)."""
        body = {"watch": [self._watch_item(c) for c in channels]}
        result = self._call("PUT", "/actions/watch", json_body=body, per_item_key="watch", empty_ok=False)
        items = result.body.get("watch") if isinstance(result.body, Mapping) else None
        return parsing.watch_results(items or [], [c.channel_id for c in channels])

    def watch_disable(self, channel_ids: Sequence[str]) -> list[WatchResult]:
        if not channel_ids:
            return []
        result = self._call(
            "DELETE",
            "/actions/watch",
            params={"channel_ids": ",".join(str(c) for c in channel_ids)},
            per_item_key="watch",
            empty_ok=False,
        )
        items = result.body.get("watch") if isinstance(result.body, Mapping) else None
        return parsing.watch_results(items or [], list(channel_ids))


def min_list_calls(n_records: int) -> int:
    """The fewest list calls that can read n records: ceil(n / 200) (at least one)."""
    return max(1, math.ceil(n_records / MAX_PER_PAGE))


def _satisfies_protocol(client: ZohoCrmClient) -> CrmClient:
    """mypy proves here that ZohoCrmClient implements the CrmClient interface."""
    return client

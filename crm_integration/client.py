"""The CRM client interface the rest of Ledgerbridge codes against, with its typed results and its errors.

`crm_integration.zoho.ZohoCrmClient` is the one implementation (Zoho CRM v8). A second CRM is one more class
satisfying `CrmClient` plus default field maps; the sync engine does not change. Records cross this boundary
as plain dicts keyed by the CRM's field API names. Nothing here touches the ORM.

Errors are a small taxonomy keyed to what the caller should do (STYLE.md rule 6):
- `CrmRetryLater`: timeouts, dropped connections, 5xx, 429 and limits; `wait` says how long, when known.
- `CrmReauthenticate`: the refresh token is revoked or invalid; a person must reconnect.
- `CrmPermanent`: a request the CRM refuses (4xx) with its code, message and details; retrying won't help.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

CrmRecord = dict[str, Any]


class CrmError(Exception):
    def __init__(self, message: str, *, code: str = "", status: int | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.details = details if details is not None else {}

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.code else self.message


class CrmRetryLater(CrmError):
    def __init__(self, message: str, *, wait: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.wait = wait


class CrmReauthenticate(CrmError):
    pass


class CrmPermanent(CrmError):
    pass


@dataclass(frozen=True)
class Credentials:
    """What it takes to talk to one CRM org. `accounts_url` is the OAuth server's base (e.g.
    https://accounts.zoho.eu or the sandbox's http://127.0.0.1:8090); `api_domain` the API host's base."""

    accounts_url: str
    api_domain: str
    client_id: str
    client_secret: str
    refresh_token: str


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    expires_at: datetime.datetime
    api_domain: str
    refresh_token: str = ""


class TokenCache(Protocol):
    """Shares access tokens between processes (Zoho allows few tokens per refresh token), e.g. Django's cache."""

    def get(self, key: str) -> TokenSet | None: ...

    def set(self, key: str, token: TokenSet) -> None: ...

    def delete(self, key: str) -> None: ...


@dataclass(frozen=True)
class Page:
    records: list[CrmRecord]
    page: int
    more_records: bool
    next_page_token: str | None = None


@dataclass(frozen=True)
class RecordResult:
    """One record's outcome of a write, in input order."""

    index: int
    ok: bool
    code: str
    message: str
    id: str | None = None
    action: str | None = None  # upsert: "insert" | "update"
    details: dict[str, Any] = field(default_factory=dict)
    modified_time: str | None = None


@dataclass(frozen=True)
class FieldMeta:
    api_name: str
    label: str
    data_type: str  # text, textarea, email, phone, website, picklist, integer, double, currency, boolean, date, ...
    json_type: str = "string"
    custom_field: bool = False
    read_only: bool = False
    mandatory: bool = False
    length: int | None = None
    picklist_values: tuple[str, ...] = ()
    lookup_module: str | None = None
    id: str = ""
    unique: bool = False  # a user-defined unique field: usable in upsert's duplicate_check_fields


@dataclass(frozen=True)
class CustomView:
    id: str
    name: str
    display_value: str
    system_defined: bool
    system_name: str | None = None
    category: str = "public_views"
    is_default: bool = False
    criteria: dict[str, Any] | None = None


@dataclass(frozen=True)
class Layout:
    id: str
    name: str
    display_label: str = ""
    status: str = "active"


@dataclass(frozen=True)
class OrgInfo:
    id: str
    company_name: str
    primary_email: str
    country_code: str
    currency_iso: str
    edition: str  # lower case: free, standard, professional, enterprise, ultimate
    mc_status: bool
    zgid: str = ""
    time_zone: str = ""


@dataclass(frozen=True)
class Currency:
    id: str
    iso_code: str
    name: str
    is_base: bool
    exchange_rate: str = "1"


@dataclass(frozen=True)
class CrmUser:
    id: str
    full_name: str
    email: str
    status: str
    role_id: str = ""
    role_name: str = ""
    profile_name: str = ""


@dataclass(frozen=True)
class CrmRole:
    id: str
    name: str
    reporting_to_id: str | None = None


@dataclass(frozen=True)
class Stage:
    name: str
    probability: int | None
    forecast_type: str  # Open | Closed Won | Closed Lost
    sequence: int = 0


@dataclass(frozen=True)
class Pipeline:
    id: str
    name: str
    is_default: bool
    stages: tuple[Stage, ...]


@dataclass(frozen=True)
class WatchChannel:
    channel_id: str
    events: tuple[str, ...]  # e.g. ("Deals.create", "Deals.edit")
    notify_url: str
    token: str
    channel_expiry: datetime.datetime | None = None


@dataclass(frozen=True)
class WatchResult:
    channel_id: str
    ok: bool
    code: str
    message: str
    channel_expiry: datetime.datetime | None = None


class CrmClient(Protocol):
    """One CRM org, as seen by the sync engine, the settings pages and the triggers."""

    # Records. Generators fetch lazily, page after page (`page` first, then `page_token` past 2,000 records).
    def iter_pages(
        self,
        module: str,
        *,
        fields: Sequence[str],
        cvid: str | None = None,
        modified_since: datetime.datetime | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        per_page: int = 200,
    ) -> Iterator[Page]: ...

    def iter_records(
        self,
        module: str,
        *,
        fields: Sequence[str],
        cvid: str | None = None,
        modified_since: datetime.datetime | None = None,
    ) -> Iterator[CrmRecord]: ...

    def get_record(self, module: str, record_id: str, *, fields: Sequence[str] | None = None) -> CrmRecord | None: ...

    def insert_records(self, module: str, records: Sequence[CrmRecord]) -> list[RecordResult]: ...

    def update_records(self, module: str, records: Sequence[CrmRecord]) -> list[RecordResult]: ...

    def upsert_records(
        self, module: str, records: Sequence[CrmRecord], *, duplicate_check_fields: Sequence[str]
    ) -> list[RecordResult]: ...

    def delete_records(self, module: str, ids: Sequence[str]) -> list[RecordResult]: ...

    def iter_deleted(self, module: str, *, modified_since: datetime.datetime | None = None) -> Iterator[CrmRecord]: ...

    def search_records(
        self,
        module: str,
        *,
        criteria: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        word: str | None = None,
        fields: Sequence[str] | None = None,
    ) -> Iterator[CrmRecord]: ...

    # Metadata.
    def list_fields(self, module: str) -> list[FieldMeta]: ...

    def get_field(self, module: str, field_id: str) -> FieldMeta: ...

    def create_field(
        self, module: str, *, label: str, data_type: str = "text", length: int | None = 255, unique: bool = False
    ) -> FieldMeta: ...

    def list_layouts(self, module: str) -> list[Layout]: ...

    def list_custom_views(self, module: str) -> list[CustomView]: ...

    def get_custom_view(self, module: str, view_id: str) -> CustomView: ...

    def list_pipelines(self, module: str = "Deals") -> list[Pipeline]: ...

    def get_org(self) -> OrgInfo: ...

    def list_currencies(self) -> list[Currency]: ...

    def list_users(self, *, type: str = "ActiveUsers") -> list[CrmUser]: ...

    def current_user(self) -> CrmUser: ...

    def list_roles(self) -> list[CrmRole]: ...

    # Notifications (actions/watch).
    def watch_enable(self, channels: Sequence[WatchChannel]) -> list[WatchResult]: ...

    def watch_list(self) -> list[WatchChannel]: ...

    def watch_update(self, channels: Sequence[WatchChannel]) -> list[WatchResult]: ...

    def watch_disable(self, channel_ids: Sequence[str]) -> list[WatchResult]: ...

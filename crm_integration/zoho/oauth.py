"""Zoho OAuth 2.0: data centers, the authorization URL and redirect, the code and refresh grants, revocation, and
the access-token holder every API call goes through.

Facts relied on (docs/reference/zoho-crm-api.md §1): the token endpoint is `{accounts}/oauth/v2/token`; it answers
errors as HTTP 200 with an `error` key (`invalid_code` for a bad/used grant code or a revoked refresh token,
`invalid_client` for a wrong client or DC, "Access Denied" when throttled); `expires_in` is in seconds (older
answers also sent `expires_in_sec` and then `expires_in` in ms); the answer names the `api_domain` to call.

Secrets go in form bodies, never in URLs, and none of them is ever logged.
"""

from __future__ import annotations

import datetime
import hmac
import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

from crm_integration.client import (
    Credentials,
    CrmPermanent,
    CrmReauthenticate,
    CrmRetryLater,
    TokenCache,
    TokenSet,
)
from crm_integration.zoho.http import RetryPolicy, Stats, Transport, new_session

logger = logging.getLogger(__name__)

TOKEN_PATH = "/oauth/v2/token"  # noqa: S105 (a path, not a secret)
AUTH_PATH = "/oauth/v2/auth"
REVOKE_PATH = "/oauth/v2/token/revoke"

# What the integration needs (reference §1.4): records, settings (fields, views, layouts, pipelines, roles,
# currencies), users, org, notifications, and ZohoSearch.securesearch.READ for /search.
DEFAULT_SCOPES: tuple[str, ...] = (
    "ZohoCRM.modules.ALL",
    "ZohoCRM.settings.ALL",
    "ZohoCRM.users.READ",
    "ZohoCRM.org.READ",
    "ZohoCRM.notifications.ALL",
    "ZohoSearch.securesearch.READ",
)

# A refresh is due this long before the token expires, so that a call never starts with a token about to lapse.
REFRESH_MARGIN = datetime.timedelta(minutes=2)


@dataclass(frozen=True)
class DataCenter:
    code: str  # the `location` Zoho's authorize redirect names: us, eu, in, au, jp, cn, ca, sa, uk; or "custom"
    name: str
    accounts_url: str  # base, without /oauth/v2/...
    api_domain: str


DATA_CENTERS: dict[str, DataCenter] = {
    dc.code: dc
    for dc in (
        DataCenter("us", "United States", "https://accounts.zoho.com", "https://www.zohoapis.com"),
        DataCenter("eu", "Europe", "https://accounts.zoho.eu", "https://www.zohoapis.eu"),
        DataCenter("in", "India", "https://accounts.zoho.in", "https://www.zohoapis.in"),
        DataCenter("au", "Australia", "https://accounts.zoho.com.au", "https://www.zohoapis.com.au"),
        DataCenter("jp", "Japan", "https://accounts.zoho.jp", "https://www.zohoapis.jp"),
        DataCenter("cn", "China", "https://accounts.zoho.com.cn", "https://www.zohoapis.com.cn"),
        # Canada's accounts server is zohocloud.ca, not zoho.ca (reference §1.1).
        DataCenter("ca", "Canada", "https://accounts.zohocloud.ca", "https://www.zohoapis.ca"),
        DataCenter("sa", "Saudi Arabia", "https://accounts.zoho.sa", "https://www.zohoapis.sa"),
        # Listed on Zoho's multi-DC page; the SDK 7.0.0 has no class for it. The API host follows the pattern.
        DataCenter("uk", "United Kingdom", "https://accounts.zoho.uk", "https://www.zohoapis.uk"),
    )
}


def custom_data_center(base_url: str) -> DataCenter:
    """A server that is both accounts server and API host, e.g. the local sandbox at http://127.0.0.1:8090."""
    base = base_url.rstrip("/")
    return DataCenter("custom", "Custom", base, base)


def data_center_for_accounts_url(accounts_url: str) -> DataCenter | None:
    wanted = _origin(accounts_url)
    for dc in DATA_CENTERS.values():
        if dc.accounts_url == wanted:
            return dc
    return None


def is_zoho_accounts_url(accounts_url: str) -> bool:
    return data_center_for_accounts_url(accounts_url) is not None


def _origin(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}".lower()


def token_url(accounts_url: str) -> str:
    return accounts_url.rstrip("/") + TOKEN_PATH


def authorization_url(
    *,
    accounts_url: str,
    client_id: str,
    redirect_uri: str,
    state: str,
    scopes: Sequence[str] = DEFAULT_SCOPES,
) -> str:
    """Where to send the admin's browser. `access_type=offline` yields a refresh token; `prompt=consent` makes Zoho
    issue a new one even when the app was authorized before."""
    query = urlencode(
        {
            "scope": ",".join(scopes),
            "client_id": client_id,
            "response_type": "code",
            "access_type": "offline",
            "prompt": "consent",
            "redirect_uri": redirect_uri,
            "state": state,
        }
    )
    return f"{accounts_url.rstrip('/')}{AUTH_PATH}?{query}"


@dataclass(frozen=True)
class AuthorizationGrant:
    code: str
    accounts_url: str  # the accounts server to exchange the code at (the user's DC)
    location: str


def parse_authorization_redirect(
    params: Mapping[str, str], *, expected_state: str, allowed_accounts_urls: Sequence[str] = ()
) -> AuthorizationGrant:
    """Read the redirect Zoho sends back (`?code=…&location=eu&accounts-server=https://accounts.zoho.eu&state=…`).

    The user's data center is the one `accounts-server` names, and the code must be exchanged there. Because the
    client secret is about to be sent to that host, it must be one of Zoho's accounts servers or one the caller
    allows explicitly (a custom/sandbox base URL); anything else is refused rather than trusted."""
    error = params.get("error")
    if error:
        raise CrmPermanent(f"Zoho refused the authorization: {error}", code=str(error))
    state = params.get("state", "")
    if not expected_state or not hmac.compare_digest(state.encode(), expected_state.encode()):
        raise CrmPermanent("the authorization answer does not belong to this request (state mismatch)", code="STATE")
    code = params.get("code", "")
    if not code:
        raise CrmPermanent("the authorization answer has no code", code="MISSING_CODE")
    location = params.get("location", "")
    server = params.get("accounts-server", "")
    allowed = {_origin(u) for u in allowed_accounts_urls}
    if server:
        accounts = _origin(server)
        if not is_zoho_accounts_url(accounts) and accounts not in allowed:
            raise CrmPermanent(f"unknown accounts server {accounts!r} in the authorization answer", code="DC")
    elif location in DATA_CENTERS:
        accounts = DATA_CENTERS[location].accounts_url
    elif len(allowed) == 1:
        accounts = next(iter(allowed))
    else:
        raise CrmPermanent("the authorization answer names no accounts server", code="DC")
    return AuthorizationGrant(code=code, accounts_url=accounts, location=location)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _token_set(body: Mapping[str, Any], *, fallback_api_domain: str, refresh_token: str = "") -> TokenSet:
    expires_in = float(body.get("expires_in") or 3600)
    if "expires_in_sec" in body:  # the old form: expires_in in milliseconds
        expires_in = float(body["expires_in_sec"])
    return TokenSet(
        access_token=str(body["access_token"]),
        expires_at=_now() + datetime.timedelta(seconds=expires_in),
        api_domain=str(body.get("api_domain") or fallback_api_domain).rstrip("/"),
        refresh_token=str(body.get("refresh_token") or refresh_token),
    )


def _token_error(body: Any, *, grant: str) -> Exception:
    if not isinstance(body, Mapping):
        return CrmRetryLater("the accounts server answered something that is not a token", code="BAD_RESPONSE")
    error = str(body.get("error") or "")
    description = str(body.get("error_description") or "")
    if error.lower() == "access denied" or "too many requests" in description.lower():
        # Zoho throttles the token endpoint (10 tokens per 10 minutes per refresh token, among others).
        return CrmRetryLater(description or "the accounts server is throttling token requests", code=error, wait=60.0)
    if error in {"invalid_code", "invalid_client", "invalid_client_secret", "invalid_grant", "unauthorized_client"}:
        what = "the authorization code is invalid or used" if grant == "authorization_code" else "the connection"
        return CrmReauthenticate(
            f"Zoho rejected {what} ({error}); reconnect the CRM (wrong client, wrong data center or a revoked grant)",
            code=error,
        )
    return CrmPermanent(f"the accounts server refused the token request: {error or 'no access_token'}", code=error)


def default_transport() -> Transport:
    """For the one-off calls of the connect flow (code exchange, revoke): a fresh session, a 30 s budget."""
    return Transport(session=new_session(), policy=RetryPolicy(budget=30.0), limiter=None, stats=Stats())


def _post_token(transport: Transport, accounts_url: str, form: dict[str, str], *, grant: str) -> Mapping[str, Any]:
    result = transport.send(
        "POST", token_url(accounts_url), deadline=transport.deadline(), form=form, counter="token_requests"
    )
    body = result.body
    if result.status >= 400 or not isinstance(body, Mapping) or "access_token" not in body:
        raise _token_error(body, grant=grant)
    return body


def exchange_code(
    *,
    accounts_url: str,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    code: str,
    fallback_api_domain: str = "",
    transport: Transport | None = None,
) -> TokenSet:
    """The authorization-code grant: a TokenSet with the refresh token and the api_domain to use from now on.
    Exchange the code at the accounts server the redirect named (`AuthorizationGrant.accounts_url`)."""
    body = _post_token(
        transport or default_transport(),
        accounts_url,
        {
            "grant_type": "authorization_code",
            "client_id": client_id,
            "client_secret": client_secret,
            "redirect_uri": redirect_uri,
            "code": code,
        },
        grant="authorization_code",
    )
    if not body.get("refresh_token"):
        raise CrmPermanent("Zoho issued no refresh token (was access_type=offline asked for?)", code="NO_REFRESH")
    return _token_set(body, fallback_api_domain=fallback_api_domain)


def refresh_access_token(credentials: Credentials, *, transport: Transport | None = None) -> TokenSet:
    body = _post_token(
        transport or default_transport(),
        credentials.accounts_url,
        {
            "grant_type": "refresh_token",
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
            "refresh_token": credentials.refresh_token,
        },
        grant="refresh_token",
    )
    return _token_set(body, fallback_api_domain=credentials.api_domain, refresh_token=credentials.refresh_token)


def revoke(*, accounts_url: str, token: str, transport: Transport | None = None) -> None:
    """Revoke a refresh token (on "Disable Integration"). Revoking one that is already gone is not an error."""
    transport = transport or default_transport()
    result = transport.send(
        "POST",
        accounts_url.rstrip("/") + REVOKE_PATH,
        deadline=transport.deadline(),
        form={"token": token},
        counter="token_requests",
    )
    body = result.body if isinstance(result.body, Mapping) else {}
    if result.status >= 400 or (body.get("status") not in (None, "success") and body.get("error") != "invalid_code"):
        raise CrmPermanent(f"revoking the token failed: {body.get('error') or result.status}", code="REVOKE")


class AccessTokens:
    """The access token of one connection: in memory, then in the shared TokenCache (so that worker processes use
    one token instead of each minting its own: Zoho keeps 15 per refresh token and mints 10 per 10 minutes), then
    from the accounts server. A lock keeps threads of one process from refreshing at the same time.

    The API host is the token's `api_domain`, except for a custom (non-Zoho) accounts server: there the configured
    `api_domain` stays, so a test server can never redirect us to real Zoho."""

    _process_tokens: dict[str, TokenSet] = {}  # shared by every client of a connection in this process
    _locks: dict[str, threading.Lock] = {}
    _locks_guard = threading.Lock()

    def __init__(
        self,
        *,
        credentials: Credentials,
        transport: Transport,
        key: str,
        cache: TokenCache | None = None,
        now: Callable[[], datetime.datetime] = _now,
    ) -> None:
        self.credentials = credentials
        self.transport = transport
        self.key = key
        self.cache = cache
        self.now = now
        with self._locks_guard:
            self._lock = self._locks.setdefault(key, threading.Lock())

    def _fresh(self, token: TokenSet | None) -> bool:
        return token is not None and token.expires_at - self.now() > REFRESH_MARGIN

    def get(self) -> TokenSet:
        token = self._process_tokens.get(self.key)
        if self._fresh(token):
            return token  # type: ignore[return-value]
        with self._lock:
            token = self._process_tokens.get(self.key)
            if self._fresh(token):
                return token  # type: ignore[return-value]
            token = self._from_cache()
            if token is None or not self._fresh(token):
                token = self._refresh()
            self._process_tokens[self.key] = token
            return token

    def renew(self, rejected: TokenSet) -> TokenSet:
        """After a 401: forget the rejected token everywhere and get another (a newer one another process already
        stored is used as is)."""
        with self._lock:
            current = self._process_tokens.get(self.key)
            if current is not None and current.access_token != rejected.access_token and self._fresh(current):
                return current
            cached = self._from_cache()
            if cached is not None and cached.access_token != rejected.access_token and self._fresh(cached):
                self._process_tokens[self.key] = cached
                return cached
            if self.cache is not None:
                self.cache.delete(self.key)
            self._process_tokens.pop(self.key, None)
            token = self._refresh()
            self._process_tokens[self.key] = token
            return token

    def api_domain(self, token: TokenSet) -> str:
        if is_zoho_accounts_url(self.credentials.accounts_url) and token.api_domain:
            return token.api_domain.rstrip("/")
        return self.credentials.api_domain.rstrip("/")

    def _from_cache(self) -> TokenSet | None:
        if self.cache is None:
            return None
        try:
            return self.cache.get(self.key)
        except Exception:  # a cache outage must not stop the sync: fall back to refreshing
            logger.warning("token cache unavailable for reading", exc_info=True)
            return None

    def _refresh(self) -> TokenSet:
        token = refresh_access_token(self.credentials, transport=self.transport)
        # The refresh token stays with the connection's own (encrypted) storage, not in the shared cache.
        token = TokenSet(access_token=token.access_token, expires_at=token.expires_at, api_domain=token.api_domain)
        if self.cache is not None:
            try:
                self.cache.set(self.key, token)
            except Exception:
                logger.warning("token cache unavailable for writing", exc_info=True)
        return token

    @classmethod
    def forget_all(cls) -> None:
        """Tests: start from an empty process store."""
        cls._process_tokens.clear()


class _Backend(Protocol):
    def get(self, key: str) -> Any: ...

    def set(self, key: str, value: Any, timeout: Any = ...) -> Any: ...

    def delete(self, key: str) -> Any: ...


class _Cipher(Protocol):
    def encrypt(self, data: bytes) -> bytes: ...

    def decrypt(self, token: bytes) -> bytes: ...


class EncryptedTokenCache:
    """A TokenCache over any get/set(timeout)/delete backend (Django's cache, Redis via django-redis…), storing the
    access token encrypted (e.g. with `cryptography.fernet.Fernet`) and expiring it with the token."""

    def __init__(self, backend: _Backend, cipher: _Cipher, *, prefix: str = "lb:crm-token:") -> None:
        self.backend = backend
        self.cipher = cipher
        self.prefix = prefix

    def get(self, key: str) -> TokenSet | None:
        raw = self.backend.get(self.prefix + key)
        if not raw:
            return None
        try:
            data = json.loads(self.cipher.decrypt(raw if isinstance(raw, bytes) else str(raw).encode()))
            return TokenSet(
                access_token=data["access_token"],
                expires_at=datetime.datetime.fromisoformat(data["expires_at"]),
                api_domain=data["api_domain"],
            )
        except Exception:  # a changed key or a corrupt entry: treat as absent
            logger.warning("unreadable token cache entry ignored")
            return None

    def set(self, key: str, token: TokenSet) -> None:
        payload = json.dumps(
            {
                "access_token": token.access_token,
                "expires_at": token.expires_at.isoformat(),
                "api_domain": token.api_domain,
            }
        ).encode()
        ttl = max(1, int((token.expires_at - _now()).total_seconds()))
        self.backend.set(self.prefix + key, self.cipher.encrypt(payload), ttl)

    def delete(self, key: str) -> None:
        self.backend.delete(self.prefix + key)

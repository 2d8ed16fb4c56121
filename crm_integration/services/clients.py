"""The one place that builds a CRM client for a connection, the OAuth calls of the connect flow, and the
translation of CRM errors into messages an admin can act on.

`crm_client_for(connection)` is what the sync engine, the settings pages and the triggers use. Access tokens are
shared between processes through Django's cache (`DjangoTokenCache`), encrypted like the refresh token, and with
REDIS_URL set so is the connection's limit on concurrent calls (`call_slots`): Zoho counts it per org, whatever the
number of our processes.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import hashlib
import json
import logging
import os
from collections.abc import Iterator

import redis
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from books.errors import ApplicationError
from crm_integration import crypto
from crm_integration.client import (
    Credentials,
    CrmClient,
    CrmError,
    CrmPermanent,
    CrmReauthenticate,
    CrmRetryLater,
    TokenSet,
)
from crm_integration.models import ConnectionStatus, CrmConnection
from crm_integration.zoho import RetryPolicy, ZohoCrmClient, oauth
from crm_integration.zoho.http import Limiter, connection_limiter
from crm_integration.zoho.limits import SharedLimiter

logger = logging.getLogger(__name__)

OAUTH_SCOPES = (
    "ZohoCRM.modules.ALL",
    "ZohoCRM.settings.ALL",
    "ZohoCRM.users.READ",
    "ZohoCRM.org.READ",
    "ZohoCRM.notifications.ALL",
    "ZohoSearch.securesearch.READ",
)
_TOKEN_PREFIX = "crm-token:"  # noqa: S105 (a cache key prefix)


class DjangoTokenCache:
    """`client.TokenCache` on Django's cache (Redis in production, so every worker shares one access token).
    Stored encrypted; the key is a hash, so neither the key nor the value reveals a token."""

    def _key(self, key: str) -> str:
        return _TOKEN_PREFIX + hashlib.sha256(key.encode()).hexdigest()

    def get(self, key: str) -> TokenSet | None:
        raw = cache.get(self._key(key))
        if not raw:
            return None
        try:
            data = json.loads(crypto.decrypt(raw))
            return TokenSet(
                access_token=data["access_token"],
                expires_at=datetime.datetime.fromisoformat(data["expires_at"]),
                api_domain=data["api_domain"],
            )
        except (crypto.SecretUnreadable, KeyError, ValueError, TypeError):
            return None

    def set(self, key: str, token: TokenSet) -> None:
        payload = json.dumps(
            {
                "access_token": token.access_token,
                "expires_at": token.expires_at.isoformat(),
                "api_domain": token.api_domain,
            }
        )
        ttl = max(1, int((token.expires_at - timezone.now()).total_seconds()))
        cache.set(self._key(key), crypto.encrypt(payload), timeout=ttl)

    def delete(self, key: str) -> None:
        cache.delete(self._key(key))


def connection_credentials(connection: CrmConnection) -> Credentials:
    """The decrypted credentials of a connection (the only place they are decrypted)."""
    try:
        client_secret = crypto.decrypt(connection.encrypted_client_secret)
        refresh_token = crypto.decrypt(connection.encrypted_refresh_token)
    except crypto.SecretUnreadable as exc:
        raise ApplicationError(
            f"credentials: {exc}; use Update Credentials to connect again", code=1004, status=409, field="credentials"
        ) from None
    return Credentials(
        accounts_url=connection.accounts_url,
        api_domain=connection.api_domain,
        client_id=connection.client_id,
        client_secret=client_secret,
        refresh_token=refresh_token,
    )


# Concurrent API calls Zoho allows per org and app, by edition (reference §11); the client's default fits Free.
EDITION_CONCURRENCY = {"free": 5, "standard": 10, "professional": 15, "enterprise": 20, "ultimate": 25}


# A person waiting for a page (a search on a form, Manage Users): give up after seconds, not a minute, and say so.
INTERACTIVE_RETRY = RetryPolicy(budget=10.0, base_delay=0.2, max_delay=2.0, read_timeout=15.0, slot_timeout=5.0)


@functools.cache
def _slots_redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2, health_check_interval=30)


def call_slots(key: str, size: int) -> Limiter:
    """The connection's concurrent-call slots: in Redis (shared by every process) when REDIS_URL is set and
    LB_CRM_SHARED_CALL_SLOTS is on, otherwise this process's own."""
    local = connection_limiter(key, size)
    url = settings.REDIS_URL
    if not url or not settings.LB_CRM_SHARED_CALL_SLOTS:
        return local
    return SharedLimiter(_slots_redis(url), f"lb:crm-call-slots:{key}", size, fallback=local)


def client_from_credentials(
    credentials: Credentials, *, provider: str = "zoho", edition: str = "", interactive: bool = False
) -> CrmClient:
    """The client of these credentials in this process (see _client)."""
    if provider != "zoho":
        raise ApplicationError(f"provider: '{provider}' is not a supported CRM", field="provider")
    return _client(credentials, (edition or "").lower(), interactive)


@functools.lru_cache(maxsize=256)
def _client(credentials: Credentials, edition: str, interactive: bool) -> CrmClient:
    """One client per credentials, edition and kind of caller, for the life of the process: its HTTP session keeps
    the connections to Zoho open, so the next call (the next deal event, the next page a person opens) reuses one
    instead of a new TLS handshake. New credentials ("Update Credentials", a rotated secret) are another key, so
    another client. Clients are thread-safe; a forked child starts without any (below)."""
    return ZohoCrmClient(
        credentials,
        token_cache=DjangoTokenCache(),
        max_concurrency=EDITION_CONCURRENCY.get(edition, 5),
        limiter=call_slots,
        retry=INTERACTIVE_RETRY if interactive else None,
    )


# A session's open sockets must never be shared by two processes (a Celery or gunicorn child forked from a parent
# that had made a client): the child forgets the parent's clients.
os.register_at_fork(after_in_child=_client.cache_clear)


def crm_client_for(connection: CrmConnection, *, interactive: bool = False) -> CrmClient:
    """A client for the connection's CRM org (its concurrency limit from the CRM edition); `interactive` for a
    person waiting on a page (shorter retries). Raises ApplicationError when its stored secrets are unreadable."""
    return client_from_credentials(
        connection_credentials(connection),
        provider=connection.provider,
        edition=connection.crm_edition,
        interactive=interactive,
    )


# --- OAuth ---------------------------------------------------------------------------------------------------


def oauth_authorization_url(*, accounts_url: str, client_id: str, redirect_uri: str, state: str) -> str:
    return oauth.authorization_url(
        accounts_url=accounts_url,
        client_id=client_id,
        redirect_uri=redirect_uri,
        state=state,
        scopes=OAUTH_SCOPES,
    )


def oauth_exchange_code(
    *, accounts_url: str, client_id: str, client_secret: str, code: str, redirect_uri: str | None
) -> TokenSet:
    """The authorization-code grant. `redirect_uri` None is the Self Client flow (Zoho's API console makes the
    code; no redirect is involved)."""
    return oauth.exchange_code(
        accounts_url=accounts_url,
        client_id=client_id,
        client_secret=client_secret,
        code=code,
        redirect_uri=redirect_uri or "",
    )


# --- errors --------------------------------------------------------------------------------------------------


def crm_error_message(exc: CrmError, *, authorizing: bool = False) -> str:
    """A sentence for the admin. While authorizing (a code or credentials being tried for the first time) a refusal
    is about what was just entered, not about saved credentials."""
    if isinstance(exc, CrmReauthenticate):
        if authorizing:
            return f"Zoho CRM refused these credentials: {exc.message}"
        return (
            "Zoho CRM refused the saved credentials (the refresh token was revoked or is invalid); "
            "use Update Credentials to connect again"
        )
    if isinstance(exc, CrmRetryLater):
        wait = f" (retry in about {int(exc.wait)} s)" if exc.wait else ""
        return f"Zoho CRM is not answering right now: {exc.message}{wait}. Try again in a moment"
    if isinstance(exc, CrmPermanent):
        return f"Zoho CRM refused the request: {exc}"
    return f"Zoho CRM: {exc}"


@contextlib.contextmanager
def crm_errors(
    connection: CrmConnection | None = None, *, field: str | None = None, authorizing: bool = False
) -> Iterator[None]:
    """Turns CRM errors into ApplicationError with a message the admin can act on. A refused refresh token also
    marks the connection as needing new credentials."""
    try:
        yield
    except CrmReauthenticate as exc:
        if connection is not None and connection.pk and connection.status == ConnectionStatus.CONNECTED:
            connection_mark_needs_reauth(connection=connection, reason=crm_error_message(exc))
        raise ApplicationError(
            crm_error_message(exc, authorizing=authorizing), code=1004, status=409, field=field
        ) from None
    except CrmRetryLater as exc:
        raise ApplicationError(crm_error_message(exc), code=1005, status=503, field=field) from None
    except CrmError as exc:
        raise ApplicationError(
            crm_error_message(exc, authorizing=authorizing), code=1006, status=502, field=field
        ) from None


def connection_mark_needs_reauth(*, connection: CrmConnection, reason: str) -> CrmConnection:
    """The CRM refused the refresh token: syncs stop until someone updates the credentials. (The engine calls
    this too.)"""
    CrmConnection.objects.filter(pk=connection.pk, status=ConnectionStatus.CONNECTED).update(
        status=ConnectionStatus.NEEDS_REAUTH, status_reason=reason[:500], updated_at=timezone.now()
    )
    connection.refresh_from_db(fields=["status", "status_reason", "updated_at"])
    return connection

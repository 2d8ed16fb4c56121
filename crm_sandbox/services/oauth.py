"""Zoho Accounts' side of the sandbox: OAuth clients, grant codes, refresh and access tokens (reference §1).

Token endpoint errors are HTTP 200 with an `error` key, as Zoho sends them. Limits from Zoho's token-validity
page: an access token lasts 1 h (CRM_SANDBOX_TOKEN_TTL seconds), at most 15 live access tokens per refresh token
(the 16th revokes the oldest) and at most 10 new ones per refresh token per 10 minutes (answered "Access
Denied"; CRM_SANDBOX_TOKEN_RATE_LIMIT=0 turns that off, e.g. for test suites that refresh often).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from crm_sandbox.common import now, public_base_url
from crm_sandbox.models import AccessToken, CrmUser, GrantCode, OAuthClient, RefreshToken

GRANT_TTL = dt.timedelta(minutes=3)
MAX_LIVE_TOKENS = 15
DEFAULT_SCOPE = "ZohoCRM.modules.ALL,ZohoCRM.settings.ALL,ZohoCRM.users.READ,ZohoCRM.org.READ,ZohoCRM.notifications.ALL"


def token_ttl() -> int:
    return int(os.environ.get("CRM_SANDBOX_TOKEN_TTL", "3600"))


def token_rate_limit() -> int:
    return int(os.environ.get("CRM_SANDBOX_TOKEN_RATE_LIMIT", "10"))


def _token() -> str:
    return f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"


def client_ensure() -> OAuthClient:
    client = OAuthClient.objects.order_by("id").first()
    if client is None:
        client = OAuthClient.objects.create(
            client_id="1000." + secrets.token_hex(15).upper(), client_secret=secrets.token_hex(21)
        )
    return client


def refresh_token_ensure(*, client: OAuthClient, user: CrmUser) -> RefreshToken:
    """The standing refresh token `crm_sandbox credentials` prints (created once, reused)."""
    token = RefreshToken.objects.filter(client=client, user=user, revoked=False).order_by("id").first()
    if token is None:
        token = RefreshToken.objects.create(token=_token(), client=client, user=user, scope=DEFAULT_SCOPE)
    return token


def grant_create(*, client: OAuthClient, user: CrmUser, scope: str, redirect_uri: str) -> GrantCode:
    return GrantCode.objects.create(
        code=_token(),
        client=client,
        user=user,
        scope=scope,
        redirect_uri=redirect_uri,
        expires_at=now() + GRANT_TTL,
    )


def redirect_allowed(client: OAuthClient, redirect_uri: str) -> bool:
    allowed = [line.strip() for line in client.redirect_uris.splitlines() if line.strip()]
    return not allowed or redirect_uri in allowed


def _issue_access(refresh: RefreshToken) -> dict[str, Any]:
    stamp = now()
    limit = token_rate_limit()
    if limit and (
        AccessToken.objects.filter(refresh_token=refresh, created_time__gt=stamp - dt.timedelta(minutes=10)).count()
        >= limit
    ):
        # UNCONFIRMED exact body; the 200 and "Access Denied" are from Kaizen #43.
        return {
            "error_description": "You have made too many requests continuously. Please try again after some time.",
            "error": "Access Denied",
            "status": "failure",
        }
    ttl = token_ttl()
    access = AccessToken.objects.create(
        token=_token(), refresh_token=refresh, expires_at=stamp + dt.timedelta(seconds=ttl)
    )
    live = list(
        AccessToken.objects.filter(refresh_token=refresh, revoked=False, expires_at__gt=stamp)
        .order_by("-id")
        .values_list("id", flat=True)
    )
    if len(live) > MAX_LIVE_TOKENS:
        AccessToken.objects.filter(id__in=live[MAX_LIVE_TOKENS:]).update(revoked=True)
        forget_cached()
    return {
        "access_token": access.token,
        "scope": refresh.scope or DEFAULT_SCOPE,
        "api_domain": public_base_url(),
        "token_type": "Bearer",
        "expires_in": ttl,
    }


def token_exchange(*, params: dict[str, str]) -> dict[str, Any]:
    """POST /oauth/v2/token for the authorization_code and refresh_token grants."""
    grant_type = params.get("grant_type", "")
    client = OAuthClient.objects.filter(client_id=params.get("client_id", "")).first()
    if grant_type not in ("authorization_code", "refresh_token"):
        return {"error": "unsupported_grant_type"}  # UNCONFIRMED string
    if client is None or not secrets.compare_digest(client.client_secret, params.get("client_secret", "")):
        return {"error": "invalid_client"}  # UNCONFIRMED string (reference §1.3)
    if grant_type == "refresh_token":
        refresh = RefreshToken.objects.filter(
            token=params.get("refresh_token", ""), client=client, revoked=False
        ).first()
        if refresh is None:
            return {"error": "invalid_code"}
        return _issue_access(refresh)
    with transaction.atomic():
        grant = GrantCode.objects.filter(code=params.get("code", ""), client=client).first()
        if grant is None or grant.used or grant.expires_at < now():
            return {"error": "invalid_code"}
        if grant.redirect_uri and params.get("redirect_uri", grant.redirect_uri) != grant.redirect_uri:
            return {"error": "invalid_redirect_uri"}  # UNCONFIRMED string
        grant.used = True
        grant.save(update_fields=["used"])
        refresh = RefreshToken.objects.create(token=_token(), client=client, user=grant.user, scope=grant.scope)
    body = _issue_access(refresh)
    if "access_token" in body:
        body["refresh_token"] = refresh.token
    return body


def token_revoke(*, token: str) -> dict[str, Any]:
    """POST /oauth/v2/token/revoke?token=…: a refresh token (and its access tokens) or one access token."""
    revoked = RefreshToken.objects.filter(token=token).update(revoked=True)
    if revoked:
        AccessToken.objects.filter(refresh_token__token=token).update(revoked=True)
    else:
        revoked = AccessToken.objects.filter(token=token).update(revoked=True)
    forget_cached()
    return {"status": "success"} if revoked else {"status": "failure", "error": "invalid_token"}


def access_tokens_expire() -> int:
    """Test control: every live access token expires now (clients must refresh)."""
    count = AccessToken.objects.filter(revoked=False, expires_at__gt=now()).update(expires_at=now())
    forget_cached()
    return count


@dataclass(frozen=True)
class TokenInfo:
    user_id: int
    expires_at: dt.datetime


_cache: dict[str, TokenInfo] = {}
_cache_lock = threading.Lock()


def forget_cached() -> None:
    with _cache_lock:
        _cache.clear()


def access_token_resolve(token: str) -> TokenInfo | None:
    """The user behind a live access token, or None (unknown, revoked, expired)."""
    info = _cache.get(token)
    if info is None:
        row = (
            AccessToken.objects.filter(token=token, revoked=False, refresh_token__revoked=False)
            .values_list("refresh_token__user_id", "expires_at")
            .first()
        )
        if row is None:
            return None
        info = TokenInfo(user_id=row[0], expires_at=row[1])
        with _cache_lock:
            if len(_cache) > 10_000:
                _cache.clear()
            _cache[token] = info
    if info.expires_at <= now():
        return None
    return info

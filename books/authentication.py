"""Books API authentication: `Authorization: Zoho-oauthtoken <token>` with a token from `manage.py api_token`."""

from __future__ import annotations

from typing import Any

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from books.services.organizations import api_token_authenticate

KEYWORD = "Zoho-oauthtoken"


class ZohoOAuthTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        header = authentication.get_authorization_header(request).decode("latin-1", errors="replace")
        if not header:
            return None
        keyword, _, raw = header.partition(" ")
        if keyword.lower() not in (KEYWORD.lower(), "bearer"):
            return None
        raw = raw.strip()
        if not raw:
            raise exceptions.AuthenticationFailed("Authorization: the token is missing after Zoho-oauthtoken")
        user = api_token_authenticate(raw=raw)
        if user is None:
            raise exceptions.AuthenticationFailed("Authorization: invalid or revoked token")
        return user, None

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD

"""The credentials a client needs for this sandbox (the contract of `crm_sandbox credentials`)."""

from __future__ import annotations

from crm_sandbox.common import public_base_url
from crm_sandbox.services import oauth, orgs


def credentials_json(*, host: str | None = None, port: int | None = None) -> dict[str, str]:
    org = orgs.default_org()
    if org is None:
        raise LookupError("the sandbox has no org yet: run `manage.py crm_sandbox seed` first")
    client = oauth.client_ensure()
    refresh = oauth.refresh_token_ensure(client=client, user=orgs.primary_user(org))
    base = public_base_url(host, port)
    return {
        "client_id": client.client_id,
        "client_secret": client.client_secret,
        "refresh_token": refresh.token,
        "accounts_url": base,
        "api_domain": base,
    }

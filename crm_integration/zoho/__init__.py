"""Zoho CRM v8 API client: a thin transport (STYLE.md rules 6-8). No ORM imports here.

- `client.ZohoCrmClient`: the `CrmClient` implementation, one method per endpoint.
- `oauth`: data centers, the authorization URL and redirect, code exchange, refresh, revoke, the token holder.
- `http`: the session, timeouts, retries with backoff and jitter, the per-connection concurrency limit.
- `criteria`: search criteria with escaped values.
- `parsing`: Zoho JSON → the typed results of crm_integration.client.
"""

from crm_integration.zoho.client import ZohoCrmClient, connection_key_for
from crm_integration.zoho.http import RetryPolicy, Stats

__all__ = ["RetryPolicy", "Stats", "ZohoCrmClient", "connection_key_for"]

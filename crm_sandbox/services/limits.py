"""API limits per edition (reference §11) and the call counters, kept in the serve process's memory.

- Credits: every accepted `/crm/v8/` call costs 1 credit (UNCONFIRMED: the third-party "1 per 10 records" for
  writes is not applied), summed per org over a rolling 24 h in one-minute buckets.
- Concurrency: calls in progress per org; one more than the edition allows is answered 429.
Counters restart with the process (and on `POST /sandbox/api/reset`); tests and benches read them through the
control API.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict

from crm_sandbox import fieldcache
from crm_sandbox.common import CrmApiError
from crm_sandbox.models import Org
from crm_sandbox.schema import EDITION_LIMITS

WINDOW_MINUTES = 24 * 60

_lock = threading.Lock()
_calls: Counter[str] = Counter()
_credits: dict[int, dict[int, int]] = defaultdict(dict)
_active: Counter[int] = Counter()
_peak: Counter[int] = Counter()
_rejected: Counter[str] = Counter()
_max_queries: Counter[str] = Counter()

TOO_MANY_MESSAGE = "Number of API requests for the 24 hour period is exceeded or the concurrency limit of the user for the app is exceeded"


def credits_allowed(org: Org) -> int | None:
    if org.api_credits_override is not None:
        return org.api_credits_override
    base, per_user, cap, _ = EDITION_LIMITS.get(org.edition, EDITION_LIMITS["professional"])
    allowed = base + per_user * len(fieldcache.users_of(org.id))
    return min(allowed, cap) if cap is not None else None


def concurrency_allowed(org: Org) -> int:
    if org.concurrency_override is not None:
        return org.concurrency_override
    return EDITION_LIMITS.get(org.edition, EDITION_LIMITS["professional"])[3]


def count_call(label: str) -> None:
    with _lock:
        _calls[label] += 1


def count_queries(label: str, queries: int) -> None:
    with _lock:
        _max_queries[label] = max(_max_queries[label], queries)


def _used(org_id: int, minute: int) -> int:
    buckets = _credits[org_id]
    for old in [m for m in buckets if m <= minute - WINDOW_MINUTES]:
        del buckets[old]
    return sum(buckets.values())


def acquire(org: Org) -> None:
    """Take a concurrency slot and a credit, or raise 429 TOO_MANY_REQUESTS (the body's text is UNCONFIRMED)."""
    minute = int(time.time() // 60)
    allowed = credits_allowed(org)
    with _lock:
        if _active[org.id] >= concurrency_allowed(org):
            _rejected["concurrency"] += 1
            raise CrmApiError("TOO_MANY_REQUESTS", TOO_MANY_MESSAGE, status=429)
        if allowed is not None and _used(org.id, minute) >= allowed:
            _rejected["credits"] += 1
            raise CrmApiError("TOO_MANY_REQUESTS", TOO_MANY_MESSAGE, status=429)
        _active[org.id] += 1
        _peak[org.id] = max(_peak[org.id], _active[org.id])
        _credits[org.id][minute] = _credits[org.id].get(minute, 0) + 1


def release(org: Org) -> None:
    with _lock:
        _active[org.id] = max(0, _active[org.id] - 1)


def credits_remaining(org: Org) -> int | None:
    allowed = credits_allowed(org)
    if allowed is None:
        return None
    with _lock:
        return max(0, allowed - _used(org.id, int(time.time() // 60)))


def snapshot() -> dict[str, object]:
    minute = int(time.time() // 60)
    with _lock:
        return {
            "calls": dict(sorted(_calls.items())),
            "total_calls": sum(_calls.values()),
            "credits_used": {str(org_id): _used(org_id, minute) for org_id in list(_credits)},
            "concurrent_peak": {str(k): v for k, v in _peak.items()},
            "rejected": dict(_rejected),
            "max_queries": dict(sorted(_max_queries.items())),
        }


def reset() -> None:
    with _lock:
        _calls.clear()
        _credits.clear()
        _peak.clear()
        _rejected.clear()
        _max_queries.clear()

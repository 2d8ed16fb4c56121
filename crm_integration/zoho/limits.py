"""Zoho's concurrency limit across processes.

Zoho counts concurrent calls per CRM org and app (5 on Free ... 25 on Ultimate, reference §11), however many
processes make them. A semaphore per process lets W worker processes make W x limit calls at once, and each call
over the limit comes back 429 and is retried: wasted calls, and a sync that slows down as workers are added.
`SharedLimiter` keeps the slots in Redis, so every web and worker process of the deployment shares one limit.

A slot is a member of a sorted set whose score is the time it must be given back by (server time + the longest the
caller can hold it): a process killed mid-call loses its slot when that time passes, never for good. Taking a slot
is one Lua script (drop expired slots, count, add), so two processes never take the last one both. When no slot
is free the caller polls with jitter until its timeout. When Redis cannot be reached, the limiter falls back to
the process's own slots (and says so once in the log): calls go on, and a 429 is retried as before.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from functools import partial

import redis

from crm_integration.zoho.http import Limiter

logger = logging.getLogger(__name__)

# KEYS[1]: the slots; ARGV: size, hold (ms), ticket. Redis' own clock, so hosts whose clocks differ agree.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  return 1
end
return 0
"""

POLL_SECONDS = (0.005, 0.03)  # the wait between two tries when every slot is taken (uniform, so waiters spread)


class SharedLimiter:
    """`size` slots named `key`, shared by every process that uses the same Redis."""

    def __init__(
        self,
        client: redis.Redis,
        key: str,
        size: int,
        *,
        fallback: Limiter,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if size < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.client = client
        self.key = key
        self.size = size
        self.fallback = fallback
        self.sleep = sleep
        self.clock = clock
        self._take = client.register_script(_TAKE)
        self._warned = False

    def acquire(self, timeout: float, hold: float) -> Callable[[], None] | None:
        ticket = uuid.uuid4().hex
        deadline = self.clock() + max(0.0, timeout)
        hold_ms = max(1, int(hold * 1000))
        while True:
            try:
                taken = self._take(keys=[self.key], args=[self.size, hold_ms, ticket])
            except redis.RedisError as exc:
                if not self._warned:
                    self._warned = True
                    logger.warning(
                        "Redis unreachable for the shared Zoho CRM call slots (%s): this process limits its own calls",
                        type(exc).__name__,
                    )
                return self.fallback.acquire(max(0.0, deadline - self.clock()), hold)
            if taken:
                self._warned = False
                return partial(self._give_back, ticket)
            remaining = deadline - self.clock()
            if remaining <= 0:
                return None
            self.sleep(min(remaining, random.uniform(*POLL_SECONDS)))

    def held(self) -> int:
        """Slots taken now (expired ones included until the next take): for tests and the operator."""
        return int(self.client.zcard(self.key))

    def _give_back(self, ticket: str) -> None:
        try:
            self.client.zrem(self.key, ticket)
        except redis.RedisError:
            pass  # the slot expires at its hold time


__all__ = ["POLL_SECONDS", "SharedLimiter"]

"""Zoho's concurrency limit shared by every process through Redis (`SharedLimiter`): never more slots than the
limit, a dead holder's slot comes back after its hold time, an unreachable Redis falls back to the process's own
slots; and against the live sandbox, clients standing for several worker processes stay within the org's limit
where per-process slots overrun it (429s)."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable

import pytest
import redis
from django.conf import settings

from crm_integration.services import clients as client_services
from crm_integration.zoho import ZohoCrmClient
from crm_integration.zoho.http import Limiter, ProcessLimiter
from crm_integration.zoho.limits import SharedLimiter
from tests.fixtures.sandbox import SandboxServer


def _redis_url() -> str:
    return settings.REDIS_URL or "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_url() -> str:
    url = _redis_url()
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {url} (CI runs these against its Redis)")
    return url


def _limiter(url: str, key: str, size: int) -> SharedLimiter:
    """A limiter with its own Redis connection, as another process would have."""
    return SharedLimiter(redis.Redis.from_url(url), key, size, fallback=ProcessLimiter(size))


def test_never_more_slots_than_the_limit_across_limiters(redis_url: str) -> None:
    key = f"lb:test-slots:{uuid.uuid4().hex}"
    limiters = [_limiter(redis_url, key, 2) for _ in range(6)]
    lock = threading.Lock()
    state = {"now": 0, "max": 0, "done": 0}

    def work(limiter: SharedLimiter) -> None:
        for _ in range(3):
            release = limiter.acquire(10.0, hold=5.0)
            assert release is not None
            with lock:
                state["now"] += 1
                state["max"] = max(state["max"], state["now"])
            time.sleep(0.02)
            with lock:
                state["now"] -= 1
                state["done"] += 1
            release()

    threads = [threading.Thread(target=work, args=(limiters[i % 6],)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert state == {"now": 0, "max": 2, "done": 36}
    assert limiters[0].held() == 0


def test_a_slot_is_given_back_at_once_and_a_dead_holders_slot_after_its_hold_time(redis_url: str) -> None:
    key = f"lb:test-slots:{uuid.uuid4().hex}"
    first, second = _limiter(redis_url, key, 1), _limiter(redis_url, key, 1)
    release = first.acquire(1.0, hold=5.0)
    assert release is not None
    assert second.acquire(0.05, hold=5.0) is None  # the only slot is taken: no slot within the timeout
    release()
    again = second.acquire(0.05, hold=5.0)
    assert again is not None
    again()

    assert first.acquire(1.0, hold=0.3) is not None  # a holder that dies and never gives it back
    assert second.acquire(0.05, hold=5.0) is None
    assert second.acquire(2.0, hold=5.0) is not None  # its hold time passed: the slot is free again


def test_an_unreachable_redis_falls_back_to_the_process_slots_and_says_so_once(caplog) -> None:
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    limiter = SharedLimiter(dead, "lb:test-slots:dead", 1, fallback=ProcessLimiter(1))
    with caplog.at_level(logging.WARNING, logger="crm_integration.zoho.limits"):
        release = limiter.acquire(1.0, hold=5.0)
        assert release is not None
        assert limiter.acquire(0.05, hold=5.0) is None  # the process's own single slot is taken
        release()
    warnings = [r for r in caplog.records if "Redis unreachable" in r.getMessage()]
    assert len(warnings) == 1


def test_the_services_share_slots_through_redis_when_it_is_configured(settings, redis_url: str) -> None:
    settings.REDIS_URL = redis_url
    settings.LB_CRM_SHARED_CALL_SLOTS = True
    assert isinstance(client_services.call_slots("zoho:test-a", 5), SharedLimiter)
    settings.LB_CRM_SHARED_CALL_SLOTS = False
    assert isinstance(client_services.call_slots("zoho:test-b", 5), ProcessLimiter)
    settings.LB_CRM_SHARED_CALL_SLOTS = True
    settings.REDIS_URL = ""
    assert isinstance(client_services.call_slots("zoho:test-c", 5), ProcessLimiter)


def _burst(sandbox: SandboxServer, make_limiter: Callable[[int], Callable[[str, int], Limiter]]) -> tuple[int, int]:
    """Three clients of one connection (three worker processes), two threads each, three calls a thread, on an org
    that allows two concurrent calls; every call slow. Returns (429s the sandbox answered, calls that failed)."""
    sandbox.set_org(concurrency=2)
    sandbox.set_faults(slow=1.0, slow_ms=120)
    sandbox.reset_counters()
    workers = [
        ZohoCrmClient(sandbox.credentials(), connection_key="burst", max_concurrency=2, limiter=make_limiter(i))
        for i in range(3)
    ]
    for client in workers:
        client.current_token()
    failures: list[BaseException] = []

    def work(client: ZohoCrmClient) -> None:
        for _ in range(3):
            try:
                client.get_org()
            except Exception as exc:  # counted below
                failures.append(exc)

    threads = [threading.Thread(target=work, args=(workers[i % 3],)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    rejected = int(sandbox.counters()["rejected"].get("concurrency", 0))
    sandbox.set_faults()
    return rejected, len(failures)


@pytest.mark.e2e
def test_worker_processes_sharing_slots_stay_within_the_orgs_limit(sandbox: SandboxServer, redis_url: str) -> None:
    key = f"lb:test-slots:{uuid.uuid4().hex}"

    def shared(_: int) -> Callable[[str, int], Limiter]:
        return lambda _key, size: _limiter(redis_url, key, size)

    def own(_: int) -> Callable[[str, int], Limiter]:
        return lambda _key, size: ProcessLimiter(size)  # what each process had before: its own slots

    assert _burst(sandbox, shared) == (0, 0)
    rejected, failed = _burst(sandbox, own)
    assert rejected > 0  # three processes x two slots overran the org's two: Zoho answered 429 (then retried)
    assert failed == 0

"""The notification deliverer: background threads of the serve process that POST the outbox (`Delivery` rows) to
the channels' notify_url, retrying with exponential backoff on a failure or a non-2xx answer.

The outbox is a table, so a restart loses nothing: pending rows are picked up again. One dispatcher thread
claims due rows (pushing their next attempt forward as a lease) and hands them to a small pool of senders, so a
slow receiver does not hold up the others.

Retry policy (UNCONFIRMED: Zoho documents none): up to CRM_SANDBOX_NOTIFY_ATTEMPTS (default 5) attempts, the
n-th retry after CRM_SANDBOX_NOTIFY_BACKOFF × 2^(n-1) seconds (default 2 s); timeout CRM_SANDBOX_NOTIFY_TIMEOUT (5 s).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import requests
from django.db import close_old_connections, transaction

from crm_sandbox.common import now
from crm_sandbox.models import Delivery

log = logging.getLogger(__name__)

_wake = threading.Event()
_stop = threading.Event()
_started = False
_lock = threading.Lock()


def _float_env(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def max_attempts() -> int:
    return int(_float_env("CRM_SANDBOX_NOTIFY_ATTEMPTS", 5))


def backoff(attempt: int) -> dt.timedelta:
    return dt.timedelta(seconds=_float_env("CRM_SANDBOX_NOTIFY_BACKOFF", 2.0) * 2 ** max(0, attempt - 1))


def wake() -> None:
    _wake.set()


def start(workers: int = 4) -> None:
    global _started
    with _lock:
        if _started:
            return
        _started = True
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="crm-notify")
    threading.Thread(target=_dispatch_loop, args=(pool,), name="crm-notify-dispatch", daemon=True).start()


def stop() -> None:
    _stop.set()
    _wake.set()


def _claim(limit: int = 20) -> list[int]:
    lease = now() + dt.timedelta(seconds=_float_env("CRM_SANDBOX_NOTIFY_TIMEOUT", 5.0) + 5)
    with transaction.atomic():
        ids = list(
            Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now())
            .order_by("next_attempt_at", "id")
            .values_list("id", flat=True)[:limit]
        )
        if ids:
            Delivery.objects.filter(id__in=ids).update(next_attempt_at=lease)
    return ids


def _next_due() -> float:
    first = (
        Delivery.objects.filter(status=Delivery.Status.PENDING)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    if first is None:
        return 5.0
    return max(0.05, min(5.0, (first - now()).total_seconds()))


def _dispatch_loop(pool: ThreadPoolExecutor) -> None:
    while not _stop.is_set():
        try:
            close_old_connections()
            ids = _claim()
            for delivery_id in ids:
                pool.submit(deliver_one, delivery_id)
            timeout = 0.05 if ids else _next_due()
        except Exception:
            log.exception("notification dispatch failed")
            timeout = 1.0
        _wake.wait(timeout)
        _wake.clear()


def deliver_one(delivery_id: int) -> None:
    """One attempt for one delivery; records the outcome and schedules the retry."""
    try:
        close_old_connections()
        delivery = Delivery.objects.get(pk=delivery_id)
        if delivery.status != Delivery.Status.PENDING:
            return
        code: int | None = None
        error = ""
        try:
            response = requests.post(
                delivery.notify_url,
                json=delivery.payload,
                timeout=_float_env("CRM_SANDBOX_NOTIFY_TIMEOUT", 5.0),
                headers={"User-Agent": "crm-sandbox-notifier"},
            )
            code = response.status_code
            ok = 200 <= code < 300
            if not ok:
                error = f"HTTP {code}"
        except requests.RequestException as exc:
            ok = False
            error = type(exc).__name__
        attempts = delivery.attempts + 1
        update: dict[str, object] = {"attempts": attempts, "last_status_code": code, "last_error": error}
        if ok:
            update.update(status=Delivery.Status.DELIVERED, delivered_time=now())
        elif attempts >= max_attempts():
            update.update(status=Delivery.Status.FAILED)
        else:
            update.update(next_attempt_at=now() + backoff(attempts))
        Delivery.objects.filter(pk=delivery_id).update(**update)
        wake()
    except Exception:
        log.exception("notification delivery %s failed", delivery_id)
    finally:
        close_old_connections()

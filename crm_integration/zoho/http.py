"""The HTTP transport under the Zoho client: one `requests.Session`, a timeout on every call, retries with
exponential backoff and full jitter within a per-call time budget, the per-connection limit on concurrent calls,
and the mapping of Zoho's answers onto the error taxonomy of `crm_integration.client`.

What is retried, and why:
- 429 (rate or concurrency limit), 5xx, timeouts, refused/dropped connections, bodies cut short and bodies that
  are not JSON: all of these say "try again", and none is the caller's fault.
- A request that is *not* safe to repeat (a plain insert) is retried only when the failure proves the server did
  not act on it: a 429, or a connection that could not be opened. Any other failure (read timeout, connection
  dropped after sending, 5xx) leaves the outcome unknown; we then raise `CrmRetryLater(code="OUTCOME_UNKNOWN")`
  so the caller reconciles (e.g. searches by its external id) instead of blindly duplicating records.
- When the budget is spent, `CrmRetryLater` carries the wait the server asked for (Retry-After, if any).

Nothing here logs a query string, a header or a body: URLs can carry ids and the token endpoint's form carries
secrets, so logs get the method, the path and the status only.
"""

from __future__ import annotations

import http.client
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, NewConnectionError

from crm_integration.client import CrmError, CrmPermanent, CrmRetryLater

logger = logging.getLogger(__name__)

# The failures that prove a request never reached the server (safe to retry even for a plain insert).
_NOT_SENT = (requests.exceptions.ConnectTimeout,)
# Everything the network can do to us. requests wraps RemoteDisconnected / IncompleteRead in its ConnectionError or
# ChunkedEncodingError; the bare http.client and socket errors are listed too in case one slips through unwrapped.
_TRANSIENT = (
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    http.client.HTTPException,
    ConnectionError,
)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one call tries. `budget` is the wall-clock time one logical call may take, retries included."""

    budget: float = 60.0
    base_delay: float = 0.5
    max_delay: float = 20.0
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    # How long to wait for a free slot of the per-connection concurrency limit (bounded by the budget too).
    slot_timeout: float = 30.0

    def backoff(self, attempt: int) -> float:
        """Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): uniform in [0, cap]."""
        cap = min(self.max_delay, self.base_delay * (2**attempt))
        return random.uniform(0, cap)


@dataclass
class Stats:
    """Counters one client keeps: what the benchmark compares to the minimum number of calls."""

    requests: int = 0  # HTTP requests sent to the API host, retries included
    token_requests: int = 0  # HTTP requests sent to the accounts server
    retries: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + n)


@dataclass(frozen=True)
class HttpResult:
    status: int
    body: Any  # parsed JSON, or None for an empty body (204, 304)
    headers: Mapping[str, str]


class Limiter(Protocol):
    """A connection's concurrent-call slots."""

    def acquire(self, timeout: float, hold: float) -> Callable[[], None] | None:
        """Takes a slot within `timeout` seconds and returns the function that gives it back, or None when every
        slot stayed busy. `hold`: the longest the caller can keep the slot (a limiter shared between processes
        frees it after that, should the holder die)."""
        ...


class ProcessLimiter:
    """The slots of one process: every client instance of a connection in the process shares them, so N threads
    of one worker never exceed the limit. Across processes see `crm_integration.zoho.limits.SharedLimiter`."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.size = size
        self._semaphore = threading.BoundedSemaphore(size)

    def acquire(self, timeout: float, hold: float = 0.0) -> Callable[[], None] | None:
        return self._semaphore.release if self._semaphore.acquire(timeout=max(0.0, timeout)) else None


_LIMITERS: dict[str, ProcessLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def connection_limiter(key: str, size: int) -> ProcessLimiter:
    """The process-wide slots of a connection. The first caller's size wins for the life of the process."""
    with _LIMITERS_LOCK:
        limiter = _LIMITERS.get(key)
        if limiter is None:
            limiter = _LIMITERS[key] = ProcessLimiter(size)
        return limiter


def new_session(pool_size: int = 10, user_agent: str = "Ledgerbridge/0.1") -> requests.Session:
    session = requests.Session()
    # Our own retry loop decides; urllib3 must not retry underneath it.
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(pool_size, 4), max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = user_agent
    session.headers["Accept"] = "application/json"
    return session


def log_url(url: str) -> str:
    """Scheme, host and path only: never the query string."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date; Zoho does not document Retry-After at all, seconds are all we honour


def _parse(response: requests.Response) -> tuple[Any, bool]:
    """(body, ok). ok is False when a body that should be JSON is not (cut short, an HTML error page...)."""
    content = response.content
    if not content or not content.strip():
        return None, True
    try:
        return json.loads(content), True
    except ValueError:
        return content[:200].decode("utf-8", "replace"), False


class Transport:
    def __init__(
        self,
        *,
        session: requests.Session,
        policy: RetryPolicy,
        limiter: Limiter | None,
        stats: Stats,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session = session
        self.policy = policy
        self.limiter = limiter
        self.stats = stats
        self.sleep = sleep
        self.clock = clock

    def deadline(self) -> float:
        return self.clock() + self.policy.budget

    def send(
        self,
        method: str,
        url: str,
        *,
        deadline: float,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        safe_to_retry: bool = True,
        counter: str = "requests",
    ) -> HttpResult:
        """Send until an answer the caller must interpret (2xx/3xx/4xx other than 429) or the budget is spent."""
        attempt = 0
        while True:
            remaining = deadline - self.clock()
            if remaining <= 0:
                raise CrmRetryLater(f"{method} {log_url(url)}: no time left in this call's budget", code="TIMEOUT")
            failure: CrmRetryLater
            wait: float | None = None
            not_sent = False
            try:
                response = self._send_once(
                    method,
                    url,
                    params=params,
                    json_body=json_body,
                    form=form,
                    headers=headers,
                    remaining=remaining,
                    counter=counter,
                )
            except _NOT_SENT as exc:
                failure = CrmRetryLater(
                    f"{method} {log_url(url)}: could not connect ({type(exc).__name__})", code="CONNECT_TIMEOUT"
                )
                not_sent = True
            except _TRANSIENT as exc:
                # A refused connection (nothing listening) is also "not sent"; a reset after sending is not.
                not_sent = isinstance(exc, requests.exceptions.ConnectionError) and _is_connect_failure(exc)
                failure = CrmRetryLater(
                    f"{method} {log_url(url)}: {type(exc).__name__}",
                    code="CONNECTION_ERROR" if not isinstance(exc, requests.exceptions.Timeout) else "TIMEOUT",
                )
            else:
                body, parsed = _parse(response)
                status = response.status_code
                logger.debug("zoho %s %s -> %s", method, log_url(url), status)
                if status == 429:
                    wait = _retry_after(response.headers)
                    code, message = _code_message(body, "TOO_MANY_REQUESTS", "too many requests")
                    failure = CrmRetryLater(message, code=code, status=429, wait=wait, details=_details(body))
                    not_sent = True  # Zoho refuses before doing anything
                elif status >= 500:
                    code, message = _code_message(body, "INTERNAL_ERROR", f"HTTP {status}")
                    failure = CrmRetryLater(message, code=code, status=status, details=_details(body))
                    wait = _retry_after(response.headers)
                elif not parsed and status < 300:
                    failure = CrmRetryLater(
                        f"{method} {log_url(url)}: the answer is not JSON (cut short?)", code="BAD_RESPONSE"
                    )
                elif not parsed and status == 401:
                    return HttpResult(status=status, body=None, headers=response.headers)  # the caller refreshes
                elif not parsed:
                    # A 4xx from something in front of Zoho (a proxy's HTML page): permanent, but say what it was.
                    raise CrmPermanent(f"HTTP {status}: {body}", code=f"HTTP_{status}", status=status)
                else:
                    return HttpResult(status=status, body=body, headers=response.headers)

            if not safe_to_retry and not not_sent:
                raise CrmRetryLater(
                    f"{method} {log_url(url)} failed after it may have reached Zoho ({failure.code}: "
                    f"{failure.message}); it was not repeated because repeating it could duplicate records. "
                    "Check what the CRM holds before retrying.",
                    code="OUTCOME_UNKNOWN",
                    status=failure.status,
                )
            delay = self.policy.backoff(attempt)
            if wait is not None:
                delay = max(delay, wait)
            if self.clock() + delay >= deadline:
                failure.wait = wait if wait is not None else delay
                raise failure
            attempt += 1
            self.stats.add("retries")
            logger.info("zoho %s %s: %s, retry %d in %.2fs", method, log_url(url), failure.code, attempt, delay)
            self.sleep(delay)

    def _send_once(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None,
        json_body: Any,
        form: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        remaining: float,
        counter: str,
    ) -> requests.Response:
        timeout = (min(self.policy.connect_timeout, remaining), min(self.policy.read_timeout, remaining))
        limiter = self.limiter if counter == "requests" else None
        release: Callable[[], None] | None = None
        if limiter is not None:
            release = limiter.acquire(min(self.policy.slot_timeout, remaining), hold=timeout[0] + timeout[1] + 5.0)
            if release is None:
                raise CrmRetryLater(
                    "all of this connection's concurrent-call slots stayed busy", code="CONCURRENCY_LIMIT", wait=1.0
                )
        try:
            self.stats.add(counter)
            data = None
            if json_body is not None:
                # Serialised here rather than by requests so that the bytes are compact and exactly what we log
                # nowhere: Zoho parses JSON whatever the Content-Type, and we send the right one anyway.
                data = json.dumps(json_body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
                headers = {**(headers or {}), "Content-Type": "application/json"}
            elif form is not None:
                data = form  # type: ignore[assignment]
            return self.session.request(method, url, params=params, data=data, headers=headers, timeout=timeout)
        finally:
            if release is not None:
                release()


def _is_connect_failure(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the connection was never established (refused, DNS), so the request was never sent. A reset or a
    close after sending arrives as urllib3's ProtocolError instead, and is not this."""
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError)


def _code_message(body: Any, default_code: str, default_message: str) -> tuple[str, str]:
    if isinstance(body, dict):
        return str(body.get("code") or default_code), str(body.get("message") or default_message)
    return default_code, default_message


def _details(body: Any) -> Any:
    if isinstance(body, dict):
        return body.get("details") or {}
    return {}


def error_from_envelope(status: int, body: Any, *, what: str) -> CrmError:
    """A request-level Zoho error (`{"code","details","message","status":"error"}`) as the caller's exception."""
    code, message = _code_message(body, f"HTTP_{status}", f"{what}: HTTP {status}")
    return CrmPermanent(message, code=code, status=status, details=_details(body))

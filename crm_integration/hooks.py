"""Where `sync` and `triggers` plug into the Settings › Zoho Apps pages and the integration file.

Dependencies point one way (triggers → sync → crm_integration), so crm_integration cannot import them; they
register here instead, from their AppConfig.ready():

- `register_panel(...)`: a section of the Show Details page (placement "details") or of the Show Sync History
  page (placement "history"): a template name and a function returning its context.
- `register_sync_starter(fn)`: what Save and Sync and Instant Sync call. Until one is registered the pages say
  that sync is not available yet, and Save and Sync saves with that message.
- `register_config_section(...)`: a top-level key of the integration file (e.g. `triggers`) that another app
  validates, applies and shows.
- `connect_listener(event, fn)`: called after a connection event (see EVENTS), e.g. so triggers drop their
  notification channels when the integration is disabled.

Registrations are process-wide; tests use `registry_snapshot()` to restore them.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from django.http import HttpRequest

    from books.models import User
    from crm_integration.models import CrmConnection

logger = logging.getLogger(__name__)

PLACEMENTS = ("details", "history")
# Events a listener may follow; each is called with keyword arguments `connection` and `actor`.
EVENTS = (
    "connection_connected",  # a new connection or new credentials saved
    "crm_org_changed",  # the connection now points at another CRM org (links to the old one are stale)
    "connection_disabled",
    "connection_enabled",
    "module_saved",  # also gets `module`
    "module_stopped",  # also gets `module`
)


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    template_name: str
    context: Callable[[HttpRequest, CrmConnection], dict[str, Any]]
    placement: str = "details"
    order: int = 100


class SyncStarter(Protocol):
    """Starts (enqueues) a sync of `connection` and returns a sentence for the admin ("Sync started.").

    `trigger` is "initial" (Save and Sync), "instant" (Instant Sync) or "manual"; `modules` None means every
    enabled module. It raises books.errors.ApplicationError to refuse (e.g. "already running")."""

    def __call__(
        self, *, connection: CrmConnection, actor: User | None, trigger: str, modules: Sequence[str] | None
    ) -> str: ...


@dataclass(frozen=True)
class ConfigSection:
    """A key of the integration file owned by another app.

    - validate(value, path) -> list of (path, problem) for the key's value (no writes);
    - apply(connection, value, actor) -> None, called inside the file's transaction after everything validated;
    - show(connection) -> the key's current value in the file's schema (or None to leave it out)."""

    key: str
    validate: Callable[[Any, str], list[tuple[str, str]]]
    apply: Callable[[CrmConnection, Any, User | None], None]
    show: Callable[[CrmConnection], Any]


_panels: dict[str, Panel] = {}
_sync_starter: list[SyncStarter] = []
_config_sections: dict[str, ConfigSection] = {}
_listeners: dict[str, list[Callable[..., None]]] = {}


def register_panel(
    key: str,
    *,
    title: str,
    template_name: str,
    context: Callable[[HttpRequest, CrmConnection], dict[str, Any]],
    placement: str = "details",
    order: int = 100,
) -> None:
    if placement not in PLACEMENTS:
        raise ValueError(f"placement must be one of {PLACEMENTS}, not {placement!r}")
    _panels[key] = Panel(
        key=key, title=title, template_name=template_name, context=context, placement=placement, order=order
    )


def panels(placement: str) -> list[Panel]:
    return sorted((p for p in _panels.values() if p.placement == placement), key=lambda p: (p.order, p.key))


def register_sync_starter(starter: SyncStarter) -> None:
    _sync_starter[:] = [starter]


def sync_starter() -> SyncStarter | None:
    return _sync_starter[0] if _sync_starter else None


def sync_available() -> bool:
    return bool(_sync_starter)


def register_config_section(
    key: str,
    *,
    validate: Callable[[Any, str], list[tuple[str, str]]],
    apply: Callable[[CrmConnection, Any, User | None], None],
    show: Callable[[CrmConnection], Any],
) -> None:
    _config_sections[key] = ConfigSection(key=key, validate=validate, apply=apply, show=show)


def config_section(key: str) -> ConfigSection | None:
    return _config_sections.get(key)


def connect_listener(event: str, listener: Callable[..., None]) -> None:
    if event not in EVENTS:
        raise ValueError(f"event must be one of {EVENTS}, not {event!r}")
    bucket = _listeners.setdefault(event, [])
    if listener not in bucket:
        bucket.append(listener)


def emit(event: str, **kwargs: Any) -> None:
    """Calls the listeners of `event`. Run it after commit; a failing listener is logged, never re-raised, so
    one app's bug cannot undo the admin's change."""
    for listener in list(_listeners.get(event, ())):
        try:
            listener(**kwargs)
        except Exception:
            logger.exception("crm_integration hook %s failed in %r", event, listener)


@contextlib.contextmanager
def registry_snapshot() -> Iterator[None]:
    """Restores every registration on exit (for tests)."""
    saved = (dict(_panels), list(_sync_starter), dict(_config_sections), {k: list(v) for k, v in _listeners.items()})
    try:
        yield
    finally:
        _panels.clear()
        _panels.update(saved[0])
        _sync_starter[:] = saved[1]
        _config_sections.clear()
        _config_sections.update(saved[2])
        _listeners.clear()
        _listeners.update(saved[3])

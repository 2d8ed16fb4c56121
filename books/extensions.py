"""Where other apps add to Books' pages and API without Books knowing them (Books imports nothing of theirs).

Apps register from their AppConfig.ready():

- `register_fragment(slot, key, template_name=…, context=…)`: a piece of HTML rendered into a named place of a
  Books page (see SLOTS), e.g. an action of a "More" menu or a panel on a transaction form. `context(request,
  page_context)` returns the fragment's template context, or None to leave the fragment out on that page (e.g.
  a contact that is not linked). Templates render a slot with `{% extension_slot "<slot>" %}`.
- `register_form_saved(key, handler)`: called after a transaction form (page) saved a transaction, with
  `request`, `txn` and `created`; for state a fragment put into the form (a hidden input). A handler reports
  problems with django.contrib.messages; the transaction is saved whatever it does.
- `register_api_route(pattern)`: a URL pattern of the Books API (mounted under /books/v3/), e.g.
  `crm/account/<id>/import`; added before the API's answer to unknown URLs.

Registrations are process-wide; tests use `registry_snapshot()` to restore them.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from django.http import HttpRequest
    from django.urls import URLPattern, URLResolver

    from books.models import Transaction

logger = logging.getLogger(__name__)

# The places of Books' pages that take fragments, and the page context each one sees.
SLOTS: dict[str, str] = {
    "contact_more_menu": "the More menu of a customer's or vendor's page (contact, cfg)",
    "item_more_menu": "the More menu of an item's page (item)",
    "transaction_more_menu": "the More menu of a transaction's page (txn, cfg)",
    "transaction_form_contact": "beside the Customer / Vendor Name of a transaction form (cfg, txn, form)",
    "transaction_form_actions": "below the Customer / Vendor Name of a transaction form (cfg, txn, form)",
    "transaction_detail": "the deal section of a transaction's page (txn, cfg)",
}

FragmentContext = Callable[["HttpRequest", Mapping[str, Any]], "dict[str, Any] | None"]


@dataclass(frozen=True)
class Fragment:
    slot: str
    key: str
    template_name: str
    context: FragmentContext
    order: int = 100


class FormSavedHandler(Protocol):
    def __call__(self, *, request: HttpRequest, txn: Transaction, created: bool) -> None: ...


_fragments: dict[tuple[str, str], Fragment] = {}
_form_saved: dict[str, FormSavedHandler] = {}
_api_routes: dict[str, URLPattern | URLResolver] = {}


def register_fragment(slot: str, key: str, *, template_name: str, context: FragmentContext, order: int = 100) -> None:
    if slot not in SLOTS:
        raise ValueError(f"slot must be one of {sorted(SLOTS)}, not {slot!r}")
    _fragments[(slot, key)] = Fragment(slot=slot, key=key, template_name=template_name, context=context, order=order)


def fragments(slot: str) -> list[Fragment]:
    return sorted((f for f in _fragments.values() if f.slot == slot), key=lambda f: (f.order, f.key))


def register_form_saved(key: str, handler: FormSavedHandler) -> None:
    _form_saved[key] = handler


def form_saved(*, request: HttpRequest, txn: Transaction, created: bool) -> None:
    """Calls every handler. One app's failure is logged and never undoes or hides the save."""
    for key, handler in list(_form_saved.items()):
        try:
            handler(request=request, txn=txn, created=created)
        except Exception:
            logger.exception("form-saved handler %s failed", key)


def register_api_route(pattern: URLPattern | URLResolver) -> None:
    key = str(pattern.pattern)
    _api_routes[key] = pattern


def api_routes() -> list[URLPattern | URLResolver]:
    return list(_api_routes.values())


@contextlib.contextmanager
def registry_snapshot() -> Iterator[None]:
    """Restores every registration on exit (for tests)."""
    saved = (dict(_fragments), dict(_form_saved), dict(_api_routes))
    try:
        yield
    finally:
        _fragments.clear()
        _fragments.update(saved[0])
        _form_saved.clear()
        _form_saved.update(saved[1])
        _api_routes.clear()
        _api_routes.update(saved[2])

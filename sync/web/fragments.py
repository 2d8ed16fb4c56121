"""What sync adds to Books' pages through books.extensions (registered by `register()` from SyncConfig.ready()):

- the More menu of a linked customer / vendor: "Fetch this contact from Zoho CRM"; of a linked item: "Fetch this
  item from Zoho CRM";
- beside the Customer / Vendor Name of a transaction form: the search in Zoho CRM (Search Contacts in CRM);
- below it, on quotes, sales orders, invoices and expenses: CRM Actions › Associate Potential, and the deal the
  form will associate when saved;
- on a transaction's page: CRM Actions › Associate Potential (applied at once);
- after a transaction form saved: the pending deal applied (`on_transaction_form_saved`).

Fragments appear only when the organization has a connection that works (one query per page, kept on the
request)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest
from django.urls import reverse

from books import extensions
from books.errors import ApplicationError
from books.forms import strip_field_prefix
from books.models import Transaction, TransactionKind
from books.services.transactions import transaction_associate_potential, transaction_dissociate_potential
from crm_integration.models import ConnectionStatus, CrmConnection
from crm_integration.selectors import connection_get
from sync.web import state

K = TransactionKind
# The form field (and its DOM id) that holds the customer a deal search starts from, per kind.
DEAL_CUSTOMER_FIELD = {
    K.QUOTE: "id_contact_id",
    K.SALES_ORDER: "id_contact_id",
    K.INVOICE: "id_contact_id",
    K.EXPENSE: "id_customer_id",
}


def _connection(request: HttpRequest) -> CrmConnection | None:
    """The organization's working connection, read once per request."""
    if not hasattr(request, "_lb_crm_connection"):
        organization = getattr(request, "organization", None)
        connection = connection_get(organization=organization) if organization is not None else None
        if connection is not None and connection.status != ConnectionStatus.CONNECTED:
            connection = None
        request._lb_crm_connection = connection  # type: ignore[attr-defined]
    return request._lb_crm_connection  # type: ignore[attr-defined]


def _url(name: str, **params: Any) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return reverse(name) + (f"?{query}" if query else "")


def contact_menu(request: HttpRequest, page: Mapping[str, Any]) -> dict[str, Any] | None:
    contact = page.get("contact")
    if contact is None or not contact.is_linked_with_zohocrm or _connection(request) is None:
        return None
    return {"contact": contact}


def item_menu(request: HttpRequest, page: Mapping[str, Any]) -> dict[str, Any] | None:
    item = page.get("item")
    if item is None or not item.is_linked_with_zohocrm or _connection(request) is None:
        return None
    return {"item": item}


def form_contact_search(request: HttpRequest, page: Mapping[str, Any]) -> dict[str, Any] | None:
    cfg = page.get("cfg")
    if cfg is None or _connection(request) is None:
        return None
    return {
        "noun": "customer" if cfg.is_sales else "vendor",
        "search_url": _url("sync_crm:contact_search", kind=cfg.kind, next=request.get_full_path()),
    }


def _pending(request: HttpRequest) -> tuple[state.PendingDeal | None, str]:
    token = request.POST.get("crm_deal") if request.method == "POST" else request.GET.get("crm_deal")
    organization = request.organization  # type: ignore[attr-defined]
    pending = state.pending_loads(token, organization_id=organization.pk)
    return pending, (str(token) if pending else "")


def form_deal_actions(request: HttpRequest, page: Mapping[str, Any]) -> dict[str, Any] | None:
    cfg = page.get("cfg")
    if cfg is None or cfg.kind not in DEAL_CUSTOMER_FIELD or _connection(request) is None:
        return None
    txn: Transaction | None = page.get("txn")
    pending, token = _pending(request)
    next_url = request.get_full_path() if request.method == "GET" else request.path
    return {
        "txn": txn,
        "pending": pending,
        "token": token,
        "pane_url": _url("sync_crm:deal_pane", kind=cfg.kind, mode="form", txn=txn.pk if txn else "", next=next_url),
        "customer_field": DEAL_CUSTOMER_FIELD[cfg.kind],
    }


def detail_deal_actions(request: HttpRequest, page: Mapping[str, Any]) -> dict[str, Any] | None:
    cfg, txn = page.get("cfg"), page.get("txn")
    if cfg is None or txn is None or cfg.kind not in DEAL_CUSTOMER_FIELD or _connection(request) is None:
        return None
    return {
        "txn": txn,
        "pane_url": _url("sync_crm:deal_pane", kind=cfg.kind, mode="apply", txn=txn.pk, next=request.get_full_path()),
    }


def on_transaction_form_saved(*, request: HttpRequest, txn: Transaction, created: bool) -> None:
    """Applies the deal the form carried (chosen in the pane): associate, or dissociate. A refusal (e.g. a
    trigger-made association) is a message; the transaction stays saved."""
    pending, _ = _pending(request)
    if pending is None:
        return
    actor = request.user if request.user.is_authenticated else None
    try:
        if pending.associates:
            if txn.zcrm_potential_id != pending.id:
                transaction_associate_potential(
                    txn=txn,
                    actor=actor,
                    potential_id=pending.id,
                    potential_name=pending.name,
                )
                messages.success(request, f"Potential {pending.name} has been associated.")
        elif txn.zcrm_potential_id:
            transaction_dissociate_potential(txn=txn, actor=actor)
            messages.success(request, "The potential has been dissociated.")
    except ApplicationError as exc:
        messages.error(request, strip_field_prefix(exc.message, exc.field))


def register() -> None:
    extensions.register_fragment(
        "contact_more_menu", "crm-fetch", template_name="sync/crm/_contact_menu.html", context=contact_menu
    )
    extensions.register_fragment(
        "item_more_menu", "crm-fetch", template_name="sync/crm/_item_menu.html", context=item_menu
    )
    extensions.register_fragment(
        "transaction_form_contact",
        "crm-search",
        template_name="sync/crm/_form_contact_search.html",
        context=form_contact_search,
    )
    extensions.register_fragment(
        "transaction_form_actions",
        "crm-deal",
        template_name="sync/crm/_form_deal_actions.html",
        context=form_deal_actions,
    )
    extensions.register_fragment(
        "transaction_detail",
        "crm-deal",
        template_name="sync/crm/_detail_deal_actions.html",
        context=detail_deal_actions,
    )
    extensions.register_form_saved("crm-deal", on_transaction_form_saved)

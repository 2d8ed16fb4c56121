"""The accountant's CRM actions (mounted at /crm/; accountants and admins; integration users get Books' "no access"
page). Function-based, thin: parse, call a service of sync.services.crm_actions, render.

- Search Contacts in CRM: `contact_search` (the pane: "In Zoho CRM", a name, Go, the list) and `contact_select`
  (import now, or choose the one already imported). In a form's dialog (htmx) the chosen contact becomes the
  form's customer through an `lb-crm-contact-chosen` event; without JavaScript the pane is a page and Select goes
  back to the new transaction with the customer chosen.
- Associate Potential: `deal_pane` lists deals; on a form (`mode=form`) Associate / Dissociate set the deal the
  form applies when saved (`deal_pick`, a signed hidden value); on a transaction's page (`mode=apply`) they apply
  at once (`deal_associate`, `deal_dissociate`).
- Fetch this contact / item from Zoho CRM: `contact_fetch`, `item_fetch`.

Bad input and CRM errors come back inline (400 for a page; 200 with the message for an htmx swap, which htmx would
not show otherwise); ids of another organization are 404.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_POST

from books.errors import ApplicationError
from books.forms import strip_field_prefix
from books.models import ContactType, Transaction, TransactionKind
from books.permissions import books_page
from books.selectors import contact_get, item_get, transaction_get
from books.services.transactions import CONTACT_TYPE_FOR, transaction_dissociate_potential
from books.views.common import BooksRequest, get_or_404, render, safe_next
from sync.services import crm_actions
from sync.web import state
from sync.web.fragments import DEAL_CUSTOMER_FIELD

K = TransactionKind
NOUNS: dict[str, str] = {ContactType.CUSTOMER: "customer", ContactType.VENDOR: "vendor"}


def _message(exc: ApplicationError) -> str:
    return strip_field_prefix(exc.message, exc.field)


def _kind(params: QueryDict, *, deals: bool = False) -> str:
    kind = str(params.get("kind") or "")
    allowed = DEAL_CUSTOMER_FIELD if deals else CONTACT_TYPE_FOR
    if kind not in allowed:
        raise Http404(f"kind: '{kind[:20]}' is not a transaction kind here")
    return kind


def _is_htmx(request: BooksRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.history_restore_request


def _with_params(url: str, **params: Any) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update({k: str(v) for k, v in params.items()})
    return urlunsplit(parts._replace(query=urlencode(query)))


def _form_url(kind: str) -> str:
    return reverse(f"books:{kind}_new")


# --------------------------------------------------------------------------------- Search Contacts in CRM


@books_page()
@require_GET
def contact_search(request: BooksRequest) -> HttpResponse:
    kind = _kind(request.GET)
    contact_type = CONTACT_TYPE_FOR[kind]
    next_url = safe_next(request, _form_url(kind))
    query = str(request.GET.get("q", ""))[:200]
    result = None
    error = ""
    if "q" in request.GET:
        try:
            result = crm_actions.crm_contact_search(
                organization=request.organization, contact_type=contact_type, query=query
            )
        except ApplicationError as exc:
            error = _message(exc)
    context = {
        "kind": kind,
        "noun": NOUNS[contact_type],
        "query": query.strip(),
        "result": result,
        "error": error,
        "next": next_url,
        "in_dialog": _is_htmx(request),
    }
    status = 400 if error and not _is_htmx(request) else 200
    return render(request, "sync/crm/contact_search.html", context, partial="pane", status=status)


@books_page()
@require_POST
def contact_select(request: BooksRequest) -> HttpResponse:
    kind = _kind(request.POST)
    contact_type = CONTACT_TYPE_FOR[kind]
    next_url = safe_next(request, _form_url(kind))
    try:
        contact = crm_actions.crm_contact_choose(
            organization=request.organization,
            actor=request.user,
            contact_type=contact_type,
            crm_module=request.POST.get("crm_module"),
            crm_id=request.POST.get("crm_id"),
        )
    except ApplicationError as exc:
        context: dict[str, Any] = {
            "kind": kind,
            "noun": NOUNS[contact_type],
            "query": "",
            "result": None,
            "error": _message(exc),
            "next": next_url,
            "in_dialog": _is_htmx(request),
        }
        status = 200 if _is_htmx(request) else 400
        return render(request, "sync/crm/contact_search.html", context, partial="pane", status=status)
    if _is_htmx(request):
        response = render(request, "sync/crm/_contact_chosen.html", {"contact": contact})
        response["HX-Trigger"] = json.dumps(
            {"lb-crm-contact-chosen": {"select": "id_contact_id", "id": contact.pk, "name": contact.contact_name}}
        )
        return response
    param = "customer_id" if contact_type == ContactType.CUSTOMER else "vendor_id"
    messages.success(request, f"{contact.contact_name} from Zoho CRM is now the {NOUNS[contact_type]} of this form.")
    return HttpResponseRedirect(_with_params(next_url, **{param: contact.pk}))


# --------------------------------------------------------------------------------------- Associate Potential


def _txn(request: BooksRequest, kind: str, raw: Any) -> Transaction | None:
    if raw in (None, ""):
        return None
    return get_or_404(transaction_get, organization=request.organization, transaction_id=raw, kind=kind)


@books_page()
@require_GET
def deal_pane(request: BooksRequest) -> HttpResponse:
    kind = _kind(request.GET, deals=True)
    mode = "apply" if request.GET.get("mode") == "apply" else "form"
    txn = _txn(request, kind, request.GET.get("txn"))
    if mode == "apply" and txn is None:
        raise Http404("txn: a transaction is needed to associate a potential at once")
    organization = request.organization
    pending = state.pending_loads(request.GET.get("crm_deal"), organization_id=organization.pk)
    errors: list[str] = []
    customer = None
    raw_customer = str(request.GET.get("customer_id") or "").strip()
    if raw_customer:
        try:
            customer = contact_get(
                organization=organization, contact_id=raw_customer, contact_type=ContactType.CUSTOMER
            )
        except ApplicationError as exc:
            errors.append(_message(exc))
    elif txn is not None:
        customer = txn.customer if kind == K.EXPENSE else txn.contact
    current_id, current_name = "", ""
    if pending is not None:
        if pending.associates:
            current_id, current_name = pending.id, pending.name
    elif txn is not None:
        current_id, current_name = txn.zcrm_potential_id, txn.zcrm_potential_name
    query = str(request.GET.get("q", ""))[:200]
    deals = None
    try:
        deals = crm_actions.crm_deal_list(
            organization=organization,
            customer=customer,
            query=query,
            current_id=current_id,
            current_name=current_name,
        )
    except ApplicationError as exc:
        errors.append(_message(exc))
    context = {
        "kind": kind,
        "mode": mode,
        "txn": txn,
        "customer": customer,
        "deals": deals,
        "errors": errors,
        "query": query.strip(),
        "current_id": current_id,
        "locked": bool(txn and txn.potential_locked),
        "next": safe_next(request, reverse(f"books:{kind}_detail", args=[txn.pk]) if txn else _form_url(kind)),
        "customer_id": customer.pk if customer is not None else raw_customer,
        "token": request.GET.get("crm_deal", "") if pending else "",
        "in_dialog": _is_htmx(request),
    }
    status = 400 if errors and not _is_htmx(request) else 200
    return render(request, "sync/crm/deal_pane.html", context, partial="pane", status=status)


def _pane_error(request: BooksRequest, message: str, next_url: str) -> HttpResponse:
    if _is_htmx(request):
        response = HttpResponse(format_html('<p class="form-error" role="alert">{}</p>', message))
        response["HX-Retarget"] = "#crm-pane-message"
        response["HX-Reswap"] = "innerHTML"
        return response
    messages.error(request, message)
    return HttpResponseRedirect(next_url)


@books_page()
@require_POST
def deal_pick(request: BooksRequest) -> HttpResponse:
    """A form's Associate / Dissociate: the deal the form will apply when saved."""
    kind = _kind(request.POST, deals=True)
    txn = _txn(request, kind, request.POST.get("txn"))
    next_url = safe_next(request, _form_url(kind))
    op = request.POST.get("op")
    organization = request.organization
    try:
        if op == state.ASSOCIATE:
            deal = crm_actions.crm_deal_get(organization=organization, deal_id=request.POST.get("deal_id"))
            if txn is not None and txn.potential_locked and txn.zcrm_potential_id != deal.id:
                raise ApplicationError(
                    "zcrm_potential_id: this transaction was created by a deal trigger; its potential cannot be "
                    "changed",
                    field="zcrm_potential_id",
                )
            pending = state.PendingDeal(op=state.ASSOCIATE, id=deal.id, name=deal.name)
        elif op == state.DISSOCIATE:
            if txn is not None and txn.potential_locked:
                raise ApplicationError(
                    "zcrm_potential_id: Potentials that were associated using triggers cannot be dissociated",
                    field="zcrm_potential_id",
                )
            pending = state.PendingDeal(op=state.DISSOCIATE)
        else:
            raise ApplicationError("op: choose Associate or Dissociate", field="op")
    except ApplicationError as exc:
        return _pane_error(request, _message(exc), next_url)
    token = state.pending_dumps(pending, organization_id=organization.pk)
    if _is_htmx(request):
        response = render(request, "sync/crm/_deal_state.html", {"pending": pending, "token": token, "txn": txn})
        response["HX-Trigger"] = json.dumps({"lb-crm-close": {}})
        return response
    return HttpResponseRedirect(_with_params(next_url, crm_deal=token))


def _refresh_or_redirect(request: BooksRequest, next_url: str) -> HttpResponse:
    if _is_htmx(request):
        response = HttpResponse("")
        response["HX-Refresh"] = "true"
        return response
    return HttpResponseRedirect(next_url)


@books_page()
@require_POST
def deal_associate(request: BooksRequest, kind: str, pk: int) -> HttpResponse:
    """Associate on a transaction's page: applied at once."""
    if kind not in DEAL_CUSTOMER_FIELD:
        raise Http404("kind")
    txn = get_or_404(transaction_get, organization=request.organization, transaction_id=pk, kind=kind)
    next_url = safe_next(request, reverse(f"books:{kind}_detail", args=[txn.pk]))
    try:
        txn = crm_actions.transaction_deal_associate(txn=txn, actor=request.user, deal_id=request.POST.get("deal_id"))
    except ApplicationError as exc:
        return _pane_error(request, _message(exc), next_url)
    messages.success(request, f"Potential {txn.zcrm_potential_name} has been associated.")
    return _refresh_or_redirect(request, next_url)


@books_page()
@require_POST
def deal_dissociate(request: BooksRequest, kind: str, pk: int) -> HttpResponse:
    """Dissociate on a transaction's page: applied at once; refused for trigger-made associations."""
    if kind not in DEAL_CUSTOMER_FIELD:
        raise Http404("kind")
    txn = get_or_404(transaction_get, organization=request.organization, transaction_id=pk, kind=kind)
    next_url = safe_next(request, reverse(f"books:{kind}_detail", args=[txn.pk]))
    try:
        transaction_dissociate_potential(txn=txn, actor=request.user)
    except ApplicationError as exc:
        return _pane_error(request, _message(exc), next_url)
    messages.success(request, "The potential has been dissociated.")
    return _refresh_or_redirect(request, next_url)


# ---------------------------------------------------------------------------------------------- fetch


@books_page()
@require_POST
def contact_fetch(request: BooksRequest, pk: int) -> HttpResponse:
    contact = get_or_404(contact_get, organization=request.organization, contact_id=pk)
    url_name = "books:customer_detail" if contact.contact_type == ContactType.CUSTOMER else "books:vendor_detail"
    try:
        crm_actions.crm_contact_fetch(contact=contact, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(request, f"{contact.contact_name} has been fetched from Zoho CRM.")
    return redirect(url_name, pk=contact.pk)


@books_page()
@require_POST
def item_fetch(request: BooksRequest, pk: int) -> HttpResponse:
    item = get_or_404(item_get, organization=request.organization, item_id=pk)
    try:
        crm_actions.item_fetch_from_crm(item=item, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(request, f"{item.name} has been fetched from Zoho CRM.")
    return redirect("books:item_detail", pk=item.pk)

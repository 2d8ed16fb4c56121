"""Customers and vendors (Sales › Customers, Purchases › Vendors) and their contact persons.

One set of views serves both: the URL conf passes `contact_type`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from books.errors import ApplicationError
from books.forms import PAYMENT_TERMS, BulkStatusForm, ContactForm, ContactPersonForm, add_service_error
from books.models import Contact, ContactPerson, ContactType, CustomFieldEntity, Status, TransactionKind
from books.permissions import books_page
from books.selectors import (
    CONTACT_FILTERS,
    CONTACT_SORTS,
    contact_financials,
    contact_get,
    contact_list,
    contact_page_with_financials,
    contact_person_get,
    contact_person_list,
    custom_field_list,
    transaction_list_for_contact,
)
from books.services.contacts import (
    contact_create,
    contact_delete,
    contact_list_set_status,
    contact_person_create,
    contact_person_delete,
    contact_person_mark_primary,
    contact_person_update,
    contact_set_status,
    contact_update,
)
from books.views.common import (
    BooksRequest,
    custom_value_rows,
    get_or_404,
    list_query,
    page_numbers,
    paginate,
    render,
    safe_next,
)


@dataclass(frozen=True)
class ContactPage:
    contact_type: str
    noun: str
    plural: str
    url: str
    custom_field_entity: str
    transaction_kinds: tuple[tuple[str, str, str], ...]  # (kind, label, list url name)

    def url_name(self, action: str) -> str:
        return f"books:{self.url}_{action}"

    # URL names for templates: {% url cfg.url_detail pk %}
    url_list = property(lambda self: self.url_name("list"))
    url_new = property(lambda self: self.url_name("new"))
    url_bulk = property(lambda self: self.url_name("bulk"))
    url_detail = property(lambda self: self.url_name("detail"))
    url_edit = property(lambda self: self.url_name("edit"))
    url_status = property(lambda self: self.url_name("status"))
    url_delete = property(lambda self: self.url_name("delete"))
    url_person_new = property(lambda self: self.url_name("person_new"))
    url_person_edit = property(lambda self: self.url_name("person_edit"))
    url_person_delete = property(lambda self: self.url_name("person_delete"))
    url_person_primary = property(lambda self: self.url_name("person_primary"))


CUSTOMER = ContactPage(
    contact_type=ContactType.CUSTOMER,
    noun="Customer",
    plural="Customers",
    url="customer",
    custom_field_entity=CustomFieldEntity.CUSTOMER,
    transaction_kinds=(
        (TransactionKind.QUOTE, "Quotes", "books:quote_list"),
        (TransactionKind.SALES_ORDER, "Sales Orders", "books:salesorder_list"),
        (TransactionKind.INVOICE, "Invoices", "books:invoice_list"),
    ),
)
VENDOR = ContactPage(
    contact_type=ContactType.VENDOR,
    noun="Vendor",
    plural="Vendors",
    url="vendor",
    custom_field_entity=CustomFieldEntity.VENDOR,
    transaction_kinds=(
        (TransactionKind.PURCHASE_ORDER, "Purchase Orders", "books:purchaseorder_list"),
        (TransactionKind.EXPENSE, "Expenses", "books:expense_list"),
    ),
)
PAGES = {CUSTOMER.contact_type: CUSTOMER, VENDOR.contact_type: VENDOR}


def _filters(cfg: ContactPage) -> list[tuple[str, str]]:
    # The seed's words: "All Customers" drop-down, "CRM Customers" ("Filter by CRM contacts").
    return [
        ("all", f"All {cfg.plural}"),
        ("active", f"Active {cfg.plural}"),
        ("inactive", f"Inactive {cfg.plural}"),
        ("crm", f"CRM {cfg.plural}"),
    ]


CONTACT_SORT_OPTIONS = (
    ("name", "Name (A–Z)"),
    ("-name", "Name (Z–A)"),
    ("-created", "Newest first"),
    ("created", "Oldest first"),
    ("-updated", "Last modified"),
)


@books_page()
def contact_list_page(request: BooksRequest, contact_type: str) -> HttpResponse:
    cfg = PAGES[contact_type]
    params = list_query(request)
    filter_by = params["filter"] if params["filter"] in CONTACT_FILTERS else "all"
    sort = params["sort"] if params["sort"] in CONTACT_SORTS else "name"
    contacts = contact_list(
        organization=request.organization, contact_type=contact_type, filter_by=filter_by, search=params["q"], sort=sort
    )
    page = paginate(request, contacts)
    if contact_type == ContactType.CUSTOMER:
        # Receivables of the rows shown only: still one query for the page, never one per row or over the list.
        page.object_list = contact_page_with_financials(page.object_list)  # type: ignore[arg-type]
    context = {
        "cfg": cfg,
        "page": page,
        "page_numbers": page_numbers(page),
        "filters": _filters(cfg),
        "filter_by": filter_by,
        "filter_label": dict(_filters(cfg))[filter_by],
        "q": params["q"],
        "sort": sort,
        "sort_options": CONTACT_SORT_OPTIONS,
        "is_filtered": filter_by != "all" or bool(params["q"]),
    }
    return render(request, "books/contacts/list.html", context, partial="list")


@books_page()
@require_POST
def contact_bulk(request: BooksRequest, contact_type: str) -> HttpResponse:
    cfg = PAGES[contact_type]
    back = safe_next(request, reverse(cfg.url_name("list")))
    form = BulkStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose Mark as Active or Mark as Inactive.")
        return redirect(back)
    everything = form.cleaned_data["select_all_matching"]
    filter_by = form.cleaned_data["filter"] if form.cleaned_data["filter"] in CONTACT_FILTERS else "all"
    try:
        count = contact_list_set_status(
            organization=request.organization,
            actor=request.user,
            contact_type=contact_type,
            status=form.cleaned_data["status"],
            contact_ids=None if everything else request.POST.getlist("ids"),
            filter_by=filter_by,
            search=form.cleaned_data["q"] or "",
        )
    except ApplicationError:
        messages.error(request, f"Select at least one {cfg.noun.lower()}.")
        return redirect(back)
    noun = cfg.noun.lower() if count == 1 else cfg.plural.lower()
    messages.success(request, f"{count:,} {noun} marked as {Status(form.cleaned_data['status']).label.lower()}.")
    return redirect(back)


@books_page()
def contact_detail(request: BooksRequest, contact_type: str, pk: int) -> HttpResponse:
    cfg = PAGES[contact_type]
    contact = get_or_404(contact_get, organization=request.organization, contact_id=pk, contact_type=contact_type)
    definitions = custom_field_list(organization=request.organization, entity=cfg.custom_field_entity)
    context = {
        "cfg": cfg,
        "contact": contact,
        "financials": contact_financials(contact=contact) if contact_type == ContactType.CUSTOMER else None,
        "persons": list(contact_person_list(contact=contact)),
        "transactions": transaction_list_for_contact(contact=contact, limit=20),
        "custom_values": custom_value_rows(definitions, contact.custom_fields),
        "payment_terms_label": dict(PAYMENT_TERMS).get(contact.payment_terms, f"Net {contact.payment_terms}"),
        "address_blocks": [
            ("Billing Address", contact.address("billing")),
            ("Shipping Address", contact.address("shipping")),
        ],
    }
    return render(request, "books/contacts/detail.html", context)


@books_page()
@require_http_methods(["GET", "POST"])
def contact_form(request: BooksRequest, contact_type: str, pk: int | None = None) -> HttpResponse:
    cfg = PAGES[contact_type]
    org = request.organization
    contact = (
        get_or_404(contact_get, organization=org, contact_id=pk, contact_type=contact_type) if pk is not None else None
    )
    definitions = custom_field_list(organization=org, entity=cfg.custom_field_entity)
    kwargs: dict[str, Any] = {
        "contact_type": contact_type,
        "definitions": definitions,
        "instance": contact,
        "base_currency": org.base_currency,
    }
    if request.method == "POST":
        form = ContactForm(request.POST, **kwargs)
        if form.is_valid():
            try:
                if contact is None:
                    contact = contact_create(
                        organization=org,
                        actor=request.user,
                        contact_type=contact_type,
                        data=form.service_data(),
                        custom_fields=form.custom_values(),
                    )
                    messages.success(request, f"The {cfg.noun.lower()} {contact.contact_name} has been created.")
                else:
                    contact = contact_update(
                        contact=contact,
                        actor=request.user,
                        data=form.service_data(),
                        custom_fields=form.custom_values(),
                    )
                    messages.success(request, f"The {cfg.noun.lower()} {contact.contact_name} has been updated.")
                return redirect(cfg.url_name("detail"), pk=contact.pk)
            except ApplicationError as exc:
                add_service_error(form, exc)
        status = 400
    else:
        form = ContactForm(**kwargs)
        status = 200
    context = {"cfg": cfg, "form": form, "contact": contact}
    return render(request, "books/contacts/form.html", context, status=status)


@books_page()
@require_POST
def contact_status(request: BooksRequest, contact_type: str, pk: int, status: str) -> HttpResponse:
    cfg = PAGES[contact_type]
    contact = get_or_404(contact_get, organization=request.organization, contact_id=pk, contact_type=contact_type)
    try:
        contact_set_status(contact=contact, actor=request.user, status=status)
        messages.success(request, f"{contact.contact_name} has been marked as {Status(status).label.lower()}.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect(cfg.url_name("detail"), pk=contact.pk)


@books_page()
@require_http_methods(["GET", "POST"])
def contact_delete_page(request: BooksRequest, contact_type: str, pk: int) -> HttpResponse:
    cfg = PAGES[contact_type]
    contact = get_or_404(contact_get, organization=request.organization, contact_id=pk, contact_type=contact_type)
    if request.method == "POST":
        try:
            contact_delete(contact=contact, actor=request.user)
        except ApplicationError as exc:
            messages.error(request, exc.message.split(": ", 1)[-1])
            return redirect(cfg.url_name("detail"), pk=contact.pk)
        messages.success(request, f"The {cfg.noun.lower()} {contact.contact_name} has been deleted.")
        return redirect(cfg.url_name("list"))
    context = {
        "title": f"Delete {cfg.noun.lower()} {contact.contact_name}?",
        "message": f"The {cfg.noun.lower()} and its contact persons will be deleted. This cannot be undone.",
        "confirm_label": "Delete",
        "cancel_url": reverse(cfg.url_name("detail"), args=[contact.pk]),
    }
    return render(request, "books/confirm.html", context)


# --- contact persons ---------------------------------------------------------------------------------------------


def _person_or_404(request: BooksRequest, contact: Contact, person_id: int) -> ContactPerson:
    person = get_or_404(contact_person_get, organization=request.organization, contact_person_id=person_id)
    if person.contact_id != contact.pk:
        raise Http404(f"contact_person_id: {person_id} is not a contact person of this {contact.contact_type}")
    return person


@books_page()
@require_http_methods(["GET", "POST"])
def contact_person_form(
    request: BooksRequest, contact_type: str, pk: int, person_id: int | None = None
) -> HttpResponse:
    cfg = PAGES[contact_type]
    contact = get_or_404(contact_get, organization=request.organization, contact_id=pk, contact_type=contact_type)
    person = _person_or_404(request, contact, person_id) if person_id is not None else None
    if request.method == "POST":
        form = ContactPersonForm(request.POST, instance=person)
        if form.is_valid():
            try:
                if person is None:
                    person = contact_person_create(contact=contact, actor=request.user, data=form.service_data())
                    messages.success(request, f"The contact person {person.full_name} has been added.")
                else:
                    person = contact_person_update(person=person, actor=request.user, data=form.service_data())
                    messages.success(request, f"The contact person {person.full_name} has been updated.")
                return redirect(cfg.url_name("detail"), pk=contact.pk)
            except ApplicationError as exc:
                add_service_error(form, exc, aliases={"contact_persons.last_name": "last_name"})
        status = 400
    else:
        form = ContactPersonForm(instance=person)
        status = 200
    context = {"cfg": cfg, "contact": contact, "person": person, "form": form}
    return render(request, "books/contacts/person_form.html", context, status=status)


@books_page()
@require_http_methods(["GET", "POST"])
def contact_person_delete_page(request: BooksRequest, contact_type: str, pk: int, person_id: int) -> HttpResponse:
    cfg = PAGES[contact_type]
    contact = get_or_404(contact_get, organization=request.organization, contact_id=pk, contact_type=contact_type)
    person = _person_or_404(request, contact, person_id)
    if request.method == "POST":
        contact_person_delete(person=person, actor=request.user)
        messages.success(request, f"The contact person {person.full_name} has been deleted.")
        return redirect(cfg.url_name("detail"), pk=contact.pk)
    context = {
        "title": f"Delete the contact person {person.full_name}?",
        "message": f"{person.full_name} will be removed from {contact.contact_name}. This cannot be undone.",
        "confirm_label": "Delete",
        "cancel_url": reverse(cfg.url_name("detail"), args=[contact.pk]),
    }
    return render(request, "books/confirm.html", context)


@books_page()
@require_POST
def contact_person_primary(request: BooksRequest, contact_type: str, pk: int, person_id: int) -> HttpResponse:
    cfg = PAGES[contact_type]
    contact = get_or_404(contact_get, organization=request.organization, contact_id=pk, contact_type=contact_type)
    person = _person_or_404(request, contact, person_id)
    contact_person_mark_primary(person=person, actor=request.user)
    messages.success(request, f"{person.full_name} is now the primary contact person.")
    return redirect(cfg.url_name("detail"), pk=contact.pk)

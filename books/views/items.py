"""Items (Inventory › Items): goods and services."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from books.errors import ApplicationError
from books.forms import BulkStatusForm, ItemForm, add_service_error
from books.models import CustomFieldEntity, Status
from books.permissions import books_page
from books.selectors import CONTACT_FILTERS, ITEM_SORTS, custom_field_list, item_get, item_list
from books.services.items import item_create, item_delete, item_list_set_status, item_set_status, item_update
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

ITEM_FILTERS = [("all", "All Items"), ("active", "Active Items"), ("inactive", "Inactive Items"), ("crm", "CRM Items")]

ITEM_SORT_OPTIONS = (
    ("name", "Name (A–Z)"),
    ("-name", "Name (Z–A)"),
    ("rate", "Rate (low–high)"),
    ("-rate", "Rate (high–low)"),
    ("-created", "Newest first"),
)


@books_page()
def item_list_page(request: BooksRequest) -> HttpResponse:
    params = list_query(request)
    filter_by = params["filter"] if params["filter"] in CONTACT_FILTERS else "all"
    sort = params["sort"] if params["sort"] in ITEM_SORTS else "name"
    items = item_list(organization=request.organization, filter_by=filter_by, search=params["q"], sort=sort)
    page = paginate(request, items)
    context = {
        "page": page,
        "page_numbers": page_numbers(page),
        "filters": ITEM_FILTERS,
        "filter_by": filter_by,
        "filter_label": dict(ITEM_FILTERS)[filter_by],
        "q": params["q"],
        "sort": sort,
        "sort_options": ITEM_SORT_OPTIONS,
        "is_filtered": filter_by != "all" or bool(params["q"]),
    }
    return render(request, "books/items/list.html", context, partial="list")


@books_page()
@require_POST
def item_bulk(request: BooksRequest) -> HttpResponse:
    back = safe_next(request, reverse("books:item_list"))
    form = BulkStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose Mark as Active or Mark as Inactive.")
        return redirect(back)
    filter_by = form.cleaned_data["filter"] if form.cleaned_data["filter"] in CONTACT_FILTERS else "all"
    try:
        count = item_list_set_status(
            organization=request.organization,
            actor=request.user,
            status=form.cleaned_data["status"],
            item_ids=None if form.cleaned_data["select_all_matching"] else request.POST.getlist("ids"),
            filter_by=filter_by,
            search=form.cleaned_data["q"] or "",
        )
    except ApplicationError:
        messages.error(request, "Select at least one item.")
        return redirect(back)
    noun = "item" if count == 1 else "items"
    messages.success(request, f"{count:,} {noun} marked as {Status(form.cleaned_data['status']).label.lower()}.")
    return redirect(back)


@books_page()
def item_detail(request: BooksRequest, pk: int) -> HttpResponse:
    item = get_or_404(item_get, organization=request.organization, item_id=pk)
    definitions = custom_field_list(organization=request.organization, entity=CustomFieldEntity.ITEM)
    context = {"item": item, "custom_values": custom_value_rows(definitions, item.custom_fields)}
    return render(request, "books/items/detail.html", context)


@books_page()
@require_http_methods(["GET", "POST"])
def item_form(request: BooksRequest, pk: int | None = None) -> HttpResponse:
    org = request.organization
    item = get_or_404(item_get, organization=org, item_id=pk) if pk is not None else None
    definitions = custom_field_list(organization=org, entity=CustomFieldEntity.ITEM)
    if request.method == "POST":
        form = ItemForm(request.POST, definitions=definitions, instance=item)
        if form.is_valid():
            try:
                if item is None:
                    item = item_create(
                        organization=org,
                        actor=request.user,
                        data=form.service_data(),
                        custom_fields=form.custom_values(),
                    )
                    messages.success(request, f"The item {item.name} has been created.")
                else:
                    item = item_update(
                        item=item, actor=request.user, data=form.service_data(), custom_fields=form.custom_values()
                    )
                    messages.success(request, f"The item {item.name} has been updated.")
                return redirect("books:item_detail", pk=item.pk)
            except ApplicationError as exc:
                add_service_error(form, exc)
        status = 400
    else:
        form = ItemForm(definitions=definitions, instance=item)
        status = 200
    return render(request, "books/items/form.html", {"form": form, "item": item}, status=status)


@books_page()
@require_POST
def item_status(request: BooksRequest, pk: int, status: str) -> HttpResponse:
    item = get_or_404(item_get, organization=request.organization, item_id=pk)
    try:
        item_set_status(item=item, actor=request.user, status=status)
        messages.success(request, f"{item.name} has been marked as {Status(status).label.lower()}.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("books:item_detail", pk=item.pk)


@books_page()
@require_http_methods(["GET", "POST"])
def item_delete_page(request: BooksRequest, pk: int) -> HttpResponse:
    item = get_or_404(item_get, organization=request.organization, item_id=pk)
    if request.method == "POST":
        try:
            item_delete(item=item, actor=request.user)
        except ApplicationError as exc:
            messages.error(request, exc.message.split(": ", 1)[-1])
            return redirect("books:item_detail", pk=item.pk)
        messages.success(request, f"The item {item.name} has been deleted.")
        return redirect("books:item_list")
    context = {
        "title": f"Delete the item {item.name}?",
        "message": "The item will be deleted. This cannot be undone.",
        "confirm_label": "Delete",
        "cancel_url": reverse("books:item_detail", args=[item.pk]),
    }
    return render(request, "books/confirm.html", context)

"""Reads of the accounting domain. Every query of tenant data goes through a function here that takes the
organization, so no view or API filters ad hoc (STYLE.md rule 14). An id of another organization is simply not
found (404, never 403, so ids do not leak)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from books.errors import NotFound
from books.models import (
    Contact,
    ContactPerson,
    ContactType,
    CustomFieldDefinition,
    Item,
    Membership,
    Organization,
    Role,
    Status,
    Transaction,
    TransactionKind,
    TransactionStatus,
    User,
)

RECEIVABLE_STATUSES = (TransactionStatus.SENT, TransactionStatus.OVERDUE)
SALES_STATUSES = (TransactionStatus.SENT, TransactionStatus.OVERDUE, TransactionStatus.PAID)

# List filters of the Customers / Vendors / Items pages and of the API's filter_by.
CONTACT_FILTERS = ("all", "active", "inactive", "crm")
CONTACT_SORTS = {
    "name": ("contact_name", "id"),
    "-name": ("-contact_name", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
}
ITEM_SORTS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "rate": ("rate", "id"),
    "-rate": ("-rate", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
}
TRANSACTION_SORTS = {
    "date": ("date", "id"),
    "-date": ("-date", "-id"),
    "number": ("number", "id"),
    "-number": ("-number", "-id"),
    "total": ("total", "id"),
    "-total": ("-total", "-id"),
}


def membership_for_user(*, user: User, organization_id: Any = None) -> Membership | None:
    memberships = Membership.objects.select_related("organization").filter(user=user)
    if organization_id is not None:
        chosen = memberships.filter(organization_id=organization_id).first()
        if chosen is not None:
            return chosen
    return memberships.order_by("organization__name", "id").first()


def membership_list_for_user(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.select_related("organization").filter(user=user).order_by("organization__name")


def organization_list_for_user(*, user: User) -> QuerySet[Organization]:
    return Organization.objects.filter(memberships__user=user).order_by("name")


def organization_get_for_user(*, user: User, organization_id: Any) -> Organization:
    try:
        return Organization.objects.get(pk=int(organization_id), memberships__user=user)
    except (Organization.DoesNotExist, TypeError, ValueError):
        raise NotFound("organization_id: no organization with this id for this user", field="organization_id") from None


def member_list(*, organization: Organization, role: str | None = None) -> QuerySet[Membership]:
    qs = Membership.objects.select_related("user").filter(organization=organization)
    if role:
        qs = qs.filter(role=role)
    return qs.order_by("user__email")


def member_get(*, organization: Organization, membership_id: Any) -> Membership:
    try:
        return Membership.objects.select_related("user").get(organization=organization, pk=int(membership_id))
    except (Membership.DoesNotExist, TypeError, ValueError):
        raise NotFound(f"user: no member with id {membership_id!s:.40} in this organization", field="user") from None


def is_books_user(membership: Membership | None) -> bool:
    """Integration users work from the CRM only: they cannot open Books itself."""
    return membership is not None and membership.role != Role.INTEGRATION_USER


# --- contacts -----------------------------------------------------------------------------------------------


def contact_list(
    *,
    organization: Organization,
    contact_type: str,
    filter_by: str = "all",
    search: str = "",
    sort: str = "name",
) -> QuerySet[Contact]:
    qs = Contact.objects.filter(organization=organization, contact_type=contact_type)
    if filter_by == "active":
        qs = qs.filter(status=Status.ACTIVE)
    elif filter_by == "inactive":
        qs = qs.filter(status=Status.INACTIVE)
    elif filter_by == "crm":
        qs = qs.filter(is_linked_with_zohocrm=True)
    search = search.strip()
    if search:
        qs = qs.filter(
            Q(contact_name__icontains=search)
            | Q(company_name__icontains=search)
            | Q(email__icontains=search)
            | Q(phone__icontains=search)
        )
    return qs.order_by(*CONTACT_SORTS.get(sort, CONTACT_SORTS["name"]))


def contact_get(*, organization: Organization, contact_id: Any, contact_type: str | None = None) -> Contact:
    qs = Contact.objects.filter(organization=organization)
    if contact_type:
        qs = qs.filter(contact_type=contact_type)
    try:
        return qs.get(pk=int(contact_id))
    except (Contact.DoesNotExist, TypeError, ValueError):
        nouns: dict[str, str] = {ContactType.CUSTOMER: "customer", ContactType.VENDOR: "vendor"}
        noun = nouns.get(contact_type or "", "contact")
        raise NotFound(
            f"contact_id: no {noun} with id {contact_id!s:.40} in this organization", field="contact_id"
        ) from None


# How many options a picker (a <select> on a form) lists before it asks the user to search.
PICKER_LIMIT = 200


def contact_options(
    *,
    organization: Organization,
    contact_type: str,
    search: str = "",
    selected_id: Any = None,
    limit: int = PICKER_LIMIT,
) -> tuple[list[Contact], bool]:
    """Options of a customer / vendor picker: active contacts matching `search` by name (at most `limit`), with
    the selected one kept even when it is not among them. Returns (options, more_exist)."""
    qs = contact_list(organization=organization, contact_type=contact_type, filter_by="active", search=search).only(
        "id", "contact_name", "company_name", "email", "currency_code", "status"
    )
    options = list(qs[: limit + 1])
    more = len(options) > limit
    options = options[:limit]
    if str(selected_id).isdigit() and all(o.pk != int(selected_id) for o in options):
        chosen = Contact.objects.filter(
            organization=organization, contact_type=contact_type, pk=int(selected_id)
        ).first()
        if chosen is not None:
            options.insert(0, chosen)
    return options, more


def contact_person_list(*, contact: Contact) -> QuerySet[ContactPerson]:
    return ContactPerson.objects.filter(organization_id=contact.organization_id, contact=contact)


def contact_person_get(*, organization: Organization, contact_person_id: Any) -> ContactPerson:
    try:
        return ContactPerson.objects.select_related("contact").get(organization=organization, pk=int(contact_person_id))
    except (ContactPerson.DoesNotExist, TypeError, ValueError):
        raise NotFound(
            f"contact_person_id: no contact person with id {contact_person_id!s:.40}", field="contact_person_id"
        ) from None


def _sum_subquery(qs: QuerySet[Transaction]) -> Subquery:
    return Subquery(
        qs.filter(contact=OuterRef("pk")).values("contact").annotate(s=Sum("total")).values("s")[:1],
        output_field=DecimalField(max_digits=18, decimal_places=2),
    )


def contact_list_with_financials(qs: QuerySet[Contact]) -> QuerySet[Contact]:
    """Annotates `outstanding_receivables` and `total_sales` (one query for the page, no per-row queries)."""
    invoices = Transaction.objects.filter(kind=TransactionKind.INVOICE)
    zero = Value(Decimal("0.00"), output_field=DecimalField(max_digits=18, decimal_places=2))
    return qs.annotate(
        outstanding_receivables=Coalesce(_sum_subquery(invoices.filter(status__in=RECEIVABLE_STATUSES)), zero),
        total_sales=Coalesce(_sum_subquery(invoices.filter(status__in=SALES_STATUSES)), zero),
    )


def contact_page_with_financials(page: QuerySet[Contact]) -> QuerySet[Contact]:
    """The rows of one list page (a sliced, ordered queryset) with their financials, in one query. The
    financials are computed for the page's rows only: annotating the sliced query itself would make PostgreSQL
    compute them for every row skipped by the OFFSET too (seconds on a late page of 100,000 customers)."""
    ordering = list(page.query.order_by) or list(Contact._meta.ordering or ())
    return contact_list_with_financials(Contact.objects.filter(pk__in=page.values("pk")).order_by(*ordering))


@dataclass(frozen=True)
class ContactFinancials:
    outstanding_receivables: Decimal
    total_sales: Decimal


def contact_financials(*, contact: Contact) -> ContactFinancials:
    invoices = Transaction.objects.filter(
        organization_id=contact.organization_id, contact=contact, kind=TransactionKind.INVOICE
    )
    sums = invoices.aggregate(
        outstanding=Sum("total", filter=Q(status__in=RECEIVABLE_STATUSES)),
        sales=Sum("total", filter=Q(status__in=SALES_STATUSES)),
    )
    return ContactFinancials(
        outstanding_receivables=sums["outstanding"] or Decimal("0.00"),
        total_sales=sums["sales"] or Decimal("0.00"),
    )


# --- items --------------------------------------------------------------------------------------------------


def item_list(
    *, organization: Organization, filter_by: str = "all", search: str = "", sort: str = "name"
) -> QuerySet[Item]:
    qs = Item.objects.filter(organization=organization)
    if filter_by == "active":
        qs = qs.filter(status=Status.ACTIVE)
    elif filter_by == "inactive":
        qs = qs.filter(status=Status.INACTIVE)
    elif filter_by == "crm":
        qs = qs.filter(is_linked_with_zohocrm=True)
    search = search.strip()
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(sku__icontains=search) | Q(description__icontains=search))
    return qs.order_by(*ITEM_SORTS.get(sort, ITEM_SORTS["name"]))


def item_get(*, organization: Organization, item_id: Any) -> Item:
    try:
        return Item.objects.get(organization=organization, pk=int(item_id))
    except (Item.DoesNotExist, TypeError, ValueError):
        raise NotFound(f"item_id: no item with id {item_id!s:.40} in this organization", field="item_id") from None


def item_options(
    *, organization: Organization, selected_ids: Iterable[Any] = (), limit: int = PICKER_LIMIT
) -> tuple[list[Item], bool]:
    """Options of the item picker on line items: active items by name (at most `limit`), plus the items the
    lines already use. Returns (options, more_exist)."""
    qs = item_list(organization=organization, filter_by="active").only("id", "name", "rate", "description", "unit")
    options = list(qs[: limit + 1])
    more = len(options) > limit
    options = options[:limit]
    have = {o.pk for o in options}
    missing = {int(i) for i in selected_ids if str(i).isdigit()} - have
    if missing:
        options += list(Item.objects.filter(organization=organization, pk__in=missing).order_by("name", "id"))
    return options, more


# --- custom fields ------------------------------------------------------------------------------------------


def custom_field_list(
    *, organization: Organization, entity: str, active_only: bool = True
) -> list[CustomFieldDefinition]:
    qs = CustomFieldDefinition.objects.filter(organization=organization, entity=entity)
    if active_only:
        qs = qs.filter(is_active=True)
    return list(qs.order_by("label"))


def custom_field_get(*, organization: Organization, custom_field_id: Any) -> CustomFieldDefinition:
    try:
        return CustomFieldDefinition.objects.get(organization=organization, pk=int(custom_field_id))
    except (CustomFieldDefinition.DoesNotExist, TypeError, ValueError):
        raise NotFound(
            f"customfield_id: no custom field with id {custom_field_id!s:.40} in this organization",
            field="customfield_id",
        ) from None


# --- transactions -------------------------------------------------------------------------------------------


def transaction_list(
    *,
    organization: Organization,
    kind: str,
    status: str = "",
    search: str = "",
    contact_id: Any = None,
    zcrm_potential_id: str = "",
    sort: str = "-date",
) -> QuerySet[Transaction]:
    qs = Transaction.objects.filter(organization=organization, kind=kind).select_related("contact")
    if status:
        qs = qs.filter(status=status)
    if contact_id not in (None, ""):
        try:
            qs = qs.filter(contact_id=int(contact_id))
        except (TypeError, ValueError):
            return qs.none()
    if zcrm_potential_id:
        qs = qs.filter(zcrm_potential_id=zcrm_potential_id)
    search = search.strip()
    if search:
        qs = qs.filter(
            Q(number__icontains=search)
            | Q(reference_number__icontains=search)
            | Q(contact__contact_name__icontains=search)
        )
    return qs.order_by(*TRANSACTION_SORTS.get(sort, TRANSACTION_SORTS["-date"]))


def transaction_get(*, organization: Organization, transaction_id: Any, kind: str | None = None) -> Transaction:
    qs = Transaction.objects.filter(organization=organization).select_related("contact", "customer", "converted_from")
    if kind:
        qs = qs.filter(kind=kind)
    try:
        return qs.get(pk=int(transaction_id))
    except (Transaction.DoesNotExist, TypeError, ValueError):
        noun = TransactionKind(kind).label.lower() if kind else "transaction"
        raise NotFound(f"{noun} with id {transaction_id!s:.40} does not exist in this organization") from None


def transaction_list_for_contact(*, contact: Contact, limit: int = 20) -> list[Transaction]:
    return list(
        Transaction.objects.filter(organization_id=contact.organization_id, contact=contact).order_by("-date", "-id")[
            :limit
        ]
    )


# --- the Books API: Zoho's list filters and sorts -----------------------------------------------------------

CONTACT_API_SORTS = {
    "contact_name": "contact_name",
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "outstanding_receivable_amount": "outstanding_receivables",
    "created_time": "created_at",
    "last_modified_time": "updated_at",
}
ITEM_API_SORTS = {
    "name": "name",
    "rate": "rate",
    "sku": "sku",
    "created_time": "created_at",
    "last_modified_time": "updated_at",
}
TRANSACTION_API_SORTS = {
    "date": "date",
    "number": "number",
    "total": "total",
    "customer_name": "contact__contact_name",
    "vendor_name": "contact__contact_name",
    "created_time": "created_at",
    "last_modified_time": "updated_at",
}


def _ordered(qs: QuerySet[Any], column: str, descending: bool) -> QuerySet[Any]:
    return qs.order_by(f"-{column}", "-id") if descending else qs.order_by(column, "id")


def membership_get_for_user(*, user: User, organization_id: Any) -> Membership:
    """The user's membership of that organization; another organization's id is simply not found."""
    try:
        return Membership.objects.select_related("organization").get(user=user, organization_id=int(organization_id))
    except (Membership.DoesNotExist, TypeError, ValueError):
        raise NotFound(
            f"organization_id: no organization with id {organization_id!s:.40} for this user", field="organization_id"
        ) from None


def member_get_by_user(*, organization: Organization, user_id: Any) -> Membership:
    """The membership of the user with that id (the API's `user_id`) in the organization."""
    try:
        return Membership.objects.select_related("user").get(organization=organization, user_id=int(user_id))
    except (Membership.DoesNotExist, TypeError, ValueError):
        raise NotFound(f"user_id: no user with id {user_id!s:.40} in this organization", field="user_id") from None


def contact_search(
    *,
    organization: Organization,
    contact_type: str | None = None,
    status: str | None = None,
    crm_linked_only: bool = False,
    search_text: str = "",
    contact_name: str = "",
    contact_name_startswith: str = "",
    contact_name_contains: str = "",
    email: str = "",
    zcrm_account_id: str = "",
    zcrm_contact_id: str = "",
    zcrm_vendor_id: str = "",
    sort_column: str = "contact_name",
    descending: bool = False,
) -> QuerySet[Contact]:
    """Contacts with Zoho's list filters and sort. Read a page of it with `contact_page_for_api`."""
    qs = Contact.objects.filter(organization=organization)
    if contact_type:
        qs = qs.filter(contact_type=contact_type)
    if status:
        qs = qs.filter(status=status)
    if crm_linked_only:
        qs = qs.filter(is_linked_with_zohocrm=True)
    if search_text.strip():
        text = search_text.strip()
        qs = qs.filter(
            Q(contact_name__icontains=text)
            | Q(company_name__icontains=text)
            | Q(email__icontains=text)
            | Q(notes__icontains=text)
        )
    if contact_name:
        qs = qs.filter(contact_name__iexact=contact_name)
    if contact_name_startswith:
        qs = qs.filter(contact_name__istartswith=contact_name_startswith)
    if contact_name_contains:
        qs = qs.filter(contact_name__icontains=contact_name_contains)
    if email:
        qs = qs.filter(email__iexact=email)
    for field, value in (
        ("zcrm_account_id", zcrm_account_id),
        ("zcrm_contact_id", zcrm_contact_id),
        ("zcrm_vendor_id", zcrm_vendor_id),
    ):
        if value:
            qs = qs.filter(**{field: value})
    if sort_column == "outstanding_receivable_amount":
        qs = contact_list_with_financials(qs)  # sorting by it needs the sums of every row
    return _ordered(qs, CONTACT_API_SORTS.get(sort_column, "contact_name"), descending)


def contact_page_for_api(page: QuerySet[Contact]) -> list[Contact]:
    """One page (a sliced `contact_search`) with `outstanding_receivables` computed for its rows only, and the
    contact persons: two queries, however many rows and whichever page."""
    if "outstanding_receivables" in page.query.annotations:  # sorted by it: the sums are there already
        return list(page.prefetch_related("contact_persons"))
    return list(contact_page_with_financials(page).prefetch_related("contact_persons"))


def contact_get_with_financials(*, organization: Organization, contact_id: Any) -> Contact:
    qs = contact_list_with_financials(Contact.objects.filter(organization=organization)).prefetch_related(
        "contact_persons"
    )
    try:
        return qs.get(pk=int(contact_id))
    except (Contact.DoesNotExist, TypeError, ValueError):
        raise NotFound(
            f"contact_id: no contact with id {contact_id!s:.40} in this organization", field="contact_id"
        ) from None


def item_search(
    *,
    organization: Organization,
    status: str | None = None,
    crm_linked_only: bool = False,
    search_text: str = "",
    name: str = "",
    name_startswith: str = "",
    name_contains: str = "",
    zcrm_product_id: str = "",
    sort_column: str = "name",
    descending: bool = False,
) -> QuerySet[Item]:
    qs = Item.objects.filter(organization=organization)
    if status:
        qs = qs.filter(status=status)
    if crm_linked_only:
        qs = qs.filter(is_linked_with_zohocrm=True)
    if search_text.strip():
        text = search_text.strip()
        qs = qs.filter(Q(name__icontains=text) | Q(sku__icontains=text) | Q(description__icontains=text))
    if name:
        qs = qs.filter(name__iexact=name)
    if name_startswith:
        qs = qs.filter(name__istartswith=name_startswith)
    if name_contains:
        qs = qs.filter(name__icontains=name_contains)
    if zcrm_product_id:
        qs = qs.filter(zcrm_product_id=zcrm_product_id)
    return _ordered(qs, ITEM_API_SORTS.get(sort_column, "name"), descending)


def transaction_search(
    *,
    organization: Organization,
    kind: str,
    statuses: tuple[str, ...] = (),
    is_billable: bool | None = None,
    contact_id: Any = None,
    customer_id: Any = None,
    zcrm_potential_id: str = "",
    search_text: str = "",
    crm_linked_only: bool = False,
    sort_column: str = "date",
    descending: bool = True,
) -> QuerySet[Transaction]:
    """Transactions of one kind with Zoho's list filters. `contact_id` is the customer (vendor for purchase orders
    and expenses); `customer_id` is the customer an expense is billable to."""
    qs = Transaction.objects.filter(organization=organization, kind=kind).select_related("contact", "customer")
    if statuses:
        qs = qs.filter(status__in=statuses)
    if is_billable is not None:
        qs = qs.filter(is_billable=is_billable)
    if contact_id not in (None, ""):
        qs = qs.filter(contact_id=int(contact_id))
    if customer_id not in (None, ""):
        qs = qs.filter(customer_id=int(customer_id))
    if zcrm_potential_id:
        qs = qs.filter(zcrm_potential_id=zcrm_potential_id)
    if crm_linked_only:
        qs = qs.filter(contact__is_linked_with_zohocrm=True)
    if search_text.strip():
        text = search_text.strip()
        qs = qs.filter(
            Q(number__icontains=text)
            | Q(reference_number__icontains=text)
            | Q(contact__contact_name__icontains=text)
            | Q(zcrm_potential_name__icontains=text)
        )
    return _ordered(qs, TRANSACTION_API_SORTS.get(sort_column, "date"), descending)


def custom_field_list_for_entities(
    *, organization: Organization, entities: tuple[str, ...]
) -> list[CustomFieldDefinition]:
    """Definitions in creation order, which is what a custom field's `index` counts (1-based, per entity)."""
    return list(
        CustomFieldDefinition.objects.filter(organization=organization, entity__in=entities).order_by("entity", "id")
    )


def member_search(
    *, organization: Organization, is_active: bool | None = None, descending: bool = False
) -> QuerySet[Membership]:
    qs = Membership.objects.select_related("user").filter(organization=organization)
    if is_active is not None:
        qs = qs.filter(user__is_active=is_active)
    return qs.order_by("-user__email" if descending else "user__email", "id")


def transaction_conversions(*, txn: Transaction) -> list[Transaction]:
    """The transactions made from `txn` (a quote's invoice)."""
    return list(
        Transaction.objects.filter(organization_id=txn.organization_id, converted_from=txn).order_by("date", "id")
    )

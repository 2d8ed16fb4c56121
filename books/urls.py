"""URLs of the accountant's pages. Others link to these paths and names (namespace `books`): keep them."""

from django.urls import URLPattern, path

from books.models import ContactType, TransactionKind
from books.views import account, contacts, items, settings, transactions

app_name = "books"


def _contact_urls(slug: str, name: str, contact_type: str) -> list[URLPattern]:
    kw = {"contact_type": contact_type}
    return [
        path(f"{slug}/", contacts.contact_list_page, kw, name=f"{name}_list"),
        path(f"{slug}/new/", contacts.contact_form, kw, name=f"{name}_new"),
        path(f"{slug}/bulk/", contacts.contact_bulk, kw, name=f"{name}_bulk"),
        path(f"{slug}/<int:pk>/", contacts.contact_detail, kw, name=f"{name}_detail"),
        path(f"{slug}/<int:pk>/edit/", contacts.contact_form, kw, name=f"{name}_edit"),
        path(f"{slug}/<int:pk>/status/<str:status>/", contacts.contact_status, kw, name=f"{name}_status"),
        path(f"{slug}/<int:pk>/delete/", contacts.contact_delete_page, kw, name=f"{name}_delete"),
        path(f"{slug}/<int:pk>/contactpersons/new/", contacts.contact_person_form, kw, name=f"{name}_person_new"),
        path(
            f"{slug}/<int:pk>/contactpersons/<int:person_id>/edit/",
            contacts.contact_person_form,
            kw,
            name=f"{name}_person_edit",
        ),
        path(
            f"{slug}/<int:pk>/contactpersons/<int:person_id>/delete/",
            contacts.contact_person_delete_page,
            kw,
            name=f"{name}_person_delete",
        ),
        path(
            f"{slug}/<int:pk>/contactpersons/<int:person_id>/primary/",
            contacts.contact_person_primary,
            kw,
            name=f"{name}_person_primary",
        ),
    ]


def _transaction_urls(slug: str, name: str, kind: str) -> list[URLPattern]:
    kw = {"kind": kind}
    return [
        path(f"{slug}/", transactions.transaction_list_page, kw, name=f"{name}_list"),
        path(f"{slug}/new/", transactions.transaction_form, kw, name=f"{name}_new"),
        path(f"{slug}/<int:pk>/", transactions.transaction_detail, kw, name=f"{name}_detail"),
        path(f"{slug}/<int:pk>/edit/", transactions.transaction_form, kw, name=f"{name}_edit"),
        path(f"{slug}/<int:pk>/status/<str:state>/", transactions.transaction_status, kw, name=f"{name}_status"),
        path(f"{slug}/<int:pk>/delete/", transactions.transaction_delete_page, kw, name=f"{name}_delete"),
        path(f"{slug}/<int:pk>/deal/dissociate/", transactions.transaction_dissociate, kw, name=f"{name}_dissociate"),
    ]


urlpatterns = [
    path("login/", account.LoginView.as_view(), name="login"),
    path("logout/", account.logout_view, name="logout"),
    path("", account.dashboard, name="dashboard"),
    path("organizations/switch/", account.organization_switch, name="organization_switch"),
    *_contact_urls("customers", "customer", ContactType.CUSTOMER),
    *_contact_urls("vendors", "vendor", ContactType.VENDOR),
    path("items/", items.item_list_page, name="item_list"),
    path("items/new/", items.item_form, name="item_new"),
    path("items/bulk/", items.item_bulk, name="item_bulk"),
    path("items/<int:pk>/", items.item_detail, name="item_detail"),
    path("items/<int:pk>/edit/", items.item_form, name="item_edit"),
    path("items/<int:pk>/status/<str:status>/", items.item_status, name="item_status"),
    path("items/<int:pk>/delete/", items.item_delete_page, name="item_delete"),
    *_transaction_urls("quotes", "quote", TransactionKind.QUOTE),
    path("quotes/<int:pk>/convert/", transactions.quote_convert, name="quote_convert"),
    *_transaction_urls("salesorders", "salesorder", TransactionKind.SALES_ORDER),
    *_transaction_urls("invoices", "invoice", TransactionKind.INVOICE),
    *_transaction_urls("purchaseorders", "purchaseorder", TransactionKind.PURCHASE_ORDER),
    *_transaction_urls("expenses", "expense", TransactionKind.EXPENSE),
    path("settings/", settings.organization_settings, name="organization_settings"),
    path("settings/custom-fields/", settings.custom_field_list_page, name="custom_field_list"),
    path("settings/custom-fields/new/", settings.custom_field_form, name="custom_field_new"),
    path("settings/custom-fields/<int:pk>/edit/", settings.custom_field_form, name="custom_field_edit"),
    path(
        "settings/custom-fields/<int:pk>/status/<str:state>/", settings.custom_field_status, name="custom_field_status"
    ),
    path("settings/users/", settings.member_list_page, name="member_list"),
    path("settings/users/<int:pk>/edit/", settings.member_edit, name="member_edit"),
    path("settings/users/<int:pk>/delete/", settings.member_delete, name="member_delete"),
]

from django.urls import path

from sync.web import views

app_name = "sync_crm"

# Mounted at /crm/ (config/urls.py): the accountant's CRM actions on Books pages.
urlpatterns = [
    path("contacts/search/", views.contact_search, name="contact_search"),
    path("contacts/select/", views.contact_select, name="contact_select"),
    path("contacts/<int:pk>/fetch/", views.contact_fetch, name="contact_fetch"),
    path("items/<int:pk>/fetch/", views.item_fetch, name="item_fetch"),
    path("deals/", views.deal_pane, name="deal_pane"),
    path("deals/pick/", views.deal_pick, name="deal_pick"),
    path("<str:kind>/<int:pk>/deal/associate/", views.deal_associate, name="deal_associate"),
    path("<str:kind>/<int:pk>/deal/dissociate/", views.deal_dissociate, name="deal_dissociate"),
]

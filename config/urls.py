from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("books/v3/", include("books.apis.urls")),
    path("settings/zoho-apps/crm/sync/", include("sync.urls")),
    path("", include("triggers.urls")),
    path("crm/", include("sync.web.urls")),
    path("settings/zoho-apps/", include("crm_integration.urls")),
    path("", include("books.urls")),
]

from django.urls import path

from sync import views

app_name = "sync"

# Mounted at /settings/zoho-apps/crm/sync/ (config/urls.py).
urlpatterns = [
    path("progress/", views.sync_progress, name="progress"),
    path("runs/<str:run_id>/", views.sync_run_detail, name="run_detail"),
]

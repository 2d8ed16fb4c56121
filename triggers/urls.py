from django.urls import path

from triggers import views

app_name = "triggers"

# Mounted at the root (config/urls.py): the webhook's path is a contract (DESIGN.md).
urlpatterns = [
    path("integrations/zoho-crm/notify/", views.notify, name="notify"),
    path("settings/zoho-apps/crm/triggers/", views.trigger_preferences, name="preferences"),
]

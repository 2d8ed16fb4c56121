from django.urls import path

from crm_integration import views, views_users

app_name = "crm_integration"

# Mounted at /settings/zoho-apps/ (config/urls.py). The OAuth redirect URI is {LB_PUBLIC_URL}/settings/zoho-apps/oauth/callback/.
urlpatterns = [
    path("", views.zoho_apps, name="zoho_apps"),
    path("oauth/callback/", views.oauth_callback, name="oauth_callback"),
    path("crm/", views.crm_details, name="crm_details"),
    path("crm/connect/", views.crm_connect, name="crm_connect"),
    path("crm/connect/cancel/", views.crm_connect_cancel, name="crm_connect_cancel"),
    path("crm/organization/", views.crm_choose_org, name="crm_choose_org"),
    path("crm/disable/", views.crm_disable, name="crm_disable"),
    path("crm/enable/", views.crm_enable, name="crm_enable"),
    path("crm/pause/", views.crm_pause, name="crm_pause"),
    path("crm/resume/", views.crm_resume, name="crm_resume"),
    path("crm/sync/", views.crm_instant_sync, name="crm_instant_sync"),
    path("crm/options/", views.crm_sync_options, name="crm_sync_options"),
    path("crm/transactions/", views.crm_transactions, name="crm_transactions"),
    path("crm/history/", views.crm_sync_history, name="crm_sync_history"),
    path("crm/users/", views_users.crm_manage_users, name="crm_manage_users"),
    path("crm/modules/<str:module>/", views.module_configure, name="module_configure"),
    path("crm/modules/<str:module>/start/", views.module_start, name="module_start"),
    path("crm/modules/<str:module>/stop/", views.module_stop, name="module_stop"),
]

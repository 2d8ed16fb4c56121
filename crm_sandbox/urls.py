"""The sandbox answers at its root as Zoho's hosts do: /oauth/v2/… (accounts), /crm/v8/… (API), plus its own
pages (/, /ui/…, /admin/) and the test-control API (/sandbox/api/…)."""

from django.contrib import admin
from django.urls import include, path

from crm_sandbox import apis, control, views

crm = "crm/v8/"
urlpatterns = [
    path("admin/", admin.site.urls),
    path("oauth/v2/auth", views.oauth_auth, name="oauth_auth"),
    path("oauth/v2/token", views.oauth_token, name="oauth_token"),
    path("oauth/v2/token/revoke", views.oauth_revoke, name="oauth_revoke"),
    path("oauth/v2/revoke", views.oauth_revoke),
    # metadata
    path(crm + "org", apis.org),
    path(crm + "org/currencies", apis.currencies),
    path(crm + "org/currencies/<str:currency_id>", apis.currencies),
    path(crm + "users", apis.users),
    path(crm + "users/<str:user_id>", apis.users),
    path(crm + "settings/fields", apis.fields),
    path(crm + "settings/fields/<str:field_id>", apis.fields),
    path(crm + "settings/modules", apis.modules),
    path(crm + "settings/modules/<str:api_name>", apis.modules),
    path(crm + "settings/custom_views", apis.custom_views),
    path(crm + "settings/custom_views/<str:view_id>", apis.custom_views),
    path(crm + "settings/layouts", apis.layouts),
    path(crm + "settings/layouts/<str:layout_id>", apis.layouts),
    path(crm + "settings/pipeline", apis.pipeline),
    path(crm + "settings/roles", apis.roles),
    path(crm + "settings/roles/<str:role_id>", apis.roles),
    path(crm + "actions/watch", apis.watch),
    # records
    path(crm + "<str:module>/search", apis.search),
    path(crm + "<str:module>/deleted", apis.deleted),
    path(crm + "<str:module>/upsert", apis.upsert),
    path(crm + "<str:module>/actions/count", apis.count),
    path(crm + "<str:module>/<str:record_id>", apis.record_detail),
    path(crm + "<str:module>", apis.module_records),
    path(crm + "<path:rest>", apis.not_found),
    # control API
    path("sandbox/api/reset", control.reset),
    path("sandbox/api/org", control.org),
    path("sandbox/api/orgs", control.org_list),
    path("sandbox/api/faults", control.faults_view),
    path("sandbox/api/counters", control.counters),
    path("sandbox/api/counters/reset", control.counters_reset),
    path("sandbox/api/deliveries", control.deliveries),
    path("sandbox/api/tokens/expire", control.tokens_expire),
    path("sandbox/api/credentials", control.credentials),
]
pages = [
    path("", views.home, name="home"),
    path("ui/deliveries/", views.delivery_list, name="deliveries"),
    path("ui/faults/", views.fault_settings, name="faults"),
    path("ui/<str:module>/", views.record_list, name="record_list"),
    path("ui/<str:module>/new/", views.record_edit, name="record_new"),
    path("ui/<str:module>/<str:record_id>/", views.record_edit, name="record_edit"),
    path("ui/<str:module>/<str:record_id>/delete/", views.record_delete, name="record_delete"),
]
urlpatterns.append(path("", include((pages, "crm_sandbox"))))

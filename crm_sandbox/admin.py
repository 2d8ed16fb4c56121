"""Django admin of the sandbox: orgs (edition, currency), users, roles, views, fields, notification channels and
deliveries, fault settings, OAuth clients. Records have their own pages (crm_sandbox/views.py) because their
fields live in JSON; saving an org or the faults here goes through the same services as the control API."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from crm_sandbox import fieldcache
from crm_sandbox.models import (
    CrmUser,
    CustomView,
    Delivery,
    FaultConfig,
    FieldDef,
    OAuthClient,
    Org,
    Role,
    WatchChannel,
)
from crm_sandbox.services import faults, orgs


@admin.register(Org)
class OrgAdmin(admin.ModelAdmin[Org]):
    list_display = ("company_name", "id", "edition", "currency_iso", "mc_status", "is_default")
    fields = (
        "company_name",
        "edition",
        "currency_iso",
        "mc_status",
        "time_zone",
        "api_credits_override",
        "concurrency_override",
    )

    def save_model(self, request: HttpRequest, obj: Org, form: Any, change: bool) -> None:
        if not change:
            # A second org gets its fields, views, roles and users from the same service as POST /sandbox/api/orgs.
            new = orgs.org_second_create(company_name=obj.company_name)
            obj.pk = new.pk
            obj.id = new.id
        stored = Org.objects.get(pk=obj.pk)
        values = {
            "company_name": obj.company_name,
            "edition": obj.edition,
            "currency": obj.currency_iso,
            "mc_status": obj.mc_status,
            "time_zone": obj.time_zone,
            "api_credits": obj.api_credits_override,
            "concurrency": obj.concurrency_override,
        }
        obj.currency_iso = stored.currency_iso  # org_update moves the base currency itself
        orgs.org_update(org=stored, values=values)


@admin.register(CrmUser)
class CrmUserAdmin(admin.ModelAdmin[CrmUser]):
    list_display = ("full_name", "email", "org", "role", "profile_name", "status", "is_admin")
    list_filter = ("org", "status", "role")
    search_fields = ("email", "first_name", "last_name")
    readonly_fields = ("id",)

    def save_model(self, request: HttpRequest, obj: CrmUser, form: Any, change: bool) -> None:
        if not obj.id:
            from crm_sandbox.common import new_id

            obj.id = new_id()
            obj.zuid = obj.zuid or str(808_000_000 + obj.id % 1_000_000)
        super().save_model(request, obj, form, change)
        fieldcache.invalidate()


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin[Role]):
    list_display = ("name", "org", "reporting_to", "admin_user")
    list_filter = ("org",)
    readonly_fields = ("id",)

    def save_model(self, request: HttpRequest, obj: Role, form: Any, change: bool) -> None:
        if not obj.id:
            from crm_sandbox.common import new_id

            obj.id = new_id()
        super().save_model(request, obj, form, change)


@admin.register(CustomView)
class CustomViewAdmin(admin.ModelAdmin[CustomView]):
    list_display = ("name", "module", "org", "system_defined", "category", "is_default")
    list_filter = ("org", "module", "system_defined")
    readonly_fields = ("id",)

    def save_model(self, request: HttpRequest, obj: CustomView, form: Any, change: bool) -> None:
        if not obj.id:
            from crm_sandbox.common import new_id

            obj.id = new_id()
        super().save_model(request, obj, form, change)


@admin.register(FieldDef)
class FieldDefAdmin(admin.ModelAdmin[FieldDef]):
    list_display = ("api_name", "field_label", "module", "data_type", "custom_field", "unique", "external", "org")
    list_filter = ("org", "module", "custom_field")
    readonly_fields = ("id", "api_name", "data_type", "custom_field")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created through POST /crm/v8/settings/fields

    def save_model(self, request: HttpRequest, obj: FieldDef, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        fieldcache.invalidate()


@admin.register(WatchChannel)
class WatchChannelAdmin(admin.ModelAdmin[WatchChannel]):
    list_display = ("channel_id", "org", "notify_url", "channel_expiry")
    list_filter = ("org",)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin[Delivery]):
    list_display = ("id", "channel_id", "status", "attempts", "last_status_code", "created_time", "delivered_time")
    list_filter = ("status",)
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(FaultConfig)
class FaultConfigAdmin(admin.ModelAdmin[FaultConfig]):
    list_display = ("__str__", "rate_5xx", "rate_429", "rate_slow", "rate_drop", "rate_expired", "rate_after_write")

    def save_model(self, request: HttpRequest, obj: FaultConfig, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        faults.reload(obj)


@admin.register(OAuthClient)
class OAuthClientAdmin(admin.ModelAdmin[OAuthClient]):
    list_display = ("name", "client_id", "created_time")
    readonly_fields = ("client_id", "client_secret")

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from books.models import Contact, Item, Membership, Organization, Transaction, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_staff")
    search_fields = ("email", "first_name", "last_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin[Organization]):
    list_display = ("name", "slug", "base_currency", "country")
    search_fields = ("name", "slug")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ("user", "organization", "role")
    list_filter = ("role",)
    raw_id_fields = ("user", "organization")


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin[Contact]):
    list_display = ("contact_name", "contact_type", "organization", "status", "source")
    list_filter = ("contact_type", "status", "source")
    search_fields = ("contact_name", "email")
    raw_id_fields = ("organization",)
    show_full_result_count = False


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin[Item]):
    list_display = ("name", "organization", "rate", "status")
    search_fields = ("name", "sku")
    raw_id_fields = ("organization",)
    show_full_result_count = False


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin[Transaction]):
    list_display = ("number", "kind", "organization", "status", "total")
    list_filter = ("kind", "status")
    raw_id_fields = ("organization", "contact", "customer", "converted_from")
    show_full_result_count = False

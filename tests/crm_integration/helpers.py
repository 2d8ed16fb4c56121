"""Helpers for crm_integration tests: connections and metadata made directly (no CRM involved)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from crm_integration import crypto
from crm_integration.client import CustomView, FieldMeta
from crm_integration.models import ConnectionStatus, CrmConnection, DataCenter
from crm_integration.services.modules import CrmMetadata


def make_connection(organization: Any, **overrides: Any) -> CrmConnection:
    values: dict[str, Any] = {
        "organization": organization,
        "status": ConnectionStatus.CONNECTED,
        "data_center": DataCenter.CUSTOM,
        "accounts_url": "http://crm.test",
        "api_domain": "http://crm.test",
        "client_id": "1000.CLIENT",
        "encrypted_client_secret": crypto.encrypt("client-secret-value"),
        "encrypted_refresh_token": crypto.encrypt("1000.refresh-token-value"),
        "crm_org_id": "900001",
        "crm_org_name": "Zylker CRM",
        "crm_edition": "professional",
        "crm_currency": organization.base_currency,
        "connected_at": timezone.now(),
    }
    values.update(overrides)
    return CrmConnection.objects.create(**values)


def view(id_: str, name: str, *, system: bool = True, system_name: str | None = None) -> CustomView:
    return CustomView(id=id_, name=name, display_value=name, system_defined=system, system_name=system_name)


def field(api_name: str, data_type: str = "text", label: str | None = None, **kw: Any) -> FieldMeta:
    return FieldMeta(api_name=api_name, label=label or api_name.replace("_", " "), data_type=data_type, **kw)


ACCOUNT_FIELDS = [
    field("Account_Name"),
    field("Phone", "phone"),
    field("Website", "website"),
    field("Fax", "phone"),
    field("Billing_Street", "textarea"),
    field("Billing_City"),
    field("Billing_State"),
    field("Billing_Code"),
    field("Billing_Country"),
    field("Shipping_Street", "textarea"),
    field("Shipping_City"),
    field("Shipping_State"),
    field("Shipping_Code"),
    field("Shipping_Country"),
    field("Owner", "ownerlookup"),
    field("Description", "textarea"),
    field("Annual_Revenue", "currency"),
    field("Parent_Account", "lookup"),
    field("Region__c", "picklist", "Region", custom_field=True, picklist_values=("North", "South")),
]
CONTACT_FIELDS = [
    field("Salutation", "picklist"),
    field("First_Name"),
    field("Last_Name"),
    field("Email", "email"),
    field("Phone", "phone"),
    field("Mobile", "phone"),
    field("Title"),
    field("Department"),
    field("Mailing_Street", "textarea"),
    field("Mailing_City"),
    field("Mailing_State"),
    field("Mailing_Zip"),
    field("Mailing_Country"),
    field("Owner", "ownerlookup"),
    field("Description", "textarea"),
]
VENDOR_FIELDS = [
    field("Vendor_Name"),
    field("Email", "email"),
    field("Phone", "phone"),
    field("City"),
    field("Zip_Code"),
]
PRODUCT_FIELDS = [
    field("Product_Name"),
    field("Product_Code"),
    field("Unit_Price", "currency"),
    field("Description", "textarea"),
    field("Usage_Unit", "picklist"),
    field("Product_Active", "boolean"),
]

VIEWS = {
    "Accounts": [
        view("11", "All Accounts", system_name="ALLVIEWS"),
        view("12", "My Accounts", system_name="MYVIEWS"),
        view("13", "Key accounts", system=False),
    ],
    "Contacts": [view("21", "All Contacts", system_name="ALLVIEWS"), view("22", "Partners", system=False)],
    "Vendors": [view("31", "All Vendors", system_name="ALLVIEWS")],
    "Products": [view("41", "All Products", system_name="ALLVIEWS")],
}


def metadata(*modules: str) -> CrmMetadata:
    fields = {
        "Accounts": ACCOUNT_FIELDS,
        "Contacts": CONTACT_FIELDS,
        "Vendors": VENDOR_FIELDS,
        "Products": PRODUCT_FIELDS,
    }
    modules = modules or ("Accounts", "Contacts", "Vendors", "Products")
    return CrmMetadata(
        views={m: list(VIEWS[m]) for m in modules},
        fields={m: {f.api_name: f for f in fields[m]} for m in modules},
    )

"""Forms of the Settings › Zoho Apps pages: they parse what was posted; the services judge it."""

from __future__ import annotations

from typing import Any

from django import forms

from books.models import CustomFieldType
from crm_integration.models import (
    SYNC_INTERVAL_MAX,
    SYNC_INTERVAL_MIN,
    CrmModuleOption,
    DataCenter,
    DuplicatePolicy,
    SyncExtent,
)


class ConnectForm(forms.Form):
    """Zoho CRM Credentials. Two submit buttons: Connect (`method=oauth`, the browser goes to the CRM's consent
    page) and Connect with grant code (`method=self_client`, for headless set-ups)."""

    method = forms.ChoiceField(choices=[("oauth", "OAuth"), ("self_client", "Self Client")], initial="oauth")
    data_center = forms.ChoiceField(choices=DataCenter.choices, label="Data center")
    accounts_url = forms.CharField(required=False, max_length=255, label="Accounts server URL")
    api_domain = forms.CharField(required=False, max_length=255, label="API domain")
    client_id = forms.CharField(required=False, max_length=200, label="Client ID")
    client_secret = forms.CharField(
        required=False, max_length=500, label="Client Secret", widget=forms.PasswordInput(render_value=False)
    )
    grant_code = forms.CharField(required=False, max_length=500, label="Grant code")


class OrganizationChoiceForm(forms.Form):
    organization = forms.CharField(required=False, max_length=40)


class ModuleStepForm(forms.Form):
    crm_module_option = forms.ChoiceField(choices=CrmModuleOption.choices, required=False)
    include_orphan_contacts = forms.BooleanField(required=False)


class ExtentStepForm(forms.Form):
    extent = forms.ChoiceField(choices=SyncExtent.choices, required=False)


class DuplicatesStepForm(forms.Form):
    duplicates = forms.ChoiceField(choices=DuplicatePolicy.choices, required=False)


class SyncOptionsForm(forms.Form):
    interval_minutes = forms.IntegerField(
        min_value=SYNC_INTERVAL_MIN,
        max_value=SYNC_INTERVAL_MAX,
        error_messages={
            "invalid": "interval_minutes: enter a whole number of minutes",
            "required": "interval_minutes: enter a whole number of minutes",
            "min_value": f"interval_minutes: at least {SYNC_INTERVAL_MIN} minutes",
            "max_value": f"interval_minutes: at most {SYNC_INTERVAL_MAX} minutes (one day)",
        },
    )


class CustomFieldForm(forms.Form):
    """A Books custom field created from the field map editor, mapped at once to a CRM field."""

    cf_crm_module = forms.CharField(max_length=40)
    cf_crm_field = forms.CharField(max_length=120, required=False)
    cf_label = forms.CharField(max_length=100, required=False)
    cf_data_type = forms.ChoiceField(choices=CustomFieldType.choices, required=False)
    cf_options = forms.CharField(max_length=2000, required=False)


def field_map_from_post(data: Any, crm_modules: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """The field map editor posts `map__<CRM module>__<Books field>` = CRM field API name ("" = not mapped)."""
    field_map: dict[str, dict[str, str]] = {m: {} for m in crm_modules}
    for key in data:
        parts = key.split("__", 2)
        if len(parts) != 3 or parts[0] != "map" or parts[1] not in field_map:
            continue
        value = str(data.get(key) or "").strip()
        if value:
            field_map[parts[1]][parts[2]] = value[:120]
    return field_map

"""Forms of the sandbox's pages: a record form built from the module's field definitions, and the fault form."""

from __future__ import annotations

from typing import Any

from django import forms

from crm_sandbox.models import FieldDef
from crm_sandbox.services import faults

SKIP = {"Created_By", "Modified_By", "Created_Time", "Modified_Time", "Currency", "Exchange_Rate"}


def _form_field(f: FieldDef, users: dict[int, dict[str, Any]], lookup_name: str | None) -> forms.Field:
    required = f.system_mandatory
    label = f.field_label
    if f.api_name == "Owner":
        return forms.ChoiceField(label=label, choices=[(str(k), v["name"]) for k, v in users.items()], required=True)
    if f.data_type in ("picklist",):
        choices = [("", "-None-")] + [(v, v) for v in f.pick_list_values if isinstance(v, str) and v != "-None-"]
        return forms.ChoiceField(label=label, choices=choices, required=required)
    if f.data_type in ("integer", "bigint"):
        return forms.IntegerField(label=label, required=required)
    if f.data_type in ("double", "currency", "percent"):
        return forms.DecimalField(
            label=label, required=required, decimal_places=2 if f.data_type == "currency" else None
        )
    if f.data_type == "boolean":
        return forms.BooleanField(label=label, required=False)
    if f.data_type == "date":
        return forms.DateField(label=label, required=required, widget=forms.DateInput(attrs={"type": "date"}))
    if f.data_type == "lookup":
        help_text = f"Id of a record in {f.lookup_module}" + (f" (now: {lookup_name})" if lookup_name else "")
        return forms.RegexField(regex=r"^\d{1,19}$", label=f"{label} (id)", required=required, help_text=help_text)
    widget = forms.Textarea(attrs={"rows": 3}) if f.data_type == "textarea" else None
    return forms.CharField(label=label, required=required, max_length=f.length or None, widget=widget)


class RecordForm(forms.Form):
    def __init__(
        self,
        *args: Any,
        defs: dict[str, FieldDef],
        users: dict[int, dict[str, Any]],
        lookup_names: dict[str, str | None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        names = lookup_names or {}
        self.defs = defs
        for f in defs.values():
            if f.api_name in SKIP or (f.read_only and f.api_name != "Owner"):
                continue
            self.fields[f.api_name] = _form_field(f, users, names.get(f.api_name))

    def record_values(self) -> dict[str, Any]:
        """The changed fields as API values (lookups and Owner as {"id"}, numbers as numbers, blanks as null)."""
        out: dict[str, Any] = {}
        for name in self.changed_data:
            value: Any = self.cleaned_data.get(name)
            f = self.defs[name]
            if value in ("", None) and f.data_type != "boolean":
                out[name] = None
            elif name == "Owner" or f.data_type == "lookup":
                out[name] = {"id": str(value)}
            elif f.data_type in ("double", "currency", "percent"):
                out[name] = float(value)
            elif f.data_type == "date":
                out[name] = value.isoformat()
            else:
                out[name] = value
        return out


class FaultForm(forms.Form):
    rate_5xx = forms.FloatField(label="5xx rate", min_value=0, max_value=1, initial=0)
    rate_429 = forms.FloatField(label="429 rate", min_value=0, max_value=1, initial=0)
    rate_slow = forms.FloatField(label="Slow answer rate", min_value=0, max_value=1, initial=0)
    rate_drop = forms.FloatField(label="Dropped connection rate", min_value=0, max_value=1, initial=0)
    rate_expired = forms.FloatField(label="Expired token rate", min_value=0, max_value=1, initial=0)
    rate_after_write = forms.FloatField(label="Drop after a committed write rate", min_value=0, max_value=1, initial=0)
    slow_ms = forms.IntegerField(label="Slow answer (ms)", min_value=0, max_value=120_000, initial=1500)
    seed = forms.IntegerField(label="Random seed", required=False)

    def values(self) -> dict[str, Any]:
        reverse = {attr: name for name, attr in faults.KEYS.items()}
        return {reverse.get(k, k): v for k, v in self.cleaned_data.items()}

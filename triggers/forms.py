"""The Change Preference form: the mode (Quote / Invoice / Off) and the two stages, offered from the live Deals
pipeline. It only parses; trigger_preferences_save validates against the CRM and saves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from triggers.models import TriggerMode

MODE_CHOICES = [
    (TriggerMode.QUOTE.value, "Quote"),
    (TriggerMode.INVOICE.value, "Invoice"),
    (TriggerMode.OFF.value, "Off"),
]


class TriggerPreferenceForm(forms.Form):
    mode = forms.ChoiceField(label="Automate", choices=MODE_CHOICES, widget=forms.RadioSelect)
    create_quote_stage = forms.ChoiceField(
        label="Create Quote",
        required=False,
        help_text="The stage at which a quote is created in Zoho Books, as a draft.",
    )
    approve_quote_stage = forms.ChoiceField(
        label="Approve Quote",
        required=False,
        help_text="The stage at which the quote is approved; depending on your quote preference, an invoice is "
        "created.",
    )

    def __init__(self, *args: Any, stages: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "Choose a stage")] + [(s, s) for s in stages]
        for name in ("create_quote_stage", "approve_quote_stage"):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = choices

"""The pages of the triggers: the Deal triggers panel on Show Details, Change Preference (admins only, stages
from the live pipeline, inline errors), the trigger log on Show Sync History, and what a trigger-made
transaction looks like in Books (locked deal association, found by `zcrm_potential_id` in the API)."""

from __future__ import annotations

import pytest

from books.models import Transaction
from tests.triggers.conftest import APPROVE_STAGE, CREATE_STAGE, first_id, new_deal, notification
from triggers.models import TriggerPreference

pytestmark = pytest.mark.django_db

DETAILS = "/settings/zoho-apps/crm/"
PREFERENCE = "/settings/zoho-apps/crm/triggers/"
HISTORY = "/settings/zoho-apps/crm/history/"


def test_details_shows_the_panel_with_change_preference(admin_client, connected):
    page = admin_client.get(DETAILS).content.decode()
    assert "Automate Based on the Deal/Potential&#x27;s Stage" in page
    assert 'id="change-preference"' in page
    assert 'id="trigger-mode">Off<' in page


def test_change_preference_offers_the_live_stages_and_saves(admin_client, connected, sandbox):
    page = admin_client.get(PREFERENCE)
    assert page.status_code == 200
    html = page.content.decode()
    for label in ("Quote", "Invoice", "Off", "Create Quote", "Approve Quote", "Decline Quote"):
        assert label in html
    assert f'<option value="{CREATE_STAGE}"' in html
    assert '<option value="Closed Won"' in html
    response = admin_client.post(
        PREFERENCE, {"mode": "quote", "create_quote_stage": CREATE_STAGE, "approve_quote_stage": APPROVE_STAGE}
    )
    assert response.status_code == 302
    preference = TriggerPreference.objects.get()
    assert (preference.mode, preference.create_quote_stage, preference.approve_quote_stage) == (
        "quote",
        CREATE_STAGE,
        APPROVE_STAGE,
    )
    details = admin_client.get(DETAILS).content.decode()
    assert f'id="trigger-create-stage">{CREATE_STAGE}<' in details
    assert "Subscribed to Zoho CRM deal notifications" in details


def test_change_preference_shows_errors_inline(admin_client, connected):
    response = admin_client.post(PREFERENCE, {"mode": "quote", "create_quote_stage": CREATE_STAGE})
    assert response.status_code == 422
    assert "approve_quote_stage: required when the mode is quote" in response.content.decode()
    response = admin_client.post(PREFERENCE, {"mode": "quote", "create_quote_stage": "Nope"})
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    response = admin_client.post(PREFERENCE, {"mode": ""})
    assert response.status_code == 422
    assert not TriggerPreference.objects.exists()


def test_change_preference_is_for_admins_only(accountant_client, integration_client, connected):
    assert accountant_client.get(PREFERENCE).status_code == 403
    assert accountant_client.post(PREFERENCE, {"mode": "invoice"}).status_code == 403
    assert integration_client.get(PREFERENCE).status_code == 403
    assert not TriggerPreference.objects.exists()


def test_without_a_connection_change_preference_sends_back_to_details(admin_client, org):
    response = admin_client.get(PREFERENCE)
    assert response.status_code == 302
    assert response["Location"] == DETAILS


def test_history_lists_actions_and_refusals_and_the_transaction_shows_the_locked_deal(
    admin_client, sandbox, invoice_mode, deliver, api
):
    channel, token = invoice_mode
    won = new_deal(
        sandbox, stage="Closed Won", account_id=first_id(sandbox, "Accounts", "Account_Name"), name="Won one"
    )
    orphan = new_deal(sandbox, stage="Closed Won", name="No account")
    deliver(notification(channel.channel_id, token, won, operation="insert"))
    deliver(notification(channel.channel_id, token, orphan, operation="insert"))
    invoice = Transaction.objects.get(zcrm_potential_id=won)

    history = admin_client.get(HISTORY).content.decode()
    assert 'id="trigger-log"' in history
    assert f"Invoice {invoice.number} created as a draft" in history
    assert "the deal is not associated with an Account" in history
    assert "No account" in history

    detail = admin_client.get(f"/invoices/{invoice.pk}/").content.decode()
    assert "Won one" in detail
    assert "cannot be dissociated" in detail
    assert ">Dissociate<" not in detail
    response = admin_client.post(f"/invoices/{invoice.pk}/deal/dissociate/")
    invoice.refresh_from_db()
    assert invoice.zcrm_potential_id == won
    assert response.status_code in (302, 409, 200)

    found = api.get("/books/v3/invoices", {"organization_id": api.organization_id, "zcrm_potential_id": won}).json()
    assert [i["invoice_id"] for i in found["invoices"]] == [str(invoice.pk)]
    assert found["invoices"][0]["zcrm_potential_id"] == won

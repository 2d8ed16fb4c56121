"""Associate Potentials With Transactions against the live sandbox: the pane lists the customer's deals (or deals
found by name), a form carries the chosen deal until Save, a transaction's page applies it at once, Dissociate is
refused for trigger-made associations with the seed's warning, and a deal deleted in the CRM is listed at the
bottom."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from books.errors import ApplicationError
from books.models import Contact, Transaction, TransactionKind
from books.services.transactions import LineInput, TransactionInput, transaction_create
from sync.services.crm_actions import crm_contact_choose, crm_deal_list, transaction_deal_associate
from sync.web import state
from tests.crmux.conftest import configure, crm_records
from tests.factories import CustomerFactory, VendorFactory

pytestmark = pytest.mark.django_db
K = TransactionKind
DEAL_FIELDS = ["Deal_Name", "Stage", "Account_Name", "Contact_Name"]
SEED_WARNING = "Potentials that were associated using triggers cannot be dissociated"


def _text(response) -> str:
    return response.content.decode()


def lines(*rows: dict) -> dict:
    data = {"lines-TOTAL_FORMS": str(len(rows)), "lines-INITIAL_FORMS": "0"}
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"lines-{index}-{key}"] = value
    return data


@pytest.fixture
def crm(connected, sandbox, org, admin_user):
    """Customers sync Accounts and their Contacts; the account of a deal imported as a customer."""
    configure(connected, "customers", crm_module_option="accounts_and_contacts")
    deals = crm_records(sandbox, "Deals", DEAL_FIELDS)
    deal = next(d for d in deals if d.get("Account_Name"))
    account_id = deal["Account_Name"]["id"]
    customer = crm_contact_choose(
        organization=org, actor=admin_user, contact_type="customer", crm_module="Accounts", crm_id=account_id
    )
    of_account = [d for d in deals if (d.get("Account_Name") or {}).get("id") == account_id]
    return {"deal": deal, "customer": customer, "deals": of_account, "all": deals}


def _invoice(org, customer, **kw) -> Transaction:
    return transaction_create(
        organization=org,
        actor=None,
        kind=kw.pop("kind", K.INVOICE),
        data=TransactionInput(contact_id=customer.pk, lines=[LineInput(name="Work", rate="100")], **kw),
    )


# --- services -------------------------------------------------------------------------------------------------------


def test_the_customers_deals_are_listed(crm, org):
    listed = crm_deal_list(organization=org, customer=crm["customer"])
    assert listed.searched == "customer"
    assert {d.id for d in listed.deals} == {d["id"] for d in crm["deals"]}
    assert all(d.account_name == crm["customer"].contact_name for d in listed.deals)
    # A customer not linked with the CRM: nothing searched, and the pane says to search by name.
    plain = crm_deal_list(organization=org, customer=CustomerFactory(organization=org, contact_name="Walk-in"))
    assert plain.deals == []
    assert "Walk-in is not linked with Zoho CRM" in plain.hint


def test_deals_are_found_by_name(crm, org):
    other = next(d for d in crm["all"] if d["id"] not in {x["id"] for x in crm["deals"]})
    listed = crm_deal_list(organization=org, customer=crm["customer"], query=other["Deal_Name"])
    assert listed.searched == "name"
    assert other["id"] in {d.id for d in listed.deals}
    assert all(d.name.startswith(other["Deal_Name"]) for d in listed.deals)
    with pytest.raises(ApplicationError, match="q: enter at least 2 characters"):
        crm_deal_list(organization=org, customer=None, query="x")


def test_associate_reads_the_deal_from_the_crm(crm, org, admin_user):
    invoice = _invoice(org, crm["customer"])
    transaction_deal_associate(txn=invoice, actor=admin_user, deal_id=crm["deal"]["id"])
    invoice.refresh_from_db()
    assert (invoice.zcrm_potential_id, invoice.zcrm_potential_name) == (crm["deal"]["id"], crm["deal"]["Deal_Name"])
    with pytest.raises(ApplicationError, match="deal_id: there is no deal 5725767000009999999 in Zoho CRM"):
        transaction_deal_associate(txn=invoice, actor=admin_user, deal_id="5725767000009999999")
    purchase = _invoice(org, VendorFactory(organization=org), kind=K.PURCHASE_ORDER)
    with pytest.raises(ApplicationError, match="purchase orders cannot be associated with a deal"):
        transaction_deal_associate(txn=purchase, actor=admin_user, deal_id=crm["deal"]["id"])


def test_a_deal_deleted_in_the_crm_is_listed_at_the_bottom(crm, org, admin_user, sandbox, admin_client):
    invoice = _invoice(org, crm["customer"])
    transaction_deal_associate(txn=invoice, actor=admin_user, deal_id=crm["deal"]["id"])
    assert sandbox.api("DELETE", f"Deals/{crm['deal']['id']}").status_code == 200
    listed = crm_deal_list(
        organization=org, customer=crm["customer"], current_id=crm["deal"]["id"], current_name="Kept name"
    )
    assert crm["deal"]["id"] not in {d.id for d in listed.deals}
    assert listed.deleted_current is not None
    assert listed.deleted_current.name == "Kept name"
    body = _text(admin_client.get(f"/crm/deals/?kind=invoice&mode=apply&txn={invoice.pk}"))
    rows = re.findall(r'data-deal-id="(\d+)"', body)
    assert rows[-1] == crm["deal"]["id"]
    assert "Deleted in Zoho CRM" in body
    # It can still be dissociated.
    admin_client.post(f"/crm/invoice/{invoice.pk}/deal/dissociate/")
    invoice.refresh_from_db()
    assert invoice.zcrm_potential_id == ""


# --- the form: the deal chosen in the pane is applied on Save ---------------------------------------------------------


def test_invoice_form_offers_crm_actions_when_connected(crm, admin_client, org, other_client):
    body = _text(admin_client.get("/invoices/new/"))
    assert 'id="crm-actions-menu"' in body
    assert "Associate Potential" in body
    assert 'id="crm-contact-search"' in body
    # Purchase orders cannot have a deal; they still search vendors.
    po = _text(admin_client.get("/purchaseorders/new/"))
    assert "Associate Potential" not in po
    assert 'id="crm-contact-search"' in po
    # Not connected: no CRM actions at all.
    other = _text(other_client.get("/invoices/new/"))
    assert "CRM Actions" not in other
    assert "crm-contact-search" not in other


def test_pane_lists_the_customers_deals_as_a_page_and_as_a_partial(crm, admin_client):
    customer = crm["customer"]
    page = admin_client.get(f"/crm/deals/?kind=invoice&customer_id={customer.pk}&next=/invoices/new/")
    assert page.status_code == 200
    body = _text(page)
    assert "<html" in body
    assert set(re.findall(r'data-deal-id="(\d+)"', body)) == {d["id"] for d in crm["deals"]}
    assert "hx-post" not in body  # the page works with plain forms
    partial = admin_client.get(
        f"/crm/deals/?kind=invoice&customer_id={customer.pk}", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="lb-crm-pane"
    )
    assert "<html" not in _text(partial)
    assert 'hx-target="#crm-deal-state"' in _text(partial)


def test_a_new_invoice_is_saved_with_the_deal_chosen_without_javascript(crm, admin_client, org):
    customer, deal = crm["customer"], crm["deal"]
    response = admin_client.post(
        "/crm/deals/pick/",
        {
            "kind": "invoice",
            "op": "associate",
            "deal_id": deal["id"],
            "next": f"/invoices/new/?customer_id={customer.pk}",
        },
    )
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == "/invoices/new/"
    token = parse_qs(target.query)["crm_deal"][0]
    form = _text(admin_client.get(response["Location"]))
    assert f"Potential to associate when you save: <strong>{deal['Deal_Name']}</strong>" in form
    assert f'name="crm_deal" id="crm-deal-token" value="{token}"' in form
    saved = admin_client.post(
        "/invoices/new/",
        {"contact_id": customer.pk, "date": "2026-02-01", "crm_deal": token, **lines({"name": "Work", "rate": "10"})},
        follow=True,
    )
    assert f"Potential {deal['Deal_Name']} has been associated." in _text(saved)
    invoice = Transaction.objects.get(organization=org, kind=K.INVOICE)
    assert (invoice.zcrm_potential_id, invoice.zcrm_potential_name) == (deal["id"], deal["Deal_Name"])


def test_pick_in_the_dialog_swaps_the_forms_deal_and_closes_it(crm, admin_client, org):
    response = admin_client.post(
        "/crm/deals/pick/",
        {"kind": "invoice", "op": "associate", "deal_id": crm["deal"]["id"]},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"lb-crm-close": {}}
    token = re.search(r'name="crm_deal" id="crm-deal-token" value="([^"]+)"', _text(response)).group(1)
    assert state.pending_loads(token, organization_id=org.pk) == state.PendingDeal(
        op="associate", id=crm["deal"]["id"], name=crm["deal"]["Deal_Name"]
    )
    # A deal that is not in the CRM: the message goes into the pane, nothing is chosen.
    bad = admin_client.post(
        "/crm/deals/pick/",
        {"kind": "invoice", "op": "associate", "deal_id": "5725767000009999999"},
        HTTP_HX_REQUEST="true",
    )
    assert bad["HX-Retarget"] == "#crm-pane-message"
    assert "There is no deal 5725767000009999999 in Zoho CRM" in _text(bad)
    assert "crm_deal" not in _text(bad)


def test_a_forged_or_foreign_deal_value_is_ignored(crm, admin_client, org, other_org):
    foreign = state.pending_dumps(
        state.PendingDeal(op="associate", id="1", name="Foreign"), organization_id=other_org.pk
    )
    for value in ("garbage", foreign, "associate:1"):
        admin_client.post(
            "/invoices/new/",
            {
                "contact_id": crm["customer"].pk,
                "date": "2026-02-01",
                "crm_deal": value,
                **lines({"name": "W", "rate": "1"}),
            },
        )
    assert Transaction.objects.filter(organization=org).count() == 3
    assert not Transaction.objects.filter(organization=org).exclude(zcrm_potential_id="").exists()


def test_edit_page_dissociates_on_save_but_not_a_trigger_made_association(crm, admin_client, org, admin_user):
    customer, deal = crm["customer"], crm["deal"]
    invoice = _invoice(org, customer)
    transaction_deal_associate(txn=invoice, actor=admin_user, deal_id=deal["id"])
    edit = _text(admin_client.get(f"/invoices/{invoice.pk}/edit/"))
    assert "Associate Potential" in edit
    pane = _text(admin_client.get(f"/crm/deals/?kind=invoice&mode=form&txn={invoice.pk}"))
    assert "Dissociate" in pane
    response = admin_client.post(
        "/crm/deals/pick/",
        {"kind": "invoice", "op": "dissociate", "txn": invoice.pk, "next": f"/invoices/{invoice.pk}/edit/"},
    )
    token = parse_qs(urlsplit(response["Location"]).query)["crm_deal"][0]
    assert "The potential will be dissociated when you save." in _text(admin_client.get(response["Location"]))
    saved = admin_client.post(
        f"/invoices/{invoice.pk}/edit/",
        {"contact_id": customer.pk, "date": "2026-02-01", "crm_deal": token, **lines({"name": "Work", "rate": "100"})},
        follow=True,
    )
    assert "The potential has been dissociated." in _text(saved)
    invoice.refresh_from_db()
    assert invoice.zcrm_potential_id == ""

    locked = transaction_create(
        organization=org,
        actor=None,
        kind=K.INVOICE,
        data=TransactionInput(contact_id=customer.pk, lines=[LineInput(name="Deal", rate="5")]),
        zcrm_potential_id=deal["id"],
        zcrm_potential_name=deal["Deal_Name"],
        potential_locked=True,
    )
    pane = _text(admin_client.get(f"/crm/deals/?kind=invoice&mode=form&txn={locked.pk}"))
    assert SEED_WARNING in pane
    assert ">Dissociate<" not in pane
    refused = admin_client.post(
        "/crm/deals/pick/",
        {"kind": "invoice", "op": "dissociate", "txn": locked.pk, "next": f"/invoices/{locked.pk}/edit/"},
        follow=True,
    )
    assert SEED_WARNING in _text(refused)
    assert "crm_deal=" not in refused.redirect_chain[-1][0]
    locked.refresh_from_db()
    assert locked.zcrm_potential_id == deal["id"]


# --- a transaction's page: applied at once ----------------------------------------------------------------------------


def test_detail_page_associates_and_dissociates_at_once(crm, admin_client, org):
    invoice = _invoice(org, crm["customer"])
    detail = _text(admin_client.get(f"/invoices/{invoice.pk}/"))
    assert "Associate Potential" in detail
    assert f"/crm/deals/?kind=invoice&amp;mode=apply&amp;txn={invoice.pk}" in detail
    response = admin_client.post(
        f"/crm/invoice/{invoice.pk}/deal/associate/", {"deal_id": crm["deal"]["id"]}, follow=True
    )
    assert f"Potential {crm['deal']['Deal_Name']} has been associated." in _text(response)
    invoice.refresh_from_db()
    assert invoice.zcrm_potential_id == crm["deal"]["id"]
    assert crm["deal"]["Deal_Name"] in _text(admin_client.get(f"/invoices/{invoice.pk}/"))
    hx = admin_client.post(f"/crm/invoice/{invoice.pk}/deal/dissociate/", HTTP_HX_REQUEST="true")
    assert hx["HX-Refresh"] == "true"
    invoice.refresh_from_db()
    assert invoice.zcrm_potential_id == ""
    bad = admin_client.post(f"/crm/invoice/{invoice.pk}/deal/associate/", {"deal_id": "x1"}, follow=True)
    assert "x1&#x27; is not a Zoho CRM deal id" in _text(bad)


def test_trigger_made_association_cannot_be_dissociated_on_the_page(crm, admin_client, org):
    locked = transaction_create(
        organization=org,
        actor=None,
        kind=K.QUOTE,
        data=TransactionInput(contact_id=crm["customer"].pk, lines=[LineInput(name="Deal", rate="5")]),
        zcrm_potential_id=crm["deal"]["id"],
        zcrm_potential_name=crm["deal"]["Deal_Name"],
        potential_locked=True,
    )
    response = admin_client.post(f"/crm/quote/{locked.pk}/deal/dissociate/", follow=True)
    assert SEED_WARNING in _text(response)
    other = next(d for d in crm["all"] if d["id"] != crm["deal"]["id"])
    response = admin_client.post(f"/crm/quote/{locked.pk}/deal/associate/", {"deal_id": other["id"]}, follow=True)
    assert "created by a deal trigger" in _text(response)
    locked.refresh_from_db()
    assert locked.zcrm_potential_id == crm["deal"]["id"]


def test_expenses_search_deals_of_their_customer(crm, admin_client, org):
    expense = transaction_create(
        organization=org,
        actor=None,
        kind=K.EXPENSE,
        data=TransactionInput(account_name="Travel", amount="40", is_billable=True, customer_id=crm["customer"].pk),
    )
    body = _text(admin_client.get(f"/crm/deals/?kind=expense&mode=apply&txn={expense.pk}"))
    assert set(re.findall(r'data-deal-id="(\d+)"', body)) == {d["id"] for d in crm["deals"]}
    form = _text(admin_client.get(f"/expenses/{expense.pk}/edit/"))
    assert 'data-crm-params="customer_id=#id_customer_id;crm_deal=#crm-deal-token"' in form


def test_pane_access_tenancy_and_bad_input(crm, admin_client, accountant_client, integration_client, other_client, org):
    invoice = _invoice(org, crm["customer"])
    assert accountant_client.get(f"/crm/deals/?kind=invoice&txn={invoice.pk}").status_code == 200
    assert integration_client.get(f"/crm/deals/?kind=invoice&txn={invoice.pk}").status_code == 403
    assert integration_client.post(f"/crm/invoice/{invoice.pk}/deal/dissociate/").status_code == 403
    # Another organization's transaction is not found; nor is a kind that takes no deal.
    assert other_client.get(f"/crm/deals/?kind=invoice&txn={invoice.pk}").status_code == 404
    assert other_client.post(f"/crm/invoice/{invoice.pk}/deal/associate/", {"deal_id": "1"}).status_code == 404
    assert admin_client.get(f"/crm/deals/?kind=purchaseorder&txn={invoice.pk}").status_code == 404
    assert admin_client.get("/crm/deals/?kind=invoice&mode=apply").status_code == 404
    assert admin_client.get("/crm/deals/?kind=invoice&txn=abc").status_code == 404
    # Wrong input on the page: inline, 400.
    other_customer = Contact.objects.create(
        organization=crm["customer"].organization, contact_type="vendor", contact_name="A vendor"
    )
    response = admin_client.get(f"/crm/deals/?kind=invoice&customer_id={other_customer.pk}&q=x")
    assert response.status_code == 400
    body = _text(response)
    assert f"No customer with id {other_customer.pk} in this organization" in body
    assert "Enter at least 2 characters of a name" in body
    response = admin_client.post("/crm/deals/pick/", {"kind": "invoice", "op": "steal"}, follow=True)
    assert "Choose Associate or Dissociate" in _text(response)
    assert admin_client.get("/crm/deals/pick/").status_code == 405

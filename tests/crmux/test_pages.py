"""The accountant's CRM pages against the live sandbox: the search in Zoho CRM of a transaction form (as a page and
as the dialog's partial), "Fetch this contact / item from Zoho CRM" in the More menus; who may use them, other
organizations' ids, bad input inline."""

from __future__ import annotations

import json
import re

import pytest

from books.models import Contact, ContactType, Item
from crm_integration.services.connections import connection_pause
from sync.services.crm_actions import crm_contact_choose
from sync.services.records import item_import_from_crm
from tests.crmux.conftest import account_with_contacts, configure, crm_records
from tests.factories import CustomerFactory, ItemFactory

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return response.content.decode()


@pytest.fixture
def accounts(connected):
    configure(connected, "customers", crm_module_option="accounts_and_contacts")
    return connected


# --- Search Contacts in CRM ---------------------------------------------------------------------------------------


def test_search_page_without_javascript_imports_and_goes_back_to_the_form(accounts, sandbox, admin_client, org):
    account, contacts = account_with_contacts(sandbox)
    page = admin_client.get("/crm/contacts/search/?kind=invoice&next=/invoices/new/")
    assert page.status_code == 200
    assert "In Zoho CRM" in _text(page)
    results = admin_client.get(
        "/crm/contacts/search/", {"kind": "invoice", "q": account["Account_Name"], "next": "/invoices/new/"}
    )
    body = _text(results)
    assert f'data-crm-id="{account["id"]}"' in body
    assert all(f'data-crm-id="{c["id"]}"' in body for c in contacts)
    assert "hx-post" not in body
    response = admin_client.post(
        "/crm/contacts/select/",
        {"kind": "invoice", "crm_module": "Accounts", "crm_id": account["id"], "next": "/invoices/new/"},
    )
    customer = Contact.objects.get(organization=org, zcrm_account_id=account["id"])
    assert response.status_code == 302
    assert response["Location"] == f"/invoices/new/?customer_id={customer.pk}"
    form = _text(admin_client.get(response["Location"]))
    assert f'<option value="{customer.pk}" selected>' in form
    assert "is now the customer of this form" in form
    # Searched again, it is shown as already in Books.
    again = _text(admin_client.get("/crm/contacts/search/", {"kind": "invoice", "q": account["Account_Name"]}))
    assert "Already in Books" in again


def test_search_in_the_dialog_chooses_the_customer_of_the_form(accounts, sandbox, admin_client, org):
    account, _ = account_with_contacts(sandbox)
    partial = admin_client.get(
        "/crm/contacts/search/", {"kind": "quote", "q": account["Account_Name"]}, HTTP_HX_REQUEST="true"
    )
    body = _text(partial)
    assert "<html" not in body
    assert 'hx-post="/crm/contacts/select/"' in body
    response = admin_client.post(
        "/crm/contacts/select/",
        {"kind": "quote", "crm_module": "Accounts", "crm_id": account["id"]},
        HTTP_HX_REQUEST="true",
    )
    customer = Contact.objects.get(organization=org, zcrm_account_id=account["id"])
    event = json.loads(response["HX-Trigger"])["lb-crm-contact-chosen"]
    assert event == {"select": "id_contact_id", "id": customer.pk, "name": customer.contact_name}


def test_purchase_forms_search_vendors(connected, sandbox, admin_client, org):
    configure(connected, "vendors")
    vendor = crm_records(sandbox, "Vendors", ["Vendor_Name"])[0]
    expense_form = _text(admin_client.get("/expenses/new/"))
    assert "/crm/contacts/search/?kind=expense" in expense_form
    body = _text(admin_client.get("/crm/contacts/search/", {"kind": "purchaseorder", "q": vendor["Vendor_Name"]}))
    assert f'data-crm-id="{vendor["id"]}"' in body
    response = admin_client.post(
        "/crm/contacts/select/",
        {"kind": "expense", "crm_module": "Vendors", "crm_id": vendor["id"], "next": "/expenses/new/"},
    )
    created = Contact.objects.get(organization=org, zcrm_vendor_id=vendor["id"])
    assert created.contact_type == ContactType.VENDOR
    assert response["Location"] == f"/expenses/new/?vendor_id={created.pk}"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "a"}, "Enter at least 2 characters of a name"),
        ({"q": "x" * 150}, "At most 100 characters"),
    ],
)
def test_bad_search_input_is_inline(accounts, admin_client, params, message):
    response = admin_client.get("/crm/contacts/search/", {"kind": "invoice", **params})
    assert response.status_code == 400
    assert message in _text(response)
    htmx = admin_client.get("/crm/contacts/search/", {"kind": "invoice", **params}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 200  # htmx swaps only 2xx answers: the message must arrive
    assert message in _text(htmx)


def test_search_and_select_refusals(connected, admin_client, other_client, org):
    response = admin_client.get("/crm/contacts/search/", {"kind": "invoice", "q": "Zylker"})
    assert response.status_code == 400
    assert "Customers are not synced with Zoho CRM" in _text(response)
    response = other_client.get("/crm/contacts/search/", {"kind": "invoice", "q": "Zylker"})
    assert "Zoho CRM is not connected for this organization" in _text(response)
    assert admin_client.get("/crm/contacts/search/?kind=payment&q=ab").status_code == 404
    response = admin_client.post("/crm/contacts/select/", {"kind": "invoice", "crm_module": "Deals", "crm_id": "1"})
    assert response.status_code == 400
    assert "&#x27;Deals&#x27; is not one of Accounts, Contacts" in _text(response)
    response = admin_client.post("/crm/contacts/select/", {"kind": "invoice", "crm_module": "Accounts"})
    assert response.status_code == 400
    assert "is not a Zoho CRM record id" in _text(response)
    assert admin_client.get("/crm/contacts/select/").status_code == 405
    assert not Contact.objects.filter(organization=org).exists()


def test_select_of_an_unknown_crm_record_is_inline(accounts, admin_client, org):
    response = admin_client.post(
        "/crm/contacts/select/", {"kind": "invoice", "crm_module": "Accounts", "crm_id": "5725767000009999999"}
    )
    assert response.status_code == 400
    assert "There is no Accounts record 5725767000009999999 in Zoho CRM" in _text(response)


def test_only_books_users_search(accounts, integration_client, accountant_client):
    assert integration_client.get("/crm/contacts/search/?kind=invoice").status_code == 403
    assert integration_client.post("/crm/contacts/select/", {"kind": "invoice"}).status_code == 403
    assert accountant_client.get("/crm/contacts/search/?kind=invoice").status_code == 200


# --- Fetch this contact / item from Zoho CRM ------------------------------------------------------------------------


def test_fetch_this_contact_applies_the_crm_values(accounts, sandbox, admin_client, org, admin_user):
    account, _ = account_with_contacts(sandbox)
    customer = crm_contact_choose(
        organization=org, actor=admin_user, contact_type="customer", crm_module="Accounts", crm_id=account["id"]
    )
    unlinked = CustomerFactory(organization=org, contact_name="Walk-in")
    detail = _text(admin_client.get(f"/customers/{customer.pk}/"))
    assert "Fetch this contact from Zoho CRM" in detail
    assert "Fetch this contact from Zoho CRM" not in _text(admin_client.get(f"/customers/{unlinked.pk}/"))
    response = sandbox.api(
        "PUT", "Accounts", json={"data": [{"id": account["id"], "Billing_City": "Fetchville", "Phone": "+1 555 000"}]}
    )
    assert response.status_code == 200, response.text
    response = admin_client.post(f"/crm/contacts/{customer.pk}/fetch/", follow=True)
    assert f"{customer.contact_name} has been fetched from Zoho CRM." in _text(response)
    customer.refresh_from_db()
    assert customer.billing_city == "Fetchville"
    # Not linked: refused with the reason.
    response = admin_client.post(f"/crm/contacts/{unlinked.pk}/fetch/", follow=True)
    assert "Walk-in is not linked with Zoho CRM" in _text(response)


def test_fetch_is_refused_while_paused_and_reports_a_deleted_record(accounts, sandbox, admin_client, org, admin_user):
    account, _ = account_with_contacts(sandbox)
    customer = crm_contact_choose(
        organization=org, actor=admin_user, contact_type="customer", crm_module="Accounts", crm_id=account["id"]
    )
    sandbox.api("PUT", "Accounts", json={"data": [{"id": account["id"], "Billing_City": "Pausedtown"}]})
    connection_pause(connection=accounts, actor=admin_user)
    response = admin_client.post(f"/crm/contacts/{customer.pk}/fetch/", follow=True)
    assert "Sync with Zoho CRM is paused" in _text(response)
    customer.refresh_from_db()
    assert customer.billing_city != "Pausedtown"
    accounts.paused = False
    accounts.save(update_fields=["paused"])
    assert sandbox.api("DELETE", f"Accounts/{account['id']}").status_code == 200
    response = admin_client.post(f"/crm/contacts/{customer.pk}/fetch/", follow=True)
    assert "was deleted; the contact stays in Books" in _text(response)
    customer.refresh_from_db()
    assert Contact.objects.filter(pk=customer.pk).exists()
    assert customer.zcrm_account_id == ""


def test_fetch_this_item(connected, sandbox, admin_client, org, admin_user):
    configure(connected, "items")
    product = crm_records(sandbox, "Products", ["Product_Name", "Unit_Price"])[0]
    item = item_import_from_crm(organization=org, actor=admin_user, crm_id=product["id"])
    plain = ItemFactory(organization=org, name="Books-only item")
    assert "Fetch this item from Zoho CRM" in _text(admin_client.get(f"/items/{item.pk}/"))
    assert "Fetch this item from Zoho CRM" not in _text(admin_client.get(f"/items/{plain.pk}/"))
    # Changed in Books since; fetched, the CRM's values come back.
    Item.objects.filter(pk=item.pk).update(rate="1.00")
    response = admin_client.post(f"/crm/items/{item.pk}/fetch/", follow=True)
    assert f"{item.name} has been fetched from Zoho CRM." in _text(response)
    item.refresh_from_db()
    assert str(item.rate) == f"{product['Unit_Price']:.2f}"
    response = admin_client.post(f"/crm/items/{plain.pk}/fetch/", follow=True)
    assert "Books-only item is not linked with Zoho CRM" in _text(response)


def test_fetch_access_and_tenancy(accounts, admin_client, other_client, integration_client, org):
    customer = CustomerFactory(organization=org, zcrm_account_id="5725767000000000001")
    item = ItemFactory(organization=org)
    assert other_client.post(f"/crm/contacts/{customer.pk}/fetch/").status_code == 404
    assert other_client.post(f"/crm/items/{item.pk}/fetch/").status_code == 404
    assert integration_client.post(f"/crm/contacts/{customer.pk}/fetch/").status_code == 403
    assert admin_client.get(f"/crm/contacts/{customer.pk}/fetch/").status_code == 405
    assert admin_client.post("/crm/contacts/999999/fetch/").status_code == 404


def test_menus_need_a_working_connection(org, admin_client):
    customer = CustomerFactory(organization=org, zcrm_account_id="5725767000000000001")
    assert "Fetch this contact" not in _text(admin_client.get(f"/customers/{customer.pk}/"))
    assert not re.search(r"crm-contact-search", _text(admin_client.get("/invoices/new/")))
    # Posted anyway (an old page): refused with the reason.
    response = admin_client.post(f"/crm/contacts/{customer.pk}/fetch/", follow=True)
    assert "Zoho CRM is not connected for this organization" in _text(response)
    item = ItemFactory(organization=org, zcrm_product_id="5725767000000000002")
    response = admin_client.post(f"/crm/items/{item.pk}/fetch/", follow=True)
    assert "Zoho CRM is not connected for this organization" in _text(response)

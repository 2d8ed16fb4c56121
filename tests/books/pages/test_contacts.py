"""Customers and vendors pages: lists (filters, search, sort, bulk update, empty states), detail pages, forms
with inline errors and typed custom fields, contact persons."""

from __future__ import annotations

from decimal import Decimal

import pytest

from books.models import Contact, ContactPerson, TransactionKind, TransactionStatus
from books.services.contacts import contact_person_create
from books.services.custom_fields import custom_field_create
from books.services.transactions import transaction_set_status
from tests.books.pages.conftest import make_txn
from tests.factories import CustomerFactory, VendorFactory

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return response.content.decode()


# --- list ---------------------------------------------------------------------------------------------------------


def test_empty_states(admin_client):
    assert "Create your first customer" in _text(admin_client.get("/customers/"))
    assert "Create your first vendor" in _text(admin_client.get("/vendors/"))
    CustomerFactory(organization=admin_client.get("/").context["organization"], contact_name="Zed")
    body = _text(admin_client.get("/customers/?q=nothing-like-this"))
    assert "No customers found" in body
    assert "matches “nothing-like-this”" in body


def test_filters_use_the_seed_labels_and_filter(admin_client, org):
    CustomerFactory(organization=org, contact_name="Synced Account", zcrm_account_id="80649000000056001")
    CustomerFactory(organization=org, contact_name="Dormant Ltd", status="inactive")
    CustomerFactory(organization=org, contact_name="Plain Co")
    body = _text(admin_client.get("/customers/"))
    for label in ("All Customers", "Active Customers", "Inactive Customers", "CRM Customers"):
        assert label in body
    crm = _text(admin_client.get("/customers/?filter=crm"))
    assert "Synced Account" in crm
    assert "Plain Co" not in crm
    inactive = _text(admin_client.get("/customers/?filter=inactive"))
    assert "Dormant Ltd" in inactive
    assert "Synced Account" not in inactive
    active = _text(admin_client.get("/customers/?filter=active"))
    assert "Dormant Ltd" not in active
    assert "CRM Vendors" in _text(admin_client.get("/vendors/"))


def test_search_sort_and_pagination(admin_client, org):
    for n in range(30):
        CustomerFactory(organization=org, contact_name=f"Name {n:02d}", email=f"n{n}@x.test")
    body = _text(admin_client.get("/customers/?q=n7@x"))
    assert "Name 07" in body
    assert "Name 08" not in body
    first_page = _text(admin_client.get("/customers/?sort=-name"))
    assert first_page.index("Name 29") < first_page.index("Name 28")
    assert "Name 00" not in first_page  # on page 2
    second = _text(admin_client.get("/customers/?sort=-name&page=2"))
    assert "Name 00" in second
    assert "26–30 of 30" in second
    # A page past the end shows the last one; a bad page number the first; an unknown sort the default.
    assert "26–30 of 30" in _text(admin_client.get("/customers/?page=99"))
    assert "1–25 of 30" in _text(admin_client.get("/customers/?page=abc&sort=bogus&per_page=7"))


def test_htmx_list_request_gets_the_list_partial(hx_client, customer):
    response = hx_client.get("/customers/?q=Bowman", HTTP_HX_TARGET="list")
    body = _text(response)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="list"')
    assert "<html" not in body
    assert "Bowman and Co" in body
    # A history restore needs the whole page.
    full = _text(hx_client.get("/customers/", HTTP_HX_HISTORY_RESTORE_REQUEST="true"))
    assert "<html" in full


def test_receivables_column(admin_client, org, customer):
    invoice = make_txn(org, TransactionKind.INVOICE, customer)
    transaction_set_status(txn=invoice, actor=None, status=TransactionStatus.SENT)
    body = _text(admin_client.get("/customers/"))
    assert "USD 300.00" in body


def test_receivables_on_a_late_page_belong_to_their_rows(admin_client, org):
    customers = [CustomerFactory(organization=org, contact_name=f"Row {n:02d}") for n in range(30)]
    invoice = make_txn(org, TransactionKind.INVOICE, customers[27])
    transaction_set_status(txn=invoice, actor=None, status=TransactionStatus.SENT)
    page = admin_client.get("/customers/?page=2").context["page"]
    rows = [(c.contact_name, c.outstanding_receivables) for c in page.object_list]
    assert [name for name, _ in rows] == [f"Row {n:02d}" for n in range(25, 30)]
    assert dict(rows)["Row 27"] == Decimal("300.00")
    assert {amount for name, amount in rows if name != "Row 27"} == {Decimal("0.00")}


def test_bulk_update_selected_rows(admin_client, org):
    a, b, c = (CustomerFactory(organization=org) for _ in range(3))
    response = admin_client.post(
        "/customers/bulk/", {"status": "inactive", "ids": [a.pk, b.pk], "next": "/customers/?filter=active"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/customers/?filter=active"
    assert {x.status for x in Contact.objects.filter(pk__in=[a.pk, b.pk])} == {"inactive"}
    assert Contact.objects.get(pk=c.pk).status == "active"
    messages = _text(admin_client.get("/customers/"))
    assert "2 customers marked as inactive." in messages


def test_bulk_update_all_matching_the_filter(admin_client, org):
    linked = [CustomerFactory(organization=org, zcrm_account_id=str(n)) for n in range(30)]
    plain = CustomerFactory(organization=org)
    admin_client.post("/customers/bulk/", {"status": "inactive", "select_all_matching": "1", "filter": "crm"})
    assert Contact.objects.filter(pk__in=[x.pk for x in linked], status="inactive").count() == 30
    assert Contact.objects.get(pk=plain.pk).status == "active"


def test_bulk_update_without_selection_or_action(admin_client, customer):
    response = admin_client.post("/customers/bulk/", {"status": "inactive"}, follow=True)
    assert "Select at least one customer." in _text(response)
    response = admin_client.post("/customers/bulk/", {"status": "deleted", "ids": [customer.pk]}, follow=True)
    assert "Choose Mark as Active or Mark as Inactive." in _text(response)
    response = admin_client.post("/customers/bulk/", {"status": "inactive", "ids": ["x", ""]}, follow=True)
    assert "Select at least one customer." in _text(response)
    customer.refresh_from_db()
    assert customer.status == "active"
    # An outside `next` is ignored.
    response = admin_client.post("/customers/bulk/", {"status": "active", "ids": [customer.pk], "next": "https://evil"})
    assert response["Location"] == "/customers/"


# --- forms --------------------------------------------------------------------------------------------------------


@pytest.fixture
def customer_fields(org):
    return {
        "tier": custom_field_create(
            organization=org,
            actor=None,
            entity="customer",
            label="Tier",
            data_type="picklist",
            options=["Gold", "Silver"],
        ),
        "seats": custom_field_create(
            organization=org, actor=None, entity="customer", label="Seats", data_type="number"
        ),
        "since": custom_field_create(organization=org, actor=None, entity="customer", label="Since", data_type="date"),
        "vip": custom_field_create(organization=org, actor=None, entity="customer", label="VIP", data_type="checkbox"),
        "limit": custom_field_create(
            organization=org, actor=None, entity="customer", label="Limit", data_type="decimal"
        ),
    }


def test_new_customer_form_renders_custom_fields_as_typed_inputs(admin_client, customer_fields):
    body = _text(admin_client.get("/customers/new/"))
    for label in ("Display Name", "Company Name", "Email Address", "Work Phone", "Customer Type", "Billing Address"):
        assert label in body
    assert 'type="number" name="cf_seats"' in body
    assert 'type="date" name="cf_since"' in body
    assert 'type="checkbox" name="cf_vip"' in body
    assert '<select name="cf_tier"' in body
    assert '<option value="Gold">Gold</option>' in body


def test_create_customer(admin_client, org, customer_fields):
    response = admin_client.post(
        "/customers/new/",
        {
            "customer_sub_type": "individual",
            "first_name": "Will",
            "last_name": "Smith",
            "contact_name": "",
            "email": "will@smith.test",
            "payment_terms": "30",
            "billing_city": "Austin",
            "cf_tier": "Gold",
            "cf_seats": "12",
            "cf_since": "2025-03-01",
            "cf_vip": "on",
            "cf_limit": "1500.50",
        },
    )
    assert response.status_code == 302
    contact = Contact.objects.get(organization=org, email="will@smith.test")
    assert response["Location"] == f"/customers/{contact.pk}/"
    assert contact.contact_name == "Will Smith"  # derived by the service
    assert contact.customer_sub_type == "individual"
    assert contact.payment_terms == 30
    assert contact.billing_city == "Austin"
    assert contact.currency_code == "USD"
    assert contact.custom_fields == {
        "cf_tier": "Gold",
        "cf_seats": 12,
        "cf_since": "2025-03-01",
        "cf_vip": True,
        "cf_limit": "1500.50",
    }
    detail = _text(admin_client.get(response["Location"]))
    assert "The customer Will Smith has been created." in detail
    assert "Gold" in detail
    assert "Net 30" in detail


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, "contact_name", "The display name is required"),
        ({"contact_name": "X", "email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"contact_name": "X", "currency_code": "U$"}, "currency_code", "Must be a 3-letter ISO 4217 code such as USD"),
        ({"contact_name": "X", "cf_seats": "many"}, "cf_seats", "Enter a whole number."),
        ({"contact_name": "X", "cf_tier": "Platinum"}, "cf_tier", "Select a valid choice."),
        ({"contact_name": "X", "cf_since": "yesterday"}, "cf_since", "Enter a valid date."),
        ({"contact_name": "X" * 201}, "contact_name", "Ensure this value has at most 200 characters"),
        ({"contact_name": "X", "payment_terms": "-5"}, "payment_terms", "Select a valid choice."),
        ({"contact_name": "X", "customer_sub_type": "robot"}, "customer_sub_type", "Select a valid choice."),
    ],
)
def test_customer_form_errors_are_inline(admin_client, org, customer_fields, data, field, message):
    response = admin_client.post("/customers/new/", {"customer_sub_type": "business", **data})
    assert response.status_code == 400
    form = response.context["form"]
    assert any(message in e for e in form.errors[field]), form.errors
    assert message in _text(response) or message.replace("'", "&#x27;") in _text(response)
    assert not Contact.objects.filter(organization=org).exists()


def test_edit_customer_and_clear_a_custom_field(admin_client, org, customer, customer_fields):
    customer.custom_fields = {"cf_tier": "Silver", "cf_seats": 3}
    customer.save()
    form = _text(admin_client.get(f"/customers/{customer.pk}/edit/"))
    assert 'value="Bowman and Co"' in form
    assert '<option value="Silver" selected>' in form
    response = admin_client.post(
        f"/customers/{customer.pk}/edit/",
        {"customer_sub_type": "business", "contact_name": "Bowman & Sons", "cf_tier": "Gold", "cf_seats": ""},
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.contact_name == "Bowman & Sons"
    assert customer.custom_fields == {"cf_tier": "Gold", "cf_vip": False}  # an unticked checkbox is a value


def test_vendor_form_has_no_customer_type(admin_client, org):
    assert "Customer Type" not in _text(admin_client.get("/vendors/new/"))
    response = admin_client.post("/vendors/new/", {"company_name": "Paper Co"})
    assert response.status_code == 302
    vendor = Contact.objects.get(organization=org, contact_type="vendor")
    assert vendor.contact_name == "Paper Co"
    assert "The vendor Paper Co has been created." in _text(admin_client.get(response["Location"]))


# --- detail -------------------------------------------------------------------------------------------------------


def test_customer_detail(admin_client, org, customer, person, customer_fields):
    customer.custom_fields = {"cf_vip": True}
    customer.save()
    sent = make_txn(org, TransactionKind.INVOICE, customer)
    transaction_set_status(txn=sent, actor=None, status=TransactionStatus.SENT)
    paid = make_txn(org, TransactionKind.INVOICE, customer)
    transaction_set_status(txn=paid, actor=None, status=TransactionStatus.SENT)
    transaction_set_status(txn=paid, actor=None, status=TransactionStatus.PAID)
    quote = make_txn(org, TransactionKind.QUOTE, customer)
    response = admin_client.get(f"/customers/{customer.pk}/")
    body = _text(response)
    assert response.context["financials"].outstanding_receivables == Decimal("300.00")
    assert response.context["financials"].total_sales == Decimal("600.00")
    assert "Outstanding Receivables" in body
    assert "USD 300.00" in body
    assert "USD 600.00" in body
    assert "Will Smith" in body
    assert "Primary" in body
    for number in (sent.number, paid.number, quote.number):
        assert number in body
    assert "VIP" in body
    assert "Yes" in body
    assert ">More</summary>" in body
    assert "New Invoice" in body


def test_vendor_detail_lists_purchase_orders_and_expenses(admin_client, org, vendor):
    po = make_txn(org, TransactionKind.PURCHASE_ORDER, vendor)
    expense = make_txn(org, TransactionKind.EXPENSE, vendor)
    response = admin_client.get(f"/vendors/{vendor.pk}/")
    body = _text(response)
    assert po.number in body
    assert expense.number in body
    assert response.context["financials"] is None
    assert "New Purchase Order" in body


def test_mark_inactive_and_active(admin_client, customer):
    response = admin_client.post(f"/customers/{customer.pk}/status/inactive/", follow=True)
    assert "Bowman and Co has been marked as inactive." in _text(response)
    customer.refresh_from_db()
    assert customer.status == "inactive"
    response = admin_client.post(f"/customers/{customer.pk}/status/sleeping/", follow=True)
    assert "is not one of active, inactive" in _text(response)
    admin_client.post(f"/customers/{customer.pk}/status/active/")
    customer.refresh_from_db()
    assert customer.status == "active"
    assert admin_client.get(f"/customers/{customer.pk}/status/active/").status_code == 405


def test_delete_customer_asks_first(admin_client, org, customer):
    confirm = admin_client.get(f"/customers/{customer.pk}/delete/")
    assert "Delete customer Bowman and Co?" in _text(confirm)
    assert Contact.objects.filter(pk=customer.pk).exists()
    response = admin_client.post(f"/customers/{customer.pk}/delete/", follow=True)
    assert "The customer Bowman and Co has been deleted." in _text(response)
    assert not Contact.objects.filter(pk=customer.pk).exists()


def test_customer_with_transactions_cannot_be_deleted(admin_client, org, customer, invoice):
    response = admin_client.post(f"/customers/{customer.pk}/delete/", follow=True)
    assert "has transactions and cannot be deleted; mark it inactive instead" in _text(response)
    assert Contact.objects.filter(pk=customer.pk).exists()


def test_customer_billed_on_an_expense_cannot_be_deleted(admin_client, org, customer, vendor):
    make_txn(org, TransactionKind.EXPENSE, vendor, is_billable=True, customer_id=customer.pk)
    response = admin_client.post(f"/customers/{customer.pk}/delete/", follow=True)
    assert response.status_code == 200
    assert "cannot be deleted" in _text(response)
    assert Contact.objects.filter(pk=customer.pk).exists()


# --- contact persons ----------------------------------------------------------------------------------------------


def test_add_edit_primary_and_delete_contact_persons(admin_client, customer):
    base = f"/customers/{customer.pk}/contactpersons"
    response = admin_client.post(f"{base}/new/", {"first_name": "Ann", "last_name": "Lee", "email": "ann@x.test"})
    assert response.status_code == 302
    ann = ContactPerson.objects.get(contact=customer, last_name="Lee")
    assert ann.is_primary_contact  # the first one is primary
    admin_client.post(f"{base}/new/", {"first_name": "Bo", "last_name": "Chen", "is_primary_contact": "on"})
    bo = ContactPerson.objects.get(contact=customer, last_name="Chen")
    ann.refresh_from_db()
    assert bo.is_primary_contact
    assert not ann.is_primary_contact
    response = admin_client.post(f"{base}/{ann.pk}/primary/", follow=True)
    assert "Ann Lee is now the primary contact person." in _text(response)
    bo.refresh_from_db()
    assert not bo.is_primary_contact
    form = _text(admin_client.get(f"{base}/{bo.pk}/edit/"))
    assert 'value="Chen"' in form
    admin_client.post(f"{base}/{bo.pk}/edit/", {"first_name": "Bo", "last_name": "Chen", "designation": "CFO"})
    bo.refresh_from_db()
    assert bo.designation == "CFO"
    assert "Delete the contact person Ann Lee?" in _text(admin_client.get(f"{base}/{ann.pk}/delete/"))
    response = admin_client.post(f"{base}/{ann.pk}/delete/", follow=True)
    assert "The contact person Ann Lee has been deleted." in _text(response)
    bo.refresh_from_db()
    assert bo.is_primary_contact  # deleting the primary promotes the next one


def test_contact_person_errors_are_inline(admin_client, customer):
    response = admin_client.post(f"/customers/{customer.pk}/contactpersons/new/", {"email": "bad"})
    assert response.status_code == 400
    assert "Enter a valid email address." in _text(response)
    response = admin_client.post(f"/customers/{customer.pk}/contactpersons/new/", {"email": ""})
    assert response.status_code == 400
    assert response.context["form"].errors["last_name"] == ["A contact person needs a name"]
    assert not ContactPerson.objects.filter(contact=customer).exists()


def test_vendor_contact_persons(admin_client, vendor):
    response = admin_client.post(f"/vendors/{vendor.pk}/contactpersons/new/", {"last_name": "Buyer"})
    assert response["Location"] == f"/vendors/{vendor.pk}/"
    person = ContactPerson.objects.get(contact=vendor)
    assert person.last_name == "Buyer"
    assert "Buyer" in _text(admin_client.get(f"/vendors/{vendor.pk}/"))
    contact_person_create(contact=vendor, actor=None, data={"last_name": "Second"})
    assert VendorFactory._meta.model.objects.get(pk=vendor.pk).contact_persons.count() == 2

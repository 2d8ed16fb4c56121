"""Estimates, sales orders, invoices, purchase orders and expenses through the API."""

from __future__ import annotations

from decimal import Decimal

import pytest

from books.models import CustomFieldEntity, QuoteConversion, Transaction, TransactionKind, TransactionStatus
from books.services.custom_fields import custom_field_create
from books.services.transactions import LineInput, TransactionInput, transaction_create, transaction_set_status
from tests.api.conftest import assert_error, url
from tests.factories import CustomerFactory, ItemFactory

pytestmark = pytest.mark.django_db
K = TransactionKind
S = TransactionStatus

# resource -> (kind, id key, number key, contact key, due key, created message)
RESOURCES = {
    "estimates": (
        K.QUOTE,
        "estimate",
        "estimate_number",
        "customer_id",
        "expiry_date",
        "The estimate has been created",
    ),
    "salesorders": (
        K.SALES_ORDER,
        "salesorder",
        "salesorder_number",
        "customer_id",
        "shipment_date",
        "Sales Order has been created.",
    ),
    "invoices": (K.INVOICE, "invoice", "invoice_number", "customer_id", "due_date", "The invoice has been created."),
    "purchaseorders": (
        K.PURCHASE_ORDER,
        "purchaseorder",
        "purchaseorder_number",
        "vendor_id",
        "delivery_date",
        "Purchase Order has been created.",
    ),
}


def _make(org, kind, contact, **kwargs):
    return transaction_create(
        organization=org,
        actor=None,
        kind=kind,
        data=TransactionInput(contact_id=contact.pk, lines=[LineInput(name="Work", rate="100")], **kwargs),
    )


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_create_get_update_delete(api, org, customer, vendor, item, resource):
    kind, singular, number_key, contact_key, due_key, created = RESOURCES[resource]
    contact = vendor if contact_key == "vendor_id" else customer
    body = {
        contact_key: str(contact.pk),
        "date": "2026-03-01",
        due_key: "2026-03-31",
        "reference_number": "REF-1",
        "notes": "Thanks",
        "line_items": [
            {"item_id": str(item.pk), "quantity": 2, "rate": 120, "tax_percentage": 7.5},
            {"name": "Setup", "description": "On site", "rate": "19.995"},
        ],
    }
    if resource != "purchaseorders":
        body |= {"zcrm_potential_id": "460000000033001", "zcrm_potential_name": "Bowman deal"}
    response = api.post(url(api, resource), body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["message"] == created
    doc = response.json()[singular]
    saved = Transaction.objects.get(organization=org, kind=kind)
    assert doc[f"{singular}_id"] == str(saved.pk)
    assert doc[number_key] == saved.number
    assert doc[contact_key] == str(contact.pk)
    assert doc["date"] == "2026-03-01"
    assert doc[due_key] == "2026-03-31"
    assert doc["status"] == "draft"
    # 2 x 120 = 240 + 7.5% tax (18) ; 19.995 -> 20.00
    assert doc["sub_total"] == 260
    assert doc["tax_total"] == 18
    assert doc["total"] == 278
    assert [line["item_total"] for line in doc["line_items"]] == [240, 20]
    assert doc["line_items"][0]["name"] == "Hard Drive"
    assert doc["line_items"][0]["item_id"] == str(item.pk)
    if resource != "purchaseorders":
        assert doc["zcrm_potential_id"] == "460000000033001"
        assert doc["zcrm_potential_name"] == "Bowman deal"
        assert saved.zcrm_potential_id == "460000000033001"

    got = api.get(url(api, f"{resource}/{saved.pk}")).json()[singular]
    assert got == doc

    response = api.put(url(api, f"{resource}/{saved.pk}"), {"notes": "Updated", due_key: None}, format="json")
    assert response.status_code == 200, response.content
    saved.refresh_from_db()
    assert saved.notes == "Updated"
    assert saved.due_date is None
    assert saved.lines.count() == 2  # lines not sent are kept
    assert saved.total == Decimal("278.00")

    response = api.put(url(api, f"{resource}/{saved.pk}"), {"line_items": [{"name": "Only", "rate": 5}]}, format="json")
    saved.refresh_from_db()
    assert saved.total == Decimal("5.00")
    assert response.json()[singular]["line_items"][0]["name"] == "Only"

    response = api.delete(url(api, f"{resource}/{saved.pk}"))
    assert response.status_code == 200, response.content
    assert response.json()["code"] == 0
    assert not Transaction.objects.filter(pk=saved.pk).exists()


@pytest.mark.parametrize("resource", list(RESOURCES))
@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"line_items": []}, "line_items"),
        ({"line_items": {"name": "x"}}, "line_items"),
        ({"line_items": "x"}, "line_items"),
        ({"line_items": [{"name": "x", "rate": "abc"}]}, "line_items[0].rate"),
        ({"line_items": [{"name": "x", "rate": -5}]}, "line_items[0].rate"),
        ({"line_items": [{"name": "x", "rate": 1, "quantity": 0}]}, "line_items[0].quantity"),
        ({"line_items": [{"name": "x", "rate": 1, "quantity": "1.2345"}]}, "line_items[0].quantity"),
        ({"line_items": [{"name": "x", "rate": 1, "tax_percentage": 101}]}, "line_items[0].tax_percentage"),
        ({"line_items": [{"rate": 1}]}, "line_items[0].name"),
        ({"line_items": [{"item_id": "999999"}]}, "line_items[0].item_id"),
        ({"line_items": [{"item_id": "abc"}]}, "line_items[0].item_id"),
        ({"line_items": [{"item_id": {"id": 1}}]}, "line_items[0].item_id"),
        ({"line_items": ["x"]}, "line_items[0]"),
        ({"date": "31/12/2026"}, "date"),
        ({"date": 20260101}, "date"),
        ({"date": "2026-02-30"}, "date"),
        ({"reference_number": "r" * 101}, "reference_number"),
        ({"currency_code": "DOLLARS"}, "currency_code"),
        ({"custom_fields": [{"api_name": "cf_missing", "value": 1}]}, "custom_fields[0].api_name"),
    ],
)
def test_bad_transaction_bodies_are_400_naming_the_field(api, customer, vendor, resource, patch, field):
    _, _, _, contact_key, _, _ = RESOURCES[resource]
    contact = vendor if contact_key == "vendor_id" else customer
    body = {contact_key: contact.pk, "line_items": [{"name": "ok", "rate": 1}], **patch}
    assert_error(api.post(url(api, resource), body, format="json"), 400, field=field)
    assert Transaction.objects.count() == 0


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_contact_is_required_and_must_exist_and_be_of_the_right_type(api, customer, vendor, resource):
    _, _, _, contact_key, _, _ = RESOURCES[resource]
    line = [{"name": "ok", "rate": 1}]
    assert_error(api.post(url(api, resource), {"line_items": line}, format="json"), 400, field=contact_key)
    assert_error(
        api.post(url(api, resource), {contact_key: "999999", "line_items": line}, format="json"), 404, field=contact_key
    )
    assert_error(
        api.post(url(api, resource), {contact_key: "x1", "line_items": line}, format="json"), 400, field=contact_key
    )
    wrong = customer if contact_key == "vendor_id" else vendor
    assert_error(
        api.post(url(api, resource), {contact_key: wrong.pk, "line_items": line}, format="json"), 404, field=contact_key
    )
    assert Transaction.objects.count() == 0


def test_custom_fields_on_transactions(api, org, customer):
    custom_field_create(organization=org, actor=None, entity=CustomFieldEntity.QUOTE, label="PO Ref", data_type="text")
    custom_field_create(
        organization=org, actor=None, entity=CustomFieldEntity.QUOTE, label="Margin", data_type="decimal"
    )
    body = {
        "customer_id": customer.pk,
        "line_items": [{"name": "x", "rate": 1}],
        "custom_fields": [{"index": 1, "value": "PO-7"}, {"api_name": "cf_margin", "value": "12.50"}],
    }
    response = api.post(url(api, "estimates"), body, format="json")
    assert response.status_code == 201, response.content
    estimate = response.json()["estimate"]
    assert estimate["custom_field_hash"]["cf_po_ref"] == "PO-7"
    assert estimate["custom_field_hash"]["cf_margin_unformatted"] == 12.5
    assert '"cf_margin_unformatted":12.50' in response.content.decode()


def test_custom_number_and_duplicates(api, org, customer):
    body = {"customer_id": customer.pk, "line_items": [{"name": "x", "rate": 1}], "invoice_number": "INV-CUSTOM-1"}
    response = api.post(url(api, "invoices"), body, format="json")
    assert response.json()["invoice"]["invoice_number"] == "INV-CUSTOM-1"
    assert_error(api.post(url(api, "invoices"), body, format="json"), 409, code=1003, field="number")
    invoice_id = response.json()["invoice"]["invoice_id"]
    response = api.put(url(api, f"invoices/{invoice_id}"), {"invoice_number": "INV-2"}, format="json")
    assert_error(response, 400, field="invoice_number")


# --- status changes ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "path", "expected_status", "message"),
    [
        ("estimates", "sent", S.SENT, "Estimate status has been changed to Sent"),
        ("estimates", "accepted", S.ACCEPTED, "Estimate status has been changed to Accepted."),
        ("estimates", "declined", S.DECLINED, "Estimate status has been changed to Declined."),
        ("invoices", "sent", S.SENT, "Invoice status has been changed to Sent."),
        ("invoices", "void", S.VOID, "Invoice status has been changed to Void."),
        ("salesorders", "open", S.OPEN, "Sales order status has been changed to Open."),
        ("salesorders", "void", S.VOID, "Sales order status has been changed to Void."),
        ("purchaseorders", "open", S.OPEN, "Purchase order status has been changed to Open."),
        ("purchaseorders", "cancelled", S.CANCELLED, "Purchase order status has been changed to Cancelled."),
    ],
)
def test_status_changes_from_draft(api, org, customer, vendor, resource, path, expected_status, message):
    kind, *_ = RESOURCES[resource]
    txn = _make(org, kind, vendor if resource == "purchaseorders" else customer)
    response = api.post(url(api, f"{resource}/{txn.pk}/status/{path}"))
    assert response.json() == {"code": 0, "message": message}
    txn.refresh_from_db()
    assert txn.status == expected_status


def test_status_paths_that_need_an_earlier_step(api, org, customer, vendor):
    invoice = _make(org, K.INVOICE, customer)
    assert_error(api.post(url(api, f"invoices/{invoice.pk}/status/paid")), 409, code=1003, field="status")
    api.post(url(api, f"invoices/{invoice.pk}/status/sent"))
    assert api.post(url(api, f"invoices/{invoice.pk}/status/paid")).json()["message"] == (
        "Invoice status has been changed to Paid."
    )
    invoice.refresh_from_db()
    assert invoice.status == S.PAID
    assert_error(api.post(url(api, f"invoices/{invoice.pk}/status/void")), 409, field="status")

    voided = _make(org, K.INVOICE, customer)
    api.post(url(api, f"invoices/{voided.pk}/status/void"))
    response = api.post(url(api, f"invoices/{voided.pk}/status/draft"))
    assert response.json()["message"] == "Status of invoice changed from void to draft"
    voided.refresh_from_db()
    assert voided.status == S.DRAFT

    po = _make(org, K.PURCHASE_ORDER, vendor)
    assert_error(api.post(url(api, f"purchaseorders/{po.pk}/status/billed")), 409, field="status")
    api.post(url(api, f"purchaseorders/{po.pk}/status/open"))
    api.post(url(api, f"purchaseorders/{po.pk}/status/billed"))
    po.refresh_from_db()
    assert po.status == S.BILLED


@pytest.mark.parametrize(
    ("resource", "state"),
    [
        ("estimates", "void"),
        ("invoices", "accepted"),
        ("salesorders", "billed"),
        ("purchaseorders", "paid"),
        ("estimates", "x" * 300),
    ],
)
def test_unknown_status_is_400(api, org, customer, vendor, resource, state):
    kind, *_ = RESOURCES[resource]
    txn = _make(org, kind, vendor if resource == "purchaseorders" else customer)
    assert_error(api.post(url(api, f"{resource}/{txn.pk}/status/{state}")), 400, field="status")
    txn.refresh_from_db()
    assert txn.status == S.DRAFT


def test_expenses_have_no_status_endpoint(api, org):
    response = api.post(url(api, "expenses/1/status/paid"))
    assert_error(response, 404, code=5)


def test_accepting_applies_the_quote_conversion_preference(api, org, customer):
    org.quote_conversion = QuoteConversion.DRAFT
    org.save()
    quote = _make(org, K.QUOTE, customer)
    api.post(url(api, f"estimates/{quote.pk}/status/accepted"))
    quote.refresh_from_db()
    assert quote.status == S.INVOICED
    assert Transaction.objects.filter(kind=K.INVOICE, converted_from=quote).count() == 1


# --- invoice from estimate ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["invoiced_estimate_id", "estimate_id"])
def test_invoice_from_estimate(api, org, customer, key):
    quote = _make(org, K.QUOTE, customer, salesperson_name="Will")
    Transaction.objects.filter(pk=quote.pk).update(zcrm_potential_id="D1")
    response = api.post(url(api, "invoices"), {key: str(quote.pk), "due_date": "2099-01-01"}, format="json")
    assert response.status_code == 201, response.content
    invoice = response.json()["invoice"]
    assert invoice["invoiced_estimate_id"] == str(quote.pk)
    assert invoice["customer_id"] == str(customer.pk)
    assert invoice["total"] == 100
    assert invoice["salesperson_name"] == "Will"
    assert invoice["zcrm_potential_id"] == "D1"
    assert invoice["due_date"] == "2099-01-01"
    assert invoice["reference_number"] == quote.number
    quote.refresh_from_db()
    assert quote.status == S.INVOICED
    # a second invoice of the same estimate is refused, not made
    assert_error(api.post(url(api, "invoices"), {key: str(quote.pk)}, format="json"), 409, field=key)
    assert Transaction.objects.filter(kind=K.INVOICE).count() == 1


def test_invoice_from_estimate_errors(api, org, customer):
    quote = _make(org, K.QUOTE, customer)
    other_quote = _make(org, K.QUOTE, customer)
    invoice = _make(org, K.INVOICE, customer)
    stranger = CustomerFactory(organization=org)
    assert_error(api.post(url(api, "invoices"), {"estimate_id": "999999"}, format="json"), 404, field="estimate_id")
    assert_error(
        api.post(url(api, "invoices"), {"invoiced_estimate_id": str(invoice.pk)}, format="json"),
        404,
        field="invoiced_estimate_id",
    )
    assert_error(
        api.post(
            url(api, "invoices"), {"estimate_id": quote.pk, "invoiced_estimate_id": other_quote.pk}, format="json"
        ),
        400,
        field="estimate_id",
    )
    assert_error(
        api.post(url(api, "invoices"), {"estimate_id": quote.pk, "customer_id": stranger.pk}, format="json"),
        400,
        field="customer_id",
    )
    transaction_set_status(txn=quote, actor=None, status=S.DECLINED)
    assert_error(api.post(url(api, "invoices"), {"estimate_id": quote.pk}, format="json"), 409, field="estimate_id")
    assert Transaction.objects.filter(kind=K.INVOICE).count() == 1


# --- lists -------------------------------------------------------------------------------------------------------


def test_transaction_list_filters(api, org, customer):
    other = CustomerFactory(organization=org, contact_name="Zeta")
    a = _make(org, K.INVOICE, customer, reference_number="ALPHA")
    b = _make(org, K.INVOICE, other)
    transaction_set_status(txn=b, actor=None, status=S.SENT)
    Transaction.objects.filter(pk=b.pk).update(zcrm_potential_id="DEAL-9")

    def ids(**params):
        response = api.get(url(api, "invoices", **params))
        assert response.status_code == 200, response.content
        return [row["invoice_id"] for row in response.json()["invoices"]]

    assert set(ids()) == {str(a.pk), str(b.pk)}
    assert ids(filter_by="Status.Sent") == [str(b.pk)]
    assert ids(filter_by="Status.Unpaid") == [str(b.pk)]
    assert ids(filter_by="Status.Draft") == [str(a.pk)]
    assert ids(customer_id=other.pk) == [str(b.pk)]
    assert ids(zcrm_potential_id="DEAL-9") == [str(b.pk)]
    assert ids(search_text="alpha") == [str(a.pk)]
    assert ids(search_text="zeta") == [str(b.pk)]
    assert ids(sort_column="customer_name", sort_order="A") == [str(a.pk), str(b.pk)]
    assert ids(sort_column="invoice_number", sort_order="D") == [str(b.pk), str(a.pk)]
    assert ids(customer_id="999999") == []
    body = api.get(url(api, "invoices")).json()
    assert "line_items" not in body["invoices"][0]  # list rows are summaries, as in Zoho
    assert body["page_context"]["report_name"] == "Invoices"
    assert body["page_context"]["sort_order"] == "D"
    assert_error(api.get(url(api, "invoices", filter_by="Status.Accepted")), 400, field="filter_by")
    assert_error(api.get(url(api, "invoices", customer_id="abc")), 400, field="customer_id")
    assert_error(api.get(url(api, "invoices", sort_column="estimate_number")), 400, field="sort_column")


def test_transaction_list_query_count_is_constant(api, org, customer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert api.get(url(api, "estimates")).status_code == 200
        return len(queries)

    _make(org, K.QUOTE, customer)
    count()
    few = count()
    for _ in range(20):
        _make(org, K.QUOTE, CustomerFactory(organization=org))
    assert count() == few


# --- expenses ------------------------------------------------------------------------------------------------------


def test_expense_lifecycle(api, org, customer, vendor):
    response = api.post(
        url(api, "expenses"),
        {
            "account_name": "Travel",
            "amount": 112.5,
            "date": "2026-10-01",
            "vendor_id": vendor.pk,
            "is_billable": True,
            "customer_id": customer.pk,
            "reference_number": "EXP-1",
            "notes": "Taxi to client",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["message"] == "The expense has been recorded."
    expense = response.json()["expense"]
    assert expense["amount"] == 112.5
    assert expense["status"] == "unbilled"
    assert expense["vendor_id"] == str(vendor.pk)
    assert expense["customer_id"] == str(customer.pk)
    assert expense["customer_name"] == customer.contact_name
    assert expense["is_billable"] is True

    expense_id = expense["expense_id"]
    response = api.put(url(api, f"expenses/{expense_id}"), {"amount": "50", "is_billable": False}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["expense"]["amount"] == 50
    assert response.json()["expense"]["status"] == "non-billable"

    ids = lambda **p: [e["expense_id"] for e in api.get(url(api, "expenses", **p)).json()["expenses"]]  # noqa: E731
    assert ids(vendor_id=vendor.pk) == [expense_id]
    assert ids(filter_by="Status.Nonbillable") == [expense_id]
    assert ids(filter_by="Status.Unbilled") == []
    assert api.delete(url(api, f"expenses/{expense_id}")).json()["message"] == "The expense has been deleted."


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": 10}, "account_name"),
        ({"account_name": "Travel"}, "amount"),
        ({"account_name": "Travel", "amount": "ten"}, "amount"),
        ({"account_name": "Travel", "amount": 10, "is_billable": True}, "customer_id"),
        ({"account_name": "Travel", "amount": 10, "is_billable": "perhaps"}, "is_billable"),
        ({"account_name": "Travel", "amount": 10, "vendor_id": "999999"}, "vendor_id"),
        ({"account_name": "Travel", "amount": 10, "customer_id": "999999"}, "customer_id"),
        ({"account_name": {"a": 1}, "amount": 10}, "account_name"),
        ({"account_name": "Travel", "amount": 10, "line_items": [{"name": "x", "rate": 1}]}, "amount"),
    ],
)
def test_bad_expense_bodies(api, body, field):
    response = api.post(url(api, "expenses"), body, format="json")
    assert response.status_code in (400, 404), response.content
    assert_error(response, response.status_code, field=field)
    assert Transaction.objects.count() == 0


def test_line_item_defaults_come_from_the_item(api, org, customer):
    item = ItemFactory(organization=org, name="Widget", rate=Decimal("12.34"), description="Blue")
    response = api.post(
        url(api, "salesorders"), {"customer_id": customer.pk, "line_items": [{"item_id": item.pk}]}, format="json"
    )
    line = response.json()["salesorder"]["line_items"][0]
    assert line["name"] == "Widget"
    assert line["rate"] == 12.34
    assert line["quantity"] == 1


def test_deal_name_needs_the_deal_id(api, customer):
    body = {"customer_id": customer.pk, "line_items": [{"name": "x", "rate": 1}], "zcrm_potential_name": "Deal"}
    assert_error(api.post(url(api, "estimates"), body, format="json"), 400, field="zcrm_potential_id")
    assert Transaction.objects.count() == 0


def test_deal_association_cannot_change_through_an_update(api, org, customer):
    body = {"customer_id": customer.pk, "line_items": [{"name": "x", "rate": 1}], "zcrm_potential_id": "D1"}
    estimate_id = api.post(url(api, "estimates"), body, format="json").json()["estimate"]["estimate_id"]
    response = api.put(url(api, f"estimates/{estimate_id}"), {"zcrm_potential_id": "D2"}, format="json")
    assert_error(response, 400, field="zcrm_potential_id")
    assert Transaction.objects.get(pk=estimate_id).zcrm_potential_id == "D1"
    same = api.put(url(api, f"estimates/{estimate_id}"), {"zcrm_potential_id": "D1", "notes": "n"}, format="json")
    assert same.status_code == 200


def test_edit_of_a_void_invoice_is_a_conflict(api, org, customer):
    invoice = _make(org, K.INVOICE, customer)
    transaction_set_status(txn=invoice, actor=None, status=S.VOID)
    assert_error(api.put(url(api, f"invoices/{invoice.pk}"), {"notes": "x"}, format="json"), 409, field="status")
    sent = _make(org, K.INVOICE, customer)
    transaction_set_status(txn=sent, actor=None, status=S.SENT)
    assert_error(api.delete(url(api, f"invoices/{sent.pk}")), 409, field="status")

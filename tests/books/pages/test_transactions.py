"""Quotes, sales orders, invoices, purchase orders and expenses through the pages: lists, the line-items form
(with and without JavaScript), inline errors per line, totals, status actions, conversion, deal association."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from books.models import QuoteConversion, Transaction, TransactionKind, TransactionStatus
from books.services.transactions import transaction_set_status
from tests.books.pages.conftest import make_txn
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return response.content.decode()


def lines(*rows: dict, total: int | None = None) -> dict:
    data = {"lines-TOTAL_FORMS": str(total if total is not None else len(rows)), "lines-INITIAL_FORMS": "0"}
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"lines-{index}-{key}"] = value
    return data


# --- the form -----------------------------------------------------------------------------------------------------


def test_new_invoice_form(admin_client, customer, item):
    response = admin_client.get(f"/invoices/new/?customer_id={customer.pk}")
    body = _text(response)
    for label in ("Customer Name", "Invoice#", "Invoice Date", "Due Date", "Item Table", "+ Add line", "Sub Total"):
        assert label in body
    assert f'<option value="{customer.pk}" selected>' in body
    assert f'value="{timezone.localdate().isoformat()}"' in body
    assert body.count('class="line-row"') == 2  # two blank rows without JavaScript
    assert "Hard Drive · 120.00" in body
    quote_form = _text(admin_client.get("/quotes/new/"))
    assert "Quote#" in quote_form
    assert "Expiry Date" in quote_form
    assert "Vendor Name" in _text(admin_client.get("/purchaseorders/new/"))


def test_create_invoice_with_two_lines(admin_client, org, customer, item):
    data = {
        "contact_id": customer.pk,
        "date": "2026-02-01",
        "due_date": "2026-03-03",
        "reference_number": "PO-77",
        "notes": "Thanks for your business.",
        **lines(
            {"item_id": item.pk, "name": "", "quantity": "3", "rate": "", "tax_percentage": "7.5"},
            {"item_id": "", "name": "Installation", "quantity": "1.5", "rate": "40", "tax_percentage": ""},
            {"item_id": "", "name": "", "quantity": "1", "rate": "", "tax_percentage": ""},
        ),
    }
    response = admin_client.post("/invoices/new/", data)
    assert response.status_code == 302
    invoice = Transaction.objects.get(organization=org, kind="invoice")
    assert response["Location"] == f"/invoices/{invoice.pk}/"
    assert invoice.status == TransactionStatus.DRAFT
    assert invoice.contact_id == customer.pk
    assert invoice.due_date == datetime.date(2026, 3, 3)
    assert invoice.reference_number == "PO-77"
    assert [(line.name, line.quantity, line.rate) for line in invoice.lines.all()] == [
        ("Hard Drive", Decimal("3.000"), Decimal("120.00")),  # name and rate from the picked item
        ("Installation", Decimal("1.500"), Decimal("40.00")),
    ]
    # 360 + 60 = 420; tax 7.5% of 360 = 27.00
    assert (invoice.sub_total, invoice.tax_total, invoice.total) == (
        Decimal("420.00"),
        Decimal("27.00"),
        Decimal("447.00"),
    )
    detail = _text(admin_client.get(response["Location"]))
    assert f"Invoice {invoice.number} has been created." in detail
    assert "USD 447.00" in detail
    assert "27.00" in detail
    assert "Thanks for your business." in detail


def test_add_line_without_javascript_keeps_what_was_typed(admin_client, org, customer):
    data = {
        "contact_id": customer.pk,
        "reference_number": "R-1",
        "_add_line": "1",
        **lines({"name": "Typed", "rate": "5"}),
    }
    response = admin_client.post("/invoices/new/", data)
    body = _text(response)
    assert response.status_code == 200
    assert "<html" in body
    assert body.count('class="line-row"') == 2
    assert 'value="Typed"' in body
    assert 'value="R-1"' in body
    assert "field-error" not in body  # re-rendered, not validated
    assert not Transaction.objects.exists()


def test_remove_line(admin_client, customer):
    data = {"contact_id": customer.pk, "_remove_line": "0", **lines({"name": "First"}, {"name": "Second"})}
    body = _text(admin_client.post("/invoices/new/", data))
    assert body.count('class="line-row"') == 1
    assert 'value="Second"' in body
    assert 'value="First"' not in body
    # Removing the last line leaves one blank row; a bad index changes nothing.
    assert (
        _text(admin_client.post("/invoices/new/", {"_remove_line": "0", **lines({"name": "Only"})})).count(
            'class="line-row"'
        )
        == 1
    )
    assert (
        _text(admin_client.post("/invoices/new/", {"_remove_line": "x", **lines({"name": "A"}, {"name": "B"})})).count(
            'class="line-row"'
        )
        == 2
    )


def test_item_pick_fills_the_line(hx_client, item):
    response = hx_client.post(
        "/invoices/new/", {"_fill_line": "1", **lines({"name": "Kept"}, {"item_id": str(item.pk), "quantity": "2"})}
    )
    body = _text(response)
    assert body.lstrip().startswith('<div id="line-items"')
    assert 'value="Hard Drive"' in body
    assert 'value="120.00"' in body
    assert "500GB, USB 2.0" in body
    assert 'value="Kept"' in body
    assert "240.00" in body  # the totals are re-rendered with the lines


def test_htmx_add_line_and_totals_partials(hx_client):
    body = _text(hx_client.post("/invoices/new/", {"_add_line": "1", **lines({"name": "A", "rate": "10"})}))
    assert "<html" not in body
    assert body.count('class="line-row"') == 2
    assert 'name="lines-TOTAL_FORMS" value="2"' in body
    totals = _text(
        hx_client.post(
            "/invoices/new/",
            {
                "_totals": "1",
                **lines({"name": "A", "rate": "10", "quantity": "3", "tax_percentage": "10"}, {"name": ""}),
            },
        )
    )
    assert totals.lstrip().startswith('<table class="totals"')
    assert "30.00" in totals
    assert "3.00" in totals
    assert "33.00" in totals
    broken = _text(hx_client.post("/invoices/new/", {"_totals": "1", **lines({"name": "A", "rate": "abc"})}))
    assert "—" in broken


def test_find_customer(hx_client, org, customer):
    CustomerFactory(organization=org, contact_name="Zeta Corp")
    body = _text(
        hx_client.post("/invoices/new/", {"_find_contact": "1", "contact_q": "zeta", "contact_id": customer.pk})
    )
    assert body.lstrip().startswith('<div id="contact-picker"')
    assert "Zeta Corp" in body
    assert "Bowman and Co" in body  # the selected one stays
    body = _text(hx_client.post("/invoices/new/", {"_find_contact": "1", "contact_q": "zeta"}))
    assert "Bowman and Co" not in body


def test_picker_asks_for_a_search_past_its_limit(admin_client, org, monkeypatch):
    import books.selectors

    monkeypatch.setattr(books.selectors, "PICKER_LIMIT", 3)
    monkeypatch.setattr(
        books.selectors.contact_options, "__kwdefaults__", {"search": "", "selected_id": None, "limit": 3}
    )
    CustomerFactory.create_batch(5, organization=org)
    body = _text(admin_client.get("/invoices/new/"))
    assert "Showing the first 3; find others by name." in body
    assert 'name="_find_contact"' in body


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        ({"name": "A", "rate": "abc"}, "rate", "Enter a number."),
        ({"name": "A", "rate": "1", "quantity": "0"}, "quantity", "Must be greater than 0"),
        ({"name": "A", "rate": "-5"}, "rate", "Must not be negative"),
        ({"name": "A", "rate": "1", "tax_percentage": "150"}, "tax_percentage", "Must be between 0 and 100"),
        ({"name": "A", "rate": "1", "quantity": "1.2345"}, "quantity", "At most 3 decimal places"),
        ({"name": "A", "rate": "10000000000000"}, "rate", "Must be less than 1,000,000,000,000"),
        ({"item_id": "999999", "rate": "1"}, "item_id", "No item with id 999999 in this organization"),
        ({"item_id": "abc", "rate": "1"}, "item_id", "No item with id abc in this organization"),
    ],
)
def test_line_errors_are_shown_on_their_row(admin_client, customer, row, field, message):
    # Row 0 is blank and skipped, so the service's line_items[0] is the form's row 1.
    data = {"contact_id": customer.pk, **lines({"name": "", "rate": ""}, row)}
    response = admin_client.post("/invoices/new/", data)
    assert response.status_code == 400
    formset = response.context["formset"]
    assert not formset.forms[0].errors
    assert any(message in e for e in formset.forms[1].errors[field]), formset.forms[1].errors
    assert message.replace("'", "&#x27;") in _text(response)
    assert not Transaction.objects.exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"contact_id": ""}, "contact_id", "A customer is required"),
        ({"contact_id": "abc"}, "contact_id", "No customer with id abc in this organization"),
        ({"date": "31/12/2026"}, "date", "Enter a valid date."),
        ({"date": "2026-02-10", "due_date": "2026-02-01"}, "due_date", "Must not be before the date 2026-02-10"),
        ({"reference_number": "R" * 101}, "reference_number", "Ensure this value has at most 100 characters"),
    ],
)
def test_header_errors_are_inline(admin_client, customer, data, field, message):
    payload = {"contact_id": customer.pk, **lines({"name": "A", "rate": "1"}), **data}
    response = admin_client.post("/invoices/new/", payload)
    assert response.status_code == 400
    assert any(message in e for e in response.context["form"].errors[field]), response.context["form"].errors
    assert not Transaction.objects.exists()


def test_no_lines_is_an_error_above_the_table(admin_client, customer):
    response = admin_client.post("/invoices/new/", {"contact_id": customer.pk, **lines({"name": ""})})
    assert response.status_code == 400
    assert "At least one line is required" in _text(response)


def test_vendor_is_not_a_customer_on_an_invoice(admin_client, vendor):
    response = admin_client.post("/invoices/new/", {"contact_id": vendor.pk, **lines({"name": "A", "rate": "1"})})
    assert response.status_code == 400
    assert f"No customer with id {vendor.pk} in this organization" in _text(response)


def test_quote_number_can_be_given_and_must_be_unique(admin_client, org, customer):
    first = admin_client.post(
        "/quotes/new/", {"contact_id": customer.pk, "number": "Q-100", **lines({"name": "A", "rate": "1"})}
    )
    assert first.status_code == 302
    again = admin_client.post(
        "/quotes/new/", {"contact_id": customer.pk, "number": "Q-100", **lines({"name": "A", "rate": "1"})}
    )
    assert again.status_code == 400
    assert "Q-100 is already used by another quote" in _text(again)


def test_edit_invoice_replaces_its_lines(admin_client, invoice):
    form = _text(admin_client.get(f"/invoices/{invoice.pk}/edit/"))
    assert 'value="Consulting"' in form
    assert form.count('class="line-row"') == 2  # the line and one blank row
    assert f'value="{invoice.number}"' in form  # shown, not editable
    response = admin_client.post(
        f"/invoices/{invoice.pk}/edit/",
        {
            "contact_id": invoice.contact_id,
            "date": "2026-01-10",
            "number": "HACKED",
            **lines({"name": "Audit", "rate": "500"}),
        },
    )
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.number != "HACKED"
    assert [line.name for line in invoice.lines.all()] == ["Audit"]
    assert invoice.total == Decimal("500.00")


def test_paid_invoice_cannot_be_edited(admin_client, invoice):
    transaction_set_status(txn=invoice, actor=None, status=TransactionStatus.SENT)
    transaction_set_status(txn=invoice, actor=None, status=TransactionStatus.PAID)
    response = admin_client.get(f"/invoices/{invoice.pk}/edit/", follow=True)
    assert "A paid invoice cannot be edited." in _text(response)
    assert "Edit</a>" not in _text(admin_client.get(f"/invoices/{invoice.pk}/"))


# --- lists ----------------------------------------------------------------------------------------------------------


def test_invoice_list_tabs_search_and_contact_filter(admin_client, org, customer, invoice):
    other = CustomerFactory(organization=org, contact_name="Other Buyer")
    sent = make_txn(org, TransactionKind.INVOICE, other)
    transaction_set_status(txn=sent, actor=None, status=TransactionStatus.SENT)
    body = _text(admin_client.get("/invoices/"))
    for tab in ("All", "Draft", "Sent", "Overdue", "Paid", "Void"):
        assert f">{tab}</a>" in body
    sent_only = _text(admin_client.get("/invoices/?status=sent"))
    assert sent.number in sent_only
    assert invoice.number not in sent_only
    assert sent.number not in _text(admin_client.get(f"/invoices/?q={invoice.number}"))
    by_customer = _text(admin_client.get(f"/invoices/?contact_id={customer.pk}"))
    assert "Customer: Bowman and Co" in by_customer
    assert sent.number not in by_customer
    assert "No quotes yet" in _text(admin_client.get("/quotes/"))
    assert "No invoices found" in _text(admin_client.get("/invoices/?q=zzz"))


# --- status actions -----------------------------------------------------------------------------------------------


def test_mark_invoice_sent_then_paid(admin_client, invoice):
    response = admin_client.post(f"/invoices/{invoice.pk}/status/sent/", follow=True)
    assert "Invoice status has been changed to Sent." in _text(response)
    invoice.refresh_from_db()
    assert invoice.status == TransactionStatus.SENT
    admin_client.post(f"/invoices/{invoice.pk}/status/paid/")
    invoice.refresh_from_db()
    assert invoice.status == TransactionStatus.PAID


@pytest.mark.parametrize(
    ("state", "message"),
    [("paid", "A draft invoice cannot be marked paid"), ("banana", "'banana' is not a status of an invoice")],
)
def test_refused_status_changes_say_why(admin_client, invoice, state, message):
    response = admin_client.post(f"/invoices/{invoice.pk}/status/{state}/", follow=True)
    assert response.status_code == 200
    assert message.replace("'", "&#x27;") in _text(response)
    invoice.refresh_from_db()
    assert invoice.status == TransactionStatus.DRAFT


def test_void_asks_for_confirmation(admin_client, invoice):
    confirm = admin_client.get(f"/invoices/{invoice.pk}/status/void/")
    assert f"Void invoice {invoice.number}?" in _text(confirm)
    invoice.refresh_from_db()
    assert invoice.status == TransactionStatus.DRAFT
    admin_client.post(f"/invoices/{invoice.pk}/status/void/")
    invoice.refresh_from_db()
    assert invoice.status == TransactionStatus.VOID
    # A GET of a move that needs no confirmation just goes back to the invoice.
    assert admin_client.get(f"/invoices/{invoice.pk}/status/sent/")["Location"] == f"/invoices/{invoice.pk}/"


def test_detail_shows_only_allowed_actions(admin_client, org, customer, vendor):
    quote = make_txn(org, TransactionKind.QUOTE, customer)
    body = _text(admin_client.get(f"/quotes/{quote.pk}/"))
    assert "Mark as Sent" in body
    assert "Mark as Accepted" in body
    assert "Convert to Invoice" in body
    assert "Mark as Paid" not in body
    po = make_txn(org, TransactionKind.PURCHASE_ORDER, vendor)
    po_body = _text(admin_client.get(f"/purchaseorders/{po.pk}/"))
    assert "Mark as Open" in po_body
    assert "Cancel" in po_body
    assert "Mark as Billed" not in po_body


def test_purchase_order_open_billed_and_cancel(admin_client, org, vendor):
    po = make_txn(org, TransactionKind.PURCHASE_ORDER, vendor)
    admin_client.post(f"/purchaseorders/{po.pk}/status/open/")
    admin_client.post(f"/purchaseorders/{po.pk}/status/billed/")
    po.refresh_from_db()
    assert po.status == TransactionStatus.BILLED
    other = make_txn(org, TransactionKind.PURCHASE_ORDER, vendor)
    assert "Cancel purchase order" in _text(admin_client.get(f"/purchaseorders/{other.pk}/status/cancelled/"))
    admin_client.post(f"/purchaseorders/{other.pk}/status/cancelled/")
    other.refresh_from_db()
    assert other.status == TransactionStatus.CANCELLED


def test_sales_order_open_and_void(admin_client, org, customer):
    so = make_txn(org, TransactionKind.SALES_ORDER, customer)
    response = admin_client.post(f"/salesorders/{so.pk}/status/open/", follow=True)
    assert "Sales Order status has been changed to Open." in _text(response)
    admin_client.post(f"/salesorders/{so.pk}/status/void/")
    so.refresh_from_db()
    assert so.status == TransactionStatus.VOID


def test_quote_accept_decline_and_convert(admin_client, org, customer):
    quote = make_txn(org, TransactionKind.QUOTE, customer)
    admin_client.post(f"/quotes/{quote.pk}/status/sent/")
    response = admin_client.post(f"/quotes/{quote.pk}/convert/", follow=True)
    invoice = Transaction.objects.get(organization=org, kind="invoice", converted_from=quote)
    assert response.redirect_chain[-1][0] == f"/invoices/{invoice.pk}/"
    body = _text(response)
    assert f"Quote {quote.number} has been converted to invoice {invoice.number}." in body
    assert "Converted from quote" in body
    quote.refresh_from_db()
    assert quote.status == TransactionStatus.INVOICED
    quote_page = _text(admin_client.get(f"/quotes/{quote.pk}/"))
    assert "Convert to Invoice</button>" not in quote_page
    assert "Converted to invoice" in quote_page
    # Converting twice makes no second invoice.
    admin_client.post(f"/quotes/{quote.pk}/convert/")
    assert Transaction.objects.filter(organization=org, kind="invoice").count() == 1


def test_declined_quote_cannot_be_converted(admin_client, org, customer):
    quote = make_txn(org, TransactionKind.QUOTE, customer)
    assert "Mark as Declined" in _text(admin_client.get(f"/quotes/{quote.pk}/status/declined/"))
    admin_client.post(f"/quotes/{quote.pk}/status/declined/")
    response = admin_client.post(f"/quotes/{quote.pk}/convert/", follow=True)
    assert "A declined quote cannot be converted to an invoice" in _text(response)
    assert not Transaction.objects.filter(kind="invoice").exists()


def test_accepting_a_quote_follows_the_conversion_preference(admin_client, org, customer):
    org.quote_conversion = QuoteConversion.SENT
    org.save()
    customer.email = "buyer@x.test"
    customer.save()
    quote = make_txn(org, TransactionKind.QUOTE, customer)
    response = admin_client.post(f"/quotes/{quote.pk}/status/accepted/", follow=True)
    invoice = Transaction.objects.get(organization=org, kind="invoice", converted_from=quote)
    assert invoice.status == TransactionStatus.SENT
    body = _text(response)
    assert "Quote status has been changed to Invoiced." in body
    assert f"Invoice {invoice.number} has been created from this quote (sent)" in body


# --- deal association ---------------------------------------------------------------------------------------------


def test_deal_association_is_shown_and_a_locked_one_cannot_be_dissociated(admin_client, org, customer):
    locked = make_txn(org, TransactionKind.INVOICE, customer)
    Transaction.objects.filter(pk=locked.pk).update(
        zcrm_potential_id="80649000000123001", zcrm_potential_name="Bowman renewal", potential_locked=True
    )
    body = _text(admin_client.get(f"/invoices/{locked.pk}/"))
    assert "Associated deal" in body
    assert "Bowman renewal" in body
    assert "cannot be dissociated" in body
    assert "Dissociate</button>" not in body
    response = admin_client.post(f"/invoices/{locked.pk}/deal/dissociate/", follow=True)
    assert "Potentials that were associated using triggers cannot be dissociated" in _text(response)
    locked.refresh_from_db()
    assert locked.zcrm_potential_id == "80649000000123001"
    assert "Bowman renewal" in _text(admin_client.get(f"/invoices/{locked.pk}/edit/"))

    free = make_txn(org, TransactionKind.QUOTE, customer)
    Transaction.objects.filter(pk=free.pk).update(zcrm_potential_id="1", zcrm_potential_name="Open deal")
    assert "Dissociate</button>" in _text(admin_client.get(f"/quotes/{free.pk}/"))
    response = admin_client.post(f"/quotes/{free.pk}/deal/dissociate/", follow=True)
    assert "The deal has been dissociated." in _text(response)
    free.refresh_from_db()
    assert free.zcrm_potential_id == ""
    assert "Deal" in _text(admin_client.get("/invoices/"))


# --- delete -------------------------------------------------------------------------------------------------------


def test_delete_draft_invoice_but_not_a_sent_one(admin_client, org, customer, invoice):
    assert f"Delete invoice {invoice.number}?" in _text(admin_client.get(f"/invoices/{invoice.pk}/delete/"))
    sent = make_txn(org, TransactionKind.INVOICE, customer)
    transaction_set_status(txn=sent, actor=None, status=TransactionStatus.SENT)
    response = admin_client.post(f"/invoices/{sent.pk}/delete/", follow=True)
    assert "Only a draft or void invoice can be deleted" in _text(response)
    assert Transaction.objects.filter(pk=sent.pk).exists()
    response = admin_client.post(f"/invoices/{invoice.pk}/delete/", follow=True)
    assert f"Invoice {invoice.number} has been deleted." in _text(response)
    assert not Transaction.objects.filter(pk=invoice.pk).exists()


# --- expenses -----------------------------------------------------------------------------------------------------


def test_record_billable_expense(admin_client, org, vendor, customer):
    form = _text(admin_client.get(f"/expenses/new/?vendor_id={vendor.pk}"))
    assert "Expense Account" in form
    assert f'<option value="{vendor.pk}" selected>' in form
    response = admin_client.post(
        "/expenses/new/",
        {
            "date": "2026-02-02",
            "account_name": "Travel",
            "amount": "123.45",
            "contact_id": vendor.pk,
            "is_billable": "on",
            "customer_id": customer.pk,
        },
    )
    assert response.status_code == 302
    expense = Transaction.objects.get(organization=org, kind="expense")
    assert (expense.total, expense.status, expense.customer_id) == (Decimal("123.45"), "unbilled", customer.pk)
    listing = _text(admin_client.get("/expenses/"))
    assert "Travel" in listing
    assert "Bowman and Co" in listing
    edit = admin_client.post(
        f"/expenses/{expense.pk}/edit/",
        {"date": "2026-02-02", "account_name": "Meals", "amount": "20", "contact_id": vendor.pk},
    )
    assert edit.status_code == 302
    expense.refresh_from_db()
    assert (expense.account_name, expense.total, expense.status) == ("Meals", Decimal("20.00"), "non-billable")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"account_name": ""}, "account_name", "The expense account is required"),
        ({"amount": ""}, "amount", "The expense amount is required"),
        ({"amount": "ten"}, "amount", "Enter a number."),
        ({"amount": "-3"}, "amount", "Must not be negative"),
        ({"is_billable": "on"}, "customer_id", "A billable expense needs a customer"),
        ({"contact_id": "424242"}, "contact_id", "No vendor with id 424242 in this organization"),
    ],
)
def test_expense_errors_are_inline(admin_client, data, field, message):
    response = admin_client.post("/expenses/new/", {"account_name": "Travel", "amount": "10", **data})
    assert response.status_code == 400
    assert any(message in e for e in response.context["form"].errors[field]), response.context["form"].errors
    assert not Transaction.objects.exists()


def test_expense_picker_search(hx_client, org, customer):
    body = _text(hx_client.post("/expenses/new/", {"_find_customer": "1", "customer_q": "bowman"}))
    assert body.lstrip().startswith('<div id="customer-picker"')
    assert "Bowman and Co" in body


def test_header_and_line_errors_show_together(admin_client):
    data = {"contact_id": "", **lines({"name": "X", "rate": "-4"}, {"name": "Y", "quantity": "0", "rate": "3"})}
    response = admin_client.post("/invoices/new/", data)
    assert response.status_code == 400
    assert response.context["form"].errors["contact_id"] == ["A customer is required"]
    assert response.context["formset"].forms[0].errors["rate"] == ["Must not be negative"]

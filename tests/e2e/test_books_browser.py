"""The accountant's main flow in a real browser (Chromium via Playwright) against a live server: sign in, create
a customer, create an invoice with two lines (one picked from the items, filled by htmx), mark it sent."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from books.models import Contact, Role, Transaction, TransactionStatus
from tests.factories import ItemFactory, MembershipFactory, OrganizationFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def accountant_org(transactional_db):
    org = OrganizationFactory(name="Acme Books", slug="acme", base_currency="USD")
    user = UserFactory(email="ann@acme.test", password="browser-pass-1")
    MembershipFactory(organization=org, user=user, role=Role.ACCOUNTANT)
    ItemFactory(organization=org, name="Hard Drive", rate=Decimal("120.00"), description="500GB, USB 2.0")
    return org


def test_sign_in_create_customer_and_invoice_then_mark_sent(page, live_server, accountant_org):
    base = live_server.url
    page.goto(f"{base}/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("Email").fill("ann@acme.test")
    page.get_by_label("Password").fill("browser-pass-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    # A customer, through the Customers page.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers").click()
    expect(page.get_by_text("Create your first customer")).to_be_visible()
    page.get_by_role("link", name="+ New Customer").first.click()
    page.get_by_label("Company Name").fill("Bowman and Co")
    page.get_by_label("Display Name").fill("Bowman and Co")
    page.get_by_label("Email Address").fill("billing@bowman.test")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("The customer Bowman and Co has been created.")).to_be_visible()
    expect(page.get_by_role("heading", name="Bowman and Co")).to_be_visible()

    # An invoice for that customer, from its page.
    page.get_by_text("New Transaction").click()
    page.get_by_role("link", name="New Invoice").click()
    expect(page.get_by_role("heading", name="New Invoice")).to_be_visible()
    expect(page.locator("#id_contact_id")).to_have_value(re.compile(r"\d+"))  # preselected from the customer page
    # Line 1: pick the item; htmx fills its name and rate.
    page.locator("#id_lines-0-item_id").select_option(label="Hard Drive · 120.00")
    expect(page.locator("#id_lines-0-name")).to_have_value("Hard Drive")
    expect(page.locator("#id_lines-0-rate")).to_have_value("120.00")
    page.locator("#id_lines-0-quantity").fill("2")
    # Line 2: typed by hand.
    page.locator("#id_lines-1-name").fill("Installation")
    page.locator("#id_lines-1-rate").fill("75.50")
    page.locator("#id_lines-1-tax_percentage").fill("10")
    page.locator("#id_lines-1-tax_percentage").blur()
    expect(page.locator("#totals")).to_contain_text("323.05")  # the service's totals, swapped in by htmx
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.get_by_text(re.compile(r"Invoice INV-00001 has been created\."))).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("Draft")
    page.get_by_role("button", name="Mark as Sent").click()
    expect(page.get_by_text("Invoice status has been changed to Sent.")).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("Sent")
    expect(page.get_by_test_id("totals")).to_contain_text("USD 323.05")

    invoice = Transaction.objects.get(organization=accountant_org, kind="invoice")
    customer = Contact.objects.get(organization=accountant_org, contact_type="customer")
    assert invoice.contact_id == customer.pk
    assert customer.email == "billing@bowman.test"
    assert invoice.status == TransactionStatus.SENT
    assert [(line.name, line.quantity, line.rate, line.tax_percentage) for line in invoice.lines.all()] == [
        ("Hard Drive", Decimal("2.000"), Decimal("120.00"), Decimal("0.000")),
        ("Installation", Decimal("1.000"), Decimal("75.50"), Decimal("10.000")),
    ]
    assert (invoice.sub_total, invoice.tax_total, invoice.total) == (
        Decimal("315.50"),
        Decimal("7.55"),
        Decimal("323.05"),
    )

    # The customer page now shows the receivable.
    page.get_by_role("link", name="Bowman and Co").first.click()
    expect(page.get_by_text("Outstanding Receivables")).to_be_visible()
    expect(page.locator(".stat").first).to_contain_text("USD 323.05")

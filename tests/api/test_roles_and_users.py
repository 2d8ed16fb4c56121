"""Who may do what through the API (integration users: quotes and sales orders for CRM records, view invoices and
purchase orders), and the organizations and users endpoints."""

from __future__ import annotations

import pytest

from books.models import Contact, Item, Transaction, TransactionKind
from books.services.transactions import LineInput, TransactionInput, transaction_create
from tests.api.conftest import assert_error, url
from tests.factories import VendorFactory

pytestmark = pytest.mark.django_db
K = TransactionKind


def _make(org, kind, contact):
    return transaction_create(
        organization=org,
        actor=None,
        kind=kind,
        data=TransactionInput(contact_id=contact.pk, lines=[LineInput(name="Work", rate="10")]),
    )


@pytest.fixture
def crm_vendor(org):
    return VendorFactory(organization=org, contact_name="CRM Vendor", zcrm_vendor_id="V1")


def test_integration_user_creates_estimates_and_sales_orders_for_crm_customers(
    integration_api, integration_user, crm_customer, customer, item
):
    for resource in ("estimates", "salesorders"):
        response = integration_api.post(
            url(integration_api, resource),
            {"customer_id": crm_customer.pk, "line_items": [{"item_id": item.pk}]},
            format="json",
        )
        assert response.status_code == 201, response.content
        body = assert_error(
            integration_api.post(
                url(integration_api, resource),
                {"customer_id": customer.pk, "line_items": [{"item_id": item.pk}]},
                format="json",
            ),
            403,
            code=57,
            field="customer_id",
        )
        assert "linked with Zoho CRM" in body["message"]
    assert Transaction.objects.filter(created_by=integration_user).count() == 2
    assert not Transaction.objects.filter(contact=customer).exists()


def test_integration_user_sees_only_crm_records(integration_api, org, crm_customer, customer, crm_vendor, vendor):
    crm_invoice = _make(org, K.INVOICE, crm_customer)
    plain_invoice = _make(org, K.INVOICE, customer)
    crm_po = _make(org, K.PURCHASE_ORDER, crm_vendor)
    plain_po = _make(org, K.PURCHASE_ORDER, vendor)
    crm_quote = _make(org, K.QUOTE, crm_customer)
    plain_quote = _make(org, K.QUOTE, customer)

    for resource, key, visible, hidden in (
        ("invoices", "invoice_id", crm_invoice, plain_invoice),
        ("purchaseorders", "purchaseorder_id", crm_po, plain_po),
        ("estimates", "estimate_id", crm_quote, plain_quote),
    ):
        rows = integration_api.get(url(integration_api, resource)).json()[resource]
        assert [row[key] for row in rows] == [str(visible.pk)]
        assert integration_api.get(url(integration_api, f"{resource}/{visible.pk}")).status_code == 200
        assert_error(integration_api.get(url(integration_api, f"{resource}/{hidden.pk}")), 403, code=57, field=key)

    contacts = integration_api.get(url(integration_api, "contacts")).json()["contacts"]
    assert {c["contact_name"] for c in contacts} == {"Zylker CRM", "CRM Vendor"}
    assert integration_api.get(url(integration_api, f"contacts/{crm_customer.pk}")).status_code == 200
    assert_error(integration_api.get(url(integration_api, f"contacts/{customer.pk}")), 403, field="contact_id")


@pytest.mark.parametrize(
    ("method", "template", "body"),
    [
        ("post", "contacts", {"contact_name": "x"}),
        ("put", "contacts/{crm_customer}", {"notes": "x"}),
        ("delete", "contacts/{crm_customer}", None),
        ("post", "contacts/{crm_customer}/inactive", None),
        ("post", "contacts/contactpersons", {"contact_id": "{crm_customer}", "last_name": "x"}),
        ("post", "items", {"name": "x"}),
        ("put", "items/{item}", {"name": "x"}),
        ("delete", "items/{item}", None),
        ("post", "invoices", {"customer_id": "{crm_customer}", "line_items": [{"name": "x", "rate": 1}]}),
        ("post", "purchaseorders", {"vendor_id": "{crm_vendor}", "line_items": [{"name": "x", "rate": 1}]}),
        ("post", "expenses", {"account_name": "T", "amount": 1}),
        ("get", "expenses", None),
        ("put", "estimates/{quote}", {"notes": "x"}),
        ("delete", "estimates/{quote}", None),
        ("post", "estimates/{quote}/status/accepted", None),
        ("post", "invoices/{invoice}/status/void", None),
        ("get", "users", None),
    ],
)
def test_integration_user_is_refused_everything_else(
    integration_api, org, crm_customer, crm_vendor, item, method, template, body
):
    quote = _make(org, K.QUOTE, crm_customer)
    invoice = _make(org, K.INVOICE, crm_customer)
    ids = {"crm_customer": crm_customer.pk, "crm_vendor": crm_vendor.pk, "item": item.pk, "quote": quote.pk}
    ids["invoice"] = invoice.pk
    if isinstance(body, dict):
        body = {k: (v.format(**ids) if isinstance(v, str) else v) for k, v in body.items()}
    counts = (Contact.objects.count(), Item.objects.count(), Transaction.objects.count())
    response = getattr(integration_api, method)(url(integration_api, template.format(**ids)), body, format="json")
    body = assert_error(response, 403, code=57)
    assert "Integration User" in body["message"]
    assert (Contact.objects.count(), Item.objects.count(), Transaction.objects.count()) == counts
    quote.refresh_from_db()
    assert quote.status == "draft"


def test_integration_user_reads_items_organizations_and_self(integration_api, integration_user, org, item):
    assert integration_api.get(url(integration_api, "items")).json()["items"][0]["name"] == "Hard Drive"
    assert integration_api.get("/books/v3/organizations").json()["organizations"][0]["user_role"] == "integration_user"
    me = integration_api.get(url(integration_api, "users/me")).json()["user"]
    assert me["email"] == "crm@acme.test"
    assert me["user_role"] == "integration_user"
    assert me["is_current_user"] is True


def test_accountant_works_with_everything(accountant_api, customer):
    response = accountant_api.post(
        url(accountant_api, "invoices"),
        {"customer_id": customer.pk, "line_items": [{"name": "x", "rate": 1}]},
        format="json",
    )
    assert response.status_code == 201
    assert accountant_api.get(url(accountant_api, "users")).status_code == 200


# --- organizations and users -----------------------------------------------------------------------------------------


def test_organizations(api, org, other_org):
    body = api.get("/books/v3/organizations").json()
    assert body["code"] == 0
    assert [o["organization_id"] for o in body["organizations"]] == [str(org.pk)]
    only = body["organizations"][0]
    assert only["name"] == "Acme Books"
    assert only["currency_code"] == "USD"
    assert only["is_default_org"] is True
    got = api.get(f"/books/v3/organizations/{org.pk}").json()["organization"]
    assert got == only
    assert_error(api.get(f"/books/v3/organizations/{other_org.pk}"), 404, field="organization_id")
    assert_error(api.get("/books/v3/organizations/abc"), 404, field="organization_id")


def test_users(api, admin_user, accountant, integration_user, other_admin):
    body = api.get(url(api, "users")).json()
    assert [u["email"] for u in body["users"]] == ["acc@acme.test", "admin@acme.test", "crm@acme.test"]
    assert body["page_context"]["report_name"] == "Users"
    current = [u for u in body["users"] if u["is_current_user"]]
    assert [u["user_id"] for u in current] == [str(admin_user.pk)]
    roles = {u["email"]: u["user_role"] for u in body["users"]}
    assert roles == {"acc@acme.test": "accountant", "admin@acme.test": "admin", "crm@acme.test": "integration_user"}
    descending = api.get(url(api, "users", sort_order="D")).json()["users"]
    assert descending[0]["email"] == "crm@acme.test"

    user = api.get(url(api, f"users/{accountant.pk}")).json()["user"]
    assert user["email_ids"] == [{"email": "acc@acme.test", "is_selected": True}]
    assert user["status"] == "active"
    assert api.get(url(api, "users/me")).json()["user"]["user_id"] == str(admin_user.pk)
    assert_error(api.get(url(api, f"users/{other_admin.pk}")), 404, field="user_id")
    assert_error(api.get(url(api, "users/nobody")), 404, field="user_id")
    accountant.is_active = False
    accountant.save()
    inactive = api.get(url(api, "users", filter_by="Status.Inactive")).json()["users"]
    assert [u["email"] for u in inactive] == ["acc@acme.test"]

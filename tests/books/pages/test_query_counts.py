"""List pages stay fast at any size: a constant number of queries (one COUNT, one page) whatever the rows,
the filter, the search or the page. Measured with ~2,000 rows of each list."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from books.models import Contact, ContactType, Item, Transaction, TransactionKind, TransactionLine, TransactionStatus
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

ROWS = 2_000
# session + user + membership (middleware) + the organization switcher's memberships + COUNT + the page
BASE_QUERIES = 6


@pytest.fixture
def many_customers(org):
    Contact.objects.bulk_create(
        [
            Contact(
                organization=org,
                contact_type=ContactType.CUSTOMER,
                contact_name=f"Customer {n:05d}",
                company_name=f"Company {n:05d}",
                email=f"c{n}@example.test",
                status="inactive" if n % 10 == 0 else "active",
                zcrm_account_id=str(9000 + n) if n % 7 == 0 else "",
                currency_code="USD",
            )
            for n in range(ROWS)
        ],
        batch_size=500,
    )
    return ROWS


@pytest.fixture
def many_items(org):
    Item.objects.bulk_create(
        [
            Item(
                organization=org,
                name=f"Item {n:05d}",
                sku=f"SKU{n}",
                rate=Decimal(n % 500),
                status="inactive" if n % 10 == 0 else "active",
                zcrm_product_id=str(n) if n % 5 == 0 else "",
            )
            for n in range(ROWS)
        ],
        batch_size=500,
    )


@pytest.fixture
def many_invoices(org):
    customers = CustomerFactory.create_batch(20, organization=org)
    today = datetime.date(2026, 1, 31)
    Transaction.objects.bulk_create(
        [
            Transaction(
                organization=org,
                kind=TransactionKind.INVOICE,
                number=f"INV-{n:05d}",
                contact=customers[n % 20],
                status=(TransactionStatus.DRAFT, TransactionStatus.SENT, TransactionStatus.PAID)[n % 3],
                date=today - datetime.timedelta(days=n % 365),
                currency_code="USD",
                sub_total=Decimal(n),
                total=Decimal(n),
            )
            for n in range(ROWS)
        ],
        batch_size=500,
    )
    invoices = list(Transaction.objects.filter(organization=org, kind=TransactionKind.INVOICE)[:50])
    TransactionLine.objects.bulk_create(
        [TransactionLine(transaction=t, name="x", rate=t.total, amount=t.total) for t in invoices]
    )


CUSTOMER_VIEWS = [
    "",
    "?filter=active",
    "?filter=crm",
    "?q=Customer+0199",
    "?sort=-created",
    "?page=79",
    "?page=60&filter=active",
]


@pytest.mark.parametrize("query", CUSTOMER_VIEWS)
def test_customer_list_query_count_is_constant(admin_client, many_customers, django_assert_num_queries, query):
    # The receivables of the rows shown are a subquery of the page query itself: no query per row.
    with django_assert_num_queries(BASE_QUERIES):
        response = admin_client.get(f"/customers/{query}")
    assert response.status_code == 200
    assert response.content.count(b'name="ids"') == (25 if "q=" not in query else 10)


def test_customer_list_shows_counts_and_pages(admin_client, many_customers):
    response = admin_client.get("/customers/?page=80")
    html = response.content.decode()
    assert "1,976–2,000 of 2,000" in html
    assert "Customer 01999" in html


@pytest.mark.parametrize("query", ["", "?filter=inactive", "?filter=crm", "?q=Item+00", "?sort=-rate", "?page=80"])
def test_item_list_query_count_is_constant(admin_client, many_items, django_assert_num_queries, query):
    with django_assert_num_queries(BASE_QUERIES):
        response = admin_client.get(f"/items/{query}")
    assert response.status_code == 200
    assert b'name="ids"' in response.content


@pytest.mark.parametrize(
    "query", ["", "?status=sent", "?q=INV-001", "?sort=-total", "?page=80", "?status=paid&page=20"]
)
def test_invoice_list_query_count_is_constant(admin_client, many_invoices, django_assert_num_queries, query):
    with django_assert_num_queries(BASE_QUERIES):
        response = admin_client.get(f"/invoices/{query}")
    assert response.status_code == 200
    assert response.content.count(b"/invoices/") >= 10


def test_vendor_list_query_count(admin_client, org, django_assert_num_queries):
    Contact.objects.bulk_create(
        [
            Contact(organization=org, contact_type=ContactType.VENDOR, contact_name=f"Vendor {n}", currency_code="USD")
            for n in range(300)
        ]
    )
    with django_assert_num_queries(BASE_QUERIES):
        response = admin_client.get("/vendors/?page=5")
    assert response.status_code == 200


def test_expense_list_with_customers_query_count(admin_client, org, django_assert_num_queries):
    from tests.books.pages.conftest import make_txn
    from tests.factories import VendorFactory

    vendor = VendorFactory(organization=org)
    for _ in range(30):
        make_txn(org, TransactionKind.EXPENSE, vendor)
    with django_assert_num_queries(BASE_QUERIES):
        response = admin_client.get("/expenses/")
    assert response.content.count(b"Travel") >= 25

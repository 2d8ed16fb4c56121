"""The demo organization: org slug `demo`, admin `admin@demo.test` / `demo`, a few hundred customers, vendors,
items and transactions. Idempotent: a second run leaves what the first made."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from books.models import (
    Contact,
    ContactPerson,
    ContactType,
    CustomerSubType,
    Item,
    Organization,
    ProductType,
    QuoteConversion,
    TransactionKind,
    TransactionStatus,
    User,
)
from books.services.custom_fields import custom_field_create
from books.services.organizations import member_add, organization_create
from books.services.transactions import LineInput, TransactionInput, transaction_create, transaction_set_status

DEMO_SLUG = "demo"
DEMO_EMAIL = "admin@demo.test"
DEMO_PASSWORD = "demo"  # noqa: S105 (the documented demo login)

_FIRST = [
    "Ava",
    "Liam",
    "Maya",
    "Noah",
    "Zoe",
    "Ethan",
    "Isla",
    "Omar",
    "Priya",
    "Lucas",
    "Chloe",
    "Mateo",
    "Hana",
    "Felix",
    "Sara",
    "Jonas",
]
_LAST = [
    "Patel",
    "Garcia",
    "Nguyen",
    "Smith",
    "Kowalski",
    "Okafor",
    "Rossi",
    "Tanaka",
    "Muller",
    "Silva",
    "Haddad",
    "Larsen",
    "Cohen",
    "Dubois",
]
_WORDS = [
    "Acme",
    "Bluebird",
    "Cedar",
    "Delta",
    "Evergreen",
    "Falcon",
    "Granite",
    "Harbor",
    "Iris",
    "Juniper",
    "Keystone",
    "Lumen",
    "Maple",
    "Northwind",
    "Orchid",
    "Pioneer",
    "Quartz",
    "Redwood",
    "Summit",
    "Tidal",
    "Umber",
    "Vertex",
    "Willow",
    "Zephyr",
]
_SUFFIX = ["Inc", "LLC", "Ltd", "Group", "Partners", "Co", "Labs", "Studios", "Logistics", "Foods", "Systems"]
_CITIES = [
    ("Austin", "TX"),
    ("Denver", "CO"),
    ("Seattle", "WA"),
    ("Boston", "MA"),
    ("Chicago", "IL"),
    ("Portland", "OR"),
    ("Miami", "FL"),
]
_GOODS = [
    "Standing Desk",
    "Office Chair",
    "Monitor 27in",
    "USB-C Dock",
    "Laptop Stand",
    "Webcam HD",
    "Headset",
    "Keyboard",
    "Mouse",
    "Cable Kit",
]
_SERVICES = [
    "Consulting Hour",
    "Onboarding Package",
    "Support Plan",
    "Training Session",
    "Audit",
    "Implementation",
    "Design Sprint",
]


@dataclass(frozen=True)
class DemoResult:
    organization: Organization
    created: bool


def _company(rng: random.Random, n: int) -> str:
    return f"{rng.choice(_WORDS)} {rng.choice(_WORDS)} {rng.choice(_SUFFIX)} #{n}"


_INDUSTRIES = ["Retail", "Manufacturing", "Software", "Healthcare", "Logistics", "Hospitality"]
_TITLES = ["Finance Manager", "Accounts Payable", "Office Manager", "CFO", "Purchasing Lead", "Owner"]


def _demo_details(org: Organization) -> None:
    """What makes the pages look lived-in: a primary contact person on every business customer and vendor, and
    two typed custom fields with values. Its own random stream, so the rest of the demo stays as it was."""
    rng = random.Random(20261125)
    industry = custom_field_create(
        organization=org, actor=None, entity="customer", label="Industry", data_type="picklist", options=_INDUSTRIES
    )
    warranty = custom_field_create(
        organization=org, actor=None, entity="item", label="Warranty (months)", data_type="number"
    )
    persons = []
    customers = []
    for contact in Contact.objects.filter(organization=org, customer_sub_type=CustomerSubType.BUSINESS).order_by("pk"):
        first, last = (
            (contact.first_name, contact.last_name)
            if contact.last_name
            else (
                rng.choice(_FIRST),
                rng.choice(_LAST),
            )
        )
        domain = contact.email.split("@")[-1] if contact.email else "example.com"
        persons.append(
            ContactPerson(
                organization=org,
                contact=contact,
                salutation=rng.choice(["Mr.", "Ms.", "Dr.", ""]),
                first_name=first,
                last_name=last,
                email=f"{first.lower()}.{last.lower()}@{domain}",
                phone=contact.phone,
                designation=rng.choice(_TITLES),
                is_primary_contact=True,
            )
        )
        if contact.contact_type == ContactType.CUSTOMER:
            contact.custom_fields = {industry.api_name: rng.choice(_INDUSTRIES)}
            customers.append(contact)
    ContactPerson.objects.bulk_create(persons, batch_size=500)
    Contact.objects.bulk_update(customers, ["custom_fields"], batch_size=500)
    goods = list(Item.objects.filter(organization=org, product_type=ProductType.GOODS).order_by("pk"))
    for item in goods:
        item.custom_fields = {warranty.api_name: rng.choice([6, 12, 24, 36])}
    Item.objects.bulk_update(goods, ["custom_fields"], batch_size=500)


@transaction.atomic
def demo_seed(*, customers: int = 300, vendors: int = 60, items: int = 80, transactions: int = 250) -> DemoResult:
    existing = Organization.objects.filter(slug=DEMO_SLUG).first()
    if existing is not None:
        return DemoResult(existing, created=False)
    rng = random.Random(20261124)
    admin = User.objects.filter(email=DEMO_EMAIL).first()
    if admin is None:
        admin = User.objects.create_user(email=DEMO_EMAIL, password=DEMO_PASSWORD, first_name="Demo", last_name="Admin")
    org = organization_create(
        name="Demo Company",
        slug=DEMO_SLUG,
        admin=admin,
        email="billing@demo.test",
        country="United States",
        time_zone="America/New_York",
        base_currency="USD",
        quote_conversion=QuoteConversion.DRAFT,
    )
    accountant = User.objects.filter(email="accountant@demo.test").first() or User.objects.create_user(
        email="accountant@demo.test", password=DEMO_PASSWORD, first_name="Alex", last_name="Accountant"
    )
    member_add(organization=org, user=accountant, role="accountant")

    def address(kind: str) -> dict[str, str]:
        city, state = rng.choice(_CITIES)
        return {
            f"{kind}_street": f"{rng.randint(10, 9999)} {rng.choice(_WORDS)} St",
            f"{kind}_city": city,
            f"{kind}_state": state,
            f"{kind}_zip": f"{rng.randint(10000, 99999)}",
            f"{kind}_country": "U.S.A",
        }

    rows = []
    for n in range(1, customers + 1):
        if n % 4 == 0:
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            name, sub, company = f"{first} {last} {n}", CustomerSubType.INDIVIDUAL, ""
        else:
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            name = _company(rng, n)
            sub, company = CustomerSubType.BUSINESS, name
        rows.append(
            Contact(
                organization=org,
                contact_type=ContactType.CUSTOMER,
                customer_sub_type=sub,
                contact_name=name,
                company_name=company,
                first_name=first,
                last_name=last,
                email=f"{first.lower()}.{last.lower()}{n}@example.com",
                phone=f"+1-555-{n:04d}",
                currency_code="USD",
                payment_terms=rng.choice([0, 15, 30]),
                **address("billing"),
            )
        )
    for n in range(1, vendors + 1):
        name = _company(rng, 1000 + n)
        rows.append(
            Contact(
                organization=org,
                contact_type=ContactType.VENDOR,
                contact_name=name,
                company_name=name,
                email=f"ap{n}@vendor.example.com",
                phone=f"+1-555-7{n:03d}",
                currency_code="USD",
                **address("billing"),
            )
        )
    Contact.objects.bulk_create(rows, batch_size=500)
    item_rows = []
    for n in range(1, items + 1):
        goods = n % 3 != 0
        base = rng.choice(_GOODS if goods else _SERVICES)
        item_rows.append(
            Item(
                organization=org,
                name=f"{base} {n}",
                sku=f"SKU-{n:04d}",
                product_type=ProductType.GOODS if goods else ProductType.SERVICE,
                rate=Decimal(rng.randint(20, 2000)) + Decimal("0.00"),
                unit="pcs" if goods else "hrs",
                description=f"{base} for teams",
            )
        )
    Item.objects.bulk_create(item_rows, batch_size=500)
    _demo_details(org)

    customer_ids = list(
        Contact.objects.filter(organization=org, contact_type=ContactType.CUSTOMER).values_list("pk", flat=True)
    )
    vendor_ids = list(
        Contact.objects.filter(organization=org, contact_type=ContactType.VENDOR).values_list("pk", flat=True)
    )
    item_list = list(Item.objects.filter(organization=org))
    today = timezone.localdate()
    kinds = (
        [TransactionKind.INVOICE] * 5
        + [TransactionKind.QUOTE] * 2
        + [TransactionKind.SALES_ORDER, TransactionKind.PURCHASE_ORDER, TransactionKind.EXPENSE]
    )
    for _ in range(transactions):
        kind = rng.choice(kinds)
        date = today - datetime.timedelta(days=rng.randint(0, 120))
        lines = [
            LineInput(item_id=item.pk, quantity=Decimal(rng.randint(1, 5)), rate=item.rate)
            for item in rng.sample(item_list, rng.randint(1, 3))
        ]
        if kind == TransactionKind.EXPENSE:
            billable = rng.random() < 0.3
            data = TransactionInput(
                contact_id=rng.choice(vendor_ids),
                date=date,
                account_name=rng.choice(["Travel", "Office Supplies", "Software", "Meals"]),
                amount=Decimal(rng.randint(15, 900)),
                is_billable=billable,
                customer_id=rng.choice(customer_ids) if billable else None,
            )
        else:
            contact_id = rng.choice(vendor_ids if kind == TransactionKind.PURCHASE_ORDER else customer_ids)
            data = TransactionInput(
                contact_id=contact_id, date=date, due_date=date + datetime.timedelta(days=30), lines=lines
            )
        txn = transaction_create(organization=org, actor=admin, kind=kind, data=data)
        roll = rng.random()
        if kind == TransactionKind.INVOICE and roll < 0.75:
            transaction_set_status(txn=txn, actor=admin, status=TransactionStatus.SENT)
            if roll < 0.35:
                transaction_set_status(txn=txn, actor=admin, status=TransactionStatus.PAID)
        elif kind == TransactionKind.QUOTE and roll < 0.6:
            transaction_set_status(txn=txn, actor=admin, status=TransactionStatus.SENT)
        elif kind in (TransactionKind.SALES_ORDER, TransactionKind.PURCHASE_ORDER) and roll < 0.5:
            transaction_set_status(txn=txn, actor=admin, status=TransactionStatus.OPEN)
    return DemoResult(org, created=True)

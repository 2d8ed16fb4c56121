"""Fixtures of the page tests: records of each entity in the acting org and in another org."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from books.models import ContactPerson, Transaction, TransactionKind
from books.services.contacts import contact_person_create
from books.services.custom_fields import custom_field_create
from books.services.transactions import LineInput, TransactionInput, transaction_create
from tests.factories import CustomerFactory, ItemFactory, VendorFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Every test signs users in; the default PBKDF2 would spend most of the suite's time hashing their passwords.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_txn(org, kind: str, contact=None, *, lines=None, **fields) -> Transaction:
    """A transaction made through the service, as the pages make them."""
    if kind == TransactionKind.EXPENSE:
        data = TransactionInput(
            contact_id=contact.pk if contact else None, account_name="Travel", amount=Decimal("42.00"), **fields
        )
    else:
        data = TransactionInput(
            contact_id=contact.pk,
            lines=lines or [LineInput(name="Consulting", quantity=Decimal("2"), rate=Decimal("150.00"))],
            **fields,
        )
    return transaction_create(organization=org, actor=None, kind=kind, data=data)


def contact_for(org, kind: str):
    if kind in (TransactionKind.PURCHASE_ORDER, TransactionKind.EXPENSE):
        return VendorFactory(organization=org)
    return CustomerFactory(organization=org)


@pytest.fixture
def customer(org):
    return CustomerFactory(organization=org, contact_name="Bowman and Co", company_name="Bowman and Co")


@pytest.fixture
def vendor(org):
    return VendorFactory(organization=org, contact_name="Paper Supply Ltd", company_name="Paper Supply Ltd")


@pytest.fixture
def item(org):
    return ItemFactory(organization=org, name="Hard Drive", rate=Decimal("120.00"), description="500GB, USB 2.0")


@pytest.fixture
def person(customer) -> ContactPerson:
    return contact_person_create(contact=customer, actor=None, data={"first_name": "Will", "last_name": "Smith"})


@pytest.fixture
def invoice(org, customer):
    return make_txn(org, TransactionKind.INVOICE, customer)


@pytest.fixture
def foreign(other_org):
    """One record of every entity in another organization."""
    customer = CustomerFactory(organization=other_org, contact_name="Foreign Customer")
    vendor = VendorFactory(organization=other_org, contact_name="Foreign Vendor")
    records = {
        "customer": customer,
        "vendor": vendor,
        "person": contact_person_create(contact=customer, actor=None, data={"last_name": "Foreign Person"}),
        "vendor_person": contact_person_create(contact=vendor, actor=None, data={"last_name": "Foreign VPerson"}),
        "item": ItemFactory(organization=other_org, name="Foreign Item"),
        "custom_field": custom_field_create(
            organization=other_org, actor=None, entity="customer", label="Foreign Field", data_type="text"
        ),
    }
    for kind in TransactionKind.values:
        records[kind] = make_txn(other_org, kind, vendor if kind in ("purchaseorder", "expense") else customer)
    return records


@pytest.fixture
def hx_client(admin_user) -> Client:
    """A client whose requests come from htmx."""
    client = Client(HTTP_HX_REQUEST="true")
    client.force_login(admin_user)
    return client

"""factory_boy factories for the Books domain."""

from __future__ import annotations

from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from books.models import (
    NUMBER_PREFIX,
    Contact,
    ContactType,
    CustomerSubType,
    DocumentSequence,
    Item,
    Membership,
    Organization,
    Role,
    User,
)


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User{n}")
    password = factory.django.Password("pass12345")


class OrganizationFactory(DjangoModelFactory[Organization]):
    class Meta:
        model = Organization
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Org {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    email = factory.Sequence(lambda n: f"org{n}@example.test")
    country = "United States"
    base_currency = "USD"

    @factory.post_generation
    def sequences(obj, create, extracted, **kwargs):
        if create:
            DocumentSequence.objects.bulk_create(
                DocumentSequence(organization=obj, kind=kind, prefix=prefix) for kind, prefix in NUMBER_PREFIX.items()
            )


class MembershipFactory(DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.ADMIN


class CustomerFactory(DjangoModelFactory[Contact]):
    class Meta:
        model = Contact

    organization = factory.SubFactory(OrganizationFactory)
    contact_type = ContactType.CUSTOMER
    customer_sub_type = CustomerSubType.BUSINESS
    contact_name = factory.Sequence(lambda n: f"Customer {n}")
    company_name = factory.SelfAttribute("contact_name")
    email = factory.Sequence(lambda n: f"customer{n}@example.test")
    currency_code = "USD"


class VendorFactory(CustomerFactory):
    contact_type = ContactType.VENDOR
    contact_name = factory.Sequence(lambda n: f"Vendor {n}")
    email = factory.Sequence(lambda n: f"vendor{n}@example.test")


class ItemFactory(DjangoModelFactory[Item]):
    class Meta:
        model = Item

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Item {n}")
    sku = factory.Sequence(lambda n: f"SKU-{n}")
    rate = Decimal("100.00")

"""The service and selector functions added or fixed for the pages."""

from __future__ import annotations

from decimal import Decimal

import pytest

from books.errors import ApplicationError, Conflict
from books.models import Contact, ContactPerson, Item, Membership, Role, TransactionKind
from books.selectors import contact_options, item_options
from books.services.contacts import (
    contact_delete,
    contact_list_set_status,
    contact_person_create,
    contact_person_delete,
)
from books.services.custom_fields import custom_field_create, custom_field_set_active, custom_field_update
from books.services.items import item_list_set_status
from books.services.organizations import member_invite, member_remove, member_set_role, organization_update
from books.services.transactions import LineInput, TransactionInput, transaction_create, transaction_totals_preview
from tests.books.pages.conftest import make_txn
from tests.factories import CustomerFactory, ItemFactory, VendorFactory

pytestmark = pytest.mark.django_db


def test_contact_list_set_status_is_scoped_to_org_type_and_filter(org, other_org):
    linked = CustomerFactory(organization=org, zcrm_account_id="1")
    plain = CustomerFactory(organization=org)
    vendor = VendorFactory(organization=org, zcrm_vendor_id="2")
    foreign = CustomerFactory(organization=other_org, zcrm_account_id="3")
    count = contact_list_set_status(
        organization=org, actor=None, contact_type="customer", status="inactive", filter_by="crm"
    )
    assert count == 1
    statuses = dict(Contact.objects.values_list("pk", "status"))
    assert statuses == {linked.pk: "inactive", plain.pk: "active", vendor.pk: "active", foreign.pk: "active"}
    assert (
        contact_list_set_status(
            organization=org,
            actor=None,
            contact_type="customer",
            status="inactive",
            contact_ids=[vendor.pk, foreign.pk],
        )
        == 0
    )
    with pytest.raises(ApplicationError, match="contact_ids: select at least one row"):
        contact_list_set_status(
            organization=org, actor=None, contact_type="customer", status="inactive", contact_ids=[]
        )
    with pytest.raises(ApplicationError, match="status"):
        contact_list_set_status(organization=org, actor=None, contact_type="customer", status="gone")


def test_item_list_set_status_by_search(org):
    ItemFactory(organization=org, name="Blue pen")
    ItemFactory(organization=org, name="Red pen")
    ItemFactory(organization=org, name="Stapler")
    assert item_list_set_status(organization=org, actor=None, status="inactive", search="pen") == 2
    assert sorted(Item.objects.filter(status="inactive").values_list("name", flat=True)) == ["Blue pen", "Red pen"]


def test_contact_billed_on_an_expense_cannot_be_deleted(org):
    customer = CustomerFactory(organization=org)
    make_txn(org, TransactionKind.EXPENSE, VendorFactory(organization=org), is_billable=True, customer_id=customer.pk)
    with pytest.raises(Conflict, match="has transactions and cannot be deleted"):
        contact_delete(contact=customer, actor=None)
    assert Contact.objects.filter(pk=customer.pk).exists()


def test_deleting_the_primary_contact_person_promotes_the_next(org):
    customer = CustomerFactory(organization=org)
    first = contact_person_create(contact=customer, actor=None, data={"last_name": "First"})
    second = contact_person_create(contact=customer, actor=None, data={"last_name": "Second"})
    contact_person_delete(person=first, actor=None)
    second.refresh_from_db()
    assert second.is_primary_contact
    contact_person_delete(person=second, actor=None)
    assert not ContactPerson.objects.filter(contact=customer).exists()


def test_custom_field_label_length_and_update(org):
    with pytest.raises(ApplicationError, match="label: at most 100 characters"):
        custom_field_create(organization=org, actor=None, entity="item", label="x" * 101, data_type="text")
    region = custom_field_create(
        organization=org, actor=None, entity="item", label="Region", data_type="picklist", options=["A"]
    )
    custom_field_create(organization=org, actor=None, entity="item", label="Other", data_type="text")
    with pytest.raises(Conflict, match="already exists"):
        custom_field_update(definition=region, actor=None, label="other", options=["A"])
    with pytest.raises(ApplicationError, match="options: a picklist needs at least one option"):
        custom_field_update(definition=region, actor=None, label="Region", options=[" "])
    custom_field_update(definition=region, actor=None, label="Area", options=["A", "B", "a"])
    region.refresh_from_db()
    assert (region.label, region.options, region.api_name) == ("Area", ["A", "B"], "cf_region")
    custom_field_set_active(definition=region, actor=None, is_active=False)
    region.refresh_from_db()
    assert region.is_active is False


def test_organization_update_validates_currency_and_time_zone(org, admin_user):
    with pytest.raises(ApplicationError, match="base_currency: must be a 3-letter"):
        organization_update(organization=org, actor=admin_user, base_currency="E1R")
    with pytest.raises(ApplicationError, match="time_zone: 'Nowhere/City' is not a time zone"):
        organization_update(organization=org, actor=admin_user, time_zone="Nowhere/City")
    organization_update(organization=org, actor=admin_user, base_currency="gbp", time_zone="Europe/London")
    org.refresh_from_db()
    assert (org.base_currency, org.time_zone) == ("GBP", "Europe/London")


def test_member_rules(org, admin_user, integration_user):
    accountant = member_invite(
        organization=org, actor=admin_user, email="Bob@acme.test", role="accountant", password="secret-123"
    )
    assert accountant.user.email == "bob@acme.test"
    with pytest.raises(Conflict, match="already a member"):
        member_invite(organization=org, actor=admin_user, email="bob@acme.test", role="admin")
    with pytest.raises(ApplicationError, match="integration users are added from Settings › Zoho Apps"):
        member_invite(
            organization=org, actor=admin_user, email="c@acme.test", role=Role.INTEGRATION_USER, password="x" * 9
        )
    me = Membership.objects.get(organization=org, user=admin_user)
    with pytest.raises(Conflict, match="at least one admin"):
        member_set_role(membership=me, actor=admin_user, role="accountant")
    member_set_role(membership=accountant, actor=admin_user, role="admin")
    member_set_role(membership=me, actor=admin_user, role="accountant")
    integration = Membership.objects.get(organization=org, user=integration_user)
    with pytest.raises(ApplicationError, match="Manage Users"):
        member_set_role(membership=integration, actor=admin_user, role="admin")
    with pytest.raises(ApplicationError, match="cannot be deleted from the Users page"):
        member_remove(membership=integration, actor=admin_user)
    with pytest.raises(Conflict, match="at least one admin"):
        member_remove(membership=accountant, actor=admin_user)
    member_remove(membership=me, actor=admin_user)
    assert not Membership.objects.filter(pk=me.pk).exists()


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        (LineInput(name="x", rate="1000000000000"), "line_items[0].rate", "must be less than"),
        (LineInput(name="x", rate="1", quantity="100000000000"), "line_items[0].quantity", "must be less than"),
        (
            LineInput(name="x", rate="999999999999", quantity="1000"),
            "line_items[0].rate",
            "the line amount is too large",
        ),
    ],
)
def test_amounts_beyond_the_columns_are_refused(org, line, field, message):
    customer = CustomerFactory(organization=org)
    with pytest.raises(ApplicationError) as exc:
        transaction_create(
            organization=org, actor=None, kind="invoice", data=TransactionInput(contact_id=customer.pk, lines=[line])
        )
    assert exc.value.field == field
    assert message in exc.value.message


def test_expense_account_name_length(org):
    with pytest.raises(ApplicationError, match="account_name: at most 100 characters"):
        transaction_create(
            organization=org, actor=None, kind="expense", data=TransactionInput(account_name="a" * 101, amount="1")
        )


def test_totals_preview_matches_what_is_saved(org):
    customer = CustomerFactory(organization=org)
    lines = [LineInput(name="a", quantity="3", rate="19.995", tax_percentage="7.5"), LineInput(name="b", rate="10")]
    preview = transaction_totals_preview(organization=org, kind="invoice", lines=lines)
    saved = transaction_create(
        organization=org, actor=None, kind="invoice", data=TransactionInput(contact_id=customer.pk, lines=lines)
    )
    assert (preview.sub_total, preview.tax_total, preview.total) == (saved.sub_total, saved.tax_total, saved.total)
    assert preview.total == Decimal("74.50")


def test_pickers_keep_the_selected_record_and_stay_in_the_org(org, other_org):
    names = [CustomerFactory(organization=org, contact_name=f"C{n:03d}").pk for n in range(5)]
    inactive = CustomerFactory(organization=org, contact_name="Zz inactive", status="inactive")
    foreign = CustomerFactory(organization=other_org)
    options, more = contact_options(organization=org, contact_type="customer", limit=3, selected_id=inactive.pk)
    assert more is True
    assert [o.pk for o in options] == [inactive.pk, *names[:3]]
    options, _ = contact_options(organization=org, contact_type="customer", selected_id=foreign.pk)
    assert foreign.pk not in [o.pk for o in options]
    items = [ItemFactory(organization=org, name=f"I{n}") for n in range(3)]
    foreign_item = ItemFactory(organization=other_org)
    options, more = item_options(organization=org, limit=2, selected_ids=[str(items[2].pk), foreign_item.pk, "x"])
    assert more is True
    assert [o.pk for o in options] == [items[0].pk, items[1].pk, items[2].pk]

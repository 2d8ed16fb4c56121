"""Contacts and contact persons through the API: shapes, filters, writes, custom fields, sync-owned fields."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from books.models import Contact, ContactPerson, CustomFieldEntity, Status
from books.services.custom_fields import custom_field_create
from books.services.transactions import LineInput, TransactionInput, transaction_create, transaction_set_status
from tests.api.conftest import assert_error, url
from tests.factories import CustomerFactory, VendorFactory

pytestmark = pytest.mark.django_db

CREATE_BODY = {
    "contact_name": "Bowman and Co",
    "company_name": "Bowman and Co",
    "contact_type": "customer",
    "customer_sub_type": "business",
    "payment_terms": 15,
    "email": "bills@bowman.test",
    "website": "bowman.test",
    "notes": "Payment option : Through check",
    "billing_address": {"attention": "Mr.John", "address": "4900 Hopyard Rd", "city": "Pleasanton", "zip": "94588"},
    "shipping_address": {"address": "4900 Hopyard Rd", "city": "Pleasanton", "country": "U.S.A"},
    "contact_persons": [
        {"salutation": "Mr", "first_name": "Will", "last_name": "Smith", "email": "will@bowman.test"},
        {"first_name": "Ann", "last_name": "Lee", "is_primary_contact": True, "enable_portal": True},
    ],
}


def test_create_contact_returns_201_with_zoho_shape(api, org):
    response = api.post(url(api, "contacts"), CREATE_BODY, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["code"] == 0
    assert body["message"] == "The contact has been created"
    contact = body["contact"]
    saved = Contact.objects.get(organization=org)
    assert contact["contact_id"] == str(saved.pk)
    assert saved.billing_street == "4900 Hopyard Rd"
    assert contact["billing_address"]["address"] == "4900 Hopyard Rd"
    assert contact["billing_address"]["attention"] == "Mr.John"
    assert contact["shipping_address"]["country"] == "U.S.A"
    assert contact["payment_terms"] == 15
    assert contact["currency_code"] == "USD"
    assert contact["status"] == "active"
    assert contact["source"] == "books"
    assert contact["is_linked_with_zohocrm"] is False
    assert contact["zcrm_account_id"] == ""
    assert contact["outstanding_receivable_amount"] == 0
    names = {p["first_name"]: p for p in contact["contact_persons"]}
    assert names["Ann"]["is_primary_contact"] is True
    assert names["Will"]["is_primary_contact"] is False
    assert contact["primary_contact_id"] == names["Ann"]["contact_person_id"]
    for key in ("custom_fields", "custom_field_hash", "crm_owner_id", "zcrm_contact_id", "zcrm_vendor_id"):
        assert key in contact
    assert contact["created_time"]
    assert contact["last_modified_time"]


def test_create_vendor(api, org):
    response = api.post(url(api, "contacts"), {"contact_name": "Parts", "contact_type": "vendor"}, format="json")
    assert response.status_code == 201
    assert response.json()["contact"]["contact_type"] == "vendor"
    assert response.json()["contact"]["customer_sub_type"] == ""


def test_contact_name_is_derived_or_required(api):
    response = api.post(url(api, "contacts"), {"first_name": "Ada", "last_name": "Lovelace"}, format="json")
    assert response.json()["contact"]["contact_name"] == "Ada Lovelace"
    assert_error(api.post(url(api, "contacts"), {"notes": "nameless"}, format="json"), 400, field="contact_name")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"contact_name": {"a": 1}}, "contact_name"),
        ({"contact_name": ["a"]}, "contact_name"),
        ({"contact_name": "x" * 201}, "contact_name"),
        ({"contact_name": "x", "payment_terms": "fifteen"}, "payment_terms"),
        ({"contact_name": "x", "payment_terms": -1}, "payment_terms"),
        ({"contact_name": "x", "payment_terms": True}, "payment_terms"),
        ({"contact_name": "x", "contact_type": "friend"}, "contact_type"),
        ({"contact_name": "x", "customer_sub_type": "alien"}, "customer_sub_type"),
        ({"contact_name": "x", "email": "not-an-email"}, "email"),
        ({"contact_name": "x", "currency_code": "EU"}, "currency_code"),
        ({"contact_name": "x", "billing_address": "Main St"}, "billing_address"),
        ({"contact_name": "x", "billing_address": ["Main St"]}, "billing_address"),
        ({"contact_name": "x", "billing_address": {"city": {"n": 1}}}, "billing_address.city"),
        ({"contact_name": "x", "contact_persons": {"last_name": "x"}}, "contact_persons"),
        ({"contact_name": "x", "contact_persons": [{"email": "a@b.test"}]}, "contact_persons.last_name"),
        ({"contact_name": "x", "contact_persons": [{"last_name": 1.5}]}, "contact_persons[0].last_name"),
        ({"contact_name": "x\x00"}, "contact_name"),
        ({"contact_name": "x", "custom_fields": {"index": 1}}, "custom_fields"),
        ({"contact_name": "x", "custom_fields": [{"value": "v"}]}, "custom_fields[0]"),
        ({"contact_name": "x", "custom_fields": [{"index": 1, "value": "v"}]}, "custom_fields[0].index"),
    ],
)
def test_bad_contact_bodies_are_400_naming_the_field(api, body, field):
    assert_error(api.post(url(api, "contacts"), body, format="json"), 400, field=field)
    assert Contact.objects.count() == 0


@pytest.mark.parametrize("key", ["source", "zcrm_account_id", "zcrm_contact_id", "zcrm_vendor_id", "crm_owner_id"])
def test_sync_owned_fields_are_read_only(api, customer, key):
    assert_error(api.post(url(api, "contacts"), {"contact_name": "x", key: "1"}, format="json"), 400, field=key)
    response = api.put(url(api, f"contacts/{customer.pk}"), {key: "999"}, format="json")
    assert_error(response, 400, field=key)
    customer.refresh_from_db()
    assert getattr(customer, key) in ("", "books")


def test_get_update_delete_contact(api, org, customer):
    response = api.get(url(api, f"contacts/{customer.pk}"))
    assert response.json()["contact"]["contact_name"] == "Bowman and Co"

    response = api.put(
        url(api, f"contacts/{customer.pk}"),
        {"phone": "+1-925-921-9201", "billing_address": {"city": "Dublin"}, "contact_type": "customer"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["message"] == "Contact has been updated successfully"
    customer.refresh_from_db()
    assert customer.phone == "+1-925-921-9201"
    assert customer.billing_city == "Dublin"
    assert customer.contact_name == "Bowman and Co"  # untouched: only what is sent changes

    response = api.delete(url(api, f"contacts/{customer.pk}"))
    assert response.json() == {"code": 0, "message": "The contact has been deleted."}
    assert not Contact.objects.filter(pk=customer.pk).exists()


def test_contact_type_cannot_change_and_persons_go_through_their_endpoint(api, customer):
    assert_error(
        api.put(url(api, f"contacts/{customer.pk}"), {"contact_type": "vendor"}, format="json"),
        400,
        field="contact_type",
    )
    assert_error(
        api.put(url(api, f"contacts/{customer.pk}"), {"contact_persons": [{"last_name": "x"}]}, format="json"),
        400,
        field="contact_persons",
    )


def test_contact_with_transactions_cannot_be_deleted(api, org, customer):
    transaction_create(
        organization=org,
        actor=None,
        kind="invoice",
        data=TransactionInput(contact_id=customer.pk, lines=[LineInput(name="x", rate="1")]),
    )
    assert_error(api.delete(url(api, f"contacts/{customer.pk}")), 409, code=1003, field="contact_id")
    assert Contact.objects.filter(pk=customer.pk).exists()


def test_mark_active_and_inactive(api, customer):
    response = api.post(url(api, f"contacts/{customer.pk}/inactive"))
    assert response.json() == {"code": 0, "message": "The contact has been marked as inactive."}
    customer.refresh_from_db()
    assert customer.status == Status.INACTIVE
    api.post(url(api, f"contacts/{customer.pk}/active"))
    customer.refresh_from_db()
    assert customer.status == Status.ACTIVE


@pytest.mark.parametrize("contact_id", ["999999", "abc", "1e3", "9" * 40])
def test_unknown_contact_is_404_naming_contact_id(api, contact_id):
    assert_error(api.get(url(api, f"contacts/{contact_id}")), 404, code=1002, field="contact_id")
    assert_error(api.put(url(api, f"contacts/{contact_id}"), {}, format="json"), 404, field="contact_id")
    assert_error(api.delete(url(api, f"contacts/{contact_id}")), 404, field="contact_id")
    assert_error(api.post(url(api, f"contacts/{contact_id}/active")), 404, field="contact_id")


def _names(response):
    assert response.status_code == 200, response.content
    return [c["contact_name"] for c in response.json()["contacts"]]


def test_list_filters(api, org):
    CustomerFactory(organization=org, contact_name="Alpha Traders", email="a@alpha.test")
    CustomerFactory(organization=org, contact_name="Beta Inc", status=Status.INACTIVE)
    CustomerFactory(organization=org, contact_name="Gamma CRM", zcrm_account_id="A1", notes="vip")
    CustomerFactory(organization=org, contact_name="Delta Person", zcrm_contact_id="C1")
    VendorFactory(organization=org, contact_name="Epsilon Vendor", zcrm_vendor_id="V1")

    assert _names(api.get(url(api, "contacts", filter_by="Status.Crm"))) == [
        "Delta Person",
        "Epsilon Vendor",
        "Gamma CRM",
    ]
    assert _names(api.get(url(api, "contacts", filter_by="Status.Inactive"))) == ["Beta Inc"]
    assert "Beta Inc" not in _names(api.get(url(api, "contacts", filter_by="Status.Active")))
    assert _names(api.get(url(api, "contacts", contact_type="vendor"))) == ["Epsilon Vendor"]
    assert _names(api.get(url(api, "contacts", search_text="vip"))) == ["Gamma CRM"]
    assert _names(api.get(url(api, "contacts", contact_name="alpha traders"))) == ["Alpha Traders"]
    assert _names(api.get(url(api, "contacts", contact_name_startswith="del"))) == ["Delta Person"]
    assert _names(api.get(url(api, "contacts", contact_name_contains="CRM"))) == ["Gamma CRM"]
    assert _names(api.get(url(api, "contacts", email="A@ALPHA.test"))) == ["Alpha Traders"]
    assert _names(api.get(url(api, "contacts", zcrm_account_id="A1"))) == ["Gamma CRM"]
    assert _names(api.get(url(api, "contacts", zcrm_contact_id="C1"))) == ["Delta Person"]
    assert _names(api.get(url(api, "contacts", zcrm_vendor_id="V1"))) == ["Epsilon Vendor"]
    assert _names(api.get(url(api, "contacts", zcrm_account_id="nope"))) == []
    assert _names(api.get(url(api, "contacts", sort_column="contact_name", sort_order="D")))[0] == "Gamma CRM"
    crm = api.get(url(api, "contacts", zcrm_account_id="A1")).json()["contacts"][0]
    assert crm["is_linked_with_zohocrm"] is True
    assert crm["zcrm_account_id"] == "A1"


def test_list_sorts_by_outstanding_receivables(api, org):
    small = CustomerFactory(organization=org, contact_name="Small")
    big = CustomerFactory(organization=org, contact_name="Big")
    for contact, rate in ((small, "10"), (big, "500")):
        invoice = transaction_create(
            organization=org,
            actor=None,
            kind="invoice",
            data=TransactionInput(contact_id=contact.pk, lines=[LineInput(name="x", rate=rate)]),
        )
        transaction_set_status(txn=invoice, actor=None, status="sent")
    body = api.get(url(api, "contacts", sort_column="outstanding_receivable_amount", sort_order="D")).json()
    assert [c["contact_name"] for c in body["contacts"]] == ["Big", "Small"]
    assert body["contacts"][0]["outstanding_receivable_amount"] == 500


def test_list_query_count_does_not_grow_with_rows(api, org):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert api.get(url(api, "contacts")).status_code == 200
        return len(queries)

    CustomerFactory.create_batch(2, organization=org)
    count()  # the first call of a token also records its use
    few = count()
    for contact in CustomerFactory.create_batch(30, organization=org):
        ContactPerson.objects.create(organization=org, contact=contact, last_name="P")
    assert count() == few
    assert few <= 5  # token, membership, contacts (with receivables), persons, custom field definitions


# --- custom fields ---------------------------------------------------------------------------------------------


@pytest.fixture
def contact_fields(org):
    return {
        "vat": custom_field_create(
            organization=org, actor=None, entity=CustomFieldEntity.CUSTOMER, label="VAT ID", data_type="text"
        ),
        "score": custom_field_create(
            organization=org, actor=None, entity=CustomFieldEntity.CUSTOMER, label="Score", data_type="number"
        ),
        "tier": custom_field_create(
            organization=org,
            actor=None,
            entity=CustomFieldEntity.CUSTOMER,
            label="Tier",
            data_type="picklist",
            options=["Gold", "Silver"],
        ),
        "since": custom_field_create(
            organization=org, actor=None, entity=CustomFieldEntity.CUSTOMER, label="Since", data_type="date"
        ),
    }


def test_custom_fields_written_by_id_api_name_label_or_index(api, contact_fields):
    body = {
        "contact_name": "Custom Co",
        "custom_fields": [
            {"customfield_id": str(contact_fields["vat"].pk), "value": "GBGD078"},
            {"api_name": "cf_score", "value": "42"},
            {"label": "tier", "value": "gold"},
            {"index": 4, "value": "2024-02-29"},
        ],
    }
    response = api.post(url(api, "contacts"), body, format="json")
    assert response.status_code == 201, response.content
    contact = response.json()["contact"]
    by_label = {f["label"]: f for f in contact["custom_fields"]}
    assert by_label["VAT ID"]["value"] == "GBGD078"
    assert by_label["VAT ID"]["customfield_id"] == str(contact_fields["vat"].pk)
    assert by_label["VAT ID"]["data_type"] == "string"
    assert by_label["VAT ID"]["index"] == 1
    assert by_label["Score"]["value"] == 42
    assert by_label["Tier"]["value"] == "Gold"
    assert by_label["Tier"]["data_type"] == "dropdown"
    assert by_label["Since"]["value"] == "2024-02-29"
    assert contact["custom_field_hash"]["cf_score"] == "42"
    assert contact["custom_field_hash"]["cf_score_unformatted"] == 42
    saved = Contact.objects.get(contact_name="Custom Co")
    assert saved.custom_fields == {"cf_vat_id": "GBGD078", "cf_score": 42, "cf_tier": "Gold", "cf_since": "2024-02-29"}

    # an update changes only the fields sent; null clears one
    response = api.put(
        url(api, f"contacts/{saved.pk}"), {"custom_fields": [{"api_name": "cf_vat_id", "value": None}]}, format="json"
    )
    assert response.status_code == 200, response.content
    saved.refresh_from_db()
    assert saved.custom_fields == {"cf_score": 42, "cf_tier": "Gold", "cf_since": "2024-02-29"}


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"api_name": "cf_score", "value": "many"}, "custom_fields.cf_score (Score)"),
        ({"label": "Tier", "value": "Bronze"}, "custom_fields.cf_tier (Tier)"),
        ({"index": 4, "value": "yesterday"}, "custom_fields.cf_since (Since)"),
        ({"api_name": "cf_nope", "value": "x"}, "custom_fields[0].api_name"),
        ({"customfield_id": "999999", "value": "x"}, "custom_fields[0].customfield_id"),
        ({"index": 9, "value": "x"}, "custom_fields[0].index"),
        ({"index": "first", "value": "x"}, "custom_fields[0].index"),
        ({"api_name": "cf_vat_id", "value": {"nested": True}}, "custom_fields[0].value"),
        ({"api_name": "cf_vat_id"}, "custom_fields[0].value"),
    ],
)
def test_bad_custom_field_values_name_the_field(api, contact_fields, row, field):
    response = api.post(url(api, "contacts"), {"contact_name": "x", "custom_fields": [row]}, format="json")
    assert_error(response, 400, field=field)
    assert Contact.objects.count() == 0


def test_vendor_custom_fields_are_not_customer_ones(api, contact_fields):
    body = {"contact_name": "V", "contact_type": "vendor", "custom_fields": [{"api_name": "cf_vat_id", "value": "1"}]}
    assert_error(api.post(url(api, "contacts"), body, format="json"), 400, field="custom_fields[0].api_name")


# --- contact persons -------------------------------------------------------------------------------------------


def test_contact_person_lifecycle(api, customer):
    response = api.post(
        url(api, "contacts/contactpersons"),
        {"contact_id": str(customer.pk), "first_name": "Will", "last_name": "Smith", "email": "w@b.test"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["message"] == "The contactperson has been Created"
    first = response.json()["contact_person"]
    assert first["contact_id"] == str(customer.pk)
    assert first["is_primary_contact"] is True  # the first person is the primary one
    second = api.post(
        url(api, "contacts/contactpersons"), {"contact_id": customer.pk, "last_name": "Lee"}, format="json"
    ).json()["contact_person"]
    assert second["is_primary_contact"] is False

    listed = api.get(url(api, f"contacts/{customer.pk}/contactpersons")).json()
    assert {p["last_name"] for p in listed["contact_persons"]} == {"Smith", "Lee"}
    assert listed["page_context"]["report_name"] == "Contact Persons"
    got = api.get(url(api, f"contacts/{customer.pk}/contactpersons/{second['contact_person_id']}")).json()
    assert got["contact_person"]["last_name"] == "Lee"

    response = api.put(
        url(api, f"contacts/contactpersons/{second['contact_person_id']}"), {"designation": "CFO"}, format="json"
    )
    assert response.json()["message"] == "The contactperson details has been updated."
    assert response.json()["contact_person"]["designation"] == "CFO"
    assert response.json()["contact_person"]["last_name"] == "Lee"

    response = api.post(url(api, f"contacts/contactpersons/{second['contact_person_id']}/primary"))
    assert response.json()["message"] == "This contact person has been marked as your primary contact person."
    primary = ContactPerson.objects.get(contact=customer, is_primary_contact=True)
    assert str(primary.pk) == second["contact_person_id"]

    response = api.delete(url(api, f"contacts/contactpersons/{first['contact_person_id']}"))
    assert response.json() == {"code": 0, "message": "The contact person has been deleted."}
    assert ContactPerson.objects.filter(contact=customer).count() == 1


def test_contact_person_bad_input(api, org, customer):
    person = ContactPerson.objects.create(organization=org, contact=customer, last_name="Smith")
    other = CustomerFactory(organization=org)
    assert_error(
        api.post(url(api, "contacts/contactpersons"), {"last_name": "x"}, format="json"), 400, field="contact_id"
    )
    assert_error(
        api.post(url(api, "contacts/contactpersons"), {"contact_id": "abc", "last_name": "x"}, format="json"),
        400,
        field="contact_id",
    )
    assert_error(
        api.post(url(api, "contacts/contactpersons"), {"contact_id": 999999, "last_name": "x"}, format="json"),
        404,
        field="contact_id",
    )
    assert_error(
        api.post(url(api, "contacts/contactpersons"), {"contact_id": customer.pk}, format="json"),
        400,
        field="contact_persons.last_name",
    )
    assert_error(
        api.put(url(api, f"contacts/contactpersons/{person.pk}"), {"contact_id": other.pk}, format="json"),
        400,
        field="contact_id",
    )
    assert_error(
        api.put(url(api, f"contacts/contactpersons/{person.pk}"), {"is_primary_contact": "maybe"}, format="json"),
        400,
        field="is_primary_contact",
    )
    assert_error(
        api.put(url(api, f"contacts/contactpersons/{person.pk}"), {"zcrm_contact_id": "1"}, format="json"),
        400,
        field="zcrm_contact_id",
    )
    # a person of another contact is not found under this one
    assert_error(api.get(url(api, f"contacts/{other.pk}/contactpersons/{person.pk}")), 404, field="contact_person_id")
    assert_error(api.delete(url(api, "contacts/contactpersons/999999")), 404, field="contact_person_id")
    assert_error(api.post(url(api, "contacts/contactpersons/999999/primary")), 404, field="contact_person_id")

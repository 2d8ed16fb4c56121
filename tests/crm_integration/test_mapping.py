"""crm_integration.mapping: pure functions, no database."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest

from crm_integration.client import FieldMeta
from crm_integration.mapping import (
    BooksEntity,
    MappingError,
    MappingIncompatible,
    MappingSpec,
    books_catalog,
    books_entity_for,
    books_to_crm,
    check_compatible,
    crm_to_books,
    default_mappings,
    validate_mapping,
)


@dataclass
class CF:
    api_name: str
    label: str
    data_type: str
    options: list[str]


def meta(api_name: str, data_type: str, label: str | None = None, **kw) -> FieldMeta:
    return FieldMeta(api_name=api_name, label=label or api_name.replace("_", " "), data_type=data_type, **kw)


ACCOUNT_FIELDS = {
    f.api_name: f
    for f in [
        meta("Account_Name", "text"),
        meta("Phone", "phone"),
        meta("Website", "website"),
        meta("Fax", "phone"),
        meta("Billing_Street", "textarea"),
        meta("Billing_City", "text"),
        meta("Billing_State", "text"),
        meta("Billing_Code", "text"),
        meta("Billing_Country", "text"),
        meta("Shipping_City", "text"),
        meta("Owner", "ownerlookup"),
        meta("Description", "textarea"),
        meta("Annual_Revenue", "currency"),
        meta("Employees", "integer"),
        meta("Parent_Account", "lookup"),
        meta("Tier__c", "picklist", "Tier", custom_field=True, picklist_values=("Gold", "Silver")),
        meta("Since", "date"),
        meta("Last_Activity_Time", "datetime"),
        meta("VIP", "boolean"),
    ]
}


def test_catalog_adds_custom_fields_for_customers_but_not_contact_persons():
    custom = [CF("cf_tier", "Tier", "picklist", ["Gold", "Silver"])]
    names = [f.name for f in books_catalog(BooksEntity.CUSTOMER_BUSINESS, custom)]
    assert "contact_name" in names
    assert "billing_city" in names
    assert names[-1] == "cf:cf_tier"
    assert "cf:cf_tier" not in [f.name for f in books_catalog(BooksEntity.CONTACT_PERSON, custom)]


def test_entity_for_each_module_choice():
    assert books_entity_for(module="customers", crm_module="Accounts") == BooksEntity.CUSTOMER_BUSINESS
    assert books_entity_for(module="customers", crm_module="Contacts", crm_module_option="contacts") == (
        BooksEntity.CUSTOMER_INDIVIDUAL
    )
    assert books_entity_for(module="customers", crm_module="Contacts", crm_module_option="accounts_and_contacts") == (
        BooksEntity.CONTACT_PERSON
    )
    assert books_entity_for(module="vendors", crm_module="Vendors") == BooksEntity.VENDOR
    assert books_entity_for(module="items", crm_module="Products") == BooksEntity.ITEM


def test_default_account_maps_with_live_metadata():
    specs = default_mappings(crm_module="Accounts", entity=BooksEntity.CUSTOMER_BUSINESS, crm_fields=ACCOUNT_FIELDS)
    pairs = {(s.books_field, s.crm_field) for s in specs}
    assert ("contact_name", "Account_Name") in pairs
    assert ("company_name", "Account_Name") in pairs
    assert ("billing_zip", "Billing_Code") in pairs
    assert ("crm_owner_id", "Owner") in pairs
    # Shipping_Street is not in this org's metadata: left out, not mapped blindly.
    assert not any(s.crm_field == "Shipping_Street" for s in specs)
    assert all(s.is_default for s in specs)


def test_product_type_default_only_when_the_crm_has_the_picklist():
    base = {f.api_name: f for f in [meta("Product_Name", "text"), meta("Unit_Price", "currency")]}
    without = default_mappings(crm_module="Products", entity=BooksEntity.ITEM, crm_fields=base)
    assert {s.books_field for s in without} == {"name", "rate"}
    with_type = {**base, "Product_Type": meta("Product_Type", "picklist", picklist_values=("Goods", "Services"))}
    specs = default_mappings(crm_module="Products", entity=BooksEntity.ITEM, crm_fields=with_type)
    assert ("product_type", "Product_Type") in {(s.books_field, s.crm_field) for s in specs}


def test_each_default_table_is_complete_without_metadata():
    for crm_module, entity in [
        ("Accounts", BooksEntity.CUSTOMER_BUSINESS),
        ("Contacts", BooksEntity.CUSTOMER_INDIVIDUAL),
        ("Contacts", BooksEntity.CONTACT_PERSON),
        ("Vendors", BooksEntity.VENDOR),
        ("Products", BooksEntity.ITEM),
    ]:
        assert default_mappings(crm_module=crm_module, entity=entity), (crm_module, entity)
    vendor = {(s.books_field, s.crm_field) for s in default_mappings(crm_module="Vendors", entity=BooksEntity.VENDOR)}
    assert {("billing_zip", "Zip_Code"), ("contact_name", "Vendor_Name"), ("email", "Email")} <= vendor


@pytest.mark.parametrize(
    ("books_field", "crm_field"),
    [
        ("billing_city", "Billing_City"),
        ("notes", "Description"),
        ("payment_terms", "Employees"),
        ("crm_owner_id", "Owner"),
    ],
)
def test_compatible_maps_validate(books_field, crm_field):
    spec = validate_mapping(
        entity=BooksEntity.CUSTOMER_BUSINESS,
        crm_module="Accounts",
        books_field=books_field,
        crm_field=crm_field,
        crm_fields=ACCOUNT_FIELDS,
    )
    assert spec.crm_field == crm_field
    assert spec.crm_data_type == ACCOUNT_FIELDS[crm_field].data_type


def test_incompatible_map_names_both_fields_and_types():
    with pytest.raises(MappingIncompatible) as exc:
        validate_mapping(
            entity=BooksEntity.CUSTOMER_BUSINESS,
            crm_module="Accounts",
            books_field="billing_city",
            crm_field="Annual_Revenue",
            crm_fields=ACCOUNT_FIELDS,
        )
    message = exc.value.message
    assert "Billing City (billing_city, text)" in message
    assert "Annual Revenue (Annual_Revenue, currency)" in message


def test_lookup_is_not_mappable_and_says_so():
    with pytest.raises(MappingIncompatible) as exc:
        validate_mapping(
            entity=BooksEntity.CUSTOMER_BUSINESS,
            crm_module="Accounts",
            books_field="company_name",
            crm_field="Parent_Account",
            crm_fields=ACCOUNT_FIELDS,
        )
    assert "lookup fields cannot be mapped" in exc.value.message


def test_unknown_fields_on_either_side_are_named():
    with pytest.raises(MappingIncompatible, match="Colour is not a field of the CRM module Accounts"):
        validate_mapping(
            entity=BooksEntity.CUSTOMER_BUSINESS,
            crm_module="Accounts",
            books_field="billing_city",
            crm_field="Colour",
            crm_fields=ACCOUNT_FIELDS,
        )
    with pytest.raises(MappingIncompatible, match="favourite_colour is not a Books field of customer business"):
        validate_mapping(
            entity=BooksEntity.CUSTOMER_BUSINESS,
            crm_module="Accounts",
            books_field="favourite_colour",
            crm_field="Billing_City",
            crm_fields=ACCOUNT_FIELDS,
        )
    with pytest.raises(MappingIncompatible, match="custom field cf_gone does not exist"):
        validate_mapping(
            entity=BooksEntity.CUSTOMER_BUSINESS,
            crm_module="Accounts",
            books_field="cf:cf_gone",
            crm_field="Billing_City",
            crm_fields=ACCOUNT_FIELDS,
        )


def test_custom_field_maps_check_their_type():
    custom = [CF("cf_revenue", "Revenue", "decimal", []), CF("cf_tier", "Tier", "picklist", ["Gold", "Silver"])]
    ok = validate_mapping(
        entity=BooksEntity.CUSTOMER_BUSINESS,
        crm_module="Accounts",
        books_field="cf:cf_revenue",
        crm_field="Annual_Revenue",
        crm_fields=ACCOUNT_FIELDS,
        custom_fields=custom,
    )
    assert ok.books_data_type == "decimal"
    with pytest.raises(MappingIncompatible, match=r"Revenue \(custom field\) \(cf:cf_revenue, decimal\)"):
        validate_mapping(
            entity=BooksEntity.CUSTOMER_BUSINESS,
            crm_module="Accounts",
            books_field="cf:cf_revenue",
            crm_field="VIP",
            crm_fields=ACCOUNT_FIELDS,
            custom_fields=custom,
        )


def test_check_compatible_date_accepts_datetime():
    from crm_integration.mapping import BooksField

    check_compatible(BooksField("d", "D", "date"), meta("Last_Activity_Time", "datetime"))


# --- conversions -----------------------------------------------------------------------------------------------


def spec(books_field, crm_field, crm_type, books_type, crm_module="Accounts"):
    return MappingSpec(
        crm_module=crm_module,
        books_field=books_field,
        crm_field=crm_field,
        crm_data_type=crm_type,
        books_data_type=books_type,
    )


ACCOUNT_MAPS = [
    spec("contact_name", "Account_Name", "text", "text"),
    spec("company_name", "Account_Name", "text", "text"),
    spec("billing_city", "Billing_City", "text", "text"),
    spec("crm_owner_id", "Owner", "ownerlookup", "owner"),
    spec("cf:cf_revenue", "Annual_Revenue", "currency", "decimal"),
    spec("cf:cf_since", "Since", "date", "date"),
    spec("cf:cf_vip", "VIP", "boolean", "checkbox"),
    spec("cf:cf_seen", "Last_Activity_Time", "datetime", "date"),
    spec("cf:cf_tier", "Tier__c", "picklist", "picklist"),
]
CUSTOM = [
    CF("cf_revenue", "Revenue", "decimal", []),
    CF("cf_since", "Since", "date", []),
    CF("cf_vip", "VIP", "checkbox", []),
    CF("cf_seen", "Last seen", "date", []),
    CF("cf_tier", "Tier", "picklist", ["Gold", "Silver"]),
]


def test_crm_to_books_typed_values():
    record = {
        "id": "1",
        "Account_Name": " Zylker ",
        "Billing_City": None,
        "Owner": {"id": "554023000000235011", "name": "Patricia"},
        "Annual_Revenue": 12500.5,
        "Since": "2024-06-30",
        "VIP": True,
        "Last_Activity_Time": "2024-02-19T23:30:23-11:00",
        "Tier__c": "gold",
    }
    values, custom = crm_to_books(record, ACCOUNT_MAPS, CUSTOM)
    assert values == {
        "contact_name": "Zylker",
        "company_name": "Zylker",
        "billing_city": "",
        "crm_owner_id": "554023000000235011",
    }
    # The date the CRM user saw, in the CRM's own offset (not shifted to UTC, which would be Feb 20).
    assert custom == {
        "cf_revenue": "12500.5",
        "cf_since": "2024-06-30",
        "cf_vip": True,
        "cf_seen": "2024-02-19",
        "cf_tier": "Gold",
    }


def test_absent_crm_fields_are_left_alone():
    values, custom = crm_to_books({"Account_Name": "Zylker"}, ACCOUNT_MAPS, CUSTOM)
    assert values == {"contact_name": "Zylker", "company_name": "Zylker"}
    assert custom == {}


def test_item_conversions_money_status_and_product_type():
    maps = [
        spec("name", "Product_Name", "text", "text", "Products"),
        spec("rate", "Unit_Price", "currency", "money", "Products"),
        spec("status", "Product_Active", "boolean", "status", "Products"),
        spec("product_type", "Product_Type", "picklist", "picklist", "Products"),
    ]
    values, _ = crm_to_books(
        {"Product_Name": "Desk", "Unit_Price": 199.999, "Product_Active": False, "Product_Type": "Services"}, maps
    )
    assert values == {"name": "Desk", "rate": Decimal("200.00"), "status": "inactive", "product_type": "service"}
    assert isinstance(values["rate"], Decimal)
    record = books_to_crm(
        {"name": "Desk", "rate": Decimal("12.50"), "status": "active", "product_type": "goods"}, {}, maps
    )
    assert record == {"Product_Name": "Desk", "Unit_Price": 12.5, "Product_Active": True, "Product_Type": "Goods"}


@pytest.mark.parametrize(
    ("mapping_", "record", "field", "reason"),
    [
        (
            spec("rate", "Unit_Price", "currency", "money", "Products"),
            {"Unit_Price": "abc"},
            "Unit_Price",
            "not a number",
        ),
        (spec("rate", "Unit_Price", "currency", "money", "Products"), {"Unit_Price": -5}, "Unit_Price", "negative"),
        (spec("email", "Email", "email", "email", "Contacts"), {"Email": "not-an-email"}, "Email", "not a valid email"),
        (
            spec("product_type", "Product_Type", "picklist", "picklist", "Products"),
            {"Product_Type": "Digital"},
            "Product_Type",
            "neither Goods nor Services",
        ),
        (spec("cf:cf_since", "Since", "date", "date"), {"Since": "30/06/2024"}, "Since", "is not a date"),
        (
            spec("cf:cf_tier", "Tier__c", "picklist", "picklist"),
            {"Tier__c": "Bronze"},
            "Tier__c",
            "not one of the options",
        ),
        (spec("cf:cf_gone", "Since", "date", "date"), {"Since": "2024-01-01"}, "cf:cf_gone", "no longer exists"),
        (
            spec("contact_name", "Account_Name", "text", "text"),
            {"Account_Name": "x" * 201},
            "Account_Name",
            "longer than 200",
        ),
        (
            spec("payment_terms", "Employees", "integer", "number"),
            {"Employees": 2.5},
            "Employees",
            "not a whole number",
        ),
    ],
)
def test_values_that_do_not_fit_raise_mapping_error(mapping_, record, field, reason):
    with pytest.raises(MappingError) as exc:
        crm_to_books(record, [mapping_], CUSTOM)
    assert exc.value.field == field
    assert reason in exc.value.reason


def test_books_to_crm_first_map_wins_and_read_only_skipped():
    maps = [
        spec("contact_name", "Account_Name", "text", "text"),
        spec("company_name", "Account_Name", "text", "text"),
        spec("crm_owner_id", "Owner", "ownerlookup", "owner"),
        spec("account_number", "Account_Number", "autonumber", "text"),
        spec("cf:cf_since", "Since", "date", "date"),
        spec("cf:cf_seen", "Last_Activity_Time", "datetime", "date"),
        spec("cf:cf_revenue", "Annual_Revenue", "currency", "decimal"),
        spec("billing_city", "Billing_City", "text", "text"),
    ]
    record = books_to_crm(
        {
            "contact_name": "Zylker Inc",
            "company_name": "Zylker",
            "crm_owner_id": "42",
            "account_number": "7",
            "billing_city": "",
        },
        {"cf_since": "2024-06-30", "cf_seen": datetime.date(2024, 2, 19), "cf_revenue": "10.10"},
        maps,
        CUSTOM,
        read_only=["Billing_City"],
    )
    assert record == {
        "Account_Name": "Zylker Inc",
        "Owner": {"id": "42"},
        "Since": "2024-06-30",
        "Last_Activity_Time": "2024-02-19T00:00:00+00:00",
        "Annual_Revenue": 10.1,
    }


def test_individual_customers_get_a_display_name_from_first_and_last():
    maps = [
        spec("first_name", "First_Name", "text", "text", "Contacts"),
        spec("last_name", "Last_Name", "text", "text", "Contacts"),
    ]
    values, _ = crm_to_books({"First_Name": "Ava", "Last_Name": "Patel"}, maps, entity=BooksEntity.CUSTOMER_INDIVIDUAL)
    assert values["contact_name"] == "Ava Patel"


def test_integer_push_refuses_fractions():
    maps = [spec("cf:cf_revenue", "Employees", "integer", "decimal")]
    with pytest.raises(MappingError, match="not a whole number"):
        books_to_crm({}, {"cf_revenue": "2.5"}, maps, CUSTOM)
    assert books_to_crm({}, {"cf_revenue": "3.0"}, maps, CUSTOM) == {"Employees": 3}

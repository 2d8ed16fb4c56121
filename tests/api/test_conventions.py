"""Zoho Books v3 conventions shared by every endpoint: organization_id, the envelope, authentication, bodies
(JSON and the legacy JSONString form), pagination, wire formats, and the answers to wrong URLs and methods."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from books.models import ApiToken, Contact
from books.services.transactions import LineInput, TransactionInput, transaction_create
from tests.api.conftest import assert_error, url
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_missing_organization_id_is_400_naming_it(api):
    body = assert_error(api.get("/books/v3/contacts"), 400, code=2, field="organization_id")
    assert "required" in body["message"]


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "9" * 30, " "])
def test_malformed_organization_id_is_400(api, value):
    assert_error(api.get("/books/v3/contacts", {"organization_id": value}), 400, code=2, field="organization_id")


def test_organization_of_which_the_user_is_not_a_member_is_404_without_data(api, other_org, other_customer):
    response = api.get("/books/v3/contacts", {"organization_id": other_org.pk})
    body = assert_error(response, 404, code=1002, field="organization_id")
    assert "contacts" not in body
    assert "Secret" not in response.content.decode()


def test_unknown_organization_is_the_same_404_as_a_foreign_one(api, other_org):
    foreign = api.get("/books/v3/items", {"organization_id": other_org.pk}).json()
    unknown = api.get("/books/v3/items", {"organization_id": 999999}).json()
    assert foreign["code"] == unknown["code"] == 1002
    assert foreign["message"].replace(str(other_org.pk), "X") == unknown["message"].replace("999999", "X")


def test_no_token_is_401_in_the_envelope(org):
    response = APIClient().get("/books/v3/contacts", {"organization_id": org.pk})
    body = assert_error(response, 401, code=57, field="Authorization")
    assert "Zoho-oauthtoken" in body["message"]
    assert response["WWW-Authenticate"] == "Zoho-oauthtoken"


@pytest.mark.parametrize("header", ["Zoho-oauthtoken lb1.not-a-token", "Zoho-oauthtoken ", "Zoho-oauthtoken"])
def test_invalid_token_is_401(org, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert_error(client.get("/books/v3/contacts", {"organization_id": org.pk}), 401, code=57)


def test_token_of_an_inactive_user_is_401(api, admin_user, org):
    admin_user.is_active = False
    admin_user.save()
    assert_error(api.get(url(api, "contacts")), 401, code=57)


def test_api_token_command_prints_a_token_the_api_accepts(admin_user, org):
    out = StringIO()
    call_command("api_token", "ADMIN@acme.test", stdout=out)
    token = out.getvalue().strip()
    assert ApiToken.objects.filter(user=admin_user).count() == 1
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Zoho-oauthtoken {token}")
    response = client.get("/books/v3/organizations")
    assert response.status_code == 200
    assert response.json()["organizations"][0]["organization_id"] == str(org.pk)


def test_api_token_command_names_an_unknown_email(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="email: no user"):
        call_command("api_token", "nobody@example.test")


def test_wrong_method_is_405_with_allow(api):
    response = api.patch(url(api, "contacts"), {}, format="json")
    assert_error(response, 405, code=37)
    assert set(response["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert "PATCH" not in response["Allow"]


def test_wrong_method_without_token_is_still_405(org):
    response = APIClient().delete(f"/books/v3/contacts?organization_id={org.pk}")
    assert_error(response, 405, code=37)


@pytest.mark.parametrize("path", ["nothing", "contacts/1/nothing", "estimates/1/status", "invoices/1/status/x/y"])
def test_unknown_url_is_404_in_the_envelope(api, path):
    assert_error(api.get(url(api, path)), 404, code=5)


def test_json_string_form_body_is_accepted(api):
    response = api.post(
        url(api, "contacts"),
        {"JSONString": json.dumps({"contact_name": "Legacy Client", "payment_terms": 15})},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert Contact.objects.get(contact_name="Legacy Client").payment_terms == 15
    response = api.post(
        url(api, "contacts"),
        "JSONString=" + json.dumps({"contact_name": "Urlencoded Client"}),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("JSONString=%7B%22contact_name%22%3A", "application/x-www-form-urlencoded"),
        ("contact_name=Plain", "application/x-www-form-urlencoded"),
        ('{"contact_name": "x",}', "application/json"),
        ("{'contact_name': 'x'}", "application/json"),
        ('{"rate": NaN}', "application/json"),
        ("\xff\xfe", "application/json"),
        ("[" * 100000, "application/json"),
    ],
)
def test_malformed_body_is_1038(api, body, content_type):
    response = api.post(url(api, "contacts"), body, content_type=content_type)
    assert_error(response, 400, code=1038)
    assert Contact.objects.count() == 0


@pytest.mark.parametrize("body", [[], ["a"], "text", 5, None, True])
def test_body_that_is_not_an_object_is_400(api, body):
    response = api.post(url(api, "contacts"), json.dumps(body), content_type="application/json")
    assert_error(response, 400, field="body")


def test_unsupported_media_type_is_415(api):
    response = api.post(url(api, "contacts"), "<contact/>", content_type="application/xml")
    assert_error(response, 415, code=1038)


def test_envelope_and_page_context(api, org):
    CustomerFactory.create_batch(3, organization=org)
    body = api.get(url(api, "contacts", per_page=2, sort_column="created_time", sort_order="D")).json()
    assert body["code"] == 0
    assert body["message"] == "success"
    assert len(body["contacts"]) == 2
    assert body["page_context"] == {
        "page": 1,
        "per_page": 2,
        "has_more_page": True,
        "report_name": "Contacts",
        "applied_filter": "Status.All",
        "sort_column": "created_time",
        "sort_order": "D",
    }
    last = api.get(url(api, "contacts", per_page=2, page=2)).json()
    assert len(last["contacts"]) == 1
    assert last["page_context"]["has_more_page"] is False
    assert api.get(url(api, "contacts")).json()["page_context"]["per_page"] == 200


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": "0"}, "page"),
        ({"page": "abc"}, "page"),
        ({"page": "-3"}, "page"),
        ({"page": "99999999999999999999"}, "page"),
        ({"per_page": "201"}, "per_page"),
        ({"per_page": "0"}, "per_page"),
        ({"per_page": "1.5"}, "per_page"),
        ({"per_page": "ten"}, "per_page"),
        ({"per_page": ""}, "per_page"),
        ({"page": ""}, "page"),
    ],
)
@pytest.mark.parametrize("resource", ["contacts", "items", "estimates", "salesorders", "invoices", "users"])
def test_bad_pagination_is_400_naming_the_parameter(api, resource, params, field):
    assert_error(api.get(url(api, resource, **params)), 400, code=1001, field=field)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"filter_by": "Status.Nope"}, "filter_by"),
        ({"filter_by": "status.crm"}, "filter_by"),
        ({"sort_order": "X"}, "sort_order"),
        ({"sort_column": "password"}, "sort_column"),
        ({"contact_type": "friend"}, "contact_type"),
    ],
)
def test_bad_list_filters_are_400_naming_the_parameter(api, params, field):
    body = assert_error(api.get(url(api, "contacts", **params)), 400, code=1001, field=field)
    if field == "filter_by":
        assert "Status.Crm" in body["message"]  # the allowed values are listed


def test_decimal_renders_as_its_exact_digits():
    from books.apis.rendering import dumps

    value = Decimal("98999999999999.01")
    assert json.dumps(float(value)) != "98999999999999.01"  # what DRF's float() encoding would give
    assert dumps({"total": value, "rate": Decimal("0.10"), "n": [1, None, True, "é"]}) == (
        '{"total":98999999999999.01,"rate":0.10,"n":[1,null,true,"é"]}'
    )


def test_ids_are_strings_dates_iso_and_money_exact_numbers(api, org, customer):
    invoice = transaction_create(
        organization=org,
        actor=None,
        kind="invoice",
        data=TransactionInput(
            contact_id=customer.pk,
            lines=[LineInput(name="Big", rate="1234567.89", quantity="3"), LineInput(name="Small", rate="0.10")],
        ),
    )
    response = api.get(url(api, f"invoices/{invoice.pk}"))
    raw = response.content.decode()
    assert '"sub_total":3703703.77,' in raw
    assert '"rate":0.10,' in raw
    body = json.loads(raw, parse_float=Decimal)
    invoice_json = body["invoice"]
    assert invoice_json["invoice_id"] == str(invoice.pk)
    assert invoice_json["customer_id"] == str(customer.pk)
    assert invoice_json["total"] == Decimal("3703703.77")
    assert invoice_json["line_items"][0]["quantity"] == Decimal("3")
    assert invoice_json["date"] == invoice.date.isoformat()
    assert invoice_json["due_date"] == ""
    assert invoice_json["created_time"].endswith("+0000")


def test_session_authenticated_browser_can_read_but_needs_csrf_to_write(admin_user, org):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.get(f"/books/v3/contacts?organization_id={org.pk}").status_code == 200
    response = client.post(f"/books/v3/contacts?organization_id={org.pk}", {"contact_name": "x"}, format="json")
    assert_error(response, 403, code=57)
    assert Contact.objects.count() == 0


@pytest.mark.parametrize("param", ["search_text", "contact_name_contains", "zcrm_account_id", "email"])
def test_null_characters_in_filters_are_400(api, param):
    assert_error(api.get(url(api, "contacts", **{param: "a\x00b"})), 400, field=param)


def test_body_over_the_upload_limit_is_refused(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = json.dumps({"contact_name": "x", "notes": "n" * 2000})
    assert_error(api.post(url(api, "contacts"), body, content_type="application/json"), 413, code=1038, field="body")
    response = api.post(url(api, "contacts"), "JSONString=" + body, content_type="application/x-www-form-urlencoded")
    assert_error(response, 413, code=1038, field="body")
    assert Contact.objects.count() == 0


@pytest.mark.parametrize("value", ["1e100000000", 1e300, "-1E-99999"])
def test_absurd_numbers_in_custom_fields_are_refused_quickly(api, org, value):
    from books.models import CustomFieldEntity
    from books.services.custom_fields import custom_field_create

    custom_field_create(organization=org, actor=None, entity=CustomFieldEntity.CUSTOMER, label="N", data_type="number")
    custom_field_create(organization=org, actor=None, entity=CustomFieldEntity.CUSTOMER, label="D", data_type="decimal")
    for api_name in ("cf_n", "cf_d"):
        body = {"contact_name": "x", "custom_fields": [{"api_name": api_name, "value": value}]}
        body_text = json.dumps(body)
        response = api.post(url(api, "contacts"), body_text, content_type="application/json")
        assert_error(response, 400, field=f"custom_fields.{api_name} ({api_name[-1].upper()})")
    assert Contact.objects.count() == 0


def test_empty_text_filters_count_as_absent(api, customer):
    body = api.get(url(api, "contacts", search_text="", filter_by="", sort_order="", contact_type="")).json()
    assert [c["contact_name"] for c in body["contacts"]] == ["Bowman and Co"]
    assert body["page_context"]["applied_filter"] == "Status.All"


def test_options_and_head(api, customer):
    response = api.options(url(api, "contacts"))
    assert response.status_code == 200
    assert response.json() == {"code": 0, "message": "success"}
    assert {"GET", "POST"} <= set(response["Allow"].replace(" ", "").split(","))
    head = api.head(url(api, f"contacts/{customer.pk}"))
    assert head.status_code == 200
    assert head.content == b""


LIST_PATHS = ["contacts", "items", "estimates", "salesorders", "invoices", "purchaseorders", "expenses", "users"]


@pytest.mark.parametrize("path", LIST_PATHS)
def test_list_pages_run_a_constant_number_of_queries(api, org, path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import ItemFactory, MembershipFactory, VendorFactory

    def add_rows(n):
        for _ in range(n):
            customer = CustomerFactory(organization=org)
            vendor = VendorFactory(organization=org)
            item = ItemFactory(organization=org)
            MembershipFactory(organization=org)
            for kind, contact in (("quote", customer), ("salesorder", customer), ("invoice", customer)):
                transaction_create(
                    organization=org,
                    actor=None,
                    kind=kind,
                    data=TransactionInput(contact_id=contact.pk, lines=[LineInput(item_id=item.pk)]),
                )
            transaction_create(
                organization=org,
                actor=None,
                kind="purchaseorder",
                data=TransactionInput(contact_id=vendor.pk, lines=[LineInput(item_id=item.pk)]),
            )
            transaction_create(
                organization=org,
                actor=None,
                kind="expense",
                data=TransactionInput(contact_id=vendor.pk, customer_id=customer.pk, account_name="T", amount="1"),
            )

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = api.get(url(api, path))
        assert response.status_code == 200
        return len(queries), len(response.json()[path])

    add_rows(1)
    count()  # the token's first use is recorded once
    few_queries, few_rows = count()
    add_rows(10)
    many_queries, many_rows = count()
    assert many_rows > few_rows
    assert many_queries == few_queries

"""Metadata and notifications on the wire: fields, custom fields, views, layouts, pipelines, org, currencies,
users, roles and watch channels, each with the exact request and its typed result."""

from __future__ import annotations

import datetime

import pytest
import responses
from responses import matchers

from crm_integration.client import (
    CrmPermanent,
    CrmRole,
    CrmUser,
    Currency,
    CustomView,
    FieldMeta,
    Layout,
    Pipeline,
    Stage,
    WatchChannel,
    WatchResult,
)
from tests.crm_integration.zoho.support import CRM, add_token, auth, error

ACCOUNT_NAME_FIELD = {
    "api_name": "Account_Name",
    "field_label": "Account Name",
    "display_label": "Account Name",
    "id": "5725767000000002591",
    "data_type": "text",
    "json_type": "string",
    "custom_field": False,
    "system_mandatory": True,
    "read_only": False,
    "field_read_only": False,
    "length": 200,
    "unique": {},
    "pick_list_values": [],
    "lookup": {},
}
PARENT_FIELD = {
    "api_name": "Parent_Account",
    "field_label": "Parent Account",
    "id": "5725767000000002600",
    "data_type": "lookup",
    "json_type": "jsonobject",
    "lookup": {"module": {"api_name": "Accounts", "id": "1"}, "api_name": "Parent_Account"},
}
RATING_FIELD = {
    "api_name": "Rating",
    "display_label": "Rating",
    "data_type": "picklist",
    "pick_list_values": [
        {"display_value": "-None-", "actual_value": "-None-"},
        {"display_value": "Hot", "actual_value": "Hot"},
    ],
    "field_read_only": True,
}
EXTERNAL_ID_FIELD = {
    "api_name": "Ledgerbridge_Id",
    "field_label": "Ledgerbridge Id",
    "id": "5725767000009000001",
    "data_type": "text",
    "json_type": "string",
    "custom_field": True,
    "length": 64,
    "unique": {"casesensitive": "false"},
}


def test_fields_metadata_becomes_field_meta(rsps, make_client):
    add_token(rsps)
    rsps.add(
        responses.GET,
        f"{CRM}/settings/fields",
        json={"fields": [ACCOUNT_NAME_FIELD, PARENT_FIELD, RATING_FIELD, EXTERNAL_ID_FIELD]},
        match=[matchers.query_param_matcher({"module": "Accounts"}), auth()],
    )
    fields = make_client().list_fields("Accounts")
    assert fields == [
        FieldMeta(
            api_name="Account_Name",
            label="Account Name",
            data_type="text",
            json_type="string",
            mandatory=True,
            length=200,
            id="5725767000000002591",
        ),
        FieldMeta(
            api_name="Parent_Account",
            label="Parent Account",
            data_type="lookup",
            json_type="jsonobject",
            lookup_module="Accounts",
            id="5725767000000002600",
        ),
        FieldMeta(
            api_name="Rating", label="Rating", data_type="picklist", read_only=True, picklist_values=("-None-", "Hot")
        ),
        FieldMeta(
            api_name="Ledgerbridge_Id",
            label="Ledgerbridge Id",
            data_type="text",
            custom_field=True,
            length=64,
            id="5725767000009000001",
            unique=True,
        ),
    ]


def test_create_field_posts_the_v8_json_and_reads_the_new_field_back(rsps, make_client):
    add_token(rsps)
    rsps.add(
        responses.POST,
        f"{CRM}/settings/fields",
        status=201,
        json={
            "fields": [
                {
                    "code": "SUCCESS",
                    "details": {"id": "5725767000009000001"},
                    "message": "field created",
                    "status": "success",
                }
            ]
        },
        match=[
            matchers.query_param_matcher({"module": "Accounts"}),
            matchers.json_params_matcher(
                {
                    "fields": [
                        {
                            "field_label": "Ledgerbridge Id",
                            "data_type": "text",
                            "length": 64,
                            "unique": {"case_sensitive": False},
                        }
                    ]
                }
            ),
        ],
    )
    rsps.add(
        responses.GET,
        f"{CRM}/settings/fields/5725767000009000001",
        json={"fields": [EXTERNAL_ID_FIELD]},
        match=[matchers.query_param_matcher({"module": "Accounts"})],
    )
    field = make_client().create_field("Accounts", label="Ledgerbridge Id", length=64, unique=True)
    assert (field.api_name, field.unique, field.custom_field) == ("Ledgerbridge_Id", True, True)


def test_create_field_refused_by_zoho_says_why(rsps, make_client):
    add_token(rsps)
    rsps.add(
        responses.POST,
        f"{CRM}/settings/fields",
        status=400,
        json={
            "fields": [
                {
                    "code": "DUPLICATE_DATA",
                    "details": {"api_name": "field_label", "json_path": "$.fields[0].field_label"},
                    "message": "duplicate data",
                    "status": "error",
                }
            ]
        },
    )
    with pytest.raises(CrmPermanent) as exc:
        make_client().create_field("Accounts", label="Account Name")
    assert (exc.value.code, exc.value.message, exc.value.details["api_name"]) == (
        "DUPLICATE_DATA",
        "duplicate data",
        "field_label",
    )


VIEWS = {
    "custom_views": [
        {
            "display_value": "All Accounts",
            "system_name": "ALLVIEWS",
            "default": False,
            "name": "All Accounts",
            "system_defined": True,
            "id": "3652397000000087501",
            "category": "public_views",
        },
        {
            "display_value": "Key accounts",
            "system_name": None,
            "default": True,
            "name": "Key accounts",
            "system_defined": False,
            "id": "3652397000000538003",
            "category": "created_by_me",
        },
    ],
    "info": {"per_page": 2, "default": "3652397000000538003", "count": 2, "page": 1, "more_records": False},
}


def test_custom_views_and_one_view_with_its_criteria(rsps, make_client):
    add_token(rsps)
    rsps.add(
        responses.GET,
        f"{CRM}/settings/custom_views",
        json=VIEWS,
        match=[matchers.query_param_matcher({"module": "Accounts"})],
    )
    crit = {"comparator": "equal", "field": {"api_name": "Account_Type", "id": "1"}, "value": "Customer"}
    rsps.add(
        responses.GET,
        f"{CRM}/settings/custom_views/3652397000000538003",
        json={"custom_views": [{**VIEWS["custom_views"][1], "criteria": crit}]},
        match=[matchers.query_param_matcher({"module": "Accounts"})],
    )
    client = make_client()
    views = client.list_custom_views("Accounts")
    assert views[0] == CustomView(
        id="3652397000000087501",
        name="All Accounts",
        display_value="All Accounts",
        system_defined=True,
        system_name="ALLVIEWS",
    )
    assert (views[1].is_default, views[1].category) == (True, "created_by_me")
    one = client.get_custom_view("Accounts", "3652397000000538003")
    assert one.criteria == crit


def test_an_unknown_view_is_permanent(rsps, make_client):
    add_token(rsps)
    rsps.add(
        responses.GET,
        f"{CRM}/settings/custom_views/42",
        status=400,
        json=error("INVALID_DATA", "the id given seems to be invalid", {"resource_path_index": 2}),
    )
    with pytest.raises(CrmPermanent) as exc:
        make_client().get_custom_view("Accounts", "42")
    assert exc.value.code == "INVALID_DATA"


LAYOUTS = {
    "layouts": [
        {"id": "111", "name": "Standard", "display_label": "Standard", "status": "active"},
        {"id": "222", "name": "Old", "display_label": "Old", "status": "inactive"},
    ]
}
PIPELINES = {
    "pipeline": [
        {
            "display_value": "Standard (Standard)",
            "actual_value": "Standard",
            "default": True,
            "id": "900",
            "maps": [
                {
                    "display_value": "Closed Won",
                    "actual_value": "Closed Won",
                    "sequence_number": 2,
                    "forecast_type": "Closed Won",
                    "id": "2",
                },
                {
                    "display_value": "Qualification",
                    "actual_value": "Qualification",
                    "sequence_number": 1,
                    "forecast_type": "Open",
                    "id": "1",
                },
                {
                    "display_value": "Identify Decision Makers",
                    "actual_value": "Id. Decision Makers",
                    "sequence_number": 3,
                    "forecast_type": "Open",
                    "id": "3",
                },
            ],
        }
    ]
}
STAGE_FIELD = {
    "api_name": "Stage",
    "data_type": "picklist",
    "pick_list_values": [
        {"display_value": "Qualification", "actual_value": "Qualification", "probability": 10},
        {"display_value": "Closed Won", "actual_value": "Closed Won", "probability": 100},
    ],
}


def test_pipelines_need_a_layout_and_take_probabilities_from_the_stage_field(rsps, make_client):
    add_token(rsps)
    rsps.add(
        responses.GET,
        f"{CRM}/settings/layouts",
        json=LAYOUTS,
        match=[matchers.query_param_matcher({"module": "Deals"})],
    )
    rsps.add(
        responses.GET,
        f"{CRM}/settings/pipeline",
        json=PIPELINES,
        match=[matchers.query_param_matcher({"layout_id": "111"})],
    )
    rsps.add(
        responses.GET,
        f"{CRM}/settings/fields",
        json={"fields": [ACCOUNT_NAME_FIELD, STAGE_FIELD]},
        match=[matchers.query_param_matcher({"module": "Deals"})],
    )
    client = make_client()
    assert client.list_layouts("Deals") == [
        Layout(id="111", name="Standard", display_label="Standard"),
        Layout(id="222", name="Old", display_label="Old", status="inactive"),
    ]
    assert client.list_pipelines() == [
        Pipeline(
            id="900",
            name="Standard",
            is_default=True,
            stages=(
                Stage(name="Qualification", probability=10, forecast_type="Open", sequence=1),
                Stage(name="Closed Won", probability=100, forecast_type="Closed Won", sequence=2),
                Stage(name="Id. Decision Makers", probability=None, forecast_type="Open", sequence=3),
            ),
        )
    ]


def test_no_pipeline_answers_204(rsps, make_client):
    add_token(rsps)
    rsps.add(
        responses.GET, f"{CRM}/settings/pipeline", status=204, match=[matchers.query_param_matcher({"layout_id": "5"})]
    )
    assert make_client().list_pipelines("Deals", layout_id="5") == []


@pytest.mark.parametrize(
    ("license_details", "edition"),
    [
        ({"paid": True, "paid_type": "enterprise", "trial_type": None}, "enterprise"),
        ({"paid": False, "paid_type": None, "trial_type": "Professional"}, "professional"),
        ({"paid": False, "paid_type": None, "trial_type": None}, "free"),
        (None, "free"),
    ],
)
def test_org_reads_base_currency_and_edition(rsps, make_client, license_details, edition):
    add_token(rsps)
    rsps.add(
        responses.GET,
        f"{CRM}/org",
        json={
            "org": [
                {
                    "id": "5725767000000020005",
                    "company_name": "zohoo",
                    "primary_email": "p@zohotest.com",
                    "zgid": "808232144",
                    "country_code": "US",
                    "time_zone": "America/Los_Angeles",
                    "iso_code": "USD",
                    "currency": "US Dollar - USD",
                    "mc_status": True,
                    "license_details": license_details,
                }
            ]
        },
    )
    org = make_client().get_org()
    assert (org.id, org.company_name, org.currency_iso, org.mc_status, org.edition, org.zgid, org.time_zone) == (
        "5725767000000020005",
        "zohoo",
        "USD",
        True,
        edition,
        "808232144",
        "America/Los_Angeles",
    )


def test_currencies(rsps, make_client):
    add_token(rsps)
    rsps.add(
        responses.GET,
        f"{CRM}/org/currencies",
        json={
            "currencies": [
                {
                    "id": "1",
                    "name": "Algerian Dinar - DZD",
                    "iso_code": "DZD",
                    "is_base": True,
                    "exchange_rate": "1.000000000",
                },
                {
                    "id": "2",
                    "name": "Indian Rupee - INR",
                    "iso_code": "INR",
                    "is_base": False,
                    "exchange_rate": "3.000000000",
                },
            ]
        },
    )
    assert make_client().list_currencies() == [
        Currency(id="1", iso_code="DZD", name="Algerian Dinar - DZD", is_base=True, exchange_rate="1.000000000"),
        Currency(id="2", iso_code="INR", name="Indian Rupee - INR", is_base=False, exchange_rate="3.000000000"),
    ]


def user_json(i):
    return {
        "id": f"57257670000004110{i:02d}",
        "full_name": f"User {i}",
        "email": f"u{i}@zohotest.com",
        "status": "active",
        "role": {"name": "CEO", "id": "26005"},
        "profile": {"name": "Administrator", "id": "26011"},
    }


def test_users_are_read_page_by_page_and_the_current_user_alone(rsps, make_client):
    add_token(rsps)
    rsps.add(
        responses.GET,
        f"{CRM}/users",
        json={"users": [user_json(1)], "info": {"more_records": True, "page": 1}},
        match=[matchers.query_param_matcher({"type": "AllUsers", "page": "1", "per_page": "200"})],
    )
    rsps.add(
        responses.GET,
        f"{CRM}/users",
        json={"users": [user_json(2)], "info": {"more_records": False, "page": 2}},
        match=[matchers.query_param_matcher({"type": "AllUsers", "page": "2", "per_page": "200"})],
    )
    rsps.add(
        responses.GET,
        f"{CRM}/users",
        json={"users": [user_json(3)], "info": {"more_records": False}},
        match=[matchers.query_param_matcher({"type": "CurrentUser"})],
    )
    client = make_client()
    users = client.list_users(type="AllUsers")
    assert [u.email for u in users] == ["u1@zohotest.com", "u2@zohotest.com"]
    assert client.current_user() == CrmUser(
        id="5725767000000411003",
        full_name="User 3",
        email="u3@zohotest.com",
        status="active",
        role_id="26005",
        role_name="CEO",
        profile_name="Administrator",
    )


def test_roles(rsps, make_client):
    add_token(rsps)
    rsps.add(
        responses.GET,
        f"{CRM}/settings/roles",
        json={
            "roles": [
                {"id": "1", "name": "CEO", "display_label": "CEO", "reporting_to": None},
                {
                    "id": "2",
                    "name": "SalesRep",
                    "display_label": "SalesRep",
                    "reporting_to": {"name": "CEO", "id": "1"},
                },
            ]
        },
    )
    assert make_client().list_roles() == [
        CrmRole(id="1", name="CEO"),
        CrmRole(id="2", name="SalesRep", reporting_to_id="1"),
    ]


# ---------------------------------------------------------------- notifications

EXPIRY = datetime.datetime(2025, 1, 8, 10, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=5, minutes=30)))
CHANNEL = WatchChannel(
    channel_id="1000000068001",
    events=("Deals.create", "Deals.edit"),
    notify_url="https://books.example.com/integrations/zoho-crm/notify/",
    token="tok-1000000068001",
    channel_expiry=EXPIRY,
)


def subscribed(channel_id, expiry="2025-01-08T10:30:00+05:30"):
    return {
        "code": "SUCCESS",
        "status": "success",
        "message": "Successfully subscribed for actions-watch of the given module",
        "details": {"events": [{"channel_expiry": expiry, "resource_name": "Deals", "channel_id": channel_id}]},
    }


def test_watch_enable_sends_the_channel_and_reads_its_expiry(rsps, make_client):
    add_token(rsps)
    rsps.add(
        responses.POST,
        f"{CRM}/actions/watch",
        json={"watch": [subscribed("1000000068001")]},
        match=[
            matchers.json_params_matcher(
                {
                    "watch": [
                        {
                            "channel_id": 1000000068001,
                            "events": ["Deals.create", "Deals.edit"],
                            "notify_url": "https://books.example.com/integrations/zoho-crm/notify/",
                            "token": "tok-1000000068001",
                            "channel_expiry": "2025-01-08T10:30:00+05:30",
                        }
                    ]
                }
            )
        ],
    )
    assert make_client().watch_enable([CHANNEL]) == [
        WatchResult(
            channel_id="1000000068001",
            ok=True,
            code="SUCCESS",
            message="Successfully subscribed for actions-watch of the given module",
            channel_expiry=EXPIRY,
        )
    ]


def test_a_watch_token_longer_than_50_characters_is_refused_before_sending(make_client):
    long = WatchChannel(channel_id="1", events=("Deals.edit",), notify_url="https://x.test/", token="t" * 51)
    with pytest.raises(ValueError, match="at most 50"):
        make_client().watch_enable([long])


def test_watch_errors_are_per_channel(rsps, make_client):
    add_token(rsps)
    rsps.add(
        responses.POST,
        f"{CRM}/actions/watch",
        status=400,
        json={
            "watch": [
                {
                    "code": "INVALID_DATA",
                    "status": "error",
                    "message": "invalid data",
                    "details": {"api_name": "notify_url", "json_path": "$.watch[0].notify_url"},
                }
            ]
        },
    )
    [result] = make_client().watch_enable([CHANNEL])
    assert (result.ok, result.code, result.channel_id) == (False, "INVALID_DATA", "1000000068001")


def test_watch_list_merges_a_channel_listed_once_per_module(rsps, make_client):
    add_token(rsps)
    rsps.add(
        responses.GET,
        f"{CRM}/actions/watch",
        json={
            "watch": [
                {
                    "channel_id": "10000",
                    "events": ["Contacts.create"],
                    "notify_url": "https://x.test/n",
                    "token": "deals.all.notif",
                    "channel_expiry": "2023-08-11T02:12:33-11:00",
                    "resource_name": "Contacts",
                },
                {
                    "channel_id": "10000",
                    "events": ["Deals.edit", "Deals.create"],
                    "notify_url": "https://x.test/n",
                    "token": "deals.all.notif",
                    "channel_expiry": "2023-08-11T02:12:33-11:00",
                    "resource_name": "Deals",
                },
            ],
            "info": {"per_page": 200, "count": 2, "page": 1, "more_records": False},
        },
        match=[matchers.query_param_matcher({"page": "1", "per_page": "200"})],
    )
    [channel] = make_client().watch_list()
    assert channel.channel_id == "10000"
    assert channel.events == ("Contacts.create", "Deals.edit", "Deals.create")
    assert channel.channel_expiry == datetime.datetime(
        2023, 8, 11, 2, 12, 33, tzinfo=datetime.timezone(datetime.timedelta(hours=-11))
    )


def test_watch_list_of_nothing_is_204(rsps, make_client):
    add_token(rsps)
    rsps.add(responses.GET, f"{CRM}/actions/watch", status=204)
    assert make_client().watch_list() == []


def test_watch_update_replaces_and_disable_unsubscribes(rsps, make_client):
    add_token(rsps)
    renewed = WatchChannel(
        channel_id=CHANNEL.channel_id,
        events=CHANNEL.events,
        notify_url=CHANNEL.notify_url,
        token=CHANNEL.token,
        channel_expiry=EXPIRY + datetime.timedelta(days=6),
    )
    rsps.add(
        responses.PUT,
        f"{CRM}/actions/watch",
        json={"watch": [subscribed("1000000068001", "2025-01-14T10:30:00+05:30")]},
        match=[
            matchers.json_params_matcher(
                {
                    "watch": [
                        {
                            "channel_id": 1000000068001,
                            "events": ["Deals.create", "Deals.edit"],
                            "notify_url": "https://books.example.com/integrations/zoho-crm/notify/",
                            "token": "tok-1000000068001",
                            "channel_expiry": "2025-01-14T10:30:00+05:30",
                        }
                    ]
                }
            )
        ],
    )
    rsps.add(
        responses.DELETE,
        f"{CRM}/actions/watch",
        status=207,
        json={
            "watch": [
                {
                    "code": "SUCCESS",
                    "status": "success",
                    "message": "Successfully un-subscribed from actions-watch",
                    "details": {"events": [{"channel_id": "1000000068001"}]},
                },
                {"code": "NOT_SUBSCRIBED", "status": "error", "message": "not subscribed", "details": {}},
            ]
        },
        match=[matchers.query_param_matcher({"channel_ids": "1000000068001,77"})],
    )
    client = make_client()
    [updated] = client.watch_update([renewed])
    assert updated.channel_expiry == EXPIRY + datetime.timedelta(days=6)
    results = client.watch_disable(["1000000068001", "77"])
    assert [(r.channel_id, r.ok, r.code) for r in results] == [
        ("1000000068001", True, "SUCCESS"),
        ("77", False, "NOT_SUBSCRIBED"),
    ]
    assert client.watch_disable([]) == []


def test_create_field_as_zohos_external_id_field(rsps, make_client):
    add_token(rsps)
    rsps.add(
        responses.POST,
        f"{CRM}/settings/fields",
        status=201,
        json={
            "fields": [{"code": "SUCCESS", "details": {"id": "77"}, "message": "field created", "status": "success"}]
        },
        match=[
            matchers.json_params_matcher(
                {"fields": [{"field_label": "LB Id", "data_type": "text", "external": {"type": "org", "show": True}}]}
            )
        ],
    )
    rsps.add(responses.GET, f"{CRM}/settings/fields/77", json={"fields": [{**EXTERNAL_ID_FIELD, "id": "77"}]})
    client = make_client()
    assert client.create_field("Accounts", label="LB Id", length=None, external="org").id == "77"
    with pytest.raises(ValueError, match="external"):
        client.create_field("Accounts", label="LB Id", external="everyone")

"""actions/watch and notifications: what arrives at a local receiver, retries after a failing attempt, field
selection, expiry, and an edit on the sandbox's own pages firing the same notification as an API change."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import requests

from tests.crm_sandbox.conftest import Receiver, wait_for
from tests.crm_sandbox.test_records import error_of, insert
from tests.fixtures.sandbox import SandboxServer

pytestmark = pytest.mark.e2e


def enable(sandbox: SandboxServer, receiver: Receiver, **extra: object) -> dict:
    channel = {
        "channel_id": "1000000068001",
        "events": ["Deals.all"],
        "notify_url": receiver.url + "?org=acme",
        "token": "TOKEN_FOR_VERIFICATION",
        **extra,
    }
    response = sandbox.api("POST", "actions/watch", json={"watch": [channel]})
    assert response.status_code == 201, response.text
    return response.json()["watch"][0]


def test_enable_list_update_disable(sandbox: SandboxServer, receiver: Receiver) -> None:
    result = enable(sandbox, receiver)
    assert (result["code"], result["message"]) == (
        "SUCCESS",
        "Successfully subscribed for actions-watch of the given module",
    )
    event = result["details"]["events"][0]
    assert (event["resource_name"], event["channel_id"]) == ("Deals", "1000000068001")
    expiry = dt.datetime.fromisoformat(event["channel_expiry"])
    assert dt.timedelta(minutes=55) < expiry - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=1)

    listed = sandbox.api("GET", "actions/watch").json()["watch"]
    assert [(w["channel_id"], w["events"], w["token"]) for w in listed] == [
        ("1000000068001", ["Deals.all"], "TOKEN_FOR_VERIFICATION")
    ]
    patched = sandbox.api(
        "PATCH", "actions/watch", json={"watch": [{"channel_id": "1000000068001", "events": ["Accounts.create"]}]}
    )
    assert patched.json()["watch"][0]["message"] == "Successfully updated the subscribe details"
    assert sandbox.api("GET", "actions/watch").json()["watch"][0]["events"] == ["Accounts.create", "Deals.all"]

    too_long = sandbox.api(
        "POST",
        "actions/watch",
        json={"watch": [{"channel_id": "5", "events": ["Deals.edit"], "notify_url": receiver.url, "token": "x" * 51}]},
    )
    assert too_long.json()["watch"][0]["code"] == "INVALID_DATA"
    week = (dt.datetime.now(dt.UTC) + dt.timedelta(days=8)).isoformat()
    over_week = sandbox.api(
        "POST",
        "actions/watch",
        json={
            "watch": [{"channel_id": "6", "events": ["Deals.edit"], "notify_url": receiver.url, "channel_expiry": week}]
        },
    )
    assert over_week.json()["watch"][0]["details"]["api_name"] == "channel_expiry"
    no_url = sandbox.api("POST", "actions/watch", json={"watch": [{"channel_id": "7", "events": ["Deals.edit"]}]})
    assert no_url.json()["watch"][0]["code"] == "MANDATORY_NOT_FOUND"

    disabled = sandbox.api("DELETE", "actions/watch", params={"channel_ids": "1000000068001"})
    assert disabled.json()["watch"][0]["message"] == "Successfully un-subscribed from actions-watch"
    assert sandbox.api("GET", "actions/watch").status_code == 204
    assert error_of(sandbox.api("DELETE", "actions/watch"))[:2] == (400, "REQUIRED_PARAM_MISSING")


def test_changes_post_zoho_notification_json_with_retries(sandbox: SandboxServer, receiver: Receiver) -> None:
    enable(sandbox, receiver)
    receiver.statuses.extend([500])  # the first attempt fails: the deliverer must retry
    deal = insert(sandbox, "Deals", {"Deal_Name": "Notify me", "Stage": "Qualification"})[0]["details"]["id"]
    wait_for(lambda: receiver.received, what="the insert notification")
    body = receiver.received[0]["body"]
    assert receiver.received[0]["path"] == "/hook?org=acme"
    assert set(body) >= {
        "server_time",
        "query_params",
        "module",
        "resource_uri",
        "ids",
        "affected_fields",
        "operation",
        "channel_id",
        "token",
    }
    assert (body["module"], body["ids"], body["operation"], body["channel_id"], body["token"]) == (
        "Deals",
        [deal],
        "insert",
        "1000000068001",
        "TOKEN_FOR_VERIFICATION",
    )
    assert body["query_params"] == {"org": "acme"}
    assert receiver.attempts == 2
    delivery = sandbox.deliveries()[0]
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 2)

    sandbox.api("PUT", "Deals", json={"data": [{"id": deal, "Stage": "Closed Won"}]})
    sandbox.api("DELETE", f"Deals/{deal}")
    wait_for(lambda: len(receiver.received) >= 3, what="update and delete notifications")
    update, delete = receiver.received[1]["body"], receiver.received[2]["body"]
    assert (update["operation"], delete["operation"]) == ("update", "delete")
    assert update["affected_fields"] == [{deal: ["Probability", "Stage"]}]  # no Amount: no Expected_Revenue


def test_field_selection_and_other_modules_do_not_notify(sandbox: SandboxServer, receiver: Receiver) -> None:
    condition = [
        {
            "type": "field_selection",
            "module": {"api_name": "Deals"},
            "field_selection": {"group_operator": "or", "group": [{"field": {"api_name": "Stage"}}]},
        }
    ]
    enable(sandbox, receiver, events=["Deals.edit"], notification_condition=condition)
    deal = insert(sandbox, "Deals", {"Deal_Name": "Quiet", "Stage": "Qualification"})[0]["details"]["id"]
    insert(sandbox, "Accounts", {"Account_Name": "Not watched"})
    sandbox.api("PUT", "Deals", json={"data": [{"id": deal, "Next_Step": "Call"}]})
    sandbox.api("PUT", "Deals", json={"data": [{"id": deal, "Stage": "Negotiation/Review"}]})
    wait_for(lambda: receiver.received, what="the stage notification")
    assert [r["body"]["operation"] for r in receiver.received] == ["update"]
    assert len(sandbox.deliveries()) == 1


def test_expired_channel_gets_nothing(sandbox: SandboxServer, receiver: Receiver) -> None:
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)).isoformat()
    enable(sandbox, receiver, channel_expiry=soon)
    wait_for(lambda: dt.datetime.now(dt.UTC).isoformat() > soon, timeout=5, what="the channel to expire")
    insert(sandbox, "Deals", {"Deal_Name": "Too late", "Stage": "Qualification"})
    assert sandbox.deliveries() == []


def login(sandbox: SandboxServer) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{sandbox.base_url}/admin/login/", timeout=10)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        f"{sandbox.base_url}/admin/login/?next=/",
        data={"username": "admin", "password": "admin", "csrfmiddlewaretoken": csrf, "next": "/"},
        timeout=10,
    )
    assert answer.status_code == 200
    assert "Zylker Corp" in answer.text
    return session


def test_edit_on_the_pages_fires_the_notification(sandbox: SandboxServer, receiver: Receiver) -> None:
    enable(sandbox, receiver, events=["Deals.edit"])
    deal = insert(sandbox, "Deals", {"Deal_Name": "Edited by a person", "Stage": "Negotiation/Review", "Amount": 5000})[
        0
    ]["details"]["id"]
    session = login(sandbox)
    listing = session.get(f"{sandbox.base_url}/ui/Deals/", timeout=10)
    assert "Edited by a person" in listing.text
    form = session.get(f"{sandbox.base_url}/ui/Deals/{deal}/", timeout=10)
    assert form.status_code == 200
    fields = dict(re.findall(r'name="([A-Za-z_]+)" value="([^"]*)"', form.text))
    selects = dict(
        re.findall(r'<select name="([A-Za-z_]+)"[^>]*>.*?<option value="([^"]*)" selected>', form.text, re.S)
    )
    data = {**fields, **selects, "Stage": "Closed Won"}
    saved = session.post(f"{sandbox.base_url}/ui/Deals/{deal}/", data=data, timeout=10)
    assert saved.status_code == 200, saved.text[:2000]
    assert "Deal saved." in saved.text
    wait_for(lambda: receiver.received, what="the notification of the page edit")
    body = receiver.received[0]["body"]
    assert (body["ids"], body["operation"]) == ([deal], "update")
    assert body["affected_fields"] == [{deal: ["Expected_Revenue", "Probability", "Stage"]}]
    won = sandbox.api("GET", f"Deals/{deal}", params={"fields": "Stage,Probability"}).json()["data"][0]
    assert (won["Stage"], won["Probability"]) == ("Closed Won", 100)
    deliveries_page = session.get(f"{sandbox.base_url}/ui/deliveries/", timeout=10)
    assert "Delivered" in deliveries_page.text

    bad = session.post(f"{sandbox.base_url}/ui/Deals/{deal}/", data={**data, "Amount": "lots"}, timeout=10)
    assert bad.status_code == 400
    assert "Enter a number." in bad.text

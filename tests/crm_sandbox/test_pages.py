"""The sandbox's pages as a person uses them: the Django admin for orgs, users and views; a real browser editing a
deal and the notification arriving at a registered URL."""

from __future__ import annotations

import re

import pytest

from tests.crm_sandbox.conftest import Receiver, wait_for
from tests.crm_sandbox.test_notifications import enable, login
from tests.crm_sandbox.test_records import insert
from tests.fixtures.sandbox import SandboxServer

pytestmark = pytest.mark.e2e


def test_admin_lists_and_org_edit_go_through_the_service(sandbox: SandboxServer) -> None:
    session = login(sandbox)
    for model in (
        "org",
        "crmuser",
        "role",
        "customview",
        "fielddef",
        "watchchannel",
        "delivery",
        "faultconfig",
        "oauthclient",
    ):
        page = session.get(f"{sandbox.base_url}/admin/crm_sandbox/{model}/", timeout=10)
        assert page.status_code == 200, model
    views = session.get(f"{sandbox.base_url}/admin/crm_sandbox/customview/?q=", timeout=10)
    assert "Gold Accounts" in views.text
    org_id = sandbox.api("GET", "org").json()["org"][0]["id"]
    form = session.get(f"{sandbox.base_url}/admin/crm_sandbox/org/{org_id}/change/", timeout=10)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    saved = session.post(
        f"{sandbox.base_url}/admin/crm_sandbox/org/{org_id}/change/",
        data={
            "csrfmiddlewaretoken": csrf,
            "company_name": "Admin Edited",
            "edition": "enterprise",
            "currency_iso": "INR",
            "time_zone": "Asia/Kolkata",
            "api_credits_override": "",
            "concurrency_override": "",
        },
        timeout=10,
    )
    assert saved.status_code == 200
    org = sandbox.api("GET", "org").json()["org"][0]
    assert (org["company_name"], org["license_details"]["paid_type"], org["iso_code"]) == (
        "Admin Edited",
        "enterprise",
        "INR",
    )
    assert org["created_time"].endswith("+05:30")
    assert [c["iso_code"] for c in sandbox.api("GET", "org/currencies").json()["currencies"]] == ["INR"]


def test_second_org_added_on_the_admin_page(sandbox: SandboxServer) -> None:
    session = login(sandbox)
    form = session.get(f"{sandbox.base_url}/admin/crm_sandbox/org/add/", timeout=10)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    added = session.post(
        f"{sandbox.base_url}/admin/crm_sandbox/org/add/",
        data={
            "csrfmiddlewaretoken": csrf,
            "company_name": "Admin Org Two",
            "edition": "standard",
            "currency_iso": "EUR",
            "time_zone": "Europe/Berlin",
            "api_credits_override": "",
            "concurrency_override": "",
        },
        timeout=10,
    )
    assert added.status_code == 200
    orgs = {o["company_name"]: o for o in sandbox.control("GET", "orgs")["orgs"]}
    assert set(orgs) == {"Zylker Corp", "Admin Org Two"}
    second = sandbox.api("GET", "org", headers={"X-CRM-ORG": orgs["Admin Org Two"]["id"]}).json()["org"][0]
    assert (second["iso_code"], second["license_details"]["paid_type"]) == ("EUR", "standard")
    views = sandbox.api("GET", "settings/custom_views", params={"module": "Deals"}, headers={"X-CRM-ORG": second["id"]})
    assert "All Deals" in {v["name"] for v in views.json()["custom_views"]}


def test_record_pages_refuse_bad_ids_and_need_login(sandbox: SandboxServer) -> None:
    anonymous = sandbox.session.get(f"{sandbox.base_url}/ui/Deals/", allow_redirects=False, timeout=10)
    assert anonymous.status_code == 302
    assert "/admin/login/" in anonymous.headers["Location"]
    session = login(sandbox)
    assert session.get(f"{sandbox.base_url}/ui/Leads/", timeout=10).status_code == 404
    assert session.get(f"{sandbox.base_url}/ui/Deals/123/", timeout=10).status_code == 404
    new = session.get(f"{sandbox.base_url}/ui/Accounts/new/", timeout=10)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', new.text).group(1)
    owner = re.search(r'<select name="Owner"[^>]*>\s*<option value="(\d+)"', new.text).group(1)
    missing = session.post(
        f"{sandbox.base_url}/ui/Accounts/new/", data={"csrfmiddlewaretoken": csrf, "Owner": owner}, timeout=10
    )
    assert missing.status_code == 400
    assert "This field is required." in missing.text


@pytest.mark.slow
def test_person_changes_a_deal_in_a_browser_and_the_notification_arrives(
    sandbox: SandboxServer, receiver: Receiver, page
) -> None:
    enable(sandbox, receiver, events=["Deals.edit"])
    deal = insert(sandbox, "Deals", {"Deal_Name": "Browser Deal", "Stage": "Proposal/Price Quote", "Amount": 900})[0][
        "details"
    ]["id"]
    page.goto(f"{sandbox.base_url}/admin/login/?next=/ui/Deals/{deal}/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "admin")
    page.click("input[type=submit]")
    page.wait_for_url(f"**/ui/Deals/{deal}/")
    page.select_option("#id_Stage", "Closed Won")
    page.click("button[type=submit]:has-text('Save')")
    page.wait_for_selector("text=Deal saved.")
    assert "Probability 100%" in page.content()
    wait_for(lambda: receiver.received, what="the notification of the browser edit")
    body = receiver.received[0]["body"]
    assert (body["ids"], body["operation"], body["module"]) == ([deal], "update", "Deals")
    page.goto(f"{sandbox.base_url}/ui/deliveries/")
    page.wait_for_selector("text=Delivered")
    page.screenshot(path=str(sandbox.db_path.parent / "deliveries.png"))


def test_view_made_on_the_admin_page_filters_the_api_list(sandbox: SandboxServer) -> None:
    session = login(sandbox)
    form = session.get(f"{sandbox.base_url}/admin/crm_sandbox/customview/add/", timeout=10)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    org_id = sandbox.api("GET", "org").json()["org"][0]["id"]
    criteria = '{"comparator": "equal", "field": {"api_name": "Customer_Tier"}, "value": "Silver"}'
    added = session.post(
        f"{sandbox.base_url}/admin/crm_sandbox/customview/add/",
        data={
            "csrfmiddlewaretoken": csrf,
            "org": org_id,
            "module": "Accounts",
            "name": "Silver Accounts",
            "category": "public_views",
            "criteria": criteria,
            "system_name": "",
        },
        timeout=10,
    )
    assert added.status_code == 200
    assert "was added successfully" in added.text
    views = sandbox.api("GET", "settings/custom_views", params={"module": "Accounts"}).json()["custom_views"]
    silver = next(v for v in views if v["name"] == "Silver Accounts")
    rows = sandbox.api("GET", "Accounts", params={"fields": "Customer_Tier", "cvid": silver["id"]}).json()["data"]
    assert rows
    assert {r["Customer_Tier"] for r in rows} == {"Silver"}


def test_user_added_on_the_admin_page_is_a_crm_user(sandbox: SandboxServer) -> None:
    session = login(sandbox)
    form = session.get(f"{sandbox.base_url}/admin/crm_sandbox/crmuser/add/", timeout=10)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    org_id = sandbox.api("GET", "org").json()["org"][0]["id"]
    added = session.post(
        f"{sandbox.base_url}/admin/crm_sandbox/crmuser/add/",
        data={
            "csrfmiddlewaretoken": csrf,
            "org": org_id,
            "first_name": "Nia",
            "last_name": "Okafor",
            "email": "nia.okafor@zylker.test",
            "status": "active",
            "profile_name": "Standard",
            "zuid": "",
            "role": "",
        },
        timeout=10,
    )
    assert "was added successfully" in added.text
    users = sandbox.api("GET", "users", params={"type": "ActiveUsers"}).json()["users"]
    nia = next(u for u in users if u["email"] == "nia.okafor@zylker.test")
    assert (nia["full_name"], len(nia["id"]), nia["zuid"] != "") == ("Nia Okafor", 19, True)
    owned = sandbox.api(
        "POST", "Accounts", json={"data": [{"Account_Name": "Nia's account", "Owner": {"id": nia["id"]}}]}
    )
    assert owned.json()["data"][0]["code"] == "SUCCESS"

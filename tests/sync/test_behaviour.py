"""The engine's rules against the live CRM sandbox: views, custom field maps both ways, bad values, incremental
pulls and pushes, no echo, deletions, the connection's life (pause, disable, enable, reconnect), the lease, the
schedule, and one record at a time."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from books.errors import ApplicationError
from books.models import Contact, ContactPerson, CustomFieldDefinition
from books.services.contacts import contact_create, contact_delete, contact_update
from books.services.custom_fields import custom_field_create
from crm_integration.models import CrmConnection
from crm_integration.services import connections
from crm_integration.services.modules import module_config_stop
from sync.models import LinkState, RecordLink, RunStatus, SyncCursor, SyncFailure, SyncRun, Trigger
from sync.services import links as link_services
from sync.services import records, runs
from sync.services.locks import lock_acquire
from tests.sync.conftest import configure, counts, crm_all, sync_now

pytestmark = pytest.mark.e2e


def calls(sandbox, label: str) -> int:
    return int(sandbox.counters()["calls"].get(label, 0))


def view_id(sandbox, module: str, name: str) -> str:
    views = sandbox.api("GET", "settings/custom_views", params={"module": module}).json()["custom_views"]
    return next(v["id"] for v in views if v["name"] == name)


def linked(org, crm_module: str) -> dict[str, int]:
    return dict(
        RecordLink.objects.filter(organization=org, crm_module=crm_module, state=LinkState.LINKED).values_list(
            "crm_id", "books_id"
        )
    )


# ------------------------------------------------------------------------------------------------------ views


def test_a_view_restricts_what_is_pulled(connected, sandbox, org):
    gold = crm_all(sandbox, "Accounts", ["Account_Name", "Customer_Tier"])
    expected = {a["id"] for a in gold if a["Customer_Tier"] == "Gold"}
    assert 0 < len(expected) < len(gold)
    configure(connected, "customers", crm_module_option="accounts", primary_view="Gold Accounts")

    run = sync_now(connected)

    assert run.status == "succeeded"
    assert set(linked(org, "Accounts")) == expected
    assert Contact.objects.filter(organization=org).count() == len(expected)


def test_account_view_and_contact_view(connected, sandbox, org):
    accounts = {a["id"] for a in crm_all(sandbox, "Accounts", ["Customer_Tier"]) if a["Customer_Tier"] == "Gold"}
    contacts = crm_all(sandbox, "Contacts", ["Last_Name", "Account_Name", "Preferred_Channel"])
    expected = {
        c["id"]
        for c in contacts
        if c["Preferred_Channel"] == "Email" and c["Account_Name"] and c["Account_Name"]["id"] in accounts
    }
    configure(
        connected,
        "customers",
        crm_module_option="accounts_and_contacts",
        primary_view="Gold Accounts",
        secondary_view="Prefers Email",
    )

    sync_now(connected)

    assert set(linked(org, "Contacts")) == expected
    assert ContactPerson.objects.filter(organization=org).count() == len(expected)


def test_changing_the_view_applies_from_the_next_run(connected, sandbox, org):
    configure(connected, "customers", crm_module_option="accounts", primary_view="Gold Accounts")
    sync_now(connected)
    gold = len(linked(org, "Accounts"))
    configure(connected, "customers", crm_module_option="accounts", primary_view="All Accounts")

    run = sync_now(connected)

    assert counts(run)[("customers", "pull")]["added"] == 20 - gold
    assert len(linked(org, "Accounts")) == 20


# -------------------------------------------------------------------------------------- custom fields and values


def test_custom_field_maps_both_ways_with_typed_values(connected, sandbox, org):
    custom_field_create(
        organization=org,
        actor=None,
        entity="customer",
        label="Tier",
        data_type="picklist",
        options=["Gold", "Silver", "Bronze"],
    )
    custom_field_create(organization=org, actor=None, entity="customer", label="Credit", data_type="decimal")
    custom_field_create(organization=org, actor=None, entity="customer", label="Onboarded", data_type="date")
    tier, credit, onboarded = (
        CustomFieldDefinition.objects.get(organization=org, label=label).api_name
        for label in ("Tier", "Credit", "Onboarded")
    )
    configure(
        connected,
        "customers",
        crm_module_option="accounts",
        extent="both_ways",
        extra_map={
            "Accounts": {
                f"cf:{tier}": "Customer_Tier",
                f"cf:{credit}": "Credit_Limit",
                f"cf:{onboarded}": "Onboarded_On",
            }
        },
    )
    sync_now(connected)
    crm = {a["id"]: a for a in crm_all(sandbox, "Accounts", ["Customer_Tier", "Credit_Limit", "Onboarded_On"])}
    for crm_id, books_id in linked(org, "Accounts").items():
        values = Contact.objects.get(pk=books_id).custom_fields
        assert values[tier] == crm[crm_id]["Customer_Tier"]
        assert float(values[credit]) == crm[crm_id]["Credit_Limit"]
        assert values[onboarded] == crm[crm_id]["Onboarded_On"]

    crm_id, books_id = next(iter(linked(org, "Accounts").items()))
    contact = Contact.objects.get(pk=books_id)
    contact_update(
        contact=contact, actor=None, data={}, custom_fields={tier: "Silver", credit: "1234.5", onboarded: "2024-02-29"}
    )
    run = sync_now(connected)

    assert counts(run)[("customers", "push")]["updated"] == 1
    after = sandbox.api("GET", f"Accounts/{crm_id}").json()["data"][0]
    assert (after["Customer_Tier"], after["Credit_Limit"], after["Onboarded_On"]) == ("Silver", 1234.5, "2024-02-29")


def test_a_value_that_does_not_fit_fails_that_record_and_the_rest_sync(connected, sandbox, org):
    custom_field_create(
        organization=org,
        actor=None,
        entity="customer",
        label="Tier",
        data_type="picklist",
        options=["Gold", "Silver", "Bronze"],
    )
    tier = CustomFieldDefinition.objects.get(organization=org, label="Tier").api_name
    accounts = crm_all(sandbox, "Accounts", ["Account_Name"])
    bad = accounts[3]
    assert sandbox.api("PUT", "Accounts", json={"data": [{"id": bad["id"], "Customer_Tier": "Platinum"}]}).ok
    configure(
        connected, "customers", crm_module_option="accounts", extra_map={"Accounts": {f"cf:{tier}": "Customer_Tier"}}
    )

    run = sync_now(connected)

    assert run.status == "partial"
    assert counts(run)[("customers", "pull")]["added"] == len(accounts) - 1
    failure = SyncFailure.objects.get(run=run)
    assert (failure.crm_id, failure.record_name, failure.reason_code) == (
        bad["id"],
        bad["Account_Name"],
        "invalid_value:Customer_Tier",
    )
    assert "'Platinum' is not one of the options of Tier" in failure.reason

    # Fixed in the CRM, it syncs at the next run.
    assert sandbox.api("PUT", "Accounts", json={"data": [{"id": bad["id"], "Customer_Tier": "Gold"}]}).ok
    again = sync_now(connected)
    assert again.status == "succeeded"
    assert counts(again)[("customers", "pull")]["added"] == 1


def test_a_push_the_crm_refuses_fails_that_record_with_its_reason(connected, sandbox, org):
    contact_create(organization=org, actor=None, contact_type="customer", data={"contact_name": "Fine Co"})
    long_city = contact_create(
        organization=org,
        actor=None,
        contact_type="customer",
        data={"contact_name": "Long City Co", "billing_city": "X" * 60},
    )
    configure(connected, "customers", crm_module_option="accounts", extent="both_ways")

    run = sync_now(connected)

    assert run.status == "partial"
    failure = SyncFailure.objects.get(run=run)
    assert (failure.direction, failure.books_id, failure.reason_code) == (
        "push",
        long_city.pk,
        "crm:INVALID_DATA:Billing_City",
    )
    assert "Billing_City" in failure.reason
    names = {a["Account_Name"] for a in crm_all(sandbox, "Accounts", ["Account_Name"])}
    assert "Fine Co" in names
    assert "Long City Co" not in names


# ------------------------------------------------------------------------------------------ incremental, echo


def test_incremental_pull_reads_only_what_changed_and_304_is_one_call(connected, sandbox, org):
    configure(connected, "customers", crm_module_option="accounts")
    sync_now(connected)
    sandbox.reset_counters()

    quiet = sync_now(connected)

    assert calls(sandbox, "GET /crm/v8/Accounts") == 1
    assert counts(quiet)[("customers", "pull")] == {
        "added": 0, "updated": 0, "skipped": 0, "deleted": 0, "failed": 0, "unchanged": 0
    }  # fmt: skip
    assert SyncRun.objects.get(pk=quiet.pk).processed == 0

    a, b = list(linked(org, "Accounts"))[:2]
    assert sandbox.api("PUT", "Accounts", json={"data": [{"id": a, "Phone": "+1 1"}, {"id": b, "Phone": "+1 2"}]}).ok
    sandbox.reset_counters()
    changed = sync_now(connected)

    assert calls(sandbox, "GET /crm/v8/Accounts") == 1
    assert changed.processed == 2
    assert counts(changed)[("customers", "pull")]["updated"] == 2
    assert {Contact.objects.get(pk=linked(org, "Accounts")[x]).phone for x in (a, b)} == {"+1 1", "+1 2"}


def test_no_echo_and_incremental_push(connected, sandbox, org):
    configure(connected, "customers", crm_module_option="accounts", extent="both_ways")
    sync_now(connected)
    links = linked(org, "Accounts")
    from_crm, from_books = list(links)[:2]

    # A change in the CRM comes to Books and is not sent back.
    assert sandbox.api("PUT", "Accounts", json={"data": [{"id": from_crm, "Phone": "+44 1"}]}).ok
    sandbox.reset_counters()
    run = sync_now(connected)
    assert counts(run)[("customers", "pull")]["updated"] == 1
    assert counts(run)[("customers", "push")]["updated"] == 0
    assert calls(sandbox, "PUT /crm/v8/Accounts") == 0
    assert calls(sandbox, "POST /crm/v8/Accounts/upsert") == 0

    # A change in Books goes to the CRM once, and is not fetched back as a change.
    contact_update(contact=Contact.objects.get(pk=links[from_books]), actor=None, data={"phone": "+44 2"})
    sandbox.reset_counters()
    run = sync_now(connected)
    assert counts(run)[("customers", "push")]["updated"] == 1
    assert calls(sandbox, "PUT /crm/v8/Accounts") == 1
    assert sandbox.api("GET", f"Accounts/{from_books}").json()["data"][0]["Phone"] == "+44 2"
    run = sync_now(connected)
    assert counts(run)[("customers", "pull")]["updated"] == 0
    assert counts(run)[("customers", "push")]["updated"] == 0


def test_both_sides_changed_the_side_that_goes_first_wins(connected, sandbox, org):
    configure(connected, "customers", crm_module_option="accounts", extent="both_ways")
    configure(connected, "items", extent="both_ways")
    sync_now(connected)
    crm_id, books_id = next(iter(linked(org, "Accounts").items()))
    product_id, item_id = next(iter(linked(org, "Products").items()))
    assert sandbox.api("PUT", "Accounts", json={"data": [{"id": crm_id, "Phone": "crm"}]}).ok
    assert sandbox.api("PUT", "Products", json={"data": [{"id": product_id, "Unit_Price": 99.0}]}).ok
    contact_update(contact=Contact.objects.get(pk=books_id), actor=None, data={"phone": "books"})
    from books.models import Item
    from books.services.items import item_update

    item_update(item=Item.objects.get(pk=item_id), actor=None, data={"rate": "11.00"})

    sync_now(connected)

    # Customers: the CRM goes first.
    assert Contact.objects.get(pk=books_id).phone == "crm"
    assert sandbox.api("GET", f"Accounts/{crm_id}").json()["data"][0]["Phone"] == "crm"
    # Items: Books goes first.
    assert str(Item.objects.get(pk=item_id).rate) == "11.00"
    assert sandbox.api("GET", f"Products/{product_id}").json()["data"][0]["Unit_Price"] == 11.0


# ------------------------------------------------------------------------------------------------- deletions


@pytest.fixture
def deletions_every_run(settings):
    settings.SYNC_DELETIONS_CHECK_MINUTES = 0


def test_deletions_are_recorded_not_propagated(connected, sandbox, org, deletions_every_run):
    configure(connected, "customers", crm_module_option="accounts", extent="both_ways")
    sync_now(connected)  # the first deletion check only sets its cursor
    links = linked(org, "Accounts")
    gone_in_crm, gone_in_books = list(links)[:2]
    assert sandbox.api("DELETE", "Accounts", params={"ids": gone_in_crm}).ok
    contact_delete(contact=Contact.objects.get(pk=links[gone_in_books]), actor=None)

    run = sync_now(connected)

    assert counts(run)[("customers", "pull")]["deleted"] == 1
    assert counts(run)[("customers", "push")]["deleted"] == 1
    kept = Contact.objects.get(pk=links[gone_in_crm])  # still in Books, no longer linked with Zoho CRM
    assert (kept.zcrm_account_id, kept.is_linked_with_zohocrm) == ("", False)
    assert RecordLink.objects.get(crm_id=gone_in_crm).crm_deleted
    assert RecordLink.objects.get(crm_id=gone_in_books).books_deleted
    assert sandbox.api("GET", f"Accounts/{gone_in_books}").json()["data"][0]["id"] == gone_in_books
    # Neither comes back, neither is pushed again.
    contact_update(contact=kept, actor=None, data={"phone": "+1 555"})
    assert sandbox.api("PUT", "Accounts", json={"data": [{"id": gone_in_books, "Phone": "+1 9"}]}).ok
    again = sync_now(connected)
    assert counts(again)[("customers", "push")]["added"] == 0
    assert counts(again)[("customers", "pull")]["added"] == 0
    assert not Contact.objects.filter(pk=links[gone_in_books]).exists()


# ------------------------------------------------------------------------------------- the connection's life


def test_links_survive_pause_disable_enable_and_reconnect(connected, sandbox, org, admin_user):
    configure(connected, "customers", crm_module_option="accounts", extent="both_ways")
    contact_create(organization=org, actor=None, contact_type="customer", data={"contact_name": "Books Only"})
    sync_now(connected)
    before = linked(org, "Accounts")

    connections.connection_pause(connection=connected, actor=admin_user)
    with pytest.raises(ApplicationError, match="paused"):
        runs.sync_start(connection=connected, actor=admin_user, trigger=Trigger.INSTANT)
    connections.connection_resume(connection=connected, actor=admin_user)
    connections.connection_disable(connection=connected, actor=admin_user)
    with pytest.raises(ApplicationError, match="disabled"):
        runs.sync_start(connection=connected, actor=admin_user, trigger=Trigger.INSTANT)
    connections.connection_enable(connection=connected, actor=admin_user)
    connections.pending_authorize_with_refresh_token(
        organization=org, actor=admin_user, credentials=sandbox.credentials()
    )
    connected = connections.connection_connect(organization=org, actor=admin_user).connection

    run = sync_now(connected, full=True)

    assert linked(org, "Accounts") == before
    for key, c in counts(run).items():
        assert (c["added"], c["updated"]) == (0, 0), key
    assert len(crm_all(sandbox, "Accounts", ["Account_Name"])) == 21
    assert Contact.objects.filter(organization=org).count() == 21


def test_another_crm_org_starts_fresh_and_coming_back_restores_the_ids(connected, sandbox, org):
    configure(connected, "customers", crm_module_option="accounts")
    sync_now(connected)
    links = linked(org, "Accounts")
    old_org = connected.crm_org_id
    CrmConnection.objects.filter(pk=connected.pk).update(crm_org_id="999000111")
    connected.refresh_from_db()

    link_services.on_crm_org_changed(connection=connected)

    assert not Contact.objects.filter(organization=org, is_linked_with_zohocrm=True).exists()
    CrmConnection.objects.filter(pk=connected.pk).update(crm_org_id=old_org)
    connected.refresh_from_db()
    link_services.on_crm_org_changed(connection=connected)
    assert {
        c.zcrm_account_id: c.pk for c in Contact.objects.filter(organization=org, is_linked_with_zohocrm=True)
    } == links


# ------------------------------------------------------------------------------------------- lease, schedule


def test_the_lease_prevents_two_runs_and_expires_when_a_worker_dies(connected, sandbox, org, settings):
    configure(connected, "customers", crm_module_option="accounts")
    first = runs.sync_start(connection=connected, actor=None, trigger=Trigger.MANUAL, enqueue=False)
    lease = lock_acquire(connection=connected, run=first)
    assert lease is not None
    SyncRun.objects.filter(pk=first.pk).update(status=RunStatus.RUNNING)

    with pytest.raises(ApplicationError, match="already running"):
        runs.sync_start(connection=connected, actor=None, trigger=Trigger.INSTANT)
    second = SyncRun.objects.create(
        organization=org, connection=connected, crm_org_id=connected.crm_org_id, trigger=Trigger.AUTO
    )
    refused = runs.run_execute(run=second).run
    assert (refused.status, refused.error) == (
        "refused",
        "Already running: another sync of this organization is going.",
    )

    # The holder dies: its lease expires and the next run takes over, marking it interrupted.
    from sync.models import SyncLock

    SyncLock.objects.filter(connection=connected).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    third = runs.sync_start(connection=connected, actor=None, trigger=Trigger.MANUAL, enqueue=False)
    done = runs.run_execute(run=third).run
    assert done.status == "succeeded"
    first.refresh_from_db()
    assert first.status == "failed"
    assert "stopped before it finished" in first.error
    from sync.services.locks import LeaseLost

    with pytest.raises(LeaseLost):
        lease.renew()


def test_beat_claims_due_connections_once(connected, org, django_capture_on_commit_callbacks):
    configure(connected, "customers", crm_module_option="accounts")
    CrmConnection.objects.filter(pk=connected.pk).update(next_sync_at=timezone.now() - datetime.timedelta(minutes=1))

    with django_capture_on_commit_callbacks(execute=False) as queued:
        claimed = runs.connections_claim_due()
        again = runs.connections_claim_due()

    assert [r.trigger for r in claimed] == ["auto"]
    assert again == []
    assert len(queued) == 1
    connected.refresh_from_db()
    assert connected.next_sync_at > timezone.now() + datetime.timedelta(minutes=119)

    CrmConnection.objects.filter(pk=connected.pk).update(
        next_sync_at=timezone.now() - datetime.timedelta(minutes=1), paused=True
    )
    assert runs.connections_claim_due() == []
    CrmConnection.objects.filter(pk=connected.pk).update(paused=False)
    module_config_stop(connection=connected, actor=None, module="customers")
    assert runs.connections_claim_due() == []


def test_an_auto_run_records_last_and_next_sync(connected, org):
    configure(connected, "customers", crm_module_option="accounts")
    CrmConnection.objects.filter(pk=connected.pk).update(sync_interval_minutes=30)
    run = sync_now(connected)
    connected.refresh_from_db()
    assert connected.last_sync_at == run.finished_at
    assert connected.next_sync_at - run.finished_at < datetime.timedelta(minutes=31)


# ------------------------------------------------------------------------------------- one record at a time


def test_fetch_this_contact_from_zoho_crm(connected, sandbox, org, admin_user):
    configure(connected, "customers", crm_module_option="accounts", extent="both_ways")
    sync_now(connected)
    crm_id, books_id = next(iter(linked(org, "Accounts").items()))
    contact = Contact.objects.get(pk=books_id)
    contact_update(contact=contact, actor=None, data={"phone": "edited in books"})
    assert sandbox.api("PUT", "Accounts", json={"data": [{"id": crm_id, "Website": "https://crm.example"}]}).ok
    sandbox.reset_counters()

    fetched = records.contact_fetch_from_crm(contact=contact, actor=admin_user)

    assert sandbox.counters()["total_calls"] == 1
    assert (fetched.website, fetched.phone) == (
        "https://crm.example",
        sandbox.api("GET", f"Accounts/{crm_id}").json()["data"][0]["Phone"],
    )
    assert SyncRun.objects.filter(organization=org, trigger="single_record", status="succeeded").count() == 1

    unlinked = contact_create(organization=org, actor=None, contact_type="customer", data={"contact_name": "Nobody"})
    with pytest.raises(ApplicationError, match="not linked"):
        records.contact_fetch_from_crm(contact=unlinked, actor=admin_user)
    assert sandbox.api("DELETE", "Accounts", params={"ids": crm_id}).ok
    with pytest.raises(ApplicationError, match="was deleted") as exc:
        records.contact_fetch_from_crm(contact=fetched, actor=admin_user)
    assert exc.value.status == 404
    fetched.refresh_from_db()
    assert fetched.zcrm_account_id == ""


def test_import_one_crm_record_now(connected, sandbox, org, admin_user):
    configure(connected, "customers", crm_module_option="accounts_and_contacts", primary_view="Gold Accounts")
    configure(connected, "vendors")
    configure(connected, "items")
    contacts = crm_all(sandbox, "Contacts", ["Last_Name", "Account_Name"])
    accounts = {a["id"]: a for a in crm_all(sandbox, "Accounts", ["Account_Name", "Customer_Tier"])}
    contact = next(
        c for c in contacts if c["Account_Name"] and accounts[c["Account_Name"]["id"]]["Customer_Tier"] != "Gold"
    )
    orphan = next(c for c in contacts if not c["Account_Name"])

    customer = records.customer_import_from_crm(
        organization=org, actor=admin_user, crm_module="Contacts", crm_id=contact["id"]
    )

    assert customer.zcrm_account_id == contact["Account_Name"]["id"]
    assert customer.contact_persons.get().zcrm_contact_id == contact["id"]
    again = records.customer_import_from_crm(
        organization=org, actor=admin_user, crm_module="Accounts", crm_id=customer.zcrm_account_id
    )
    assert again.pk == customer.pk
    assert Contact.objects.filter(organization=org).count() == 1
    individual = records.customer_import_from_crm(
        organization=org, actor=admin_user, crm_module="Contacts", crm_id=orphan["id"]
    )
    assert (individual.customer_sub_type, individual.zcrm_contact_id) == ("individual", orphan["id"])

    vendor_id = crm_all(sandbox, "Vendors", ["Vendor_Name"])[0]["id"]
    assert (
        records.vendor_import_from_crm(organization=org, actor=admin_user, crm_id=vendor_id).zcrm_vendor_id == vendor_id
    )
    product_id = crm_all(sandbox, "Products", ["Product_Name"])[0]["id"]
    assert (
        records.item_import_from_crm(organization=org, actor=admin_user, crm_id=product_id).zcrm_product_id
        == product_id
    )

    with pytest.raises(ApplicationError, match="no Accounts record 12345") as missing:
        records.customer_import_from_crm(organization=org, actor=admin_user, crm_module="Accounts", crm_id="12345")
    assert missing.value.status == 404
    with pytest.raises(ApplicationError, match="crm_id: 'abc' is not a Zoho CRM record id"):
        records.vendor_import_from_crm(organization=org, actor=admin_user, crm_id="abc")
    with pytest.raises(ApplicationError, match="crm_module"):
        records.customer_import_from_crm(organization=org, actor=admin_user, crm_module="Deals", crm_id="1")


def test_imports_need_the_module_configured_and_a_connection(connected, org, other_org, admin_user):
    with pytest.raises(ApplicationError, match="Vendors are not synced") as exc:
        records.vendor_import_from_crm(organization=org, actor=admin_user, crm_id="1")
    assert exc.value.status == 409
    with pytest.raises(ApplicationError, match="not connected") as exc:
        records.item_import_from_crm(organization=other_org, actor=admin_user, crm_id="1")
    assert exc.value.status == 404


def test_edit_sets_a_full_resync_for_the_next_run(connected, org):
    configure(connected, "customers", crm_module_option="accounts")
    sync_now(connected)
    assert not SyncCursor.objects.filter(organization=org, full_resync=True).exists()
    link_services.on_module_saved(connection=connected, module="customers")
    assert SyncCursor.objects.filter(organization=org, key__startswith="pull:", full_resync=True).exists()
    run = sync_now(connected)
    assert counts(run)[("customers", "pull")]["unchanged"] == 20
    assert not SyncCursor.objects.filter(organization=org, full_resync=True).exists()


def test_contacts_wait_for_their_account_and_join_it_once_it_syncs(connected, sandbox, org):
    accounts = {a["id"]: a for a in crm_all(sandbox, "Accounts", ["Customer_Tier"])}
    contacts = crm_all(sandbox, "Contacts", ["Last_Name", "Account_Name"])
    outside = [
        c for c in contacts if c["Account_Name"] and accounts[c["Account_Name"]["id"]]["Customer_Tier"] != "Gold"
    ]
    assert outside
    configure(connected, "customers", crm_module_option="accounts_and_contacts", primary_view="Gold Accounts")
    sync_now(connected)
    assert not {c["id"] for c in outside} & set(linked(org, "Contacts"))
    from sync.models import DeferredRecord

    assert DeferredRecord.objects.filter(organization=org).count() == len(outside)

    configure(connected, "customers", crm_module_option="accounts_and_contacts", primary_view="All Accounts")
    run = sync_now(connected)

    persons = linked(org, "Contacts")
    for contact in outside:
        person = ContactPerson.objects.get(pk=persons[contact["id"]])
        assert person.contact.zcrm_account_id == contact["Account_Name"]["id"]
    assert not DeferredRecord.objects.filter(organization=org).exists()
    assert counts(run)[("customers", "pull")]["added"] >= len(outside)


def test_without_an_id_field_inserts_are_recovered_from_recorded_intents(connected, sandbox, org):
    # A field of that name that is not unique: the engine cannot upsert on it and falls back to intents.
    made = sandbox.api(
        "POST", "settings/fields", params={"module": "Accounts"},
        json={"fields": [{"field_label": "Ledgerbridge ID", "data_type": "text"}]},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    for i in range(3):
        contact_create(organization=org, actor=None, contact_type="customer", data={"contact_name": f"Intent Co {i}"})
    configure(connected, "customers", crm_module_option="accounts", extent="both_ways")

    sandbox.set_faults(after_write=1.0)  # the inserts are made, their answers lost
    try:
        first = sync_now(connected)
    finally:
        sandbox.set_faults()
    assert first.status == "failed"
    assert "not repeated because repeating it could duplicate records" in first.error
    assert any("recorded intents" in note for note in first.notes)
    from sync.models import PushIntent

    assert PushIntent.objects.filter(organization=org).count() == 3

    second = sync_now(connected)

    assert second.status == "succeeded", second.error
    assert any("Recovered 3 interrupted insert(s)" in note for note in second.notes)
    names = [a["Account_Name"] for a in crm_all(sandbox, "Accounts", ["Account_Name"])]
    assert sorted(n for n in names if n.startswith("Intent Co")) == ["Intent Co 0", "Intent Co 1", "Intent Co 2"]
    assert not PushIntent.objects.filter(organization=org).exists()
    assert Contact.objects.filter(organization=org, is_linked_with_zohocrm=True).count() == 23


def test_a_second_delivery_of_a_running_run_leaves_it_alone(connected, org):
    configure(connected, "customers", crm_module_option="accounts")
    run = runs.sync_start(connection=connected, actor=None, trigger=Trigger.MANUAL, enqueue=False)
    copy = SyncRun.objects.get(pk=run.pk)
    done = runs.run_execute(run=run).run
    assert done.status == "succeeded"
    # The same queued run, delivered again while (or after) it ran.
    with pytest.raises(ApplicationError, match="not queued"):
        runs.run_execute(run=SyncRun.objects.get(pk=run.pk))
    copy.status = RunStatus.QUEUED  # a stale copy taken before the first delivery claimed it
    assert runs.run_execute(run=copy).run.status == "succeeded"
    assert SyncRun.objects.get(pk=run.pk).status == "succeeded"
    assert SyncRun.objects.filter(organization=org).count() == 1


def test_fetch_record_task(connected, sandbox, org):
    from sync.tasks import fetch_record

    configure(connected, "vendors")
    sync_now(connected)
    crm_id, books_id = next(iter(linked(org, "Vendors").items()))
    assert sandbox.api("PUT", "Vendors", json={"data": [{"id": crm_id, "Phone": "+1 fetched"}]}).ok
    assert fetch_record.apply(args=[org.pk, books_id]).get() == "fetched"
    assert Contact.objects.get(pk=books_id).phone == "+1 fetched"
    assert fetch_record.apply(args=[org.pk, 999999]).get() == "no such contact"

"""The pure parts of the engine, without a database or a CRM: hashes, the cursor rule, mapping a page, lanes,
prefetching."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest

from crm_integration.mapping import MappingSpec
from sync.services.cursors import next_pull_cursor
from sync.services.hashing import canonical, content_hash
from sync.services.idfield import id_parse, id_value
from sync.services.lanes import CONTACT_PERSON, CUSTOMER_BUSINESS, CUSTOMER_INDIVIDUAL, Lane, crm_fields_for
from sync.services.pull import map_page, prefetched

UTC = datetime.UTC


def test_canonical_values_hash_the_same_whichever_way_they_travelled():
    assert canonical(12.5) == canonical(Decimal("12.50")) == canonical("12.5") or canonical(12.5) == "12.5"
    assert canonical(Decimal("12.50")) == "12.5"
    assert canonical(5) == canonical(5.0) == "5"
    assert canonical(None) == canonical("") == ""
    assert canonical({"id": "42", "name": "Owner"}) == "42"
    assert canonical(True) == "true"
    assert canonical(datetime.date(2024, 2, 29)) == "2024-02-29"
    assert content_hash({"a": 1, "b": None}, ["a", "b"]) == content_hash({"a": Decimal("1.0")}, ["b", "a"])
    assert content_hash({"a": 1}, ["a"]) != content_hash({"a": 2}, ["a"])


def test_ledgerbridge_ids_name_the_organization_entity_and_record():
    value = id_value(organization_id=7, entity="customer", books_id=123)
    assert value == "lb:7:customer:123"
    assert id_parse(value, organization_id=7, entity="customer") == 123
    assert id_parse(value, organization_id=8, entity="customer") is None  # another Books organization's record
    assert id_parse(value, organization_id=7, entity="vendor") is None
    assert id_parse("lb:7:customer:x", organization_id=7, entity="customer") is None
    assert id_parse(None, organization_id=7, entity="customer") is None


T0 = datetime.datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("max_seen", "started", "previous", "expected"),
    [
        # Long past: the next second, so that an unchanged CRM answers 304.
        (T0, T0 + datetime.timedelta(hours=1), None, T0 + datetime.timedelta(seconds=1)),
        # Seen just before the pull started: no further than the safe point (read again, never missed).
        (T0, T0 + datetime.timedelta(seconds=30), None, T0 - datetime.timedelta(seconds=90)),
        # Seen a little before the safe point, in the same second: stay at its second.
        (T0 + datetime.timedelta(microseconds=5), T0 + datetime.timedelta(seconds=120, microseconds=500), None, T0),
        # Seen after the safe point (edited during the pull): no further than the safe point.
        (
            T0 + datetime.timedelta(seconds=90),
            T0 + datetime.timedelta(seconds=100),
            None,
            T0 - datetime.timedelta(seconds=20),
        ),
        # Nothing new: the cursor stays.
        (None, T0, T0 - datetime.timedelta(days=1), T0 - datetime.timedelta(days=1)),
        # Never backwards.
        (
            T0,
            T0 + datetime.timedelta(seconds=30),
            T0 + datetime.timedelta(seconds=5),
            T0 + datetime.timedelta(seconds=5),
        ),
    ],
)
def test_the_pull_cursor_never_skips_a_change(max_seen, started, previous, expected):
    assert next_pull_cursor(previous=previous, max_seen=max_seen, pull_started=started) == expected


def _lane(adapter=CUSTOMER_BUSINESS, crm_module="Accounts", maps=(), **kw) -> Lane:
    defaults = {
        "module": "customers",
        "crm_module": crm_module,
        "adapter": adapter,
        "map_entity": "customer_business" if adapter is CUSTOMER_BUSINESS else "customer_individual",
        "maps": tuple(maps),
        "custom_defs": (),
        "view_id": "",
        "duplicates": "skip",
        "both_ways": False,
    }
    defaults.update(kw)
    return Lane(**defaults)


ACCOUNT_MAPS = (
    MappingSpec("Accounts", "contact_name", "Account_Name", "text", "text"),
    MappingSpec("Accounts", "company_name", "Account_Name", "text", "text"),
    MappingSpec("Accounts", "payment_terms", "Employees", "integer", "number"),
    MappingSpec("Accounts", "crm_owner_id", "Owner", "ownerlookup", "owner"),
)


def test_map_page_maps_each_record_and_fails_only_the_bad_one():
    lane = _lane(maps=ACCOUNT_MAPS)
    records = [
        {
            "id": "1",
            "Account_Name": " Acme ",
            "Employees": 5,
            "Owner": {"id": "9"},
            "Modified_Time": "2024-05-01T10:00:00-07:00",
        },
        {"id": "2", "Account_Name": "Bad", "Employees": "many", "Owner": None, "Modified_Time": None},
        {"Account_Name": "no id: ignored"},
    ]
    first, second = map_page(lane, records, organization_id=1)
    assert first.values == {"contact_name": "Acme", "company_name": "Acme", "payment_terms": 5, "crm_owner_id": "9"}
    assert first.modified == datetime.datetime(2024, 5, 1, 17, 0, tzinfo=UTC)
    assert first.error is None
    assert first.name == "Acme"
    assert second.error is not None
    assert second.error.field == "Employees"
    # The CRM-side hash covers the mapped CRM fields only, in the CRM's terms.
    assert first.crm_hash == content_hash(
        {"Account_Name": " Acme ", "Employees": 5, "Owner": "9"}, ["Account_Name", "Employees", "Owner"]
    )


def test_contacts_without_an_account_go_to_the_orphans_lane():
    maps = (MappingSpec("Contacts", "last_name", "Last_Name", "text", "text"),
            MappingSpec("Contacts", "designation", "Title", "text", "text"))  # fmt: skip
    orphans = _lane(adapter=CUSTOMER_INDIVIDUAL, crm_module="Contacts", maps=maps, fetch_new=False)
    persons = _lane(
        adapter=CONTACT_PERSON, crm_module="Contacts", maps=maps, orphans=orphans, map_entity="contact_person"
    )
    with_account, without = map_page(
        persons,
        [
            {"id": "1", "Last_Name": "Lee", "Title": "CFO", "Account_Name": {"id": "77", "name": "Acme"}},
            {"id": "2", "Last_Name": "Solo", "Title": "Owner", "Account_Name": None},
        ],
        organization_id=1,
    )
    assert (with_account.lane, with_account.account_id, with_account.values) == (
        persons, "77", {"last_name": "Lee", "designation": "CFO"}
    )  # fmt: skip
    # An individual customer has no designation; its display name comes from the names.
    assert (without.lane, without.values) == (orphans, {"last_name": "Solo", "contact_name": "Solo"})
    assert "Account_Name" in crm_fields_for(persons)
    assert "Modified_Time" in crm_fields_for(persons)


def test_the_crm_hash_of_a_both_ways_lane_leaves_out_fields_the_crm_computes():
    maps = (*ACCOUNT_MAPS, MappingSpec("Accounts", "notes", "Account_Number", "autonumber", "textarea"))
    assert "Account_Number" in _lane(maps=maps).crm_keys()
    assert "Account_Number" not in _lane(maps=maps, both_ways=True).crm_keys()
    assert _lane(maps=maps).fingerprint() != _lane(maps=maps, view_id="42").fingerprint()


def test_prefetched_yields_in_order_raises_errors_and_stops_with_the_caller():
    assert list(prefetched(iter(range(5)))) == [0, 1, 2, 3, 4]

    def failing():
        yield 1
        raise ValueError("page 2 failed")

    got = []
    pages = prefetched(failing())
    got.append(next(pages))
    with pytest.raises(ValueError, match="page 2 failed"):
        next(pages)
    assert got == [1]

    produced = []

    def endless():
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    for item in prefetched(endless()):
        if item == 2:
            break
    deadline = threading.Event()
    deadline.wait(0.5)
    assert len(produced) <= 5  # the producer stopped instead of reading on

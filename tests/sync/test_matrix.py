"""Every combination of module option × extent × duplicate policy against the live CRM sandbox, checking the final
state of BOTH sides: which Books records exist and what they are linked to (incl. the zcrm_* fields), which CRM
records exist (read back over HTTP), the history's counts — and that a second sync right after changes nothing on
either side (no echo, no write whose content did not change).

Each scenario puts in Books one record whose name equals a CRM record's (the duplicate) and records that exist only
in Books (pushed when syncing both ways)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from books.models import Contact, ContactPerson, Item
from books.services.contacts import contact_create, contact_person_create
from books.services.items import item_create
from sync.models import LinkState, RecordLink, SyncFailure
from tests.sync.conftest import configure, counts, crm_all, sync_now

pytestmark = pytest.mark.e2e

POLICIES = ("clone", "overwrite", "skip")
EXTENTS = ("fetch_from_crm", "both_ways")
LB = "Ledgerbridge_ID"


def _assert_quiet_second_run(connection):
    again = sync_now(connection)
    assert again.status == "succeeded", again.error
    for key, c in counts(again).items():
        assert (c["added"], c["updated"], c["failed"]) == (0, 0, 0), (key, c)


def _links(org, crm_module, entity):
    return {
        link.crm_id: link.books_id
        for link in RecordLink.objects.filter(
            organization=org, crm_module=crm_module, entity=entity, state=LinkState.LINKED
        )
    }


# --------------------------------------------------------------------------------------------- Accounts / Vendors


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("extent", EXTENTS)
@pytest.mark.parametrize("family", ["accounts", "vendors"])
def test_accounts_and_vendors(connected, sandbox, org, family, extent, policy):
    crm_module, name_field, module = (
        ("Accounts", "Account_Name", "customers") if family == "accounts" else ("Vendors", "Vendor_Name", "vendors")
    )
    contact_type = "customer" if family == "accounts" else "vendor"
    zcrm = "zcrm_account_id" if family == "accounts" else "zcrm_vendor_id"
    before = crm_all(sandbox, crm_module, [name_field, "Phone"])
    target = next(r for r in before if Counter(x[name_field].lower() for x in before)[r[name_field].lower()] == 1)
    dup = contact_create(
        organization=org,
        actor=None,
        contact_type=contact_type,
        data={"contact_name": f"  {target[name_field].upper()} ", "phone": "000 000"},
    )
    only = contact_create(
        organization=org, actor=None, contact_type=contact_type, data={"contact_name": "Books Only Ltd", "phone": "111"}
    )
    options = {"crm_module_option": "accounts"} if family == "accounts" else {}
    configure(connected, module, extent=extent, duplicates=policy, **options)

    run = sync_now(connected)

    assert run.status in ("succeeded", "partial"), run.error
    books = Contact.objects.filter(organization=org, contact_type=contact_type)
    dup.refresh_from_db()
    only.refresh_from_db()
    links = _links(org, crm_module, contact_type)
    n = len(before)
    # Books side.
    if policy == "overwrite":
        assert books.count() == n + 1
        assert links[target["id"]] == dup.pk
        assert dup.phone == (target["Phone"] or "")
        assert getattr(dup, zcrm) == target["id"]
    elif policy == "clone":
        assert books.count() == n + 2
        assert links[target["id"]] != dup.pk
        assert books.get(pk=links[target["id"]]).contact_name == target[name_field]
        assert dup.phone == "000 000"
    else:
        assert books.count() == n + 1
        assert target["id"] not in links
        assert dup.phone == "000 000"
        assert getattr(dup, zcrm) == ""
        skipped = SyncFailure.objects.get(run=run, reason_code="duplicate_skipped")
        assert (skipped.crm_id, skipped.books_id, skipped.outcome) == (target["id"], dup.pk, "skipped")
        assert counts(run)[(module, "pull")]["skipped"] == 1
    for crm_id, books_id in links.items():
        assert getattr(books.get(pk=books_id), zcrm) == crm_id
    assert set(books.filter(is_linked_with_zohocrm=True).values_list("pk", flat=True)) == set(links.values())

    # CRM side.
    after = crm_all(sandbox, crm_module, [name_field, "Phone", LB] if extent == "both_ways" else [name_field])
    names = Counter(r[name_field] for r in after)
    if extent == "fetch_from_crm":
        assert len(after) == n
        assert getattr(only, zcrm) == ""
        assert "Books Only Ltd" not in names
    else:
        pushed_dup = policy == "clone"
        assert len(after) == n + 1 + pushed_dup
        assert names["Books Only Ltd"] == 1
        assert links[getattr(only, zcrm)] == only.pk
        pushed = next(r for r in after if r[name_field] == "Books Only Ltd")
        assert pushed[LB] == f"lb:{org.pk}:{contact_type}:{only.pk}"
        assert pushed["Phone"] == "111"
        assert sum(1 for r in after if r[name_field].strip().lower() == target[name_field].strip().lower()) == (
            2 if pushed_dup else 1
        )
        if pushed_dup:
            assert links[getattr(dup, zcrm)] == dup.pk
        expected_linked = n + 1 + pushed_dup - (policy == "skip")
        assert len(links) == expected_linked
    _assert_quiet_second_run(connected)


# ------------------------------------------------------------------------------------------------------ Contacts


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("extent", EXTENTS)
def test_contacts_as_individual_customers(connected, sandbox, org, extent, policy):
    before = crm_all(sandbox, "Contacts", ["First_Name", "Last_Name", "Email"])
    full = Counter(f"{r['First_Name']} {r['Last_Name']}".lower() for r in before)
    target = next(r for r in before if full[f"{r['First_Name']} {r['Last_Name']}".lower()] == 1)
    dup = contact_create(
        organization=org,
        actor=None,
        contact_type="customer",
        data={
            "customer_sub_type": "individual",
            "contact_name": f"{target['First_Name']} {target['Last_Name']}",
            "email": "dup@books.test",
        },
    )
    only = contact_create(
        organization=org,
        actor=None,
        contact_type="customer",
        data={
            "customer_sub_type": "individual",
            "contact_name": "Solo Person",
            "first_name": "Solo",
            "last_name": "Person",
        },
    )
    business = contact_create(organization=org, actor=None, contact_type="customer", data={"contact_name": "Biz Co"})
    configure(connected, "customers", crm_module_option="contacts", extent=extent, duplicates=policy)

    run = sync_now(connected)

    assert run.status in ("succeeded", "partial"), run.error
    n = len(before)
    individuals = Contact.objects.filter(organization=org, contact_type="customer", customer_sub_type="individual")
    links = _links(org, "Contacts", "customer")
    dup.refresh_from_db()
    only.refresh_from_db()
    business.refresh_from_db()
    assert business.zcrm_contact_id == ""
    assert business.zcrm_account_id == ""
    if policy == "overwrite":
        assert individuals.count() == n + 1
        assert links[target["id"]] == dup.pk
        assert dup.email == target["Email"]
    elif policy == "clone":
        assert individuals.count() == n + 2
        assert links[target["id"]] != dup.pk
        assert dup.email == "dup@books.test"
    else:
        assert individuals.count() == n + 1
        assert target["id"] not in links
        assert dup.zcrm_contact_id == ""
    for crm_id, books_id in links.items():
        assert individuals.get(pk=books_id).zcrm_contact_id == crm_id

    after = crm_all(sandbox, "Contacts", ["First_Name", "Last_Name", "Account_Name", LB])
    if extent == "fetch_from_crm":
        assert len(after) == n
    else:
        assert len(after) == n + 1 + (policy == "clone")
        solo = next(r for r in after if r["Last_Name"] == "Person")
        assert (solo["First_Name"], solo["Account_Name"], solo["id"]) == ("Solo", None, only.zcrm_contact_id)
        assert not any(r["Last_Name"] == "Biz Co" for r in after)
    _assert_quiet_second_run(connected)


# ---------------------------------------------------------------------------------- Accounts and their Contacts


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("extent", EXTENTS)
@pytest.mark.parametrize("orphans", [False, True], ids=["without-orphans", "with-orphans"])
def test_accounts_and_their_contacts(connected, sandbox, org, orphans, extent, policy):
    accounts = crm_all(sandbox, "Accounts", ["Account_Name", "Phone"])
    contacts = crm_all(sandbox, "Contacts", ["First_Name", "Last_Name", "Account_Name"])
    by_account = Counter(c["Account_Name"]["id"] for c in contacts if c["Account_Name"])
    names = Counter(a["Account_Name"].lower() for a in accounts)
    target = next(a for a in accounts if by_account[a["id"]] and names[a["Account_Name"].lower()] == 1)
    orphan_ids = {c["id"] for c in contacts if not c["Account_Name"]}
    assert orphan_ids, "the seed has contacts without an account"
    dup = contact_create(
        organization=org, actor=None, contact_type="customer", data={"contact_name": target["Account_Name"]}
    )
    only = contact_create(
        organization=org, actor=None, contact_type="customer", data={"contact_name": "Books Only Ltd"}
    )
    pat = contact_person_create(contact=only, actor=None, data={"first_name": "Pat", "last_name": "Books"})
    solo = contact_create(
        organization=org,
        actor=None,
        contact_type="customer",
        data={"customer_sub_type": "individual", "contact_name": "Solo Person", "last_name": "Person"},
    )
    configure(
        connected,
        "customers",
        crm_module_option="accounts_and_contacts",
        include_orphan_contacts=orphans,
        extent=extent,
        duplicates=policy,
    )

    run = sync_now(connected)

    assert run.status in ("succeeded", "partial"), run.error
    account_links = _links(org, "Accounts", "customer")
    person_links = _links(org, "Contacts", "contact_person")
    orphan_links = _links(org, "Contacts", "customer")
    dup.refresh_from_db()
    # Accounts → business customers, by the policy.
    if policy == "skip":
        assert target["id"] not in account_links
    elif policy == "overwrite":
        assert account_links[target["id"]] == dup.pk
    else:
        assert account_links[target["id"]] != dup.pk
    pulled_accounts = {a["id"] for a in accounts} - ({target["id"]} if policy == "skip" else set())
    assert set(account_links) >= pulled_accounts
    # Contacts of a synced account → its contact persons; of a skipped account → not synced (waiting for it).
    expected_persons = {c["id"] for c in contacts if c["Account_Name"] and c["Account_Name"]["id"] in pulled_accounts}
    assert expected_persons <= set(person_links)
    persons = ContactPerson.objects.filter(organization=org).select_related("contact")
    for c in contacts:
        if c["id"] in expected_persons:
            person = persons.get(pk=person_links[c["id"]])
            assert person.contact_id == account_links[c["Account_Name"]["id"]]
            assert (person.last_name, person.zcrm_contact_id) == (c["Last_Name"], c["id"])
    # Contacts without an account → individual customers only when asked.
    assert ({c for c in orphan_ids if c in orphan_links} == orphan_ids) is orphans
    if not orphans:
        assert not orphan_ids & set(orphan_links)

    crm_accounts = crm_all(sandbox, "Accounts", ["Account_Name"])
    crm_contacts = crm_all(sandbox, "Contacts", ["First_Name", "Last_Name", "Account_Name", LB])
    if extent == "fetch_from_crm":
        assert (len(crm_accounts), len(crm_contacts)) == (len(accounts), len(contacts))
        assert set(person_links) == expected_persons
    else:
        only.refresh_from_db()
        pat.refresh_from_db()
        solo.refresh_from_db()
        assert len(crm_accounts) == len(accounts) + 1 + (policy == "clone")
        assert len(crm_contacts) == len(contacts) + 2  # Pat under Books Only's account, and Solo on its own
        pat_crm = next(c for c in crm_contacts if c["id"] == pat.zcrm_contact_id)
        assert (pat_crm["Last_Name"], pat_crm["Account_Name"]["id"]) == ("Books", only.zcrm_account_id)
        solo_crm = next(c for c in crm_contacts if c["id"] == solo.zcrm_contact_id)
        assert (solo_crm["Last_Name"], solo_crm["Account_Name"]) == ("Person", None)
        assert person_links[pat.zcrm_contact_id] == pat.pk
    _assert_quiet_second_run(connected)


# --------------------------------------------------------------------------------------------------------- Items


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("extent", EXTENTS)
def test_items_and_products(connected, sandbox, org, extent, policy):
    fields = ["Product_Name", "Unit_Price", "Product_Type", LB]
    before = crm_all(sandbox, "Products", fields[:3])
    target = before[0]
    dup = item_create(
        organization=org, actor=None, data={"name": target["Product_Name"], "rate": "1.50", "product_type": "service"}
    )
    only = item_create(organization=org, actor=None, data={"name": "Books Only Widget", "rate": "7.25"})
    configure(connected, "items", extent=extent, duplicates=policy)

    run = sync_now(connected)

    assert run.status in ("succeeded", "partial"), run.error
    n = len(before)
    items = Item.objects.filter(organization=org)
    links = _links(org, "Products", "item")
    dup.refresh_from_db()
    only.refresh_from_db()
    after = {r["id"]: r for r in crm_all(sandbox, "Products", fields if extent == "both_ways" else fields[:3])}
    for crm_id, books_id in links.items():
        assert items.get(pk=books_id).zcrm_product_id == crm_id
    if extent == "fetch_from_crm":
        # One way: duplicates fall in Books, as for customers.
        assert len(after) == n
        if policy == "overwrite":
            assert items.count() == n + 1
            assert links[target["id"]] == dup.pk
            assert dup.rate == Decimal(str(target["Unit_Price"])).quantize(Decimal("0.01"))
        elif policy == "clone":
            assert items.count() == n + 2
            assert links[target["id"]] != dup.pk
            assert dup.rate == Decimal("1.50")
        else:
            assert items.count() == n + 1
            assert target["id"] not in links
            assert dup.zcrm_product_id == ""
        assert only.zcrm_product_id == ""
    else:
        # Both ways, Books first: duplicates fall in the CRM.
        assert after[only.zcrm_product_id]["Product_Name"] == "Books Only Widget"
        assert after[only.zcrm_product_id]["Unit_Price"] == 7.25
        if policy == "overwrite":
            # The Books item replaced the CRM product.
            assert items.count() == n + 1
            assert len(after) == n + 1
            assert links[target["id"]] == dup.pk
            assert (after[target["id"]]["Unit_Price"], after[target["id"]]["Product_Type"]) == (1.5, "Services")
            assert dup.rate == Decimal("1.50")
        elif policy == "clone":
            assert items.count() == n + 2
            assert len(after) == n + 2
            assert dup.zcrm_product_id not in ("", target["id"])
            assert after[dup.zcrm_product_id]["Unit_Price"] == 1.5
            assert after[target["id"]]["Unit_Price"] == target["Unit_Price"]
        else:
            assert items.count() == n + 1
            assert len(after) == n + 1
            assert target["id"] not in links
            assert dup.zcrm_product_id == ""
            assert after[target["id"]]["Unit_Price"] == target["Unit_Price"]
    _assert_quiet_second_run(connected)

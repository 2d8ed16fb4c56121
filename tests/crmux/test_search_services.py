"""Search Contacts in CRM (services) against the live sandbox: what is searched follows the customers config (the
seed's Insight), the chosen record is imported on the spot, and records already imported are simply chosen."""

from __future__ import annotations

import pytest

from books.errors import ApplicationError
from books.models import Contact, ContactPerson, ContactType, CustomerSubType
from crm_integration.services.connections import connection_disable
from sync.models import SyncRun
from sync.services.crm_actions import crm_contact_choose, crm_contact_search
from tests.crmux.conftest import account_with_contacts, configure, crm_records, orphan_contact
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
CUSTOMER = ContactType.CUSTOMER


def _by_id(result, crm_id):
    return next(c for c in result.candidates if c.crm_id == crm_id)


def test_accounts_and_their_contacts_lists_each_account_with_its_contacts(connected, sandbox, org):
    configure(connected, "customers", crm_module_option="accounts_and_contacts")
    account, contacts = account_with_contacts(sandbox)
    result = crm_contact_search(organization=org, contact_type=CUSTOMER, query=account["Account_Name"])
    assert result.searched == "accounts"
    found = _by_id(result, account["id"])
    assert found.name == account["Account_Name"]
    assert found.crm_module == "Accounts"
    assert {c.crm_id for c in found.children} == {c["id"] for c in contacts}
    assert all(c.selectable for c in found.children)
    assert not found.imported
    # Every account listed starts with what was typed; nothing else is.
    assert all(c.name.lower().startswith(account["Account_Name"].lower()[:1]) for c in result.candidates)


def test_accounts_only_shows_contacts_under_accounts_but_chooses_the_account(connected, sandbox, org, admin_user):
    configure(connected, "customers", crm_module_option="accounts")
    account, contacts = account_with_contacts(sandbox)
    result = crm_contact_search(organization=org, contact_type=CUSTOMER, query=account["Account_Name"])
    found = _by_id(result, account["id"])
    assert {c.crm_id for c in found.children} == {c["id"] for c in contacts}
    assert not any(c.selectable for c in found.children)
    customer = crm_contact_choose(
        organization=org, actor=admin_user, contact_type=CUSTOMER, crm_module="Contacts", crm_id=contacts[0]["id"]
    )
    assert customer.zcrm_account_id == account["id"]
    assert customer.customer_sub_type == CustomerSubType.BUSINESS
    assert customer.contact_name == account["Account_Name"].strip()


def test_contacts_only_searches_first_and_last_names(connected, sandbox, org, admin_user):
    configure(connected, "customers", crm_module_option="contacts")
    contact = crm_records(sandbox, "Contacts", ["First_Name", "Last_Name", "Account_Name"])[0]
    first, last = contact["First_Name"], contact["Last_Name"]
    for query in (first, last, f"{first} {last}"):
        result = crm_contact_search(organization=org, contact_type=CUSTOMER, query=query)
        assert result.searched == "contacts"
        assert contact["id"] in {c.crm_id for c in result.candidates}, query
        assert all(c.crm_module == "Contacts" and not c.children for c in result.candidates)
    # Not by account name: with Contacts only, accounts are not searched.
    account, _ = account_with_contacts(sandbox)
    result = crm_contact_search(organization=org, contact_type=CUSTOMER, query=account["Account_Name"])
    assert account["id"] not in {c.crm_id for c in result.candidates}
    customer = crm_contact_choose(
        organization=org, actor=admin_user, contact_type=CUSTOMER, crm_module="Contacts", crm_id=contact["id"]
    )
    assert customer.zcrm_contact_id == contact["id"]
    assert customer.customer_sub_type == CustomerSubType.INDIVIDUAL


def test_choosing_imports_once_then_the_record_is_marked_and_simply_chosen(connected, sandbox, org, admin_user):
    configure(connected, "customers", crm_module_option="accounts_and_contacts")
    account, contacts = account_with_contacts(sandbox)
    customer = crm_contact_choose(
        organization=org, actor=admin_user, contact_type=CUSTOMER, crm_module="Accounts", crm_id=account["id"]
    )
    assert customer.zcrm_account_id == account["id"]
    assert Contact.objects.filter(organization=org, zcrm_account_id=account["id"]).count() == 1
    result = crm_contact_search(organization=org, contact_type=CUSTOMER, query=account["Account_Name"])
    assert _by_id(result, account["id"]).books_id == customer.pk
    runs = SyncRun.objects.count()
    sandbox.reset_counters()
    again = crm_contact_choose(
        organization=org, actor=admin_user, contact_type=CUSTOMER, crm_module="Accounts", crm_id=account["id"]
    )
    assert again.pk == customer.pk
    assert SyncRun.objects.count() == runs
    assert sandbox.counters()["total_calls"] == 0
    # A contact of the account: its contact person is imported, and the customer is the account's.
    person_customer = crm_contact_choose(
        organization=org, actor=admin_user, contact_type=CUSTOMER, crm_module="Contacts", crm_id=contacts[0]["id"]
    )
    assert person_customer.pk == customer.pk
    person = ContactPerson.objects.get(contact=customer, zcrm_contact_id=contacts[0]["id"])
    assert person.last_name == contacts[0]["Last_Name"]
    result = crm_contact_search(organization=org, contact_type=CUSTOMER, query=account["Account_Name"])
    child = next(c for c in _by_id(result, account["id"]).children if c.crm_id == contacts[0]["id"])
    assert child.books_id == customer.pk


def test_contacts_without_an_account_are_found_by_name_when_included(connected, sandbox, org, admin_user):
    configure(connected, "customers", crm_module_option="accounts_and_contacts", include_orphan_contacts=True)
    orphan = orphan_contact(sandbox)
    result = crm_contact_search(organization=org, contact_type=CUSTOMER, query=orphan["Last_Name"])
    found = _by_id(result, orphan["id"])
    assert found.crm_module == "Contacts"
    assert "no account" in found.detail
    customer = crm_contact_choose(
        organization=org, actor=admin_user, contact_type=CUSTOMER, crm_module="Contacts", crm_id=orphan["id"]
    )
    assert customer.customer_sub_type == CustomerSubType.INDIVIDUAL
    assert customer.zcrm_contact_id == orphan["id"]


def test_vendors_are_searched_by_vendor_name(connected, sandbox, org, admin_user):
    configure(connected, "vendors")
    vendor = crm_records(sandbox, "Vendors", ["Vendor_Name"])[0]
    result = crm_contact_search(organization=org, contact_type=ContactType.VENDOR, query=vendor["Vendor_Name"])
    assert result.searched == "vendors"
    assert _by_id(result, vendor["id"]).name == vendor["Vendor_Name"]
    chosen = crm_contact_choose(
        organization=org, actor=admin_user, contact_type=ContactType.VENDOR, crm_module="Vendors", crm_id=vendor["id"]
    )
    assert chosen.contact_type == ContactType.VENDOR
    assert chosen.zcrm_vendor_id == vendor["id"]
    with pytest.raises(ApplicationError, match="crm_module: 'Accounts' is not one of Vendors"):
        crm_contact_choose(
            organization=org, actor=admin_user, contact_type=ContactType.VENDOR, crm_module="Accounts", crm_id="1"
        )


def test_duplicates_policy_applies_to_an_import_on_the_spot(connected, sandbox, org, admin_user):
    configure(connected, "customers", crm_module_option="accounts", duplicates="skip")
    account, _ = account_with_contacts(sandbox)
    existing = CustomerFactory(organization=org, contact_name=account["Account_Name"].strip())
    chosen = crm_contact_choose(
        organization=org, actor=admin_user, contact_type=CUSTOMER, crm_module="Accounts", crm_id=account["id"]
    )
    assert chosen.pk == existing.pk
    assert Contact.objects.filter(organization=org).count() == 1


@pytest.mark.parametrize(
    ("query", "message"),
    [("", "q: enter at least 2 characters"), (" a ", "q: enter at least 2 characters"), ("x" * 101, "q: at most 100")],
)
def test_a_query_must_be_a_name(connected, org, query, message):
    configure(connected, "customers", crm_module_option="accounts")
    with pytest.raises(ApplicationError, match=message):
        crm_contact_search(organization=org, contact_type=CUSTOMER, query=query)


def test_searches_say_why_they_cannot_run(connected, sandbox, org, other_org, admin_user):
    with pytest.raises(ApplicationError, match="connection: Zoho CRM is not connected"):
        crm_contact_search(organization=other_org, contact_type=CUSTOMER, query="Zylker")
    with pytest.raises(ApplicationError, match="customers: Customers are not synced with Zoho CRM"):
        crm_contact_search(organization=org, contact_type=CUSTOMER, query="Zylker")
    with pytest.raises(ApplicationError, match="vendors: Vendors are not synced with Zoho CRM"):
        crm_contact_search(organization=org, contact_type=ContactType.VENDOR, query="Zylker")
    configure(connected, "customers", crm_module_option="accounts")
    connection_disable(connection=connected, actor=admin_user)
    with pytest.raises(ApplicationError, match="connection: the Zoho CRM integration is disabled"):
        crm_contact_search(organization=org, contact_type=CUSTOMER, query="Zylker")
    with pytest.raises(ApplicationError, match="crm_id: 'abc' is not a Zoho CRM record id"):
        crm_contact_choose(
            organization=org, actor=admin_user, contact_type=CUSTOMER, crm_module="Accounts", crm_id="abc"
        )

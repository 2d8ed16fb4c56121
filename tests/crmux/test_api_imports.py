"""The Books API's CRM imports against the live sandbox: `POST /books/v3/crm/{account,contact,vendor,item}/{id}/import`
(reference §3): the envelope and `data`, idempotency, the preconditions of the sync type, tenancy and roles, ids."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from books.models import Contact, ContactPerson, ContactType, CustomerSubType, Item
from crm_integration.services.connections import connection_disable
from sync.models import SyncRun
from tests.api.conftest import assert_error, client_for, url
from tests.crmux.conftest import account_with_contacts, configure, crm_records, orphan_contact

pytestmark = pytest.mark.django_db


def _import(api, kind: str, crm_id: str):
    return api.post(url(api, f"crm/{kind}/{crm_id}/import"))


def test_account_import_answers_the_customer_and_is_idempotent(connected, sandbox, api, org):
    configure(connected, "customers", crm_module_option="accounts_and_contacts")
    account, _ = account_with_contacts(sandbox)
    response = _import(api, "account", account["id"])
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["code"] == 0
    assert body["message"] == "success"
    customer = Contact.objects.get(organization=org, zcrm_account_id=account["id"])
    assert body["data"] == {"contact_id": str(customer.pk)}
    assert customer.customer_sub_type == CustomerSubType.BUSINESS
    runs = SyncRun.objects.count()
    sandbox.reset_counters()
    again = _import(api, "account", account["id"]).json()
    assert again["data"] == {"contact_id": str(customer.pk)}
    assert Contact.objects.filter(organization=org, zcrm_account_id=account["id"]).count() == 1
    assert SyncRun.objects.count() == runs
    assert sandbox.counters()["total_calls"] == 0
    # The API shows it as a CRM customer.
    shown = api.get(url(api, f"contacts/{customer.pk}")).json()["contact"]
    assert shown["zcrm_account_id"] == account["id"]
    assert shown["is_linked_with_zohocrm"] is True


def test_contact_import_needs_contacts_or_accounts_with_contacts_without_accounts(connected, sandbox, api, org):
    configure(connected, "customers", crm_module_option="accounts_and_contacts")
    orphan = orphan_contact(sandbox)
    body = assert_error(_import(api, "contact", orphan["id"]), 409, field="sync_type")
    assert "Include contacts that are not associated to any accounts" in body["message"]
    assert not Contact.objects.filter(organization=org).exists()

    configure(connected, "customers", crm_module_option="accounts_and_contacts", include_orphan_contacts=True)
    body = _import(api, "contact", orphan["id"]).json()
    orphan_customer = Contact.objects.get(organization=org, zcrm_contact_id=orphan["id"])
    assert body["data"] == {"contact_id": str(orphan_customer.pk)}
    assert orphan_customer.customer_sub_type == CustomerSubType.INDIVIDUAL
    # A contact with an account brings its account: the account's customer is answered.
    account, contacts = account_with_contacts(sandbox)
    body = _import(api, "contact", contacts[0]["id"]).json()
    customer = Contact.objects.get(organization=org, zcrm_account_id=account["id"])
    assert body["data"] == {"contact_id": str(customer.pk)}
    assert ContactPerson.objects.filter(contact=customer, zcrm_contact_id=contacts[0]["id"]).exists()
    # Asked again, the same customer (through its contact person).
    assert _import(api, "contact", contacts[0]["id"]).json()["data"] == {"contact_id": str(customer.pk)}


def test_account_import_needs_accounts(connected, sandbox, api, org):
    configure(connected, "customers", crm_module_option="contacts")
    account, _ = account_with_contacts(sandbox)
    body = assert_error(_import(api, "account", account["id"]), 409, field="sync_type")
    assert 'customers sync Contacts; importing a CRM account needs "Accounts"' in body["message"]
    contact = crm_records(sandbox, "Contacts", ["Last_Name"])[0]
    response = _import(api, "contact", contact["id"])
    assert response.status_code == 200, response.content
    assert Contact.objects.get(organization=org).zcrm_contact_id == contact["id"]


def test_vendor_and_item_imports(connected, sandbox, api, org):
    vendor = crm_records(sandbox, "Vendors", ["Vendor_Name"])[0]
    product = crm_records(sandbox, "Products", ["Product_Name"])[0]
    assert (
        "Vendors are not synced"
        in assert_error(_import(api, "vendor", vendor["id"]), 409, field="sync_type")["message"]
    )
    assert "Items (Products) are not synced" in assert_error(_import(api, "item", product["id"]), 409)["message"]
    configure(connected, "vendors")
    configure(connected, "items")
    body = _import(api, "vendor", vendor["id"]).json()
    created = Contact.objects.get(organization=org, zcrm_vendor_id=vendor["id"])
    assert created.contact_type == ContactType.VENDOR
    assert body["data"] == {"contact_id": str(created.pk)}
    body = _import(api, "item", product["id"]).json()
    item = Item.objects.get(organization=org, zcrm_product_id=product["id"])
    assert item.name == product["Product_Name"]
    assert body == {"code": 0, "message": "success", "data": {"item_id": str(item.pk)}}


def test_unknown_and_malformed_crm_ids_are_404(connected, sandbox, api, org):
    configure(connected, "customers", crm_module_option="accounts")
    body = assert_error(_import(api, "account", "5725767000009999999"), 404, code=1002, field="crm_id")
    assert "there is no Accounts record 5725767000009999999 in Zoho CRM" in body["message"]
    for bad in ("abc", "12ab", "1" * 41):
        assert_error(_import(api, "account", bad), 404, field="crm_account_id")
    assert not Contact.objects.filter(organization=org).exists()


def test_not_connected_or_disabled_is_a_clear_error(connected, api, org, admin_user):
    configure(connected, "customers", crm_module_option="accounts")
    connection_disable(connection=connected, actor=admin_user)
    body = assert_error(_import(api, "account", "5725767000000000001"), 409, field="connection")
    assert "integration is disabled" in body["message"]
    connected.delete()
    body = assert_error(_import(api, "account", "5725767000000000001"), 409, field="connection")
    assert "Zoho CRM is not connected" in body["message"]


def test_tenancy_roles_and_methods(connected, sandbox, api, org, other_org, other_admin, accountant, integration_user):
    configure(connected, "customers", crm_module_option="accounts")
    configure(connected, "vendors")
    account, _ = account_with_contacts(sandbox)
    vendor = crm_records(sandbox, "Vendors", ["Vendor_Name"])[0]
    # Another organization's admin cannot import into this one (the organization is not theirs: 404, no data).
    stranger = client_for(other_admin, other_org)
    stranger.organization_id = str(org.pk)
    assert_error(_import(stranger, "account", account["id"]), 404, field="organization_id")
    # Their own organization is not connected.
    assert_error(_import(client_for(other_admin, other_org), "account", account["id"]), 409, field="connection")
    assert not Contact.objects.filter(organization=other_org).exists()
    # An accountant imports; an integration user imports customers, not vendors.
    assert _import(client_for(accountant, org), "account", account["id"]).status_code == 200
    integration = client_for(integration_user, org)
    assert _import(integration, "account", account["id"]).json()["code"] == 0
    assert_error(_import(integration, "vendor", vendor["id"]), 403, code=57)
    assert not Contact.objects.filter(organization=org, contact_type=ContactType.VENDOR).exists()
    # No token: 401. Other methods: 405 in the envelope.
    assert APIClient().post(f"/books/v3/crm/account/{account['id']}/import?organization_id={org.pk}").status_code == 401
    assert_error(api.get(url(api, f"crm/account/{account['id']}/import")), 405)
    assert_error(api.post(url(api, "crm/deal/1/import")), 404, code=5)


def test_missing_organization_id(api):
    response = api.post("/books/v3/crm/account/1/import")
    assert_error(response, 400, code=2, field="organization_id")

"""Tenancy through the pages: a member of org A can neither read nor change org B's records. Every id of another
organization is a 404 (never a 403, never a 500) and the record is left exactly as it was."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict

from books.models import Contact, Item, Membership, Transaction, TransactionKind
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

CONTACT_FORM = {"contact_name": "Hijacked", "customer_sub_type": "business", "payment_terms": "0"}
LINES = {"lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "lines-0-name": "Hijack", "lines-0-rate": "1"}


def _contact_requests(slug: str, c, p) -> list[tuple[str, str, dict]]:
    return [
        ("get", f"/{slug}/{c.pk}/", {}),
        ("get", f"/{slug}/{c.pk}/edit/", {}),
        ("post", f"/{slug}/{c.pk}/edit/", CONTACT_FORM),
        ("post", f"/{slug}/{c.pk}/status/inactive/", {}),
        ("get", f"/{slug}/{c.pk}/delete/", {}),
        ("post", f"/{slug}/{c.pk}/delete/", {}),
        ("get", f"/{slug}/{c.pk}/contactpersons/new/", {}),
        ("post", f"/{slug}/{c.pk}/contactpersons/new/", {"last_name": "Intruder"}),
        ("get", f"/{slug}/{c.pk}/contactpersons/{p.pk}/edit/", {}),
        ("post", f"/{slug}/{c.pk}/contactpersons/{p.pk}/edit/", {"last_name": "Changed"}),
        ("post", f"/{slug}/{c.pk}/contactpersons/{p.pk}/primary/", {}),
        ("post", f"/{slug}/{c.pk}/contactpersons/{p.pk}/delete/", {}),
    ]


def _txn_requests(slug: str, t: Transaction) -> list[tuple[str, str, dict]]:
    requests = [
        ("get", f"/{slug}/{t.pk}/", {}),
        ("get", f"/{slug}/{t.pk}/edit/", {}),
        ("post", f"/{slug}/{t.pk}/edit/", {"contact_id": t.contact_id, **LINES}),
        ("post", f"/{slug}/{t.pk}/status/sent/", {}),
        ("post", f"/{slug}/{t.pk}/status/open/", {}),
        ("post", f"/{slug}/{t.pk}/status/invoiced/", {}),
        ("get", f"/{slug}/{t.pk}/status/void/", {}),
        ("get", f"/{slug}/{t.pk}/delete/", {}),
        ("post", f"/{slug}/{t.pk}/delete/", {}),
        ("post", f"/{slug}/{t.pk}/deal/dissociate/", {}),
        ("post", f"/{slug}/{t.pk}/edit/", {"_add_line": "1", **LINES}),
    ]
    if t.kind == TransactionKind.QUOTE:
        requests.append(("post", f"/quotes/{t.pk}/convert/", {}))
    return requests


def _snapshot(record):
    record.refresh_from_db()
    return model_to_dict(record)


def _assert_all_404(client, requests, record, hidden_text: str):
    before = _snapshot(record)
    for method, url, data in requests:
        response = getattr(client, method)(url, data)
        assert response.status_code == 404, (method, url, response.status_code)
        assert hidden_text not in response.content.decode(), (method, url)
    assert _snapshot(record) == before


def test_customer_and_its_persons(admin_client, foreign):
    c, p = foreign["customer"], foreign["person"]
    _assert_all_404(admin_client, _contact_requests("customers", c, p), c, "Foreign Customer")
    assert _snapshot(p)["last_name"] == "Foreign Person"


def test_vendor_and_its_persons(admin_client, foreign):
    v, p = foreign["vendor"], foreign["vendor_person"]
    _assert_all_404(admin_client, _contact_requests("vendors", v, p), v, "Foreign Vendor")
    assert _snapshot(p)["last_name"] == "Foreign VPerson"


def test_contact_person_of_another_org_under_an_own_contact(admin_client, customer, foreign):
    p = foreign["person"]
    requests = [
        ("get", f"/customers/{customer.pk}/contactpersons/{p.pk}/edit/", {}),
        ("post", f"/customers/{customer.pk}/contactpersons/{p.pk}/edit/", {"last_name": "Changed"}),
        ("post", f"/customers/{customer.pk}/contactpersons/{p.pk}/primary/", {}),
        ("get", f"/customers/{customer.pk}/contactpersons/{p.pk}/delete/", {}),
        ("post", f"/customers/{customer.pk}/contactpersons/{p.pk}/delete/", {}),
    ]
    _assert_all_404(admin_client, requests, p, "Foreign Person")


def test_contact_person_of_another_own_contact(admin_client, org, customer, person):
    other = Contact.objects.create(organization=org, contact_type="customer", contact_name="Sibling")
    response = admin_client.get(f"/customers/{other.pk}/contactpersons/{person.pk}/edit/")
    assert response.status_code == 404


def test_customer_id_under_vendors_is_404(admin_client, customer, vendor):
    assert admin_client.get(f"/vendors/{customer.pk}/").status_code == 404
    assert admin_client.get(f"/customers/{vendor.pk}/").status_code == 404


def test_item(admin_client, foreign):
    i = foreign["item"]
    requests = [
        ("get", f"/items/{i.pk}/", {}),
        ("get", f"/items/{i.pk}/edit/", {}),
        ("post", f"/items/{i.pk}/edit/", {"name": "Hijacked", "product_type": "goods"}),
        ("post", f"/items/{i.pk}/status/inactive/", {}),
        ("get", f"/items/{i.pk}/delete/", {}),
        ("post", f"/items/{i.pk}/delete/", {}),
    ]
    _assert_all_404(admin_client, requests, i, "Foreign Item")


def test_custom_field(admin_client, foreign):
    f = foreign["custom_field"]
    requests = [
        ("get", f"/settings/custom-fields/{f.pk}/edit/", {}),
        (
            "post",
            f"/settings/custom-fields/{f.pk}/edit/",
            {"label": "Hijacked", "entity": "customer", "data_type": "text"},
        ),
        ("post", f"/settings/custom-fields/{f.pk}/status/inactive/", {}),
    ]
    _assert_all_404(admin_client, requests, f, "Foreign Field")
    assert "Foreign Field" not in admin_client.get("/settings/custom-fields/?entity=customer").content.decode()


@pytest.mark.parametrize(
    ("kind", "slug"),
    [
        ("quote", "quotes"),
        ("salesorder", "salesorders"),
        ("invoice", "invoices"),
        ("purchaseorder", "purchaseorders"),
        ("expense", "expenses"),
    ],
)
def test_transactions(admin_client, foreign, kind, slug):
    t = foreign[kind]
    _assert_all_404(admin_client, _txn_requests(slug, t), t, t.contact.contact_name)
    assert Transaction.objects.filter(pk=t.pk).exists()


def test_transaction_of_another_kind_is_404(admin_client, invoice):
    assert admin_client.get(f"/quotes/{invoice.pk}/").status_code == 404
    assert admin_client.post(f"/quotes/{invoice.pk}/convert/").status_code == 404


def test_members(admin_client, other_admin, other_org):
    membership = Membership.objects.get(organization=other_org, user=other_admin)
    requests = [
        ("get", f"/settings/users/{membership.pk}/edit/", {}),
        ("post", f"/settings/users/{membership.pk}/edit/", {"role": "accountant"}),
        ("get", f"/settings/users/{membership.pk}/delete/", {}),
        ("post", f"/settings/users/{membership.pk}/delete/", {}),
    ]
    _assert_all_404(admin_client, requests, membership, "admin@other.test")
    assert "admin@other.test" not in admin_client.get("/settings/users/").content.decode()


def test_lists_and_searches_show_only_own_records(admin_client, foreign, customer, invoice):
    for url, name in (
        ("/customers/?q=Foreign", "Foreign Customer"),
        ("/vendors/?q=Foreign", "Foreign Vendor"),
        ("/items/?q=Foreign", "Foreign Item"),
        ("/customers/", "Foreign Customer"),
    ):
        body = admin_client.get(url).content.decode()
        assert name not in body, url
    assert "No customers found" in admin_client.get("/customers/?q=Foreign").content.decode()
    body = admin_client.get("/invoices/").content.decode()
    assert invoice.number in body
    assert f"/invoices/{foreign['invoice'].pk}/" not in body
    assert admin_client.get(f"/invoices/?contact_id={foreign['customer'].pk}").status_code == 404


def test_bulk_update_never_touches_another_org(admin_client, foreign, customer, item):
    admin_client.post("/customers/bulk/", {"status": "inactive", "ids": [foreign["customer"].pk, customer.pk]})
    customer.refresh_from_db()
    assert customer.status == "inactive"
    assert Contact.objects.get(pk=foreign["customer"].pk).status == "active"
    admin_client.post("/customers/bulk/", {"status": "inactive", "select_all_matching": "1", "q": "Foreign"})
    assert Contact.objects.get(pk=foreign["customer"].pk).status == "active"
    admin_client.post("/items/bulk/", {"status": "inactive", "ids": [foreign["item"].pk]})
    assert Item.objects.get(pk=foreign["item"].pk).status == "active"
    # A vendor id posted to the customers page changes nothing either.
    admin_client.post("/customers/bulk/", {"status": "inactive", "ids": [foreign["vendor"].pk]})
    assert Contact.objects.get(pk=foreign["vendor"].pk).status == "active"


def test_forms_refuse_other_orgs_ids_inline(admin_client, org, customer, foreign):
    before = Transaction.objects.filter(organization=org).count()
    response = admin_client.post(
        "/invoices/new/", {"contact_id": foreign["customer"].pk, "date": "2026-01-05", **LINES}
    )
    assert response.status_code == 400
    assert f"No customer with id {foreign['customer'].pk} in this organization" in response.content.decode()
    response = admin_client.post(
        "/invoices/new/",
        {"contact_id": customer.pk, **LINES, "lines-0-item_id": foreign["item"].pk, "lines-0-name": ""},
    )
    assert response.status_code == 400
    assert f"No item with id {foreign['item'].pk} in this organization" in response.content.decode()
    response = admin_client.post(
        "/expenses/new/",
        {"account_name": "Travel", "amount": "10", "is_billable": "on", "customer_id": foreign["customer"].pk},
    )
    assert response.status_code == 400
    assert "in this organization" in response.content.decode()
    assert Transaction.objects.filter(organization=org).count() == before


def test_picker_never_lists_another_orgs_contacts(admin_client, customer, foreign):
    body = admin_client.post("/invoices/new/", {"_find_contact": "1", "contact_q": "Foreign"}).content.decode()
    assert "Foreign Customer" not in body
    body = admin_client.get(f"/invoices/new/?customer_id={foreign['customer'].pk}").content.decode()
    assert "Foreign Customer" not in body


def test_organization_switch_refuses_foreign_org(admin_client, other_org, org):
    response = admin_client.post("/organizations/switch/", {"organization_id": other_org.pk}, follow=True)
    assert "That organization is not one of yours." in response.content.decode()
    assert "Acme Books" in response.content.decode()


def test_organization_switch_between_own_orgs(admin_client, admin_user, other_org, foreign):
    MembershipFactory(organization=other_org, user=admin_user, role="accountant")
    page = admin_client.get("/customers/").content.decode()
    assert 'name="organization_id"' in page  # the switcher shows when there are several orgs
    response = admin_client.post("/organizations/switch/", {"organization_id": other_org.pk}, follow=True)
    assert "Switched to Other Books." in response.content.decode()
    assert "Foreign Customer" in admin_client.get("/customers/").content.decode()

"""`demo_seed` and the pages: the demo admin signs in and every page shows the demo data."""

from __future__ import annotations

import pytest
from django.test import Client

from books.models import Contact, Transaction
from books.services.demo import DEMO_EMAIL, DEMO_PASSWORD, demo_seed

pytestmark = pytest.mark.django_db


def test_demo_admin_signs_in_and_browses_every_page(db):
    org = demo_seed(customers=24, vendors=6, items=12, transactions=40).organization
    client = Client()
    response = client.post("/login/", {"username": DEMO_EMAIL, "password": DEMO_PASSWORD}, follow=True)
    assert "Demo Company" in response.content.decode()
    customer = Contact.objects.filter(organization=org, contact_type="customer", customer_sub_type="business").first()
    pages = [
        "/",
        "/customers/",
        "/vendors/",
        "/items/",
        f"/customers/{customer.pk}/",
        "/settings/",
        "/settings/custom-fields/?entity=customer",
        "/settings/users/",
    ]
    for slug, kind in (("quotes", "quote"), ("salesorders", "salesorder"), ("invoices", "invoice")):
        pages += [f"/{slug}/", f"/{slug}/new/"]
        txn = Transaction.objects.filter(organization=org, kind=kind).first()
        if txn is not None:
            pages += [f"/{slug}/{txn.pk}/", f"/{slug}/{txn.pk}/edit/"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        for leaked in ("{#", "#}", "{%", "%}", "{{"):
            assert leaked not in body, (url, leaked)  # template syntax that did not render
    detail = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "Industry" in detail
    assert "Primary" in detail  # the demo's contact person
    assert "Industry" in client.get("/settings/custom-fields/?entity=customer").content.decode()

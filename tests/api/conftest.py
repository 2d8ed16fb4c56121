"""Fixtures of the Books API tests: clients per role and organization, and a URL helper."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from rest_framework.test import APIClient

from books.models import Role
from books.services.organizations import api_token_create
from tests.factories import CustomerFactory, ItemFactory, MembershipFactory, UserFactory, VendorFactory


def client_for(user, organization) -> APIClient:
    _, raw = api_token_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Zoho-oauthtoken {raw}")
    client.organization_id = str(organization.pk)  # type: ignore[attr-defined]
    return client


def url(client: APIClient, path: str, **params) -> str:
    """`/books/v3/<path>?organization_id=<the client's org>&...`"""
    query = {"organization_id": client.organization_id, **params}  # type: ignore[attr-defined]
    return f"/books/v3/{path.lstrip('/')}?{urlencode(query)}"


@pytest.fixture
def other_api(other_admin, other_org) -> APIClient:
    return client_for(other_admin, other_org)


@pytest.fixture
def accountant_api(accountant, org) -> APIClient:
    return client_for(accountant, org)


@pytest.fixture
def integration_api(integration_user, org) -> APIClient:
    return client_for(integration_user, org)


@pytest.fixture
def customer(org):
    return CustomerFactory(organization=org, contact_name="Bowman and Co")


@pytest.fixture
def crm_customer(org):
    return CustomerFactory(organization=org, contact_name="Zylker CRM", zcrm_account_id="80649000000056001")


@pytest.fixture
def vendor(org):
    return VendorFactory(organization=org, contact_name="Parts Inc")


@pytest.fixture
def item(org):
    return ItemFactory(organization=org, name="Hard Drive")


@pytest.fixture
def other_customer(other_org):
    return CustomerFactory(organization=other_org, contact_name="Secret Customer")


@pytest.fixture
def other_vendor(other_org):
    return VendorFactory(organization=other_org, contact_name="Secret Vendor")


@pytest.fixture
def other_item(other_org):
    return ItemFactory(organization=other_org, name="Secret Item")


@pytest.fixture
def member_of_both(org, other_org):
    """A user who is an accountant in org and an admin in other_org."""
    user = UserFactory(email="both@example.test")
    MembershipFactory(organization=org, user=user, role=Role.ACCOUNTANT)
    MembershipFactory(organization=other_org, user=user, role=Role.ADMIN)
    return user


def assert_error(response, status: int, *, code: int | None = None, field: str | None = None) -> dict:
    """The error envelope: the status, a non-zero code, and a message naming the field."""
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] != 0, body
    if code is not None:
        assert body["code"] == code, body
    assert isinstance(body["message"], str), body
    assert body["message"], body
    if field is not None:
        assert body["message"].startswith(f"{field}:"), body
    return body

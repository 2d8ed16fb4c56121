"""Shared fixtures. Topic fixtures live in tests/fixtures/ and are registered here."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from books.models import Role
from books.services.organizations import api_token_create
from config.celery import app as celery_app
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytest_plugins = ["tests.fixtures.sandbox", "tests.fixtures.browser"]

# Tasks run inline in tests unless a test starts a real worker (which reads its own settings).
celery_app.conf.task_always_eager = True
celery_app.conf.task_eager_propagates = True


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Factories hash a password per user; PBKDF2's many rounds would dominate the suite's time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def org(db):
    return OrganizationFactory(name="Acme Books", slug="acme")


@pytest.fixture
def other_org(db):
    return OrganizationFactory(name="Other Books", slug="other")


@pytest.fixture
def admin_user(org):
    return MembershipFactory(organization=org, role=Role.ADMIN, user=UserFactory(email="admin@acme.test")).user


@pytest.fixture
def accountant(org):
    return MembershipFactory(organization=org, role=Role.ACCOUNTANT, user=UserFactory(email="acc@acme.test")).user


@pytest.fixture
def integration_user(org):
    return MembershipFactory(organization=org, role=Role.INTEGRATION_USER, user=UserFactory(email="crm@acme.test")).user


@pytest.fixture
def other_admin(other_org):
    return MembershipFactory(organization=other_org, role=Role.ADMIN, user=UserFactory(email="admin@other.test")).user


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_client(admin_user) -> Client:
    return _client_for(admin_user)


@pytest.fixture
def accountant_client(accountant) -> Client:
    return _client_for(accountant)


@pytest.fixture
def integration_client(integration_user) -> Client:
    return _client_for(integration_user)


@pytest.fixture
def other_client(other_admin) -> Client:
    return _client_for(other_admin)


@pytest.fixture
def api(admin_user, org) -> APIClient:
    """An API client authenticated as the org's admin with a Zoho-oauthtoken header."""
    _, raw = api_token_create(user=admin_user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Zoho-oauthtoken {raw}")
    client.organization_id = str(org.pk)  # type: ignore[attr-defined]
    return client

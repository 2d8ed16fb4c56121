"""Who may open what: integration users never open Books (403, with the page saying so), accountants get 403 on
admin-only settings, anonymous visitors are sent to sign in."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, reverse

from books import urls as books_urls
from books.models import Role

pytestmark = pytest.mark.django_db

NOT_BOOKS_PAGES = {"login", "logout", "organization_switch"}
DUMMY_ARGS = {"pk": 1, "person_id": 1, "status": "active", "state": "sent"}


def _books_urls() -> list[str]:
    """Every page of Books, found from the URL conf so a new page is covered without editing this test."""
    found = []
    for pattern in books_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        if pattern.name in NOT_BOOKS_PAGES:
            continue
        kwargs = {name: DUMMY_ARGS[name] for name in pattern.pattern.converters}
        found.append(reverse(f"books:{pattern.name}", kwargs=kwargs))
    return found


BOOKS_URLS = _books_urls()


def test_every_page_is_covered():
    assert len(BOOKS_URLS) > 60
    assert {"/customers/", "/settings/users/", "/quotes/1/convert/", "/items/1/edit/"} <= set(BOOKS_URLS)


@pytest.mark.parametrize("url", BOOKS_URLS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_integration_user_cannot_open_books(integration_client, url, method):
    response = getattr(integration_client, method)(url)
    assert response.status_code == 403
    body = response.content.decode()
    assert "Zoho Books access is not available" in body
    assert "cannot access Books" in body
    assert 'aria-label="Main"' not in body  # no Books navigation, only the sign-out button
    assert "Sign out" in body


ADMIN_ONLY = [
    ("get", "books:organization_settings", {}),
    ("post", "books:organization_settings", {}),
    ("get", "books:custom_field_list", {}),
    ("get", "books:custom_field_new", {}),
    ("post", "books:custom_field_new", {}),
    ("get", "books:custom_field_edit", {"pk": 1}),
    ("post", "books:custom_field_status", {"pk": 1, "state": "inactive"}),
    ("get", "books:member_edit", {"pk": 1}),
    ("post", "books:member_delete", {"pk": 1}),
]


@pytest.mark.parametrize(("method", "name", "kwargs"), ADMIN_ONLY)
def test_accountant_gets_403_on_admin_settings(accountant_client, method, name, kwargs):
    response = getattr(accountant_client, method)(reverse(name, kwargs=kwargs))
    assert response.status_code == 403
    assert "Only an administrator" in response.content.decode()


def test_accountant_sees_users_but_cannot_invite(accountant_client, admin_user, org):
    page = accountant_client.get("/settings/users/")
    assert page.status_code == 200
    assert "admin@acme.test" in page.content.decode()
    assert "Invite User" not in page.content.decode()
    response = accountant_client.post("/settings/users/", {"email": "new@acme.test", "role": Role.ADMIN})
    assert response.status_code == 403
    assert not org.memberships.filter(user__email="new@acme.test").exists()


def test_accountant_nav_hides_admin_settings(accountant_client):
    body = accountant_client.get("/customers/").content.decode()
    assert 'href="/settings/custom-fields/"' not in body
    assert 'href="/settings/users/"' in body


@pytest.mark.parametrize("url", ["/", "/customers/", "/invoices/new/", "/settings/"])
def test_anonymous_is_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_sign_in_and_out(client, admin_user):
    response = client.post("/login/", {"username": "ADMIN@acme.test", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct email address and password" in response.content.decode()
    response = client.post("/login/", {"username": "admin@acme.test", "password": "pass12345"}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert "Acme Books" in response.content.decode()
    response = client.post("/logout/", follow=True)
    assert "You have signed out." in response.content.decode()
    assert client.get("/").status_code == 302


def test_member_without_organization_gets_a_page_saying_so(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    response = client.get("/")
    assert response.status_code == 403
    assert "not a member of any organization" in response.content.decode()

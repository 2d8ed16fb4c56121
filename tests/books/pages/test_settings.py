"""Settings › Organization (profile and the Quotes preference), Custom Fields and Users."""

from __future__ import annotations

import pytest

from books.models import CustomFieldDefinition, Membership, Organization, Role, User
from books.services.custom_fields import custom_field_create
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

PROFILE = {
    "name": "Acme Books Inc",
    "email": "books@acme.test",
    "country": "Germany",
    "time_zone": "Europe/Berlin",
    "base_currency": "eur",
    "quote_conversion": "draft",
}


def _text(response) -> str:
    return response.content.decode()


def test_organization_profile_and_quote_preference(admin_client, org):
    body = _text(admin_client.get("/settings/"))
    assert "Automatically convert an accepted quote to an invoice?" in body
    for option in ("No", "Yes. Create Invoice as Draft", "Yes. Create and Send"):
        assert f"> {option}</label>" in body
    assert '<option value="Europe/Berlin">' in body
    response = admin_client.post("/settings/", PROFILE, follow=True)
    assert "Organization profile has been updated." in _text(response)
    org.refresh_from_db()
    assert (org.name, org.email, org.country, org.time_zone, org.base_currency, org.quote_conversion) == (
        "Acme Books Inc",
        "books@acme.test",
        "Germany",
        "Europe/Berlin",
        "EUR",
        "draft",
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "This field cannot be blank."),
        ({"base_currency": "E1"}, "base_currency", "Must be a 3-letter ISO 4217 code such as USD"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "'Mars/Olympus' is not a time zone"),
        ({"email": "nope"}, "email", "Enter a valid email address."),
        ({"quote_conversion": "maybe"}, "quote_conversion", "Select a valid choice."),
    ],
)
def test_organization_profile_errors_are_inline(admin_client, org, changes, field, message):
    response = admin_client.post("/settings/", {**PROFILE, **changes})
    assert response.status_code == 400
    assert any(message in e for e in response.context["form"].errors[field]), response.context["form"].errors
    assert Organization.objects.get(pk=org.pk).name == "Acme Books"
    assert "Acme Books</" in _text(response) or "Acme Books <" in _text(response)


def test_custom_fields_list_create_edit_deactivate(admin_client, org):
    assert "No custom fields for Customers" in _text(admin_client.get("/settings/custom-fields/"))
    response = admin_client.post(
        "/settings/custom-fields/new/",
        {"entity": "customer", "label": "Region", "data_type": "picklist", "options": "North\nSouth\n\nNorth"},
    )
    assert response["Location"] == "/settings/custom-fields/?entity=customer"
    field = CustomFieldDefinition.objects.get(organization=org, label="Region")
    assert (field.api_name, field.data_type, field.options) == ("cf_region", "picklist", ["North", "South"])
    listing = _text(admin_client.get("/settings/custom-fields/?entity=customer"))
    assert "cf_region" in listing
    assert "North, South" in listing
    assert '<select name="cf_region"' in _text(admin_client.get("/customers/new/"))
    admin_client.post(
        f"/settings/custom-fields/{field.pk}/edit/",
        {"label": "Sales Region", "options": "North\nSouth\nEast", "entity": "vendor", "data_type": "text"},
    )
    field.refresh_from_db()
    assert (field.label, field.options, field.entity, field.data_type, field.api_name) == (
        "Sales Region",
        ["North", "South", "East"],
        "customer",
        "picklist",
        "cf_region",
    )
    admin_client.post(f"/settings/custom-fields/{field.pk}/status/inactive/")
    field.refresh_from_db()
    assert not field.is_active
    assert 'name="cf_region"' not in _text(admin_client.get("/customers/new/"))
    response = admin_client.post(f"/settings/custom-fields/{field.pk}/status/deleted/", follow=True)
    assert "is not one of active, inactive" in _text(response)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"label": ""}, "label", "A custom field needs a label"),
        ({"label": "L" * 150}, "label", "At most 100 characters"),
        (
            {"label": "Tier", "data_type": "picklist", "options": " \n "},
            "options",
            "A picklist needs at least one option",
        ),
        ({"label": "Existing"}, "label", "A custom field named 'Existing' already exists"),
        ({"label": "X", "data_type": "blob"}, "data_type", "Select a valid choice."),
        ({"label": "X", "entity": "planet"}, "entity", "Select a valid choice."),
    ],
)
def test_custom_field_errors_are_inline(admin_client, org, data, field, message):
    custom_field_create(organization=org, actor=None, entity="customer", label="Existing", data_type="text")
    response = admin_client.post("/settings/custom-fields/new/", {"entity": "customer", "data_type": "text", **data})
    assert response.status_code == 400
    assert any(message in e for e in response.context["form"].errors[field]), response.context["form"].errors
    assert CustomFieldDefinition.objects.filter(organization=org).count() == 1


def test_users_list_and_invite(admin_client, org, admin_user, integration_user):
    body = _text(admin_client.get("/settings/users/"))
    assert "admin@acme.test" in body
    assert "Integration User (Zoho CRM)" in body
    assert "1 users added" in body or "Integration User (Zoho CRM): 1" in body
    response = admin_client.post(
        "/settings/users/",
        {"email": "New.Person@acme.test", "role": "accountant", "first_name": "New", "password": "long-enough-1"},
        follow=True,
    )
    assert "new.person@acme.test has been added as accountant." in _text(response)
    user = User.objects.get(email="new.person@acme.test")
    assert user.check_password("long-enough-1")
    assert Membership.objects.get(organization=org, user=user).role == Role.ACCOUNTANT
    existing = UserFactory(email="elsewhere@x.test")
    admin_client.post("/settings/users/", {"email": "elsewhere@x.test", "role": "admin"})
    assert Membership.objects.get(organization=org, user=existing).role == Role.ADMIN


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": ""}, "email", "This field is required."),
        ({"email": "not-mail"}, "email", "Enter a valid email address."),
        ({"email": "admin@acme.test"}, "email", "is already a member of this organization"),
        ({"email": "fresh@acme.test"}, "password", "A new user needs an initial password"),
        ({"email": "fresh@acme.test", "password": "short"}, "password", "At least 8 characters"),
        ({"email": "fresh@acme.test", "role": "integration_user"}, "role", "Select a valid choice."),
    ],
)
def test_invite_errors_are_inline(admin_client, org, admin_user, data, field, message):
    response = admin_client.post("/settings/users/", {"role": "accountant", **data})
    assert response.status_code == 400
    assert any(message in e for e in response.context["form"].errors[field]), response.context["form"].errors
    assert org.memberships.count() == 1


def test_change_role_and_remove(admin_client, org, admin_user, accountant):
    membership = Membership.objects.get(organization=org, user=accountant)
    assert "Change the role of acc@acme.test" in _text(admin_client.get(f"/settings/users/{membership.pk}/edit/"))
    admin_client.post(f"/settings/users/{membership.pk}/edit/", {"role": "admin"})
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN
    response = admin_client.post(f"/settings/users/{membership.pk}/edit/", {"role": "owner"})
    assert response.status_code == 400
    assert "Remove acc@acme.test?" in _text(admin_client.get(f"/settings/users/{membership.pk}/delete/"))
    response = admin_client.post(f"/settings/users/{membership.pk}/delete/", follow=True)
    assert "acc@acme.test has been removed from Acme Books." in _text(response)
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_the_last_admin_stays(admin_client, org, admin_user):
    me = Membership.objects.get(organization=org, user=admin_user)
    response = admin_client.post(f"/settings/users/{me.pk}/edit/", {"role": "accountant"})
    assert response.status_code == 400
    assert "The organization needs at least one admin" in _text(response)
    response = admin_client.post(f"/settings/users/{me.pk}/delete/", follow=True)
    assert "the organization needs at least one admin" in _text(response)
    me.refresh_from_db()
    assert me.role == Role.ADMIN


def test_integration_users_are_managed_from_zoho_apps(admin_client, org, integration_user):
    membership = Membership.objects.get(organization=org, user=integration_user)
    response = admin_client.get(f"/settings/users/{membership.pk}/edit/", follow=True)
    assert "Integration users are managed from Settings › Zoho Apps › Manage Users." in _text(response)
    response = admin_client.post(f"/settings/users/{membership.pk}/delete/", follow=True)
    assert "cannot be deleted from the Users page" in _text(response)
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_removing_yourself_from_one_of_two_orgs(admin_client, org, admin_user, other_org):
    MembershipFactory(organization=org, role=Role.ADMIN)
    MembershipFactory(organization=other_org, user=admin_user, role=Role.ADMIN)
    me = Membership.objects.get(organization=org, user=admin_user)
    admin_client.post(f"/settings/users/{me.pk}/delete/")
    assert "Other Books" in _text(admin_client.get("/"))

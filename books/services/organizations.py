"""Organizations, members and API tokens."""

from __future__ import annotations

import functools
import hashlib
import secrets
import zoneinfo

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from books.errors import ApplicationError, Conflict
from books.models import (
    NUMBER_PREFIX,
    ApiToken,
    DocumentSequence,
    Membership,
    Organization,
    QuoteConversion,
    Role,
    User,
)
from books.validation import validate_instance

TOKEN_PREFIX = "lb1."  # noqa: S105 (a marker, not a secret)


def user_create(*, email: str, password: str | None, first_name: str = "", last_name: str = "") -> User:
    email = (email or "").strip().lower()
    if not email:
        raise ApplicationError("email: an email address is required", field="email")
    user = User(email=email, first_name=first_name, last_name=last_name)
    validate_instance(user, exclude=["password"])
    if User.objects.filter(email=email).exists():
        raise Conflict(f"email: a user with the email {email} already exists", field="email")
    user.set_password(password) if password else user.set_unusable_password()
    user.save()
    return user


@transaction.atomic
def organization_create(
    *,
    name: str,
    admin: User,
    slug: str = "",
    email: str = "",
    country: str = "",
    time_zone: str = "UTC",
    base_currency: str = "USD",
    quote_conversion: str = QuoteConversion.OFF,
) -> Organization:
    organization = Organization(
        name=name.strip(),
        slug=slug or slugify(name)[:60],
        email=email,
        country=country,
        time_zone=time_zone,
        base_currency=(base_currency or "").upper(),
        quote_conversion=quote_conversion,
    )
    validate_instance(organization)
    if len(organization.base_currency) != 3 or not organization.base_currency.isalpha():
        raise ApplicationError("base_currency: must be a 3-letter ISO 4217 code such as USD", field="base_currency")
    if Organization.objects.filter(slug=organization.slug).exists():
        raise Conflict(f"slug: an organization with the slug {organization.slug} already exists", field="slug")
    organization.save()
    DocumentSequence.objects.bulk_create(
        DocumentSequence(organization=organization, kind=kind, prefix=prefix) for kind, prefix in NUMBER_PREFIX.items()
    )
    Membership.objects.create(organization=organization, user=admin, role=Role.ADMIN)
    return organization


def organization_update(*, organization: Organization, actor: User, **fields: str) -> Organization:
    allowed = {"name", "email", "country", "time_zone", "base_currency", "quote_conversion"}
    unknown = set(fields) - allowed
    if unknown:
        raise ApplicationError(f"{sorted(unknown)[0]}: this field cannot be changed", field=sorted(unknown)[0])
    for key, value in fields.items():
        setattr(organization, key, value.strip() if isinstance(value, str) else value)
    if "base_currency" in fields:
        organization.base_currency = (organization.base_currency or "").upper()
        if len(organization.base_currency) != 3 or not organization.base_currency.isalpha():
            raise ApplicationError("base_currency: must be a 3-letter ISO 4217 code such as USD", field="base_currency")
    if "time_zone" in fields and organization.time_zone not in _time_zones():
        raise ApplicationError(
            f"time_zone: '{organization.time_zone[:64]}' is not a time zone such as Europe/Berlin", field="time_zone"
        )
    validate_instance(organization)
    organization.save(update_fields=list(fields))
    return organization


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def time_zone_choices() -> list[str]:
    return sorted(_time_zones())


MEMBER_ROLES = (Role.ADMIN, Role.ACCOUNTANT)


@transaction.atomic
def member_invite(
    *,
    organization: Organization,
    actor: User,
    email: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
    password: str = "",
) -> Membership:
    """Settings › Users: add a person to the organization with a role, creating their account if the email is new.
    Integration users are added from the CRM integration page only (the seed: Manage Users), never here."""
    if role not in MEMBER_ROLES:
        raise ApplicationError(
            "role: choose Admin or Accountant; integration users are added from Settings › Zoho Apps", field="role"
        )
    email = (email or "").strip().lower()
    user = User.objects.filter(email=email).first() if email else None
    if user is None:
        if not password:
            raise ApplicationError("password: a new user needs an initial password", field="password")
        if len(password) < 8:
            raise ApplicationError("password: at least 8 characters", field="password")
        user = user_create(email=email, password=password, first_name=first_name.strip(), last_name=last_name.strip())
    elif Membership.objects.filter(organization=organization, user=user).exists():
        raise Conflict(f"email: {email} is already a member of this organization", field="email")
    return member_add(organization=organization, user=user, role=role)


def _admins_left(membership: Membership) -> int:
    return (
        Membership.objects.filter(organization_id=membership.organization_id, role=Role.ADMIN)
        .exclude(pk=membership.pk)
        .count()
    )


@transaction.atomic
def member_set_role(*, membership: Membership, actor: User, role: str) -> Membership:
    if membership.role == Role.INTEGRATION_USER or role == Role.INTEGRATION_USER:
        raise ApplicationError(
            "role: integration users are managed from Settings › Zoho Apps › Manage Users", field="role"
        )
    if role not in MEMBER_ROLES:
        raise ApplicationError(f"role: '{role[:40]}' is not one of admin, accountant", field="role")
    if membership.role == Role.ADMIN and role != Role.ADMIN and _admins_left(membership) == 0:
        raise Conflict("role: the organization needs at least one admin", field="role")
    if membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def member_remove(*, membership: Membership, actor: User) -> None:
    if membership.role == Role.INTEGRATION_USER:
        raise ApplicationError(
            "user: users of the Integration User (Zoho CRM) role cannot be deleted from the Users page; remove "
            "them from Settings › Zoho Apps › Manage Users",
            field="user",
        )
    if membership.role == Role.ADMIN and _admins_left(membership) == 0:
        raise Conflict("user: the organization needs at least one admin", field="user")
    membership.delete()


def member_add(*, organization: Organization, user: User, role: str, crm_user_id: str = "") -> Membership:
    if role not in Role.values:
        raise ApplicationError(f"role: '{role}' is not one of {', '.join(Role.values)}", field="role")
    try:
        membership, created = Membership.objects.get_or_create(
            organization=organization, user=user, defaults={"role": role, "crm_user_id": crm_user_id}
        )
    except IntegrityError as exc:  # a concurrent add of the same user
        raise Conflict("user: already a member of this organization", field="user") from exc
    if not created and (membership.role != role or membership.crm_user_id != crm_user_id):
        membership.role = role
        membership.crm_user_id = crm_user_id
        membership.save(update_fields=["role", "crm_user_id"])
    return membership


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_create(*, user: User) -> tuple[ApiToken, str]:
    """Returns the token row and the raw token, which is shown once and never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, key_hash=_hash(raw), prefix=raw[:12])
    return token, raw


def api_token_authenticate(*, raw: str) -> User | None:
    token = ApiToken.objects.select_related("user").filter(key_hash=_hash(raw)).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user

"""Manage Users and Roles: which CRM users have the Integration User (Zoho CRM) role in this Books organization.

The seed: enabled once the transaction modules sync; the CRM's users listed (filtered by role); selecting users or
whole roles and Save gives them the role; unchecking and Save deletes them from the Books organization; at most
1000. An integration user is a Books `Membership` with `Role.INTEGRATION_USER` and the CRM user's id; their Books
account (found or created by email, with no usable password: they work through API tokens) is kept when they are
removed, since it may belong to other organizations.

Integration users cannot open Books, and Settings › Users cannot change or delete them
(books.services.organizations refuses it): this page is the only place that adds and removes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction

from books.errors import ApplicationError, Conflict
from books.models import Membership, Role, User
from crm_integration.client import CrmClient, CrmRole, CrmUser
from crm_integration.models import ConnectionStatus, CrmConnection
from crm_integration.services.clients import crm_client_for, crm_errors

DEFAULT_LIMIT = 1000
REMOVED_KEY_PREFIX = "m"  # the key of an integration user with no CRM user id: "m<membership id>"


def integration_users_limit() -> int:
    """At most this many integration users per organization (the seed: 1000; LB_INTEGRATION_USERS_MAX changes it)."""
    return int(getattr(settings, "LB_INTEGRATION_USERS_MAX", DEFAULT_LIMIT))


@dataclass(frozen=True)
class UserRow:
    key: str  # the CRM user id, or "m<membership id>" for an integration user with none
    name: str
    email: str
    role_id: str = ""
    role_name: str = ""
    selected: bool = False  # has the Integration User (Zoho CRM) role now
    in_crm: bool = True  # False: not an active user of the CRM any more (can only be removed)
    books_role: str = ""  # "admin" / "accountant": already a Books member otherwise; not made an integration user


@dataclass(frozen=True)
class ManageUsers:
    rows: list[UserRow]
    roles: list[CrmRole]
    added: int  # integration users now
    limit: int
    can_add: bool  # the transaction modules sync (the seed's prerequisite)


@dataclass
class SaveOutcome:
    added: list[str] = field(default_factory=list)  # emails
    removed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (email, why)
    total: int = 0


def _require_connected(connection: CrmConnection) -> None:
    if connection.status != ConnectionStatus.CONNECTED:
        raise Conflict(
            "connection: the integration is disabled or needs new credentials; Manage Users needs a working connection",
            field="connection",
        )


def manage_users_available(connection: CrmConnection) -> bool:
    """Manage Users opens when the transaction modules sync, or to remove integration users added before."""
    return connection.transactions_enabled or integration_users_count(connection) > 0


def integration_users_count(connection: CrmConnection) -> int:
    return Membership.objects.filter(organization_id=connection.organization_id, role=Role.INTEGRATION_USER).count()


def _current(connection: CrmConnection) -> dict[str, Membership]:
    memberships = Membership.objects.select_related("user").filter(
        organization_id=connection.organization_id, role=Role.INTEGRATION_USER
    )
    return {m.crm_user_id or f"{REMOVED_KEY_PREFIX}{m.pk}": m for m in memberships}


def _crm_people(connection: CrmConnection, client: CrmClient | None) -> tuple[list[CrmUser], list[CrmRole]]:
    client = client or crm_client_for(connection, interactive=True)
    with crm_errors(connection, field="users"):
        return client.list_users(), client.list_roles()


def integration_users_overview(
    *, connection: CrmConnection, role_id: str = "", client: CrmClient | None = None
) -> ManageUsers:
    """The CRM's active users (of `role_id` only, when given) with whether each is an integration user; the
    integration users the CRM no longer lists come last. Two CRM calls, two queries."""
    _require_connected(connection)
    crm_users, roles = _crm_people(connection, client)
    current = _current(connection)
    emails = {u.email.lower() for u in crm_users if u.email}
    others = dict(
        Membership.objects.filter(organization_id=connection.organization_id, user__email__in=emails)
        .exclude(role=Role.INTEGRATION_USER)
        .values_list("user__email", "role")
    )
    rows = [
        UserRow(
            key=u.id,
            name=u.full_name or u.email,
            email=u.email,
            role_id=u.role_id,
            role_name=u.role_name,
            selected=u.id in current,
            books_role=others.get(u.email.lower(), ""),
        )
        for u in crm_users
        if not role_id or u.role_id == role_id
    ]
    listed = {u.id for u in crm_users}
    if not role_id:
        rows += [
            UserRow(
                key=key,
                name=m.user.display_name,
                email=m.user.email,
                selected=True,
                in_crm=False,
            )
            for key, m in current.items()
            if key not in listed
        ]
    return ManageUsers(
        rows=rows,
        roles=roles,
        added=len(current),
        limit=integration_users_limit(),
        can_add=connection.transactions_enabled,
    )


def _split_name(full_name: str) -> tuple[str, str]:
    first, _, last = (full_name or "").strip().partition(" ")
    return first[:150], last[:150]


def _clean_ids(values: Iterable[str], field_name: str) -> set[str]:
    ids = set()
    for value in values:
        text = str(value or "").strip()
        if not text:
            continue
        if len(text) > 40 or not (text.isdigit() or (text[:1] == REMOVED_KEY_PREFIX and text[1:].isdigit())):
            raise ApplicationError(f"{field_name}: '{text[:40]}' is not a Zoho CRM id", field=field_name)
        ids.add(text)
    return ids


def integration_users_save(
    *,
    connection: CrmConnection,
    actor: User | None,
    user_ids: Iterable[str],
    role_ids: Iterable[str] = (),
    shown: Iterable[str] | None = None,
    client: CrmClient | None = None,
) -> SaveOutcome:
    """Save of Manage Users: the users checked (`user_ids`) and every user of the roles checked (`role_ids`) get the
    Integration User (Zoho CRM) role; of the users the page showed (`shown`; None = all), those left unchecked lose
    it (their membership of this organization is deleted). A Books member who is an admin or accountant keeps that
    role (reported in `skipped`). Refused: adding while the transaction modules do not sync, an id the CRM does not
    list, more than the limit (naming the count). Two CRM calls; the writes in bulk, in one transaction."""
    _require_connected(connection)
    wanted_ids = _clean_ids(user_ids, "users")
    wanted_roles = _clean_ids(role_ids, "roles")
    current = _current(connection)
    if not connection.transactions_enabled and (wanted_ids - set(current) or wanted_roles):
        raise Conflict(
            "users: enable Sync Transaction Modules first; integration users work with the transactions the CRM "
            "reaches",
            field="users",
        )
    crm_users, roles = _crm_people(connection, client)
    by_id = {u.id: u for u in crm_users}
    known_roles = {r.id for r in roles}
    unknown_role = next((r for r in sorted(wanted_roles) if r not in known_roles), None)
    if unknown_role is not None:
        raise ApplicationError(f"roles: {unknown_role} is not a role of Zoho CRM", field="roles")
    unknown_user = next((u for u in sorted(wanted_ids) if u not in by_id and u not in current), None)
    if unknown_user is not None:
        raise ApplicationError(f"users: {unknown_user} is not an active user of Zoho CRM", field="users")
    wanted = wanted_ids | {u.id for u in crm_users if u.role_id and u.role_id in wanted_roles}
    scope = set(current) | set(by_id) if shown is None else _clean_ids(shown, "shown")
    remove = {key for key in current if key in scope and key not in wanted}
    add = {key for key in wanted if key not in current}
    total = len(current) - len(remove) + len(add)
    limit = integration_users_limit()
    if total > limit:
        raise ApplicationError(
            f"users: at most {limit} users can have the Integration User (Zoho CRM) role; {total} would have it "
            f"({len(add)} added, {len(current) - len(remove)} kept). Uncheck {total - limit}.",
            field="users",
            extra={"count": total, "limit": limit},
        )
    outcome = SaveOutcome()
    with transaction.atomic():
        if remove:
            outcome.removed = sorted(current[key].user.email for key in remove)
            Membership.objects.filter(pk__in=[current[key].pk for key in remove]).delete()
        if add:
            _add(connection, [by_id[key] for key in sorted(add)], outcome)
    outcome.total = integration_users_count(connection)
    return outcome


def _add(connection: CrmConnection, people: list[CrmUser], outcome: SaveOutcome) -> None:
    by_email: dict[str, CrmUser] = {}
    for person in people:
        email = person.email.strip().lower()
        if not email:
            outcome.skipped.append((person.full_name or person.id, "no email address in Zoho CRM"))
        elif email in by_email:
            outcome.skipped.append((email, "another CRM user has the same email address"))
        else:
            by_email[email] = person
    if not by_email:
        return
    users = {u.email: u for u in User.objects.filter(email__in=list(by_email))}
    members = dict(
        Membership.objects.filter(organization_id=connection.organization_id, user__email__in=list(by_email))
        .exclude(role=Role.INTEGRATION_USER)
        .values_list("user__email", "role")
    )
    for email, role in members.items():
        outcome.skipped.append((email, f"already a member of this organization as {Role(role).label}; not changed"))
        by_email.pop(email, None)
    missing = [email for email in by_email if email not in users]
    if missing:
        unusable = make_password(None)  # they sign in to the API with tokens, never with a password
        new_users = []
        for email in missing:
            first, last = _split_name(by_email[email].full_name)
            new_users.append(User(email=email, first_name=first, last_name=last, password=unusable))
        User.objects.bulk_create(new_users, ignore_conflicts=True)
        users.update({u.email: u for u in User.objects.filter(email__in=missing)})
    Membership.objects.bulk_create(
        [
            Membership(
                organization_id=connection.organization_id,
                user=users[email],
                role=Role.INTEGRATION_USER,
                crm_user_id=person.id,
            )
            for email, person in by_email.items()
            if email in users
        ],
        ignore_conflicts=True,
    )
    outcome.added = sorted(by_email)

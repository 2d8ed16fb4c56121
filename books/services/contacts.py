"""Customers and vendors, and their contact persons."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from books.errors import ApplicationError, Conflict
from books.models import (
    ADDRESS_PARTS,
    Contact,
    ContactPerson,
    ContactType,
    CustomerSubType,
    CustomFieldEntity,
    Organization,
    Source,
    Status,
    Transaction,
    User,
)
from books.selectors import contact_list
from books.services.custom_fields import custom_field_values_clean, merge_custom_values
from books.validation import validate_instance

ADDRESS_FIELDS = tuple(f"{kind}_{part}" for kind in ("billing", "shipping") for part in ADDRESS_PARTS)
CONTACT_FIELDS = (
    "customer_sub_type",
    "contact_name",
    "company_name",
    "salutation",
    "first_name",
    "last_name",
    "email",
    "phone",
    "mobile",
    "website",
    "currency_code",
    "payment_terms",
    "notes",
    "status",
    *ADDRESS_FIELDS,
)
# Fields the sync engine owns; pages and the API may read them but not write them.
CRM_FIELDS = ("source", "zcrm_account_id", "zcrm_contact_id", "zcrm_vendor_id", "crm_owner_id")
PERSON_FIELDS = (
    "salutation",
    "first_name",
    "last_name",
    "email",
    "phone",
    "mobile",
    "designation",
    "department",
    "is_primary_contact",
)


def custom_field_entity_for(contact_type: str) -> str:
    return CustomFieldEntity.CUSTOMER if contact_type == ContactType.CUSTOMER else CustomFieldEntity.VENDOR


def _apply(contact: Contact, data: Mapping[str, Any], allowed: Iterable[str]) -> list[str]:
    allowed = set(allowed)
    changed = []
    for key, value in data.items():
        if key not in allowed:
            raise ApplicationError(f"{key}: unknown or read-only field", field=key)
        if value is None:
            value = "" if key != "payment_terms" else 0
        if isinstance(value, str):
            value = value.strip()
        setattr(contact, key, value)
        changed.append(key)
    return changed


def _finish(contact: Contact) -> None:
    contact.currency_code = (contact.currency_code or contact.organization.base_currency).upper()
    if contact.contact_type == ContactType.VENDOR:
        contact.customer_sub_type = CustomerSubType.BUSINESS
    if not contact.contact_name:
        derived = contact.company_name or " ".join(p for p in (contact.first_name, contact.last_name) if p)
        contact.contact_name = derived
    if not contact.contact_name:
        raise ApplicationError("contact_name: the display name is required", field="contact_name")
    if len(contact.currency_code) != 3 or not contact.currency_code.isalpha():
        raise ApplicationError("currency_code: must be a 3-letter ISO 4217 code such as USD", field="currency_code")
    validate_instance(contact, exclude=["organization", "custom_fields"])


@transaction.atomic
def contact_create(
    *,
    organization: Organization,
    actor: User | None,
    contact_type: str,
    data: Mapping[str, Any],
    custom_fields: Mapping[str, Any] | None = None,
    contact_persons: Sequence[Mapping[str, Any]] = (),
    crm: Mapping[str, str] | None = None,
) -> Contact:
    """Create a customer or vendor. `crm` carries the sync engine's fields (source, zcrm ids)."""
    if contact_type not in ContactType.values:
        raise ApplicationError(
            f"contact_type: '{contact_type}' is not one of {', '.join(ContactType.values)}", field="contact_type"
        )
    contact = Contact(organization=organization, contact_type=contact_type)
    _apply(contact, data, CONTACT_FIELDS)
    if crm:
        _apply(contact, crm, CRM_FIELDS)
    _finish(contact)
    if custom_fields:
        contact.custom_fields = merge_custom_values(
            {},
            custom_field_values_clean(
                organization=organization, entity=custom_field_entity_for(contact_type), values=custom_fields
            ),
        )
    contact.save()
    for index, person in enumerate(contact_persons):
        contact_person_create(contact=contact, actor=actor, data=person, _index=index)
    return contact


@transaction.atomic
def contact_update(
    *,
    contact: Contact,
    actor: User | None,
    data: Mapping[str, Any],
    custom_fields: Mapping[str, Any] | None = None,
    crm: Mapping[str, str] | None = None,
) -> Contact:
    changed = _apply(contact, data, CONTACT_FIELDS)
    if crm:
        changed += _apply(contact, crm, CRM_FIELDS)
    _finish(contact)
    if custom_fields:
        contact.custom_fields = merge_custom_values(
            contact.custom_fields,
            custom_field_values_clean(
                organization=contact.organization,
                entity=custom_field_entity_for(contact.contact_type),
                values=custom_fields,
            ),
        )
        changed.append("custom_fields")
    contact.save()
    return contact


def contact_set_status(*, contact: Contact, actor: User | None, status: str) -> Contact:
    if status not in Status.values:
        raise ApplicationError(f"status: '{status}' is not one of active, inactive", field="status")
    if contact.status != status:
        contact.status = status
        contact.save(update_fields=["status", "updated_at"])
    return contact


def contact_bulk_set_status(
    *, organization: Organization, actor: User | None, contact_ids: Sequence[int], status: str
) -> int:
    """Bulk update from a (filtered) list page: one UPDATE, scoped to the organization."""
    if status not in Status.values:
        raise ApplicationError(f"status: '{status}' is not one of active, inactive", field="status")
    return Contact.objects.filter(organization=organization, pk__in=list(contact_ids)).update(
        status=status, updated_at=timezone.now()
    )


def contact_list_set_status(
    *,
    organization: Organization,
    actor: User | None,
    contact_type: str,
    status: str,
    contact_ids: Sequence[Any] | None = None,
    filter_by: str = "all",
    search: str = "",
) -> int:
    """Bulk update from the Customers / Vendors list page: the selected rows (`contact_ids`) or, with None, every
    contact matching the list's filter and search. One UPDATE, scoped to the organization and the contact type,
    so a vendor id posted to the customers page changes nothing."""
    if status not in Status.values:
        raise ApplicationError(f"status: '{status}' is not one of active, inactive", field="status")
    matching = contact_list(organization=organization, contact_type=contact_type, filter_by=filter_by, search=search)
    if contact_ids is not None:
        ids = [int(i) for i in contact_ids if str(i).isdigit()]
        if not ids:
            raise ApplicationError("contact_ids: select at least one row", field="contact_ids")
        matching = matching.filter(pk__in=ids)
    return Contact.objects.filter(pk__in=matching.order_by().values("pk")).update(
        status=status, updated_at=timezone.now()
    )


@transaction.atomic
def contact_delete(*, contact: Contact, actor: User | None) -> None:
    # A customer billed on an expense is protected too (Transaction.customer is PROTECT): refuse it here with a
    # message rather than let the database raise.
    if Transaction.objects.filter(
        Q(contact=contact) | Q(customer=contact), organization_id=contact.organization_id
    ).exists():
        raise Conflict(
            f"contact_id: {contact.contact_name} has transactions and cannot be deleted; mark it inactive instead",
            field="contact_id",
        )
    contact.delete()


def _person_apply(person: ContactPerson, data: Mapping[str, Any]) -> None:
    for key, value in data.items():
        if key not in PERSON_FIELDS:
            raise ApplicationError(f"contact_persons.{key}: unknown field", field=f"contact_persons.{key}")
        if key == "is_primary_contact":
            person.is_primary_contact = bool(value)
            continue
        setattr(person, key, (value or "").strip() if isinstance(value, str) or value is None else value)
    if not person.last_name and person.first_name:
        person.last_name, person.first_name = person.first_name, ""
    if not person.last_name:
        raise ApplicationError(
            "contact_persons.last_name: a contact person needs a name", field="contact_persons.last_name"
        )
    validate_instance(person, exclude=["organization", "contact"])


@transaction.atomic
def contact_person_create(
    *, contact: Contact, actor: User | None, data: Mapping[str, Any], zcrm_contact_id: str = "", _index: int = 0
) -> ContactPerson:
    person = ContactPerson(organization_id=contact.organization_id, contact=contact, zcrm_contact_id=zcrm_contact_id)
    _person_apply(person, data)
    existing = ContactPerson.objects.filter(contact=contact)
    if not existing.exists():
        person.is_primary_contact = True
    elif person.is_primary_contact:
        existing.update(is_primary_contact=False)
    person.save()
    return person


@transaction.atomic
def contact_person_update(*, person: ContactPerson, actor: User | None, data: Mapping[str, Any]) -> ContactPerson:
    _person_apply(person, data)
    if person.is_primary_contact:
        ContactPerson.objects.filter(contact_id=person.contact_id).exclude(pk=person.pk).update(
            is_primary_contact=False
        )
    person.save()
    return person


@transaction.atomic
def contact_person_mark_primary(*, person: ContactPerson, actor: User | None) -> ContactPerson:
    ContactPerson.objects.filter(contact_id=person.contact_id).exclude(pk=person.pk).update(is_primary_contact=False)
    person.is_primary_contact = True
    person.save(update_fields=["is_primary_contact", "updated_at"])
    return person


@transaction.atomic
def contact_person_delete(*, person: ContactPerson, actor: User | None) -> None:
    """Deleting the primary contact person makes the next remaining one primary, so a contact that has
    persons always has exactly one primary."""
    was_primary = person.is_primary_contact
    contact_id = person.contact_id
    person.delete()
    if was_primary:
        successor = ContactPerson.objects.filter(contact_id=contact_id).order_by("created_at", "id").first()
        if successor is not None:
            successor.is_primary_contact = True
            successor.save(update_fields=["is_primary_contact", "updated_at"])


def contact_source_label(contact: Contact) -> str:
    return Source(contact.source).label

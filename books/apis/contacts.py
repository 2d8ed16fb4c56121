"""Contacts (customers and vendors) and their contact persons, as Zoho Books v3 serves them (reference §2)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from books.apis.base import BooksApi, BooksListApi, choice, parse_id, sort_order_field
from books.apis.custom_fields import (
    CustomFieldInputSerializer,
    CustomFieldsOutputMixin,
    definitions_for,
    values_from_api,
)
from books.apis.fields import IdInput, OutId, OutMoney, OutText, OutTimestamp, TextInput
from books.errors import ApplicationError
from books.models import ADDRESS_PARTS, Contact, ContactPerson, ContactType, CustomFieldDefinition, Status
from books.selectors import (
    CONTACT_API_SORTS,
    contact_get_with_financials,
    contact_page_for_api,
    contact_person_get,
    contact_person_list,
    contact_search,
)
from books.services.contacts import (
    CRM_FIELDS,
    contact_create,
    contact_delete,
    contact_person_create,
    contact_person_delete,
    contact_person_mark_primary,
    contact_person_update,
    contact_set_status,
    contact_update,
    custom_field_entity_for,
)

CONTACT_FILTERS: dict[str, dict[str, Any]] = {
    "Status.All": {},
    "Status.Active": {"status": Status.ACTIVE},
    "Status.Inactive": {"status": Status.INACTIVE},
    "Status.Crm": {"crm_linked_only": True},
}
CONTACT_ENTITIES = (custom_field_entity_for(ContactType.CUSTOMER), custom_field_entity_for(ContactType.VENDOR))
# Zoho's address keys → our model's (`address` is the street line).
ADDRESS_KEYS = {part: ("address" if part == "street" else part) for part in ADDRESS_PARTS}
# The sync engine owns these: readable, never writable through the API.
CONTACT_READ_ONLY = (*CRM_FIELDS, "is_linked_with_zohocrm", "is_crm_customer")


# --- output ---------------------------------------------------------------------------------------------------


class AddressOutputSerializer(serializers.Serializer[Any]):
    attention = serializers.CharField()
    address = serializers.CharField()
    street2 = serializers.CharField()
    city = serializers.CharField()
    state = serializers.CharField()
    zip = serializers.CharField()
    country = serializers.CharField()
    phone = serializers.CharField()
    fax = serializers.CharField()

    class Meta:
        ref_name = "Address"


def _address(contact: Contact, kind: str) -> dict[str, str]:
    return {zoho: getattr(contact, f"{kind}_{ours}") for ours, zoho in ADDRESS_KEYS.items()}


class ContactPersonOutputSerializer(serializers.Serializer[Any]):
    contact_person_id = OutId(source="pk")
    contact_id = OutId()
    salutation = OutText()
    first_name = OutText()
    last_name = OutText()
    email = OutText()
    phone = OutText()
    mobile = OutText()
    designation = OutText()
    department = OutText()
    is_primary_contact = serializers.BooleanField(read_only=True)
    zcrm_contact_id = OutText()
    created_time = OutTimestamp(source="created_at")
    last_modified_time = OutTimestamp(source="updated_at")

    class Meta:
        ref_name = "ContactPerson"


class ContactOutputSerializer(CustomFieldsOutputMixin):
    contact_id = OutId(source="pk")
    contact_name = OutText()
    company_name = OutText()
    contact_type = OutText()
    customer_sub_type = serializers.SerializerMethodField()
    status = OutText()
    salutation = OutText()
    first_name = OutText()
    last_name = OutText()
    email = OutText()
    phone = OutText()
    mobile = OutText()
    website = OutText()
    currency_code = OutText()
    payment_terms = serializers.IntegerField(read_only=True)
    notes = OutText()
    billing_address = serializers.SerializerMethodField()
    shipping_address = serializers.SerializerMethodField()
    contact_persons = ContactPersonOutputSerializer(many=True, read_only=True)
    primary_contact_id = serializers.SerializerMethodField()
    outstanding_receivable_amount = OutMoney(source="outstanding_receivables")
    source = OutText()  # type: ignore[assignment]
    is_linked_with_zohocrm = serializers.BooleanField(read_only=True)
    is_crm_customer = serializers.BooleanField(source="is_linked_with_zohocrm", read_only=True)
    zcrm_account_id = OutText()
    zcrm_contact_id = OutText()
    zcrm_vendor_id = OutText()
    crm_owner_id = OutText()
    created_time = OutTimestamp(source="created_at")
    last_modified_time = OutTimestamp(source="updated_at")

    class Meta:
        ref_name = "Contact"

    def custom_field_entity(self, instance: Contact) -> str:
        return custom_field_entity_for(instance.contact_type)

    def get_customer_sub_type(self, contact: Contact) -> str:
        return contact.customer_sub_type if contact.contact_type == ContactType.CUSTOMER else ""

    @extend_schema_field(AddressOutputSerializer)
    def get_billing_address(self, contact: Contact) -> dict[str, str]:
        return _address(contact, "billing")

    @extend_schema_field(AddressOutputSerializer)
    def get_shipping_address(self, contact: Contact) -> dict[str, str]:
        return _address(contact, "shipping")

    def get_primary_contact_id(self, contact: Contact) -> str:
        primary = next((p for p in contact.contact_persons.all() if p.is_primary_contact), None)
        return str(primary.pk) if primary else ""


# --- input ----------------------------------------------------------------------------------------------------


class AddressInputSerializer(serializers.Serializer[Any]):
    attention = TextInput(max_length=255)
    address = TextInput(max_length=255)
    street2 = TextInput(max_length=255)
    city = TextInput(max_length=255)
    state = TextInput(max_length=255)
    state_code = TextInput(max_length=255, help_text="Accepted and ignored.")
    zip = TextInput(max_length=255)
    country = TextInput(max_length=255)
    phone = TextInput(max_length=255)
    fax = TextInput(max_length=255)

    class Meta:
        ref_name = "AddressInput"


class ContactPersonFieldsSerializer(serializers.Serializer[Any]):
    salutation = TextInput(max_length=20)
    first_name = TextInput(max_length=100)
    last_name = TextInput(max_length=100)
    email = TextInput(max_length=254)
    phone = TextInput(max_length=50)
    mobile = TextInput(max_length=50)
    designation = TextInput(max_length=100)
    department = TextInput(max_length=100)
    is_primary_contact = serializers.BooleanField(required=False)

    class Meta:
        ref_name = "ContactPersonFields"


class ContactFieldsSerializer(serializers.Serializer[Any]):
    contact_name = TextInput(max_length=200, help_text="Display name; derived from the company or person if empty.")
    company_name = TextInput(max_length=200)
    customer_sub_type = choice(("business", "individual"), required=False)
    salutation = TextInput(max_length=20)
    first_name = TextInput(max_length=100)
    last_name = TextInput(max_length=100)
    email = TextInput(max_length=254)
    phone = TextInput(max_length=50)
    mobile = TextInput(max_length=50)
    website = TextInput(max_length=255)
    currency_code = TextInput(max_length=3)
    payment_terms = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=3650)
    notes = TextInput(max_length=10000)
    billing_address = AddressInputSerializer(required=False, allow_null=True)
    shipping_address = AddressInputSerializer(required=False, allow_null=True)
    custom_fields = CustomFieldInputSerializer(many=True, required=False)

    class Meta:
        ref_name = "ContactFields"


def _contact_data(data: dict[str, Any]) -> dict[str, Any]:
    """The service's flat fields from the validated body."""
    result = {key: value for key, value in data.items() if key not in ("billing_address", "shipping_address")}
    for kind in ("billing", "shipping"):
        address = data.get(f"{kind}_address")
        if address is None:
            continue
        for ours, zoho in ADDRESS_KEYS.items():
            if zoho in address:
                result[f"{kind}_{ours}"] = address[zoho]
    return result


class ContactApiMixin(BooksApi):
    tag = "contacts"
    payload_key = "contact"
    OutputSerializer: ClassVar[type[serializers.BaseSerializer[Any]] | None] = ContactOutputSerializer
    read_only_keys: ClassVar[tuple[str, ...]] = CONTACT_READ_ONLY

    _definitions: dict[str, list[CustomFieldDefinition]] | None = None

    def definitions(self) -> dict[str, list[CustomFieldDefinition]]:
        if self._definitions is None:
            self._definitions = definitions_for(organization=self.organization, entities=CONTACT_ENTITIES)
        return self._definitions

    def serializer_context(self, instances: Sequence[Any]) -> dict[str, Any]:
        return {"custom_field_definitions": self.definitions()}

    def get_contact(self, contact_id: str) -> Contact:
        contact = contact_get_with_financials(
            organization=self.organization, contact_id=parse_id(contact_id, field="contact_id", noun="contact")
        )
        self.deny_unless_crm_linked(contact, field="contact_id", what="view contacts")
        return contact

    def custom_values(self, data: dict[str, Any], contact_type: str) -> dict[str, Any] | None:
        rows = data.pop("custom_fields", None)
        if not rows:
            return None
        return values_from_api(rows, definitions=self.definitions(), entity=custom_field_entity_for(contact_type))


# --- contacts -------------------------------------------------------------------------------------------------


class ContactListApi(ContactApiMixin, BooksListApi):
    """List contacts (customers and vendors).

    `filter_by=Status.Crm` lists the contacts linked with Zoho CRM; `zcrm_account_id`, `zcrm_contact_id` and
    `zcrm_vendor_id` find the contact of a CRM record."""

    operation_id = "list_contacts"
    payload_key = "contacts"
    report_name = "Contacts"
    integration_user_allowed = True

    class FilterSerializer(serializers.Serializer[Any]):
        filter_by = choice(tuple(CONTACT_FILTERS), required=False, allow_blank=True, default="Status.All")
        contact_type = choice(ContactType.values, required=False, allow_blank=True)
        search_text = serializers.CharField(required=False, allow_blank=True, max_length=200)
        contact_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
        contact_name_startswith = serializers.CharField(required=False, allow_blank=True, max_length=200)
        contact_name_contains = serializers.CharField(required=False, allow_blank=True, max_length=200)
        email = serializers.CharField(required=False, allow_blank=True, max_length=254)
        zcrm_account_id = serializers.CharField(required=False, allow_blank=True, max_length=40)
        zcrm_contact_id = serializers.CharField(required=False, allow_blank=True, max_length=40)
        zcrm_vendor_id = serializers.CharField(required=False, allow_blank=True, max_length=40)
        sort_column = choice(tuple(CONTACT_API_SORTS), required=False, allow_blank=True, default="contact_name")
        sort_order = sort_order_field()

        class Meta:
            ref_name = "ContactListFilter"

    def page_rows(self, page: QuerySet[Any]) -> list[Any]:
        return contact_page_for_api(page)

    def get(self, request: Request) -> Response:
        filters = self.filters()
        applied = filters.pop("filter_by")
        sort_column = filters.pop("sort_column")
        sort_order = filters.pop("sort_order", "A")
        criteria: dict[str, Any] = {**filters, **CONTACT_FILTERS[applied]}
        if self.is_integration_user:
            criteria["crm_linked_only"] = True
        qs = contact_search(
            organization=self.organization, sort_column=sort_column, descending=sort_order == "D", **criteria
        )
        return self.page(qs, applied_filter=applied, sort_column=sort_column, sort_order=sort_order)


class ContactCreateApi(ContactApiMixin):
    """Create a contact (a customer or a vendor), with its contact persons and custom fields."""

    operation_id = "create_contact"
    success_status = 201

    class InputSerializer(ContactFieldsSerializer):
        contact_type = choice(ContactType.values, required=False, default=ContactType.CUSTOMER)
        contact_persons = ContactPersonFieldsSerializer(many=True, required=False)

        class Meta:
            ref_name = "ContactCreateInput"

    def post(self, request: Request) -> Response:
        data = self.validated(self.InputSerializer, self.body())
        contact_type = data.pop("contact_type")
        persons = data.pop("contact_persons", [])
        custom = self.custom_values(data, contact_type)
        contact = contact_create(
            organization=self.organization,
            actor=self.actor,
            contact_type=contact_type,
            data=_contact_data(data),
            custom_fields=custom,
            contact_persons=persons,
        )
        contact = contact_get_with_financials(organization=self.organization, contact_id=contact.pk)
        return self.reply("The contact has been created", status=201, contact=self.render(contact))


class ContactGetApi(ContactApiMixin):
    """Get a contact."""

    operation_id = "get_contact"
    integration_user_allowed = True

    def get(self, request: Request, contact_id: str) -> Response:
        return self.reply(contact=self.render(self.get_contact(contact_id)))


class ContactUpdateApi(ContactApiMixin):
    """Update a contact. Only the fields sent change.

    Contact persons are changed through /contacts/contactpersons; `contact_type` cannot change."""

    operation_id = "update_contact"

    class InputSerializer(ContactFieldsSerializer):
        contact_type = choice(ContactType.values, required=False)

        class Meta:
            ref_name = "ContactUpdateInput"

    def put(self, request: Request, contact_id: str) -> Response:
        contact = self.get_contact(contact_id)
        body = self.body()
        if "contact_persons" in body:
            raise ApplicationError(
                "contact_persons: add or change contact persons with POST or PUT /contacts/contactpersons",
                field="contact_persons",
            )
        data = self.validated(self.InputSerializer, body, partial=True)
        contact_type = data.pop("contact_type", contact.contact_type)
        if contact_type != contact.contact_type:
            raise ApplicationError(
                f"contact_type: a {contact.contact_type} cannot become a {contact_type}", field="contact_type"
            )
        custom = self.custom_values(data, contact.contact_type)
        contact_update(contact=contact, actor=self.actor, data=_contact_data(data), custom_fields=custom)
        contact = contact_get_with_financials(organization=self.organization, contact_id=contact.pk)
        return self.reply("Contact has been updated successfully", contact=self.render(contact))


class ContactDeleteApi(ContactApiMixin):
    """Delete a contact. A contact with transactions cannot be deleted (409): mark it inactive instead."""

    operation_id = "delete_contact"
    payload_key = ""

    def delete(self, request: Request, contact_id: str) -> Response:
        contact_delete(contact=self.get_contact(contact_id), actor=self.actor)
        return self.reply("The contact has been deleted.")


class ContactSetStatusApi(ContactApiMixin):
    payload_key = ""
    status: ClassVar[str] = ""

    def post(self, request: Request, contact_id: str) -> Response:
        contact_set_status(contact=self.get_contact(contact_id), actor=self.actor, status=self.status)
        return self.reply(f"The contact has been marked as {self.status}.")


class ContactMarkActiveApi(ContactSetStatusApi):
    """Mark a contact as active."""

    operation_id = "mark_contact_active"
    status = Status.ACTIVE


class ContactMarkInactiveApi(ContactSetStatusApi):
    """Mark a contact as inactive."""

    operation_id = "mark_contact_inactive"
    status = Status.INACTIVE


# --- contact persons ------------------------------------------------------------------------------------------


class ContactPersonApiMixin(ContactApiMixin):
    tag = "contact persons"
    payload_key = "contact_person"
    OutputSerializer = ContactPersonOutputSerializer
    read_only_keys = ("zcrm_contact_id",)

    def get_person(self, contact_person_id: str) -> ContactPerson:
        person = contact_person_get(
            organization=self.organization,
            contact_person_id=parse_id(contact_person_id, field="contact_person_id", noun="contact person"),
        )
        self.deny_unless_crm_linked(person.contact, field="contact_person_id", what="view contact persons")
        return person


class ContactPersonListApi(ContactPersonApiMixin, BooksListApi):
    """List the contact persons of a contact."""

    operation_id = "list_contact_persons"
    payload_key = "contact_persons"
    report_name = "Contact Persons"
    integration_user_allowed = True

    def get(self, request: Request, contact_id: str) -> Response:
        contact = self.get_contact(contact_id)
        return self.page(contact_person_list(contact=contact))


class ContactPersonGetApi(ContactPersonApiMixin):
    """Get a contact person of a contact."""

    operation_id = "get_contact_person"
    integration_user_allowed = True

    def get(self, request: Request, contact_id: str, contact_person_id: str) -> Response:
        contact = self.get_contact(contact_id)
        person = self.get_person(contact_person_id)
        if person.contact_id != contact.pk:
            raise ApplicationError(
                f"contact_person_id: no contact person with id {contact_person_id} for this contact",
                code=1002,
                status=404,
                field="contact_person_id",
            )
        return self.reply(contact_person=self.render(person))


class ContactPersonCreateApi(ContactPersonApiMixin):
    """Create a contact person for the contact given by `contact_id`."""

    operation_id = "create_contact_person"
    success_status = 201

    class InputSerializer(ContactPersonFieldsSerializer):
        contact_id = IdInput()

        class Meta:
            ref_name = "ContactPersonCreateInput"

    def post(self, request: Request) -> Response:
        data = self.validated(self.InputSerializer, self.body())
        contact = self.get_contact(data.pop("contact_id"))
        person = contact_person_create(contact=contact, actor=self.actor, data=data)
        return self.reply("The contactperson has been Created", status=201, contact_person=self.render(person))


class ContactPersonUpdateApi(ContactPersonApiMixin):
    """Update a contact person. Only the fields sent change."""

    operation_id = "update_contact_person"

    class InputSerializer(ContactPersonFieldsSerializer):
        contact_id = IdInput(required=False)

        class Meta:
            ref_name = "ContactPersonUpdateInput"

    def put(self, request: Request, contact_person_id: str) -> Response:
        person = self.get_person(contact_person_id)
        data = self.validated(self.InputSerializer, self.body(), partial=True)
        contact_id = data.pop("contact_id", None)
        if contact_id not in (None, "", str(person.contact_id)):
            raise ApplicationError(
                "contact_id: a contact person cannot be moved to another contact", field="contact_id"
            )
        person = contact_person_update(person=person, actor=self.actor, data=data)
        return self.reply("The contactperson details has been updated.", contact_person=self.render(person))


class ContactPersonDeleteApi(ContactPersonApiMixin):
    """Delete a contact person."""

    operation_id = "delete_contact_person"
    payload_key = ""

    def delete(self, request: Request, contact_person_id: str) -> Response:
        contact_person_delete(person=self.get_person(contact_person_id), actor=self.actor)
        return self.reply("The contact person has been deleted.")


class ContactPersonMarkPrimaryApi(ContactPersonApiMixin):
    """Mark a contact person as the primary contact person of its contact."""

    operation_id = "mark_contact_person_primary"
    payload_key = ""

    def post(self, request: Request, contact_person_id: str) -> Response:
        contact_person_mark_primary(person=self.get_person(contact_person_id), actor=self.actor)
        return self.reply("This contact person has been marked as your primary contact person.")

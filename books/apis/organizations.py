"""Organizations and users: `GET /organizations[/{id}]`, `GET /users[/{id}|/me]`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from books.apis.base import BooksApi, BooksListApi, choice, parse_id, sort_order_field
from books.apis.fields import OutId, OutText, OutTimestamp
from books.models import Membership
from books.selectors import member_get_by_user, member_search, membership_get_for_user, membership_list_for_user


class OrganizationOutputSerializer(serializers.Serializer[Any]):
    organization_id = OutId(source="organization.pk")
    name = OutText(source="organization.name")
    email = OutText(source="organization.email")
    country = OutText(source="organization.country")
    time_zone = OutText(source="organization.time_zone")
    currency_code = OutText(source="organization.base_currency")
    is_default_org = serializers.SerializerMethodField()
    user_role = OutText(source="role")
    created_time = OutTimestamp(source="organization.created_at")

    class Meta:
        ref_name = "Organization"

    def get_is_default_org(self, membership: Membership) -> bool:
        return bool(self.context.get("default_organization_id") == membership.organization_id)


def _default_context(memberships: Sequence[Membership]) -> dict[str, Any]:
    # A user's default organization is the first by name, as the pages choose it (books.middleware).
    return {"default_organization_id": memberships[0].organization_id if memberships else None}


class OrganizationListApi(BooksApi):
    """List the organizations of the current user.

    The only call that needs no `organization_id`: it is how a client finds one."""

    requires_organization = False
    operation_id = "list_organizations"
    tag = "organizations"
    payload_key = "organizations"
    OutputSerializer = OrganizationOutputSerializer

    def get(self, request: Request) -> Response:
        memberships = list(membership_list_for_user(user=self.actor))
        data = OrganizationOutputSerializer(memberships, many=True, context=_default_context(memberships)).data
        return self.reply(organizations=data)

    @classmethod
    def response_schema(cls) -> Any:
        return inline_serializer(
            name="OrganizationListResponse",
            fields={
                "code": serializers.IntegerField(),
                "message": serializers.CharField(),
                "organizations": OrganizationOutputSerializer(many=True),
            },
        )


class OrganizationGetApi(BooksApi):
    """Get an organization of the current user."""

    requires_organization = False
    operation_id = "get_organization"
    tag = "organizations"
    payload_key = "organization"
    OutputSerializer = OrganizationOutputSerializer

    def get(self, request: Request, organization_id: str) -> Response:
        parse_id(organization_id, field="organization_id", noun="organization")
        membership = membership_get_for_user(user=self.actor, organization_id=organization_id)
        first = list(membership_list_for_user(user=self.actor)[:1])
        data = OrganizationOutputSerializer(membership, context=_default_context(first)).data
        return self.reply(organization=data)


# --- users ----------------------------------------------------------------------------------------------------


class UserOutputSerializer(serializers.Serializer[Any]):
    user_id = OutId(source="user.pk")
    name = serializers.SerializerMethodField()
    email = OutText(source="user.email")
    email_ids = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()
    user_role = OutText(source="role")
    role_id = OutText(source="role")
    crm_user_id = OutText()
    is_current_user = serializers.SerializerMethodField()
    created_time = OutTimestamp(source="created_at")

    class Meta:
        ref_name = "User"

    def get_name(self, membership: Membership) -> str:
        return membership.user.display_name

    def get_email_ids(self, membership: Membership) -> list[dict[str, Any]]:
        return [{"email": membership.user.email, "is_selected": True}]

    def get_status(self, membership: Membership) -> str:
        return "active" if membership.user.is_active else "inactive"

    def get_is_current_user(self, membership: Membership) -> bool:
        return bool(membership.user_id == self.context.get("current_user_id"))


class UserListApi(BooksListApi):
    """List the users of the organization."""

    operation_id = "list_users"
    tag = "users"
    payload_key = "users"
    report_name = "Users"
    OutputSerializer = UserOutputSerializer

    class FilterSerializer(serializers.Serializer[Any]):
        filter_by = choice(
            ("Status.All", "Status.Active", "Status.Inactive"), required=False, allow_blank=True, default="Status.All"
        )
        sort_column = choice(("email",), required=False, allow_blank=True, default="email")
        sort_order = sort_order_field()

        class Meta:
            ref_name = "UserListFilter"

    def serializer_context(self, instances: Sequence[Any]) -> dict[str, Any]:
        return {"current_user_id": self.actor.pk}

    def get(self, request: Request) -> Response:
        filters = self.filters()
        order = filters.get("sort_order") or "A"
        active = {"Status.Active": True, "Status.Inactive": False}.get(filters["filter_by"])
        qs = member_search(organization=self.organization, is_active=active, descending=order == "D")
        return self.page(qs, applied_filter=filters["filter_by"], sort_column="email", sort_order=order)


class UserGetApi(BooksApi):
    """Get a user of the organization."""

    operation_id = "get_user"
    tag = "users"
    payload_key = "user"
    OutputSerializer = UserOutputSerializer

    def serializer_context(self, instances: Sequence[Any]) -> dict[str, Any]:
        return {"current_user_id": self.actor.pk}

    def get(self, request: Request, user_id: str) -> Response:
        membership = member_get_by_user(
            organization=self.organization, user_id=parse_id(user_id, field="user_id", noun="user")
        )
        return self.reply(user=self.render(membership))


class UserMeApi(BooksApi):
    """Get the current user."""

    operation_id = "get_current_user"
    tag = "users"
    payload_key = "user"
    integration_user_allowed = True
    OutputSerializer = UserOutputSerializer

    def serializer_context(self, instances: Sequence[Any]) -> dict[str, Any]:
        return {"current_user_id": self.actor.pk}

    def get(self, request: Request) -> Response:
        return self.reply(user=self.render(self.membership))

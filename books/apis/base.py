"""What every operation of the Books API shares: the organization from `organization_id`, the role check, the
body (JSON or `JSONString`), Zoho's envelope and `page_context`, and the schema of each operation.

Operations subclass `BooksApi` (one APIView per operation, STYLE.md rule 19), declare a nested `InputSerializer`
(and `FilterSerializer` for lists), an `OutputSerializer`, and call services and selectors. Order of checks: the
token (401), `organization_id` (400 when missing or malformed, 404 when the user is not a member: never data),
the role (403), then the input (400) and the records (404, scoped to the organization by the selectors).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from django.db.models import QuerySet
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from books.apis.fields import ID_PATTERN
from books.apis.rendering import BooksJSONParser, BooksJSONRenderer, JSONStringFormParser, JSONStringMultiPartParser
from books.errors import ApplicationError, NotFound, PermissionDenied
from books.models import Membership, Organization, Role, User
from books.selectors import membership_get_for_user

MAX_PER_PAGE = 200
INTEGRATION_USER_DENIED = (
    "You are an Integration User (Zoho CRM): through the API you can create estimates and sales orders and view "
    "invoices and purchase orders for records linked with Zoho CRM. This operation is not allowed for you."
)

ORGANIZATION_PARAMETER = OpenApiParameter(
    "organization_id",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    required=True,
    description="ID of the organization (see GET /organizations).",
)


def parse_id(value: Any, *, field: str, noun: str) -> str:
    """A path id: anything but a number of at most 18 digits cannot exist (and must not reach the database)."""
    text = str(value)
    if not ID_PATTERN.fullmatch(text):
        raise NotFound(f"{field}: no {noun} with id {text[:40]} in this organization", field=field)
    return text


class ErrorSerializer(serializers.Serializer[Any]):
    code = serializers.IntegerField(help_text="Non-zero: what went wrong.")
    message = serializers.CharField(help_text="'<field>: <problem>'")

    class Meta:
        ref_name = "Error"


class PageContextSerializer(serializers.Serializer[Any]):
    page = serializers.IntegerField()
    per_page = serializers.IntegerField()
    has_more_page = serializers.BooleanField()
    report_name = serializers.CharField()
    applied_filter = serializers.CharField()
    sort_column = serializers.CharField()
    sort_order = serializers.CharField()

    class Meta:
        ref_name = "PageContext"


class MessageSerializer(serializers.Serializer[Any]):
    code = serializers.IntegerField()
    message = serializers.CharField()

    class Meta:
        ref_name = "Message"


class PageInputSerializer(serializers.Serializer[Any]):
    page = serializers.IntegerField(required=False, default=1, min_value=1, max_value=1_000_000)
    per_page = serializers.IntegerField(required=False, default=MAX_PER_PAGE, min_value=1, max_value=MAX_PER_PAGE)

    class Meta:
        ref_name = "PageInput"


class BooksAutoSchema(AutoSchema):
    """Reads each operation's schema from the view's own declarations, so no view repeats decorators."""

    def _books_view(self) -> BooksApi:
        assert isinstance(self.view, BooksApi)
        return self.view

    def get_operation_id(self) -> str:
        return self._books_view().operation_id or super().get_operation_id()

    def get_tags(self) -> list[str]:
        return [self._books_view().tag] if self._books_view().tag else super().get_tags()

    def get_summary(self) -> str | None:
        doc = (type(self.view).__doc__ or "").strip()
        return doc.splitlines()[0] if doc else None

    def get_description(self) -> str:  # type: ignore[override]  # drf-spectacular's signature, not DRF's
        doc = (type(self.view).__doc__ or "").strip()
        return "\n".join(doc.splitlines()[1:]).strip()

    def get_override_parameters(self) -> list[Any]:
        view = self._books_view()
        parameters: list[Any] = []
        if view.requires_organization:
            parameters.append(ORGANIZATION_PARAMETER)
        filters = getattr(view, "FilterSerializer", None)
        if filters is not None:
            parameters.append(filters)
        if isinstance(view, BooksListApi):
            parameters.append(PageInputSerializer)
        parameters += view.schema_parameters()
        return parameters

    def get_request_serializer(self) -> Any:
        if self.method not in ("POST", "PUT", "PATCH"):
            return None
        return getattr(self.view, "InputSerializer", None)

    def get_response_serializers(self) -> Any:
        view = self._books_view()
        responses: dict[int, Any] = {view.success_status: view.response_schema()}
        codes = [400, 401, 404, 405]
        if view.requires_organization:
            codes.append(403)
        if self.method in ("POST", "PUT", "DELETE"):
            codes.append(409)
        for code in sorted(codes):
            responses[code] = ErrorSerializer
        return responses


class BooksApi(APIView):
    parser_classes = (BooksJSONParser, JSONStringFormParser, JSONStringMultiPartParser)
    renderer_classes = (BooksJSONRenderer,)
    schema = BooksAutoSchema()

    requires_organization: ClassVar[bool] = True
    integration_user_allowed: ClassVar[bool] = False
    operation_id: ClassVar[str] = ""
    tag: ClassVar[str] = ""
    success_status: ClassVar[int] = 200
    # The response's payload key and serializer, for the envelope (and its schema).
    payload_key: ClassVar[str] = ""
    OutputSerializer: ClassVar[type[serializers.BaseSerializer[Any]] | None] = None
    # Keys a client may read but never write (owned by the CRM sync).
    read_only_keys: ClassVar[tuple[str, ...]] = ()

    organization: Organization
    membership: Membership

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not self.requires_organization:
            return
        raw = request.query_params.get("organization_id")
        if raw is None or not raw.strip():
            raise ApplicationError(
                "organization_id: is required as a query parameter (see GET /books/v3/organizations)",
                code=2,
                field="organization_id",
            )
        if not ID_PATTERN.fullmatch(raw.strip()):
            raise ApplicationError(
                f"organization_id: '{raw[:40]}' is not a valid organization id", code=2, field="organization_id"
            )
        self.membership = membership_get_for_user(user=self.actor, organization_id=raw.strip())
        self.organization = self.membership.organization
        if self.is_integration_user and not self.integration_user_allowed:
            raise PermissionDenied(INTEGRATION_USER_DENIED)

    @property
    def actor(self) -> User:
        user = self.request.user
        assert isinstance(user, User)
        return user

    @property
    def is_integration_user(self) -> bool:
        return self.membership.role == Role.INTEGRATION_USER

    def deny_unless_crm_linked(self, contact: Any, *, field: str, what: str) -> None:
        """Integration users work only with records linked with the CRM (DESIGN.md)."""
        if self.is_integration_user and (contact is None or not contact.is_linked_with_zohocrm):
            raise PermissionDenied(f"{field}: integration users can only {what} linked with Zoho CRM")

    def body(self) -> dict[str, Any]:
        data = self.request.data
        if not isinstance(data, Mapping):
            raise ApplicationError(f"body: expected a JSON object, got {_json_type(data)}", field="body")
        for key in self.read_only_keys:
            if key in data:
                raise ApplicationError(f"{key}: is read-only; it is set by the Zoho CRM sync", field=key)
        return dict(data)

    def validated(
        self, serializer_class: type[serializers.BaseSerializer[Any]], data: Any, *, partial: bool = False
    ) -> dict[str, Any]:
        serializer = serializer_class(data=data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def serializer_context(self, instances: Sequence[Any]) -> dict[str, Any]:
        """Extra context for the OutputSerializer (e.g. custom field definitions), loaded once for all rows."""
        return {}

    def render(self, instance: Any) -> Any:
        assert self.OutputSerializer is not None
        return self.OutputSerializer(instance, context=self.serializer_context([instance])).data

    def reply(self, message: str = "success", status: int = 200, **payload: Any) -> Response:
        return Response({"code": 0, "message": message, **payload}, status=status)

    @classmethod
    def schema_parameters(cls) -> list[OpenApiParameter]:
        return []

    @classmethod
    def response_schema(cls) -> Any:
        fields: dict[str, Any] = {"code": serializers.IntegerField(), "message": serializers.CharField()}
        if cls.payload_key and cls.OutputSerializer is not None:
            fields[cls.payload_key] = cls.OutputSerializer()
        if not cls.payload_key:
            return MessageSerializer
        return inline_serializer(name=f"{cls.__name__.removesuffix('Api')}Response", fields=fields)


class BooksListApi(BooksApi):
    report_name: ClassVar[str] = ""
    FilterSerializer: ClassVar[type[serializers.Serializer[Any]] | None] = None

    def query(self) -> dict[str, str]:
        """The query string, where an empty parameter (`?search_text=`) counts as absent (generic clients send
        them); the schema documents "" as allowed for that reason."""
        params = self.request.query_params
        return {key: str(params.get(key)) for key in params if str(params.get(key)).strip()}

    def filters(self) -> dict[str, Any]:
        if self.FilterSerializer is None:
            return {}
        return self.validated(self.FilterSerializer, self.query())

    def page(
        self,
        qs: QuerySet[Any],
        *,
        applied_filter: str = "",
        sort_column: str = "",
        sort_order: str = "",
    ) -> Response:
        params = self.request.query_params
        # Unlike the text filters, an empty page number is a mistake: refuse it (400 naming it).
        paging = self.validated(
            PageInputSerializer, {key: params[key] for key in ("page", "per_page") if key in params}
        )
        page, per_page = paging["page"], paging["per_page"]
        offset = (page - 1) * per_page
        rows = self.page_rows(qs[offset : offset + per_page + 1])  # one extra row: is there a next page?
        has_more = len(rows) > per_page
        rows = rows[:per_page]
        assert self.OutputSerializer is not None
        data = self.OutputSerializer(rows, many=True, context=self.serializer_context(rows)).data
        return self.reply(
            **{
                self.payload_key: data,
                "page_context": {
                    "page": page,
                    "per_page": per_page,
                    "has_more_page": has_more,
                    "report_name": self.report_name,
                    "applied_filter": applied_filter,
                    "sort_column": sort_column,
                    "sort_order": sort_order,
                },
            }
        )

    def page_rows(self, page: QuerySet[Any]) -> list[Any]:
        """The rows of one page (a sliced queryset); a list may read them with extra data here."""
        return list(page)

    @classmethod
    def response_schema(cls) -> Any:
        assert cls.OutputSerializer is not None
        return inline_serializer(
            name=f"{cls.__name__.removesuffix('Api')}Response",
            fields={
                "code": serializers.IntegerField(),
                "message": serializers.CharField(),
                cls.payload_key: cls.OutputSerializer(many=True),
                "page_context": PageContextSerializer(),
            },
        )


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"


def choice(values: Sequence[str], **kwargs: Any) -> serializers.ChoiceField:
    """A choice whose error lists the allowed values."""
    return serializers.ChoiceField(
        choices=list(values),
        error_messages={"invalid_choice": f"'{{input}}' is not one of {', '.join(values)}"},
        **kwargs,
    )


def sort_order_field() -> serializers.ChoiceField:
    return choice(("A", "D"), required=False, allow_blank=True, help_text="A: ascending, D: descending.")

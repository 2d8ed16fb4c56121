"""The Books API's CRM-integration endpoints (Zoho Books v3, reference §3), registered under /books/v3/ through
books.extensions from SyncConfig.ready():

    POST /crm/account/{crm_account_id}/import   → {"code": 0, "message": "success", "data": {"contact_id": "…"}}
    POST /crm/contact/{crm_contact_id}/import   → … {"contact_id": "…"}
    POST /crm/vendor/{crm_vendor_id}/import     → … {"contact_id": "…"}
    POST /crm/item/{crm_product_id}/import      → … {"item_id": "…"}

No body; `organization_id` in the query; the same token, organization and role rules as every operation
(books.apis.base). Integration users may import customers (accounts, contacts) and items, which they need to make
quotes and sales orders for CRM records; vendors are for accountants and admins. The work is
sync.services.crm_imports.crm_record_import (preconditions of the sync type, idempotency, the import).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from django.urls import URLPattern, path
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from books.apis.base import BooksApi, BooksAutoSchema, ErrorSerializer
from books.apis.routing import route
from books.errors import NotFound
from sync.services.crm_imports import IMPORT_KINDS, crm_record_import

CRM_ID = re.compile(r"[0-9]{1,40}")


class CrmImportSchema(BooksAutoSchema):
    def get_response_serializers(self) -> Any:
        responses = super().get_response_serializers()
        # A value of the CRM record that does not fit Books; the CRM refusing or not answering.
        for code in (422, 502, 503):
            responses[code] = ErrorSerializer
        return responses


class CrmImportApi(BooksApi):
    schema = CrmImportSchema()
    tag = "crm integration"
    kind: ClassVar[str] = ""
    id_key: ClassVar[str] = "contact_id"
    path_param: ClassVar[str] = ""

    def post(self, request: Request, **kwargs: Any) -> Response:
        crm_id = str(kwargs[self.path_param])
        if not CRM_ID.fullmatch(crm_id):
            # Not an id the CRM could have (its ids are 19 digits): like an unknown id, nothing to import.
            noun = IMPORT_KINDS[self.kind].noun
            raise NotFound(
                f"{self.path_param}: there is no Zoho CRM {noun} with id {crm_id[:40]}", field=self.path_param
            )
        result = crm_record_import(organization=self.organization, actor=self.actor, kind=self.kind, crm_id=crm_id)
        return self.reply(data={self.id_key: str(result.record.pk)})

    @classmethod
    def response_schema(cls) -> Any:
        return inline_serializer(
            name=f"{cls.__name__.removesuffix('Api')}Response",
            fields={
                "code": serializers.IntegerField(),
                "message": serializers.CharField(),
                "data": inline_serializer(
                    name=f"{cls.__name__.removesuffix('Api')}Data", fields={cls.id_key: serializers.CharField()}
                ),
            },
        )


class CrmAccountImportApi(CrmImportApi):
    """Import a customer using the CRM account ID.

    Needs customers synced as "Accounts" or "Accounts and their Contacts". An account imported before answers its
    customer again."""

    operation_id = "import_crm_account"
    integration_user_allowed = True
    kind = "account"
    path_param = "crm_account_id"


class CrmContactImportApi(CrmImportApi):
    """Import a customer using the CRM contact ID.

    Needs customers synced as "Contacts", or "Accounts and their Contacts" with "Include contacts that are not
    associated to any accounts" (a contact with an account then imports its account: that customer is answered)."""

    operation_id = "import_crm_contact"
    integration_user_allowed = True
    kind = "contact"
    path_param = "crm_contact_id"


class CrmVendorImportApi(CrmImportApi):
    """Import a vendor using the CRM vendor ID.

    Needs vendors synced with Zoho CRM."""

    operation_id = "import_crm_vendor"
    kind = "vendor"
    path_param = "crm_vendor_id"


class CrmItemImportApi(CrmImportApi):
    """Import an item using the CRM product ID.

    Needs items synced with Zoho CRM (Products)."""

    operation_id = "import_crm_item"
    integration_user_allowed = True
    kind = "item"
    id_key = "item_id"
    path_param = "crm_product_id"


def url_patterns() -> list[URLPattern]:
    return [
        path(f"crm/{view.kind}/<str:{view.path_param}>/import", route(post=view))
        for view in (CrmAccountImportApi, CrmContactImportApi, CrmVendorImportApi, CrmItemImportApi)
    ]

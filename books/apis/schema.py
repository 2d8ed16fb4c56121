"""The OpenAPI schema (drf-spectacular) at /books/v3/schema/, the docs page at /books/v3/docs/ (Swagger UI from
drf-spectacular-sidecar, served by us: nothing from a CDN), and the answer to unknown URLs."""

from __future__ import annotations

from typing import Any, NoReturn

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from books.apis.rendering import BooksJSONRenderer
from books.errors import ApplicationError


class ZohoOAuthTokenScheme(OpenApiAuthenticationExtension):
    target_class = "books.authentication.ZohoOAuthTokenAuthentication"
    name = "ZohoOAuthToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Zoho-oauthtoken <token>`; print a token with `python manage.py api_token EMAIL`.",
        }


class SchemaApi(SpectacularAPIView):
    """The schema is public: it describes the API, not anyone's data."""

    authentication_classes = ()
    permission_classes = (AllowAny,)


class DocsView(SpectacularSwaggerView):
    authentication_classes = ()
    permission_classes = (AllowAny,)


class UnknownUrlApi(APIView):
    """Every URL under /books/v3/ that is not an endpoint: 404 in the envelope (Zoho: code 5)."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    renderer_classes = (BooksJSONRenderer,)
    schema = None

    def http_method_not_allowed(self, request: Request, *args: Any, **kwargs: Any) -> NoReturn:  # type: ignore[override]
        raise ApplicationError(
            f"Invalid URL Passed: {request.path} is not an endpoint of the Books API", code=5, status=404
        )

    def options(self, request: Request, *args: Any, **kwargs: Any) -> NoReturn:  # type: ignore[override]
        self.http_method_not_allowed(request)

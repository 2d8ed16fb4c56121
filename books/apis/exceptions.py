"""One handler turns every error into Zoho Books' envelope `{"code": <non-zero>, "message": "..."}` with the
right HTTP status. Bad input never becomes a 500.

Codes: 0 success; 1001 bad input; 1002 not found; 1003 conflict; 1038 body not well formed (Zoho's, reference
§1.4); 57 not authorized (Zoho's); 37 method not allowed; 5 invalid URL; 2 bad `organization_id`; 6041 not a
member of that organization. Codes other than 1002, 1038 and 57 are ours where Zoho's are unconfirmed.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from books.errors import ApplicationError
from books.validation import errors_to_application_error

logger = logging.getLogger(__name__)

DRF_CODES = {
    status.HTTP_400_BAD_REQUEST: 1001,
    status.HTTP_401_UNAUTHORIZED: 57,
    status.HTTP_403_FORBIDDEN: 57,
    status.HTTP_404_NOT_FOUND: 1002,
    status.HTTP_405_METHOD_NOT_ALLOWED: 37,
    status.HTTP_406_NOT_ACCEPTABLE: 1001,
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: 1038,
    status.HTTP_429_TOO_MANY_REQUESTS: 44,
}
NOT_AUTHENTICATED = (
    "Authorization: send the header 'Authorization: Zoho-oauthtoken <token>' (get a token with manage.py api_token)"
)


def _first_message(detail: Any, path: str = "") -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            sub = key if not path else f"{path}.{key}"
            if isinstance(key, int):  # a ListSerializer's errors are keyed by the row's index
                sub = f"{path}[{key}]"
            if key == "non_field_errors":
                sub = path
            return _first_message(value, sub)
        return "invalid input"
    if isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)):
                if not value:
                    continue
                return _first_message(value, f"{path}[{index}]")
            return _first_message(value, path)
        return f"{path}: invalid input" if path else "invalid input"
    text = str(detail)
    return f"{path}: {text}" if path else text


def envelope(code: int, message: str, http_status: int, **extra: Any) -> Response:
    return Response({"code": code, "message": message, **extra}, status=http_status)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = errors_to_application_error(exc)
    if isinstance(exc, ApplicationError):
        extra = {"errors": exc.extra["errors"]} if "errors" in exc.extra else {}
        return envelope(exc.code, exc.message, exc.status, **extra)
    if isinstance(exc, Http404):
        return envelope(1002, "The requested resource does not exist.", 404)
    if isinstance(exc, RequestDataTooBig):
        return envelope(1038, "body: the request body is too large", 413)
    if isinstance(exc, SuspiciousOperation):  # e.g. too many form fields
        return envelope(1038, f"body: {str(exc)[:200] or 'the request was refused'}", 400)
    if isinstance(exc, DjangoPermissionDenied):
        return envelope(57, "You are not authorized to perform this operation", 403)
    if isinstance(exc, exceptions.ParseError):
        return envelope(1038, _first_message(exc.detail), 400)
    if isinstance(exc, exceptions.NotAuthenticated):
        response = drf_exception_handler(exc, context)
        if response is not None:
            response.data = {"code": 57, "message": NOT_AUTHENTICATED}
        return response
    response = drf_exception_handler(exc, context)
    if response is None:
        # Not an error a caller can fix: log it and still answer in the envelope.
        logger.exception("books api: unhandled error", exc_info=exc)
        return envelope(1000, "Internal error", 500)
    if isinstance(exc, exceptions.ValidationError):
        message = _first_message(exc.detail)
        return envelope(1001, message, 400, errors=exc.detail)
    code = DRF_CODES.get(response.status_code, 1001)
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    response.data = {"code": code, "message": _first_message(detail)}
    return response

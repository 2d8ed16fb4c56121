"""JSON in and out of the Books API.

Money is Decimal end to end (STYLE.md rule 12), so it must not pass through a float on either side: request
bodies are parsed with `parse_float=Decimal`, and the renderer writes a Decimal as the JSON number literal of its
exact digits (`79.50`), where DRF's encoder would go through `float()` and drift on large amounts.
The legacy Zoho clients send `JSONString=<json>` as a form field (reference §1.4); both parsers below accept it.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, NoReturn

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http.multipartparser import MultiPartParserError
from django.utils.functional import Promise
from rest_framework.exceptions import ParseError
from rest_framework.parsers import DataAndFiles, FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import JSONRenderer

JSON_STRING_FIELD = "JSONString"


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a valid JSON number")


def loads(text: str | bytes, *, source: str = "body") -> Any:
    """Parse JSON with exact decimals; ParseError (code 1038 in the envelope) naming `source` when malformed."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ParseError(f"{source}: JSON is not well formed ({str(exc)[:120]})") from None


class BooksJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        # DRF reads the request stream directly, past Django's size check on request.body: apply the same limit.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(raw) > limit:
            raise RequestDataTooBig("body: the request body is too large")
        return loads(raw)


def _from_form(form: Mapping[str, Any]) -> Any:
    raw = form.get(JSON_STRING_FIELD)
    if raw is None:
        raise ParseError(f"{JSON_STRING_FIELD}: a form-encoded body must carry the JSON object in the JSONString field")
    return loads(raw, source=JSON_STRING_FIELD)


class JSONStringFormParser(FormParser):
    """`application/x-www-form-urlencoded` with `JSONString=<json>`."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        return _from_form(super().parse(stream, media_type, parser_context))


class JSONStringMultiPartParser(MultiPartParser):
    """`multipart/form-data` with a `JSONString` part (how the old wrappers send attachments with a body)."""

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> DataAndFiles[Any, Any]:
        try:
            parsed = super().parse(stream, media_type, parser_context)
        except MultiPartParserError as exc:  # pragma: no cover - DRF already wraps these as ParseError
            raise ParseError(f"body: multipart form is not well formed ({exc})") from None
        return DataAndFiles(_from_form(parsed.data), parsed.files)


def _encode(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, Decimal):
        out.append(format(value, "f") if value.is_finite() else "null")
    elif isinstance(value, (int, float)):
        out.append(json.dumps(value))
    elif isinstance(value, Mapping):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                out.append(",")
            out.append(json.dumps(str(key), ensure_ascii=False))
            out.append(":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out)
        out.append("]")
    elif isinstance(value, (datetime.datetime, datetime.date)):
        out.append(json.dumps(value.isoformat()))
    elif isinstance(value, (uuid.UUID, Promise)):
        out.append(json.dumps(str(value), ensure_ascii=False))
    else:
        raise TypeError(f"cannot render {type(value).__name__} as JSON")


def dumps(value: Any) -> str:
    out: list[str] = []
    _encode(value, out)
    return "".join(out)


class BooksJSONRenderer(JSONRenderer):
    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Mapping[str, Any] | None = None
    ) -> bytes:
        if data is None:
            return b""
        return dumps(data).encode("utf-8")

"""The one error type of the domain (STYLE.md rule 5).

Services raise `ApplicationError` for anything a user or a caller can fix: the message names the field and the
problem. The API's exception handler turns it into Zoho's error envelope; HTML views into form errors or
messages. `code` is Zoho Books' numeric error code family; `status` the HTTP status to answer with.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    def __init__(
        self,
        message: str,
        *,
        code: int = 1001,
        status: int = 400,
        field: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.field = field
        self.extra = extra or {}


class NotFound(ApplicationError):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message, code=1002, status=404, field=field)


class Conflict(ApplicationError):
    def __init__(self, message: str, *, field: str | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message, code=1003, status=409, field=field, extra=extra)


class PermissionDenied(ApplicationError):
    def __init__(self, message: str = "You are not authorized to perform this operation") -> None:
        super().__init__(message, code=57, status=403)

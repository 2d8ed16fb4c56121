"""Model validation turned into the domain's error: the message names the field and the problem."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import models

from books.errors import ApplicationError


def errors_to_application_error(exc: ValidationError) -> ApplicationError:
    errors: dict[str, list[str]] = {}
    if hasattr(exc, "error_dict"):
        for field, field_errors in exc.error_dict.items():
            errors[field] = [str(m) for e in field_errors for m in e.messages]
    else:
        errors["__all__"] = [str(m) for m in exc.messages]
    first_field, messages = next(iter(errors.items()))
    label = "" if first_field == "__all__" else f"{first_field}: "
    return ApplicationError(
        f"{label}{messages[0]}",
        code=1001,
        status=400,
        field=None if first_field == "__all__" else first_field,
        extra={"errors": errors},
    )


def validate_instance(instance: models.Model, *, exclude: Iterable[str] = ()) -> None:
    """Run the model's field validation (lengths, choices, emails, blanks) and raise ApplicationError."""
    try:
        instance.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise errors_to_application_error(exc) from exc

"""Template context of the sandbox's pages."""

from __future__ import annotations

from django.http import HttpRequest

from crm_sandbox.schema import MODULES


def modules(request: HttpRequest) -> dict[str, object]:
    return {"modules": list(MODULES)}

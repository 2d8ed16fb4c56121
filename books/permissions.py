"""Who may open what. Pages of Books need a member who is not an integration user; settings need an admin.
The API uses the same rules through DRF permission classes in books.apis."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from books.models import Role

View = Callable[..., HttpResponse]


def _denied(request: HttpRequest, title: str, message: str) -> HttpResponse:
    return TemplateResponse(request, "books/denied.html", {"title": title, "message": message}, status=403)


def books_page(*, roles: tuple[str, ...] = (Role.ADMIN, Role.ACCOUNTANT)) -> Callable[[View], View]:
    """A Books page: signed in, a member of the current organization, with one of `roles`.

    Integration users (CRM users) never open Books itself: they get a page saying so."""

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = getattr(request, "membership", None)
            if membership is None:
                return _denied(request, "No organization", "Your account is not a member of any organization yet.")
            if membership.role == Role.INTEGRATION_USER:
                return _denied(
                    request,
                    "Zoho Books access is not available",
                    "You are an Integration User (Zoho CRM). You can create quotes and sales orders and view "
                    "invoices and purchase orders from the Zoho Finance section of Zoho CRM, but you cannot "
                    "access Books itself. Ask your administrator if you need access.",
                )
            if membership.role not in roles:
                return _denied(request, "Admins only", "Only an administrator of this organization can open this page.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


admin_page = books_page(roles=(Role.ADMIN,))

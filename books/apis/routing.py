"""Zoho's URLs put several operations on one path (`GET /contacts` lists, `POST /contacts` creates), while the house
style wants one APIView per operation (STYLE.md rule 19). `route()` joins the per-operation views of one path
into one URL callback that dispatches on the method; any other method gets 405 in the envelope with `Allow`.

For the schema, the callback looks like a DRF view (`cls`, `initkwargs`) so drf-spectacular enumerates its
methods, and `expand_routes` (a spectacular preprocessing hook) swaps in the real view of each method.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.http import HttpRequest, HttpResponseBase
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from books.apis.rendering import BooksJSONRenderer

Callback = Callable[..., HttpResponseBase]


def _never(self: APIView, request: Request, *args: Any, **kwargs: Any) -> Response:  # pragma: no cover
    raise AssertionError("route() dispatches allowed methods to their own views")


def _options(self: APIView, request: Request, *args: Any, **kwargs: Any) -> Response:
    """OPTIONS: the envelope; DRF adds the `Allow` header of the routed methods."""
    return Response({"code": 0, "message": "success"})


def route(**views: type[APIView]) -> Callback:
    callbacks: dict[str, Callback] = {method.upper(): view.as_view() for method, view in views.items()}
    if "GET" in callbacks:
        callbacks.setdefault("HEAD", callbacks["GET"])
    # Answers the methods not routed: DRF raises MethodNotAllowed, the handler renders the envelope.
    not_allowed: type[APIView] = type(
        "MethodNotAllowedRoute",
        (APIView,),
        {
            "authentication_classes": (),
            "permission_classes": (),
            "renderer_classes": (BooksJSONRenderer,),
            **{method.lower(): _never for method in views},
            "options": _options,
        },
    )
    fallback = not_allowed.as_view()

    def dispatch(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        callback = callbacks.get(request.method or "", fallback)
        return callback(request, *args, **kwargs)

    dispatch.csrf_exempt = True  # type: ignore[attr-defined]  # DRF enforces CSRF for session auth itself
    dispatch.cls = not_allowed  # type: ignore[attr-defined]
    dispatch.initkwargs = {}  # type: ignore[attr-defined]
    dispatch.route_views = {method.upper(): callbacks[method.upper()] for method in views}  # type: ignore[attr-defined]
    return dispatch


def expand_routes(endpoints: Iterable[tuple[str, str, str, Any]]) -> list[tuple[str, str, str, Any]]:
    """drf-spectacular PREPROCESSING_HOOK: each method of a route is documented from its own view."""
    result = []
    for path, path_regex, method, callback in endpoints:
        views = getattr(callback, "route_views", None)
        if views is not None:
            if method not in views:
                continue
            callback = views[method]
        result.append((path, path_regex, method, callback))
    return result

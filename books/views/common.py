"""What every page view shares: the typed request, 404s for ids outside the organization, pagination, and
rendering a named partial of the same template for htmx requests."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.middleware import HtmxDetails

from books.errors import NotFound
from books.models import CustomFieldDefinition, Membership, Organization, User

T = TypeVar("T")
M = TypeVar("M", bound=Model)

PER_PAGE_CHOICES = (10, 25, 50, 100, 200)
DEFAULT_PER_PAGE = 25


class BooksRequest(HttpRequest):
    """A request that passed `books_page`: signed in, with an organization and a membership."""

    user: User
    organization: Organization
    membership: Membership
    htmx: HtmxDetails


def get_or_404(selector: Callable[..., T], **kwargs: Any) -> T:
    """Call a `<entity>_get` selector; an id of another organization (or no such id) is a 404, never a 403."""
    try:
        return selector(**kwargs)
    except NotFound as exc:
        raise Http404(exc.message) from None


def paginate(request: HttpRequest, queryset: QuerySet[M]) -> Page:
    """One COUNT and one page query, whatever the size of the list. A page past the end shows the last page."""
    try:
        per_page = int(request.GET.get("per_page", DEFAULT_PER_PAGE))
    except (TypeError, ValueError):
        per_page = DEFAULT_PER_PAGE
    if per_page not in PER_PAGE_CHOICES:
        per_page = DEFAULT_PER_PAGE
    paginator = Paginator(queryset, per_page)
    number = request.GET.get("page") or 1
    try:
        return paginator.page(number)
    except PageNotAnInteger:
        return paginator.page(1)
    except EmptyPage:
        return paginator.page(paginator.num_pages)


def page_numbers(page: Page) -> list[int | str]:
    """Page links around the current page, "…" for a gap: [1, "…", 7, 8, 9, "…", 80]."""
    return list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))


def render(
    request: HttpRequest,
    template: str,
    context: Mapping[str, Any],
    *,
    partial: str | None = None,
    status: int = 200,
) -> TemplateResponse:
    """The page, or for an htmx request the named partial of the same template (django-template-partials)."""
    htmx = getattr(request, "htmx", None)
    # A history restore (the back button after the cache expired) needs the whole page.
    wants_partial = bool(partial and htmx and not htmx.history_restore_request)
    name = f"{template}#{partial}" if wants_partial else template
    return TemplateResponse(request, name, dict(context), status=status)


def htmx_target(request: HttpRequest) -> str:
    htmx = getattr(request, "htmx", None)
    return (htmx.target or "") if htmx else ""


def safe_next(request: HttpRequest, default: str) -> str:
    """Where to go back to after a POST: a local URL given as `next`, else `default`."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def list_query(request: HttpRequest) -> dict[str, str]:
    """The list parameters of a list page, cleaned: filter/status, search, sort."""
    return {
        "filter": (request.GET.get("filter") or "").strip()[:20],
        "status": (request.GET.get("status") or "").strip()[:20],
        "q": (request.GET.get("q") or "").strip()[:100],
        "sort": (request.GET.get("sort") or "").strip()[:20],
    }


def custom_value_rows(definitions: Iterable[CustomFieldDefinition], values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, shown value) of the custom fields that have a value, for a detail page."""
    rows = []
    for definition in definitions:
        value = values.get(definition.api_name)
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            value = "Yes" if value else "No"
        rows.append((definition.label, str(value)))
    return rows

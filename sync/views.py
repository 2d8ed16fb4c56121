"""The sync parts of Settings › Zoho Apps (admins only, function-based, working without JavaScript):

- the "Sync status" panel of the details page (registered with crm_integration.hooks): the run going now with its
  progress — an htmx request polls `sync_progress` for the partial every two seconds; without JavaScript the
  panel has a Refresh link to the same view as a plain page — and the last runs with their counts;
- the "Sync runs" panel of Show Sync History: every run, paginated, with its counts;
- a run's page: its counts per module and direction, its failures grouped by reason, and every failure (paginated).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from books.errors import NotFound
from books.permissions import admin_page
from books.views.common import page_numbers, paginate
from crm_integration.models import CrmConnection
from crm_integration.selectors import connection_get
from sync import selectors

RECENT_RUNS = 5


def _org(request: HttpRequest) -> Any:
    return request.organization  # type: ignore[attr-defined]


def _progress_context(connection: CrmConnection) -> dict[str, Any]:
    organization = connection.organization
    current = selectors.sync_run_current(organization=organization)
    percent = None
    if current is not None and current.total:
        percent = min(100, int(current.processed * 100 / current.total))
    return {"connection": connection, "current": current, "percent": percent}


def details_panel_context(request: HttpRequest, connection: CrmConnection) -> dict[str, Any]:
    """The details page's Sync status panel."""
    runs = list(selectors.sync_run_list(organization=connection.organization)[:RECENT_RUNS])
    counts = selectors.sync_run_counts(runs=runs)
    return {
        **_progress_context(connection),
        "runs": [(run, counts.get(run.pk, [])) for run in runs],
    }


def history_panel_context(request: HttpRequest, connection: CrmConnection) -> dict[str, Any]:
    """Show Sync History: every run, paginated."""
    page = paginate(request, selectors.sync_run_list(organization=connection.organization))
    runs = list(page.object_list)
    counts = selectors.sync_run_counts(runs=runs)
    return {
        **_progress_context(connection),
        "page": page,
        "page_numbers": page_numbers(page),
        "runs": [(run, counts.get(run.pk, [])) for run in runs],
    }


@admin_page
def sync_progress(request: HttpRequest) -> HttpResponse:
    """The run going now: the htmx partial the panel polls, or a page of its own without JavaScript."""
    connection = connection_get(organization=_org(request))
    if connection is None:
        raise Http404("Zoho CRM is not connected")
    context = _progress_context(connection)
    if getattr(request, "htmx", False):
        return TemplateResponse(request, "sync/_progress.html", context)
    return TemplateResponse(request, "sync/progress_page.html", context)


@admin_page
def sync_run_detail(request: HttpRequest, run_id: str) -> HttpResponse:
    """One run: counts per module and direction, failures grouped by reason, and the failures one by one."""
    organization = _org(request)
    try:
        run = selectors.sync_run_get(organization=organization, run_id=run_id)
    except NotFound as exc:
        raise Http404(exc.message) from None
    reason = request.GET.get("reason") or None
    page = paginate(request, selectors.sync_failure_list(run=run, reason_code=reason))
    counts = selectors.sync_run_counts(runs=[run]).get(run.pk, [])
    return TemplateResponse(
        request,
        "sync/run_detail.html",
        {
            "run": run,
            "counts": counts,
            "directions": list(run.module_counts.all()),
            "groups": selectors.sync_failures_grouped(run=run),
            "page": page,
            "page_numbers": page_numbers(page),
            "reason": reason,
        },
    )

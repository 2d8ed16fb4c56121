"""The sync parts of Settings › Zoho Apps (details panel with live progress, history, a run's failures by reason),
Instant Sync end to end through the Celery task, the crm_sync command, and the tasks."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from crm_integration.models import CrmConnection
from sync.models import Outcome, RunStatus, SyncFailure, SyncRun, Trigger
from sync.tasks import retry_countdown, run_sync
from tests.sync.conftest import configure, counts, sync_now

pytestmark = pytest.mark.e2e

DETAILS = "/settings/zoho-apps/crm/"
HISTORY = "/settings/zoho-apps/crm/history/"


def _run(org, connection, **kw) -> SyncRun:
    values = {"trigger": Trigger.AUTO, "status": RunStatus.SUCCEEDED}
    values.update(kw)
    return SyncRun.objects.create(organization=org, connection=connection, crm_org_id=connection.crm_org_id, **values)


def test_details_panel_shows_the_last_runs_and_the_running_one(connected, org, admin_client):
    configure(connected, "customers", crm_module_option="accounts")
    done = sync_now(connected)
    running = _run(
        org, connected, status=RunStatus.RUNNING, phase="Customers: fetching Accounts (page 3)", processed=600
    )

    page = admin_client.get(DETAILS)

    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="panel-sync-status"' in html
    assert "Customers: fetching Accounts (page 3)" in html
    assert "600" in html
    assert f'hx-get="{reverse("sync:progress")}"' in html
    assert 'hx-trigger="every 2s"' in html
    assert reverse("sync:run_detail", args=[done.pk]) in html
    assert running.get_status_display() not in ("",)


def test_progress_is_a_partial_for_htmx_and_a_page_without_javascript(connected, org, admin_client):
    _run(
        org,
        connected,
        status=RunStatus.RUNNING,
        phase="Items: sending to Products (100 of 400)",
        processed=100,
        total=400,
    )

    partial = admin_client.get(reverse("sync:progress"), HTTP_HX_REQUEST="true")
    whole = admin_client.get(reverse("sync:progress"))

    assert partial.status_code == 200
    assert "<html" not in partial.content.decode()
    assert 'value="25"' in partial.content.decode()  # 100 of 400
    assert whole.status_code == 200
    assert "<html" in whole.content.decode()
    assert "Refresh" in whole.content.decode()
    SyncRun.objects.update(status=RunStatus.SUCCEEDED)
    idle = admin_client.get(reverse("sync:progress"), HTTP_HX_REQUEST="true").content.decode()
    assert "No sync is running" in idle
    assert "hx-trigger" not in idle


def test_run_page_groups_failures_by_reason(connected, org, admin_client, django_assert_max_num_queries):
    run = _run(org, connected, status=RunStatus.PARTIAL)
    SyncFailure.objects.bulk_create(
        [
            SyncFailure(run=run, organization=org, module="customers", direction="pull", crm_id=str(i),
                        record_name=f"Acme {i}", reason_code="invalid_value:Email", reason="Email: not an email")
            for i in range(30)
        ]
        + [
            SyncFailure(run=run, organization=org, module="customers", direction="pull", crm_id="99",
                        record_name="Twin", reason_code="duplicate_skipped", reason="skipped: duplicate",
                        outcome=Outcome.SKIPPED)
        ]
    )  # fmt: skip

    with django_assert_max_num_queries(14):
        page = admin_client.get(reverse("sync:run_detail", args=[run.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert html.index("Email: not an email") < html.index("skipped: duplicate")  # biggest group first
    assert ">30<" in html
    assert "Acme 0, Acme 1" in html
    only = admin_client.get(reverse("sync:run_detail", args=[run.pk]), {"reason": "duplicate_skipped"}).content.decode()
    assert "Twin" in only
    assert "Acme 5" not in only.split('id="failure-list"')[1]


def test_history_lists_runs_with_a_constant_number_of_queries(
    connected, org, admin_client, django_assert_max_num_queries
):
    for _ in range(3):
        _run(org, connected)
    with django_assert_max_num_queries(20) as few:
        admin_client.get(HISTORY)
    for _ in range(40):
        _run(org, connected)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = admin_client.get(HISTORY)
    assert page.status_code == 200
    assert page.content.decode().count('class="sync-run"') == 25


def test_pages_are_for_this_organizations_admins_only(
    connected, org, other_org, other_client, accountant_client, admin_client
):
    run = _run(org, connected)
    url = reverse("sync:run_detail", args=[run.pk])
    assert other_client.get(url).status_code == 404
    assert other_client.get(reverse("sync:progress")).status_code == 404  # not connected there
    assert accountant_client.get(url).status_code == 403
    assert admin_client.get(reverse("sync:run_detail", args=["abc"])).status_code == 404
    assert admin_client.get(reverse("sync:run_detail", args=["999999"])).status_code == 404


def test_instant_sync_runs_through_the_task(connected, org, admin_client, django_capture_on_commit_callbacks):
    configure(connected, "customers", crm_module_option="accounts")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("crm_integration:crm_instant_sync"), follow=True)
    assert response.status_code == 200
    assert "Sync started" in response.content.decode()
    run = SyncRun.objects.get(organization=org, trigger=Trigger.INSTANT)
    assert run.status == "succeeded"
    assert counts(run)[("customers", "pull")]["added"] == 20

    # Delivered twice (the broker redelivers unacknowledged messages): the second delivery does nothing.
    assert (
        run_sync.apply(kwargs={"connection_id": connected.pk, "trigger": "instant", "run_id": run.pk}).get()
        == "nothing to do"
    )
    assert SyncRun.objects.filter(organization=org).count() == 1


def test_paused_instant_sync_is_refused_on_the_page(connected, org, admin_client):
    configure(connected, "customers", crm_module_option="accounts")
    CrmConnection.objects.filter(pk=connected.pk).update(paused=True)
    response = admin_client.post(reverse("crm_integration:crm_instant_sync"), follow=True)
    assert "paused" in response.content.decode()
    assert not SyncRun.objects.filter(organization=org).exists()


# -------------------------------------------------------------------------------------------------- crm_sync


def test_crm_sync_prints_the_counts(connected, org):
    configure(connected, "customers", crm_module_option="accounts")
    out, err = io.StringIO(), io.StringIO()
    call_command("crm_sync", "--org", org.slug, stdout=out, stderr=err)
    text = out.getvalue()
    assert "Succeeded" in text
    assert "customers" in text
    row = next(line for line in text.splitlines() if line.startswith("customers"))
    assert row.split()[:4] == ["customers", "From", "Zoho", "CRM"]
    assert row.split()[4] == "20"


@pytest.mark.parametrize(
    ("args", "setup", "message"),
    [
        (["--org", "nope"], None, "no organization with the slug 'nope'"),
        (["--org", "other"], None, "other is not connected to Zoho CRM"),
        (["--org", "acme"], "paused", "Sync is paused"),
        (["--org", "acme"], "nothing", "No module is configured yet"),
        (["--org", "acme", "--module", "items"], "customers-only", "Items is not configured"),
    ],
)
def test_crm_sync_exits_2_for_what_cannot_sync(connected, org, other_org, args, setup, message):
    if setup in ("paused", "customers-only"):
        configure(connected, "customers", crm_module_option="accounts")
    if setup == "paused":
        CrmConnection.objects.filter(pk=connected.pk).update(paused=True)
    with pytest.raises(CommandError, match=message) as exc:
        call_command("crm_sync", *args, "--no-progress", stdout=io.StringIO())
    assert exc.value.returncode == 2


def test_crm_sync_bad_module_name_is_an_argument_error(connected, org):
    with pytest.raises(CommandError, match="invalid choice: 'accounts'"):
        call_command("crm_sync", "--org", org.slug, "--module", "accounts")


def test_crm_sync_exits_1_when_the_run_fails(connected, org, sandbox, monkeypatch):
    configure(connected, "customers", crm_module_option="accounts")
    from crm_integration.services.clients import connection_credentials
    from crm_integration.zoho import RetryPolicy, ZohoCrmClient
    from sync.services import runs

    fast = RetryPolicy(budget=1.0, base_delay=0.01, max_delay=0.05)
    monkeypatch.setattr(runs, "crm_client_for", lambda c: ZohoCrmClient(connection_credentials(c), retry=fast))
    sandbox.set_faults(**{"5xx": 1.0})
    try:
        with pytest.raises(CommandError, match="Zoho CRM is not answering") as exc:
            call_command("crm_sync", "--org", org.slug, "--no-progress", stdout=io.StringIO())
    finally:
        sandbox.set_faults()
    assert exc.value.returncode == 1
    assert SyncRun.objects.get(organization=org).status == "failed"


def test_run_sync_retries_when_the_crm_is_not_answering(connected, org, sandbox, monkeypatch):
    configure(connected, "customers", crm_module_option="accounts")
    from celery.exceptions import Retry

    from crm_integration.services.clients import connection_credentials
    from crm_integration.zoho import RetryPolicy, ZohoCrmClient
    from sync.services import runs

    fast = RetryPolicy(budget=1.0, base_delay=0.01, max_delay=0.05)
    monkeypatch.setattr(runs, "crm_client_for", lambda c: ZohoCrmClient(connection_credentials(c), retry=fast))
    sandbox.set_faults(**{"5xx": 1.0})
    try:
        with pytest.raises(Retry):
            run_sync.apply(kwargs={"connection_id": connected.pk, "trigger": "auto"}, throw=True)
    finally:
        sandbox.set_faults()
    run = SyncRun.objects.get(organization=org)
    assert run.status == "failed"
    assert "not answering" in run.error
    assert 60 <= retry_countdown(1, None) <= 120
    assert retry_countdown(0, 300) == 300

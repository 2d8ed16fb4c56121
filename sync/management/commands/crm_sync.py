"""`python manage.py crm_sync --org SLUG [--module customers|vendors|items] [--full]`: one sync now, in this process
(under the connection's lease, like a worker's), with a progress bar; prints the run's counts per module and exits
non-zero when the run failed (1), or with 2 and a message for wrong arguments, an unknown organization, or a
connection that cannot sync (not connected, disabled, paused, nothing configured, already running)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from books.errors import ApplicationError
from books.models import Organization
from crm_integration.models import CrmConnection, SyncModule
from sync import selectors
from sync.models import RunStatus, SyncRun, Trigger
from sync.services import runs


class Command(BaseCommand):
    help = "Run one Zoho CRM sync of an organization now, with a progress bar."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="the Books organization's slug")
        parser.add_argument(
            "--module", action="append", choices=SyncModule.values, help="only this module (repeatable)"
        )
        parser.add_argument("--full", action="store_true", help="read everything again, not only what changed")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (logs, CI)")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"--org: no organization with the slug '{options['org']}'", returncode=2)
        connection = CrmConnection.objects.select_related("organization").filter(organization=organization).first()
        if connection is None:
            raise CommandError(f"--org: {organization.slug} is not connected to Zoho CRM", returncode=2)
        try:
            run = runs.sync_start(
                connection=connection, actor=None, trigger=Trigger.MANUAL, modules=options["module"], enqueue=False
            )
        except ApplicationError as exc:
            raise CommandError(exc.message, returncode=2) from None

        bar = tqdm(total=None, unit=" records", disable=options["no_progress"], dynamic_ncols=True)

        def progress(current: SyncRun) -> None:
            bar.set_description_str(current.phase[:60])
            bar.update(current.processed - bar.n)

        try:
            outcome = runs.run_execute(run=run, full=options["full"], progress=progress)
        finally:
            bar.close()
        self._report(outcome.run)
        if outcome.run.status in (RunStatus.FAILED, RunStatus.REFUSED):
            raise CommandError(f"the sync {outcome.run.get_status_display().lower()}: {outcome.run.error}")

    def _report(self, run: SyncRun) -> None:
        run.refresh_from_db()
        took = f" in {run.duration_seconds:.2f} s" if run.duration_seconds is not None else ""
        self.stdout.write(f"Sync {run.pk}: {run.get_status_display()}{took}")
        header = f"{'module':<10} {'direction':<14} {'added':>8} {'updated':>8} {'unchanged':>9} {'skipped':>8} {'deleted':>8} {'failed':>7}"
        self.stdout.write(header)
        for row in run.module_counts.all():
            self.stdout.write(
                f"{row.module:<10} {row.get_direction_display():<14} {row.added:>8} {row.updated:>8} "
                f"{row.unchanged:>9} {row.skipped:>8} {row.deleted:>8} {row.failed:>7}"
            )
            if row.error:
                self.stdout.write(f"  {row.error}")
        for group in selectors.sync_failures_grouped(run=run, examples=3):
            names = ", ".join(f.record_name or f.crm_id or str(f.books_id) for f in group.examples)
            self.stdout.write(f"  {group.count} × {group.reason} (e.g. {names})")
        for note in run.notes:
            self.stdout.write(f"  note: {note}")

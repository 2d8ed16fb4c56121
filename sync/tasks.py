"""Celery tasks of the sync engine: thin (ids in, re-fetch, call one service), named, time-limited, and safe to
run twice (the Redis broker redelivers unacknowledged messages; a second delivery finds its run finished, or the
lease held, and does nothing).

- `sync.sync_due` (beat, every minute): claims the connections whose next sync is due and queues their runs.
- `sync.run_sync`: runs one queued run under the connection's lease; retried later (backoff with jitter) only when
  Zoho CRM is not answering.
- `sync.fetch_record`: "Fetch this contact from Zoho CRM" in the background.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from celery import shared_task
from celery.app.task import Task
from django.conf import settings

from books.errors import ApplicationError
from books.models import Contact, User
from sync.services import records, runs

RUN_SOFT_LIMIT = int(getattr(settings, "SYNC_RUN_SOFT_TIME_LIMIT", 4 * 3600))
RUN_HARD_LIMIT = RUN_SOFT_LIMIT + 300


def retry_countdown(retries: int, wait: float | None) -> float:
    """Exponential backoff with full jitter, at least what the CRM asked for."""
    cap = min(3600.0, 60.0 * (2**retries))
    return max(float(wait or 0), random.uniform(cap / 2, cap))


@shared_task(name="sync.sync_due", soft_time_limit=50, time_limit=60, ignore_result=True)
def sync_due() -> int:
    return len(runs.connections_claim_due())


@shared_task(
    name="sync.run_sync",
    bind=True,
    soft_time_limit=RUN_SOFT_LIMIT,
    time_limit=RUN_HARD_LIMIT,
    max_retries=5,
    acks_late=True,
    ignore_result=True,
)
def run_sync(
    self: Task,
    connection_id: int,
    trigger: str = "auto",
    modules: Sequence[str] | None = None,
    run_id: int | None = None,
) -> str:
    run = runs.run_for_task(connection_id=connection_id, trigger=trigger, modules=modules, run_id=run_id)
    if run is None:
        return "nothing to do"
    outcome = runs.run_execute(run=run)
    if outcome.retry_later is not None and self.request.retries < (self.max_retries or 0):
        # A new run next time (this one is recorded as failed, with the reason).
        raise self.retry(
            kwargs={"connection_id": connection_id, "trigger": trigger, "modules": modules, "run_id": None},
            countdown=retry_countdown(self.request.retries, outcome.retry_later.wait),
        )
    return outcome.run.status


@shared_task(name="sync.fetch_record", soft_time_limit=120, time_limit=150, ignore_result=True)
def fetch_record(organization_id: int, contact_id: int, actor_id: int | None = None) -> str:
    contact = (
        Contact.objects.select_related("organization").filter(organization_id=organization_id, pk=contact_id).first()
    )
    if contact is None:
        return "no such contact"
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    try:
        records.contact_fetch_from_crm(contact=contact, actor=actor)
    except ApplicationError as exc:
        return exc.message
    return "fetched"

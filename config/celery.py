"""The Celery app `config`: `celery -A config worker --beat`.

The beat schedule is defined here, in one place (STYLE.md rule 11).
"""

import os
from typing import Any

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _yield_to_the_web(**_: Any) -> None:
    """The worker runs at a lower CPU priority (LB_WORKER_NICE) than the web server, before its pool starts, so
    every pool process inherits it: on a host that runs both, a backlog of syncs and deal events takes the CPU the
    web requests leave, instead of making the webhook and the pages wait (see bench_triggers)."""
    from django.conf import settings

    if settings.LB_WORKER_NICE > 0:
        os.nice(settings.LB_WORKER_NICE)


app.conf.beat_schedule = {
    "books-mark-overdue-invoices": {"task": "books.invoices_mark_overdue", "schedule": 3600.0},
    # Queues a sync of every connection whose next sync is due (2 hours after the last one by default).
    "sync-due-connections": {"task": "sync.sync_due", "schedule": 60.0},
    # Renews the CRM notification channels of deal triggers that expire within a day (Zoho keeps them a week).
    "triggers-renew-channels": {"task": "triggers.channels_renew_due", "schedule": 3600.0},
    # Enqueues again deal events that were stored but never processed (a lost message): nothing waits forever.
    "triggers-requeue-stale-events": {"task": "triggers.events_requeue_stale", "schedule": 300.0},
}

"""Celery task of the triggers: thin (an event id in, one service call), named, time-limited, acks late, and
harmless when delivered twice (a processed event is left as it is; each deal action happens once)."""

from __future__ import annotations

import logging
import random

from celery import shared_task
from celery.app.task import Task
from django.db import DatabaseError

from crm_integration.client import CrmRetryLater
from sync.tasks import retry_countdown
from triggers.services import channels, deals, notifications

logger = logging.getLogger(__name__)


@shared_task(
    name="triggers.process_deal_event",
    bind=True,
    soft_time_limit=120,
    time_limit=150,
    max_retries=6,
    acks_late=True,
    ignore_result=True,
)
def process_deal_event(self: Task, event_id: int) -> str:
    try:
        event = deals.deal_event_process(event_id=event_id)
    except CrmRetryLater as exc:
        if self.request.retries < (self.max_retries or 0):
            raise self.retry(countdown=retry_countdown(self.request.retries, exc.wait)) from None
        deals.deal_event_fail(event_id=event_id, reason=str(exc))
        return "failed"
    except DatabaseError as exc:
        # A race with another worker (a unique key taken a moment ago, a deadlock, a serialization failure):
        # the next try sees the committed state.
        if self.request.retries < (self.max_retries or 0):
            raise self.retry(countdown=random.uniform(0.5, 2.0) * (self.request.retries + 1)) from None
        logger.exception("deal event %s failed", event_id)
        deals.deal_event_fail(event_id=event_id, reason=type(exc).__name__, prefix="database error: ")
        return "failed"
    except Exception as exc:
        # A bug must not leave the event waiting silently: it is marked failed and shows in the history.
        logger.exception("deal event %s failed", event_id)
        deals.deal_event_fail(
            event_id=event_id, reason=type(exc).__name__, prefix="unexpected error (see the worker log): "
        )
        return "failed"
    return event.status if event is not None else "no such event"


@shared_task(name="triggers.channels_renew_due", soft_time_limit=300, time_limit=330, ignore_result=True)
def channels_renew_due() -> int:
    return channels.channels_renew_due()


@shared_task(name="triggers.events_requeue_stale", soft_time_limit=60, time_limit=90, ignore_result=True)
def events_requeue_stale() -> int:
    """Beat: events stored but never processed (the broker was down when they were enqueued, a message was lost)
    are enqueued again; processing is idempotent, so an event that is merely slow is harmless to send twice."""
    return notifications.events_requeue_stale()

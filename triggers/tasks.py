"""Celery task of the triggers: thin (an event id in, one service call), named, time-limited, acks late, and
harmless when delivered twice (a processed event is left as it is; each deal action happens once)."""

from __future__ import annotations

from celery import shared_task
from celery.app.task import Task

from crm_integration.client import CrmRetryLater
from sync.tasks import retry_countdown
from triggers.services import channels, deals


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
    return event.status if event is not None else "no such event"


@shared_task(name="triggers.channels_renew_due", soft_time_limit=300, time_limit=330, ignore_result=True)
def channels_renew_due() -> int:
    return channels.channels_renew_due()

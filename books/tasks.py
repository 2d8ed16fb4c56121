from celery import shared_task

from books.services.transactions import invoices_mark_overdue


@shared_task(name="books.invoices_mark_overdue", soft_time_limit=300, time_limit=360)
def invoices_mark_overdue_task() -> int:
    return invoices_mark_overdue()

"""Crash safety: a real Celery worker runs the sync and is killed with SIGKILL at several points — in the middle of
the pull, in the middle of the push, and between a CRM write and the database commit that records it (the
sandbox's `after_write` fault drops the connection after every write, so the worker sits retrying with the records
written in the CRM and no links in Books). Running again must end in the state an uninterrupted run reaches: every
record once on each side, each linked to its counterpart, nothing lost, no duplicate in Books or in the CRM.

The worker is a separate process (`celery -A config worker --pool=solo`): it reads the test database (a file on
SQLite, the test database on PostgreSQL; hence transactional tests) and a broker of its own (a temporary
filesystem broker, or with REDIS_URL a queue of its own)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection as db_connection

from books.models import Contact, ContactType
from sync.models import LinkState, RecordLink, SyncRun, SyncRunModule, Trigger
from sync.services import runs
from sync.services.locks import lock_holder
from tests.sync.conftest import configure, counts, crm_all, sync_now

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
N_CRM = 100
N_BOOKS = 100
PAGE = 20


def _database_url() -> str:
    settings = db_connection.settings_dict
    if db_connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    user = settings.get("USER") or "postgres"
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"


class Worker:
    """A Celery worker process of our own, with its own queue; stopped (SIGKILL) by its pid."""

    def __init__(self, tmp: Path) -> None:
        self.queue = f"sync-crash-{uuid.uuid4().hex[:10]}"
        self.tmp = tmp
        redis = os.environ.get("REDIS_URL", "")
        folder = tmp / "celery"
        for sub in ("queue", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        if redis:
            self.sender = Celery("crash-test", broker=redis)
        else:
            self.sender = Celery(
                "crash-test",
                broker="filesystem://",
                broker_transport_options={
                    "data_folder_in": str(folder / "queue"),
                    "data_folder_out": str(folder / "queue"),
                    "processed_folder": str(folder / "processed"),
                    "control_folder": str(folder / "control"),
                    "store_processed": False,
                },
            )
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "LB_VAR_DIR": str(tmp),
            "CELERY_QUEUE": self.queue,
            "SYNC_PAGE_SIZE": str(PAGE),
            "SYNC_PUSH_BATCH": str(PAGE),
            "SYNC_LOCK_TTL_SECONDS": "2",
            "LOG_LEVEL": "WARNING",
        }
        self.log = open(tmp / "worker.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", self.queue,
             "--without-mingle", "--without-gossip", "--without-heartbeat", "--concurrency=1"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip

    def run(self, run: SyncRun) -> None:
        self.sender.send_task(
            "sync.run_sync",
            kwargs={"connection_id": run.connection_id, "trigger": run.trigger, "modules": [], "run_id": run.pk},
            queue=self.queue,
            routing_key=self.queue,
        )

    def kill(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        self.kill()
        self.log.close()

    def output(self) -> str:
        return (self.tmp / "worker.log").read_text(errors="replace")[-3000:]


def wait_for(what: str, check: Callable[[], bool], worker: Worker, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if worker.process.poll() is not None:
            raise AssertionError(f"the worker exited before {what}:\n{worker.output()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}:\n{worker.output()}")
        time.sleep(0.05)


@pytest.fixture
def worker(tmp_path) -> Iterator[Worker]:
    started = Worker(tmp_path)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def crash_setup(transactional_db, connected, sandbox, org):
    sandbox.reset(accounts=N_CRM, contacts=0, vendors=0, products=0, deals=0)
    Contact.objects.bulk_create(
        [
            Contact(organization=org, contact_type=ContactType.CUSTOMER, contact_name=f"Books Co {i:03d}",
                    company_name=f"Books Co {i:03d}", currency_code="USD")
            for i in range(N_BOOKS)
        ]
    )  # fmt: skip
    configure(connected, "customers", crm_module_option="accounts", extent="both_ways", duplicates="clone")
    return connected


def _push_added(run: SyncRun) -> int:
    row = SyncRunModule.objects.filter(run=run, module="customers", direction="push").first()
    return row.added if row else 0


def _rerun_until_settled(connection, org) -> None:
    deadline = time.monotonic() + 30
    while lock_holder(connection=connection) is not None:  # the killed worker's lease expires
        assert time.monotonic() < deadline, "the dead worker's lease never expired"
        time.sleep(0.1)
    first = sync_now(connection)
    assert first.status == "succeeded", first.error
    final = sync_now(connection, full=True)
    assert final.status == "succeeded", final.error
    for key, c in counts(final).items():
        assert (c["added"], c["updated"], c["failed"]) == (0, 0, 0), key


def _assert_converged(sandbox, org) -> None:
    books = dict(Contact.objects.filter(organization=org).values_list("pk", "contact_name"))
    crm = crm_all(sandbox, "Accounts", ["Account_Name", "Ledgerbridge_ID"])
    links = dict(
        RecordLink.objects.filter(organization=org, crm_module="Accounts", state=LinkState.LINKED).values_list(
            "crm_id", "books_id"
        )
    )
    total = N_CRM + N_BOOKS
    assert len(books) == total, "no duplicate and nothing lost in Books"
    assert len(crm) == total, "no duplicate and nothing lost in the CRM"
    assert Counter(r["Account_Name"] for r in crm) == Counter(books.values())
    assert len(links) == total
    assert set(links.values()) == set(books)
    assert set(links) == {r["id"] for r in crm}
    for record in crm:
        assert books[links[record["id"]]] == record["Account_Name"]
    assert Contact.objects.filter(organization=org, is_linked_with_zohocrm=True).count() == total
    assert sum(1 for r in crm if r["Ledgerbridge_ID"]) == N_BOOKS


def _start(connection) -> SyncRun:
    return runs.sync_start(connection=connection, actor=None, trigger=Trigger.INSTANT, enqueue=False)


def test_killed_in_the_middle_of_the_pull(crash_setup, sandbox, org, worker):
    sandbox.set_faults(slow=1.0, slow_ms=250)
    run = _start(crash_setup)
    worker.run(run)
    wait_for("half the pull", lambda: SyncRun.objects.get(pk=run.pk).processed >= N_CRM // 2, worker)
    # The worker yields the CPU to web requests (LB_WORKER_NICE, 10 by default, set as it starts).
    assert os.getpriority(os.PRIO_PROCESS, worker.process.pid) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + 10)
    worker.kill()
    sandbox.set_faults()
    assert SyncRun.objects.get(pk=run.pk).status == "running"
    assert 0 < RecordLink.objects.filter(organization=org).count() < N_CRM

    _rerun_until_settled(crash_setup, org)

    _assert_converged(sandbox, org)
    interrupted = SyncRun.objects.get(pk=run.pk)
    assert interrupted.status == "failed"
    assert "stopped before it finished" in interrupted.error


def test_killed_in_the_middle_of_the_push(crash_setup, sandbox, org, worker):
    sandbox.set_faults(slow=1.0, slow_ms=250)
    run = _start(crash_setup)
    worker.run(run)
    wait_for("a push batch", lambda: _push_added(run) >= PAGE, worker)
    worker.kill()
    sandbox.set_faults()
    assert PAGE <= _push_added(run) < N_BOOKS

    _rerun_until_settled(crash_setup, org)

    _assert_converged(sandbox, org)


def test_killed_between_the_crm_write_and_the_database_commit(crash_setup, sandbox, org, worker):
    run = _start(crash_setup)
    sandbox.set_faults(after_write=1.0)  # every write is done in the CRM, and its answer lost
    sandbox.reset_counters()
    worker.run(run)
    wait_for(
        "a write the CRM made whose answer was lost",
        lambda: sandbox.counters()["calls"].get("POST /crm/v8/Accounts/upsert", 0) >= 2,
        worker,
    )
    worker.kill()
    sandbox.set_faults()
    in_crm = len(crm_all(sandbox, "Accounts", ["Account_Name"]))
    assert in_crm > N_CRM, "the CRM holds records whose links were never saved"
    assert RecordLink.objects.filter(organization=org).count() == N_CRM  # only the pulled ones

    _rerun_until_settled(crash_setup, org)

    _assert_converged(sandbox, org)

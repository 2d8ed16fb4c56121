"""`manage.py crm_sandbox seed | credentials` as processes, and the outbox surviving a restart of `serve`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.crm_sandbox.conftest import Receiver, wait_for
from tests.crm_sandbox.test_records import insert
from tests.fixtures.sandbox import ROOT, SMALL_SEED, free_port, start_sandbox, stop_sandbox

pytestmark = pytest.mark.e2e


def manage(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "crm_sandbox", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_seed_is_idempotent_and_credentials_are_the_contract(tmp_path) -> None:
    db = str(tmp_path / "crm.sqlite3")
    empty = manage("credentials", "--db", db)
    assert empty.returncode != 0
    assert "seed" in empty.stderr
    first = manage(
        "seed", "--db", db, "--accounts", "3", "--contacts", "2", "--vendors", "1", "--products", "1", "--deals", "1"
    )
    assert first.returncode == 0, first.stderr
    assert "Seeded Zylker Corp" in first.stdout
    assert "admin / admin" in first.stdout
    second = manage("seed", "--db", db)
    assert "already seeded; nothing done" in second.stdout
    creds = json.loads(manage("credentials", "--db", db, "--port", "8123").stdout)
    assert set(creds) == {"client_id", "client_secret", "refresh_token", "accounts_url", "api_domain"}
    assert creds["api_domain"] == creds["accounts_url"] == "http://127.0.0.1:8123"
    public = json.loads(
        manage("credentials", "--db", db, env={"CRM_SANDBOX_PUBLIC_URL": "https://crm.example.test/"}).stdout
    )
    assert public["api_domain"] == "https://crm.example.test"
    assert public["refresh_token"] == creds["refresh_token"]
    bad = manage("seed", "--db", db, "--accounts", "-5")
    assert bad.returncode != 0
    assert "--accounts" in bad.stderr


@pytest.mark.slow
def test_outbox_survives_a_restart(tmp_path, receiver: Receiver) -> None:
    db = tmp_path / "restart.sqlite3"
    dead_port = free_port()  # nothing listens here: every attempt fails until the restart
    server = start_sandbox(db, extra_env={"CRM_SANDBOX_NOTIFY_BACKOFF": "30"}, seed=SMALL_SEED)
    try:
        server.api(
            "POST",
            "actions/watch",
            json={
                "watch": [
                    {
                        "channel_id": "77",
                        "events": ["Accounts.create"],
                        "notify_url": f"http://127.0.0.1:{dead_port}/hook",
                    }
                ]
            },
        )
        insert(server, "Accounts", {"Account_Name": "Queued Ltd"})
        wait_for(lambda: server.deliveries() and server.deliveries()[0]["attempts"] >= 1, what="a failed first attempt")
        server.api(
            "PUT",
            "actions/watch",
            json={"watch": [{"channel_id": "77", "events": ["Accounts.create"], "notify_url": receiver.url}]},
        )
    finally:
        stop_sandbox(server)
    # The pending delivery still holds the old URL; point it at the receiver as an operator would, then restart.
    import sqlite3

    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE crm_sandbox_delivery SET notify_url = ?, next_attempt_at = '2000-01-01 00:00:00'", (receiver.url,)
        )
    again = start_sandbox(db, seed=SMALL_SEED)
    try:
        wait_for(lambda: receiver.received, what="the queued notification after the restart")
        assert receiver.received[0]["body"]["channel_id"] == "77"
        assert again.deliveries()[0]["status"] == "delivered"
    finally:
        stop_sandbox(again)

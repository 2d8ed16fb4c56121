"""The CRM sandbox: `crm_sandbox seed --accounts N` time, and raw list throughput of one client with plain requests
(200 records of 12 fields a page, `page` then `page_token`), which is the floor of the sync bench."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench.common import Context, Row

ROOT = Path(__file__).resolve().parent.parent
FIELDS = (
    "Account_Name,Owner,Phone,Website,Billing_Street,Billing_City,Billing_State,Billing_Code,Customer_Tier,"
    "Credit_Limit,Annual_Revenue,Modified_Time"
)
SEED_FLOOR_S = 60.0
RECORDS_PER_S_FLOOR = 6000.0
MS_PER_PAGE_TARGET = 30.0


def run(ctx: Context) -> list[Row]:
    from tests.fixtures.sandbox import start_sandbox, stop_sandbox

    n = ctx.n(100_000)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench_sandbox_") as tmp:
        db = Path(tmp) / "sandbox.sqlite3"
        started = time.perf_counter()
        seeded = subprocess.run(
            [sys.executable, "manage.py", "crm_sandbox", "seed", "--db", str(db), "--accounts", str(n)],
            cwd=ROOT,
            env=dict(os.environ),
            capture_output=True,
            text=True,
            timeout=600,
        )
        seed_s = time.perf_counter() - started
        if seeded.returncode != 0:
            raise RuntimeError(f"seed failed: {seeded.stderr}")
        rows.append(
            Row("sandbox", f"seed --accounts {n:,} (s)", seed_s, "s", SEED_FLOOR_S, "< 60 s", seed_s < SEED_FLOOR_S)
        )

        server = start_sandbox(db)
        try:
            server.access_token()
            server.reset_counters()
            session = requests.Session()
            headers = {"Authorization": f"Zoho-oauthtoken {server.access_token()}"}
            url = f"{server.base_url}/crm/v8/Accounts"
            params: dict[str, str | int] = {"fields": FIELDS, "per_page": 200, "page": 1}
            count = pages = 0
            slowest = 0.0
            started = time.perf_counter()
            while True:
                t0 = time.perf_counter()
                response = session.get(url, params=params, headers=headers, timeout=60)
                slowest = max(slowest, time.perf_counter() - t0)
                response.raise_for_status()
                body = response.json()
                count += len(body["data"])
                pages += 1
                if not body["info"]["more_records"]:
                    break
                params = {"fields": FIELDS, "per_page": 200, "page_token": body["info"]["next_page_token"]}
            elapsed = time.perf_counter() - started
            calls = server.counters()["calls"].get("GET /crm/v8/Accounts", 0)
        finally:
            stop_sandbox(server)
    per_s = count / elapsed
    ms_page = elapsed / pages * 1000
    rows.append(Row("sandbox", "list records read", count, "records", n, "= N accounts", count == n))
    rows.append(
        Row(
            "sandbox",
            "list calls",
            calls,
            "calls",
            math.ceil(n / 200),
            "ceil(N/200) calls",
            calls == math.ceil(n / 200),
        )
    )
    rows.append(
        Row(
            "sandbox",
            "list throughput, one client",
            per_s,
            "records/s",
            RECORDS_PER_S_FLOOR,
            "target ≥ 6,000",
            per_s >= RECORDS_PER_S_FLOOR,
        )
    )
    rows.append(
        Row(
            "sandbox",
            "list page of 200 × 12 fields (mean)",
            ms_page,
            "ms",
            MS_PER_PAGE_TARGET,
            "target < 30 ms",
            ms_page < MS_PER_PAGE_TARGET,
        )
    )
    rows.append(Row("sandbox", "list page (slowest)", slowest * 1000, "ms"))
    return rows

"""Issue 5: the sync engine end to end, on PostgreSQL (DATABASE_URL), against the CRM sandbox on this machine.

1. Initial pull of N accounts (Fetch from CRM): records/s of the whole sync (target ≥ 1,500, beside the time it takes
   to just read the same pages with our client: the floor), list calls against ceil(N/200) (within 2%), and the
   worker's peak RSS (the sync runs in a child process, `manage.py crm_sync`; target < 300 MB).
2. Incremental sync of the N linked accounts with nothing changed: read calls (target 1 per module) and the run's
   time (target < 1 s).
3. Push of N/10 changed Books customers (Sync both ways): write calls against ceil(N/10/100).

The bench makes its own database (`<DATABASE_URL's name>_bench`, dropped and created) and its own sandbox process
seeded with N accounts; BENCH_SCALE scales N (1.0 = 100,000). Every Django step runs in a child process
(`python -m bench.bench_sync STEP`), so the bench process itself never holds the data.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, Context, Row, bench_database, django_setup, run_step, step_result

BENCH = "sync"
ORG = "bench"
RATE_TARGET = 1500.0
RSS_TARGET_MB = 300.0
INCREMENTAL_TARGET_S = 1.0


# ------------------------------------------------------------------------------------------------ child steps


def step_setup(creds: dict[str, str]) -> dict[str, Any]:
    """An organization connected to the sandbox, customers from Accounts configured (Fetch from CRM)."""
    django_setup()
    from books.models import Organization, User
    from crm_integration.client import Credentials
    from crm_integration.models import CrmConnection
    from crm_integration.services import connections
    from crm_integration.services.modules import ModuleInput, module_config_save
    from sync.services.lanes import crm_fields_for, module_plan

    org = Organization.objects.create(name="Bench Books", slug=ORG, base_currency="USD")
    user = User.objects.create_user("bench@example.test", "bench-password")
    connections.pending_authorize_with_refresh_token(organization=org, actor=user, credentials=Credentials(**creds))
    connection: CrmConnection = connections.connection_connect(organization=org, actor=user).connection
    config = module_config_save(
        connection=connection,
        actor=user,
        data=ModuleInput(module="customers", crm_module_option="accounts", duplicates="overwrite"),
    )
    plan = module_plan(config=config, maps=list(config.field_mappings.all()), custom_defs=[], two_way_allowed=True)
    return {"fields": crm_fields_for(plan.pull[0])}


def step_both_ways() -> dict[str, Any]:
    django_setup()
    from books.models import Organization
    from crm_integration.models import ModuleConfig, SyncExtent

    org = Organization.objects.get(slug=ORG)
    ModuleConfig.objects.filter(connection__organization=org, module="customers").update(extent=SyncExtent.BOTH_WAYS)
    return {}


def step_touch(n: int) -> dict[str, Any]:
    """n Books customers changed (as an accountant editing them would: a new phone, updated_at now)."""
    django_setup()
    from django.db.models import Value
    from django.db.models.functions import Concat
    from django.utils import timezone

    from books.models import Contact, Organization

    org = Organization.objects.get(slug=ORG)
    ids = list(Contact.objects.filter(organization=org).order_by("pk").values_list("pk", flat=True)[:n])
    changed = Contact.objects.filter(pk__in=ids).update(
        phone=Concat(Value(f"+1 {time.time_ns() % 1000:03d} "), "id"), updated_at=timezone.now()
    )
    return {"changed": changed}


def step_read(creds: dict[str, str], fields: list[str]) -> dict[str, Any]:
    """The floor: our client reading the same pages, doing nothing with them."""
    from crm_integration.client import Credentials
    from crm_integration.zoho import ZohoCrmClient

    client = ZohoCrmClient(Credentials(**creds))
    started = time.perf_counter()
    n = 0
    for page in client.iter_pages("Accounts", fields=fields):
        n += len(page.records)
    return {"records": n, "seconds": time.perf_counter() - started}


def child_main(argv: list[str]) -> None:
    step, args = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    result = {
        "setup": lambda: step_setup(args["creds"]),
        "both_ways": step_both_ways,
        "touch": lambda: step_touch(args["n"]),
        "read": lambda: step_read(args["creds"], args["fields"]),
    }[step]()
    step_result(result)


# --------------------------------------------------------------------------------------------- orchestration


def _env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["DJANGO_DEBUG"] = "false"
    env.pop("REDIS_URL", None)  # the token cache and the broker are not what is measured
    return env


def _child(step: str, args: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    return run_step("bench.bench_sync", step, args, env)


def _crm_sync(env: dict[str, str]) -> dict[str, Any]:
    """`manage.py crm_sync` in a child process: the run's own time (from its report), the process's wall time and
    its peak RSS (os.wait4 gives this child's rusage alone)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "crm_sync", "--org", ORG, "--no-progress"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=err,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        text, errors = out.read(), err.read()
    if proc.returncode != 0:
        raise RuntimeError(f"crm_sync failed ({proc.returncode}):\n{text[-3000:]}\n{errors[-3000:]}")
    match = re.search(r"in ([0-9.]+) s", text)
    return {
        "run_s": float(match.group(1)) if match else wall,
        "wall_s": wall,
        "peak_mb": usage.ru_maxrss / 1024,
        "output": text,
    }


def run(ctx: Context) -> list[Row]:
    from tests.fixtures.sandbox import start_sandbox, stop_sandbox

    n = ctx.n(100_000)
    n_push = max(100, n // 10)
    database_url, engine = bench_database("bench_sync")
    env = _env(database_url)
    print(f"   bench database: {engine}; seeding the sandbox with {n:,} accounts", flush=True)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench_sync_sandbox_") as tmp:
        server = start_sandbox(
            Path(tmp) / "sandbox.sqlite3", seed={"accounts": n, "contacts": 0, "vendors": 0, "products": 0, "deals": 0}
        )
        try:
            creds = server.credentials_json()
            setup = _child("setup", {"creds": creds}, env)
            floor = _child("read", {"creds": creds, "fields": setup["fields"]}, env)

            # 1. Initial pull.
            server.reset_counters()
            initial = _crm_sync(env)
            calls = server.counters()["calls"].get("GET /crm/v8/Accounts", 0)
            min_calls = math.ceil(n / 200)
            rate = n / initial["run_s"]
            floor_rate = floor["records"] / floor["seconds"]
            rows += [
                Row(BENCH, f"initial pull of {n:,} accounts: records/s", rate, "rec/s", RATE_TARGET, "target ≥ 1,500", rate >= RATE_TARGET),
                Row(BENCH, "  the same pages just read (floor): rec/s", floor_rate, "rec/s", None, f"{floor['seconds']:.1f} s to read"),
                Row(BENCH, "  initial pull: run time", initial["run_s"], "s", floor["seconds"], "s to just read the pages"),
                Row(BENCH, "  initial pull: list calls", calls, "calls", min_calls, "ceil(N/200), within 2%", calls <= min_calls * 1.02),
                Row(BENCH, "  initial pull: worker peak RSS", initial["peak_mb"], "MB", RSS_TARGET_MB, "target < 300 MB", initial["peak_mb"] < RSS_TARGET_MB),
            ]  # fmt: skip

            # 2. Incremental, nothing changed.
            server.reset_counters()
            quiet = _crm_sync(env)
            counters = server.counters()["calls"]
            reads = sum(v for k, v in counters.items() if k.startswith("GET /crm/v8/") and "/settings/" not in k)
            rows += [
                Row(BENCH, f"incremental, {n:,} linked, nothing changed: time", quiet["run_s"], "s", INCREMENTAL_TARGET_S, "target < 1 s", quiet["run_s"] < INCREMENTAL_TARGET_S),
                Row(BENCH, "  incremental: read calls (1 module)", reads, "calls", 1, "target 1 per module", reads <= 1),
                Row(BENCH, "  incremental: process wall time (incl. start-up)", quiet["wall_s"], "s", None, "informational"),
            ]  # fmt: skip

            # 3. Push of changed Books customers.
            _child("both_ways", {}, env)
            _crm_sync(env)  # the first both-ways run: the ID field is made, every record found unchanged
            changed = _child("touch", {"n": n_push}, env)["changed"]
            server.reset_counters()
            push = _crm_sync(env)
            counters = server.counters()["calls"]
            writes = sum(
                v
                for k, v in counters.items()
                if k.split()[0] in ("POST", "PUT") and k.split()[1].startswith("/crm/v8/") and "/settings/" not in k
            )
            max_writes = math.ceil(changed / 100)
            rows += [
                Row(BENCH, f"push of {changed:,} changed customers: write calls", writes, "calls", max_writes, "ceil(n/100)", writes <= max_writes),
                Row(BENCH, "  push: run time", push["run_s"], "s", None, f"{changed / push['run_s']:,.0f} rec/s"),
                Row(BENCH, "  push: worker peak RSS", push["peak_mb"], "MB", RSS_TARGET_MB, "target < 300 MB", push["peak_mb"] < RSS_TARGET_MB),
            ]  # fmt: skip
        finally:
            stop_sandbox(server)
    return rows


if __name__ == "__main__":
    child_main(sys.argv[1:])

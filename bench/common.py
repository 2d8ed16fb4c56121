"""What every benchmark shares: the scale, the rows of the table and how figures are compared to floors."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Row:
    bench: str
    metric: str
    value: float
    unit: str
    floor: float | None = None  # the figure it is compared to (a minimum count, a target, a baseline)
    floor_label: str = ""  # what the floor is, e.g. "ceil(N/200) calls" or "target ≥ 1500"
    ok: bool | None = None  # None: informational only

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Context:
    scale: float  # BENCH_SCALE: 1.0 = the sizes the issues name (e.g. 100,000 accounts)

    def n(self, full: int, minimum: int = 100) -> int:
        return max(minimum, int(full * self.scale))


def context_from_env() -> Context:
    return Context(scale=float(os.environ.get("BENCH_SCALE", "1.0")))


def peak_rss_mb_of_children() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


# ------------------------------------------------------------- the Django side of a bench, in child processes


def django_setup() -> None:
    """For a bench step running in a child process (`python -m bench.bench_x STEP ARGS`)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def step_result(result: dict[str, Any]) -> None:
    """How a child step hands its result back to `run_step`."""
    print("RESULT " + json.dumps(result), flush=True)


def run_step(module: str, step: str, args: dict[str, Any], env: dict[str, str], timeout: int = 3600) -> dict[str, Any]:
    """Runs `python -m <module> STEP ARGS` and returns what the step printed with `step_result`."""
    proc = subprocess.run(
        [sys.executable, "-m", module, step, json.dumps(args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line.removeprefix("RESULT ")))
    raise RuntimeError(f"bench step {step} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")


def bench_database(prefix: str) -> tuple[str, str]:
    """(DATABASE_URL of a fresh, migrated bench database, what it is): `<DATABASE_URL's name>_bench` dropped and
    made again on PostgreSQL, else a new SQLite file."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(url)
        name = parts.path.lstrip("/") or "ledgerbridge"
        bench_name = f"{name}_bench"
        import psycopg

        admin = urlunsplit((parts.scheme.replace("postgres", "postgresql", 1) if parts.scheme == "postgres" else parts.scheme,
                            parts.netloc, "/postgres", parts.query, ""))  # fmt: skip
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{bench_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{bench_name}"')
        database_url, engine = urlunsplit((parts.scheme, parts.netloc, f"/{bench_name}", parts.query, "")), "PostgreSQL"
    else:
        path = Path(tempfile.mkdtemp(prefix=f"{prefix}_")) / "books.sqlite3"
        database_url, engine = f"sqlite:///{path}", "SQLite (set DATABASE_URL=postgres://… for the real figures)"
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_DEBUG": "false"}
    migrated = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if migrated.returncode != 0:
        raise RuntimeError(f"migrate failed: {migrated.stderr[-3000:]}")
    return database_url, engine

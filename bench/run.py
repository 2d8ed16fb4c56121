"""`make bench`: run every bench/bench_*.py, print one table, write bench/results.json.

BENCH_SCALE chooses the size (1.0 = the figures the issues name). BENCH_ONLY=name,name runs a subset."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import sys
import time
import traceback
from pathlib import Path

from bench.common import Row, context_from_env

HERE = Path(__file__).resolve().parent


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.3f}"


def main() -> int:
    ctx = context_from_env()
    only = {s for s in os.environ.get("BENCH_ONLY", "").split(",") if s}
    rows: list[Row] = []
    failures: list[str] = []
    for info in sorted(pkgutil.iter_modules([str(HERE)]), key=lambda m: m.name):
        if not info.name.startswith("bench_"):
            continue
        name = info.name.removeprefix("bench_")
        if only and name not in only:
            continue
        print(f"== {name} (scale {ctx.scale}) ...", flush=True)
        started = time.monotonic()
        try:
            module = importlib.import_module(f"bench.{info.name}")
            rows.extend(module.run(ctx))
        except Exception:
            failures.append(name)
            traceback.print_exc()
        print(f"   done in {time.monotonic() - started:.1f}s", flush=True)
    header = f"{'bench':<14} {'metric':<44} {'value':>14} {'unit':<10} {'compared to':>14}  {'floor / target':<34} ok"
    print("\n" + header + "\n" + "-" * len(header))
    for r in rows:
        verdict = "" if r.ok is None else ("yes" if r.ok else "NO")
        print(
            f"{r.bench:<14} {r.metric:<44} {_fmt(r.value):>14} {r.unit:<10} {_fmt(r.floor):>14}  {r.floor_label:<34} {verdict}"
        )
    out = {"scale": ctx.scale, "rows": [r.as_dict() for r in rows], "failed_benches": failures}
    (HERE / "results.json").write_text(json.dumps(out, indent=2))
    print(f"\nwrote {HERE / 'results.json'}")
    missed = [r for r in rows if r.ok is False]
    if failures or missed:
        print(f"{len(failures)} bench(es) failed to run, {len(missed)} figure(s) missed their target", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

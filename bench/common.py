"""What every benchmark shares: the scale, the rows of the table and how figures are compared to floors."""

from __future__ import annotations

import os
import resource
from dataclasses import asdict, dataclass
from typing import Any


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

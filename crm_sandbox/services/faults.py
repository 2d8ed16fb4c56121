"""Fault injection for `/crm/v8/` calls (never the control API or the pages).

Settings live in the `FaultConfig` row (admin page, `POST /sandbox/api/faults`) and are seeded at start from
CRM_SANDBOX_FAULTS (e.g. "5xx=0.05,429=0.05,slow=0.02,drop=0.02,expired=0.02,slow_ms=1500,after_write=0.01")
and CRM_SANDBOX_FAULT_SEED. Every fault is decided before the call touches data, except `after_write`, which
drops the connection after a write has been committed.
"""

from __future__ import annotations

import os
import random
import threading
from dataclasses import dataclass
from typing import Any

from crm_sandbox.models import FaultConfig

KEYS = {
    "5xx": "rate_5xx",
    "429": "rate_429",
    "slow": "rate_slow",
    "drop": "rate_drop",
    "expired": "rate_expired",
    "after_write": "rate_after_write",
}


@dataclass(frozen=True)
class Decision:
    fault: str | None  # "5xx" | "429" | "drop" | "expired" | None
    slow_ms: int  # 0 when not slowed
    drop_after_write: bool


_lock = threading.Lock()
_config: FaultConfig | None = None
_rng = random.Random()


class FaultSpecError(ValueError):
    pass


def parse_spec(spec: str) -> dict[str, Any]:
    """ "5xx=0.05,slow_ms=1500" → {"rate_5xx": 0.05, "slow_ms": 1500}; a bad part raises naming it."""
    out: dict[str, Any] = {}
    for part in [p.strip() for p in spec.split(",") if p.strip()]:
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep:
            raise FaultSpecError(f"fault setting {part!r} must look like name=value")
        out.update(clean({key: value.strip()}))
    return out


def clean(values: dict[str, Any]) -> dict[str, Any]:
    """Validate names and values from the env, the control API or a form; raise FaultSpecError naming the field."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key in KEYS:
            try:
                rate = float(value)
            except (TypeError, ValueError):
                raise FaultSpecError(f"fault rate {key!r} must be a number between 0 and 1, not {value!r}") from None
            if not 0 <= rate <= 1:
                raise FaultSpecError(f"fault rate {key!r} must be between 0 and 1, not {value!r}")
            out[KEYS[key]] = rate
        elif key == "slow_ms":
            try:
                out["slow_ms"] = int(value)
            except (TypeError, ValueError):
                raise FaultSpecError(f"slow_ms must be a whole number of milliseconds, not {value!r}") from None
            if out["slow_ms"] < 0 or out["slow_ms"] > 120_000:
                raise FaultSpecError("slow_ms must be between 0 and 120000")
        elif key == "seed":
            try:
                out["seed"] = None if value in (None, "") else int(value)
            except (TypeError, ValueError):
                raise FaultSpecError(f"seed must be a whole number, not {value!r}") from None
        else:
            known = ", ".join([*KEYS, "slow_ms", "seed"])
            raise FaultSpecError(f"unknown fault setting {key!r}; known: {known}")
    return out


def faults_set(*, values: dict[str, Any], replace: bool = True) -> FaultConfig:
    """Store fault settings (all rates not given are 0 when `replace`) and reseed the random source."""
    cleaned = clean(values)
    config, _ = FaultConfig.objects.get_or_create(pk=1)
    if replace:
        for attr in KEYS.values():
            setattr(config, attr, 0.0)
        config.slow_ms = 1500
        config.seed = None
    for attr, value in cleaned.items():
        setattr(config, attr, value)
    config.save()
    reload(config)
    return config


def reload(config: FaultConfig | None = None) -> None:
    global _config
    with _lock:
        _config = config or FaultConfig.objects.get_or_create(pk=1)[0]
        _rng.seed(_config.seed)


def init_from_env() -> None:
    spec = os.environ.get("CRM_SANDBOX_FAULTS", "").strip()
    values: dict[str, Any] = parse_spec(spec) if spec else {}
    if os.environ.get("CRM_SANDBOX_FAULT_SEED"):
        values["seed"] = os.environ["CRM_SANDBOX_FAULT_SEED"]
    if values:
        faults_set(values=dict(_unclean(values).items()), replace=True)
    else:
        reload()


def _unclean(values: dict[str, Any]) -> dict[str, Any]:
    reverse = {v: k for k, v in KEYS.items()}
    return {reverse.get(k, k): v for k, v in values.items()}


def as_dict(config: FaultConfig | None = None) -> dict[str, Any]:
    c = config or current()
    return {
        **{name: getattr(c, attr) for name, attr in KEYS.items()},
        "slow_ms": c.slow_ms,
        "seed": c.seed,
    }


def current() -> FaultConfig:
    if _config is None:
        reload()
    assert _config is not None
    return _config


def decide(*, is_write: bool) -> Decision:
    c = current()
    if not any(getattr(c, attr) for attr in KEYS.values()):
        return Decision(None, 0, False)
    with _lock:
        roll = _rng.random()
        slow_roll = _rng.random()
        after_roll = _rng.random()
    fault = None
    edge = 0.0
    for name in ("5xx", "429", "drop", "expired"):
        edge += getattr(c, KEYS[name])
        if roll < edge:
            fault = name
            break
    slow = c.slow_ms if slow_roll < c.rate_slow else 0
    return Decision(fault, slow, is_write and after_roll < c.rate_after_write)

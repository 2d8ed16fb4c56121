"""Benchmarks, run by `make bench`. Each `bench/bench_*.py` module exposes `run(ctx) -> list[Row]`."""

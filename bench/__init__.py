"""Benchmarks: each ``bench_<stage>.py`` exposes ``run(quick: bool = False) -> list[dict]``."""

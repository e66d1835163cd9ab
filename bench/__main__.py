"""``make bench``: run every benchmark and write one Markdown table per stage.

Each ``bench/bench_<stage>.py`` module exposes ``run(quick: bool = False) ->
list[dict]``; its rows measure epi and, in the same run, the peer named in
its issue (pandas, R, medspaCy, PyMC's default sampler …). Results go to
``bench/results/<stage>.md`` and ``bench/results/<stage>.json``.

Usage: ``python -m bench [--quick] [stage ...]``.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
import time
from pathlib import Path

from epi.io import atomic_write_json, atomic_write_text

HERE = Path(__file__).parent


def _markdown(rows: list[dict]) -> str:
    if not rows:
        return "_no rows_\n"
    cols = list(dict.fromkeys(k for row in rows for k in row))
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in rows:
        cells = []
        for c in cols:
            v = row.get(c, "")
            cells.append(f"{v:.4g}" if isinstance(v, float) else str(v))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks named on the command line (all by default)."""
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("stages", nargs="*", help="e.g. synth cohort nlp validation bayes")
    args = parser.parse_args(argv)
    available = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    stages = args.stages or available
    unknown = sorted(set(stages) - set(available))
    if unknown:
        print(f"unknown benchmark(s) {unknown}; available: {available}", file=sys.stderr)
        return 2
    machine = f"{platform.machine()}, {platform.python_version()}, cores={_cores()}"
    for stage in stages:
        module = importlib.import_module(f"bench.bench_{stage}")
        start = time.perf_counter()
        rows = module.run(quick=args.quick)
        took = time.perf_counter() - start
        header = f"# Benchmark: {stage}\n\nMachine: {machine}. Wall time {took:.0f} s.\n\n"
        atomic_write_text(HERE / "results" / f"{stage}.md", header + _markdown(rows))
        atomic_write_json(HERE / "results" / f"{stage}.json", {"machine": machine, "rows": rows})
        print(header + _markdown(rows))
    return 0


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    sys.exit(main())

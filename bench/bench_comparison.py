"""Benchmark: the full added-value comparison of 5 arms with B = 200 on 20,000 persons.

The issue's target: every arm x model refitted in each of B = 200 paired
resamples, all differences, NRI/IDI, net benefit at the protocol's 50
thresholds and calibration of every arm scored on the resample and on the
original data, for 5 arms (a reference and 4 extended) on 20,000 persons,
in at most 3 minutes on 2 cores.

Data: a reference "GP" block of 10 predictors and hospital (10), municipal
(8, no true effect) and notes (8) blocks; arms ``gp``, ``gp_hosp``,
``gp_muni``, ``gp_notes``, ``all`` (36 predictors). Weibull event times,
uniform censoring, horizon 1826 days, about 15 % events by the horizon.
Model: ``epi.models.make_model("cox")`` (the default engine) through the
same factory the pipeline uses (missing-indicator handler + Cox).

Rows: wall time of ``compare_arms`` with ``n_jobs`` = 2 (and 1 in quick
mode), the CPU seconds spent in the resamples and the per-fit share.

Usage: ``python bench/bench_comparison.py [--quick]`` or ``python -m bench comparison``.
"""

from __future__ import annotations

import os
import sys
import time
from functools import partial

import numpy as np
import pandas as pd

from epi.models import make_model
from epi.protocol import ComparisonSpec, load_protocol
from epi.study import ArmModel, comparison_settings
from epi.validation.comparison import compare_arms

HORIZON = 1826.0
TARGET_S = 180.0
BLOCKS = {"gp": 10, "hosp": 10, "muni": 8, "note": 8}
EFFECTS = {"gp": 0.25, "hosp": 0.2, "muni": 0.0, "note": 0.1}
ARMS = {
    "gp": ["gp"],
    "gp_hosp": ["gp", "hosp"],
    "gp_muni": ["gp", "muni"],
    "gp_notes": ["gp", "note"],
    "all": ["gp", "hosp", "muni", "note"],
}


def simulate(n: int, seed: int = 20251125) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Outcome and the design matrix of each arm for ``n`` persons."""
    rng = np.random.default_rng(seed)
    idx = pd.RangeIndex(n, name="person_id")
    blocks, lp = {}, np.zeros(n)
    for name, k in BLOCKS.items():
        x = rng.normal(size=(n, k))
        x[:, : k // 2] = x[:, : k // 2] > 0.8  # half binary, as codes in a look-back
        lp += x @ (EFFECTS[name] * rng.uniform(0.5, 1.5, k))
        blocks[name] = pd.DataFrame(x, index=idx, columns=[f"{name}__x{i}" for i in range(k)])
    t = rng.weibull(1.2, n) * 15000 * np.exp(-(lp - lp.mean()) / 1.2)
    c = rng.uniform(400, 4000, n)
    outcome = pd.DataFrame({"duration": np.minimum(t, c), "event": (t <= c).astype(int)}, idx)
    X = {arm: pd.concat([blocks[b] for b in sets], axis=1) for arm, sets in ARMS.items()}
    return outcome, X


def _protocol(bootstrap: int):
    p = load_protocol("protocols/hf_in_t2d.yaml")
    return p.model_copy(
        update={
            "comparisons": ComparisonSpec(reference="gp", arms={a: ["gp"] for a in ARMS}),
            "validation": p.validation.model_copy(update={"bootstrap": bootstrap}),
            "outcome": p.outcome.model_copy(update={"horizon_days": HORIZON}),
        }
    )


def one_run(n: int, bootstrap: int, n_jobs: int) -> dict:
    """Time the apparent fits and compare_arms for one setting."""
    outcome, X = simulate(n)
    protocol = _protocol(bootstrap)
    factory = partial(make_model, "cox")
    start = time.perf_counter()
    fits = []
    for arm, x in X.items():
        fitted = factory().fit(x, outcome)
        fits.append(
            ArmModel(arm, "cox", "cox", x.shape[1], fitted, fitted.predict_risk(x, HORIZON), {})
        )
    apparent_s = time.perf_counter() - start
    start = time.perf_counter()
    factories = {(a, "cox"): factory for a in X}
    res = compare_arms(fits, outcome, X, factories, n_jobs=n_jobs, **comparison_settings(protocol))
    wall = time.perf_counter() - start
    refits = bootstrap * len(X)
    d = {c["arm"]: c["differences"]["harrell_c"] for c in res["comparisons"]}
    return {
        "n": n,
        "arms": len(X),
        "B": bootstrap,
        "n_jobs": n_jobs,
        "events": res["events"],
        "apparent_fits_s": apparent_s,
        "compare_wall_s": wall,
        "cpu_s_resamples": res["cpu_seconds_resamples"],
        "cpu_s_per_refit_and_score": res["cpu_seconds_resamples"] / refits,
        "target_s": TARGET_S if (n, bootstrap) == (20_000, 200) else "",
        "delta_c_gp_hosp": d["gp_hosp"]["estimate"],
        "delta_c_gp_muni": d["gp_muni"]["estimate"],
        "delta_c_gp_muni_ci": f"{d['gp_muni']['lower']:.4f} to {d['gp_muni']['upper']:.4f}",
    }


def run(quick: bool = False) -> list[dict]:
    """Benchmark rows (see the module docstring)."""
    if quick:
        return [one_run(2_000, 10, 1), one_run(2_000, 10, 2)]
    return [one_run(20_000, 200, min(2, os.cpu_count() or 1))]


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)

"""Benchmark: Harrell's bootstrap optimism correction of a 30-term Cox model.

The issue's target: optimism-corrected validation with B = 200 of a Cox
model with 30 predictors (5 of them spline terms) on 50,000 persons in at
most 2 minutes on 2 cores, with the ratio to R's ``rms::validate`` on the
same data in the same run when ``Rscript`` is present.

Data: 25 covariates (10 binary, 15 normal) plus age as a restricted cubic
spline with 6 knots (5 terms: 30 model terms), Weibull event times with a
non-linear age effect, uniform censoring; horizon 1826 days. Every resample
refits the whole procedure, spline knots included.

Rows:

* ``epi.models.CoxModel`` (its default engine) - what a study runs.
* ``lean numpy Cox`` (Breslow ties, defined here) - the same procedure with
  a minimal fit, to show what validation itself costs.
* ``rms::validate`` on ``cph(Surv(time, status) ~ rcs(age, 6) + x1 + ... +
  x25)`` (one R process; Dxy etc. over the whole follow-up).

``epi`` scores every resample twice (resample and original data) with all
12 measures at the horizon, or with Harrell's C only (closest to rms,
which computes Dxy, R2, slope, D, U, Q, g).

``cpu_seconds`` sums the CPU time of every resample (in the worker processes)
and of the main process, so ``cpu_per_core_s`` is the wall time the run
would take with the cores to itself - wall ``seconds`` on a shared machine
mostly measure the other load.

Usage: ``python bench/bench_validation.py [--quick]`` or ``python -m bench validation``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from epi.validation import bootstrap_optimism

HORIZON = 1826.0
N_LINEAR = 25
AGE_KNOTS = 6
TARGET_S = 120.0


def simulate(n: int, seed: int = 20240501) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Covariates and outcome (days) of ``n`` persons."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, N_LINEAR))
    x[:, :10] = x[:, :10] > 0.5
    age = rng.uniform(50, 90, n)
    beta = rng.normal(0, 0.15, N_LINEAR)
    lp = x @ beta + 0.002 * (age - 70) ** 2 + 0.03 * (age - 70)
    t = rng.weibull(1.2, n) * 3000 * np.exp(-lp / 1.2)
    c = rng.uniform(365, 3650, n)
    idx = pd.RangeIndex(n, name="person_id")
    X = pd.DataFrame(x, columns=[f"x{i + 1}" for i in range(N_LINEAR)], index=idx)
    X["age"] = age
    outcome = pd.DataFrame(
        {"duration": np.floor(np.minimum(t, c)) + 1.0, "event": (t <= c).astype(int)}, index=idx
    )
    return X, outcome


def _rcs(x: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Harrell's restricted cubic spline basis including the linear term."""
    k = knots
    cols = [x]
    for j in range(k.size - 2):
        cols.append(
            (
                np.maximum(x - k[j], 0) ** 3
                - np.maximum(x - k[-2], 0) ** 3 * (k[-1] - k[j]) / (k[-1] - k[-2])
                + np.maximum(x - k[-1], 0) ** 3 * (k[-2] - k[j]) / (k[-1] - k[-2])
            )
            / (k[-1] - k[0]) ** 2
        )
    return np.column_stack(cols)


class LeanCox:
    """Cox model by Newton-Raphson on the Breslow partial likelihood (numpy only).

    Age enters as a restricted cubic spline with knots at Harrell's default
    quantiles of the training data (``rms::rcs(age, 6)``), recomputed in
    every fit. Risk = ``1 - exp(-H0(h) exp(lp))`` with the Breslow baseline.
    """

    def _design(self, X: pd.DataFrame) -> np.ndarray:
        lin = X.drop(columns="age").to_numpy(float)
        return np.column_stack([lin, _rcs(X["age"].to_numpy(float), self.knots_)]) - self.mean_

    def fit(self, X: pd.DataFrame, outcome: pd.DataFrame) -> LeanCox:
        age = X["age"].to_numpy(float)
        self.knots_ = np.quantile(age, [0.05, 0.23, 0.41, 0.59, 0.77, 0.95])
        self.mean_ = 0.0
        Z = self._design(X)
        self.mean_ = Z.mean(axis=0)
        Z = Z - self.mean_
        t = outcome["duration"].to_numpy(float)
        d = (outcome["event"].to_numpy() == 1).astype(float)
        order = np.argsort(-t, kind="stable")
        Z, t, d = Z[order], t[order], d[order]
        # last position of each tied time in descending order = its whole risk set
        last = np.flatnonzero(np.r_[t[1:] != t[:-1], True])
        d_k = np.add.reduceat(d, np.r_[0, last[:-1] + 1])
        ev = d_k > 0
        beta = np.zeros(Z.shape[1])
        for _ in range(30):
            eta = Z @ beta
            w = np.exp(eta - eta.max())
            s0 = np.cumsum(w)[last][ev]
            s1 = np.cumsum(w[:, None] * Z, axis=0)[last][ev]
            dk = d_k[ev]
            grad = d @ Z - (dk / s0) @ s1
            # sum_k d_k S2_k / S0_k = Z' diag(w_i c_i) Z with c_i = sum over risk sets containing i
            inc = np.zeros(last.size)
            inc[ev] = dk / s0
            c = np.cumsum(inc[::-1])[::-1]  # sets at or after each person's time (descending)
            group = np.repeat(np.arange(last.size), np.diff(np.r_[-1, last]))
            ci = c[group]
            m = s1 / s0[:, None]
            hess = (Z * (w * ci)[:, None]).T @ Z - (m * dk[:, None]).T @ m
            step = np.linalg.solve(hess, grad)
            beta = beta + step
            if np.max(np.abs(step)) < 1e-9:
                break
        eta = Z @ beta
        w = np.exp(eta)
        s0 = np.cumsum(w)[last]
        times = t[last][::-1]
        self.beta_ = beta
        self.base_times_ = times
        self.base_cumhaz_ = np.cumsum((d_k / s0)[::-1])
        return self

    def predict_risk(self, X: pd.DataFrame, horizon: float) -> np.ndarray:
        k = np.searchsorted(self.base_times_, horizon, side="right")
        h0 = self.base_cumhaz_[k - 1] if k > 0 else 0.0
        return 1.0 - np.exp(-h0 * np.exp(self._design(X) @ self.beta_))


def _epi_cox():
    from epi.models import CoxModel

    return CoxModel(splines={"age": AGE_KNOTS})


def _r_validate(X: pd.DataFrame, outcome: pd.DataFrame, B: int) -> dict | None:
    if shutil.which("Rscript") is None:
        return None
    script = f"""
suppressPackageStartupMessages(library(rms))
d <- read.csv(commandArgs(TRUE)[1])
f <- as.formula(paste("Surv(time, status) ~ rcs(age, {AGE_KNOTS}) +",
                      paste0("x", 1:{N_LINEAR}, collapse = " + ")))
set.seed(1)
st <- system.time({{
  fit <- cph(f, data = d, x = TRUE, y = TRUE, surv = TRUE)
  v <- rms::validate(fit, B = {B})
}})
cat(sprintf("%.6f %.6f %.6f %.6f\\n", st[["elapsed"]], st[["user.self"]] + st[["sys.self"]],
            0.5 + v["Dxy", "index.orig"] / 2, 0.5 + v["Dxy", "index.corrected"] / 2))
"""
    with tempfile.TemporaryDirectory() as tmp:
        data = X.assign(time=outcome["duration"], status=outcome["event"])
        path = Path(tmp) / "d.csv"
        data.to_csv(path, index=False)
        rfile = Path(tmp) / "v.R"
        rfile.write_text(script)
        start = time.perf_counter()
        res = subprocess.run(
            ["Rscript", str(rfile), str(path)], capture_output=True, text=True, check=False
        )
        wall = time.perf_counter() - start
    if res.returncode != 0:
        return {"error": res.stderr.strip().splitlines()[-1:]}
    el, cpu, c_orig, c_corr = (float(v) for v in res.stdout.split())
    return {
        "seconds": el,
        "cpu_seconds": cpu,
        "wall_seconds": wall,
        "apparent_c": c_orig,
        "corrected_c": c_corr,
    }


def run(quick: bool = False) -> list[dict]:
    """Benchmark rows (see the module docstring)."""
    n, B = (5_000, 20) if quick else (50_000, 200)
    n_jobs = min(2, len(os.sched_getaffinity(0)))
    X, outcome = simulate(n)
    rows: list[dict] = []
    setups = [
        ("epi.models.CoxModel", _epi_cox, None),
        ("lean numpy Cox", LeanCox, None),
        ("lean numpy Cox", LeanCox, ["harrell_c"]),
    ]
    for label, factory, measures in setups:
        kw = {} if measures is None else {"measures": measures}
        start, cpu0 = time.perf_counter(), time.process_time()
        res = bootstrap_optimism(
            factory, X, outcome, HORIZON, n_bootstrap=B, seed=1, n_jobs=n_jobs, **kw
        )
        took = time.perf_counter() - start
        # CPU time of the resamples (in the workers) plus this process: robust to other
        # load on a shared machine; cpu / cores is the wall time with the cores to itself.
        cpu = float(res.per_split["cpu_seconds"].sum()) + time.process_time() - cpu0
        rows.append(
            {
                "task": f"epi bootstrap_optimism, {label}",
                "measures": "all 12" if measures is None else "harrell_c",
                "n": n,
                "B": B,
                "cores": n_jobs,
                "seconds": took,
                "cpu_seconds": cpu,
                "cpu_per_core_s": cpu / n_jobs,
                "target_s": TARGET_S if not quick else "",
                "apparent_c": res.apparent["harrell_c"],
                "corrected_c": res.estimate["harrell_c"],
                "failed": res.n_failed,
            }
        )
    r = _r_validate(X, outcome, B)
    if r is not None and "error" not in r:
        rows.append(
            {
                "task": "R rms::validate(cph), 1 core",
                "measures": "Dxy, R2, slope, D, U, Q, g",
                "n": n,
                "B": B,
                "cores": 1,
                "seconds": r["seconds"],
                "cpu_seconds": r["cpu_seconds"],
                "cpu_per_core_s": r["cpu_seconds"],
                "target_s": "",
                "apparent_c": r["apparent_c"],
                "corrected_c": r["corrected_c"],
                "failed": 0,
            }
        )
        for row in rows[:-1]:
            row["ratio_to_R"] = row["seconds"] / r["seconds"]
            row["cpu_ratio_to_R"] = row["cpu_seconds"] / r["cpu_seconds"]
    elif r is not None:
        rows.append({"task": "R rms::validate", "error": str(r["error"])})
    return rows


if __name__ == "__main__":
    quick = "--quick" in sys.argv[1:]
    for row in run(quick=quick):
        print(row)

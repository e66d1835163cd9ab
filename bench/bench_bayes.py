"""Benchmark of the Bayesian Weibull PH model: PyMC's NUTS against nutpie in the same run.

Issue 9's target: 20,000 persons, 30 predictors, about 200 practices and 11
municipalities, 2 chains x 1,000 draws after 1,000 tuning steps in at most
3 minutes on 2 cores. ``run()`` simulates such data (crossed random
intercepts, fixed seed), fits it with every available sampler and returns
one row per sampler. Wall time is the whole ``sample`` call (compilation
included); ESS/s is the smallest bulk ESS over all parameters divided by it.
CPU seconds (this process and the chain processes) are reported too: on a
shared machine wall time depends on the load, CPU time much less (with 2
chains on 2 free cores the wall time is about half the CPU time).

A second table (`run_piecewise`) measures the piecewise-exponential model on
a smaller design with few, large municipalities (3,000 persons, 10
predictors, 100 practices, 11 municipalities; "auto" centres the
municipalities): its baseline sampled as an intercept plus zero-sum interval
offsets, with the municipalities centred hierarchically on that intercept
(epi's model), against the earlier parametrisation with one free log rate per
interval and no intercept to centre on (``free log rates``; the same prior,
hence the same posterior). ``run()`` returns both tables' rows.

Run ``python -m bench.bench_bayes`` (``--quick`` for a small smoke run,
``--piecewise`` for the second table only).
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np
import pandas as pd

N_PERSONS, N_PREDICTORS, N_PRACTICES, N_MUNICIPALITIES = 20_000, 30, 200, 11


def simulate(
    n: int = N_PERSONS,
    p: int = N_PREDICTORS,
    n_practices: int = N_PRACTICES,
    n_municipalities: int = N_MUNICIPALITIES,
    seed: int = 2024,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Weibull PH cohort with crossed practice and municipality intercepts."""
    rng = np.random.default_rng(seed)
    prefixes = ["demo", "gp", "hosp", "muni"]
    cols = [f"{prefixes[j % 4]}__x{j}" for j in range(p)]
    X = pd.DataFrame(rng.normal(size=(n, p)), columns=cols)
    X.iloc[:, ::3] = (X.iloc[:, ::3] > 0.5).astype(float)  # a third are indicators
    beta = rng.normal(0, 0.15, p)
    home = rng.integers(0, n_municipalities, n_practices)
    size = rng.gamma(2.0, 1.0, n_practices)  # unequal practice sizes
    prac = rng.choice(n_practices, n, p=size / size.sum())
    muni = np.where(rng.random(n) < 0.15, rng.integers(0, n_municipalities, n), home[prac])
    u = rng.normal(0, 0.4, n_practices)
    v = rng.normal(0, 0.25, n_municipalities)
    eta = np.log(0.05) + X.to_numpy() @ beta + u[prac] + v[muni]
    t1 = (rng.exponential(1.0, n) / np.exp(eta)) ** (1 / 1.2)
    death = rng.exponential(1 / 0.04, n)
    cens = rng.uniform(1, 5, n)
    t = np.minimum.reduce([t1, death, cens])
    event = np.where(t == t1, 1, np.where(t == death, 2, 0))
    X["practice_id"] = [f"P{i:03d}" for i in prac]
    X["municipality_code"] = [f"{101 + i}" for i in muni]
    X.index = pd.Index([f"p{i}" for i in range(n)], name="person_id")
    return X, pd.DataFrame({"duration": t * 365.25, "event": event}, index=X.index)


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (PyMC's chain processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _free_log_rate_model(design: object, n_intervals: int) -> object:
    """The piecewise-exponential model as it was: one free log rate per interval, no intercept.

    ``log_rate[j] ~ Normal(log crude rate, baseline_log_rate_sd)``, independent,
    which is the same prior as epi's intercept + zero-sum offsets; without an
    intercept, hierarchical centring has nothing to centre a group on.
    """
    import pymc as pm
    import pytensor.tensor as pt

    from epi.models.bayes import Priors, resolve_parametrisation
    from epi.models.bayes._factories import (
        _cuts,
        _linear_predictor,
        _log_crude_rate,
        split_episodes,
    )

    priors = Priors()
    cuts = _cuts(design, None, n_intervals)
    rows, ints, expo, dead = split_episodes(design.time, design.event, cuts)
    coords = design.coords() | {"interval": [str(j) for j in range(len(cuts) + 1)]}
    with pm.Model(coords=coords) as model:
        eta = _linear_predictor(
            design,
            priors,
            0.0,
            intercept=False,
            parametrisation=resolve_parametrisation(design, priors),
        )
        log_rate = pm.Normal(
            "log_rate",
            mu=_log_crude_rate(design),
            sigma=priors.baseline_log_rate_sd,
            dims="interval",
        )
        pm.Poisson("events", mu=pt.exp(log_rate[ints] + eta[rows] + np.log(expo)), observed=dead)
    return model


def _measure(model: object, sampler: str, draws: int, tune: int) -> dict:
    """Sample ``model`` (seed 1, 2 chains on 2 cores); wall and CPU time and diagnostics."""
    from epi.models.bayes import check_diagnostics, sample

    cpu0 = _cpu_seconds()
    t0 = time.perf_counter()
    idata = sample(model, seed=1, draws=draws, tune=tune, chains=2, cores=2, sampler=sampler)
    wall = time.perf_counter() - t0
    cpu = _cpu_seconds() - cpu0
    diag = check_diagnostics(idata, warn=False)
    table = diag["table"]
    return {
        "sampler": sampler,
        "wall_s": round(wall, 1),
        "min_ess_bulk": round(diag["min_ess_bulk"], 1),
        "ess_per_s": round(diag["min_ess_bulk"] / wall, 2),
        "cpu_s": round(cpu, 1),
        "ess_per_cpu_s": round(diag["min_ess_bulk"] / cpu, 2),
        "divergences": diag["divergences"],
        "max_r_hat": round(diag["max_r_hat"], 4),
        "worst_ess": str(table["ess_bulk"].idxmin()),
        "worst_r_hat": str(table["r_hat"].idxmax()),
    }


def run_piecewise(quick: bool = False) -> list[dict]:
    """Piecewise-exponential model, epi's baseline against free log rates; per sampler.

    Parameters
    ----------
    quick : bool
        300 draws after 300 tuning steps instead of 1,000 after 1,000 (same data).

    Returns
    -------
    list of dict
        Keys ``model`` ("piecewise exp." or "piecewise exp., free log rates"),
        ``parametrisation`` of the groups, then as `run`.
    """
    from epi.models.bayes import (
        Priors,
        available_samplers,
        build_piecewise_exponential_model,
        prepare_design,
        resolve_parametrisation,
    )

    X, outcome = simulate(n=3000, p=10, n_practices=100, n_municipalities=11)
    draws = tune = 300 if quick else 1000
    n_intervals = 6
    design = prepare_design(X, outcome, groups=("practice_id", "municipality_code"))
    param = resolve_parametrisation(design, Priors())
    rows = []
    for sampler in available_samplers():
        for label, build in (
            ("piecewise exp., free log rates", lambda: _free_log_rate_model(design, n_intervals)),
            (
                "piecewise exp.",
                lambda: build_piecewise_exponential_model(design, n_intervals=n_intervals),
            ),
        ):
            row = {"model": label, **_measure(build(), sampler, draws, tune)}
            row |= {
                "parametrisation": ", ".join(f"{g}: {v}" for g, v in param.items()),
                "persons": len(X),
                "events": int(design.event.sum()),
                "predictors": len(design.predictors),
                "practices": len(design.levels["practice_id"]),
                "municipalities": len(design.levels["municipality_code"]),
                "intervals": n_intervals,
                "chains_x_draws": f"2x{draws} (+{tune} tune)",
            }
            rows.append(row)
    return rows


def run(quick: bool = False) -> list[dict]:
    """Fit the benchmark model with each available sampler; one result row per sampler.

    Parameters
    ----------
    quick : bool
        2,000 persons, 10 predictors, 40 practices, 200 draws after 200 tuning
        steps (a smoke test of the harness, not the target).

    Returns
    -------
    list of dict
        Keys ``model``, ``sampler``, ``wall_s``, ``min_ess_bulk``, ``ess_per_s``,
        ``divergences``, ``max_r_hat``, ``worst_ess`` and ``worst_r_hat`` (the
        parameters with the smallest bulk ESS and the largest R-hat), plus the
        problem size; then the rows of `run_piecewise`.
    """
    from epi.models.bayes import available_samplers, build_weibull_ph_model, prepare_design

    if quick:
        X, outcome = simulate(n=2000, p=10, n_practices=40, n_municipalities=11)
        draws = tune = 200
    else:
        X, outcome = simulate()
        draws = tune = 1000
    groups = ("practice_id", "municipality_code")
    design = prepare_design(X, outcome, groups=groups)
    rows = []
    for sampler in available_samplers():
        rows.append(
            {
                "model": "weibull",
                **_measure(build_weibull_ph_model(design), sampler, draws, tune),
                "persons": len(X),
                "events": int((outcome["event"] == 1).sum()),
                "predictors": len(design.predictors),
                "practices": len(design.levels["practice_id"]),
                "municipalities": len(design.levels["municipality_code"]),
                "chains_x_draws": f"2x{draws} (+{tune} tune)",
            }
        )
    return rows + run_piecewise(quick)


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    rows = run_piecewise(quick) if "--piecewise" in sys.argv else run(quick)
    print(pd.DataFrame(rows).to_string(index=False))

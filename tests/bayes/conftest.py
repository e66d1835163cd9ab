"""Shared fixtures of the Bayesian model tests: a small crossed-cluster Weibull PH simulator.

Warning filters (pytest runs with warnings as errors):

- PyTensor warns once per process that it "could not link to a BLAS
  installation" (a pip-installed PyTensor; it falls back to NumPy's BLAS).
  The message is harmless for these tests and not epi's to fix. The same
  filter in ``pyproject.toml`` would read::

      "ignore:PyTensor could not link to a BLAS installation:UserWarning"
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "filterwarnings", "ignore:PyTensor could not link to a BLAS installation:UserWarning"
    )
    warnings.filterwarnings(
        "ignore", message="PyTensor could not link to a BLAS installation", category=UserWarning
    )


#: Truth of `simulate_crossed` (log hazard ratios per unit, SDs on the log-hazard scale).
TRUTH = {
    "coef": {"demo__age": 0.5, "gp__x": -0.3, "hosp__y": 0.2},
    "weibull_shape": 1.3,
    "sigma_practice_id": 0.5,
    "sigma_municipality_code": 0.3,
    "rate": 0.08,
}


def simulate_crossed(
    n: int = 2000, n_practices: int = 40, n_municipalities: int = 8, seed: int = 1
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Weibull PH data with crossed practice and municipality intercepts.

    ``H(t) = exp(log(rate) + x·beta + u_practice + v_municipality) t^k`` (t in
    years); practices sit mostly inside one municipality but 20 % of persons
    live in another (crossed, not nested). Competing death (exponential,
    0.05/year, ``event == 2``) and uniform administrative censoring at 2-5
    years.
    """
    rng = np.random.default_rng(seed)
    t = TRUTH
    home = rng.integers(0, n_municipalities, n_practices)
    prac = rng.integers(0, n_practices, n)
    muni = np.where(rng.random(n) < 0.2, rng.integers(0, n_municipalities, n), home[prac])
    u = rng.normal(0, t["sigma_practice_id"], n_practices)
    v = rng.normal(0, t["sigma_municipality_code"], n_municipalities)
    X = pd.DataFrame(
        {
            "demo__age": rng.normal(0, 1, n),
            "gp__x": rng.binomial(1, 0.3, n).astype(float),
            "hosp__y": rng.normal(0, 1, n),
        }
    )
    beta = np.array([t["coef"][c] for c in X.columns])
    eta = np.log(t["rate"]) + X.to_numpy() @ beta + u[prac] + v[muni]
    t1 = (rng.exponential(1.0, n) / np.exp(eta)) ** (1 / t["weibull_shape"])
    death = rng.exponential(1 / 0.05, n)
    cens = rng.uniform(2, 5, n)
    time = np.minimum.reduce([t1, death, cens])
    event = np.where(time == t1, 1, np.where(time == death, 2, 0))
    X["practice_id"] = [f"P{i:03d}" for i in prac]
    X["municipality_code"] = [f"M{i:02d}" for i in muni]
    X.index = pd.Index([f"p{i}" for i in range(n)], name="person_id")
    outcome = pd.DataFrame({"duration": time * 365.25, "event": event}, index=X.index)
    return X, outcome, {"u": u, "v": v}


@pytest.fixture(scope="session")
def crossed() -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    return simulate_crossed()

"""The regularised horseshoe, sampled: a wide block with three signals and few events."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from epi.exceptions import DiagnosticsWarning
from epi.models import CoxModel
from epi.models.bayes import BayesWeibullPHModel, build_weibull_ph_model, posterior_summary
from epi.models.bayes._factories import (
    DEFAULT_TARGET_ACCEPT,
    HORSESHOE_TARGET_ACCEPT,
    default_target_accept,
)

#: Log hazard ratios per SD of the three signals; the other columns are null.
SIGNALS = {"hosp__w00": 0.7, "hosp__w01": -0.6, "hosp__w02": 0.5}
P = 24


def simulate_wide(
    n: int = 600, p: int = P, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Weibull PH (shape 1.2) with ``p`` standard-normal columns, three of them signals."""
    rng = np.random.default_rng(seed)
    cols = [f"hosp__w{j:02d}" for j in range(p)]
    X = pd.DataFrame(rng.normal(size=(n, p)), columns=cols)
    beta = np.array([SIGNALS.get(c, 0.0) for c in cols])
    eta = np.log(0.06) + X.to_numpy() @ beta
    t1 = (rng.exponential(1.0, n) / np.exp(eta)) ** (1 / 1.2)
    cens = rng.uniform(1, 4, n)
    time = np.minimum(t1, cens)
    X.index = pd.Index([f"p{i}" for i in range(n)], name="person_id")
    outcome = pd.DataFrame(
        {"duration": time * 365.25, "event": (t1 <= cens).astype(int)}, index=X.index
    )
    return X, outcome, beta


def test_horseshoe_models_get_a_higher_target_accept() -> None:
    X, outcome, _ = simulate_wide(n=200)
    assert default_target_accept(build_weibull_ph_model(X, outcome)) == HORSESHOE_TARGET_ACCEPT
    normal = build_weibull_ph_model(X, outcome, priors={"coef": "normal"})
    assert default_target_accept(normal) == DEFAULT_TARGET_ACCEPT == 0.9


@pytest.mark.slow
def test_horseshoe_finds_signals_and_shrinks_nulls() -> None:
    """Diagnostics pass; signals' 90 % intervals exclude 0 and cover the truth; nulls shrunk.

    600 persons, 120 events, 24 columns in one block (``priors.coef="auto"``
    puts it under the horseshoe), three signals. Sampled at
    `default_target_accept` (0.99): at 0.9 the same fit had 5 divergent
    transitions (data seeds 1 and 2: 3 and 8). Seeds: data 0, sampling 3, the
    first tried.
    """
    X, outcome, beta = simulate_wide()
    # no target_accept given: the model takes default_target_accept's 0.99 itself
    model = BayesWeibullPHModel(draws=1000, tune=1000, chains=2, cores=1, seed=3, sampler="pymc")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DiagnosticsWarning)
        model.fit(X, outcome)
    free = {v.name for v in model.model_.free_RVs}
    assert {"hs_tau_hosp", "hs_lambda_hosp", "hs_c2_hosp", "hs_z_hosp"} <= free
    d = model.diagnostics_
    assert d["ok"] and d["divergences"] == 0
    s = posterior_summary(model, prob=0.9).loc[[f"coef[{c}]" for c in X.columns]]
    signal = beta != 0
    lo, hi = s["lower"].to_numpy(), s["upper"].to_numpy()
    assert np.all((lo[signal] > 0) | (hi[signal] < 0)), s[signal]
    assert np.all((lo[signal] <= beta[signal]) & (beta[signal] <= hi[signal])), s[signal]
    # the nulls: far closer to 0 than the unpenalised (Cox partial-likelihood) estimates
    # (measured: mean |estimate| 0.035 against 0.107, largest 0.12 against 0.25)
    mle = np.abs(CoxModel().fit(X, outcome).coef_.to_numpy()[~signal])
    post_null = np.abs(s["mean"].to_numpy()[~signal])
    assert post_null.mean() < 0.5 * mle.mean(), (post_null, mle)
    assert post_null.max() < 0.6 * mle.max(), (post_null, mle)
    assert ((lo[~signal] > 0) | (hi[~signal] < 0)).sum() <= 1

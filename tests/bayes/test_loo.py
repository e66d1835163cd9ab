"""PSIS leave-one-out of the Bayesian survival models: arviz, exact refits, optimism, bad input.

Small designs (250-300 persons, 600-1000 draws) so that the file runs in about
a minute; the exact leave-one-out refit is marked ``slow``.
"""

from __future__ import annotations

import json
import warnings

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytest

from epi.exceptions import ModelError, StatisticalWarning
from epi.models import WeibullModel
from epi.models.bayes import (
    BayesPiecewiseExponentialModel,
    BayesWeibullPHModel,
    LooResult,
    Priors,
    loo_risk,
    pointwise_log_likelihood,
    psis_k_threshold,
)
from epi.models.bayes._factories import split_episodes
from epi.validation import harrell_c

from .conftest import simulate_crossed

GROUPS = ("practice_id", "municipality_code")
HORIZON = 730.5
N_NOISE = 5


def _overfit_design() -> tuple[pd.DataFrame, pd.DataFrame]:
    """300 persons, 12 practices, 3 true and 5 noise predictors under a wide Normal prior."""
    X, outcome, _ = simulate_crossed(n=300, n_practices=12, n_municipalities=4, seed=3)
    rng = np.random.default_rng(0)
    for j in range(N_NOISE):
        X.insert(3 + j, f"noise__z{j}", rng.normal(size=len(X)))
    return X, outcome


WEIBULL_KW = {
    "groups": GROUPS,
    "priors": Priors(coef="normal", coef_sd=1.0),
    "draws": 500,
    "tune": 500,
    "chains": 2,
    "cores": 1,
    "seed": 5,
    "sampler": "pymc",
    "diagnostics": False,  # short chains: the tests check LOO, not convergence
}


@pytest.fixture(scope="module")
def overfit() -> tuple[pd.DataFrame, pd.DataFrame]:
    return _overfit_design()


@pytest.fixture(scope="module")
def weibull(overfit: tuple) -> BayesWeibullPHModel:
    return BayesWeibullPHModel(**WEIBULL_KW).fit(*overfit)


@pytest.fixture(scope="module")
def weibull_loo(weibull: BayesWeibullPHModel) -> LooResult:
    return loo_risk(weibull, HORIZON, warn=False)


@pytest.fixture(scope="module")
def pe_data() -> tuple[pd.DataFrame, pd.DataFrame]:
    X, outcome, _ = simulate_crossed(n=250, n_practices=10, n_municipalities=4, seed=2)
    return X, outcome


@pytest.fixture(scope="module")
def pe(pe_data: tuple) -> BayesPiecewiseExponentialModel:
    model = BayesPiecewiseExponentialModel(
        groups=GROUPS,
        n_intervals=4,
        draws=300,
        tune=300,
        chains=2,
        cores=1,
        seed=3,
        sampler="pymc",
        diagnostics=False,
    )
    return model.fit(*pe_data)


def _survival_ll_from_risk(
    model: BayesWeibullPHModel | BayesPiecewiseExponentialModel, X: pd.DataFrame, outcome
) -> np.ndarray:
    """``d log h(t) - H(t)`` per draw and person from the model's public ``risk_draws``.

    ``H_i(t_i) = -log(1 - risk_i(t_i))`` with the horizon at each person's own
    follow-up; the hazard is the left difference quotient of ``H`` over
    ``1e-6 t`` (exact for the piecewise-constant hazard, relative error
    ``(k - 1) 1e-6 / 2`` for the Weibull), per model time unit (``time_scale``
    days). Independent of how the model writes its likelihood.
    """
    scale = model.design_.time_scale
    cols = []
    for i, (t, d) in enumerate(zip(outcome["duration"], outcome["event"], strict=True)):
        row = X.iloc[[i]]
        H = -np.log1p(-model.risk_draws(row, t)[:, 0])
        ll = -H
        if d == 1:
            eps = 1e-6 * t
            H_before = -np.log1p(-model.risk_draws(row, t - eps)[:, 0])
            ll = ll + np.log((H - H_before) / eps * scale)
        cols.append(ll)
    return np.column_stack(cols)


# -- (a) agreement with arviz on PyMC's log-likelihood ---------------------------------------


def test_elpd_equals_arviz_loo_on_pymc_log_likelihood(
    weibull: BayesWeibullPHModel, weibull_loo: LooResult
) -> None:
    ll = pm.compute_log_likelihood(
        weibull.idata_, model=weibull.model_, extend_inferencedata=False, progressbar=False
    )
    idata = az.InferenceData(posterior=weibull.idata_.posterior, log_likelihood=ll)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # arviz's own high-k warning
        ref = az.loo(idata, pointwise=True)  # arviz's default reff: same as loo_risk's
    r = weibull_loo
    assert r.n_draws == ref.n_samples == 1000
    assert r.elpd_loo == pytest.approx(ref.elpd_loo, abs=1e-8)
    assert r.se == pytest.approx(ref.se, abs=1e-8)
    assert r.p_loo == pytest.approx(ref.p_loo, abs=1e-8)
    np.testing.assert_allclose(r.pareto_k, ref.pareto_k.values, atol=1e-8)
    np.testing.assert_allclose(r.elpd_i, ref.loo_i.values, atol=1e-8)
    assert r.k_threshold == pytest.approx(ref.good_k)
    assert r.n_high_k == int(np.sum(ref.pareto_k.values > ref.good_k))


@pytest.mark.parametrize("which", ["weibull", "pe"])
def test_pointwise_log_likelihood_is_the_survival_likelihood(
    which: str, request: pytest.FixtureRequest
) -> None:
    """Both kinds: ``d log h(t) - H(t)`` from the model's own risks, to 1e-6."""
    model = request.getfixturevalue(which)
    X, outcome = request.getfixturevalue("overfit" if which == "weibull" else "pe_data")
    ll = pointwise_log_likelihood(model, max_draws=None)
    n_draws = model.idata_.posterior.sizes["chain"] * model.idata_.posterior.sizes["draw"]
    assert ll.shape == (n_draws, len(X))
    np.testing.assert_allclose(ll, _survival_ll_from_risk(model, X, outcome), atol=1e-6)


# -- (b) the Poisson constant of the piecewise-exponential model -----------------------------


def test_piecewise_poisson_constant_leaves_psis_weights_unchanged(
    pe: BayesPiecewiseExponentialModel, pe_data: tuple
) -> None:
    """Poisson episode terms minus the survival log-lik is constant over draws: same weights."""
    X, _ = pe_data
    d = pe.design_
    rows, _, expo, dead = split_episodes(d.time, d.event, pe.cuts_ / d.time_scale)
    episodes = pm.compute_log_likelihood(
        pe.idata_, model=pe.model_, extend_inferencedata=False, progressbar=False
    )["events"].values
    episodes = episodes.reshape(-1, episodes.shape[-1])
    assert episodes.shape[1] == rows.size  # one Poisson term per episode
    poisson = np.stack([np.bincount(rows, weights=e, minlength=len(X)) for e in episodes])
    survival = pointwise_log_likelihood(pe, max_draws=None)
    diff = poisson - survival
    assert np.ptp(diff, axis=0).max() < 1e-9  # constant in the parameters
    assert np.abs(diff[:, d.event == 0]).max() < 1e-9  # zero without an event
    # the constant: y log(exposure) of the episode with the event (log y! = 0)
    constant = np.bincount(rows, weights=dead * np.log(expo), minlength=len(X))
    np.testing.assert_allclose(diff[0], constant, atol=1e-9)
    assert np.abs(constant).max() > 0.1  # not a vacuous check
    lw_p, k_p = az.psislw(-poisson.T, 0.9)
    lw_s, k_s = az.psislw(-survival.T, 0.9)
    np.testing.assert_allclose(lw_p, lw_s, atol=1e-9)
    np.testing.assert_allclose(k_p, k_s, atol=1e-9)


# -- (c) leave-one-out removes optimism ------------------------------------------------------


def test_loo_risks_are_training_persons_and_remove_optimism(
    weibull: BayesWeibullPHModel, weibull_loo: LooResult, overfit: tuple
) -> None:
    X, outcome = overfit
    r = weibull_loo
    assert list(r.index) == list(X.index)
    # apparent risk = predict_risk on the training X: own predictors and cluster effects
    np.testing.assert_allclose(r.apparent_risk, weibull.predict_risk(X, HORIZON), atol=1e-12)
    assert np.all((r.risk >= 0) & (r.risk <= 1))
    shift = r.risk - r.apparent_risk
    assert np.abs(shift).max() > 0.02
    # leaving out a person with the event lowers their risk, leaving out a censored one
    # (followed beyond the horizon) raises it: the model no longer saw their outcome
    event = (outcome["event"] == 1).to_numpy()
    late = (outcome["duration"] > HORIZON).to_numpy() & ~event
    assert np.mean(shift[event] < 0) > 0.9 and np.mean(shift[late] > 0) > 0.9
    c_app = harrell_c(outcome["duration"], outcome["event"], r.apparent_risk, HORIZON)
    c_loo = harrell_c(outcome["duration"], outcome["event"], r.risk, HORIZON)
    assert c_loo < c_app - 0.02, (c_app, c_loo)
    assert r.p_loo > 3  # more effective parameters than the 3 true predictors
    frame = r.to_frame()
    assert list(frame.columns) == ["risk_loo", "risk_apparent", "pareto_k", "elpd_loo"]
    json.dumps(r.summary())


def test_thinned_draws_and_high_k_warning(
    weibull: BayesWeibullPHModel, weibull_loo: LooResult
) -> None:
    """100 draws: close to the 1000-draw risks, and the stricter k threshold warns."""
    assert psis_k_threshold(100) == pytest.approx(0.5)
    with pytest.warns(StatisticalWarning, match=r"unreliable for \d+ of 300 persons"):
        thin = loo_risk(weibull, HORIZON, max_draws=100)
    assert thin.n_draws == 100 and thin.n_high_k > 0
    assert thin.n_high_k == int(np.sum(thin.pareto_k > 0.5))
    assert np.abs(thin.risk - weibull_loo.risk).mean() < 0.01


# -- (d) against exact leave-one-out ---------------------------------------------------------


@pytest.mark.slow
def test_matches_exact_leave_one_out_refit(weibull_loo: LooResult, overfit: tuple) -> None:
    """Refit without the most influential reliable person; its risk there is the LOO risk.

    The person whose risk moves most between the full fit and PSIS-LOO among
    those with ``k̂ <= 0.5``; with seeds 3 (data) and 5 (sampling) the apparent
    risk is 0.31, PSIS-LOO and the refit both 0.38 (Monte-Carlo SE 0.005).
    The PSIS-LOO risk must recover at least 80 % of the exact shift and lie
    within 4 Monte-Carlo SEs of the refit.
    """
    X, outcome = overfit
    r = weibull_loo
    shift = np.where(r.pareto_k <= 0.5, np.abs(r.risk - r.apparent_risk), -1.0)
    i = int(np.argmax(shift))
    keep = np.arange(len(X)) != i
    refit = BayesWeibullPHModel(**WEIBULL_KW).fit(X[keep], outcome[keep])
    draws = refit.risk_draws(X.iloc[[i]], HORIZON)[:, 0]
    exact = draws.mean()
    mcse = draws.std() / np.sqrt(float(az.ess(draws.reshape(2, -1))))
    assert abs(r.risk[i] - exact) <= 0.2 * abs(r.apparent_risk[i] - exact)
    assert abs(r.risk[i] - exact) <= 4 * np.sqrt(2) * mcse


# -- (e) bad input ---------------------------------------------------------------------------


BAD = [
    ("unfitted", {}, "not fitted yet"),
    ("frequentist", {}, "PSIS-LOO needs a fitted BayesWeibullPHModel"),
    ("fitted", {"horizon": 0.0}, "horizon must be finite and > 0"),
    ("fitted", {"horizon": -30}, "horizon must be finite and > 0"),
    ("fitted", {"horizon": "2y"}, "horizon must be a number of days"),
    ("fitted", {"max_draws": 20}, "max_draws must be an integer >= 100"),
    ("fitted", {"max_draws": 500.0}, "max_draws must be an integer >= 100"),
    ("fitted", {"reff": 0.0}, r"reff must be a number in \(0, 10\]"),
]


@pytest.mark.parametrize(("which", "kwargs", "message"), BAD)
def test_bad_input(which: str, kwargs: dict, message: str, weibull: BayesWeibullPHModel) -> None:
    model = {
        "unfitted": BayesWeibullPHModel(groups=GROUPS),
        "frequentist": WeibullModel(),
        "fitted": weibull,
    }[which]
    args = {"horizon": HORIZON} | kwargs
    horizon = args.pop("horizon")
    with pytest.raises(ModelError, match=message):
        loo_risk(model, horizon, **args)


def test_pointwise_log_likelihood_needs_a_fitted_model() -> None:
    with pytest.raises(ModelError, match="not fitted yet"):
        pointwise_log_likelihood(BayesPiecewiseExponentialModel(groups=GROUPS))

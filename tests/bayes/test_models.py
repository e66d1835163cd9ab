"""Bayesian survival models: synthetic truth, predictions, report material, bad input."""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pandas as pd
import pytest

from epi.exceptions import DiagnosticsWarning, ModelError
from epi.models import RiskModel, WeibullModel
from epi.models.bayes import (
    BayesPiecewiseExponentialModel,
    BayesWeibullPHModel,
    Priors,
    build_piecewise_exponential_model,
    build_weibull_ph_model,
    check_diagnostics,
    compare_with_frequentist,
    group_effects,
    median_hazard_ratio,
    posterior_summary,
    prepare_design,
    prior_predictive_check,
    resolve_parametrisation,
    shrinkage_table,
    variance_partition,
)
from epi.report import caterpillar_plot

from .conftest import TRUTH

GROUPS = ("practice_id", "municipality_code")


@pytest.fixture(scope="module")
def weibull_fit(crossed: tuple) -> BayesWeibullPHModel:
    X, outcome, _ = crossed
    model = BayesWeibullPHModel(
        groups=GROUPS, draws=1000, tune=1000, chains=2, cores=1, seed=11, sampler="pymc"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", DiagnosticsWarning)  # the fit must pass every check
        return model.fit(X, outcome)


@pytest.mark.slow
def test_synthetic_truth_inside_90_intervals(weibull_fit: BayesWeibullPHModel) -> None:
    """Coefficients, Weibull shape and both cluster SDs: truth inside the 90 % intervals.

    Each interval covers its truth with probability 0.9 under the simulation,
    so with seven quantities a seed can fail by chance; the committed seeds
    are the first tried (simulation seed 1, sampling seed 11).
    """
    s = posterior_summary(weibull_fit, prob=0.9)
    truth = {f"coef[{k}]": v for k, v in TRUTH["coef"].items()}
    truth |= {
        k: TRUTH[k] for k in ("weibull_shape", "sigma_practice_id", "sigma_municipality_code")
    }
    for name, value in truth.items():
        assert s.loc[name, "lower"] <= value <= s.loc[name, "upper"], (name, s.loc[name].to_dict())
    d = weibull_fit.diagnostics_
    assert d["ok"] and d["divergences"] == 0
    assert d["max_r_hat"] <= 1.01 and d["min_ess_bulk"] >= 400 and d["min_ess_tail"] >= 400
    assert min(d["bfmi"]) >= 0.3


def test_fit_exposes_model_idata_and_interface(weibull_fit: BayesWeibullPHModel) -> None:
    assert isinstance(weibull_fit, RiskModel)
    assert isinstance(weibull_fit.idata_, az.InferenceData)
    post = weibull_fit.idata_.posterior
    assert list(post["u_practice_id"].dims)[2:] == ["practice_id"]
    assert list(post["coef"].coords["predictor"].values) == ["demo__age", "gp__x", "hosp__y"]
    assert weibull_fit.idata_.attrs["epi_seed"] == 11
    assert list(weibull_fit.coef_.index) == ["demo__age", "gp__x", "hosp__y"]


def test_predictions_intervals_and_unseen_practice(
    crossed: tuple, weibull_fit: BayesWeibullPHModel
) -> None:
    X, _, _ = crossed
    Xp = X.iloc[:50]
    before = Xp.copy()
    mean, lo, hi = weibull_fit.predict_risk_interval(Xp, 730, prob=0.9)
    pd.testing.assert_frame_equal(Xp, before)  # inputs are never modified
    assert mean.shape == (50,) and np.all((lo <= mean) & (mean <= hi))
    assert np.all((mean > 0) & (mean < 1))
    np.testing.assert_allclose(weibull_fit.predict_risk(Xp, 730), mean)
    # a practice not seen in training: its effect is integrated out, so the risk lies
    # between the risks under the lowest and highest known practice effects
    new = Xp.assign(practice_id="never-seen")
    r_new = weibull_fit.predict_risk(new, 730)
    eff = group_effects(weibull_fit, "practice_id")
    lo_p = Xp.assign(practice_id=eff.index[0])
    hi_p = Xp.assign(practice_id=eff.index[-1])
    assert np.all(weibull_fit.predict_risk(lo_p, 730) < r_new)
    assert np.all(r_new < weibull_fit.predict_risk(hi_p, 730))
    # the interval of an unseen practice is for the practice-averaged risk
    m_n, lo_n, hi_n = weibull_fit.predict_risk_interval(new, 730)
    assert np.all((lo_n <= m_n) & (m_n <= hi_n))


def test_unseen_integration_matches_monte_carlo(
    crossed: tuple, weibull_fit: BayesWeibullPHModel
) -> None:
    """Gauss-Hermite integration over a new practice's effect agrees with brute-force MC."""
    X, _, _ = crossed
    row = X.iloc[[0]].assign(practice_id="new")
    risk = weibull_fit.risk_draws(row, 365.25, max_draws=200)[:, 0]
    idata = weibull_fit.idata_
    S = idata.posterior.sizes["chain"] * idata.posterior.sizes["draw"]
    take = np.linspace(0, S - 1, 200).round().astype(int)
    known = weibull_fit.risk_draws(X.iloc[[0]], 365.25, max_draws=200)[:, 0]
    u_own = idata.posterior["u_practice_id"].values.reshape(S, -1)[
        take, weibull_fit.design_.levels["practice_id"].index(X["practice_id"].iloc[0])
    ]
    sigma = idata.posterior["sigma_practice_id"].values.reshape(S)[take]
    log_h = np.log(-np.log1p(-known)) - u_own  # t = 1 year: log H without the practice
    z = np.random.default_rng(0).standard_normal((200, 20000))
    mc = 1 - np.exp(-np.exp(log_h[:, None] + sigma[:, None] * z)).mean(axis=1)
    np.testing.assert_allclose(risk, mc, atol=0.004)


def test_report_material(weibull_fit: BayesWeibullPHModel, tmp_path) -> None:
    eff = group_effects(weibull_fit, "practice_id", min_size=5)
    assert eff["n_persons"].min() >= 5 and len(eff) <= 40
    assert eff["n_events"].sum() == int(weibull_fit.design_.event.sum())  # raw counts, all of them
    vp = variance_partition(weibull_fit)
    assert vp["share"].sum() == pytest.approx(1.0)
    assert vp.loc["person", "variance"] == pytest.approx(np.pi**2 / 6)
    mhr = median_hazard_ratio(weibull_fit)
    sigma = weibull_fit.idata_.posterior["sigma_practice_id"].values.ravel()
    expected = np.exp(np.sqrt(2) * sigma * 0.6744897501960817).mean()
    assert mhr.loc["practice_id", "mhr"] == pytest.approx(expected)
    assert mhr.loc["all groups", "mhr"] > mhr.loc["practice_id", "mhr"]
    sh = shrinkage_table(weibull_fit, "practice_id")
    # posterior effects are pulled towards 0 from the unpooled estimates, more so where
    # fewer events are expected
    assert sh["posterior_mean"].abs().mean() < sh["unpooled"].abs().mean()
    assert sh["pooling"].between(0, 1).all()
    assert sh["pooling"].corr(sh["expected"], method="spearman") == pytest.approx(-1.0)
    for name in ("cat.svg", "cat.png"):
        caterpillar_plot(weibull_fit, "municipality_code", tmp_path / name)
        assert (tmp_path / name).stat().st_size > 1000


def test_comparison_with_frequentist_weibull(
    crossed: tuple, weibull_fit: BayesWeibullPHModel
) -> None:
    X, outcome, _ = crossed
    freq = WeibullModel().fit(X.drop(columns=list(GROUPS)), outcome)
    out = compare_with_frequentist(weibull_fit, freq, X.iloc[:300], 730)
    coefs = out["coefficients"]
    assert coefs["inside"].all(), coefs
    assert out["risk"]["n"] == 300 and 0.5 < out["risk"]["correlation"] <= 1


@pytest.mark.slow
def test_piecewise_exponential_recovers_coefficients(crossed: tuple) -> None:
    """A 4-interval piecewise-exponential fit of the Weibull data: coefficients near the truth."""
    X, outcome, _ = crossed
    model = BayesPiecewiseExponentialModel(
        groups=("practice_id",),
        n_intervals=4,
        draws=500,
        tune=500,
        cores=1,
        seed=5,
        sampler="pymc",
        diagnostics=False,  # short chains for test time; diagnostics_ still computed
    )
    model.fit(X.drop(columns=["municipality_code"]), outcome)
    s = posterior_summary(model)
    for name, value in TRUTH["coef"].items():
        assert abs(s.loc[f"coef[{name}]", "mean"] - value) < 3 * s.loc[f"coef[{name}]", "sd"] + 0.05
    assert model.diagnostics_["divergences"] == 0
    intervals = model.idata_.posterior["log_rate"].coords["interval"].values
    assert str(intervals[0]).startswith("[0,")
    r = model.predict_risk(X.iloc[:20], 730)
    assert np.all((r > 0) & (r < 1))


def test_prior_predictive_check_covers_data(crossed: tuple) -> None:
    X, outcome, _ = crossed
    model = build_weibull_ph_model(X, outcome, groups=GROUPS)
    table = prior_predictive_check(model, seed=3, draws=200)
    assert list(table.index) == ["event_fraction", "mean_time"]
    assert table["in_range"].all(), table
    pe = build_piecewise_exponential_model(X, outcome, groups=GROUPS, n_intervals=3)
    assert "interval" in pe.coords and len(pe.coords["interval"]) == 3


def test_horseshoe_for_wide_blocks(crossed: tuple) -> None:
    X, outcome, _ = crossed
    rng = np.random.default_rng(0)
    wide = X.assign(**{f"hosp__w{i}": rng.normal(size=len(X)) for i in range(20)})
    model = build_weibull_ph_model(wide, outcome, groups=GROUPS)
    names = {v.name for v in model.free_RVs}
    assert {"hs_tau_hosp", "hs_c2_hosp", "beta_demo", "beta_gp"} <= names
    assert "beta_hosp" not in names
    assert model["beta"].eval().shape == (23,) or len(model.coords["predictor"]) == 23
    normal = build_weibull_ph_model(wide, outcome, groups=GROUPS, priors={"coef": "normal"})
    assert "beta_hosp" in {v.name for v in normal.free_RVs}


def test_random_slopes_build_with_dims(crossed: tuple) -> None:
    X, outcome, _ = crossed
    model = build_weibull_ph_model(X, outcome, groups=GROUPS, slopes={"practice_id": ["demo__age"]})
    assert model.named_vars_to_dims["z_slope_practice_id"] == ("practice_id", "slope_practice_id")
    assert model.coords["slope_practice_id"] == ("demo__age",)


def test_diagnostics_warn_naming_the_parameter() -> None:
    """Chains that disagree, few draws and divergences each give a named warning."""
    rng = np.random.default_rng(0)
    post = {"good": rng.normal(size=(2, 1000)), "bad_sd": rng.normal(size=(2, 100))}
    post["bad_sd"][1] += 3.0
    post["good"] = rng.normal(size=(2, 100))
    stats = {"diverging": np.zeros((2, 100), bool), "energy": rng.normal(size=(2, 100))}
    stats["diverging"][0, 3] = True
    idata = az.from_dict(posterior=post, sample_stats=stats)
    with pytest.warns(DiagnosticsWarning) as record:
        out = check_diagnostics(idata, where="toy")
    messages = " | ".join(str(w.message) for w in record)
    assert "R-hat above 1.01 for 1 parameter(s): bad_sd" in messages
    assert "bulk ESS below 400" in messages and "tail ESS below 400" in messages
    assert "1 divergent transition" in messages
    assert not out["ok"] and out["divergences"] == 1


BAD = [
    ("missing group column", {"groups": ("nope",)}, None, "lacks the group column"),
    ("slope on unknown group", {"slopes": {"nope": ["demo__age"]}}, None, "not one of the groups"),
    ("slope on unknown column", {"slopes": {"practice_id": ["x"]}}, None, "not predictors"),
    ("bad sampler", {"sampler": "stan"}, None, "sampler must be"),
    ("bad draws", {"draws": 0}, None, "draws must be an integer"),
    ("constant column", {}, "const", "constant column"),
    ("missing cluster id", {}, "nan_group", "missing value"),
    ("text predictor", {}, "text", "non-numeric"),
]


@pytest.mark.parametrize(("case", "params", "mutate", "match"), BAD, ids=[b[0] for b in BAD])
def test_bad_input(crossed: tuple, case: str, params: dict, mutate: str | None, match: str) -> None:
    X, outcome, _ = crossed
    X = X.copy()
    if mutate == "const":
        X["demo__const"] = 1.0
    elif mutate == "nan_group":
        X.loc[X.index[:3], "practice_id"] = None
    elif mutate == "text":
        X["demo__sex"] = "F"
    kw = {"groups": GROUPS, "draws": 10, "tune": 10, "sampler": "pymc", **params}
    with pytest.raises(ModelError, match=match):
        BayesWeibullPHModel(**kw).fit(X, outcome)


@pytest.mark.parametrize(
    ("priors", "match"),
    [
        ({"group_sigma": 1.0}, r"unknown key\(s\) \['group_sigma'\]; allowed"),
        ({"group_sd": -1.0}, "priors.group_sd must be a number > 0"),
        ({"coef": "lasso"}, "priors.coef must be"),
    ],
)
def test_bad_priors(priors: dict, match: str) -> None:
    with pytest.raises(ModelError, match=match):
        BayesWeibullPHModel(priors=priors)
    assert Priors.from_any(None) == Priors()


def test_predict_before_fit_and_bad_prob(weibull_fit: BayesWeibullPHModel, crossed: tuple) -> None:
    X, _, _ = crossed
    with pytest.raises(ModelError, match="not fitted yet"):
        BayesWeibullPHModel(groups=GROUPS).predict_risk(X, 365)
    with pytest.raises(ModelError, match="prob must lie in"):
        weibull_fit.predict_risk_interval(X.iloc[:3], 365, prob=1.5)
    with pytest.raises(ModelError, match="lacks the group column"):
        weibull_fit.predict_risk(X.iloc[:3].drop(columns=["practice_id"]), 365)


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("auto", {"practice_id": "noncentred", "municipality_code": "centred"}),
        ("noncentred", {"practice_id": "noncentred", "municipality_code": "noncentred"}),
        ({"practice_id": "centred"}, {"practice_id": "centred", "municipality_code": "centred"}),
    ],
)
def test_parametrisation_per_group(crossed: tuple, setting: object, expected: dict) -> None:
    """``auto``: ~15 events per practice stay non-centred, ~75 per municipality are centred."""
    X, outcome, _ = crossed
    design = prepare_design(X, outcome, groups=GROUPS)
    assert resolve_parametrisation(design, Priors(), setting) == expected
    model = build_weibull_ph_model(design, parametrisation=setting)
    free = {v.name for v in model.free_RVs}
    for g, kind in expected.items():
        assert (f"z_{g}" in free) == (kind == "noncentred")
        assert (f"u_{g}" in free or f"level_{g}" in free) == (kind == "centred")
    first_centred = next((g for g in GROUPS if expected[g] == "centred"), None)
    if first_centred:  # hierarchical centring: intercept + effect sampled together
        assert f"level_{first_centred}" in free


def test_bad_parametrisation(crossed: tuple) -> None:
    X, outcome, _ = crossed
    design = prepare_design(X, outcome, groups=GROUPS)
    with pytest.raises(ModelError, match="not groups"):
        resolve_parametrisation(design, Priors(), {"county": "centred"})
    with pytest.raises(ModelError, match="must be one of"):
        resolve_parametrisation(design, Priors(), "centered")


@pytest.mark.slow
def test_random_slopes_fit_and_predict(crossed: tuple) -> None:
    """A random slope of age by practice: sampled, summarised, and integrated for new practices.

    Short chains (smoke test of the code path; the slope SD's truth is 0 here).
    """
    X, outcome, _ = crossed
    model = BayesWeibullPHModel(
        groups=GROUPS,
        slopes={"practice_id": ["demo__age"]},
        draws=200,
        tune=200,
        cores=1,
        seed=1,
        sampler="pymc",
        diagnostics=False,
    ).fit(X, outcome)
    s = posterior_summary(model)
    assert "sigma_slope_practice_id[demo__age]" in s.index
    assert s.loc["sigma_slope_practice_id[demo__age]", "lower"] < 0.1
    mean, lo, hi = model.predict_risk_interval(X.iloc[:20].assign(practice_id="new"), 730)
    assert np.all((0 < lo) & (lo <= mean) & (mean <= hi) & (hi < 1))

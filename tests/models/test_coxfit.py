"""The numpy Cox engine (`fit_cox`) against lifelines' CoxPHFitter and R's coxph."""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter

from epi.exceptions import ConvergenceError, ConvergenceWarning
from epi.models import CauseSpecificCoxModel, CoxModel, _cox, make_model, model_spec
from epi.models._coxfit import CoxFitError, CoxRiskSets, fit_cox, partial_loglik

from .conftest import simulate_competing

COVS = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]


def _lifelines(d: pd.DataFrame, covs: list[str], strata: str | None = None, **kw) -> CoxPHFitter:
    """CoxPHFitter on Rossi; ``precision`` tight unless an L1 part makes it path-dependent."""
    options = {} if kw.get("l1_ratio", 0) > 0 else {"precision": 1e-10}
    cph = CoxPHFitter(strata=[strata] if strata else None, **kw)
    return cph.fit(
        d[[*covs, *([strata] if strata else [])]].assign(week=d["week"], arrest=d["arrest"]),
        "week",
        "arrest",
        fit_options=options,
    )


@pytest.fixture(scope="module")
def rossi_frame(rossi) -> pd.DataFrame:
    X, y = rossi
    return X.assign(week=y["duration"], arrest=y["event"])


@pytest.mark.parametrize(
    ("strata", "penalizer", "l1_ratio"),
    [(None, 0.0, 0.0), ("wexp", 0.0, 0.0), (None, 0.1, 0.0), (None, 0.1, 0.5), ("wexp", 0.1, 0.5)],
)
def test_engine_equals_lifelines_on_rossi(rossi_frame, strata, penalizer, l1_ratio) -> None:
    """Rossi has many tied weeks (Efron). lifelines' smoothed L1 depends on its iteration
    path, which fit_cox replays; the other objectives are fitted to their optimum."""
    d = rossi_frame
    covs = [c for c in COVS if c != strata]
    cph = _lifelines(d, covs, strata, penalizer=penalizer, l1_ratio=l1_ratio)
    fit = fit_cox(
        d[covs].to_numpy(float),
        d["week"].to_numpy(float),
        d["arrest"].to_numpy(),
        None if strata is None else d[strata].to_numpy(),
        penalizer=penalizer,
        l1_ratio=l1_ratio,
    )
    assert fit.converged and fit.message == ""
    np.testing.assert_allclose(fit.coef, cph.params_.to_numpy(), rtol=0, atol=1e-6)
    assert fit.penalized_loglik == pytest.approx(cph.log_likelihood_, abs=1e-8)
    np.testing.assert_allclose(fit.var, cph.variance_matrix_.to_numpy(), rtol=1e-5, atol=1e-9)
    if penalizer == 0:
        assert fit.loglik == fit.penalized_loglik
    else:
        assert fit.loglik > fit.penalized_loglik
    assert fit.loglik_null == pytest.approx(cph._ll_null_, abs=1e-8)


def test_breslow_ties_match_coxph(rossi_frame) -> None:
    """coxph(Surv(week, arrest) ~ fin + age + race + mar + paro + prio + strata(wexp),
    ties = "breslow"), survival 3.5 (R 4.x)."""
    d = rossi_frame
    covs = ["fin", "age", "race", "mar", "paro", "prio"]
    fit = fit_cox(
        d[covs].to_numpy(float), d["week"], d["arrest"], d["wexp"].to_numpy(), ties="breslow"
    )
    coef = [
        -0.379659637548453,
        -0.0579922756088947,
        0.304611832094504,
        -0.451593086976462,
        -0.082715575372206,
        0.090323576369945,
    ]
    se = [
        0.191250823174163,
        0.0220412701967528,
        0.308037272279845,
        0.381700986862642,
        0.195694319576985,
        0.028670104863465,
    ]
    np.testing.assert_allclose(fit.coef, coef, atol=1e-8)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.var)), se, atol=1e-8)
    assert fit.loglik_null == pytest.approx(-593.0894355605, abs=1e-8)
    assert fit.loglik == pytest.approx(-581.274831231022, abs=1e-8)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_score_and_information_are_derivatives(ties: str) -> None:
    """Heavily tied integer times and three strata: finite differences of the log-likelihood."""
    rng = np.random.default_rng(3)
    n, p = 300, 4
    X = rng.normal(size=(n, p))
    time = rng.integers(1, 15, n).astype(float)
    event = rng.binomial(1, 0.6, n)
    strata = rng.integers(0, 3, n)
    rs = CoxRiskSets(X, time, event, strata, ties)
    beta = np.array([0.3, -0.2, 0.1, 0.5])
    _, score, info = rs.evaluate(beta)
    assert info is not None
    h = 1e-6
    for j in range(p):
        e = np.zeros(p)
        e[j] = h
        up, s_up, _ = rs.evaluate(beta + e, hessian=False)
        down, s_down, _ = rs.evaluate(beta - e, hessian=False)
        assert (up - down) / (2 * h) == pytest.approx(score[j], abs=1e-6)
        np.testing.assert_allclose(-(s_up - s_down) / (2 * h), info[j], atol=1e-5)
    # the strata are separate risk sets: the sum of per-stratum fits' log-likelihoods
    total = sum(
        partial_loglik(X[strata == s], time[strata == s], event[strata == s], beta, ties=ties)
        for s in range(3)
    )
    assert partial_loglik(X, time, event, beta, strata, ties) == pytest.approx(total, abs=1e-9)


def test_no_n_by_p_by_p_arrays() -> None:
    """40,000 x 30 with integer-day ties: peak memory stays far below one n x p x p array."""
    rng = np.random.default_rng(0)
    n, p = 40_000, 30
    X = rng.normal(size=(n, p))
    lp = X[:, :5] @ np.full(5, 0.2)
    t = np.ceil(rng.exponential(1 / (0.001 * np.exp(lp)))).clip(max=1826.0)
    e = (t < 1826).astype(int)
    tracemalloc.start()
    try:
        fit = fit_cox(X, t, e)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert fit.converged
    np.testing.assert_allclose(fit.coef[:5], 0.2, atol=0.03)
    assert peak < 0.25 * n * p * p * 8  # an n x p x p float array alone: 288 MB


def test_coxmodel_engines_agree(rossi) -> None:
    """Splines + strata + penalty: coefficients, risks, PH test and export agree across engines."""
    X, y = rossi
    for kw in ({"splines": {"age": 4}, "strata": ["wexp"]}, {"penalizer": 0.05, "l1_ratio": 0.5}):
        a = CoxModel(**kw).fit(X, y)
        b = CoxModel(engine="lifelines", **kw).fit(X, y)
        np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-6)
        np.testing.assert_allclose(a.se_, b.se_, rtol=1e-5)
        assert a.loglik_ == pytest.approx(b.loglik_, abs=1e-7)
        assert a.penalized_loglik_ == pytest.approx(b.penalized_loglik_, abs=1e-7)
        np.testing.assert_allclose(a.predict_risk(X, 52), b.predict_risk(X, 52), atol=1e-7)
        pd.testing.assert_frame_equal(a.ph_test(), b.ph_test(), rtol=1e-4)
        sa, sb = model_spec(a, [52]), model_spec(b, [52])
        assert sa["model"]["engine"] == "numpy" and sb["model"]["engine"] == "lifelines"
        np.testing.assert_allclose(
            list(sa["model"]["coefficients"].values()),
            list(sb["model"]["coefficients"].values()),
            atol=1e-6,
        )
    pen = CoxModel(penalizer=0.1).fit(X, y)
    lp = pen.coef_.to_numpy()
    assert pen.loglik_ == pytest.approx(
        partial_loglik(X[COVS].to_numpy(float), y["duration"], y["event"], lp), abs=1e-9
    )


def test_cause_specific_engines_agree(pbc) -> None:
    X, y = pbc
    a = CauseSpecificCoxModel().fit(X, y)
    b = CauseSpecificCoxModel(engine="lifelines").fit(X, y)
    np.testing.assert_allclose(a.cause2_.coef_, b.cause2_.coef_, atol=1e-6)
    np.testing.assert_allclose(a.predict_risk(X, 1826), b.predict_risk(X, 1826), atol=1e-7)


def test_separation_warns_within_50_steps() -> None:
    """Monotone likelihood: stops early (not after 500 steps) and names the column."""
    X, y = simulate_competing(200, 0)
    X = X.assign(demo__separator=(y["event"] == 1).astype(float))
    with pytest.warns(ConvergenceWarning, match=r"kept growing \(demo__separator\).*Increase"):
        m = CoxModel().fit(X, y)
    assert m.n_iter_ <= 50
    with pytest.warns(
        ConvergenceWarning,
        match=r"did not converge: no convergence in 3 .*"
        r"\(suspects: demo__separator\)",
    ):
        CoxModel(max_iter=3).fit(X, y)


def test_engine_failure_becomes_epi_error(monkeypatch) -> None:
    X, y = simulate_competing(200, 0)

    def fail(*args, **kwargs):
        raise CoxFitError("the information matrix is singular")

    monkeypatch.setattr(_cox, "fit_cox", fail)
    with pytest.raises(
        ConvergenceError,
        match=r"did not converge \(the information .*"
        r"Increase penalizer \(now 0.5",
    ):
        make_model("cox", penalizer=0.5).fit(X, y)


def test_well_posed_fit_is_silent(competing) -> None:
    X, y = competing
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = CoxModel(splines={"demo__age": 4}).fit(X, y)
    assert 2 <= m.n_iter_ <= 10


def test_bad_engine(rossi) -> None:
    X, y = rossi
    with pytest.raises(Exception, match=r"engine must be one of \['numpy', 'lifelines'\]"):
        CoxModel(engine="R").fit(X, y)

"""Bad input, convergence problems and the make_model registry."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter
from lifelines import exceptions as ll_exc

from epi.exceptions import ConvergenceError, ConvergenceWarning, ModelError, StatisticalWarning
from epi.models import MODEL_KINDS, RiskModel, make_model

from .conftest import simulate_competing


def _data(n: int = 200, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    X, y = simulate_competing(n, seed)
    idx = pd.Index([f"p{i}" for i in range(n)], name="person_id")
    return X.set_axis(idx), y.set_axis(idx)


def _bad(case: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    X, y = _data()
    if case == "nan":
        X = X.copy()
        X.iloc[:3, 0] = np.nan
    elif case == "misaligned":
        y = y.iloc[::-1]
    elif case == "short":
        y = y.iloc[:-1]
    elif case == "duration":
        y = y.assign(duration=y["duration"].where(y.index != "p4", 0.0))
    elif case == "event":
        y = y.assign(event=y["event"].where(y.index != "p1", 3))
    elif case == "few_events":
        ev = y["event"].to_numpy().copy()
        ev[np.flatnonzero(ev == 1)[9:]] = 0
        y = y.assign(event=ev)
    elif case == "text":
        X = X.assign(sex="f")
    elif case == "no_event_col":
        y = y.drop(columns=["event"])
    return X, y


BAD_CASES = [
    ("nan", r"missing or infinite values in 1 column\(s\): 'demo__age \(3\)'"),
    ("misaligned", r"indices differ .*outcome.loc\[X.index\]"),
    ("short", r"X has 200 rows but outcome has 199"),
    ("duration", r"duration must be finite and > 0; 1 row\(s\).*'p4'"),
    ("event", r"event must be 0 .*1 row\(s\).*first values: 3"),
    ("few_events", r"only 9 outcome event\(s\) \(event == 1\) among 200 persons; at least 10"),
    ("text", r"non-numeric column\(s\): 'sex'"),
    ("no_event_col", r"outcome lacks column\(s\) 'event'"),
]


@pytest.mark.parametrize(("case", "match"), BAD_CASES, ids=[c for c, _ in BAD_CASES])
@pytest.mark.parametrize("kind", ["cox", "weibull", "rsf", "cause_specific_cox"])
def test_bad_input_is_named(kind: str, case: str, match: str) -> None:
    X, y = _bad(case)
    params = {"param_grid": {"min_samples_leaf": [10]}, "n_estimators": 3} if kind == "rsf" else {}
    with pytest.raises(ModelError, match=match):
        make_model(kind, **params).fit(X, y)


@pytest.mark.parametrize(
    ("kind", "params", "match"),
    [
        (
            "coxx",
            {},
            r"unknown model kind 'coxx'; allowed: \['bayes_piecewise_exponential', "
            r"'bayes_weibull_ph', 'cause_specific_cox', 'cox'",
        ),
        ("cox", {"penalty": 1}, r"unknown parameter\(s\) \['penalty'\]; allowed: .*'penalizer'"),
        ("rsf", {"trees": 5}, r"unknown parameter\(s\) \['trees'\]; allowed: .*'n_estimators'"),
        ("cox", {"splines": {"demo__age": 9}}, r"splines.demo__age: number of knots .* 3 to 7"),
        ("cox", {"splines": {"bmi": 4}}, r"column\(s\) \['bmi'\] are not in X"),
        ("cox", {"penalizer": -1}, r"penalizer must be a number >= 0"),
        ("flexible_parametric", {"df": 0}, r"df must be an integer from 1 to 6"),
    ],
)
def test_bad_model_settings(kind: str, params: dict, match: str) -> None:
    X, y = _data()
    with pytest.raises(ModelError, match=match):
        make_model(kind, **params).fit(X, y)


def test_collinear_columns_are_named() -> None:
    X, y = _data()
    X = X.assign(demo__age_copy=X["demo__age"] * 2.0)
    with pytest.raises(ConvergenceError, match=r"demo__age_copy \(collinear with earlier"):
        make_model("cox").fit(X, y)


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("cox", {}),
        ("cox", {"penalizer": 0.1}),
        ("cause_specific_cox", {}),
        ("weibull", {}),
        ("flexible_parametric", {"df": 2}),
    ],
)
def test_constant_term_gets_zero_with_warning(kind: str, params: dict) -> None:
    """A rare indicator can be absent from a bootstrap resample: warn, fit the rest."""
    X, y = _data()
    Xc = X.assign(gp__rare=0.0)
    with pytest.warns(StatisticalWarning, match=r"constant in the training data .*gp__rare"):
        m = make_model(kind, **params).fit(Xc, y)
    ref = make_model(kind, **params).fit(X, y)
    np.testing.assert_allclose(m.predict_risk(Xc, 365), ref.predict_risk(X, 365), atol=1e-8)


def test_poor_convergence_warns_with_fix() -> None:
    X, y = _data()
    X = X.assign(demo__separator=(y["event"] == 1).astype(float))  # perfect separation
    with pytest.warns(ConvergenceWarning, match="Increase penalizer"):
        make_model("cox", max_iter=5).fit(X, y)


def test_lifelines_convergence_error_becomes_epi_error(monkeypatch) -> None:
    X, y = _data()

    def fail(self, *a, **k):
        raise ll_exc.ConvergenceError("Convergence halted due to matrix inversion problems.")

    monkeypatch.setattr(CoxPHFitter, "fit", fail)
    with pytest.raises(
        ConvergenceError, match=r"did not converge\. Increase penalizer \(now 0.5"
    ) as e:
        make_model("cox", penalizer=0.5, engine="lifelines").fit(X, y)
    assert "matrix inversion" not in str(e.value)  # lifelines' own words stay out


def test_horizon_beyond_follow_up_warns() -> None:
    X, y = _data()
    m = make_model("cox").fit(X, y)
    with pytest.warns(StatisticalWarning, match="beyond the longest follow-up"):
        m.predict_risk(X, 5000.0)


SMALL = {
    "cox": {"splines": {"demo__age": 3}},
    "cause_specific_cox": {"strata": ["demo__frail"]},
    "weibull": {},
    "flexible_parametric": {"df": 2},
    "rsf": {"param_grid": {"min_samples_leaf": [10]}, "n_estimators": 10},
    "gbsa": {"param_grid": {"learning_rate": [0.1]}, "n_estimators": 20},
}


@pytest.mark.parametrize("kind", sorted(MODEL_KINDS))
def test_every_kind_keeps_the_contract(kind: str) -> None:
    X, y = _data(300)
    X0, y0 = X.copy(deep=True), y.copy(deep=True)
    factory = functools.partial(make_model, kind, **SMALL[kind])
    model = factory()
    assert isinstance(model, RiskModel)
    assert model.fit(X, y) is model
    risk = model.predict_risk(X, 365.0)
    assert risk.shape == (len(X),) and np.all((risk >= 0) & (risk <= 1))
    assert np.all(model.predict_risk(X, 1000.0) >= risk - 1e-12)
    pd.testing.assert_frame_equal(X, X0)
    pd.testing.assert_frame_equal(y, y0)
    with pytest.raises(ModelError, match="horizon must be finite and > 0"):
        model.predict_risk(X, -1)


def _rp_loglik(m, X: pd.DataFrame, y: pd.DataFrame, gamma, beta) -> float:
    """Royston–Parmar log-likelihood written out independently of the fitter."""
    from epi.models._parametric import _rp_basis

    u = np.log(y["duration"].to_numpy())
    e = y["event"].to_numpy() == 1
    B, dB = _rp_basis(u, m.time_knots_)
    eta = B @ gamma + (X[m.coef_.index].to_numpy() - m.means_.to_numpy()) @ beta
    return float((eta[e] + np.log(dB[e] @ gamma) - u[e]).sum() - np.exp(eta).sum())


@pytest.mark.parametrize("seed", range(8))
def test_flexible_parametric_converges_on_ordinary_data(seed: int) -> None:
    """epi's Newton fit reaches the maximum where lifelines' fitter stopped with
    "precision loss" (this file's contract data, fresh install of 2026-11)."""
    X, y = _data(300, seed)
    m = make_model("flexible_parametric", df=2).fit(X, y)
    assert m.n_iter_ < 30
    theta = np.r_[m.gamma_, m.coef_.to_numpy()]
    k = m.gamma_.size
    best = _rp_loglik(m, X, y, theta[:k], theta[k:])
    assert best == pytest.approx(m.loglik_, abs=1e-8)
    for j in range(theta.size):
        for step in (-1e-4, 1e-4):
            moved = theta.copy()
            moved[j] += step
            assert _rp_loglik(m, X, y, moved[:k], moved[k:]) < best


def test_flexible_parametric_collinear_is_epi_convergence_error() -> None:
    X, y = _data()
    X = X.assign(demo__age_copy=X["demo__age"] * 2.0)
    with pytest.raises(ConvergenceError, match=r"flexible parametric model .*demo__age_copy") as e:
        make_model("flexible_parametric", df=2).fit(X, y)
    assert "lifelines" not in str(e.value) and "precision loss" not in str(e.value)

"""Cox model against R survival::coxph (Efron) / survfit.coxph / cox.zph on Rossi."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from epi.exceptions import ModelError
from epi.models import CoxModel, RiskModel

TOL = 1e-6  # far below the 1e-3 asked for; the fits agree to ~1e-8


def test_plain_cox_matches_coxph(rossi, ref) -> None:
    """coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio, ties="efron")."""
    X, y = rossi
    r = ref["cox_rossi"]
    m = CoxModel().fit(X, y)
    assert list(m.coef_.index) == r["names"]
    np.testing.assert_allclose(m.coef_, r["coef"], atol=TOL)
    np.testing.assert_allclose(m.se_, r["se"], atol=TOL)
    assert m.loglik_ == pytest.approx(r["loglik"][1], abs=1e-6)
    # survival 3.x does not centre 0/1 covariates (its mean is reported as 0); epi
    # centres every term at its mean. Risks do not depend on the centring.
    continuous = np.asarray(r["means"]) != 0
    np.testing.assert_allclose(m.means_[continuous], np.asarray(r["means"])[continuous])
    # survfit(fit, newdata) with the Efron-corrected baseline (ctype 2)
    np.testing.assert_allclose(m.predict_risk(X, 26), r["risk_26"], atol=TOL)
    np.testing.assert_allclose(m.predict_risk(X, 52), r["risk_52"], atol=TOL)
    table = m.summary()
    np.testing.assert_allclose(table["hr"], np.exp(r["coef"]), rtol=1e-6)
    assert table["p"].between(0, 1).all()
    breslow = CoxModel(baseline_ties="breslow").fit(X, y)
    np.testing.assert_allclose(breslow.predict_risk(X, 52), r["risk_52_breslow"], atol=TOL)


def test_rcs_cox_matches_coxph_rcs(rossi, ref) -> None:
    """coxph(Surv(week, arrest) ~ rcs(age, 4) + fin + race + wexp + mar + paro + prio)."""
    X, y = rossi
    r = ref["cox_rcs_rossi"]
    cols = ["age", "fin", "race", "wexp", "mar", "paro", "prio"]
    m = CoxModel(splines={"age": 4}).fit(X[cols], y)
    np.testing.assert_allclose(m.knots_["age"], r["knots"], atol=1e-12)
    assert list(m.coef_.index)[:3] == ["age", "age'", "age''"]
    np.testing.assert_allclose(m.coef_, r["coef"], atol=TOL)
    np.testing.assert_allclose(m.se_, r["se"], atol=TOL)
    assert m.loglik_ == pytest.approx(r["loglik"][1], abs=1e-6)
    np.testing.assert_allclose(m.predict_risk(X[cols], 52), r["risk_52"], atol=TOL)


def test_stratified_cox_matches_coxph_strata(rossi, ref) -> None:
    """coxph(Surv(week, arrest) ~ rcs(age, 4) + fin + prio + strata(wexp)); survfit per row."""
    X, y = rossi
    r = ref["cox_strata_rossi"]
    cols = ["age", "fin", "prio", "wexp"]
    m = CoxModel(splines={"age": 4}, strata=["wexp"]).fit(X[cols], y)
    assert set(m.baseline_) == {"wexp=0", "wexp=1"}
    np.testing.assert_allclose(m.coef_, r["coef"], atol=TOL)
    np.testing.assert_allclose(m.se_, r["se"], atol=TOL)
    assert m.loglik_ == pytest.approx(r["loglik"][1], abs=1e-6)
    np.testing.assert_allclose(m.predict_risk(X[cols], 52), r["risk_52"], atol=TOL)


@pytest.mark.parametrize("transform", ["km", "rank", "identity"])
def test_ph_test_matches_cox_zph(rossi, ref, transform: str) -> None:
    """cox.zph(fit, transform=..., terms=FALSE), survival 3.5 (score test, full information)."""
    X, y = rossi
    r = ref["cox_rossi"][f"zph_{transform}"]
    table = CoxModel().fit(X, y).ph_test(transform)
    assert list(table.index) == r["names"]
    np.testing.assert_allclose(table["chisq"], r["chisq"], rtol=1e-5)
    np.testing.assert_allclose(table["p"], r["p"], atol=1e-6)
    assert table.loc["GLOBAL", "df"] == 7


def test_ridge_equals_survival_ridge(rossi, ref) -> None:
    """coxph(Surv(week, arrest) ~ ridge(scale(X), theta = n * 0.1, scale = FALSE)):
    lifelines' penalizer on standardised covariates, rescaled to the original units."""
    X, y = rossi
    r = ref["cox_ridge_rossi"]
    m = CoxModel(penalizer=r["penalizer"]).fit(X, y)
    np.testing.assert_allclose(m.coef_, r["coef"], atol=1e-4)


def test_ph_test_stratified_spline_model(rossi, ref) -> None:
    """cox.zph(coxph(Surv(week, arrest) ~ rcs(age, 4) + fin + prio + strata(wexp)), "km")."""
    X, y = rossi
    r = ref["cox_strata_rossi"]["zph_km"]
    m = CoxModel(splines={"age": 4}, strata=["wexp"]).fit(X[["age", "fin", "prio", "wexp"]], y)
    table = m.ph_test("km")
    np.testing.assert_allclose(table["chisq"], r["chisq"], rtol=1e-5)
    np.testing.assert_allclose(table["p"], r["p"], atol=1e-6)


def test_penalty_shrinks_and_l1_runs(rossi) -> None:
    X, y = rossi
    plain = CoxModel().fit(X, y).coef_
    ridge = CoxModel(penalizer=0.1).fit(X, y).coef_
    enet = CoxModel(penalizer=0.05, l1_ratio=0.5).fit(X, y).coef_
    assert np.abs(ridge).sum() < np.abs(plain).sum()
    assert np.abs(enet).sum() < np.abs(plain).sum()


def test_fit_returns_self_protocol_and_inputs_untouched(rossi) -> None:
    X, y = rossi
    X0, y0 = X.copy(deep=True), y.copy(deep=True)
    m = CoxModel(splines={"age": 3}, strata=["wexp"])
    assert m.fit(X, y) is m
    assert isinstance(m, RiskModel)
    risk = m.predict_risk(X, 52)
    assert risk.shape == (len(X),) and np.all((risk >= 0) & (risk <= 1))
    pd.testing.assert_frame_equal(X, X0)
    pd.testing.assert_frame_equal(y, y0)


def test_knots_are_learnt_in_fit(rossi) -> None:
    """A resample refits its own knots (no leakage of the full-data quantiles)."""
    X, y = rossi
    old = X["age"] >= 22
    full = CoxModel(splines={"age": 4}).fit(X, y).knots_["age"]
    sub = CoxModel(splines={"age": 4}).fit(X[old], y[old]).knots_["age"]
    assert sub[0] >= 22 and not np.allclose(full, sub)


def test_competing_deaths_are_censored(rossi) -> None:
    X, y = rossi
    y2 = y.copy()
    y2.loc[y2.index[:20], "event"] = np.where(y2["event"].iloc[:20] == 0, 2, 1)
    as_censored = y2.assign(event=y2["event"].replace(2, 0))
    a = CoxModel().fit(X, y2).predict_risk(X, 52)
    b = CoxModel().fit(X, as_censored).predict_risk(X, 52)
    np.testing.assert_array_equal(a, b)


def test_unknown_stratum_and_unfitted(rossi) -> None:
    X, y = rossi
    with pytest.raises(ModelError, match="not fitted"):
        CoxModel().predict_risk(X, 52)
    m = CoxModel(strata=["wexp"]).fit(X, y)
    with pytest.raises(ModelError, match="not seen in training"):
        m.predict_risk(X.assign(wexp=5), 52)
    with pytest.raises(ModelError, match="lacks 1 column"):
        m.predict_risk(X.drop(columns=["prio"]), 52)

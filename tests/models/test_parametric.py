"""Weibull and Royston–Parmar models against R survival::survreg(dist = "weibull") on Rossi."""

from __future__ import annotations

import numpy as np
import pytest

from epi.models import FlexibleParametricModel, WeibullModel


def test_weibull_matches_survreg(rossi, ref) -> None:
    """survreg(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio, dist="weibull")."""
    X, y = rossi
    r = ref["weibull_rossi"]
    m = WeibullModel().fit(X, y)
    np.testing.assert_allclose(np.r_[m.intercept_, m.coef_], r["coef"], atol=1e-4)
    assert np.log(m.scale_) == pytest.approx(r["log_scale"], abs=1e-4)
    assert m.loglik_ == pytest.approx(r["loglik"][1], abs=1e-6)
    np.testing.assert_allclose(m.predict_risk(X, 52), r["risk_52"], atol=1e-4)


def test_flexible_parametric_df1_is_weibull_ph(rossi, ref) -> None:
    """With no interior knots the Royston–Parmar model is Weibull PH: β = -coef/scale."""
    X, y = rossi
    r = ref["weibull_rossi"]
    m = FlexibleParametricModel(df=1).fit(X, y)
    np.testing.assert_allclose(
        m.coef_, -np.asarray(r["coef"][1:]) / np.exp(r["log_scale"]), atol=1e-4
    )
    assert m.loglik_ == pytest.approx(r["loglik"][1], abs=1e-4)
    np.testing.assert_allclose(m.predict_risk(X, 52), r["risk_52"], atol=1e-4)


def test_flexible_parametric_df3_matches_direct_ml_in_r(rossi, ref) -> None:
    """Royston–Parmar df = 3 fitted in R by direct maximum likelihood (optim + Newton,
    reference.R), an implementation independent of lifelines."""
    X, y = rossi
    r = ref["rp_rossi_df3"]
    m = FlexibleParametricModel(df=3).fit(X, y)
    np.testing.assert_allclose(m.time_knots_, r["knots"], atol=1e-12)
    np.testing.assert_allclose(m.coef_, r["coef"], atol=1e-5)
    np.testing.assert_allclose(m.gamma_, r["gamma"], atol=1e-5)
    assert m.loglik_ == pytest.approx(r["loglik"], abs=1e-6)
    np.testing.assert_allclose(m.predict_risk(X, 52), r["risk_52"], atol=1e-6)


def test_flexible_parametric_more_df_fits_better(rossi) -> None:
    X, y = rossi
    one = FlexibleParametricModel(df=1).fit(X, y)
    three = FlexibleParametricModel(df=3, splines={"age": 3}).fit(X, y)
    assert three.loglik_ >= one.loglik_ - 1e-6
    assert three.time_knots_.size == 4
    risk = three.predict_risk(X, 52)
    assert np.all((risk > 0) & (risk < 1))

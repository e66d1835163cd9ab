"""Cause-specific Cox against riskRegression::CSC + predictRisk (pbc), and no overestimation."""

from __future__ import annotations

import numpy as np
import pytest

from epi.exceptions import ModelError, StatisticalWarning
from epi.models import CauseSpecificCoxModel, CoxModel


@pytest.mark.parametrize("horizon", [1826, 3652])
def test_cif_matches_riskregression(pbc, ref, horizon: int) -> None:
    """CSC(Hist(time, event) ~ age + log_bili + albumin + edema + log_protime, data = pbc);
    predictRisk(csc, newdata, times = horizon, cause = 1, product.limit = TRUE / FALSE)."""
    X, y = pbc
    r = ref["csc_pbc"]
    m = CauseSpecificCoxModel().fit(X, y)
    np.testing.assert_allclose(m.cause1_.coef_, r["coef_cause1"], atol=1e-6)
    np.testing.assert_allclose(m.cause2_.coef_, r["coef_cause2"], atol=1e-6)
    np.testing.assert_allclose(
        m.predict_risk(X, horizon), r[f"risk_{horizon}_product_limit"], atol=1e-6
    )
    # exp(-(Λ1+Λ2)) version: riskRegression returns values > 1 for a few persons; epi clips
    m.product_limit = False
    with pytest.warns(StatisticalWarning, match="clipped"):
        risk = m.predict_risk(X, horizon)
    np.testing.assert_allclose(risk, np.minimum(r[f"risk_{horizon}"], 1.0), atol=1e-6)


def test_no_overestimation_with_heavy_competing_death(competing) -> None:
    X, y = competing
    assert (y["event"] == 2).sum() > 2 * (y["event"] == 1).sum()
    cif = CauseSpecificCoxModel().fit(X, y).predict_risk(X, 1826)
    naive = CoxModel().fit(X, y).predict_risk(X, 1826)  # deaths censored: 1 - S1
    assert np.all(cif < naive)
    # the frail, old persons are where censoring deaths overstates risk most
    gap = naive - cif
    assert gap[X["demo__frail"] == 1].mean() > gap[X["demo__frail"] == 0].mean()
    # the cohort-average CIF agrees with the observed proportion (no censoring before 1826)
    assert cif.mean() == pytest.approx((y["event"] == 1).mean(), abs=0.02)


def test_too_few_competing_events(pbc) -> None:
    X, y = pbc
    y2 = y.assign(event=y["event"].replace(2, 0))
    with pytest.raises(ModelError, match=r"only 0 competing event\(s\) \(event == 2\)"):
        CauseSpecificCoxModel().fit(X, y2)

"""Random survival forest and gradient boosting: tuning inside fit, risks from survival curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from epi.exceptions import ModelError
from epi.models import GradientBoostingSurvivalModel, RandomSurvivalForestModel


def test_rsf_tunes_on_training_rows_only(rossi, monkeypatch) -> None:
    X, y = rossi
    train = X.index[:300]
    seen: list[int] = []
    from sksurv.ensemble import RandomSurvivalForest

    original = RandomSurvivalForest.fit

    def spy(self, X_, y_, *a, **k):  # records how many rows every fit sees
        seen.append(len(X_))
        return original(self, X_, y_, *a, **k)

    monkeypatch.setattr(RandomSurvivalForest, "fit", spy)
    m = RandomSurvivalForestModel(
        param_grid={"min_samples_leaf": [5, 20]}, cv=3, n_estimators=15, n_jobs=1
    ).fit(X.loc[train], y.loc[train])
    assert max(seen) == 300 and len(seen) == 2 * 3 + 1  # 2 candidates x 3 folds + refit
    assert m.best_params_["min_samples_leaf"] in (5, 20)
    assert len(m.cv_results_) == 2


@pytest.mark.parametrize(
    "model",
    [
        RandomSurvivalForestModel(param_grid={"min_samples_leaf": [10]}, n_estimators=20),
        GradientBoostingSurvivalModel(
            param_grid={"learning_rate": [0.05, 0.2]}, cv=2, n_estimators=30, max_depth=2
        ),
    ],
    ids=["rsf", "gbsa"],
)
def test_risk_is_one_minus_survival_at_horizon(rossi, model) -> None:
    X, y = rossi
    model.fit(X, y)
    risk = model.predict_risk(X, 30)
    surv = model.estimator_.predict_survival_function(X.to_numpy(float))
    np.testing.assert_allclose(risk, [1 - f(30) for f in surv], atol=1e-12)
    assert np.all(model.predict_risk(X, 0.5) == 0)  # before the first event time
    assert np.all(model.predict_risk(X, 52) >= risk)


def test_tuning_by_integrated_brier_score(rossi) -> None:
    X, y = rossi
    m = RandomSurvivalForestModel(
        param_grid={"min_samples_leaf": [5, 40]}, scoring="ibs", cv=2, n_estimators=10
    ).fit(X, y)
    assert set(m.best_params_) == {"min_samples_leaf"}
    assert (m.cv_results_["mean_test_score"] < 0).all()  # negative IBS
    assert m.estimator_.min_samples_leaf == m.best_params_["min_samples_leaf"]
    assert m.predict_risk(X, 52).shape == (len(X),)


def test_seeded_fits_are_reproducible(rossi) -> None:
    X, y = rossi

    def fit() -> np.ndarray:
        m = RandomSurvivalForestModel(
            param_grid={"min_samples_leaf": [5, 20]}, cv=2, n_estimators=10, random_state=7
        )
        return m.fit(X, y).predict_risk(X, 40)

    np.testing.assert_array_equal(fit(), fit())


def test_bad_grid_parameter() -> None:
    with pytest.raises(ModelError, match="unknown parameter 'leaf'"):
        RandomSurvivalForestModel(param_grid={"leaf": [1]}).fit(
            pd.DataFrame({"a": np.arange(50.0)}),
            pd.DataFrame({"duration": np.arange(1.0, 51.0), "event": [1] * 50}),
        )

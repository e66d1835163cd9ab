"""Resampling through a model factory, with a tiny lifelines Cox model of our own.

The real models (``epi.models``) are tested in ``tests/models``; validation
only needs something with ``fit(X, outcome) -> self`` and
``predict_risk(X, horizon)``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter

import epi.validation as ev
from epi.exceptions import (
    ConvergenceError,
    ConvergenceWarning,
    StatisticalWarning,
    ValidationInputError,
)

REF_DIR = Path(__file__).parent / "reference"
COVARIATES = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]


class TinyCox:
    """Cox model of event 1 (competing events censored), risk = 1 - S(h | x)."""

    def fit(self, X: pd.DataFrame, outcome: pd.DataFrame) -> TinyCox:
        df = X.assign(
            duration=outcome["duration"].to_numpy(),
            event=(outcome["event"] == 1).astype(int).to_numpy(),
        )
        self.model_ = CoxPHFitter().fit(df, "duration", "event")
        return self

    def predict_risk(self, X: pd.DataFrame, horizon: float) -> np.ndarray:
        surv = self.model_.predict_survival_function(X, times=[horizon])
        return 1.0 - surv.to_numpy().ravel()


class NeverConverges(TinyCox):
    def fit(self, X: pd.DataFrame, outcome: pd.DataFrame) -> NeverConverges:
        raise ConvergenceError("Newton-Raphson stopped after 50 steps")


class WarnsOnce(TinyCox):
    """Converges but warns like lifelines does on separation (here: always)."""

    def fit(self, X: pd.DataFrame, outcome: pd.DataFrame) -> WarnsOnce:
        import warnings

        super().fit(X, outcome)
        warnings.warn("norm(delta) is still high", ConvergenceWarning, stacklevel=2)
        return self


class PredictsNaN(TinyCox):
    def predict_risk(self, X: pd.DataFrame, horizon: float) -> np.ndarray:
        out = super().predict_risk(X, horizon)
        out[0] = np.nan
        return out


@pytest.fixture(scope="module")
def rossi() -> tuple[pd.DataFrame, pd.DataFrame]:
    d = pd.read_csv(REF_DIR / "rossi.csv")
    d.index = pd.RangeIndex(len(d), name="person_id")
    X = d[COVARIATES].astype(float)
    outcome = pd.DataFrame({"duration": d["time"], "event": d["status"]})
    return X, outcome


def test_optimism_matches_rms_validate(rossi) -> None:
    """Apparent C equals rms's exactly; the corrected C agrees within Monte Carlo error.

    R: ``rms::validate(cph(Surv(week, arrest) ~ fin + age + race + wexp + mar +
    paro + prio, x = TRUE, y = TRUE), B = 200)`` (reference.R, seed 20240501);
    C = 0.5 + Dxy / 2 over the whole follow-up (horizon = last time, 52 weeks).
    Resamples differ between R and numpy, so the optimism-corrected C can only
    agree up to bootstrap noise (SD of the mean optimism ~0.001 at B = 100).
    """
    X, outcome = rossi
    ref = json.loads((REF_DIR / "reference.json").read_text())["rossi_validate"]
    res = ev.bootstrap_optimism(
        TinyCox, X, outcome, 52.0, n_bootstrap=100, seed=1, measures=["harrell_c"]
    )
    assert res.apparent["harrell_c"] == pytest.approx(0.5 + ref["dxy_orig"] / 2, abs=1e-9)
    assert res.estimate["harrell_c"] == pytest.approx(0.5 + ref["dxy_corrected"] / 2, abs=0.005)
    assert len(res.per_split) == 100 and res.n_failed == 0
    optimism = res.per_split["harrell_c_optimism"]
    assert res.estimate["harrell_c"] == pytest.approx(res.apparent["harrell_c"] - optimism.mean())


def test_optimism_is_seeded_and_independent_of_n_jobs(rossi) -> None:
    X, outcome = rossi
    kw = {"n_bootstrap": 4, "seed": 5, "measures": ["harrell_c", "brier", "calibration_slope"]}
    a = ev.bootstrap_optimism(TinyCox, X, outcome, 45.0, **kw)
    b = ev.bootstrap_optimism(TinyCox, X, outcome, 45.0, n_jobs=2, **kw)
    cpu = ["cpu_seconds"]
    pd.testing.assert_frame_equal(a.per_split.drop(columns=cpu), b.per_split.drop(columns=cpu))
    assert a.estimate == b.estimate
    json.dumps(a.to_dict())  # JSON-ready


def test_cross_validation(rossi) -> None:
    X, outcome = rossi
    res = ev.cross_validate(TinyCox, X, outcome, 45.0, n_splits=4, seed=2)
    per = res.per_split
    assert list(per["split"]) == [1, 2, 3, 4]
    assert per["n_test"].sum() == len(X)
    assert res.estimate["auc"] == pytest.approx(per["auc"].mean())
    assert set(res.pooled) == set(ev.MEASURES)
    # Held-out discrimination is below the apparent one.
    assert res.estimate["harrell_c"] < res.apparent["harrell_c"]


def test_temporal_validation(rossi) -> None:
    X, outcome = rossi
    year = np.where(np.arange(len(X)) < 300, 2015, 2018)
    res = ev.temporal_validation(
        TinyCox, X, outcome, 45.0, index_year=year, split_year=2017, measures=["harrell_c"]
    )
    row = res.per_split.iloc[0]
    assert (row["n_train"], row["n_test"]) == (300, 132)
    assert row["split"] == "2015-2016 -> 2017-2018"
    test = np.arange(len(X)) >= 300
    model = TinyCox().fit(X[~test], outcome[~test])
    want = ev.harrell_c(
        outcome["duration"][test],
        outcome["event"][test],
        model.predict_risk(X[test], 45.0),
        45.0,
    )
    assert res.estimate["harrell_c"] == pytest.approx(want, abs=1e-12)


def test_internal_external_validation_warns_on_small_clusters(rossi) -> None:
    X, outcome = rossi
    cluster = np.where(np.arange(len(X)) < 40, "small", np.arange(len(X)) % 2).astype(str)
    with pytest.warns(StatisticalWarning, match=r"small \(test arm: \d events\)"):
        res = ev.internal_external_validation(
            TinyCox, X, outcome, 45.0, cluster=cluster, measures=["harrell_c", "oe_ratio"]
        )
    assert sorted(res.per_split["split"]) == ["0", "1", "small"]
    assert res.per_split["n_test"].sum() == len(X)
    assert res.estimate == res.pooled


def test_small_cluster_counts_are_masked_in_the_warning(rossi) -> None:
    X, outcome = rossi
    cluster = np.where(np.arange(len(X)) < 12, "tiny", np.arange(len(X)) % 2).astype(str)
    events = int(((outcome["event"][:12] == 1) & (outcome["duration"][:12] <= 45.0)).sum())
    assert 0 < events < 5  # a small cell that must not be printed
    with pytest.warns(StatisticalWarning, match=r"tiny \(test arm: <5 events\)"):
        ev.internal_external_validation(
            TinyCox, X, outcome, 45.0, cluster=cluster, measures=["harrell_c"]
        )


def test_non_convergence_names_the_fix(rossi) -> None:
    X, outcome = rossi
    cluster = np.arange(len(X)) % 3
    message = (
        "The model fit did not converge in 3 of 3 clusters (first: cluster 0: fit failed: "
        "Newton-Raphson stopped after 50 steps). Fix: penalise the model (e.g. a ridge "
        "penalty), drop or merge sparse predictors, reduce spline knots, or check for "
        "(quasi-)separation; non-converged fits were dropped."
    )
    with (
        pytest.warns(ConvergenceWarning, match=f"^{re.escape(message)}$"),
        pytest.raises(ValidationInputError, match="none of the 3 leave-one-cluster-out fits"),
    ):
        ev.internal_external_validation(NeverConverges, X, outcome, 45.0, cluster=cluster)


def test_converged_with_warning_is_kept_and_reported(rossi) -> None:
    X, outcome = rossi
    with pytest.warns(ConvergenceWarning) as record:
        res = ev.cross_validate(WarnsOnce, X, outcome, 45.0, n_splits=3, measures=["harrell_c"])
    assert [str(w.message)[:62] for w in record] == [
        "The model fit did not converge in 3 of 3 folds (first: fold 1:",
        "The model fit did not converge on the full data (first: full d",
    ]
    assert str(record[1].message).endswith("non-converged fits were kept.")
    assert not res.per_split["converged"].any()
    assert np.isfinite(res.estimate["harrell_c"])


def test_model_returning_nan_is_named(rossi) -> None:
    X, outcome = rossi
    with pytest.raises(
        ValidationInputError,
        match=re.escape("full data: predict_risk: 1 of 432 predicted risks are NaN"),
    ):
        ev.bootstrap_optimism(PredictsNaN, X, outcome, 45.0, n_bootstrap=2)


RESAMPLING_ERRORS = {
    "misaligned index": (
        lambda X, y: (X, y.set_axis(y.index + 1)),
        "X (432 rows) and outcome (432 rows) must have the same index (person_id) in the same "
        "order; align them with outcome.loc[X.index].",
    ),
    "outcome columns": (
        lambda X, y: (X, y.rename(columns={"duration": "time"})),
        "outcome must be a DataFrame with columns 'duration' and 'event'; got ['time', 'event'].",
    ),
}


@pytest.mark.parametrize("case", sorted(RESAMPLING_ERRORS))
def test_resampling_input_errors(rossi, case: str) -> None:
    change, message = RESAMPLING_ERRORS[case]
    X, y = change(*rossi)
    with pytest.raises(ValidationInputError, match=f"^{re.escape(message)}$"):
        ev.bootstrap_optimism(TinyCox, X, y, 45.0, n_bootstrap=2)

"""Missing-data handlers (fitted on training rows) and Rubin's rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from epi.exceptions import CohortError
from epi.features import (
    CompleteCase,
    MissingIndicator,
    MultipleImputation,
    make_missing_handler,
    rubins_rules,
)
from epi.protocol import MissingDataSpec


def _X() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "demo__age": [70.0, 80.0, 75.0, 90.0, 66.0],
            "gp__lab_a1c_last": [50.0, np.nan, 60.0, np.nan, 40.0],
            "gp__lab_a1c_mean": [48.0, np.nan, 58.0, np.nan, 41.0],
            "gp__lab_a1c_missing": [0, 1, 0, 1, 0],
            "gp__lab_egfr_last": [np.nan, 70.0, 80.0, 60.0, 90.0],
        },
        index=pd.Index([f"P{i}" for i in range(5)], name="person_id"),
    )


def test_complete_case_drops_rows_with_any_missing() -> None:
    X = _X()
    out = CompleteCase().fit(X).transform(X)
    assert list(out.index) == ["P2", "P4"]


def test_missing_indicator_uses_training_medians_and_no_collinear_flags() -> None:
    X = _X()
    before = X.copy()
    handler = MissingIndicator().fit(X)
    out = handler.transform(X)
    pd.testing.assert_frame_equal(X, before)  # input untouched
    floats = X.astype(float)  # one float block: the fill must not write through a view
    MissingIndicator().fit(floats).transform(floats)
    pd.testing.assert_frame_equal(floats, before.astype(float))
    # a1c's pattern is already gp__lab_a1c_missing: only eGFR gets a flag
    assert list(handler.indicators_) == ["gp__lab_egfr_last__missing"]
    assert out.at["P1", "gp__lab_a1c_last"] == 50.0  # median of 50, 60, 40
    assert out.at["P0", "gp__lab_egfr_last"] == 75.0
    assert out["gp__lab_egfr_last__missing"].tolist() == [1, 0, 0, 0, 0]
    assert not out.isna().any().any()
    # new rows use the training fit
    new = pd.DataFrame({c: [np.nan] for c in X.columns}, index=["Q"])
    got = handler.transform(new)
    assert got.at["Q", "demo__age"] == 75.0
    assert got.at["Q", "gp__lab_egfr_last__missing"] == 1


def test_missing_indicator_skips_the_complement_of_a_binary_column() -> None:
    """A note variable's days-since-last is missing exactly when its any-mention flag is
    0: the indicator would be 1 - flag, collinear in a model with a baseline."""
    X = pd.DataFrame(
        {
            "note__fall_any": [1, 0, 0, 1, 0],
            "note__fall_days_since_last": [30.0, np.nan, np.nan, 200.0, np.nan],
            "note__cough_days_since_last": [np.nan, 5.0, 9.0, np.nan, np.nan],
        }
    )
    handler = MissingIndicator().fit(X)
    assert list(handler.indicators_) == ["note__cough_days_since_last__missing"]
    out = handler.transform(X)
    assert np.linalg.matrix_rank(np.column_stack([np.ones(5), out.to_numpy()])) == out.shape[1] + 1


def test_multiple_imputation_gives_m_sets_fitted_on_training_rows() -> None:
    rng = np.random.default_rng(3)
    n = 400
    age = rng.normal(75, 7, n)
    a1c = 20 + 0.5 * age + rng.normal(0, 3, n)
    X = pd.DataFrame({"demo__age": age, "gp__lab_a1c_last": a1c})
    X.loc[rng.random(n) < 0.3, "gp__lab_a1c_last"] = np.nan
    train, test = X.iloc[:300], X.iloc[300:]
    handler = MultipleImputation(m=4, max_iter=5, seed=11).fit(train)
    sets = handler.transform(test)
    assert len(sets) == 4
    miss = test["gp__lab_a1c_last"].isna()
    for s in sets:
        assert s.index.equals(test.index) and not s.isna().any().any()
        pd.testing.assert_series_equal(
            s.loc[~miss, "gp__lab_a1c_last"], test.loc[~miss, "gp__lab_a1c_last"]
        )
    draws = np.column_stack([s.loc[miss, "gp__lab_a1c_last"] for s in sets])
    assert np.all(draws.std(axis=1) > 0)  # proper MI: imputations differ
    # imputations follow the age relation learnt on the training rows
    slope = np.polyfit(test.loc[miss, "demo__age"], draws.mean(axis=1), 1)[0]
    assert 0.3 < slope < 0.7
    again = MultipleImputation(m=4, max_iter=5, seed=11).fit(train).transform(test)
    pd.testing.assert_frame_equal(again[2], sets[2])  # seeded


@pytest.mark.parametrize(
    ("strategy", "cls"),
    [
        ("complete_case", CompleteCase),
        ("missing_indicator", MissingIndicator),
        ("multiple_imputation", MultipleImputation),
    ],
)
def test_handler_follows_the_protocol(strategy: str, cls: type) -> None:
    handler = make_missing_handler(MissingDataSpec(strategy=strategy, imputations=3), seed=5)
    assert isinstance(handler, cls)
    if isinstance(handler, MultipleImputation):
        assert (handler.m, handler.seed) == (3, 5)


def test_rubins_rules_matches_mice() -> None:
    """Q = (1.0, 1.2, 1.4), U = (0.04, 0.05, 0.06), m = 3.

    By hand: Q̄ = 1.2, Ū = 0.05, B = 0.04, T = 0.05 + 4/3 * 0.04 = 0.103333…,
    r = (4/3 * 0.04) / 0.05 = 16/15, ν = 2 (1 + 15/16)² = 7.5078125.
    R mice 3.15.0 ``pool.scalar`` (script: reference/rubin_mice.R) gives the same,
    and with complete-data df 20 the Barnard-Rubin ν = 4.058949056479.
    """
    q, u = [1.0, 1.2, 1.4], [0.04, 0.05, 0.06]
    pooled, total, df = rubins_rules(q, u)
    assert pooled == pytest.approx(1.2)
    assert total == pytest.approx(0.103333333333)
    assert df == pytest.approx(7.5078125)
    assert rubins_rules(q, u, df_complete=20)[2] == pytest.approx(4.058949056479)
    # vectorised over parameters
    p, t, df2 = rubins_rules(np.column_stack([q, q]), np.column_stack([u, u]))
    assert p.shape == (2,) and t == pytest.approx([0.103333333333] * 2)
    assert df2 == pytest.approx([7.5078125] * 2)
    # no between-imputation variance: infinite df
    assert rubins_rules([1.0, 1.0], [0.1, 0.1])[2] == np.inf


@pytest.mark.parametrize(
    ("q", "u", "match"),
    [
        ([1.0], [0.1], "at least 2"),
        ([1.0, 2.0], [0.1], "same shape"),
        ([1.0, 2.0], [0.1, -0.1], ">= 0"),
    ],
)
def test_rubins_rules_bad_input(q: list[float], u: list[float], match: str) -> None:
    with pytest.raises(CohortError, match=match):
        rubins_rules(q, u)


def test_handlers_reject_other_columns() -> None:
    handler = MissingIndicator().fit(_X())
    with pytest.raises(CohortError, match="seen in fit are absent"):
        handler.transform(_X().drop(columns="demo__age"))

"""Bad input gives one clear error (or a named warning) that says what to do."""

from __future__ import annotations

import re

import numpy as np
import pytest

import epi.validation as ev
from epi.exceptions import StatisticalWarning, ValidationInputError

T = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
E = np.array([1, 0, 1, 0, 1, 0])
R = np.array([0.9, 0.2, 0.7, 0.3, 0.5, 0.1])

ALL_MEASURES = [
    ev.harrell_c,
    ev.uno_c,
    ev.time_dependent_auc,
    ev.brier_score,
    ev.ipa,
    ev.oe_ratio,
    ev.calibration_slope,
    ev.calibration_in_the_large,
    ev.calibration_errors,
    ev.calibration_curve,
]

# name -> (duration, event, risk, horizon, exact message)
ERROR_CASES = {
    "all censored": (
        T,
        np.zeros(6, int),
        R,
        3.0,
        "outcome: all 6 persons are censored or had a competing event (no event code 1); "
        "validation needs observed events - check the event column and its coding "
        "(0 censored, 1 event, 2 competing).",
    ),
    "only competing events": (
        T,
        np.array([2, 0, 2, 0, 2, 0]),
        R,
        3.0,
        "outcome: all 6 persons are censored or had a competing event (no event code 1); "
        "validation needs observed events - check the event column and its coding "
        "(0 censored, 1 event, 2 competing).",
    ),
    "no event before the horizon": (
        T,
        np.array([0, 0, 0, 0, 1, 1]),
        R,
        3.0,
        "outcome: no event occurs by the horizon 3 (2 events, the first at 5); choose a "
        "later horizon or check the time unit.",
    ),
    "risk above 1": (
        T,
        E,
        np.array([0.9, 0.2, 70.0, 0.3, 0.5, 10.0]),
        3.0,
        "risk: 2 of 6 predicted risks are outside [0, 1] (first: 70.0, 10.0); pass absolute "
        "risks by the horizon, not percentages, linear predictors or survival probabilities.",
    ),
    "negative risk": (
        T,
        E,
        np.array([0.9, -0.2, 0.7, 0.3, 0.5, 0.1]),
        3.0,
        "risk: 1 of 6 predicted risks are outside [0, 1] (first: -0.2); pass absolute risks "
        "by the horizon, not percentages, linear predictors or survival probabilities.",
    ),
    "NaN risk": (
        T,
        E,
        np.array([0.9, np.nan, 0.7, 0.3, 0.5, 0.1]),
        3.0,
        "risk: 1 of 6 predicted risks are NaN or infinite (first: nan); every person needs a "
        "risk - check the model's predictions for missing covariates.",
    ),
    "horizon beyond last follow-up": (
        T,
        E,
        R,
        10.0,
        "outcome: horizon 10 is beyond the last follow-up time 6; risks cannot be checked "
        "where nobody is followed - choose a horizon <= 6 (in the same unit as the durations).",
    ),
    "non-positive horizon": (T, E, R, 0.0, "outcome: horizon must be a positive number, got 0.0."),
    "event code 3": (
        T,
        np.array([1, 0, 3, 0, 1, 0]),
        R,
        3.0,
        "outcome: 1 of 6 event codes are not 0, 1 or 2 (first: 3); code 0 = censored, "
        "1 = event, 2 = competing event.",
    ),
    "missing duration": (
        np.array([1.0, np.nan, 3.0, 4.0, 5.0, 6.0]),
        E,
        R,
        3.0,
        "outcome: 1 of 6 durations are missing, infinite or not > 0 (first: nan); durations "
        "are time since index and must be positive - drop or correct those rows.",
    ),
    "zero duration": (
        np.array([0.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
        E,
        R,
        3.0,
        "outcome: 1 of 6 durations are missing, infinite or not > 0 (first: 0.0); durations "
        "are time since index and must be positive - drop or correct those rows.",
    ),
    "risk length": (
        T,
        E,
        R[:5],
        3.0,
        "risk: 5 predicted risks for 6 persons; pass one risk per person.",
    ),
    "event length": (
        T,
        E[:5],
        R,
        3.0,
        "outcome: duration has 6 rows but event has 5; pass one value of each per person.",
    ),
}


@pytest.mark.filterwarnings("ignore::epi.exceptions.StatisticalWarning")
@pytest.mark.parametrize("func", ALL_MEASURES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_bad_input_raises_clear_error(case: str, func) -> None:
    t, e, r, h, message = ERROR_CASES[case]
    with pytest.raises(ValidationInputError, match=f"^{re.escape(message)}$"):
        func(t, e, r, h)


@pytest.mark.filterwarnings("ignore::epi.exceptions.StatisticalWarning")
@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_bad_input_raises_in_evaluate_predictions(case: str) -> None:
    t, e, r, h, message = ERROR_CASES[case]
    with pytest.raises(ValidationInputError, match=f"^{re.escape(message)}$"):
        ev.evaluate_predictions(t, e, {"risk": r}, h, n_bootstrap=0)


def test_fewer_than_10_events_warns() -> None:
    with pytest.warns(StatisticalWarning) as record:
        ev.harrell_c(T, E, R, 6.0)
    assert str(record[0].message) == (
        "outcome: only 3 events by the horizon 6 (fewer than 10); the estimates are "
        "unreliable and their intervals wide - pool more data or choose a later horizon."
    )


THRESHOLD_CASES = {
    "zero": ([0.0, 0.1], "thresholds: 1 values are not strictly between 0 and 1 (first: 0)"),
    "one": ([0.5, 1.0], "thresholds: 1 values are not strictly between 0 and 1 (first: 1)"),
    "empty": ([], "thresholds: the grid is empty; pass risks in (0, 1)."),
}


@pytest.mark.filterwarnings("ignore::epi.exceptions.StatisticalWarning")
@pytest.mark.parametrize("case", sorted(THRESHOLD_CASES))
def test_bad_thresholds(case: str) -> None:
    grid, message = THRESHOLD_CASES[case]
    with pytest.raises(ValidationInputError, match=re.escape(message)):
        ev.net_benefit(T, E, R, 3.0, grid)


def test_constant_risk_gives_nan_slope_with_a_named_warning() -> None:
    """A constant risk cannot be regressed on: NaN slope and a warning naming why."""
    rng = np.random.default_rng(3)
    t = rng.exponential(5, 200) + 0.1
    e = rng.integers(0, 2, 200)
    with pytest.warns(StatisticalWarning) as record:
        slope = ev.calibration_slope(t, e, np.full(200, 0.3), 3.0)
    assert np.isnan(slope)
    assert str(record[0].message) == (
        "calibration slope: all predicted risks are equal (0.3), so the slope is undefined "
        "and reported as NaN; check the risks (are they constant?)."
    )
    # Discrimination of a constant risk is 1/2 and ICI the distance to the observed risk.
    assert ev.harrell_c(t, e, np.full(200, 0.3), 3.0) == 0.5
    errors = ev.calibration_errors(t, e, np.full(200, 0.3), 3.0)
    assert errors["ici"] == pytest.approx(abs(ev.observed_risk(t, e, 3.0) - 0.3), abs=1e-6)

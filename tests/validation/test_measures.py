"""Properties of the measures that hold whatever the reference software says."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from lifelines.utils import concordance_index

import epi.validation as ev


def _brute_harrell(t, e, r, h) -> float:
    num = den = 0.0
    for i, j in itertools.permutations(range(len(t)), 2):
        if e[i] == 1 and t[i] <= h and (t[j] > t[i] or (t[j] == t[i] and e[j] != 1)):
            den += 1
            num += (r[i] > r[j]) + 0.5 * (r[i] == r[j])
    return num / den


def _simulate(n: int, seed: int, competing: bool = False):
    """Exponential event times with known risk at the horizon (the truth)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    rate1 = 0.1 * np.exp(0.8 * x)
    rate2 = np.full(n, 0.05 if competing else 0.0)
    t1 = rng.exponential(1 / rate1)
    t2 = rng.exponential(1 / np.where(rate2 > 0, rate2, 1e-12))
    c = rng.uniform(0, 20, n)
    t = np.minimum.reduce([t1, t2, c])
    e = np.select([t == t1, t == t2], [1, 2], 0)
    h = 5.0
    total = rate1 + rate2
    risk = rate1 / total * (1 - np.exp(-total * h))
    return t, e, risk, h


# name -> (duration, event, risk, horizon): small tables with ties in time and risk
SMALL_CASES = {
    "ties in risk": (
        np.array([1, 2, 2, 3, 4, 5, 6, 7.0]),
        np.array([1, 1, 0, 1, 0, 1, 0, 1]),
        np.array([0.9, 0.5, 0.5, 0.5, 0.2, 0.4, 0.1, 0.3]),
        6.0,
    ),
    "ties in time, event and censored": (
        np.array([2, 2, 2, 3, 3, 5, 5, 8.0]),
        np.array([1, 1, 0, 1, 0, 1, 2, 0]),
        np.array([0.7, 0.6, 0.9, 0.3, 0.3, 0.2, 0.8, 0.1]),
        5.0,
    ),
    "truncation drops late events": (
        np.array([1, 2, 3, 4, 5, 6, 7, 8.0]),
        np.array([1, 0, 1, 1, 0, 1, 1, 1]),
        np.array([0.1, 0.2, 0.3, 0.9, 0.5, 0.6, 0.95, 0.99]),
        4.0,
    ),
}


@pytest.mark.filterwarnings("ignore::epi.exceptions.StatisticalWarning")
@pytest.mark.parametrize("case", sorted(SMALL_CASES))
def test_harrell_c_equals_pairwise_definition(case: str) -> None:
    t, e, r, h = SMALL_CASES[case]
    assert ev.harrell_c(t, e, r, h) == pytest.approx(_brute_harrell(t, e, r, h), abs=1e-12)


def test_harrell_c_equals_lifelines_without_truncation() -> None:
    """Peer check: lifelines' concordance_index on data censored at the horizon."""
    t, e, r, h = _simulate(3000, 1)
    tt = np.minimum(t, h)
    ee = (e == 1) & (t <= h)
    assert ev.harrell_c(t, e, r, h) == pytest.approx(concordance_index(tt, -r, ee), abs=1e-12)


def test_well_calibrated_true_risks() -> None:
    """With the true risks, calibration measures sit at their ideal values."""
    t, e, r, h = _simulate(40_000, 2, competing=True)
    assert ev.oe_ratio(t, e, r, h) == pytest.approx(1.0, abs=0.03)
    assert ev.calibration_slope(t, e, r, h) == pytest.approx(1.0, abs=0.05)
    assert ev.calibration_in_the_large(t, e, r, h) == pytest.approx(0.0, abs=0.03)
    assert ev.calibration_errors(t, e, r, h)["ici"] < 0.01


def test_miscalibration_has_the_documented_signs() -> None:
    t, e, r, h = _simulate(20_000, 3)
    too_high = np.clip(r * 1.5, 0, 1)
    assert ev.oe_ratio(t, e, too_high, h) < 1
    assert ev.calibration_in_the_large(t, e, too_high, h) < 0
    too_extreme = 1 - (1 - r) ** np.exp(1.5 * np.log(-np.log1p(-r)) - np.log(-np.log1p(-r)))
    assert ev.calibration_slope(t, e, too_extreme, h) < 1


def test_monotone_transform_keeps_discrimination() -> None:
    t, e, r, h = _simulate(2000, 4, competing=True)
    r2 = r**2
    for f in (ev.harrell_c, ev.uno_c, ev.time_dependent_auc):
        assert f(t, e, r2, h) == pytest.approx(f(t, e, r, h), abs=1e-12)


def test_null_model_has_zero_ipa_and_half_auc() -> None:
    t, e, _, h = _simulate(2000, 5, competing=True)
    km = ev.observed_risk(t, e, h)
    const = np.full(t.size, km)
    assert ev.ipa(t, e, const, h) == pytest.approx(0.0, abs=1e-12)
    assert ev.time_dependent_auc(t, e, const, h) == pytest.approx(0.5, abs=1e-12)
    assert ev.uno_c(t, e, const, h) == pytest.approx(0.5, abs=1e-12)


def test_inputs_are_not_modified() -> None:
    t, e, r, h = _simulate(500, 6, competing=True)
    frame = pd.DataFrame({"t": t, "e": e, "r": r})
    before = frame.copy()
    ev.evaluate_predictions(frame["t"], frame["e"], {"m": frame["r"]}, h, n_bootstrap=3)
    pd.testing.assert_frame_equal(frame, before)


def test_net_benefit_edges() -> None:
    t, e, r, h = _simulate(2000, 7)
    nb = ev.net_benefit(t, e, r, h, [0.999])
    assert nb[0] == 0.0  # nobody treated
    curve = ev.decision_curve(t, e, {"m": r}, h, [0.01, 0.1])
    assert list(curve["model"]) == ["m", "m", ev.TREAT_ALL, ev.TREAT_ALL] + [ev.TREAT_NONE] * 2
    # At a threshold below every risk, the model treats all.
    low = ev.net_benefit(t, e, r, h, [min(r.min(), 0.5) * 0.999])
    all_ = curve.query("model == @ev.TREAT_ALL")["net_benefit"].iloc[0]
    assert np.isfinite(low[0]) and np.isfinite(all_)


def test_bootstrap_is_seeded_and_covers_the_estimate() -> None:
    t, e, r, h = _simulate(1500, 8, competing=True)
    a = ev.evaluate_predictions(t, e, {"m": r}, h, n_bootstrap=20, seed=11)
    b = ev.evaluate_predictions(t, e, {"m": r}, h, n_bootstrap=20, seed=11)
    assert a == b
    # resamples split over processes: the same draws, the same intervals
    assert ev.evaluate_predictions(t, e, {"m": r}, h, n_bootstrap=20, seed=11, n_jobs=2) == a
    assert ev.evaluate_predictions(t, e, {"m": r}, h, n_bootstrap=20, seed=12) != a
    for m in ("harrell_c", "auc", "brier", "oe_ratio", "calibration_slope"):
        v = a["models"]["m"][m]
        assert v["lower"] <= v["estimate"] <= v["upper"], m
    assert set(a["models"]["m"]) == set(ev.MEASURES)
    assert a["n"] == 1500 and a["events"] == int(((e == 1) & (t <= h)).sum())


def test_calibration_curve_band_contains_curve() -> None:
    t, e, r, h = _simulate(3000, 9)
    c = ev.calibration_curve(t, e, r, h)
    assert list(c.columns) == ["predicted", "observed", "lower", "upper"]
    assert len(c) == 100
    assert ((c["lower"] <= c["observed"]) & (c["observed"] <= c["upper"])).all()

"""NRI, IDI and the nested-Cox LR test against R and a published example.

``reference/reference.R`` (committed with its output ``reference.json``)
computes, independently of epi and with R's ``survival`` and ``prodlim``:
the survival NRI of Pencina, Steyerberg & D'Agostino (2011) from
``survfit`` Kaplan–Meier / Aalen–Johansen risks in the up and down groups
(categorical at 0.1 and 0.2, and continuous), the IPCW IDI with prodlim's
reverse Kaplan–Meier weights, and ``anova`` of two nested ``coxph`` fits on
Rossi with the null log partial likelihood and Harrell's adequacy index.
``nricens``, ``survIDINRI`` and ``PredictABEL`` are not packaged for Debian
and CRAN was not reachable, so the definitions are coded by hand in R
(documented at the top of the script). Data: Rossi, GBSG2 and a
competing-risks flchain subsample with two columns of predicted risk
(exported by ``tests/validation/reference/make_data.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from epi.models import make_model
from epi.validation.comparison import likelihood_ratio_test, null_loglik, survival_idi, survival_nri

REF_DIR = Path(__file__).parent / "reference"
REFERENCE = json.loads((REF_DIR / "reference.json").read_text())
CASES = sorted(k for k in REFERENCE if "@" in k)


def _data(case: dict) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    d = pd.read_csv(REF_DIR / f"{case['dataset']}.csv")
    if case["new"] == "alt":
        new = d["risk_alt"].to_numpy()
    else:  # the same transformation as reference.R
        new = expit(logit(d["risk_cox"].to_numpy()) + 0.7 * np.sin(np.arange(1, len(d) + 1)))
    return d, d["risk_cox"].to_numpy(), new


@pytest.mark.parametrize("key", CASES)
def test_nri_matches_r(key: str) -> None:
    case = REFERENCE[key]
    d, r0, r1 = _data(case)
    h = case["horizon"]
    cat = survival_nri(d["time"], d["status"], r0, r1, h, cuts=[0.1, 0.2])
    con = survival_nri(d["time"], d["status"], r0, r1, h)
    for got, want in ((cat, case["nri_categorical"]), (con, case["nri_continuous"])):
        for part in ("event", "nonevent", "nri"):
            assert got[part] == pytest.approx(want[part], abs=1e-12), part


@pytest.mark.parametrize("key", CASES)
def test_idi_matches_r(key: str) -> None:
    case = REFERENCE[key]
    d, r0, r1 = _data(case)
    got = survival_idi(d["time"], d["status"], r0, r1, case["horizon"])
    for part in ("event", "nonevent", "idi"):
        assert got[part] == pytest.approx(case["idi"][part], abs=1e-12), part


def test_lr_test_and_adequacy_match_r_on_rossi() -> None:
    ref = REFERENCE["lr_rossi"]
    d = pd.read_csv(REF_DIR / "rossi.csv")
    outcome = d[["time", "status"]].set_axis(["duration", "event"], axis=1)
    small = make_model("cox").fit(d[ref["reference"]], outcome)
    big = make_model("cox").fit(d[ref["extended"]], outcome)
    got = likelihood_ratio_test(small, big, outcome)
    assert got["applicable"]
    assert got["df"] == ref["df"]
    assert got["loglik_null"] == pytest.approx(ref["loglik_null"], abs=1e-9)
    assert got["loglik_reference"] == pytest.approx(ref["loglik_reference"], abs=1e-6)
    assert got["loglik_extended"] == pytest.approx(ref["loglik_extended"], abs=1e-6)
    assert got["chi2"] == pytest.approx(ref["chi2"], abs=1e-5)
    assert got["p"] == pytest.approx(ref["p"], abs=1e-6)
    assert got["adequacy"] == pytest.approx(ref["adequacy"], abs=1e-6)


def test_null_loglik_with_ties_is_efron() -> None:
    # Hand computation: event times 1 (2 events, 4 at risk), 2 (1 event, 1 at risk).
    t = np.array([1.0, 1.0, 1.0, 2.0])
    e = np.array([1, 1, 0, 1])
    assert null_loglik(t, e) == pytest.approx(-(np.log(4) + np.log(3) + np.log(1)))
    d = pd.read_csv(REF_DIR / "rossi.csv")
    assert null_loglik(d["time"], d["status"]) == pytest.approx(
        REFERENCE["lr_rossi"]["loglik_null"], abs=1e-9
    )


def test_lr_test_not_applicable_when_not_nested() -> None:
    d = pd.read_csv(REF_DIR / "rossi.csv")
    outcome = d[["time", "status"]].set_axis(["duration", "event"], axis=1)
    a = make_model("cox").fit(d[["fin", "age"]], outcome)
    b = make_model("cox").fit(d[["prio", "race"]], outcome)
    got = likelihood_ratio_test(a, b, outcome)
    assert not got["applicable"]
    assert "not all in the extended model" in got["reason"]
    pen = make_model("cox", penalizer=0.1).fit(d[["fin", "age", "prio"]], outcome)
    assert not likelihood_ratio_test(a, pen, outcome)["applicable"]


def _binary(n_ev: int, n_ne: int, moves: dict[str, tuple[int, int]]) -> tuple:
    """Persons without censoring before the horizon: events at day 100, others at 1000.

    ``moves[group] = (up, down)``; risks 0.05 -> 0.15 is up, 0.15 -> 0.05 down,
    0.15 -> 0.15 unchanged.
    """
    rows = []
    for group, n, t, e in (("event", n_ev, 100.0, 1), ("nonevent", n_ne, 1000.0, 0)):
        up, down = moves[group]
        rows += [(t, e, 0.05, 0.15)] * up + [(t, e, 0.15, 0.05)] * down
        rows += [(t, e, 0.15, 0.15)] * (n - up - down)
    a = np.array(rows)
    return a[:, 0], a[:, 1].astype(int), a[:, 2], a[:, 3]


def test_published_binary_example_pencina_2008() -> None:
    """Pencina et al. (2008, Stat Med 27:157), adding HDL to the Framingham model.

    Reclassification counts as in the paper's worked example (183 persons with
    an event: 29 moved up, 7 down; 3081 without: 173 up, 174 down); published
    NRI 12.1 %. Without censoring before the horizon the KM-based survival NRI
    is the binary NRI, so the components must be (29 - 7) / 183 and
    (174 - 173) / 3081 exactly.
    """
    t, e, r0, r1 = _binary(183, 3081, {"event": (29, 7), "nonevent": (173, 174)})
    got = survival_nri(t, e, r0, r1, 500.0, cuts=[0.1, 0.2])
    assert got["event"] == pytest.approx(22 / 183, abs=1e-12)
    assert got["nonevent"] == pytest.approx(1 / 3081, abs=1e-12)
    assert round(100 * got["nri"], 1) == 12.1
    # Without censoring the IPCW IDI is the plain difference of mean risks.
    idi = survival_idi(t, e, r0, r1, 500.0)
    ev, ne = e == 1, e == 0
    want = (r1[ev].mean() - r0[ev].mean()) - (r1[ne].mean() - r0[ne].mean())
    assert idi["idi"] == pytest.approx(want, abs=1e-12)


def _per_threshold_net_benefit(hd: Any, risk: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """The reference: one pass over the persons per threshold."""
    out = np.zeros(thresholds.size)
    n = risk.size
    # Sort persons by time once; each threshold's Kaplan-Meier/Aalen-Johansen risk
    # among the treated is then a masked pass without sorting again.
    order = np.argsort(hd.duration, kind="stable")
    ts = hd.duration[order]
    es = hd.event[order]
    uniq, first = np.unique(ts, return_index=True)
    keep = uniq <= hd.horizon
    rs = risk[order]
    for k, pt in enumerate(thresholds):
        treated = rs >= pt
        m = int(treated.sum())
        if m == 0:
            continue
        at_risk = np.cumsum(treated[::-1])[::-1][first].astype(float)
        d_all = np.add.reduceat((treated & (es > 0)).astype(float), first)
        d1 = np.add.reduceat((treated & (es == 1)).astype(float), first)
        with np.errstate(divide="ignore", invalid="ignore"):
            hazard_all = np.where(at_risk > 0, d_all / at_risk, 0.0)
            hazard_1 = np.where(at_risk > 0, d1 / at_risk, 0.0)
        surv_before = np.concatenate(([1.0], np.cumprod(1.0 - hazard_all)[:-1]))
        f = float(np.sum((surv_before * hazard_1)[keep]))
        p = m / n
        out[k] = p * f - p * (1.0 - f) * pt / (1.0 - pt)
    return out


@pytest.mark.parametrize("competing", [False, True])
def test_vectorised_net_benefit_equals_one_pass_per_threshold(competing: bool) -> None:
    """The all-thresholds net benefit equals a plain pass over persons per threshold
    (Kaplan-Meier / Aalen-Johansen among the treated, as dcurves)."""
    from epi.validation._decision import net_benefits
    from epi.validation._estimators import prepare

    rng = np.random.default_rng(4)
    n = 3000
    t = (np.round(rng.exponential(1000, n)) + 1).astype(float)
    e = rng.integers(0, 3 if competing else 2, n).astype(np.int64)
    r = np.round(rng.beta(1, 6, n), 2)  # ties with the thresholds
    hd = prepare(t, e, 700.0)
    th = np.concatenate([np.arange(1, 51) / 100, [0.99, 0.005]])[::-1].copy()
    np.testing.assert_allclose(
        net_benefits(hd, r, th), _per_threshold_net_benefit(hd, r, th), atol=1e-14
    )

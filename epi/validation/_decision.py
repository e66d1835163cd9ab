"""Decision curves: net benefit at the horizon over a grid of risk thresholds.

For threshold ``pt`` the persons with ``risk >= pt`` are "treated";

    NB(pt) = P(treated) F_T(h) - P(treated) (1 - F_T(h)) pt / (1 - pt)

with ``F_T(h)`` the Kaplan–Meier risk by the horizon among the treated (the
Aalen–Johansen cumulative incidence of event 1 with competing events), as in
Vickers et al. (2008) and R's ``dcurves`` for survival outcomes. Treat-all
uses everyone (``P(treated) = 1``); treat-none is 0. When nobody is treated
the net benefit is 0.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from epi.exceptions import ValidationInputError
from epi.validation._checks import as_outcome, as_risk, check_horizon
from epi.validation._estimators import HorizonData, prepare

FloatArray = NDArray[np.float64]

TREAT_ALL = "treat_all"
TREAT_NONE = "treat_none"


def check_thresholds(thresholds: ArrayLike) -> FloatArray:
    """Check a threshold grid: finite values in (0, 1).

    Raises
    ------
    ValidationInputError
        On an empty grid or values outside (0, 1).
    """
    th = np.asarray(thresholds, dtype=float).ravel()
    if th.size == 0:
        raise ValidationInputError("thresholds: the grid is empty; pass risks in (0, 1).")
    bad = ~np.isfinite(th) | (th <= 0) | (th >= 1)
    if bad.any():
        raise ValidationInputError(
            f"thresholds: {int(bad.sum())} values are not strictly between 0 and 1 "
            f"(first: {', '.join(f'{v:g}' for v in th[bad][:5])}); a threshold is a risk "
            "at which one would treat."
        )
    return th


def _net_benefit(hd: HorizonData, risk: FloatArray, thresholds: FloatArray) -> FloatArray:
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


def _treat_all(hd: HorizonData, thresholds: FloatArray) -> FloatArray:
    f = hd.observed_risk
    return f - (1.0 - f) * thresholds / (1.0 - thresholds)


def net_benefit(
    duration: ArrayLike,
    event: ArrayLike,
    risk: ArrayLike,
    horizon: float,
    thresholds: ArrayLike,
) -> FloatArray:
    """Net benefit of treating those with predicted risk at or above each threshold.

    Parameters
    ----------
    duration : array-like of float
    event : array-like of int
        0 censored, 1 event, 2 competing event.
    risk : array-like of float
        Predicted absolute risk of event 1 by ``horizon``.
    horizon : float
    thresholds : array-like of float
        Risk thresholds in (0, 1).

    Returns
    -------
    ndarray
        Net benefit at each threshold.
    """
    t, e = as_outcome(duration, event)
    r = as_risk(risk, t.size)
    h = check_horizon(t, e, horizon, where="outcome")
    return _net_benefit(prepare(t, e, h), r, check_thresholds(thresholds))


def decision_curve(
    duration: ArrayLike,
    event: ArrayLike,
    risks: Mapping[str, ArrayLike],
    horizon: float,
    thresholds: ArrayLike,
) -> pd.DataFrame:
    """Decision curves of one or more models with treat-all and treat-none.

    Parameters
    ----------
    duration, event, horizon, thresholds
        As for :func:`net_benefit`.
    risks : mapping of str to array-like
        Predicted risks by model name.

    Returns
    -------
    pandas.DataFrame
        Long table with columns ``threshold``, ``model`` (the model names,
        ``"treat_all"`` and ``"treat_none"``) and ``net_benefit``.
    """
    t, e = as_outcome(duration, event)
    h = check_horizon(t, e, horizon, where="outcome")
    th = check_thresholds(thresholds)
    hd = prepare(t, e, h)
    frames = []
    for name, risk in risks.items():
        r = as_risk(risk, t.size, name=name)
        frames.append(
            pd.DataFrame({"threshold": th, "model": name, "net_benefit": _net_benefit(hd, r, th)})
        )
    frames.append(
        pd.DataFrame({"threshold": th, "model": TREAT_ALL, "net_benefit": _treat_all(hd, th)})
    )
    frames.append(pd.DataFrame({"threshold": th, "model": TREAT_NONE, "net_benefit": 0.0}))
    return pd.concat(frames, ignore_index=True)

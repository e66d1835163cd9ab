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


def net_benefits(hd: HorizonData, risk: FloatArray, thresholds: FloatArray) -> FloatArray:
    """Net benefit of treating ``risk >= pt`` for each threshold ``pt``.

    Parameters
    ----------
    hd : HorizonData
        Prepared outcome (:func:`epi.validation._estimators.prepare`).
    risk : ndarray
        Predicted risk of event 1 by the horizon.
    thresholds : ndarray
        Thresholds in (0, 1), any order.

    Returns
    -------
    ndarray
        Net benefit per threshold, in the order given (0 where nobody is treated).
    """
    n = risk.size
    order = np.argsort(thresholds, kind="stable")
    th = thresholds[order]
    n_th = th.size
    # level k_i: person i is treated at sorted thresholds 0 .. k_i - 1
    level = np.searchsorted(th, risk, side="right")
    uniq, t_rank = np.unique(hd.duration, return_inverse=True)
    n_in = int(np.searchsorted(uniq, hd.horizon, side="right"))  # times <= horizon
    col = np.minimum(t_rank, n_in)  # one column for every time after the horizon
    n_col = n_in + 1
    flat = level * n_col + col
    size = (n_th + 1) * n_col

    def table(weights: NDArray[np.bool_] | None) -> FloatArray:
        counts = np.bincount(flat, weights=weights, minlength=size).astype(float)
        c = counts.reshape(n_th + 1, n_col)
        # treated at sorted threshold j: level > j
        return np.cumsum(c[::-1], axis=0)[::-1][1:]

    persons = table(None)
    d_all = table((hd.event > 0).astype(float))[:, :n_in]
    d_one = table((hd.event == 1).astype(float))[:, :n_in]
    at_risk = np.cumsum(persons[:, ::-1], axis=1)[:, ::-1][:, :n_in]
    with np.errstate(divide="ignore", invalid="ignore"):
        h_all = np.where(at_risk > 0, d_all / at_risk, 0.0)
        h_one = np.where(at_risk > 0, d_one / at_risk, 0.0)
    surv = np.cumprod(1.0 - h_all, axis=1)
    surv_before = np.hstack([np.ones((n_th, 1)), surv[:, :-1]])
    f = np.sum(surv_before * h_one, axis=1)
    m = persons.sum(axis=1)
    p = m / n
    nb = np.where(m > 0, p * f - p * (1.0 - f) * th / (1.0 - th), 0.0)
    out = np.empty(n_th)
    out[order] = nb
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
    return net_benefits(prepare(t, e, h), r, check_thresholds(thresholds))


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
            pd.DataFrame({"threshold": th, "model": name, "net_benefit": net_benefits(hd, r, th)})
        )
    frames.append(
        pd.DataFrame({"threshold": th, "model": TREAT_ALL, "net_benefit": _treat_all(hd, th)})
    )
    frames.append(pd.DataFrame({"threshold": th, "model": TREAT_NONE, "net_benefit": 0.0}))
    return pd.concat(frames, ignore_index=True)

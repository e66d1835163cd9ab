"""Net benefit at every threshold in one pass (vectorised over thresholds).

The same estimator as :func:`epi.validation.net_benefit` (Kaplan–Meier,
Aalen–Johansen with competing events, risk among the treated), computed for
all thresholds at once from a (threshold x time) table of counts instead of
one pass over the persons per threshold; the bootstrap scores it twice per
arm and resample. Equality with the validation function is tested.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from epi.validation._estimators import HorizonData

FloatArray = NDArray[np.float64]


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

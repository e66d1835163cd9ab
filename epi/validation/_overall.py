"""Overall accuracy: the IPCW Brier score at the horizon and the index of
prediction accuracy (IPA).

``BS(h) = mean_i w_i (Y_i - risk_i)^2`` with ``Y_i = 1`` for event 1 by the
horizon and 0 otherwise, and the censoring weights ``w_i`` of
:mod:`epi.validation._estimators` (``1/G(T_i-)`` for any event by ``h``,
``1/G(h)`` for those event-free at ``h``, 0 for those censored before ``h``).
IPA ``= 1 - BS(model) / BS(null)``, the null model predicting the
Kaplan–Meier (Aalen–Johansen with competing events) risk of the same data for
everyone. Both equal ``riskRegression::Score(..., metrics = "brier",
summary = "ipa", cens.model = "km")``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from epi.validation._discrimination import _prepare_all
from epi.validation._estimators import HorizonData


def _brier(hd: HorizonData, risk: NDArray[np.float64]) -> float:
    y = hd.case.astype(float)
    return float(np.mean(hd.ipcw * (y - risk) ** 2))


def _ipa(hd: HorizonData, risk: NDArray[np.float64]) -> float:
    null = _brier(hd, np.full(risk.size, hd.observed_risk))
    return float(1.0 - _brier(hd, risk) / null) if null > 0 else float("nan")


def brier_score(duration: ArrayLike, event: ArrayLike, risk: ArrayLike, horizon: float) -> float:
    """Brier score at the horizon with inverse probability of censoring weights.

    Parameters
    ----------
    duration : array-like of float
        Time since index (> 0).
    event : array-like of int
        0 censored, 1 event, 2 competing event.
    risk : array-like of float
        Predicted absolute risk of event 1 by ``horizon``, in [0, 1].
    horizon : float
        Time at which the risk is predicted (same unit as ``duration``).

    Returns
    -------
    float
        Mean squared difference between event status at the horizon and
        predicted risk (lower is better).
    """
    hd, r = _prepare_all(duration, event, risk, horizon)
    return _brier(hd, r)


def ipa(duration: ArrayLike, event: ArrayLike, risk: ArrayLike, horizon: float) -> float:
    """Index of prediction accuracy: ``1 - Brier(model) / Brier(null model)``.

    Parameters are as for :func:`brier_score`. The null model predicts the
    Kaplan–Meier (Aalen–Johansen with competing events) risk by the horizon of
    the same data for everyone.

    Returns
    -------
    float
        1 is perfect, 0 no better than the null model, negative worse.
    """
    hd, r = _prepare_all(duration, event, risk, horizon)
    return _ipa(hd, r)

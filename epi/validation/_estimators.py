"""Kaplan–Meier, Aalen–Johansen and censoring weights at a horizon.

Conventions (the same as R's ``survival``/``prodlim``, which the reference
tests check):

* At a time where events and censorings tie, the censored persons are still
  at risk (censoring happens just after the events).
* The censoring distribution ``G`` is the reverse Kaplan–Meier estimate with
  only code 0 counted as censoring, events at a censoring time leaving the
  risk set first (``prodlim(..., reverse = TRUE)``); competing events (code 2) are not
  censoring. Persons whose status at the horizon ``h`` is known get the
  inverse probability of censoring weight ``1 / G(T_i-)`` (event of any kind
  by ``h``) or ``1 / G(h)`` (still event-free after ``h``); persons censored
  by ``h`` get weight 0 (riskRegression's ``cens.model = "km"``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def _steps(time: FloatArray, jump: NDArray[np.bool_]) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Unique jump times with the number at risk and the number of jumps there."""
    order = np.argsort(time, kind="stable")
    ts = time[order]
    js = jump[order]
    uniq, first = np.unique(ts, return_index=True)
    n = ts.size
    at_risk = (n - first).astype(float)
    d = np.add.reduceat(js.astype(float), first) if n else np.zeros(0)
    return uniq, at_risk, d


def kaplan_meier(
    time: FloatArray, jump: NDArray[np.bool_], *, reverse: bool = False
) -> tuple[FloatArray, FloatArray]:
    """Kaplan–Meier survival of the ``jump`` process.

    With ``reverse=True`` this is the censoring distribution (``jump`` marks
    the censored): persons with an event at a censoring time leave the risk
    set first, as in ``prodlim(..., reverse = TRUE)``.

    Returns
    -------
    times : ndarray
        Distinct times at which the estimate may jump (all distinct input times).
    surv : ndarray
        ``S(t)`` right-continuous: the value *at* ``times[k]`` (after the jump).
    """
    uniq, at_risk, d = _steps(time, jump)
    if reverse:
        _, _, other = _steps(time, ~jump)
        at_risk = at_risk - other
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(d > 0, 1.0 - d / at_risk, 1.0)
    return uniq, np.cumprod(factor)


def step_at(times: FloatArray, values: FloatArray, t: FloatArray | float, *, left: bool = False):
    """Evaluate a right-continuous step function that starts at 1 before ``times[0]``.

    With ``left=True`` the left limit ``f(t-)`` is returned.
    """
    idx = np.searchsorted(times, t, side="left" if left else "right")
    return np.concatenate(([1.0], values))[idx]


def cumulative_incidence(duration: FloatArray, event: NDArray[np.int64], horizon: float) -> float:
    """Observed risk of event 1 by ``horizon``.

    Kaplan–Meier ``1 - S(h)`` when there are no competing events, else the
    Aalen–Johansen cumulative incidence of cause 1.
    """
    uniq, at_risk, d_all = _steps(duration, event > 0)
    _, _, d1 = _steps(duration, event == 1)
    keep = uniq <= horizon
    surv = np.cumprod(1.0 - d_all / at_risk)
    surv_before = np.concatenate(([1.0], surv[:-1]))
    return float(np.sum((surv_before * d1 / at_risk)[keep]))


@dataclass(frozen=True)
class HorizonData:
    """An outcome prepared for measures at one horizon (internal).

    Attributes
    ----------
    duration, event : ndarray
        Checked outcome.
    horizon : float
    case : ndarray of bool
        Event 1 by the horizon.
    competing : ndarray of bool
        Event 2 by the horizon.
    alive : ndarray of bool
        Event-free through the horizon: followed beyond it, or censored at it.
    ipcw : ndarray of float
        ``1/G(T_i-)`` for cases and competing, ``1/G(h-)`` for alive, 0 otherwise.
    g_minus : ndarray of float
        ``G(T_i-)`` for every person.
    g_horizon : float
        ``G(h-)``, the probability of remaining uncensored until the horizon.
    observed_risk : float
        Kaplan–Meier (Aalen–Johansen with competing events) risk by the horizon.
    """

    duration: FloatArray
    event: NDArray[np.int64]
    horizon: float
    case: NDArray[np.bool_]
    competing: NDArray[np.bool_]
    alive: NDArray[np.bool_]
    ipcw: FloatArray
    g_minus: FloatArray
    g_horizon: float
    observed_risk: float

    @property
    def has_competing(self) -> bool:
        """Whether any competing event (code 2) is present."""
        return bool((self.event == 2).any())


def prepare(
    duration: FloatArray, event: NDArray[np.int64], horizon: float, *, where: str = "outcome"
) -> HorizonData:
    """Compute the censoring weights and observed risk for one horizon."""
    g_times, g_surv = kaplan_meier(duration, event == 0, reverse=True)
    g_minus = step_at(g_times, g_surv, duration, left=True)
    # Events precede censorings at a tied time, so a person censored exactly at
    # the horizon is known to be event-free through it: a control, weighted by
    # 1/P(C >= h) = 1/G(h-). This matters when follow-up is truncated at the
    # horizon (everyone event-free is then censored at h); without ties at h,
    # G(h-) = G(h) and nothing changes. G(h-) = 0 only when nobody reaches h.
    g_h = float(step_at(g_times, g_surv, horizon, left=True))
    by_h = duration <= horizon
    case = by_h & (event == 1)
    competing = by_h & (event == 2)
    alive = (duration > horizon) | ((duration == horizon) & (event == 0))
    ipcw = np.zeros(duration.size)
    known = case | competing
    ipcw[known] = 1.0 / g_minus[known]
    if alive.any():  # then G(h) > 0
        ipcw[alive] = 1.0 / g_h
    return HorizonData(
        duration=duration,
        event=event,
        horizon=float(horizon),
        case=case,
        competing=competing,
        alive=alive,
        ipcw=ipcw,
        g_minus=g_minus,
        g_horizon=g_h,
        observed_risk=cumulative_incidence(duration, event, horizon),
    )

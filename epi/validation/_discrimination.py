"""Discrimination: Harrell's and Uno's C on follow-up truncated at the horizon,
and the cumulative/dynamic time-dependent AUC at the horizon (IPCW).

Definitions (checked against R in ``tests/validation``):

* **Harrell's C** — pairs (i, j) where i has event 1 at ``T_i <= h`` and j is
  still at risk after ``T_i`` (``T_j > T_i``, or ``T_j = T_i`` and j censored)
  are comparable; concordant when ``risk_i > risk_j``, ties in risk count 1/2;
  pairs tied in time with both events are not comparable. This equals
  ``survival::concordance(Surv(time, status) ~ risk, reverse = TRUE,
  ymax = h)``. Competing events (code 2) count as censoring here (a
  cause-specific C).
* **Uno's C** — the same pairs, each weighted by ``1 / G(T_i-)^2`` with ``G``
  the reverse Kaplan–Meier censoring distribution (``timewt = "n/G2"`` in
  ``survival::concordance``).
* **AUC(h)** — cases have event 1 by ``h`` (weight ``1/G(T_i-)``); controls are
  event-free at ``h`` (weight ``1/G(h)``) and, with competing risks, persons
  with a competing event by ``h`` (weight ``1/G(T_j-)``), as in
  ``riskRegression::Score`` (Blanche et al. 2013, definition 2 of 2015). Ties
  in risk count 1/2.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from epi.validation._checks import as_outcome, as_risk, check_horizon
from epi.validation._estimators import HorizonData, kaplan_meier, prepare, step_at

FloatArray = NDArray[np.float64]


def _later_smaller_equal(rank: NDArray[np.int64]) -> tuple[FloatArray, FloatArray]:
    """For each position p, count later positions q > p with rank[q] < rank[p]
    and with rank[q] == rank[p].

    Vectorised divide and conquer: at block size s, every element of a left
    half-block is compared with the sorted right half-block of the same pair,
    so all levels together cover every ordered pair once. O(n log^2 n).
    """
    n = rank.size
    smaller = np.zeros(n)
    less_equal = np.zeros(n)
    pos = np.arange(n)
    big = int(rank.max()) + 2 if n else 2
    s = 1
    while s < n:
        block = pos // (2 * s)
        right = ((pos // s) % 2).astype(bool)
        left = ~right
        keys_right = np.sort(block[right] * big + rank[right])
        base_q = block[left] * big
        q = base_q + rank[left]
        base = np.searchsorted(keys_right, base_q, side="left")
        smaller[left] += np.searchsorted(keys_right, q, side="left") - base
        less_equal[left] += np.searchsorted(keys_right, q, side="right") - base
        s *= 2
    return smaller, less_equal - smaller


def _pair_counts(
    duration: FloatArray, event: NDArray[np.int64], risk: FloatArray
) -> tuple[NDArray[np.intp], FloatArray, FloatArray, FloatArray]:
    """Per event-1 person: comparable, concordant and risk-tied pair counts.

    Returns the indices of the event-1 persons and, for each, the number of
    persons still at risk after them, of those the number with lower risk and
    the number with equal risk.
    """
    n = duration.size
    is_event = event == 1
    _, t_rank = np.unique(duration, return_inverse=True)
    # Order key: a censoring (or competing event) at the same time sorts after the
    # event, so "later key" means "still at risk after the event".
    key = 2 * t_rank.astype(np.int64) + (~is_event).astype(np.int64)
    _, r_rank = np.unique(risk, return_inverse=True)
    order = np.lexsort((r_rank, key))
    key_s = key[order]
    rank_s = r_rank[order].astype(np.int64)
    smaller, equal = _later_smaller_equal(rank_s)
    # Later elements with the same key sort by rank, so none of them has a smaller
    # rank; those with the same (key, rank) were wrongly counted as risk ties.
    group = key_s * (int(rank_s.max()) + 1) + rank_s
    _, first, counts = np.unique(group, return_index=True, return_counts=True)
    pos_in_group = np.arange(n) - np.repeat(first, counts)
    size_of_group = np.repeat(counts, counts)
    equal -= size_of_group - 1 - pos_in_group
    total = n - np.searchsorted(key_s, key_s, side="right")
    ev = is_event[order]
    return order[ev], total[ev].astype(float), smaller[ev], equal[ev]


def _c_indices(hd: HorizonData, risk: FloatArray) -> tuple[float, float]:
    """Harrell's and Uno's C at the horizon from one pass over the pairs."""
    idx, total, conc, tied = _pair_counts(hd.duration, hd.event, risk)
    keep = hd.duration[idx] <= hd.horizon
    total, conc, tied, idx = total[keep], conc[keep], tied[keep], idx[keep]
    num = conc + 0.5 * tied
    den = total
    harrell = float(num.sum() / den.sum()) if den.sum() > 0 else float("nan")
    # Uno: censoring distribution with competing events counted as censoring too,
    # because the C-index here is cause-specific.
    g_times, g_surv = kaplan_meier(hd.duration, hd.event != 1, reverse=True)
    g = step_at(g_times, g_surv, hd.duration[idx], left=True)
    w = 1.0 / g**2
    uno = float((w * num).sum() / (w * den).sum()) if den.sum() > 0 else float("nan")
    return harrell, uno


def _auc(hd: HorizonData, risk: FloatArray) -> float:
    cases = hd.case
    controls = hd.alive | hd.competing
    w_case = hd.ipcw[cases]
    r_case = risk[cases]
    r_ctrl = risk[controls]
    w_ctrl = hd.ipcw[controls]
    if w_case.sum() == 0 or w_ctrl.sum() == 0:
        return float("nan")
    order = np.argsort(r_ctrl, kind="stable")
    rs = r_ctrl[order]
    cw = np.concatenate(([0.0], np.cumsum(w_ctrl[order])))
    below = cw[np.searchsorted(rs, r_case, side="left")]
    upto = cw[np.searchsorted(rs, r_case, side="right")]
    score = below + 0.5 * (upto - below)
    return float((w_case * score).sum() / (w_case.sum() * w_ctrl.sum()))


def _prepare_all(duration, event, risk, horizon, where="outcome"):
    t, e = as_outcome(duration, event, where=where)
    r = as_risk(risk, t.size)
    h = check_horizon(t, e, horizon, where=where)
    return prepare(t, e, h, where=where), r


def harrell_c(duration: ArrayLike, event: ArrayLike, risk: ArrayLike, horizon: float) -> float:
    """Harrell's concordance index on follow-up truncated at the horizon.

    Parameters
    ----------
    duration : array-like of float
        Time since index (> 0).
    event : array-like of int
        0 censored, 1 event, 2 competing event (counted as censoring here).
    risk : array-like of float
        Predicted absolute risk of event 1 by ``horizon``, in [0, 1].
    horizon : float
        Time (same unit as ``duration``) at which follow-up is truncated.

    Returns
    -------
    float
        Probability that of two comparable persons the one with the event
        first has the higher predicted risk (risk ties count 1/2).

    Notes
    -----
    Equals ``survival::concordance(Surv(time, status == 1) ~ risk,
    reverse = TRUE, ymax = horizon)$concordance``.
    """
    hd, r = _prepare_all(duration, event, risk, horizon)
    return _c_indices(hd, r)[0]


def uno_c(duration: ArrayLike, event: ArrayLike, risk: ArrayLike, horizon: float) -> float:
    """Uno's IPCW concordance index on follow-up truncated at the horizon.

    Parameters are as for :func:`harrell_c`. Each comparable pair is weighted
    by ``1 / G(T_i-)^2``, ``G`` the reverse Kaplan–Meier estimate of the
    censoring distribution (competing events counted as censoring).

    Returns
    -------
    float

    Notes
    -----
    Equals ``survival::concordance(..., reverse = TRUE, ymax = horizon,
    timewt = "n/G2")$concordance``.
    """
    hd, r = _prepare_all(duration, event, risk, horizon)
    return _c_indices(hd, r)[1]


def time_dependent_auc(
    duration: ArrayLike, event: ArrayLike, risk: ArrayLike, horizon: float
) -> float:
    """Cumulative/dynamic time-dependent AUC at the horizon with IPCW.

    Parameters are as for :func:`harrell_c`; competing events (code 2) before
    the horizon are controls.

    Returns
    -------
    float
        Weighted probability that a case (event 1 by the horizon) has a higher
        predicted risk than a control (no event 1 by the horizon).

    Notes
    -----
    Equals the AUC of ``riskRegression::Score(..., metrics = "auc",
    cens.model = "km")``.
    """
    hd, r = _prepare_all(duration, event, risk, horizon)
    return _auc(hd, r)

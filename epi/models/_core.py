"""Numerical kernels shared by fitted models and `predict_from_spec` (numpy only).

Everything a fitted regression model does at prediction time lives here, so
that risks recomputed from an exported specification take the very same path
as the fitted model's (equal to floating-point rounding).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "baseline_increments",
    "cause_specific_cif",
    "format_level",
    "rp_log_cumhaz",
    "step_at",
    "stratum_labels",
]


def format_level(v: object) -> str:
    """Text of one stratum value; integral floats print as integers (``1.0`` → ``"1"``)."""
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def stratum_labels(names: Sequence[str], columns: Sequence[np.ndarray], n: int) -> np.ndarray:
    """Stratum label per row: ``"sex=1,region=2"``, or ``"all"`` without strata."""
    if not names:
        return np.full(n, "all", dtype=object)
    parts = [
        np.array([f"{s}={format_level(v)}" for v in col], dtype=object)
        for s, col in zip(names, columns, strict=True)
    ]
    out = parts[0]
    for p in parts[1:]:
        out = out + "," + p
    return out


def step_at(times: np.ndarray, values: np.ndarray, t: float, before: float = 0.0) -> float:
    """Right-continuous step function through ``(times, values)`` evaluated at ``t``.

    Returns ``before`` when ``t`` precedes the first time and the last value
    after the last time.
    """
    i = int(np.searchsorted(times, t, side="right"))
    return before if i == 0 else float(values[i - 1])


def baseline_increments(
    time: np.ndarray, event: np.ndarray, risk: np.ndarray, ties: str = "efron"
) -> tuple[np.ndarray, np.ndarray]:
    """Jumps of the baseline cumulative hazard at the distinct event times.

    Parameters
    ----------
    time, event : numpy.ndarray
        Follow-up time and 0/1 event indicator (one stratum).
    risk : numpy.ndarray
        ``exp(lp)`` with the centred linear predictor.
    ties : {"efron", "breslow"}
        ``"breslow"``: ``d_j / R_j``. ``"efron"``: ``Σ_{k<d_j} 1 / (R_j - k/d_j D_j)``
        with ``R_j`` the risk-set sum and ``D_j`` the sum over the ``d_j`` tied
        events; this is R's ``survfit.coxph`` default for an Efron fit
        (``ctype = 2``).

    Returns
    -------
    times : numpy.ndarray
        Distinct event times, increasing.
    dH : numpy.ndarray
        Baseline hazard increments at those times.
    """
    order = np.argsort(time, kind="mergesort")
    t, e, r = time[order], event[order].astype(bool), risk[order]
    ev_times = np.unique(t[e])
    # risk-set sums: everyone with time >= t_j
    rev_cum = np.cumsum(r[::-1])[::-1]
    first = np.searchsorted(t, ev_times, side="left")
    R = rev_cum[first]
    idx = np.searchsorted(ev_times, t[e])
    d = np.bincount(idx, minlength=ev_times.size).astype(float)
    D = np.bincount(idx, r[e], minlength=ev_times.size)
    if ties == "breslow":
        dH = d / R
    elif ties == "efron":
        # one term per tied event k = 0 … d_j - 1, summed back per time
        counts = d.astype(np.int64)
        j = np.repeat(np.arange(ev_times.size), counts)
        k = np.arange(j.size) - np.repeat(np.cumsum(counts) - counts, counts)
        dH = np.bincount(j, 1.0 / (R[j] - k / d[j] * D[j]), minlength=ev_times.size)
    else:  # pragma: no cover - validated by the caller
        raise ValueError(ties)
    return ev_times, dH


def cause_specific_cif(
    times1: np.ndarray,
    dH1: np.ndarray,
    times2: np.ndarray,
    dH2: np.ndarray,
    risk1: np.ndarray,
    risk2: np.ndarray,
    horizon: float,
    product_limit: bool = True,
) -> np.ndarray:
    """Cumulative incidence of cause 1 by ``horizon`` from two cause-specific Cox models.

    ``F1(h | x) = Σ_{t_j <= h} S(t_{j-1} | x) dΛ1(t_j | x)`` over the pooled
    event times, with ``dΛc(t | x) = dH0c(t) exp(lp_c)``. The all-cause
    survival just before ``t_j`` is ``S = Π_{t_i < t_j} (1 - dΛ1 - dΛ2)``
    (``product_limit=True``, riskRegression's default; a person's step with
    ``dΛ1 + dΛ2 > 1`` counts as certain failure split in proportion, so that
    ``0 <= F1 <= 1``) or
    ``S = exp(-(Λ1 + Λ2))`` (``product_limit=False``).

    Parameters
    ----------
    times1, dH1, times2, dH2 : numpy.ndarray
        Baseline hazard jumps of cause 1 and cause 2 (one stratum).
    risk1, risk2 : numpy.ndarray, shape (n,)
        ``exp(lp)`` of each person under each cause's model.
    horizon : float
    product_limit : bool

    Returns
    -------
    numpy.ndarray, shape (n,)
    """
    grid = np.union1d(times1[times1 <= horizon], times2[times2 <= horizon])
    if grid.size == 0:
        return np.zeros(risk1.size)
    j1 = np.zeros(grid.size)
    j2 = np.zeros(grid.size)
    j1[np.searchsorted(grid, times1[times1 <= horizon])] = dH1[times1 <= horizon]
    j2[np.searchsorted(grid, times2[times2 <= horizon])] = dH2[times2 <= horizon]
    # rows in chunks so that the (rows x event times) arrays stay below ~16 MB each
    step = max(1, 2_000_000 // grid.size)
    out = np.empty(risk1.size)
    for start in range(0, risk1.size, step):
        sl = slice(start, start + step)
        out[sl] = _cif_rows(risk1[sl], risk2[sl], j1, j2, product_limit)
    return out


def _cif_rows(
    risk1: np.ndarray, risk2: np.ndarray, j1: np.ndarray, j2: np.ndarray, product_limit: bool
) -> np.ndarray:
    a1 = np.outer(risk1, j1)  # (n, m) cause-1 hazard jumps
    a2 = np.outer(risk2, j2)
    if product_limit:
        # A person-level jump a1 + a2 > 1 (tiny strata, extreme lp) would make the
        # product negative and the CIF exceed 1; such a step is read as certain
        # failure split a1 : a2 (no change whenever a1 + a2 <= 1, as in riskRegression).
        q = a1 + a2
        over = q > 1.0
        if over.any():
            a1 = np.where(over, a1 / np.where(over, q, 1.0), a1)
            q = np.minimum(q, 1.0)
        surv = np.cumprod(1.0 - q, axis=1)
    else:
        surv = np.exp(-np.cumsum(a1 + a2, axis=1))
    surv_before = np.hstack([np.ones((risk1.size, 1)), surv[:, :-1]])
    return np.sum(surv_before * a1, axis=1)


def rp_log_cumhaz(t: float, knots: np.ndarray, gamma: np.ndarray) -> float:
    """Royston–Parmar baseline ``log H0(t) = γ0 + γ1 u + Σ_j γ_{j+1} v_j(u)``, ``u = log t``.

    ``v_j(u) = (u - k_j)_+^3 - λ_j (u - k_min)_+^3 - (1 - λ_j)(u - k_max)_+^3`` with
    ``λ_j = (k_max - k_j) / (k_max - k_min)`` for the interior knots ``k_j``.
    """
    u = float(np.log(t))
    kmin, kmax = float(knots[0]), float(knots[-1])
    s = float(gamma[0]) + float(gamma[1]) * u
    for i in range(2, len(knots)):
        kj = float(knots[i - 1])
        lam = (kmax - kj) / (kmax - kmin)
        v = (
            max(u - kj, 0.0) ** 3
            - lam * max(u - kmin, 0.0) ** 3
            - (1 - lam) * max(u - kmax, 0.0) ** 3
        )
        s += float(gamma[i]) * v
    return s

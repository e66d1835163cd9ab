"""Schoenfeld-residual test of proportional hazards, as R's ``survival::cox.zph`` (>= 3.0)."""

from __future__ import annotations

import itertools

import numpy as np
from scipy import stats

__all__ = ["zph_test"]


def _transform(time: np.ndarray, event: np.ndarray, how: str) -> np.ndarray:
    if how == "identity":
        return time.astype(float)
    if how == "log":
        return np.log(time)
    if how == "rank":
        return stats.rankdata(time)  # over all rows, ties averaged, as R's rank()
    if how == "km":
        # left-continuous Kaplan–Meier, 1 - S(t-), over all rows (ignores strata)
        ut = np.unique(time)
        order = np.sort(time)
        at_risk = time.size - np.searchsorted(order, ut, side="left")
        deaths = np.bincount(np.searchsorted(ut, time[event]), minlength=ut.size)
        surv = np.cumprod(1.0 - deaths / at_risk)
        idx = np.searchsorted(ut, time, side="left")  # number of times strictly before
        return 1.0 - np.concatenate([[1.0], surv])[idx]
    raise ValueError(f"transform must be 'km', 'rank', 'identity' or 'log', got {how!r}")


def zph_test(
    Z: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    lp: np.ndarray,
    strata: np.ndarray,
    names: list[str],
    transform: str = "km",
    efron: bool = True,
) -> list[tuple[str, float, int, float]]:
    """Score tests for adding ``x_j * g(t)`` to a fitted Cox model (per term and global).

    The algorithm of ``cox.zph`` in R's survival >= 3.0 (``terms=FALSE``):
    ``g`` is the transformed time centred at its mean over events; the score
    vector and the full information matrix of the model extended with
    ``x * g(t)`` are evaluated at the fitted coefficients (Efron tie handling
    when ``efron``), and each test is ``u' I^{-1} u`` over the original
    coefficients plus the term's time-interaction (1 df), the global test over
    all interactions (``p`` df).

    Returns
    -------
    list of (name, chisq, df, p)
    """
    event = event.astype(bool)
    g_all = _transform(time, event, transform)
    g_all = g_all - g_all[event].mean()
    p = Z.shape[1]
    r = np.exp(lp - lp.max())
    u = np.zeros(2 * p)
    imat = np.zeros((2 * p, 2 * p))
    for s in np.unique(strata):
        m = strata == s
        # walk the distinct times backwards, adding each time's rows to the risk-set sums
        order = np.argsort(-time[m], kind="mergesort")
        zs, ts, es, rs, gs = (
            Z[m][order],
            time[m][order],
            event[m][order],
            r[m][order],
            g_all[m][order],
        )
        S0, S1, S2 = 0.0, np.zeros(p), np.zeros((p, p))
        bounds = np.flatnonzero(np.r_[True, ts[1:] != ts[:-1], True])
        for a, b in itertools.pairwise(bounds):
            x, w = zs[a:b], rs[a:b]
            S0 += w.sum()
            S1 += w @ x
            S2 += (x * w[:, None]).T @ x
            dead = es[a:b]
            d = int(dead.sum())
            if d == 0:
                continue
            g = gs[a]
            xd, wd = x[dead], w[dead]
            D0, D1, D2 = wd.sum(), wd @ xd, (xd * wd[:, None]).T @ xd
            xsum = xd.sum(axis=0)
            u[:p] += xsum
            u[p:] += g * xsum
            for k in range(d):
                frac = k / d if efron else 0.0
                den = S0 - frac * D0
                mean = (S1 - frac * D1) / den
                V = (S2 - frac * D2) / den - np.outer(mean, mean)
                u[:p] -= mean
                u[p:] -= g * mean
                imat[:p, :p] += V
                imat[:p, p:] += g * V
                imat[p:, p:] += g * g * V
    imat[p:, :p] = imat[:p, p:].T
    out = []
    for i, name in enumerate(names):
        j = np.r_[np.arange(p), p + i]
        chisq = float(u[j] @ np.linalg.solve(imat[np.ix_(j, j)], u[j]))
        out.append((name, chisq, 1, float(stats.chi2.sf(chisq, 1))))
    chisq = float(u @ np.linalg.solve(imat, u))
    out.append(("GLOBAL", chisq, p, float(stats.chi2.sf(chisq, p))))
    return out

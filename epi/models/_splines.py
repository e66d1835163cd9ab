"""Restricted cubic splines in Harrell's parametrisation (numpy only).

The basis equals ``Hmisc::rcspline.eval(x, knots, inclx=TRUE, norm=2)`` and
thus ``rms::rcs``: for knots ``t_1 < … < t_k`` and ``j = 1 … k-2``::

    x_j' = (x - t_j)_+^3
           - (x - t_{k-1})_+^3 (t_k - t_j) / (t_k - t_{k-1})
           + (x - t_k)_+^3 (t_{k-1} - t_j) / (t_k - t_{k-1})

each divided by ``(t_k - t_1)^2`` (``norm=2``), so the non-linear terms are on
the scale of ``x``. The first column is ``x`` itself. Knots are placed by
`harrell_knots` exactly as ``rcspline.eval`` does by default.

This module imports numpy only, because `epi.models.predict_from_spec` must
recompute risks from an exported file with nothing else.
"""

from __future__ import annotations

import numpy as np

__all__ = ["HARRELL_QUANTILES", "harrell_knots", "rcs_basis", "rcs_names"]

#: Harrell's default knot quantiles (Regression Modeling Strategies, table 2.3),
#: used by ``rcspline.eval`` for k = 3 … 7 knots.
HARRELL_QUANTILES: dict[int, tuple[float, ...]] = {
    3: (0.10, 0.50, 0.90),
    4: (0.05, 0.35, 0.65, 0.95),
    5: (0.05, 0.275, 0.50, 0.725, 0.95),
    6: (0.05, 0.23, 0.41, 0.59, 0.77, 0.95),
    7: (0.025, 0.1833, 0.3417, 0.50, 0.6583, 0.8167, 0.975),
}


def _quantile7(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    # R's default quantile (type 7) is numpy's "linear" method.
    return np.quantile(x, p, method="linear")


def harrell_knots(x: np.ndarray, k: int, *, fractied: float = 0.05) -> np.ndarray:
    """Knot locations for a restricted cubic spline with ``k`` knots, as Hmisc places them.

    A port of the default branch of ``Hmisc::rcspline.eval`` (Hmisc 4.8): knots
    at equally spaced quantiles from ``outer`` to ``1 - outer`` (0.1 for k = 3,
    0.05 for k = 4 … 6, 0.025 for k >= 7; these are Harrell's table values);
    when the lowest or highest value holds at least ``fractied`` of the data
    (and no interior value does), that value's neighbour becomes a knot and the
    rest are spread over the remaining data; with fewer than 100 values the
    outer knots move to the 5th smallest and 5th largest values.

    Parameters
    ----------
    x : array-like of float
        Finite values of the predictor (training data only).
    k : int
        Number of knots, 3 to 7.
    fractied : float
        Tie fraction that triggers the special first/last knot rule.

    Returns
    -------
    numpy.ndarray
        Sorted unique knots (fewer than ``k`` when ``x`` has few unique values).

    Raises
    ------
    ValueError
        ``k`` outside 3 … 7, fewer than 6 values or fewer than 3 unique knots.
    """
    if not 3 <= int(k) <= 7:
        raise ValueError(f"number of spline knots must be 3 to 7, got {k}")
    k = int(k)
    xx = np.asarray(x, dtype=float)
    xx = xx[np.isfinite(xx)]
    n = xx.size
    if n < 6:
        raise ValueError("knots need at least 6 non-missing values")
    xu = np.unique(xx)
    nxu = xu.size
    if nxu - 2 <= k:
        knots = xu[1:-1]
    else:
        outer = 0.1 if k == 3 else 0.05
        if k > 6:
            outer = 0.025
        nke = k
        first: list[float] = []
        last: list[float] = []
        override_first = override_last = False
        if 0 < fractied < 1:
            counts = np.unique(xx, return_counts=True)[1]
            f = counts / n
            if f[1:-1].max() < fractied:
                if f[0] >= fractied:
                    first = [float(xx[xx > xx.min()].min())]
                    xx = xx[xx > first[0]]
                    nke -= 1
                    override_first = True
                if f[-1] >= fractied:
                    last = [float(xx[xx < xx.max()].max())]
                    xx = xx[xx < last[0]]
                    nke -= 1
                    override_last = True
        if nke == 1:
            inner = np.array([np.median(xx)])
        elif nxu <= nke:
            inner = xu
        else:
            if nke == 2:
                p = np.linspace(0.5, 1 - outer, nke)
            else:
                p = np.linspace(outer, 1 - outer, nke)
            inner = _quantile7(xx, p)
            if np.unique(inner).size < min(nke, 3):
                raise ValueError(
                    f"cannot place {k} distinct spline knots: the variable has too few "
                    "distinct values; use fewer knots or a linear term"
                )
            if xx.size < 100:
                xs = np.sort(xx)
                if not override_first:
                    inner[0] = xs[4]
                if not override_last:
                    inner[nke - 1] = xs[xs.size - 5]
        knots = np.concatenate([first, inner, last])
    knots = np.unique(knots)
    if knots.size < 3:
        raise ValueError("fewer than 3 unique spline knots; use a linear term for this variable")
    return knots


def rcs_basis(x: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Restricted cubic spline basis ``[x, x', x'', …]`` (``rcspline.eval(inclx=TRUE, norm=2)``).

    Parameters
    ----------
    x : array-like of float, shape (n,)
    knots : array-like of float, shape (k,), sorted, k >= 3

    Returns
    -------
    numpy.ndarray, shape (n, k - 1)
    """
    x = np.asarray(x, dtype=float)
    t = np.asarray(knots, dtype=float)
    k = t.size
    kd = (t[-1] - t[0]) ** (2.0 / 3.0)
    out = np.empty((x.size, k - 1))
    out[:, 0] = x
    tk, tk1 = t[-1], t[-2]
    for j in range(k - 2):
        out[:, j + 1] = np.maximum((x - t[j]) / kd, 0.0) ** 3 + (
            (tk1 - t[j]) * np.maximum((x - tk) / kd, 0.0) ** 3
            - (tk - t[j]) * np.maximum((x - tk1) / kd, 0.0) ** 3
        ) / (tk - tk1)
    return out


def rcs_names(name: str, n_knots: int) -> list[str]:
    """Column names of the basis, as rms prints them: ``age``, ``age'``, ``age''`` …"""
    return [name + "'" * j for j in range(n_knots - 1)]

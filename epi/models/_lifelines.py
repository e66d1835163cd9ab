"""Running lifelines fitters with epi's errors and warnings."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TypeVar

import numpy as np
from lifelines import exceptions as ll_exc

from epi.exceptions import ConvergenceError, ConvergenceWarning

__all__ = ["convergence_advice", "problem_columns", "run_lifelines"]

T = TypeVar("T")


def problem_columns(Z: np.ndarray, names: list[str], tol: float = 1e-4) -> list[str]:
    """Names of near-constant columns and columns (almost) collinear with earlier ones.

    A column is near-constant when its standard deviation is below
    ``1e-8 * max(1, |mean|)``, and collinear when regressing it on the earlier
    kept columns leaves less than ``tol`` of its variance.
    """
    out: list[str] = []
    kept: list[np.ndarray] = []
    for j, name in enumerate(names):
        z = Z[:, j] - Z[:, j].mean()
        sd = z.std()
        if sd < 1e-8 * max(1.0, abs(float(Z[:, j].mean()))):
            out.append(f"{name} (near-constant)")
            continue
        if kept:
            A = np.column_stack(kept)
            coef, *_ = np.linalg.lstsq(A, z, rcond=None)
            resid = z - A @ coef
            if resid.var() < tol * z.var():
                out.append(f"{name} (collinear with other columns)")
                continue
        kept.append(z)
    return out


def convergence_advice(
    Z: np.ndarray, names: list[str], penalizer: float, suspects: list[str] | None = None
) -> str:
    """What to do about a fit that does not converge: penalise, drop the named columns.

    Names the near-constant or collinear columns of ``Z`` (`problem_columns`);
    failing those, ``suspects`` (e.g. the terms whose coefficients diverged),
    as candidates for (quasi-)separation.
    """
    bad = problem_columns(Z, names)
    if bad:
        cols = f"drop near-constant or collinear columns: {', '.join(bad)}"
    else:
        which = f" (suspects: {', '.join(suspects[:10])})" if suspects else ""
        cols = (
            "check for a covariate that (almost) perfectly separates events from non-events"
            f"{which} and drop or merge it"
        )
    return f"Increase penalizer (now {penalizer:g}, try e.g. 0.01-0.1), {cols}."


def run_lifelines(
    fit: Callable[[], T], Z: np.ndarray, names: list[str], penalizer: float, what: str
) -> T:
    """Call ``fit()``; turn lifelines' convergence errors and warnings into epi's.

    epi's messages say what to do; lifelines' own text (optimiser internals)
    stays on the chained exception only.

    The message names the fix: a larger penalizer, and the near-constant or
    collinear columns found in ``Z`` (see `problem_columns`).
    """

    def advice() -> str:
        return convergence_advice(Z, names, penalizer)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fit()
        except ll_exc.ConvergenceError as exc:
            raise ConvergenceError(f"{what} did not converge. {advice()}") from exc
        except np.linalg.LinAlgError as exc:
            raise ConvergenceError(f"{what} failed: singular matrix. {advice()}") from exc
    seen_convergence = False
    for w in caught:
        if issubclass(
            w.category,
            (ll_exc.ConvergenceWarning, ll_exc.StatisticalWarning, ll_exc.ApproximationWarning),
        ):
            if not seen_convergence:
                warnings.warn(
                    f"{what} converged poorly. {advice()}",
                    ConvergenceWarning,
                    stacklevel=3,
                )
                seen_convergence = True
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return result

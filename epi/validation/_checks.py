"""Input checks shared by every validation measure.

Each check raises :class:`epi.exceptions.ValidationInputError` with what is
wrong, where (which argument or column), how many rows, the first bad values
and what to do next.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from epi.exceptions import StatisticalWarning, ValidationInputError

#: Fewer events of interest than this before the horizon gives a warning.
MIN_EVENTS = 10


def _first_bad(values: NDArray[Any], mask: NDArray[np.bool_], k: int = 5) -> str:
    bad = values[mask][:k]
    return ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in bad)


def as_outcome(
    duration: ArrayLike, event: ArrayLike, *, where: str = "outcome"
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Check and convert an outcome to float durations and 0/1/2 event codes.

    Parameters
    ----------
    duration, event : array-like
        Time since index (> 0, finite) and event code (0 censored, 1 event,
        2 competing event).
    where : str
        Named in error messages (for example a file name or a fold).

    Returns
    -------
    duration : ndarray of float
    event : ndarray of int

    Raises
    ------
    ValidationInputError
        On empty input, unequal lengths, missing or non-positive durations or
        event codes other than 0, 1, 2.
    """
    t = np.asarray(duration, dtype=float).ravel()
    e_raw = np.asarray(event).ravel()
    if t.size == 0:
        raise ValidationInputError(f"{where}: no persons to validate on (0 rows).")
    if e_raw.size != t.size:
        raise ValidationInputError(
            f"{where}: duration has {t.size} rows but event has {e_raw.size}; "
            "pass one value of each per person."
        )
    bad_t = ~np.isfinite(t) | (t <= 0)
    if bad_t.any():
        raise ValidationInputError(
            f"{where}: {int(bad_t.sum())} of {t.size} durations are missing, infinite or "
            f"not > 0 (first: {_first_bad(t, bad_t)}); durations are time since index "
            "and must be positive - drop or correct those rows."
        )
    try:
        e_float = e_raw.astype(float)
    except (TypeError, ValueError):
        raise ValidationInputError(
            f"{where}: event codes must be numbers 0 (censored), 1 (event) or 2 "
            f"(competing event); got values such as {_first_bad(e_raw, np.ones(e_raw.size, bool))}."
        ) from None
    bad_e = ~np.isin(e_float, (0.0, 1.0, 2.0))
    if bad_e.any():
        raise ValidationInputError(
            f"{where}: {int(bad_e.sum())} of {t.size} event codes are not 0, 1 or 2 "
            f"(first: {_first_bad(e_raw, bad_e)}); code 0 = censored, 1 = event, "
            "2 = competing event."
        )
    return t, e_float.astype(np.int64)


def as_risk(risk: ArrayLike, n: int, *, name: str = "risk") -> NDArray[np.float64]:
    """Check predicted risks: one per person, finite and within [0, 1].

    Raises
    ------
    ValidationInputError
        On a length mismatch, NaN or values outside [0, 1].
    """
    r = np.asarray(risk, dtype=float).ravel()
    if r.size != n:
        raise ValidationInputError(
            f"{name}: {r.size} predicted risks for {n} persons; pass one risk per person."
        )
    bad = ~np.isfinite(r)
    if bad.any():
        raise ValidationInputError(
            f"{name}: {int(bad.sum())} of {n} predicted risks are NaN or infinite "
            f"(first: {_first_bad(r, bad)}); every person needs a risk - check the "
            "model's predictions for missing covariates."
        )
    bad = (r < 0) | (r > 1)
    if bad.any():
        raise ValidationInputError(
            f"{name}: {int(bad.sum())} of {n} predicted risks are outside [0, 1] "
            f"(first: {_first_bad(r, bad)}); pass absolute risks by the horizon, not "
            "percentages, linear predictors or survival probabilities."
        )
    return r


def check_horizon(
    duration: NDArray[np.float64], event: NDArray[np.int64], horizon: float, *, where: str
) -> float:
    """Check that ``horizon`` is usable for these outcomes and return it as float.

    Raises
    ------
    ValidationInputError
        If the horizon is not a positive number, lies beyond the last follow-up,
        all persons are censored, or no event of interest occurs by the horizon.

    Warns
    -----
    StatisticalWarning
        If fewer than :data:`MIN_EVENTS` events occur by the horizon.
    """
    try:
        h = float(horizon)
    except (TypeError, ValueError):
        raise ValidationInputError(f"{where}: horizon must be a number, got {horizon!r}.") from None
    if not np.isfinite(h) or h <= 0:
        raise ValidationInputError(f"{where}: horizon must be a positive number, got {horizon!r}.")
    last = float(duration.max())
    if h > last:
        raise ValidationInputError(
            f"{where}: horizon {h:g} is beyond the last follow-up time {last:g}; risks "
            "cannot be checked where nobody is followed - choose a horizon <= "
            f"{last:g} (in the same unit as the durations)."
        )
    n_events = int((event == 1).sum())
    if n_events == 0:
        raise ValidationInputError(
            f"{where}: all {duration.size} persons are censored or had a competing "
            "event (no event code 1); validation needs observed events - check the "
            "event column and its coding (0 censored, 1 event, 2 competing)."
        )
    by_h = int(((event == 1) & (duration <= h)).sum())
    if by_h == 0:
        first = float(duration[event == 1].min())
        raise ValidationInputError(
            f"{where}: no event occurs by the horizon {h:g} ({n_events} events, the "
            f"first at {first:g}); choose a later horizon or check the time unit."
        )
    if by_h < MIN_EVENTS:
        warnings.warn(
            f"{where}: only {by_h} events by the horizon {h:g} (fewer than "
            f"{MIN_EVENTS}); the estimates are unreliable and their intervals wide - "
            "pool more data or choose a later horizon.",
            StatisticalWarning,
            stacklevel=3,
        )
    return h

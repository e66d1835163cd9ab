"""The model interface and the input checks every model shares."""

from __future__ import annotations

from typing import Protocol, Self, runtime_checkable

import numpy as np
import pandas as pd

from epi.exceptions import ModelError

__all__ = ["MIN_EVENTS", "RiskModel", "check_X", "check_horizon", "check_outcome"]

#: Fewer outcome events than this make every model here meaningless.
MIN_EVENTS = 10


@runtime_checkable
class RiskModel(Protocol):
    """What every epi model provides (``docs/CONTRACTS.md``).

    ``outcome`` has columns ``duration`` (float > 0, days) and ``event``
    (0 censored, 1 outcome, 2 competing death) and the same index as ``X``.
    ``predict_risk`` returns the absolute risk of ``event == 1`` by ``horizon``
    days, one value in [0, 1] per row of ``X``. Models that ignore competing
    risks treat ``event == 2`` as censored.
    """

    def fit(self, X: pd.DataFrame, outcome: pd.DataFrame) -> Self:
        """Fit on design matrix ``X`` and ``outcome``; return ``self``."""
        ...

    def predict_risk(self, X: pd.DataFrame, horizon: float) -> np.ndarray:
        """Absolute risk of ``event == 1`` by ``horizon`` for each row of ``X``."""
        ...


def _first(values: pd.Index | np.ndarray | list, n: int = 5) -> str:
    vals = list(values)
    text = ", ".join(repr(v) for v in vals[:n])
    return text + (", …" if len(vals) > n else "")


def check_X(X: pd.DataFrame, *, columns: list[str] | None = None, where: str = "X") -> None:
    """Check a design matrix: a DataFrame of finite numbers, optionally with given columns.

    Parameters
    ----------
    X : pandas.DataFrame
        Design matrix, one row per person.
    columns : list of str, optional
        Columns the fitted model needs; missing ones are an error.
    where : str
        Name used in messages.

    Raises
    ------
    ModelError
        Not a DataFrame, missing or non-numeric columns, NaN or infinite values
        (named with their counts; imputation happens upstream).
    """
    if not isinstance(X, pd.DataFrame):
        raise ModelError(f"{where} must be a pandas DataFrame, got {type(X).__name__}.")
    if len(X) == 0:
        raise ModelError(f"{where} has no rows.")
    if columns is not None:
        missing = [c for c in columns if c not in X.columns]
        if missing:
            raise ModelError(
                f"{where} lacks {len(missing)} column(s) the model was fitted with: "
                f"{_first(missing)}. Pass the same design-matrix columns as in fit."
            )
        X = X[columns]
    non_numeric = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    if non_numeric:
        raise ModelError(
            f"{where} has {len(non_numeric)} non-numeric column(s): {_first(non_numeric)}. "
            "Encode them as numbers (e.g. 0/1 indicators) before modelling."
        )
    values = X.to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        counts = bad.sum(axis=0)
        named = [f"{c} ({int(k)})" for c, k in zip(X.columns, counts, strict=True) if k]
        raise ModelError(
            f"{where} has missing or infinite values in {len(named)} column(s): "
            f"{_first(named)}. Impute or drop them upstream (epi models do not impute)."
        )


def check_outcome(
    outcome: pd.DataFrame,
    X: pd.DataFrame | None = None,
    *,
    min_events: int = MIN_EVENTS,
    causes: tuple[int, ...] = (1,),
) -> tuple[np.ndarray, np.ndarray]:
    """Check an outcome frame and return ``(duration, event)`` as arrays.

    Parameters
    ----------
    outcome : pandas.DataFrame
        Columns ``duration`` (float > 0) and ``event`` (0, 1 or 2).
    X : pandas.DataFrame, optional
        Design matrix; its index must equal ``outcome``'s (same order).
    min_events : int
        Minimum number of events required for each cause in ``causes``.
    causes : tuple of int
        Event codes that need at least ``min_events`` events.

    Returns
    -------
    duration : numpy.ndarray of float
    event : numpy.ndarray of int

    Raises
    ------
    ModelError
        Missing columns, misaligned index, durations <= 0 or not finite,
        event codes outside {0, 1, 2}, or fewer than ``min_events`` events.
    """
    if not isinstance(outcome, pd.DataFrame):
        raise ModelError(f"outcome must be a pandas DataFrame, got {type(outcome).__name__}.")
    missing = [c for c in ("duration", "event") if c not in outcome.columns]
    if missing:
        raise ModelError(
            f"outcome lacks column(s) {_first(missing)}; it needs 'duration' and 'event' "
            f"(got {_first(list(outcome.columns))})."
        )
    if X is not None:
        if len(X) != len(outcome):
            raise ModelError(f"X has {len(X)} rows but outcome has {len(outcome)}; align them.")
        if not X.index.equals(outcome.index):
            diff = X.index[X.index != outcome.index] if len(X) == len(outcome) else X.index
            raise ModelError(
                f"X and outcome indices differ ({len(diff)} positions, first X labels: "
                f"{_first(diff)}). Align them, e.g. outcome.loc[X.index]."
            )
    duration = pd.to_numeric(outcome["duration"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(duration) | (duration <= 0)
    if bad.any():
        raise ModelError(
            f"outcome.duration must be finite and > 0; {int(bad.sum())} row(s) are not "
            f"(first: {_first(outcome.index[bad])} with {_first(outcome['duration'][bad])}). "
            "Check the cohort's follow-up (events on the index date need a small positive time)."
        )
    ev = outcome["event"]
    ev_num = pd.to_numeric(ev, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isin(ev_num, (0.0, 1.0, 2.0))
    if bad.any():
        raise ModelError(
            f"outcome.event must be 0 (censored), 1 (outcome) or 2 (competing death); "
            f"{int(bad.sum())} row(s) are not (first values: {_first(ev[bad])})."
        )
    event = ev_num.astype(int)
    for cause in causes:
        n = int((event == cause).sum())
        if n < min_events:
            label = "outcome" if cause == 1 else "competing"
            raise ModelError(
                f"only {n} {label} event(s) (event == {cause}) among {len(event)} persons; "
                f"at least {min_events} are needed to fit a survival model. Use a longer "
                "horizon or follow-up, a broader outcome definition, or a larger cohort."
            )
    return duration, event


def check_horizon(horizon: float) -> float:
    """Return ``horizon`` as a float, or raise `ModelError` when it is not finite and > 0."""
    try:
        h = float(horizon)
    except (TypeError, ValueError):
        raise ModelError(f"horizon must be a number of days, got {horizon!r}.") from None
    if not np.isfinite(h) or h <= 0:
        raise ModelError(f"horizon must be finite and > 0 days, got {horizon!r}.")
    return h

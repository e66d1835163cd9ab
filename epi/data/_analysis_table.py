"""``data: {source: analysis_table}``: one row per person, ready for modelling.

This path skips cohort and feature building, so epi's models, validation and
report can be used on public data sets or on an analysis table made
elsewhere. The table is checked like any other input: every problem is
named with its column, count and first bad values.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from epi.exceptions import DataError

__all__ = ["AnalysisTable", "data_fingerprint", "read_analysis_table", "read_frame"]


def read_frame(path: str | Path) -> pd.DataFrame:
    """Read a CSV (comma or semicolon) or parquet file into a DataFrame.

    Raises
    ------
    DataError
        If the file is missing, of another type, or unreadable.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"file not found: {path}.")
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        if path.suffix in (".csv", ".gz"):
            return pd.read_csv(path, sep=None, engine="python")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot be read ({exc}).") from exc
    raise DataError(f"{path}: expected a .csv or .parquet file.")


@dataclass(frozen=True)
class AnalysisTable:
    """Predictors and outcome read from an analysis table."""

    X: pd.DataFrame
    outcome: pd.DataFrame
    dropped: dict[str, int]


def _first(values: pd.Series, n: int = 5) -> str:
    return ", ".join(repr(v) for v in values.head(n).tolist())


def read_analysis_table(
    path: str | Path,
    *,
    time: str,
    event: str,
    predictors: list[str],
    id: str | None = None,
    time_unit_days: float = 1.0,
    on_invalid: str = "error",
) -> AnalysisTable:
    """Read and check an analysis table.

    Parameters
    ----------
    path : path
        CSV or parquet, one row per person.
    time, event : str
        Follow-up time (in units of ``time_unit_days`` days) and event code
        (0 censored, 1 event, 2 competing event).
    predictors : list of str
        Predictor columns; text columns are one-hot coded (first level dropped).
    id : str, optional
        Person id column (row number otherwise).
    time_unit_days : float
        Days per unit of ``time`` (1 for days, 365.25 for years).
    on_invalid : {"error", "drop"}
        Stop on bad rows, or drop and count them.

    Returns
    -------
    AnalysisTable
    """
    frame = read_frame(path)
    wanted = [time, event, *predictors, *([id] if id else [])]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise DataError(
            f"{path}: column(s) {missing} named in the protocol are not in the table; "
            f"its columns are {list(frame.columns)}."
        )
    if len(frame) == 0:
        raise DataError(f"{path}: the table has no rows.")
    t = pd.to_numeric(frame[time], errors="coerce")
    e = pd.to_numeric(frame[event], errors="coerce")
    rules = [
        (time, "is not a positive number", ~(t > 0)),
        (event, "is not 0, 1 or 2", ~e.isin([0, 1, 2])),
    ]
    if id:
        rules.append((id, "is a duplicated id", frame[id].duplicated(keep=False)))
    problems: list[str] = []
    dropped: dict[str, int] = {}
    bad = pd.Series(False, index=frame.index)
    for column, what, mask in rules:
        if mask.any():
            n = int(mask.sum())
            problems.append(
                f"column '{column}' {what}: {n} row(s); first: {_first(frame.loc[mask, column])}"
            )
            dropped[f"{column} {what}"] = n
            bad |= mask
    if problems and on_invalid == "error":
        raise DataError(
            f"{path} ({len(frame)} rows):\n  - "
            + "\n  - ".join(problems)
            + "\nFix the file, or set 'data.on_invalid: drop' to drop and count these rows."
        )
    keep = frame.loc[~bad]
    index = pd.Index(keep[id].astype(str) if id else keep.index.astype(str), name="person_id")
    X = pd.get_dummies(keep[predictors], drop_first=True, dtype=float)
    X.index = index
    non_numeric = [c for c in X.columns if not np.issubdtype(X[c].dtype, np.number)]
    if non_numeric:
        raise DataError(f"{path}: predictor column(s) {non_numeric} could not be made numeric.")
    outcome = pd.DataFrame(
        {"duration": t[~bad].to_numpy() * time_unit_days, "event": e[~bad].astype(int).to_numpy()},
        index=index,
    )
    return AnalysisTable(X.astype(float), outcome, dropped)


def data_fingerprint(paths: list[Path]) -> str:
    """SHA-256 over the names and bytes of the input files (order-independent)."""
    outer = hashlib.sha256()
    for path in sorted(paths, key=lambda p: p.name):
        inner = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                inner.update(block)
        outer.update(f"{path.name}:{inner.hexdigest()}\n".encode())
    return outer.hexdigest()

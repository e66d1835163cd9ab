"""Internal and internal–external validation by refitting through a model factory.

Every procedure calls ``factory()`` for a fresh, unfitted model and refits the
*whole* modelling procedure (spline knots, tuning, imputation - whatever the
model's ``fit`` does) on each training set; validation only sees the risks
``predict_risk(X, horizon)`` returns.

* :func:`bootstrap_optimism` — Harrell's optimism correction (Harrell, Lee &
  Mark 1996; Steyerberg 2019, ch. 17): apparent performance minus the mean
  over resamples of (performance on the resample - performance of the same
  fit on the original data).
* :func:`cross_validate` — k-fold cross-validation, folds stratified by event
  status at the horizon; the estimate is the mean over folds, with the score
  of the pooled out-of-fold predictions beside it.
* :func:`temporal_validation` — develop on persons indexed before a year,
  validate on the later ones.
* :func:`internal_external_validation` — leave one cluster (e.g. municipality)
  out at a time; the estimate scores the pooled out-of-cluster predictions,
  and each cluster's own scores show the heterogeneity.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from epi.exceptions import (
    ConvergenceError,
    ConvergenceWarning,
    StatisticalWarning,
    ValidationInputError,
)
from epi.validation._checks import MIN_EVENTS, as_outcome, as_risk, check_horizon
from epi.validation._estimators import prepare
from epi.validation._parallel import map_resamples
from epi.validation._performance import MEASURES, score


class RiskModel(Protocol):
    """What validation needs of a model (see ``docs/CONTRACTS.md``)."""

    def fit(self, X: pd.DataFrame, outcome: pd.DataFrame) -> Any: ...

    def predict_risk(self, X: pd.DataFrame, horizon: float) -> np.ndarray: ...


ModelFactory = Callable[[], RiskModel]


@dataclass(frozen=True)
class ResamplingResult:
    """Performance from a resampling procedure.

    Attributes
    ----------
    method : str
        ``"bootstrap_optimism"``, ``"cross_validation"``, ``"temporal"`` or
        ``"internal_external"``.
    horizon : float
    estimate : dict
        The validated estimate per measure (optimism-corrected, mean over
        folds, temporal test set, or pooled out-of-cluster).
    apparent : dict
        The model fitted and scored on all (training) data.
    per_split : pandas.DataFrame
        One row per resample, fold or cluster with sizes, events and measures
        (for the bootstrap ``<measure>_boot``, ``<measure>_test``,
        ``<measure>_optimism`` and the CPU seconds of the resample).
    pooled : dict or None
        Scores of the pooled out-of-fold / out-of-cluster predictions.
    n_failed : int
        Splits dropped because the fit failed to converge or could not be
        scored.
    """

    method: str
    horizon: float
    estimate: dict[str, float]
    apparent: dict[str, float]
    per_split: pd.DataFrame
    pooled: dict[str, float] | None = None
    n_failed: int = 0
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (per-split rows as records)."""
        return {
            "method": self.method,
            "horizon": self.horizon,
            "estimate": self.estimate,
            "apparent": self.apparent,
            "pooled": self.pooled,
            "n_failed": self.n_failed,
            "settings": self.settings,
            "per_split": self.per_split.replace({np.nan: None}).to_dict(orient="records"),
        }


# --------------------------------------------------------------------------- helpers


def _check_inputs(
    X: pd.DataFrame, outcome: pd.DataFrame, horizon: float, measures: Sequence[str]
) -> tuple[NDArray[np.float64], NDArray[np.int64], float]:
    if not isinstance(X, pd.DataFrame):
        raise ValidationInputError(f"X must be a pandas DataFrame, got {type(X).__name__}.")
    if not isinstance(outcome, pd.DataFrame) or not {"duration", "event"} <= set(outcome):
        got = list(outcome.columns) if isinstance(outcome, pd.DataFrame) else type(outcome).__name__
        raise ValidationInputError(
            f"outcome must be a DataFrame with columns 'duration' and 'event'; got {got}."
        )
    if len(X) != len(outcome) or not X.index.equals(outcome.index):
        raise ValidationInputError(
            f"X ({len(X)} rows) and outcome ({len(outcome)} rows) must have the same index "
            "(person_id) in the same order; align them with outcome.loc[X.index]."
        )
    bad = [m for m in measures if m not in MEASURES]
    if bad:
        raise ValidationInputError(f"measures: unknown {bad}; choose from {list(MEASURES)}.")
    t, e = as_outcome(outcome["duration"], outcome["event"])
    h = check_horizon(t, e, horizon, where="outcome")
    return t, e, h


def _is_convergence(w: warnings.WarningMessage) -> bool:
    return issubclass(w.category, ConvergenceWarning) or "convergence" in (
        w.category.__name__.lower()
    )


class _FitLog:
    """Collects non-convergence across splits and reports it once."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.problems: list[str] = []
        self.total = 0

    def report(self) -> None:
        if not self.problems:
            return
        where = (
            f"on the {self.what}"
            if self.total == 1
            else f"in {len(self.problems)} of {self.total} {self.what}"
        )
        warnings.warn(
            f"The model fit did not converge {where} (first: {self.problems[0]}). Fix: "
            "penalise the model (e.g. a ridge penalty), drop or merge sparse predictors, "
            "reduce spline knots, or check for (quasi-)separation; non-converged fits were "
            + ("dropped." if any("failed" in p for p in self.problems) else "kept."),
            ConvergenceWarning,
            stacklevel=3,
        )


def _fit_predict(
    factory: ModelFactory,
    X_train: pd.DataFrame,
    y_train: pd.DataFrame,
    X_pred: Sequence[pd.DataFrame],
    horizon: float,
    label: str,
) -> tuple[list[NDArray[np.float64]] | None, str | None]:
    """Fit on the training set and predict on each of ``X_pred``.

    Returns the risks (None when the fit raised a convergence error) and a
    note on non-convergence (None when the fit converged).
    """
    note = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = factory().fit(X_train, y_train)
        except ConvergenceError as exc:
            return None, f"{label}: fit failed: {exc}"
        except Exception as exc:
            if "convergence" in type(exc).__name__.lower():
                return None, f"{label}: fit failed: {exc}"
            raise
    for w in caught:
        if _is_convergence(w):
            note = note or f"{label}: {w.message}"
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    preds = [
        as_risk(model.predict_risk(x, horizon), len(x), name=f"{label}: predict_risk")
        for x in X_pred
    ]
    return preds, note


def _apparent_fit(
    factory: ModelFactory, X: pd.DataFrame, outcome: pd.DataFrame, h: float, label: str
) -> NDArray[np.float64]:
    """Fit on all of ``X`` and predict it; non-convergence warns or raises with the fix."""
    preds, note = _fit_predict(factory, X, outcome, [X], h, label)
    log = _FitLog(label)
    log.total = 1
    if preds is None:
        raise ConvergenceError(
            f"The model does not converge on the {label} ({note}). Fix: penalise the model "
            "(e.g. a ridge penalty), drop or merge sparse predictors, reduce spline knots, or "
            "check for (quasi-)separation."
        )
    if note:
        log.problems.append(note)
        log.report()
    return preds[0]


def _subset(X: pd.DataFrame, outcome: pd.DataFrame, idx: NDArray[np.intp], fresh: bool = False):
    xs, ys = X.iloc[idx], outcome.iloc[idx]
    if fresh:  # bootstrap duplicates persons: give each copy its own row label
        new = pd.RangeIndex(len(idx), name=X.index.name)
        xs, ys = xs.set_axis(new), ys.set_axis(new)
    return xs, ys


def _score(t, e, risk, h, measures, where) -> dict[str, float]:
    return score(prepare(t, e, check_horizon(t, e, h, where=where)), risk, measures)


def _events_by(t: NDArray[np.float64], e: NDArray[np.int64], h: float) -> int:
    return int(((e == 1) & (t <= h)).sum())


def _warn_small_arms(rows: list[dict[str, Any]], what: str) -> None:
    # exact counts below 5 would be small cells in a log: say "<5" instead
    small = [
        f"{r['split']} ({arm} arm: "
        f"{r[f'events_{arm}'] if r[f'events_{arm}'] >= 5 else '<5'} events)"
        for r in rows
        for arm in ("train", "test")
        if r[f"events_{arm}"] < MIN_EVENTS
    ]
    if small:
        warnings.warn(
            f"{len(small)} {what} arm(s) have fewer than {MIN_EVENTS} events by the horizon: "
            f"{', '.join(small[:5])}{' ...' if len(small) > 5 else ''}; their estimates are "
            "unreliable - merge small clusters, use fewer folds or a later horizon.",
            StatisticalWarning,
            stacklevel=3,
        )


def _quiet_score(t, e, risk, h, measures, where) -> dict[str, float]:
    # Few-event warnings of single splits are summarised by _warn_small_arms.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        return _score(t, e, risk, h, measures, where)


# ------------------------------------------------------------------- procedures


def bootstrap_optimism(
    factory: ModelFactory,
    X: pd.DataFrame,
    outcome: pd.DataFrame,
    horizon: float,
    *,
    n_bootstrap: int = 200,
    seed: int = 0,
    measures: Sequence[str] = MEASURES,
    n_jobs: int = 1,
) -> ResamplingResult:
    """Harrell's bootstrap optimism-corrected performance.

    Parameters
    ----------
    factory : callable
        Returns a fresh unfitted model with ``fit(X, outcome)`` and
        ``predict_risk(X, horizon)``; the whole modelling procedure is refitted
        in every resample.
    X : pandas.DataFrame
        Design matrix, indexed like ``outcome``.
    outcome : pandas.DataFrame
        Columns ``duration`` and ``event`` (0/1/2).
    horizon : float
    n_bootstrap : int
        Number of resamples B (the protocol's; default 200).
    seed : int
        Seed of the resampling (results do not depend on ``n_jobs``).
    measures : sequence of str
        Measures to correct; default all of :data:`MEASURES`.
    n_jobs : int
        Parallel processes (joblib); 1 runs in this process.

    Returns
    -------
    ResamplingResult
        ``estimate = apparent - mean(optimism)``; ``per_split`` has the
        measures on each resample, on the original data and their difference.

    Warns
    -----
    ConvergenceWarning
        When fits do not converge, naming the first resample and the fix.
    """
    t, e, h = _check_inputs(X, outcome, horizon, measures)
    if int(n_bootstrap) < 1:
        raise ValidationInputError(f"n_bootstrap must be >= 1, got {n_bootstrap}.")
    apparent = _score(
        t, e, _apparent_fit(factory, X, outcome, h, "full data"), h, measures, "full data"
    )
    rng = np.random.default_rng(seed)
    draws = [rng.integers(0, len(X), len(X)) for _ in range(int(n_bootstrap))]

    def one(b: int, idx: NDArray[np.intp]) -> tuple[dict[str, Any] | None, str | None]:
        cpu = time.process_time()
        xb, yb = _subset(X, outcome, idx, fresh=True)
        label = f"bootstrap resample {b + 1}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StatisticalWarning)
            out, note_b = _fit_predict(factory, xb, yb, [xb, X], h, label)
            if out is None:
                return None, note_b
            try:
                boot = _score(t[idx], e[idx], out[0], h, measures, label)
            except ValidationInputError as exc:
                return None, f"{label}: not scored: {exc}"
            test = _score(t, e, out[1], h, measures, label)
        row: dict[str, Any] = {"split": b + 1, "converged": note_b is None}
        for m in measures:
            row[f"{m}_boot"] = boot[m]
            row[f"{m}_test"] = test[m]
            row[f"{m}_optimism"] = boot[m] - test[m]
        row["cpu_seconds"] = time.process_time() - cpu  # refit and scoring, this process
        return row, note_b

    results = map_resamples(lambda b: one(b, draws[b]), len(draws), n_jobs)
    log = _FitLog("bootstrap resamples")
    log.total = len(draws)
    rows, failed = [], 0
    for row, note_b in results:
        if note_b:
            log.problems.append(note_b)
        if row is None:
            failed += 1
        else:
            rows.append(row)
    log.report()
    per = pd.DataFrame(rows)
    if per.empty:
        raise ValidationInputError(
            f"bootstrap: none of the {len(draws)} resamples could be fitted and scored; "
            "see the warnings for why."
        )
    estimate = {m: float(apparent[m] - per[f"{m}_optimism"].mean()) for m in measures}
    return ResamplingResult(
        method="bootstrap_optimism",
        horizon=h,
        estimate=estimate,
        apparent=apparent,
        per_split=per,
        n_failed=failed,
        settings={"n_bootstrap": int(n_bootstrap), "seed": int(seed)},
    )


def _held_out(
    factory: ModelFactory,
    X: pd.DataFrame,
    outcome: pd.DataFrame,
    t: NDArray[np.float64],
    e: NDArray[np.int64],
    h: float,
    splits: list[tuple[Any, NDArray[np.intp], NDArray[np.intp]]],
    measures: Sequence[str],
    what: str,
) -> tuple[pd.DataFrame, NDArray[np.float64], int]:
    """Fit on each training set, score each test set, collect held-out risks."""
    log = _FitLog(what)
    log.total = len(splits)
    rows: list[dict[str, Any]] = []
    pooled = np.full(len(X), np.nan)
    failed = 0
    for label, train, test in splits:
        xt, yt = _subset(X, outcome, train)
        xv, _ = _subset(X, outcome, test)
        out, note = _fit_predict(factory, xt, yt, [xv], h, f"{what.rstrip('s')} {label}")
        if note:
            log.problems.append(note)
        row: dict[str, Any] = {
            "split": label,
            "n_train": int(train.size),
            "n_test": int(test.size),
            "events_train": _events_by(t[train], e[train], h),
            "events_test": _events_by(t[test], e[test], h),
            "converged": note is None,
        }
        if out is None:
            failed += 1
            rows.append(row)
            continue
        pooled[test] = out[0]
        try:
            row.update(_quiet_score(t[test], e[test], out[0], h, measures, f"{what} {label}"))
        except ValidationInputError:
            failed += 1
        rows.append(row)
    log.report()
    _warn_small_arms(rows, what.rstrip("s"))
    return pd.DataFrame(rows), pooled, failed


def cross_validate(
    factory: ModelFactory,
    X: pd.DataFrame,
    outcome: pd.DataFrame,
    horizon: float,
    *,
    n_splits: int = 5,
    seed: int = 0,
    measures: Sequence[str] = MEASURES,
) -> ResamplingResult:
    """k-fold cross-validation, folds stratified by event status at the horizon.

    Parameters
    ----------
    factory, X, outcome, horizon, measures
        As for :func:`bootstrap_optimism`.
    n_splits : int
        Number of folds k (>= 2).
    seed : int
        Seed of the fold assignment.

    Returns
    -------
    ResamplingResult
        ``estimate`` is the mean over folds; ``pooled`` scores the stacked
        out-of-fold predictions once.
    """
    from sklearn.model_selection import StratifiedKFold

    t, e, h = _check_inputs(X, outcome, horizon, measures)
    if int(n_splits) < 2 or int(n_splits) > len(X):
        raise ValidationInputError(f"n_splits must be between 2 and {len(X)}, got {n_splits}.")
    strata = np.where(t <= h, e, 3)  # event 1 / competing / censored by h, or event-free
    counts = np.bincount(strata)
    if counts[counts > 0].min() < n_splits:
        strata = (strata == 1).astype(int)
    skf = StratifiedKFold(n_splits=int(n_splits), shuffle=True, random_state=seed)
    splits = [(k + 1, tr, te) for k, (tr, te) in enumerate(skf.split(np.zeros(len(X)), strata))]
    per, pooled_risk, failed = _held_out(factory, X, outcome, t, e, h, splits, measures, "folds")
    estimate = {m: float(per[m].mean()) if m in per else float("nan") for m in measures}
    ok = np.isfinite(pooled_risk)
    if not ok.any():
        raise ValidationInputError(
            f"cross-validation: none of the {n_splits} fold fits could be used; see the "
            "convergence warning for the fix."
        )
    pooled = _score(t[ok], e[ok], pooled_risk[ok], h, measures, "pooled out-of-fold")
    apparent = _score(
        t, e, _apparent_fit(factory, X, outcome, h, "full data"), h, measures, "full data"
    )
    return ResamplingResult(
        method="cross_validation",
        horizon=h,
        estimate=estimate,
        apparent=apparent,
        per_split=per,
        pooled=pooled,
        n_failed=failed,
        settings={"n_splits": int(n_splits), "seed": int(seed)},
    )


def temporal_validation(
    factory: ModelFactory,
    X: pd.DataFrame,
    outcome: pd.DataFrame,
    horizon: float,
    *,
    index_year: ArrayLike,
    split_year: int,
    measures: Sequence[str] = MEASURES,
) -> ResamplingResult:
    """Develop on persons indexed before ``split_year``, validate on the rest.

    Parameters
    ----------
    factory, X, outcome, horizon, measures
        As for :func:`bootstrap_optimism`.
    index_year : array-like of int
        Calendar year of each person's index date.
    split_year : int
        First year of the validation period.

    Returns
    -------
    ResamplingResult
        ``estimate`` scores the validation period; ``apparent`` the
        development period.
    """
    t, e, h = _check_inputs(X, outcome, horizon, measures)
    year = np.asarray(index_year).ravel()
    if year.size != len(X):
        raise ValidationInputError(
            f"index_year has {year.size} values for {len(X)} persons; pass one per person."
        )
    train = np.flatnonzero(year < split_year)
    test = np.flatnonzero(year >= split_year)
    if train.size == 0 or test.size == 0:
        raise ValidationInputError(
            f"split_year {split_year} leaves the "
            f"{'development' if train.size == 0 else 'validation'} period empty (index years "
            f"{year.min()}-{year.max()}); choose a year inside that range."
        )
    label = f"{year.min()}-{split_year - 1} -> {split_year}-{year.max()}"
    per, _, failed = _held_out(
        factory, X, outcome, t, e, h, [(label, train, test)], measures, "temporal splits"
    )
    if failed:
        raise ValidationInputError(
            f"temporal validation {label}: the model could not be fitted or scored; "
            "see the warnings."
        )
    xt, yt = _subset(X, outcome, train)
    dev = _apparent_fit(factory, xt, yt, h, "development period")
    apparent = _quiet_score(t[train], e[train], dev, h, measures, "development period")
    estimate = {m: float(per[m].iloc[0]) for m in measures}
    return ResamplingResult(
        method="temporal",
        horizon=h,
        estimate=estimate,
        apparent=apparent,
        per_split=per,
        settings={"split_year": int(split_year)},
    )


def internal_external_validation(
    factory: ModelFactory,
    X: pd.DataFrame,
    outcome: pd.DataFrame,
    horizon: float,
    *,
    cluster: ArrayLike,
    measures: Sequence[str] = MEASURES,
) -> ResamplingResult:
    """Internal–external validation: leave one cluster (e.g. municipality) out.

    Parameters
    ----------
    factory, X, outcome, horizon, measures
        As for :func:`bootstrap_optimism`.
    cluster : array-like
        Cluster of each person (e.g. municipality code); needs >= 2 clusters.

    Returns
    -------
    ResamplingResult
        ``per_split`` has one row per left-out cluster; ``estimate`` (and
        ``pooled``) score the pooled out-of-cluster predictions.

    Warns
    -----
    StatisticalWarning
        For clusters with fewer than 10 events by the horizon.
    """
    t, e, h = _check_inputs(X, outcome, horizon, measures)
    cl = np.asarray(cluster).ravel()
    if cl.size != len(X):
        raise ValidationInputError(
            f"cluster has {cl.size} values for {len(X)} persons; pass one per person."
        )
    if pd.isna(cl).any():
        raise ValidationInputError(
            f"cluster: {int(pd.isna(cl).sum())} persons have no cluster; assign or drop them."
        )
    levels = pd.unique(cl)
    if levels.size < 2:
        raise ValidationInputError(
            f"cluster: internal-external validation needs >= 2 clusters, got {levels.size}."
        )
    splits = [
        (
            lv.item() if hasattr(lv, "item") else lv,
            np.flatnonzero(cl != lv),
            np.flatnonzero(cl == lv),
        )
        for lv in levels
    ]
    per, pooled_risk, failed = _held_out(factory, X, outcome, t, e, h, splits, measures, "clusters")
    ok = np.isfinite(pooled_risk)
    if not ok.any():
        raise ValidationInputError(
            f"internal-external validation: none of the {levels.size} leave-one-cluster-out "
            "fits could be used; see the convergence warning for the fix."
        )
    pooled = _score(t[ok], e[ok], pooled_risk[ok], h, measures, "pooled out-of-cluster")
    apparent = _score(
        t, e, _apparent_fit(factory, X, outcome, h, "full data"), h, measures, "full data"
    )
    return ResamplingResult(
        method="internal_external",
        horizon=h,
        estimate=dict(pooled),
        apparent=apparent,
        per_split=per,
        pooled=pooled,
        n_failed=failed,
        settings={"n_clusters": int(levels.size)},
    )

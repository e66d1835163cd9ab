"""Missing predictor values: complete case, missing indicator, multiple imputation.

Each handler is a transformer *fitted on training data* (``fit(X) -> self``,
``transform(X)``), so validation can refit it inside every bootstrap resample
or fold and apply the training fit to the held-out rows. Inputs are never
modified. :func:`rubins_rules` pools estimates across imputed data sets.
"""

from __future__ import annotations

import warnings
from typing import Self

import numpy as np
import pandas as pd

from epi.exceptions import CohortError
from epi.protocol import MissingDataSpec

__all__ = [
    "CompleteCase",
    "MissingIndicator",
    "MultipleImputation",
    "make_missing_handler",
    "rubins_rules",
]


def _check_frame(X: pd.DataFrame, where: str) -> None:
    if not isinstance(X, pd.DataFrame):
        raise CohortError(f"{where}: expected a pandas DataFrame, got {type(X).__name__}")
    bad = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    if bad:
        raise CohortError(f"{where}: non-numeric column(s) {bad[:5]}; encode them first.")


def _check_columns(X: pd.DataFrame, columns: list[str], where: str) -> None:
    missing = [c for c in columns if c not in X.columns]
    if missing:
        raise CohortError(
            f"{where}: column(s) {missing[:5]} seen in fit are absent; transform the same "
            "design matrix the handler was fitted on."
        )


class CompleteCase:
    """Drop persons with any missing value (``transform`` returns the kept rows).

    The caller aligns the outcome on the returned index. ``n_dropped_`` is the
    number of rows dropped by the last ``transform``.
    """

    def fit(self, X: pd.DataFrame) -> Self:
        """Record the columns; nothing is learnt."""
        _check_frame(X, "CompleteCase.fit")
        self.columns_ = list(X.columns)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Rows of ``X`` without any missing value."""
        _check_columns(X, self.columns_, "CompleteCase.transform")
        out = X[self.columns_].dropna()
        self.n_dropped_ = len(X) - len(out)
        return out


class MissingIndicator:
    """Fill missing values with the training median and add 0/1 missingness indicators.

    One indicator per distinct missingness pattern in the training data, named
    after its first column with ``__missing``; a pattern that an existing 0/1
    column or its complement already encodes (e.g. ``gp__lab_hba1c_missing`` for
    the lab's last value and mean, or ``note__x_any`` for ``note__x_days_since_last``)
    adds no indicator, so no two columns are collinear.
    """

    def fit(self, X: pd.DataFrame) -> Self:
        """Learn medians and indicator columns from the training rows."""
        _check_frame(X, "MissingIndicator.fit")
        self.columns_ = list(X.columns)
        medians = X.median(numeric_only=True)
        self.fill_ = medians.fillna(0.0).astype(float)
        na = X.isna()

        def key(values: np.ndarray) -> int:
            return int(pd.util.hash_array(values).sum())

        # 0/1 columns without missing values, by hash, to compare patterns with
        known: dict[int, list[np.ndarray]] = {}
        for c in X.columns:
            v = X[c].to_numpy()
            if not na[c].any() and np.isin(v, (0, 1)).all():
                arr = v.astype(np.int64)
                known.setdefault(key(arr), []).append(arr)
        self.indicators_: dict[str, str] = {}  # indicator name -> source column
        for c in X.columns:
            if not na[c].any():
                continue
            pattern = na[c].to_numpy().astype(np.int64)
            # a complement is collinear too: 1 - x differs from x by the model's constant
            # (e.g. "days since the last mention" is missing exactly when "any mention" is 0)
            if any(
                np.array_equal(p, other)
                for p in (pattern, 1 - pattern)
                for other in known.get(key(p), [])
            ):
                continue
            known.setdefault(key(pattern), []).append(pattern)
            self.indicators_[f"{c}__missing"] = c
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Indicators first computed on ``X``, then missing values filled."""
        _check_columns(X, self.columns_, "MissingIndicator.transform")
        # in numpy: DataFrame.fillna with a Series of medians aligns column by column
        # and took a third of every bootstrap refit's time
        values = X[self.columns_].to_numpy(dtype=float, na_value=np.nan, copy=True)
        na = np.isnan(values)
        rows, cols = np.nonzero(na)
        values[rows, cols] = self.fill_.reindex(self.columns_).to_numpy(dtype=float)[cols]
        position = {c: j for j, c in enumerate(self.columns_)}
        flags = [na[:, position[src]] for src in self.indicators_.values()]
        if flags:
            values = np.column_stack([values, *flags])
        return pd.DataFrame(values, index=X.index, columns=[*self.columns_, *self.indicators_])


class MultipleImputation:
    """m completed data sets by chained equations (scikit-learn's IterativeImputer).

    Each of the ``m`` imputers is fitted on the training rows with its own seed
    and ``sample_posterior=True`` (draws from the predictive distribution, as
    proper multiple imputation requires), imputed values are bounded by the
    observed training range, and complete columns are left as they are.
    ``transform`` returns a list of ``m`` DataFrames; fit a model to each and
    pool with :func:`rubins_rules`.

    Parameters
    ----------
    m : int
        Number of imputed data sets.
    max_iter : int
        Rounds of chained equations.
    seed : int
        Seeds ``seed, seed + 1, …`` for the m imputers.

    Notes
    -----
    The outcome is not part of the imputation model here (the design matrix is
    all the handler sees); for estimation, adding the event indicator and the
    Nelson-Aalen cumulative hazard as auxiliary columns is recommended (White &
    Royston, Stat Med 2009).
    """

    def __init__(self, m: int = 5, max_iter: int = 10, seed: int = 0) -> None:
        if m < 2:
            raise CohortError(f"MultipleImputation: m must be >= 2 (got {m})")
        self.m = m
        self.max_iter = max_iter
        self.seed = seed

    def fit(self, X: pd.DataFrame) -> Self:
        """Fit the m imputation models on the training rows."""
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.experimental import enable_iterative_imputer  # noqa: F401
        from sklearn.impute import IterativeImputer

        _check_frame(X, "MultipleImputation.fit")
        self.columns_ = list(X.columns)
        values = X.to_numpy(float)
        lo = np.nanmin(np.where(np.isnan(values), np.inf, values), axis=0)
        hi = np.nanmax(np.where(np.isnan(values), -np.inf, values), axis=0)
        all_missing = [
            c for c, v in zip(self.columns_, np.isnan(values).all(axis=0), strict=True) if v
        ]
        if all_missing:
            raise CohortError(
                f"MultipleImputation.fit: column(s) {all_missing[:5]} have no observed value "
                "in the training rows; drop them before imputing."
            )
        self.imputers_ = []
        for i in range(self.m):
            imputer = IterativeImputer(
                sample_posterior=True,
                max_iter=self.max_iter,
                random_state=self.seed + i,
                skip_complete=True,
                min_value=lo,
                max_value=hi,
                keep_empty_features=True,
            )
            with warnings.catch_warnings():
                # With sample_posterior the chain is stochastic and never meets the
                # early-stopping tolerance; that warning carries no information here.
                warnings.simplefilter("ignore", ConvergenceWarning)
                imputer.fit(values)
            self.imputers_.append(imputer)
        return self

    def transform(self, X: pd.DataFrame) -> list[pd.DataFrame]:
        """The m completed copies of ``X`` (observed values unchanged)."""
        from sklearn.exceptions import ConvergenceWarning

        _check_columns(X, self.columns_, "MultipleImputation.transform")
        values = X[self.columns_].to_numpy(float)
        observed = ~np.isnan(values)
        out = []
        for imputer in self.imputers_:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                filled = imputer.transform(values)
            filled = np.where(observed, values, filled)
            out.append(pd.DataFrame(filled, index=X.index, columns=self.columns_))
        return out


def make_missing_handler(
    spec: MissingDataSpec, seed: int = 0
) -> CompleteCase | MissingIndicator | MultipleImputation:
    """The unfitted handler the protocol's ``missing`` section names.

    Parameters
    ----------
    spec : MissingDataSpec
        ``protocol.missing``.
    seed : int
        Seed for multiple imputation (use the protocol's seed).
    """
    if spec.strategy == "complete_case":
        return CompleteCase()
    if spec.strategy == "missing_indicator":
        return MissingIndicator()
    return MultipleImputation(m=spec.imputations, max_iter=spec.max_iter, seed=seed)


def rubins_rules(
    estimates: np.ndarray | list[float],
    variances: np.ndarray | list[float],
    df_complete: float | None = None,
) -> tuple[np.ndarray | float, np.ndarray | float, np.ndarray | float]:
    """Pool m estimates and their variances by Rubin's rules.

    Parameters
    ----------
    estimates : array-like, shape (m,) or (m, p)
        Estimate(s) from each imputed data set.
    variances : array-like, same shape
        Their squared standard errors (within-imputation variances).
    df_complete : float, optional
        Complete-data degrees of freedom; if given, the Barnard & Rubin (1999)
        small-sample degrees of freedom are returned.

    Returns
    -------
    pooled : float or ndarray
        Mean of the estimates, Q̄.
    total_var : float or ndarray
        T = Ū + (1 + 1/m) B, with Ū the mean within-variance and B the
        between-imputation variance (ddof 1).
    df : float or ndarray
        Rubin's (1987) ν = (m - 1) (1 + Ū / ((1 + 1/m) B))², infinite when B = 0;
        or the Barnard-Rubin value when ``df_complete`` is given.

    Raises
    ------
    CohortError
        Fewer than two imputations, mismatched shapes, or negative variances.
    """
    q = np.asarray(estimates, dtype=float)
    u = np.asarray(variances, dtype=float)
    if q.shape != u.shape or q.ndim not in (1, 2):
        raise CohortError(
            f"rubins_rules: estimates {q.shape} and variances {u.shape} must have the same "
            "shape (m,) or (m, p)"
        )
    m = q.shape[0]
    if m < 2:
        raise CohortError(f"rubins_rules: needs at least 2 imputations (got {m})")
    if np.any(u < 0) or not np.all(np.isfinite(u)) or not np.all(np.isfinite(q)):
        raise CohortError("rubins_rules: variances must be finite and >= 0, estimates finite")
    qbar = q.mean(axis=0)
    ubar = u.mean(axis=0)
    b = q.var(axis=0, ddof=1)
    t = ubar + (1.0 + 1.0 / m) * b
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (1.0 + 1.0 / m) * b / ubar
        df = np.where(b > 0, (m - 1) * (1.0 + 1.0 / r) ** 2, np.inf)
        if df_complete is not None:
            gamma = (1.0 + 1.0 / m) * b / t
            df_obs = (df_complete + 1.0) / (df_complete + 3.0) * df_complete * (1.0 - gamma)
            df = 1.0 / (1.0 / df + 1.0 / df_obs)
    if q.ndim == 1:
        return float(qbar), float(t), float(df)
    return qbar, t, df

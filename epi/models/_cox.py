"""Cox proportional-hazards model (lifelines' Efron partial likelihood)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Self

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter
from scipy import stats

from epi.exceptions import ConvergenceError, ModelError, StatisticalWarning

from ._base import check_horizon, check_outcome, check_X
from ._core import baseline_increments, step_at
from ._design import Design, check_spline_params, check_strata_param, nonconstant_terms
from ._lifelines import problem_columns, run_lifelines
from ._zph import zph_test

__all__ = ["CoxModel"]

_BASELINE_TIES = ("efron", "breslow")


def check_fitted(model: object, attr: str) -> None:
    """Raise `ModelError` when ``model`` has not been fitted."""
    if not hasattr(model, attr):
        raise ModelError(f"{type(model).__name__} is not fitted yet; call fit(X, outcome) first.")


def warn_beyond_followup(horizon: float, max_time: float, name: str) -> None:
    """Warn when ``horizon`` lies beyond the longest training follow-up."""
    if horizon > max_time:
        warnings.warn(
            f"{name}: horizon {horizon:g} days is beyond the longest follow-up in the training "
            f"data ({max_time:g} days); the estimate is carried forward from the last "
            "observed time and is an extrapolation.",
            StatisticalWarning,
            stacklevel=3,
        )


class CoxModel:
    """Cox proportional-hazards model with splines, strata and optional penalty.

    Coefficients come from lifelines' ``CoxPHFitter`` (Efron's tie
    approximation, like R's ``coxph`` default). Continuous predictors named in
    ``splines`` enter as restricted cubic splines (`rcs_basis`, as
    ``rms::rcs``) with knots placed at Harrell's default quantiles of the
    training data in `fit` (``knots_``), so every refit (bootstrap, CV) learns
    its own knots. The linear predictor is centred at the training means of
    the model terms (``means_``; as R's ``coxph``), and the baseline
    cumulative hazard ``H0`` is for a person at those means.
    Risk: ``1 - exp(-H0_s(h) * exp(lp))`` with ``s`` the person's stratum.

    Parameters
    ----------
    penalizer : float, default 0
        Penalty strength ``λ >= 0``. lifelines maximises
        ``loglik(β) - n λ [(1 - α)/2 ||β*||² + α ||β*||₁]`` where ``β*`` are
        the coefficients of the covariates *standardised* by their training
        mean and standard deviation (ddof=1), ``α = l1_ratio`` and the L1 norm
        is a smooth approximation (coefficients shrink towards, but never
        exactly reach, zero). The ridge case equals R's
        ``coxph(Surv(t, e) ~ ridge(scale(X), theta = n * penalizer, scale = FALSE))``
        (tested on Rossi). It resembles glmnet's Cox objective
        (``-loglik/n + λ[(1-α)/2 ||β||² + α||β||₁]``) but is not equal to it:
        glmnet uses Breslow ties, population SDs, an exact L1 penalty and a λ
        path; do not reuse glmnet λ values. Spline terms are penalised like
        any other standardised term.
    l1_ratio : float, default 0
        Elastic-net mixing ``α`` in [0, 1]; 0 is ridge.
    splines : dict, optional
        ``{column: number_of_knots}`` (3 to 7) for restricted cubic splines.
    strata : list of str, optional
        Columns whose value combinations are strata: separate baseline hazards,
        common coefficients; the columns are not covariates.
    baseline_ties : {"efron", "breslow"}, default "efron"
        Estimator of the baseline hazard at tied event times: ``"efron"``
        equals R's ``survfit.coxph`` for an Efron fit (``ctype=2``);
        ``"breslow"`` is ``d/Σ exp(lp)`` (``ctype=1``, riskRegression).
    max_iter : int, default 500
        Newton–Raphson steps allowed.
    cause : int, default 1
        Event code treated as the event; all other codes are censored.

    Attributes
    ----------
    coef_ : pandas.Series
        Coefficients per model term (``age``, ``age'``, … for a spline).
    se_ : pandas.Series
        Model-based standard errors (NaN for terms constant in training, whose
        coefficient is 0) (for penalised fits, lifelines' inverse
        penalised information).
    vcov_ : pandas.DataFrame
        Variance matrix of ``coef_``.
    loglik_ : float
        Maximised (unpenalised part of the) log partial likelihood.
    means_ : pandas.Series
        Training means of the model terms (centring of the linear predictor).
    knots_ : dict
        Spline knots per spline column.
    baseline_ : dict
        Per stratum, ``(times, cumulative_hazard)`` at the distinct event times.
    n_events_ : int
    """

    kind = "cox"

    def __init__(
        self,
        penalizer: float = 0.0,
        l1_ratio: float = 0.0,
        splines: Mapping[str, int] | None = None,
        strata: Sequence[str] | None = None,
        baseline_ties: str = "efron",
        max_iter: int = 500,
        cause: int = 1,
    ) -> None:
        self.penalizer = penalizer
        self.l1_ratio = l1_ratio
        self.splines = splines
        self.strata = strata
        self.baseline_ties = baseline_ties
        self.max_iter = max_iter
        self.cause = cause

    def _check_params(self) -> None:
        if not np.isscalar(self.penalizer) or not float(self.penalizer) >= 0:
            raise ModelError(f"penalizer must be a number >= 0, got {self.penalizer!r}.")
        if not 0.0 <= float(self.l1_ratio) <= 1.0:
            raise ModelError(f"l1_ratio must be in [0, 1], got {self.l1_ratio!r}.")
        if self.baseline_ties not in _BASELINE_TIES:
            raise ModelError(
                f"baseline_ties must be one of {list(_BASELINE_TIES)}, got {self.baseline_ties!r}."
            )
        if int(self.max_iter) < 1:
            raise ModelError(f"max_iter must be >= 1, got {self.max_iter!r}.")
        if self.cause not in (1, 2):
            raise ModelError(f"cause must be 1 or 2, got {self.cause!r}.")

    def fit(self, X: pd.DataFrame, outcome: pd.DataFrame) -> Self:
        """Fit the model.

        Parameters
        ----------
        X : pandas.DataFrame
            Numeric design matrix (no missing values), including any strata
            columns.
        outcome : pandas.DataFrame
            ``duration`` and ``event`` with the same index as ``X``.

        Returns
        -------
        CoxModel
            ``self``.
        """
        self._check_params()
        check_X(X)
        duration, event = check_outcome(outcome, X, causes=(self.cause,))
        design = Design(check_spline_params(self.splines), check_strata_param(self.strata)).fit(X)
        Z = design.matrix(X)
        labels = design.stratum_labels(X)
        e = (event == self.cause).astype(int)
        what = f"Cox model (event == {self.cause}, {int(e.sum())} events, {len(e)} persons)"
        # Unpenalised fits are run on whitened terms (centred, decorrelated by the
        # Cholesky factor of their covariance) and mapped back: Newton's method is
        # invariant to this, but lifelines' step-size heuristic stalls on the highly
        # correlated columns of a spline basis (Rossi with rcs(age, 4) stops 7.5
        # log-likelihood units short of R's optimum without it). Penalised fits are
        # run on the raw terms because lifelines' penalty is defined on them.
        means = Z.mean(axis=0)
        keep = nonconstant_terms(Z, design.terms_, what)
        kept_names = [t for t, k in zip(design.terms_, keep, strict=True) if k]
        Zk = Z[:, keep]
        transform = np.eye(Zk.shape[1])
        Zfit = Zk
        if float(self.penalizer) == 0.0:
            cov = np.atleast_2d(np.cov(Zk - means[keep], rowvar=False))
            try:
                chol = np.linalg.cholesky(cov)
            except np.linalg.LinAlgError:
                bad = problem_columns(Zk, kept_names)
                raise ConvergenceError(
                    f"{what}: the model terms are collinear or constant"
                    f"{': ' + ', '.join(bad) if bad else ''}. Drop those columns or set "
                    "penalizer > 0."
                ) from None
            # chol[j, j]^2 / cov[j, j]: share of term j's variance not explained by the
            # earlier terms; ~1e-16 for exact collinearity
            unexplained = np.diag(chol) ** 2 / np.diag(cov)
            if (unexplained < 1e-10).any():
                bad = [
                    f"{n} (collinear with earlier columns)"
                    for n, u in zip(kept_names, unexplained, strict=True)
                    if u < 1e-10
                ]
                raise ConvergenceError(
                    f"{what}: the model terms are collinear: {', '.join(bad)}. Drop those "
                    "columns or set penalizer > 0."
                )
            transform = np.linalg.inv(chol).T  # beta = transform @ beta_white
            Zfit = (Zk - means[keep]) @ transform
        safe = [f"x{j}" for j in range(Zk.shape[1])]
        df = pd.DataFrame(Zfit, columns=safe)
        df["_T"] = duration
        df["_E"] = e
        if design.strata:
            df["_S"] = labels
        cph = CoxPHFitter(
            penalizer=float(self.penalizer),
            l1_ratio=float(self.l1_ratio),
            strata=["_S"] if design.strata else None,
        )
        # tight tolerance for the plain likelihood; lifelines' smoothed L1 penalty
        # sharpens every step and only meets its default tolerance
        fit_options = {"max_steps": int(self.max_iter)}
        if float(self.penalizer) == 0.0:
            fit_options["precision"] = 1e-9
        run_lifelines(
            lambda: cph.fit(df, "_T", "_E", fit_options=fit_options),
            Zk,
            kept_names,
            float(self.penalizer),
            what,
        )
        beta = np.zeros(Z.shape[1])
        beta[keep] = transform @ cph.params_.to_numpy(dtype=float)
        var = np.full((Z.shape[1], Z.shape[1]), np.nan)
        var[np.ix_(keep, keep)] = (
            transform @ cph.variance_matrix_.to_numpy(dtype=float) @ transform.T
        )
        if not np.all(np.isfinite(beta)):
            raise ModelError(f"{what}: non-finite coefficients; increase penalizer.")
        self.design_ = design
        self.coef_ = pd.Series(beta, index=design.terms_, name="coef")
        self.se_ = pd.Series(np.sqrt(np.diag(var)), index=design.terms_, name="se")
        self.vcov_ = pd.DataFrame(var, index=design.terms_, columns=design.terms_)
        self.loglik_ = float(cph.log_likelihood_)
        self.means_ = pd.Series(means, index=design.terms_, name="mean")
        self.knots_ = dict(design.knots_)
        self.n_events_ = int(e.sum())
        self.max_time_ = float(duration.max())
        lp = (Z - self.means_.to_numpy()) @ beta
        self.baseline_ = {}
        for s in design.strata_levels_:
            m = labels == s
            if not e[m].any():
                times, dH = np.array([]), np.array([])
            else:
                times, dH = baseline_increments(
                    duration[m], e[m], np.exp(lp[m]), self.baseline_ties
                )
            self.baseline_[s] = (times, np.cumsum(dH))
        self._zph_data = (Zk, duration, e, lp, labels, kept_names)
        return self

    def summary(self) -> pd.DataFrame:
        """Coefficient table: ``coef``, ``se``, ``hr``, 95% CI of the HR, ``z``, ``p``.

        Wald statistics from the model-based variance (for penalised fits they
        are not valid tests; report them as descriptive).
        """
        check_fitted(self, "coef_")
        z = self.coef_ / self.se_
        return pd.DataFrame(
            {
                "coef": self.coef_,
                "se": self.se_,
                "hr": np.exp(self.coef_),
                "hr_lower_95": np.exp(self.coef_ - 1.959963984540054 * self.se_),
                "hr_upper_95": np.exp(self.coef_ + 1.959963984540054 * self.se_),
                "z": z,
                "p": 2 * stats.norm.sf(np.abs(z)),
                "mean": self.means_,
            }
        )

    def linear_predictor(self, X: pd.DataFrame) -> np.ndarray:
        """Centred linear predictor ``(z - means_) · coef_`` for each row of ``X``."""
        check_fitted(self, "coef_")
        check_X(X, columns=self.design_.input_columns_ + self.design_.strata)
        Z = self.design_.matrix(X)
        return (Z - self.means_.to_numpy()) @ self.coef_.to_numpy()

    def baseline_cumhaz(self, horizon: float) -> dict[str, float]:
        """Baseline cumulative hazard ``H0_s(horizon)`` per stratum ``s``."""
        check_fitted(self, "coef_")
        h = check_horizon(horizon)
        return {s: step_at(t, H, h) for s, (t, H) in self.baseline_.items()}

    def predict_risk(self, X: pd.DataFrame, horizon: float) -> np.ndarray:
        """Absolute risk of ``event == cause`` by ``horizon``: ``1 - exp(-H0_s(h) exp(lp))``.

        Parameters
        ----------
        X : pandas.DataFrame
            Same columns as in `fit` (extra columns are ignored).
        horizon : float
            Days since index.

        Returns
        -------
        numpy.ndarray
            One risk in [0, 1] per row.
        """
        lp = self.linear_predictor(X)
        h = check_horizon(horizon)
        warn_beyond_followup(h, self.max_time_, "CoxModel")
        labels = self.design_.stratum_labels(X)
        self.design_.check_strata_known(labels)
        H0 = self.baseline_cumhaz(h)
        h0 = np.array([H0[s] for s in labels], dtype=float)
        return 1.0 - np.exp(-h0 * np.exp(lp))

    def ph_test(self, transform: str = "km") -> pd.DataFrame:
        """Test proportional hazards with scaled Schoenfeld residuals (per term and global).

        Reproduces R's ``cox.zph(fit, transform=transform, terms=FALSE)`` of
        survival >= 3.0: score tests for adding ``x * g(t)`` to the model,
        using the full information matrix (lifelines'
        ``proportional_hazard_test`` uses the older approximation and ranks
        tied times differently, so it is not used). ``transform``:
        ``"km"`` (R's default, ``g = 1 - KM(t-)``), ``"rank"`` (R's
        ``rank(time)`` over all rows), ``"identity"`` or ``"log"``. For
        penalised fits the test ignores the penalty.

        Returns
        -------
        pandas.DataFrame
            Index: model terms (constant ones left out) and ``"GLOBAL"``; columns ``chisq``, ``df``,
            ``p``, ``transform``.
        """
        check_fitted(self, "coef_")
        Z, time, e, lp, labels, names = self._zph_data
        try:
            rows = zph_test(Z, time, e, lp, labels, names, transform)
        except ValueError as exc:
            raise ModelError(str(exc)) from None
        frame = pd.DataFrame(rows, columns=["term", "chisq", "df", "p"]).set_index("term")
        frame["transform"] = transform
        return frame

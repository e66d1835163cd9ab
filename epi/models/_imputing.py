"""A risk model fitted after a missing-data handler, refitted together.

Resampling must refit the *whole* modelling procedure — imputation included —
in every bootstrap sample and fold, so the handler is part of the model: its
``fit`` learns medians or imputation models from the training rows only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Self

import numpy as np
import pandas as pd

from epi.exceptions import ModelError

from ._base import RiskModel

__all__ = ["ImputingModel"]


class ImputingModel:
    """Handle missing values, then fit one model per completed data set.

    Parameters
    ----------
    make_handler : callable
        Returns an unfitted handler with ``fit(X) -> self`` and ``transform(X)``
        returning a DataFrame (single imputation / indicators) or a list of m
        DataFrames (multiple imputation), e.g. ``epi.features.make_missing_handler``.
    make_model : callable
        Returns an unfitted :class:`RiskModel`.
    passthrough : sequence of str
        Columns the handler does not see and the model gets unchanged (the
        cluster ids a hierarchical model groups by).

    Attributes
    ----------
    handler_ : object
        The fitted handler.
    models_ : list of RiskModel
        One fitted model per completed data set (m under multiple imputation).

    Notes
    -----
    Under multiple imputation the predicted risk is the mean over the m
    models' risks (pooling predictions, as Rubin's rules do for a mean).
    """

    def __init__(
        self,
        make_handler: Callable[[], Any],
        make_model: Callable[[], RiskModel],
        passthrough: Sequence[str] = (),
    ) -> None:
        self.make_handler = make_handler
        self.make_model = make_model
        self.passthrough = list(passthrough)

    def _split(self, X: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        missing = [c for c in self.passthrough if c not in X.columns]
        if missing:
            raise ModelError(f"ImputingModel: passthrough column(s) {missing} are not in X.")
        return X.drop(columns=self.passthrough), X[self.passthrough]

    def fit(self, X: pd.DataFrame, outcome: pd.DataFrame) -> Self:
        """Fit the handler, then the model(s), on the training rows."""
        features, kept = self._split(X)
        self.handler_ = self.make_handler().fit(features)
        completed = self._attach(self.handler_.transform(features), kept)
        if isinstance(completed, list):
            self.models_ = [self.make_model().fit(x, outcome) for x in completed]
        else:
            self.models_ = [self.make_model().fit(completed, outcome.loc[completed.index])]
        return self

    @staticmethod
    def _attach(
        completed: pd.DataFrame | list[pd.DataFrame], kept: pd.DataFrame
    ) -> pd.DataFrame | list[pd.DataFrame]:
        if kept.shape[1] == 0:
            return completed
        if isinstance(completed, list):
            return [x.join(kept) for x in completed]
        return completed.join(kept)

    @property
    def model_(self) -> RiskModel:
        """The fitted model when there is one completed data set."""
        if len(self.models_) != 1:
            raise ModelError(
                f"ImputingModel holds {len(self.models_)} models (multiple imputation); "
                "use models_ and pool them with epi.features.rubins_rules."
            )
        return self.models_[0]

    def transform(self, X: pd.DataFrame) -> list[pd.DataFrame]:
        """The completed design matrices the fitted models take."""
        features, kept = self._split(X)
        completed = self._attach(self.handler_.transform(features), kept)
        out = completed if isinstance(completed, list) else [completed]
        if len(out[0]) != len(X):
            raise ModelError(
                f"{len(X) - len(out[0])} of {len(X)} rows have missing predictors and the "
                "missing-data strategy is complete case; restrict the cohort to complete "
                "cases before predicting, or choose missing_indicator or multiple_imputation."
            )
        return out

    def predict_risk(self, X: pd.DataFrame, horizon: float) -> np.ndarray:
        """Absolute risk of event 1 by ``horizon`` (mean over imputations)."""
        risks = [
            m.predict_risk(x, horizon) for m, x in zip(self.models_, self.transform(X), strict=True)
        ]
        return np.mean(risks, axis=0)

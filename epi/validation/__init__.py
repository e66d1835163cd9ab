"""Validation of predicted risks at a horizon: pure functions over
``(duration, event, risk, horizon)`` and resampling through model factories.

Outcome coding: ``event`` 0 censored, 1 event, 2 competing event; ``risk`` is
the predicted absolute risk of event 1 by ``horizon`` (same time unit as
``duration``). Every measure is checked against R in ``tests/validation``.

Also Riley et al.'s minimum sample size for developing a survival prediction
model (``riley_survival``, as R ``pmsampsize(type = "s")``).
"""

from epi.validation._calibration import (
    calibration_curve,
    calibration_errors,
    calibration_in_the_large,
    calibration_slope,
    observed_risk,
    oe_ratio,
)
from epi.validation._decision import TREAT_ALL, TREAT_NONE, decision_curve, net_benefit
from epi.validation._discrimination import harrell_c, time_dependent_auc, uno_c
from epi.validation._overall import brier_score, ipa
from epi.validation._performance import MEASURES, evaluate_predictions
from epi.validation._plots import plot_calibration, plot_decision_curve
from epi.validation._report import read_predictions, write_evaluation
from epi.validation._resampling import (
    ResamplingResult,
    bootstrap_optimism,
    cross_validate,
    internal_external_validation,
    temporal_validation,
)
from epi.validation._samplesize import (
    SampleSize,
    SampleSizeCriterion,
    expected_shrinkage,
    riley_survival,
    rsquared_cs_from_lr,
)

__all__ = [
    "MEASURES",
    "TREAT_ALL",
    "TREAT_NONE",
    "ResamplingResult",
    "SampleSize",
    "SampleSizeCriterion",
    "bootstrap_optimism",
    "brier_score",
    "calibration_curve",
    "calibration_errors",
    "calibration_in_the_large",
    "calibration_slope",
    "cross_validate",
    "decision_curve",
    "evaluate_predictions",
    "expected_shrinkage",
    "harrell_c",
    "internal_external_validation",
    "ipa",
    "net_benefit",
    "observed_risk",
    "oe_ratio",
    "plot_calibration",
    "plot_decision_curve",
    "read_predictions",
    "riley_survival",
    "rsquared_cs_from_lr",
    "temporal_validation",
    "time_dependent_auc",
    "uno_c",
    "write_evaluation",
]

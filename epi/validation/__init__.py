"""Validation of predicted risks at a horizon: pure functions over
``(duration, event, risk, horizon)`` and resampling through model factories.

Outcome coding: ``event`` 0 censored, 1 event, 2 competing event; ``risk`` is
the predicted absolute risk of event 1 by ``horizon`` (same time unit as
``duration``). Every measure is checked against R in ``tests/validation``.
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

__all__ = [
    "TREAT_ALL",
    "TREAT_NONE",
    "brier_score",
    "calibration_curve",
    "calibration_errors",
    "calibration_in_the_large",
    "calibration_slope",
    "decision_curve",
    "harrell_c",
    "ipa",
    "net_benefit",
    "observed_risk",
    "oe_ratio",
    "time_dependent_auc",
    "uno_c",
]

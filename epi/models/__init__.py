"""Survival models behind one interface: ``fit(X, outcome) -> self``, ``predict_risk(X, horizon)``.

See ``docs/CONTRACTS.md``. `make_model` builds a model from a protocol's
``models:`` entry (kinds in `MODEL_KINDS`); `export_model_spec` writes a
fitted model's full specification (TRIPOD+AI item 22) and
`predict_from_spec` recomputes risks from that file alone.
"""

from ._base import MIN_EVENTS, RiskModel
from ._competing import CauseSpecificCoxModel
from ._cox import CoxModel
from ._ensemble import GradientBoostingSurvivalModel, RandomSurvivalForestModel
from ._export import export_model_spec, model_spec
from ._parametric import FlexibleParametricModel, WeibullModel
from ._registry import MODEL_KINDS, make_model
from ._spec import load_model_spec, predict_from_spec
from ._splines import harrell_knots, rcs_basis

__all__ = [
    "MIN_EVENTS",
    "MODEL_KINDS",
    "CauseSpecificCoxModel",
    "CoxModel",
    "FlexibleParametricModel",
    "GradientBoostingSurvivalModel",
    "RandomSurvivalForestModel",
    "RiskModel",
    "WeibullModel",
    "export_model_spec",
    "harrell_knots",
    "load_model_spec",
    "make_model",
    "model_spec",
    "predict_from_spec",
    "rcs_basis",
]

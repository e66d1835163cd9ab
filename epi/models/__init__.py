"""Survival models behind one interface: ``fit(X, outcome) -> self``, ``predict_risk(X, horizon)``.

See ``docs/CONTRACTS.md``. `make_model` builds a model from a protocol's
``models:`` entry; `export_model_spec` / `predict_from_spec` write and reuse
a model's full specification (TRIPOD+AI item 22).
"""

from ._base import MIN_EVENTS, RiskModel
from ._competing import CauseSpecificCoxModel
from ._cox import CoxModel
from ._splines import harrell_knots, rcs_basis

__all__ = [
    "MIN_EVENTS",
    "CauseSpecificCoxModel",
    "CoxModel",
    "RiskModel",
    "harrell_knots",
    "rcs_basis",
]

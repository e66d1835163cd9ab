"""Survival models behind one interface: ``fit(X, outcome) -> self``, ``predict_risk(X, horizon)``.

See ``docs/CONTRACTS.md``. `make_model` builds a model from a protocol's
``models:`` entry (kinds in `MODEL_KINDS`); `export_model_spec` writes a
fitted model's full specification (TRIPOD+AI item 22) and
`predict_from_spec` recomputes risks from that file alone.

Methods, and what each is checked against (``tests/models/reference``):

- Restricted cubic splines: Harrell's parametrisation with knots at his
  default quantiles, learnt in ``fit`` (``Hmisc::rcspline.eval(norm=2)``,
  ``rms::rcs``).
- `CoxModel`: Efron partial likelihood (``coxph(ties="efron")``), fitted by
  epi's vectorised numpy engine (``engine="lifelines"``: lifelines' fitter);
  every model term is centred at its training mean (R's survival 3.x leaves
  0/1 covariates uncentred; risks do not depend on centring); baseline
  cumulative hazard per stratum with Efron's tie correction, as
  ``survfit.coxph``. Penalty: lifelines' elastic net on standardised
  covariates; its ridge equals ``survival::ridge(theta = n * penalizer)`` on
  ``scale()``d covariates, and it is *not* glmnet's. `CoxModel.ph_test`
  reproduces ``cox.zph`` of survival >= 3.0 (default transform ``"km"``).
- `CauseSpecificCoxModel`: ``riskRegression::CSC`` + ``predictRisk``.
- `WeibullModel`: ``survreg(dist="weibull")``. `FlexibleParametricModel`:
  Royston–Parmar on the log cumulative hazard scale (df = 1 is Weibull PH).
- `RandomSurvivalForestModel`, `GradientBoostingSurvivalModel`:
  scikit-survival, tuned by k-fold CV inside the training data.

Models that ignore competing risks censor ``event == 2``.
"""

from ._base import MIN_EVENTS, RiskModel
from ._competing import CauseSpecificCoxModel
from ._cox import CoxModel
from ._ensemble import GradientBoostingSurvivalModel, RandomSurvivalForestModel
from ._export import export_model_spec, is_exportable, model_spec
from ._imputing import ImputingModel
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
    "ImputingModel",
    "RandomSurvivalForestModel",
    "RiskModel",
    "WeibullModel",
    "export_model_spec",
    "harrell_knots",
    "is_exportable",
    "load_model_spec",
    "make_model",
    "model_spec",
    "predict_from_spec",
    "rcs_basis",
]

"""Bayesian hierarchical survival models (PyMC): Weibull PH and piecewise exponential.

Crossed, non-centred random intercepts (and optional random slopes) for GP
practice and municipality; factories with named coords and dims
(`build_weibull_ph_model`, `build_piecewise_exponential_model`); sampling as
a separate, seeded step (`sample`, PyMC's NUTS or nutpie); diagnostics
enforced with `DiagnosticsWarning` (`check_diagnostics`); posterior risks
with credible intervals through the epi model interface
(`BayesWeibullPHModel`, `BayesPiecewiseExponentialModel`); report material
(`posterior_summary`, `group_effects`, `variance_partition`,
`median_hazard_ratio`, `shrinkage_table`, `compare_with_frequentist`,
`caterpillar_plot`).

Competing death (``event == 2``) is treated as censored: the models estimate
the cause-specific hazard of event 1.

Approximate leave-one-out validation from the one fit, without refits:
`loo_risk` (PSIS-LOO; `pointwise_log_likelihood`, `psis_k_threshold`).
"""

from ._factories import (
    SurvivalDesign,
    build_piecewise_exponential_model,
    build_weibull_ph_model,
    noncentred_effect,
    prepare_design,
    resolve_parametrisation,
)
from ._loo import LooResult, loo_risk, pointwise_log_likelihood, psis_k_threshold
from ._model import BayesPiecewiseExponentialModel, BayesWeibullPHModel
from ._priors import Priors
from ._report import (
    compare_with_frequentist,
    group_effects,
    median_hazard_ratio,
    posterior_summary,
    risk_agreement,
    shrinkage_summary,
    shrinkage_table,
    variance_partition,
)
from ._sampling import (
    BFMI_MIN,
    ESS_MIN,
    RHAT_MAX,
    available_samplers,
    check_diagnostics,
    prior_predictive_check,
    sample,
)

__all__ = [
    "BFMI_MIN",
    "ESS_MIN",
    "RHAT_MAX",
    "BayesPiecewiseExponentialModel",
    "BayesWeibullPHModel",
    "LooResult",
    "Priors",
    "SurvivalDesign",
    "available_samplers",
    "build_piecewise_exponential_model",
    "build_weibull_ph_model",
    "check_diagnostics",
    "compare_with_frequentist",
    "group_effects",
    "loo_risk",
    "median_hazard_ratio",
    "noncentred_effect",
    "pointwise_log_likelihood",
    "posterior_summary",
    "prepare_design",
    "prior_predictive_check",
    "psis_k_threshold",
    "resolve_parametrisation",
    "risk_agreement",
    "sample",
    "shrinkage_summary",
    "shrinkage_table",
    "variance_partition",
]

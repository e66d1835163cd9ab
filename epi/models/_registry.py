"""Build models by name from a protocol's ``models:`` entries."""

from __future__ import annotations

import inspect
from typing import Any

from epi.exceptions import ModelError

from ._base import RiskModel
from ._competing import CauseSpecificCoxModel
from ._cox import CoxModel
from ._ensemble import GradientBoostingSurvivalModel, RandomSurvivalForestModel
from ._parametric import FlexibleParametricModel, WeibullModel

__all__ = ["BAYES_KINDS", "MODEL_KINDS", "make_model"]

#: ``kind`` → model class. Parameters are the class's constructor arguments:
#:
#: - ``cox`` (`CoxModel`): ``penalizer`` (float >= 0, lifelines' elastic-net
#:   strength on standardised coefficients), ``l1_ratio`` (0 ridge … 1 lasso),
#:   ``splines`` ({column: knots 3-7}, Harrell's restricted cubic splines),
#:   ``strata`` ([columns]), ``baseline_ties`` ("efron" | "breslow"),
#:   ``max_iter`` (Newton steps), ``engine`` ("numpy" | "lifelines").
#: - ``cause_specific_cox`` (`CauseSpecificCoxModel`): as ``cox`` plus
#:   ``product_limit`` (bool, all-cause survival as product limit).
#: - ``weibull`` (`WeibullModel`): ``penalizer``, ``splines``.
#: - ``flexible_parametric`` (`FlexibleParametricModel`): ``df`` (1-6
#:   baseline spline degrees of freedom; 1 = Weibull), ``splines``,
#:   ``penalizer``.
#: - ``rsf`` (`RandomSurvivalForestModel`) and ``gbsa``
#:   (`GradientBoostingSurvivalModel`): ``param_grid`` ({param: [values]},
#:   tuned by k-fold CV within the training data), ``cv`` (folds),
#:   ``scoring`` ("cindex" | "ibs"), ``n_jobs``, ``random_state``, and any
#:   fixed parameter of the
#:   scikit-survival estimator (e.g. ``n_estimators``).
MODEL_KINDS: dict[str, type] = {
    "cox": CoxModel,
    "cause_specific_cox": CauseSpecificCoxModel,
    "weibull": WeibullModel,
    "flexible_parametric": FlexibleParametricModel,
    "rsf": RandomSurvivalForestModel,
    "gbsa": GradientBoostingSurvivalModel,
}


#: Bayesian hierarchical kinds (``epi.models.bayes``), imported on first use:
#: parameters are the constructors' (``groups``, ``slopes``, ``priors``,
#: ``draws``, ``tune``, ``chains``, ``seed``, ``sampler``, …).
BAYES_KINDS: dict[str, str] = {
    "bayes_weibull_ph": "BayesWeibullPHModel",
    "bayes_piecewise_exponential": "BayesPiecewiseExponentialModel",
}


def make_model(kind: str, **params: Any) -> RiskModel:
    """Create an unfitted model of ``kind`` with ``params`` (see `MODEL_KINDS`).

    Parameters
    ----------
    kind : str
        One of ``MODEL_KINDS``: ``cox``, ``cause_specific_cox``, ``weibull``,
        ``flexible_parametric``, ``rsf``, ``gbsa``.
    **params
        Constructor arguments of that model, e.g. for a protocol entry
        ``{kind: cox, penalizer: 0.1, splines: {demo__age: 4}, strata: [demo__sex]}``
        call ``make_model("cox", penalizer=0.1, splines={...}, strata=[...])``.

    Returns
    -------
    RiskModel
        Unfitted; ``functools.partial(make_model, kind, **params)`` is a
        factory for resampling.

    Raises
    ------
    ModelError
        Unknown kind or parameter; the message lists the allowed ones.
    """
    cls = MODEL_KINDS.get(kind)
    if cls is None and kind in BAYES_KINDS:
        # PyMC takes seconds to import: only when a protocol asks for it
        from . import bayes

        cls = getattr(bayes, BAYES_KINDS[kind])
    if cls is None:
        allowed = sorted([*MODEL_KINDS, *BAYES_KINDS])
        raise ModelError(f"unknown model kind {kind!r}; allowed: {allowed}.")
    sig = inspect.signature(cls.__init__)
    named = [p for p in sig.parameters if p != "self" and p != "params"]
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values())
    if takes_any:
        model = cls(**params)
        model._base_estimator()  # validates the estimator parameters now
        model._grid()
        return model
    unknown = sorted(set(params) - set(named))
    if unknown:
        raise ModelError(
            f"model kind {kind!r}: unknown parameter(s) {unknown}; allowed: {sorted(named)}."
        )
    return cls(**params)

"""Prior settings of the Bayesian survival models (declared in the protocol)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from epi.exceptions import ModelError

__all__ = ["Priors"]


@dataclass(frozen=True)
class Priors:
    """Weakly informative default priors; every scale refers to the model's parametrisation.

    Predictors are standardised (mean 0, SD 1) inside the model, so coefficient
    priors are on the log hazard ratio per standard deviation. Time is measured
    in units of ``time_scale`` days (default years).

    Parameters
    ----------
    intercept_sd : float, default 2.5
        SD of the Normal prior of the intercept (log hazard at time 1 for a
        person with average predictors and average clusters), centred on the
        log crude event rate of the training data.
    coef : {"auto", "normal", "horseshoe"}, default "auto"
        Prior of the coefficients. ``"normal"``: Normal(0, ``coef_sd``) for all.
        ``"horseshoe"``: a regularised horseshoe (Piironen & Vehtari 2017) per
        feature block (columns sharing a ``prefix__``). ``"auto"``: the
        horseshoe for blocks with at least ``horseshoe_min_columns`` columns,
        Normal for the others. Sample horseshoe models with ``target_accept``
        0.99 (`default_target_accept`; at 0.9 they give divergences).
    coef_sd : float, default 0.5
        SD of the Normal coefficient prior (a hazard ratio of e ≈ 2.7 per SD is
        two prior SDs away; wider priors, summed over many predictors, imply
        implausible spreads of risk in the prior predictive check).
    horseshoe_min_columns : int, default 20
        Width from which ``coef="auto"`` puts a block under the horseshoe.
    horseshoe_nonzero_fraction : float, default 0.2
        Prior guess of the fraction of relevant predictors in a block, which
        sets the global scale ``tau0 = p0 / (p - p0) / sqrt(events)``.
    slab_scale : float, default 1.0
        Scale of the horseshoe's slab (largest plausible |log HR| per SD).
    slab_df : float, default 4.0
        Degrees of freedom of the slab.
    group_sd : float, default 0.5
        Scale of the HalfNormal prior of each random-intercept SD (log hazard
        scale; a median hazard ratio of about 1.6 at one prior SD).
    slope_sd : float, default 0.25
        Scale of the HalfNormal prior of each random-slope SD.
    weibull_shape_log_sd : float, default 0.5
        SD of the Normal prior of the log Weibull shape (centred on 0, i.e. an
        exponential model).
    baseline_log_rate_sd : float, default 2.5
        SD of the Normal prior of each log baseline rate of the piecewise
        exponential model, centred on the log crude rate (independent across
        intervals). The model samples it as an intercept, Normal with SD
        ``baseline_log_rate_sd / sqrt(J)`` for ``J`` intervals, plus zero-sum
        offsets, ZeroSumNormal with this SD: the same joint prior.
        ``intercept_sd`` does not apply to that model.
    """

    intercept_sd: float = 2.5
    coef: Literal["auto", "normal", "horseshoe"] = "auto"
    coef_sd: float = 0.5
    horseshoe_min_columns: int = 20
    horseshoe_nonzero_fraction: float = 0.2
    slab_scale: float = 1.0
    slab_df: float = 4.0
    group_sd: float = 0.5
    slope_sd: float = 0.25
    weibull_shape_log_sd: float = 0.5
    baseline_log_rate_sd: float = 2.5

    def __post_init__(self) -> None:
        if self.coef not in ("auto", "normal", "horseshoe"):
            raise ModelError(
                f"priors.coef must be 'auto', 'normal' or 'horseshoe', got {self.coef!r}."
            )
        for f in dataclasses.fields(self):
            if f.name == "coef":
                continue
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ModelError(f"priors.{f.name} must be a number > 0, got {value!r}.")
        if not self.horseshoe_nonzero_fraction < 1:
            raise ModelError(
                "priors.horseshoe_nonzero_fraction must lie in (0, 1), got "
                f"{self.horseshoe_nonzero_fraction!r}."
            )

    @classmethod
    def from_any(cls, priors: Priors | Mapping[str, Any] | None) -> Priors:
        """Return ``priors`` as `Priors` (a mapping, e.g. from a protocol, or ``None``).

        Raises
        ------
        ModelError
            Unknown keys (the message lists the allowed ones) or bad values.
        """
        if priors is None:
            return cls()
        if isinstance(priors, Priors):
            return priors
        if not isinstance(priors, Mapping):
            raise ModelError(f"priors must be a mapping or Priors, got {type(priors).__name__}.")
        allowed = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(priors) - set(allowed))
        if unknown:
            raise ModelError(f"priors: unknown key(s) {unknown}; allowed: {sorted(allowed)}.")
        return cls(**dict(priors))

"""A simulated cohort with an informative and a nil block of predictors.

The reference arm has 3 "GP" predictors; the "hospital" block adds 3
predictors with true log hazard ratios 0.6, 0.5 and 0.4; the "municipal"
block adds 6 predictors with no effect at all (the nil sector, as in the
synthetic population's heart-failure truth, ``truth.json`` ``nil_blocks``).
Weibull event times, uniform censoring, about 15 % events by the horizon.
Simulated here instead of building the synthetic population through
cohort and features: a population large enough for heart-failure outcomes
takes minutes, beyond this suite's budget.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from epi.models import make_model
from epi.protocol import load_protocol
from epi.study import ArmModel

HORIZON = 1826.0
PROTOCOL_FILE = "protocols/hf_in_t2d.yaml"


@dataclass
class Design:
    outcome: pd.DataFrame
    X: dict[str, pd.DataFrame]


def simulate(n: int, seed: int, *, extra_arms: int = 0) -> Design:
    """Outcome and design matrices of the arms ``gp``, ``gp_hosp``, ``gp_muni``."""
    rng = np.random.default_rng(seed)
    idx = pd.RangeIndex(n, name="person_id")
    gp = rng.normal(size=(n, 3))
    hosp = rng.normal(size=(n, 3))
    muni = rng.normal(size=(n, 6))
    lp = gp @ np.array([0.5, 0.4, 0.3]) + hosp @ np.array([0.6, 0.5, 0.4])
    t = rng.weibull(1.2, n) * 15000 * np.exp(-lp / 1.2)
    c = rng.uniform(400, 4000, n)
    outcome = pd.DataFrame({"duration": np.minimum(t, c), "event": (t <= c).astype(int)}, index=idx)

    def frame(a: np.ndarray, prefix: str) -> pd.DataFrame:
        return pd.DataFrame(a, index=idx, columns=[f"{prefix}__x{i}" for i in range(a.shape[1])])

    X = {
        "gp": frame(gp, "gp"),
        "gp_hosp": pd.concat([frame(gp, "gp"), frame(hosp, "hosp")], axis=1),
        "gp_muni": pd.concat([frame(gp, "gp"), frame(muni, "muni")], axis=1),
    }
    return Design(outcome, X)


def settings_for(bootstrap: int, seed: int = 7) -> dict:
    """compare_arms settings of the HF protocol (thresholds, risk groups) with reference
    ``gp``, this design's horizon, B and seed, as `epi.study.comparison_settings` makes them."""
    p = load_protocol(PROTOCOL_FILE)
    return {
        "reference": "gp",
        "horizon": HORIZON,
        "n_bootstrap": bootstrap,
        "seed": seed,
        "thresholds": p.validation.thresholds,
        "risk_groups": p.validation.risk_groups,
    }


def cox_factory():
    return make_model("cox")


def fit_arms(design: Design, model: str = "cox") -> tuple[list[ArmModel], dict]:
    """Apparent fits of every arm and the factories, as epi.study makes them."""
    fits, factories = [], {}
    for arm, X in design.X.items():
        fitted = cox_factory().fit(X, design.outcome)
        risk = fitted.predict_risk(X, HORIZON)
        fits.append(ArmModel(arm, model, "cox", X.shape[1], fitted, risk, {}))
        factories[(arm, model)] = cox_factory
    return fits, factories

"""A small cohort and design matrix with deliberately small cells (Table 1 unit tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def small_cohort(n: int = 800, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A cohort and design matrix with deliberately small cells."""
    rng = np.random.default_rng(seed)
    idx = pd.Index([f"p{i:04d}" for i in range(n)], name="person_id")
    age = rng.normal(76, 6.5, n).clip(65, 101)
    frail = rng.random(n)
    gp_contacts = rng.poisson(4 + 6 * frail)
    hosp = rng.poisson(0.3 + 0.8 * frail)
    home_care = (rng.random(n) < 0.15 + 0.3 * frail).astype(int)
    hours = np.where(home_care == 1, rng.gamma(1.5, 3, n), np.nan)
    rare = np.zeros(n, dtype=int)
    rare[[5, 17, 99]] = 1  # 3 persons: a small cell
    gp_copd = (rng.random(n) < 0.12).astype(int)
    # sector pattern "municipality only" for exactly 3 persons; "none" for a few more
    gp_contacts[[40, 41, 42]] = 0
    gp_copd[[40, 41, 42]] = 0
    rare[[40, 41, 42]] = 0
    hosp[[40, 41, 42]] = 0
    home_care[[40, 41, 42]] = 1
    hours[[40, 41, 42]] = 2.0
    features = pd.DataFrame(
        {
            "demo__age": age.round(1),
            "demo__sex_female": (rng.random(n) < 0.55).astype(int),
            "gp__contacts": gp_contacts,
            "gp__copd": gp_copd,
            "gp__rare_diagnosis": rare,
            "hosp__admissions": hosp,
            "muni__home_care": home_care,
            "muni__home_care_hours": hours,
        },
        index=idx,
    )
    hazard = 0.0004 * np.exp(0.04 * (age - 76) + 1.2 * frail)
    t_event = rng.exponential(1 / hazard)
    t_death = rng.exponential(1 / (0.5 * hazard))
    t_cens = rng.uniform(300, 730, n)
    duration = np.minimum.reduce([t_event, t_death, t_cens]).clip(1, None)
    event = np.select([duration == t_event, duration == t_death], [1, 2], 0)
    cohort = pd.DataFrame(
        {
            "duration": duration.round(1),
            "event": event,
            "index_date": pd.Timestamp("2023-01-01"),
            "practice_id": rng.integers(1, 30, n),
            "municipality_code": rng.choice([101, 147, 151, 153], n),
        },
        index=idx,
    )
    return cohort, features

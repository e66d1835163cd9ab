"""The truth model: region, latent variables, disease onset and outcome hazards.

Everything that decides who gets sick, who is admitted and who dies lives
here, as plain coefficient tables that :mod:`._truth` copies into
``truth/truth.json``. Hazards are constant within a calendar year and use the
state at 1 January, so the risk of a first event within a year has a closed
form with death competing; over several years it is averaged over simulated
futures of the same state process (:func:`step_year`).

Time is measured in days since 2015-01-01; hazards are rates per year of
365.25 days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from epi.data.synth._constants import (
    AF,
    CKD,
    CONDITIONS,
    COPD,
    DEM,
    HF,
    HTN,
    MUNI_CODES,
    MUNI_POP,
    N_PRACTICES,
    PATIENTS_PER_GP,
    T2D,
)

#: Random-effect SDs on the log-hazard of acute admission and HF hospitalisation.
RE_SD_PRACTICE = 0.25
RE_SD_MUNICIPALITY = 0.15

#: Log-hazard coefficients per year. Covariates: ``age10`` = (age - 75) / 10 at
#: 1 January, ``male``, latent ``cardio`` (cardiopulmonary burden, N(0,1),
#: constant), ``frailty`` (time-varying, see :func:`frailty`), ``loneliness``
#: (N(0,1), constant; written only in notes), true chronic conditions (0/1 at
#: 1 January) and ``re`` = practice + municipality random intercept.
COEF: dict[str, dict[str, float]] = {
    # Acute (unplanned, ATA1) admissions other than heart failure.
    "acute_other": {
        "intercept": np.log(0.105),
        "age10": 0.30,
        "male": 0.12,
        "cardio": 0.25,
        "frailty": 0.40,
        "loneliness": 0.20,
        "hypertension": 0.05,
        "t2d": 0.25,
        "af": 0.25,
        "copd": 0.60,
        "ckd": 0.35,
        "hf": 0.45,
        "dementia": 0.30,
        "re": 1.0,
    },
    # Heart-failure hospitalisation (acute admission with A-diagnosis DI50*).
    # No frailty, loneliness or dementia term: the municipal block is nil.
    "hf_hospitalisation": {
        "intercept": np.log(0.0011),
        "age10": 0.40,
        "male": 0.25,
        "cardio": 0.55,
        "hypertension": 0.25,
        "t2d": 0.40,
        "af": 0.55,
        "copd": 0.20,
        "ckd": 0.45,
        "hf": 3.40,
        "re": 1.0,
    },
    # Death from any cause (competing event); no random effects.
    "death": {
        "intercept": np.log(0.016),
        "age10": 0.85,
        "male": 0.35,
        "cardio": 0.15,
        "frailty": 0.45,
        "loneliness": 0.08,
        "t2d": 0.25,
        "af": 0.15,
        "copd": 0.60,
        "ckd": 0.35,
        "hf": 0.75,
        "dementia": 0.85,
    },
}
COVARIATES = ["age10", "male", "cardio", "frailty", "loneliness", *CONDITIONS, "re"]

#: Frailty = FRAIL["z"] * z_frail + FRAIL["age10"] * age10 + FRAIL["dementia"] * dementia.
#: It depends on nothing that enters the HF hazard, so municipal data (driven
#: by frailty and dementia only) carry no information on HF hospitalisation.
FRAIL = {"z": 0.8, "age10": 0.55, "dementia": 0.8}

#: Annual onset of chronic conditions: P = 1 - exp(-exp(eta)), eta linear in
#: (age - ref) / 10, sex, latent traits and other conditions.
ONSET: dict[str, dict[str, float]] = {
    "hypertension": {
        "intercept": np.log(0.024),
        "age_ref": 60,
        "age10": 0.45,
        "male": 0.10,
        "cardio": 0.30,
        "metabolic": 0.30,
    },
    "t2d": {
        "intercept": np.log(0.0021),
        "age_ref": 60,
        "age10": 0.30,
        "male": 0.25,
        "metabolic": 0.85,
        "cardio": 0.15,
        "hypertension": 0.35,
    },
    "af": {
        "intercept": np.log(0.0042),
        "age_ref": 75,
        "age10": 0.85,
        "male": 0.35,
        "cardio": 0.40,
        "hypertension": 0.35,
        "t2d": 0.15,
    },
    "copd": {
        "intercept": np.log(0.0026),
        "age_ref": 65,
        "age10": 0.45,
        "male": 0.05,
        "lung": 1.00,
        "cardio": 0.20,
    },
    "ckd": {
        "intercept": np.log(0.0028),
        "age_ref": 75,
        "age10": 0.90,
        "t2d": 0.75,
        "hypertension": 0.55,
        "cardio": 0.20,
    },
    "hf": {
        "intercept": np.log(0.0011),
        "age_ref": 75,
        "age10": 0.75,
        "male": 0.35,
        "cardio": 0.65,
        "af": 0.70,
        "t2d": 0.45,
        "hypertension": 0.35,
        "ckd": 0.35,
    },
    "dementia": {
        "intercept": np.log(0.0075),
        "age_ref": 80,
        "age10": 1.10,
        "male": -0.05,
        "cognitive": 0.55,
    },
}

#: Moving: yearly probability by age band (<40, 40-79, 80+); 30 % of moves
#: cross municipality borders, the rest only change practice.
MOVE_PROB = (0.05, 0.02, 0.03)
MOVE_CROSS_MUNI = 0.3
#: Permanent emigration per year by age band (<30, 30-49, 50-69, 70+).
EMIGRATION_RATE = (0.008, 0.003, 0.001, 0.0004)
#: Temporary stays abroad (age < 50): rate per year; 1-3 years.
ABROAD_RATE = 0.003


@dataclass(frozen=True)
class Region:
    """Practices and municipalities of the simulated region with their random effects."""

    practice_id: np.ndarray  # str, 6 digits
    practice_muni: np.ndarray  # int index into MUNI_CODES
    list_size: np.ndarray  # inhabitants listed (whole region)
    n_gps: np.ndarray
    re_practice: np.ndarray
    re_muni: np.ndarray  # per municipality index
    activity: np.ndarray  # practice contact-rate multiplier (log scale), nil for outcomes
    muni_service: np.ndarray  # municipality home-care level (log scale), nil for outcomes

    def practices_in(self, muni: int) -> np.ndarray:
        """Indices of the practices in municipality ``muni``."""
        return np.flatnonzero(self.practice_muni == muni)


def make_region(seed: int) -> Region:
    """Build the region's ~200 practices nested in its 11 municipalities.

    Practices per municipality are proportional to population, at least one
    (Læsø); list sizes are log-normal and sum to the municipality's
    population [S33]; the number of GPs follows from ~1,900 patients per GP
    [S12,S13].
    """
    rng = np.random.default_rng([seed, 7001])
    share = MUNI_POP / MUNI_POP.sum()
    n_per = np.maximum(1, np.round(share * N_PRACTICES).astype(int))
    muni = np.repeat(np.arange(len(MUNI_CODES)), n_per)
    raw = rng.lognormal(0.0, 0.55, size=muni.size)
    size = np.empty(muni.size)
    for m in range(len(MUNI_CODES)):
        idx = muni == m
        size[idx] = raw[idx] / raw[idx].sum() * MUNI_POP[m]
    size = np.round(size).astype(np.int64)
    n_gps = np.clip(np.round(size / PATIENTS_PER_GP), 1, 12).astype(np.int64)
    ids = rng.choice(np.arange(10_000, 99_999), size=muni.size, replace=False)
    practice_id = np.array([f"{i:06d}" for i in ids])
    return Region(
        practice_id=practice_id,
        practice_muni=muni,
        list_size=size,
        n_gps=n_gps,
        re_practice=rng.normal(0.0, RE_SD_PRACTICE, size=muni.size),
        re_muni=rng.normal(0.0, RE_SD_MUNICIPALITY, size=len(MUNI_CODES)),
        activity=rng.normal(0.0, 0.2, size=muni.size),
        muni_service=rng.normal(0.0, 0.25, size=len(MUNI_CODES)),
    )


def frailty(z_frail: np.ndarray, age: np.ndarray, dementia: np.ndarray) -> np.ndarray:
    """Latent frailty at a given age (standardised-ish; 0 = typical 75-year-old)."""
    return (
        FRAIL["z"] * z_frail + FRAIL["age10"] * (age - 75.0) / 10.0 + FRAIL["dementia"] * dementia
    )


@dataclass
class Traits:
    """Time-constant person traits (latent variables drawn once)."""

    male: np.ndarray
    birth: np.ndarray  # birth day, days since 2015-01-01 (negative)
    cardio: np.ndarray
    frail: np.ndarray
    loneliness: np.ndarray
    metabolic: np.ndarray
    lung: np.ndarray
    cognitive: np.ndarray
    use: np.ndarray  # health-care seeking (contact rates only)
    care: np.ndarray  # home-care propensity beyond frailty


def draw_traits(rng: np.random.Generator, male: np.ndarray, birth: np.ndarray) -> Traits:
    """Draw the latent traits of ``male.size`` persons (independent standard normals)."""
    n = male.size
    z = rng.standard_normal((8, n))
    return Traits(male, birth, z[0], z[1], z[2], z[3], z[4], z[5], z[6], z[7])


def onset_eta(
    cond: int, age: np.ndarray, tr: Traits, state: np.ndarray, sel: slice | np.ndarray = slice(None)
) -> np.ndarray:
    """Linear predictor of the yearly onset of condition ``cond`` (complementary log-log)."""
    c = ONSET[CONDITIONS[cond]]
    eta = c["intercept"] + c["age10"] * (age - c["age_ref"]) / 10.0
    terms = {
        "male": tr.male[sel],
        "cardio": tr.cardio[sel],
        "metabolic": tr.metabolic[sel],
        "lung": tr.lung[sel],
        "cognitive": tr.cognitive[sel],
    }
    for name, value in c.items():
        if name in terms:
            eta = eta + value * terms[name]
        elif name in CONDITIONS:
            eta = eta + value * state[:, CONDITIONS.index(name)]
    return eta


def onset_step(
    rng: np.random.Generator,
    age: np.ndarray,
    tr: Traits,
    state: np.ndarray,
    sel: slice | np.ndarray = slice(None),
    years: float | np.ndarray = 1.0,
) -> np.ndarray:
    """New onsets (bool matrix) over ``years`` given the state at the start."""
    new = np.zeros_like(state)
    u = rng.random(state.shape)
    for k in range(len(CONDITIONS)):
        p = 1.0 - np.exp(-np.exp(onset_eta(k, age, tr, state, sel)) * years)
        new[:, k] = (~state[:, k]) & (u[:, k] < p)
    return new


def burn_in(rng: np.random.Generator, tr: Traits, age0: np.ndarray) -> np.ndarray:
    """Conditions present at 2015-01-01: onsets simulated yearly from age 30."""
    n = age0.size
    state = np.zeros((n, len(CONDITIONS)), dtype=bool)
    max_years = int(np.ceil(age0.max() - 30.0)) if n else 0
    for k in range(max_years, 0, -1):
        age = age0 - k
        active = age >= 30.0
        if not active.any():
            continue
        idx = np.flatnonzero(active)
        sub = state[idx]
        state[idx] |= onset_step(rng, age[idx], tr, sub, idx)
    return state


def covariates(
    age: np.ndarray, tr: Traits, state: np.ndarray, re: np.ndarray, sel: slice | np.ndarray
) -> dict[str, np.ndarray]:
    """The hazard covariates of :data:`COVARIATES` for the persons ``sel``."""
    cov = {
        "age10": (age - 75.0) / 10.0,
        "male": tr.male[sel].astype(float),
        "cardio": tr.cardio[sel],
        "frailty": frailty(tr.frail[sel], age, state[:, DEM]),
        "loneliness": tr.loneliness[sel],
        "re": re,
    }
    for k, name in enumerate(CONDITIONS):
        cov[name] = state[:, k].astype(float)
    return cov


def hazard(outcome: str, cov: dict[str, np.ndarray]) -> np.ndarray:
    """Yearly hazard rate of ``outcome`` ("acute_other", "hf_hospitalisation", "death")."""
    c = COEF[outcome]
    eta = np.full(cov["age10"].shape, c["intercept"])
    for name, value in c.items():
        if name != "intercept":
            eta = eta + value * cov[name]
    return np.exp(eta)


def move_prob(age: np.ndarray) -> np.ndarray:
    """Yearly probability of moving (practice change, sometimes municipality)."""
    return np.where(age < 40, MOVE_PROB[0], np.where(age < 80, MOVE_PROB[1], MOVE_PROB[2]))


def emigration_rate(age: np.ndarray) -> np.ndarray:
    """Yearly rate of permanent emigration by age."""
    r = EMIGRATION_RATE
    return np.where(age < 30, r[0], np.where(age < 50, r[1], np.where(age < 70, r[2], r[3])))


def draw_new_practice(
    rng: np.random.Generator, region: Region, muni: np.ndarray, practice: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Destination (practice, municipality) of movers currently in ``muni``/``practice``.

    A mover crosses into another municipality (by population) with
    probability :data:`MOVE_CROSS_MUNI`, and then lists with a practice there
    by list size; otherwise changes practice within the municipality.
    """
    n = muni.size
    cross = rng.random(n) < MOVE_CROSS_MUNI
    p_muni = MUNI_POP / MUNI_POP.sum()
    new_muni = np.where(cross, rng.choice(len(MUNI_CODES), size=n, p=p_muni), muni)
    new_practice = practice.copy()
    u = rng.random(n)
    for m in np.unique(new_muni):
        idx = np.flatnonzero(new_muni == m)
        cand = region.practices_in(int(m))
        w = region.list_size[cand].astype(float)
        cum = np.cumsum(w) / w.sum()
        new_practice[idx] = cand[np.minimum(np.searchsorted(cum, u[idx]), cand.size - 1)]
    return new_practice, new_muni


__all__ = [
    "COEF",
    "COVARIATES",
    "FRAIL",
    "ONSET",
    "RE_SD_MUNICIPALITY",
    "RE_SD_PRACTICE",
    "Region",
    "Traits",
    "burn_in",
    "covariates",
    "draw_traits",
    "frailty",
    "hazard",
    "make_region",
    "onset_step",
]

# Silence "imported but unused" for names kept for readers of the coefficient tables.
_ = (AF, CKD, COPD, HF, HTN, T2D)

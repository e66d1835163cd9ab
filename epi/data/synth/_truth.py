"""True risks at the protocol horizons and the documented truth model.

Protocol A (acute admission, 1 year from 2023-01-01) has a closed form
because hazards are constant within 2023. Protocol B (heart-failure
hospitalisation, 5 years from the first type 2 diabetes diagnosis) spans
several years in which the state changes (new conditions, moves between
practices); its true risk is the average of the closed form over simulated
futures of the same state process, given everything known at time zero.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from epi.data.synth._constants import (
    CONDITIONS,
    DAYS_PER_YEAR,
    GENERATOR_VERSION,
    MUNI_CODES,
    YEAR_START,
)
from epi.data.synth._model import (
    COEF,
    COVARIATES,
    FRAIL,
    MOVE_CROSS_MUNI,
    MOVE_PROB,
    ONSET,
    RE_SD_MUNICIPALITY,
    RE_SD_PRACTICE,
    Region,
    covariates,
    draw_new_practice,
    hazard,
    move_prob,
    onset_eta,
)
from epi.data.synth._simulate import N_YEARS, Chunk, is_abroad, practice_at

A_INDEX_DAY = int(YEAR_START[8])  # 2023-01-01
A_HORIZON = 365
B_HORIZON = 1826
B_LAST_INDEX = int(YEAR_START[5]) - 1  # 2019-12-31
MC_REPLICATES = 200


def cif(l1: np.ndarray, l2: np.ndarray, days: float | np.ndarray) -> np.ndarray:
    """Cumulative incidence of cause 1 under constant hazards (per year) with competing cause 2."""
    lam = l1 + l2
    t = np.asarray(days, dtype=float) / DAYS_PER_YEAR
    safe = np.where(lam > 0, lam, 1.0)
    return np.where(lam > 0, l1 / safe * (1.0 - np.exp(-lam * t)), 0.0)


def risk_protocol_a(ch: Chunk) -> dict[str, np.ndarray]:
    """True 365-day risks from 2023-01-01 for persons aged 65+ alive and resident then."""
    y = 8
    day = float(A_INDEX_DAY)
    person = np.arange(ch.n)
    # aged 65 in completed years on the index date: born on or before 1958-01-01
    born_by = float((np.datetime64("1958-01-01") - np.datetime64("2015-01-01")).astype(int))
    elig = (
        ch.active_y[y] & (ch.traits.birth <= born_by) & ~is_abroad(ch, person, np.full(ch.n, day))
    )
    lo, lh, ld = ch.lam[0, y], ch.lam[1, y], ch.lam[2, y]
    acute = np.where(elig, cif(lo + lh, ld, A_HORIZON), np.nan)
    hf = np.where(elig, cif(lh, ld, A_HORIZON), np.nan)
    return {"acute_admission_365d": acute, "hf_hospitalisation_365d": hf}


def risk_protocol_b(
    ch: Chunk, region: Region, first_t2d: np.ndarray, seed: int, chunk: int
) -> dict[str, np.ndarray]:
    """True 1826-day HF-hospitalisation risk from the day after the first T2D diagnosis.

    Eligible: first diagnosis (GP T90 or hospital DE11*) in 2015-2019 and
    alive, not emigrated at time zero (00:00 the day after). Future states
    are simulated :data:`MC_REPLICATES` times.
    """
    out = np.full(ch.n, np.nan)
    index = np.full(ch.n, np.nan)
    end = ch.end_day()
    t0_all = first_t2d + 1.0
    elig = (~np.isnan(first_t2d)) & (first_t2d <= B_LAST_INDEX) & (end > t0_all)
    p = np.flatnonzero(elig)
    index[p] = first_t2d[p]
    if p.size == 0:
        return {"hf_hospitalisation_1826d": out, "t2d_index_date": index}
    rng = np.random.default_rng([seed, 5, chunk])
    R = MC_REPLICATES
    pr = np.repeat(p, R)
    t0 = np.repeat(t0_all[p], R)
    t_end = t0 + B_HORIZON
    y = np.searchsorted(YEAR_START, t0, side="right") - 1
    # state known at time zero: Jan-1 state plus onsets before t0
    on = ch.onset[pr]
    st = ch.state[y, pr].copy()
    # current practice/municipality; whether a move already happened this year
    prac, muni = practice_at(ch, pr, t0)
    mv = ch.moves
    moved = np.zeros(pr.size, dtype=bool)
    if mv["person"].size:
        ystart = YEAR_START[y].astype(float)
        for i in range(mv["person"].size):
            lo = np.searchsorted(pr, mv["person"][i], "left")
            hi = np.searchsorted(pr, mv["person"][i], "right")
            if hi > lo:
                d = mv["day"][i]
                moved[lo:hi] |= (d >= ystart[lo:hi]) & (d < t0[lo:hi])
    F = np.zeros(pr.size)
    S = np.ones(pr.size)
    tr = ch.traits
    cur = t0.copy()
    first = True
    yy = y.copy()
    while True:
        live = (cur < t_end) & (yy < N_YEARS)
        if not live.any():
            break
        idx = np.flatnonzero(live)
        ys = yy[idx]
        y0 = YEAR_START[ys].astype(float)
        y1 = YEAR_START[ys + 1].astype(float)
        seg_end = np.minimum(y1, t_end[idx])
        dt = seg_end - cur[idx]
        sti = st[idx]
        age = (y0 - tr.birth[pr[idx]]) / DAYS_PER_YEAR
        if first:
            lh = ch.lam[1, ys, pr[idx]]
            ld = ch.lam[2, ys, pr[idx]]
        else:
            re = region.re_practice[prac[idx]] + region.re_muni[muni[idx]]
            cov = covariates(age, tr, sti, re, pr[idx])
            lh = hazard("hf_hospitalisation", cov)
            ld = hazard("death", cov)
        F[idx] += S[idx] * cif(lh, ld, dt)
        S[idx] *= np.exp(-(lh + ld) * dt / DAYS_PER_YEAR)
        # transition to next 1 January
        frac = (y1 - cur[idx]) / (y1 - y0)
        new = np.zeros_like(sti)
        u = rng.random(sti.shape)
        for k in range(len(CONDITIONS)):
            h = np.exp(onset_eta(k, age, tr, sti, pr[idx]))
            if first:
                known = np.nan_to_num(on[idx, k], nan=np.inf) < cur[idx]
                p_new = 1.0 - np.exp(-h * frac)
                new[:, k] = ~sti[:, k] & (known | (u[:, k] < p_new))
            else:
                new[:, k] = ~sti[:, k] & (u[:, k] < 1.0 - np.exp(-h))
        st[idx] = sti | new
        pm = move_prob(age)
        if first:
            pm = np.where(moved[idx], 0.0, pm * frac / (1.0 - pm * (1.0 - frac)))
        mover = rng.random(idx.size) < pm
        if mover.any():
            j = idx[mover]
            np_, nm = draw_new_practice(rng, region, muni[j], prac[j])
            prac[j], muni[j] = np_, nm
        cur[idx] = seg_end
        yy[idx] = ys + 1
        first = False
    out[p] = F.reshape(p.size, R).mean(1)
    return {"hf_hospitalisation_1826d": out, "t2d_index_date": index}


def person_years(ch: Chunk, region: Region) -> dict[str, np.ndarray]:
    """True covariates and hazards of every person-year (for coefficient recovery)."""
    y, p = np.nonzero(ch.active_y)
    o = np.lexsort((y, p))
    y, p = y[o], p[o]
    t0 = YEAR_START[y].astype(float)
    t1 = YEAR_START[y + 1].astype(float)
    age = (t0 - ch.traits.birth[p]) / DAYS_PER_YEAR
    st = ch.state[y, p]
    re_p = region.re_practice[ch.practice_y[y, p]]
    re_m = region.re_muni[ch.muni_y[y, p]]
    cov = covariates(age, ch.traits, st, re_p + re_m, p)
    # first outcome events in the year (from the simulated process, all observed or not)
    a = ch.adm
    first_any = np.full(p.size, np.nan)
    first_hf = np.full(p.size, np.nan)
    first_other = np.full(p.size, np.nan)
    key = p * 100 + y
    ay = np.searchsorted(YEAR_START, a["day"], side="right") - 1
    akey = a["person"] * 100 + ay
    pos = np.searchsorted(key, akey)
    pos = np.minimum(pos, key.size - 1)
    hit = key[pos] == akey
    for arr, sel in ((first_any, hit), (first_hf, hit & a["hf"]), (first_other, hit & ~a["hf"])):
        tmp = np.full(p.size, np.inf)
        np.minimum.at(tmp, pos[sel], a["day"][sel])
        arr[np.isfinite(tmp)] = tmp[np.isfinite(tmp)]
    out = {
        "person_id": p + ch.first + 1,
        "year": 2015 + y,
        "start": t0,
        "stop": np.fmin(np.fmin(t1, ch.death[p]), ch.emig[p]),
        "death": (ch.death[p] < t1) & (ch.death[p] >= t0),
        "first_acute": first_any,
        "first_hf": first_hf,
        "first_acute_other": first_other,
        "practice_id": region.practice_id[ch.practice_y[y, p]],
        "municipality_code": MUNI_CODES[ch.muni_y[y, p]],
        "re_practice": re_p,
        "re_municipality": re_m,
        "lambda_acute_other": ch.lam[0, y, p],
        "lambda_hf": ch.lam[1, y, p],
        "lambda_death": ch.lam[2, y, p],
    }
    for k in COVARIATES:
        out[k] = cov[k]
    return out


_FRAIL_TEXT = (
    "latent frailty = {z} * z_frail + {age10} * age10 + {dementia} * dementia, z_frail ~ "
    "N(0,1); shows in municipal data (home care, FSIII, falls, nursing) and notes (fatigue, "
    "falls, dizziness, weight loss, appetite)"
)


def truth_document(region: Region, persons: int, seed: int) -> dict[str, Any]:
    """The content of ``truth/truth.json``."""
    return {
        "synthetic": True,
        "generator": f"epi.data.synth {GENERATOR_VERSION}",
        "persons": persons,
        "seed": seed,
        "time": {
            "data_start": "2015-01-01",
            "data_end": "2024-12-31",
            "hazard_unit": "events per person-year of 365.25 days",
            "piecewise": "hazards are constant within each calendar year and use the state at "
            "1 January; new conditions, moves and ageing take effect the next 1 January",
        },
        "hazard_model": {
            "form": "lambda_k(t) = exp(intercept_k + sum_j beta_kj * x_j(year of t))",
            "covariates": {
                "age10": "(age at 1 January - 75) / 10",
                "male": "1 if male",
                "cardio": "latent cardiopulmonary burden, N(0,1), time-constant; shows in GP "
                "labs (NT-proBNP), GP/hospital diagnoses (through the conditions it drives) "
                "and cardiac findings in notes",
                "frailty": _FRAIL_TEXT.format(**FRAIL),
                "loneliness": "latent social isolation, N(0,1), time-constant; written only in "
                "notes (ensomhed), never coded",
                **{c: f"true {c} (0/1) at 1 January (onset model below)" for c in CONDITIONS},
                "re": "practice random intercept + municipality random intercept (of the "
                "practice and municipality at 1 January)",
            },
            "coefficients": {k: {n: float(v) for n, v in c.items()} for k, c in COEF.items()},
            "outcomes": {
                "acute_other": "acute (ATA1) admission >= 12 h whose A-diagnosis is not DI50*",
                "hf_hospitalisation": "acute (ATA1) admission >= 12 h with A-diagnosis DI50*; "
                "it also establishes heart failure from the next 1 January",
                "death": "death from any cause (competing)",
                "acute_admission": "acute_other + hf_hospitalisation (hazards add)",
            },
            "random_effects": {
                "sd": {"practice": RE_SD_PRACTICE, "municipality": RE_SD_MUNICIPALITY},
                "applies_to": ["acute_other", "hf_hospitalisation"],
                "practice": {
                    pid: float(v)
                    for pid, v in zip(region.practice_id, region.re_practice, strict=True)
                },
                "municipality": {
                    str(c): float(v) for c, v in zip(MUNI_CODES, region.re_muni, strict=True)
                },
            },
            "onset_of_conditions": {
                "form": "P(onset within a year) = 1 - exp(-exp(intercept + age10 * (age - "
                "age_ref)/10 + sum beta * x)); latent traits metabolic, lung, cognitive ~ N(0,1); "
                "conditions before 2015 simulated from age 30 (burn-in without deaths)",
                "coefficients": {k: {n: float(v) for n, v in c.items()} for k, c in ONSET.items()},
            },
            "moves": {
                "yearly_probability_by_age": {
                    "<40": MOVE_PROB[0],
                    "40-79": MOVE_PROB[1],
                    "80+": MOVE_PROB[2],
                },
                "cross_municipality": MOVE_CROSS_MUNI,
            },
        },
        "nil_blocks": {
            "hf_hospitalisation": {
                "block": "municipal (muni_* tables)",
                "statement": "Municipal tables are generated only from frailty, dementia, age, "
                "a personal home-care propensity, the municipality's service level and observed "
                "hospital discharges. None of these except age enters the cause-specific hazard "
                "of HF hospitalisation, and frailty/dementia are independent of the cardiac "
                "latents and conditions. So given demographics and the GP and hospital sectors "
                "the municipal block has no true effect on the HF-hospitalisation hazard.",
                "caveats": "Frailty and dementia raise the competing death hazard, so the "
                "cumulative incidence of HF hospitalisation is slightly lower for frail persons "
                "(a small, indirect competing-risk signal); selection by survival to the index "
                "date induces a weak correlation between frailty and cardiac latents.",
            },
            "acute_admission": "none: every sector carries signal (GP and hospital: cardio and "
            "conditions; municipal: frailty and dementia; notes: frailty, loneliness, cardiac "
            "findings)",
        },
        "observed_proxies": {
            "gp_diagnoses": "ICPC-2 code of a condition after a detection delay (exp., mean 0.6 "
            "y; 8-10 % never recorded); 60 % of contacts coded, 55 % of those with a known "
            "chronic code; årskontrol (0120) once a year codes up to two chronic conditions",
            "gp_lab_results": {
                "NPU27300 HbA1c": "T2D: lognormal median 53 mmol/mol; else 36 + 0.05*(age-50) + "
                "1.5*metabolic; tested 0.35/contact in known T2D, 0.04 otherwise",
                "NPU18016 creatinine": "F 67 / M 84 umol/L x exp(0.004*(age-50)); CKD x ~1.9; "
                "HF x1.12",
                "DNK35302 eGFR": "CKD-EPI 2009 from creatinine, age, sex; >90 reported as text "
                "'>90' with value_num empty",
                "NPU21571 NT-proBNP": "log ng/L = log 50 + 0.045*(age-50) + 2.3*HF + 0.8*AF + "
                "0.5*CKD + 0.3*cardio; <50 reported as text '<50' with value_num empty; tested "
                "more when HF is known or cardio high",
                "NPU01568 LDL": "3.2 mmol/L, -1.1 on statins",
                "NPU02319 haemoglobin": "F 8.4 / M 9.3 mmol/L, lower with CKD, frailty, HF",
            },
            "gp_prescriptions": "chronic drugs of GP-known conditions (ATC), frailty drugs by "
            "frailty, antibiotics after coded infections",
            "hosp_diagnoses": "A-diagnosis by admission theme (COPD, falls, frailty, AF, T2D, "
            "CKD, general) and B-diagnoses of true conditions (70 % on admissions)",
            "muni": "home care when frailty + 0.6*propensity + municipality level + 0.3*age10 "
            "> 1.4; hours, FSIII levels, nursing and falls rise with the same score",
            "notes": "finding mentions drawn from the latent state (see notes below)",
        },
        "notes": {
            "concept_drivers": {
                "form": "P(affirmed mention of a concept in a note) = logistic(driver + sector "
                "shift); otherwise a pertinent negative (18 % for dyspnoea, oedema, chest pain "
                "outside municipal notes, else 5 %) or an uncertain mention (1.2 %; suspected "
                "heart failure 15 % when cardio > 0.8 without heart failure)",
                "dyspnoea": "-3.2 + 0.6*cardio + 1.9*HF + 1.7*COPD",
                "oedema": "-3.6 + 0.4*cardio + 2.1*HF + 0.6*CKD",
                "fatigue": "-3.0 + 0.8*frailty + 0.9*HF + 0.4*CKD",
                "dizziness": "-3.4 + 0.7*frailty + 0.6*AF",
                "fall": "-3.6 + 1.0*frailty",
                "weight_loss": "-4.0 + 0.7*frailty + 0.6*COPD",
                "confusion": "-4.2 + 2.6*dementia + 0.4*frailty",
                "chest_pain": "-3.6 + 0.6*cardio + 0.5*AF",
                "cough": "-3.0 + 1.7*COPD + 0.3*HF",
                "reduced_appetite": "-3.7 + 0.8*frailty + 0.7*dementia",
                "loneliness": "-3.6 + 1.2*loneliness + 0.3*frailty (never coded anywhere)",
                "heart_failure": "affirmed only with true heart failure",
                "sector_shift": "municipal +0.9 for fall, confusion, loneliness, appetite, "
                "fatigue; hospital +0.5 for dyspnoea, oedema, confusion; epikriser of HF, COPD, "
                "fall, confusion and chest-pain admissions favour their findings",
            },
            "other_contexts": "hypothetical (35 % of GP notes, 50 % of admissions' "
            "epikriser), historical (~8 %), family (7 % GP, 3 % hospital; mostly heart "
            "failure), other person (1 %); a typo hits 3 % of finding words and the gold span "
            "is the misspelt text",
            "only_in_notes": [
                "loneliness",
                "fatigue",
                "dizziness",
                "weight_loss",
                "reduced_appetite",
            ],
            "measurements": "blood_pressure (BT 145/90) and ejection_fraction (EF 35 %) are in "
            "the gold table as concept only (attributes default)",
        },
        "protocols": {
            "acute_admission_65plus": {
                "index_date": "2023-01-01",
                "eligible": "aged >= 65 in completed years (born on or before 1958-01-01), alive, "
                "not emigrated and not abroad on the index date",
                "outcome": "first acute admission: hosp_contacts priority ATA1 with end - start "
                ">= 12 h, start on or after the index date",
                "competing": "death",
                "censoring": "emigration or stay abroad; end of data 2024-12-31",
                "horizon_days": A_HORIZON,
                "risk_column": "acute_admission_365d",
                "closed_form": "F = L/(L+D) * (1 - exp(-(L+D) * 365/365.25)), L = "
                "lambda_acute_other + lambda_hf, D = lambda_death in 2023",
            },
            "hf_hospitalisation_t2d": {
                "index_date": "first type 2 diabetes diagnosis in the data: gp_diagnoses "
                "T90 or hosp_diagnoses DE11* (A or B), whichever is first, in 2015-01-01.."
                "2019-12-31",
                "time_zero": "00:00 on the day after the index date",
                "eligible": "alive and not emigrated at time zero",
                "outcome": "first admission (end - start >= 12 h) with A-diagnosis DI50* "
                "starting after time zero",
                "competing": "death",
                "horizon_days": B_HORIZON,
                "risk_column": "hf_hospitalisation_1826d",
                "method": f"closed form per calendar-year segment averaged over {MC_REPLICATES} "
                "simulated futures (conditions, moves) given the state at time zero",
                "note": "first T2D codes in 2015 include prevalent diabetes (first recorded, "
                "not incident); the truth is defined for the index as written",
            },
        },
        "files": {
            "truth/risk.parquet": "person_id, acute_admission_365d, hf_hospitalisation_365d "
            "(same population as A), t2d_index_date, hf_hospitalisation_1826d",
            "truth/person_years.parquet": "every person-year alive and not emigrated at 1 "
            "January: true covariates, random effects, hazards, first events",
            "truth/note_mentions.parquet": "gold finding mentions: note_id, start, end "
            "(character offsets, end exclusive), concept, negated, uncertain, hypothetical, "
            "historical, experiencer, text",
        },
    }

"""Turn a simulated chunk into the sector tables of ``data_specs/``.

Every function takes the chunk and a random generator and returns a table as
a dict of numpy columns. Times are float days since 2015-01-01 (dates are
their floor); ids are global integers that :mod:`._write` formats. Nothing
here changes the truth: observed tables are noisy proxies of the latent state
(under-coding, detection delays, measurement error, informative testing).
"""

from __future__ import annotations

import numpy as np

from epi.data.synth._constants import (
    ACUTE_DRUGS,
    ACUTE_DX_AF,
    ACUTE_DX_CKD,
    ACUTE_DX_COPD,
    ACUTE_DX_FALL,
    ACUTE_DX_FRAIL,
    ACUTE_DX_GENERAL,
    ACUTE_DX_T2D,
    AF,
    CKD,
    CONDITIONS,
    COPD,
    DAYS_PER_YEAR,
    DEM,
    DRUGS,
    FRAIL_DRUGS,
    FSIII_CONDITIONS,
    GP_FORMS,
    GP_SERVICES,
    HF,
    HTN,
    ICPC_ACUTE,
    ICPC_ACUTE_WEIGHT,
    ICPC_OF,
    LABS,
    MUNI_CODES,
    NORTH_MUNIS,
    NURSING_INTERVENTIONS,
    OUTPATIENT_DX,
    PLANNED_DX,
    PROC_ANTIBIOTIC,
    PROC_CARDIOVERSION,
    PROC_CT_HEAD,
    PROC_ECHO,
    PROC_HIP,
    PROC_PLANNED,
    PROC_XRAY_CHEST,
    SKS_OF,
    T2D,
    YEAR_START,
)
from epi.data.synth._model import Region, frailty
from epi.data.synth._simulate import N_YEARS, Chunk, is_abroad, practice_at

Table = dict[str, np.ndarray]

#: Home care threshold on the home-care score (frailty + propensity); tuned so
#: that ~12 % of 65+ and ~28 % of 80+ receive home care [S31,S47].
HOME_CARE_THRESHOLD = 1.4
#: Extra age term of the home-care score (per 10 years from 75): need rises with age
#: beyond frailty (living alone, widowhood).
HOME_CARE_AGE = 0.3


#: Ids of a chunk are ``chunk * ID_BLOCK + 1, 2, ...``: unique over the population
#: and independent of other chunks, so chunks can be built in parallel.
ID_BLOCK = 10**9


class Ids:
    """Id counters per table within one chunk."""

    def __init__(self, chunk: int = 0) -> None:
        self.base = chunk * ID_BLOCK
        self.next: dict[str, int] = {}

    def take(self, table: str, n: int) -> np.ndarray:
        """Reserve ``n`` consecutive ids for ``table``."""
        start = self.next.get(table, self.base + 1)
        self.next[table] = start + n
        return np.arange(start, start + n, dtype=np.int64)


def _sort(t: Table, *keys: str) -> Table:
    order = np.lexsort(tuple(t[k] for k in reversed(keys)))
    return {k: v[order] for k, v in t.items()}


def _take(t: Table, keep: np.ndarray) -> Table:
    return {k: v[keep] for k, v in t.items()}


def _pick(rng: np.random.Generator, options: list[str] | np.ndarray, n: int) -> np.ndarray:
    return np.asarray(options)[rng.integers(0, len(options), n)]


def year_of(day: np.ndarray) -> np.ndarray:
    """Calendar-year index (0 = 2015) of ``day``."""
    return np.clip(np.searchsorted(YEAR_START, day, side="right") - 1, 0, N_YEARS - 1)


def observable(ch: Chunk, person: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Events of ``person`` (sorted) at ``day`` that reach the registers."""
    ok = (day >= 0) & (day < ch.end_day()[person])
    return ok & ~is_abroad(ch, person, day)


def state_at(ch: Chunk, person: np.ndarray, day: np.ndarray) -> np.ndarray:
    """True conditions (bool matrix) at ``day``: onset on or before ``day``."""
    on = ch.onset[person]
    return np.nan_to_num(on, nan=np.inf) <= day[:, None]


def frailty_at(ch: Chunk, person: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Latent frailty at ``day`` (hazards use 1 January; tables may use the day)."""
    age = ch.age_at(day, person)
    dem = np.nan_to_num(ch.onset[person, DEM], nan=np.inf) <= day
    return frailty(ch.traits.frail[person], age, dem)


def detection(ch: Chunk, rng: np.random.Generator) -> np.ndarray:
    """Day each condition becomes known to the GP (NaN: never recorded).

    Prevalent conditions are known with probability 0.9; new ones after an
    exponential delay (mean 0.6 years); a few are never recorded.
    """
    on = ch.onset
    delay = rng.exponential(0.6 * DAYS_PER_YEAR, on.shape)
    det = on + delay
    det[np.isneginf(on)] = -np.inf
    never = rng.random(on.shape) < np.where(np.isneginf(on), 0.10, 0.08)
    det[never] = np.nan
    return det


# --------------------------------------------------------------------------- population


def persons_table(ch: Chunk, region: Region) -> Table:
    """The ``persons`` table."""
    pid = np.arange(ch.first + 1, ch.first + ch.n + 1, dtype=np.int64)
    return {
        "person_id": pid,
        "sex": np.where(ch.traits.male, "M", "F"),
        "birth_date": ch.traits.birth,
        "death_date": ch.death,
        "emigration_date": ch.emig,
        "municipality_code": MUNI_CODES[ch.muni0],
        "practice_id": region.practice_id[ch.practice0],
    }


def _periods(ch: Chunk, kind: str) -> Table:
    """Residence (kind='muni') or registration (kind='practice') periods."""
    n = ch.n
    end = ch.end_day()
    # Period boundaries: start, moves, abroad leave/back, end.
    p = [np.arange(n)]
    d = [ch.res_start0 if kind == "muni" else ch.reg_start0]
    v = [ch.muni0 if kind == "muni" else ch.practice0]
    mv = ch.moves
    if kind == "muni":
        # a practice change inside the municipality does not start a residence period
        prev_muni = np.empty(mv["person"].size, dtype=np.int64)
        last = ch.muni0.copy()
        for i, (pp, mm) in enumerate(zip(mv["person"], mv["muni"], strict=True)):
            prev_muni[i] = last[pp]
            last[pp] = mm
        cross = mv["muni"] != prev_muni
        p.append(mv["person"][cross])
        d.append(mv["day"][cross])
        v.append(mv["muni"][cross])
    else:
        p.append(mv["person"])
        d.append(mv["day"])
        v.append(mv["practice"])
    ab = ch.abroad
    # returning from abroad starts a new period where the person then lives
    pr, mu = practice_at(ch, ab["person"], ab["back"])
    p.append(ab["person"])
    d.append(ab["back"])
    v.append(mu if kind == "muni" else pr)
    person = np.concatenate(p)
    start = np.concatenate(d)
    val = np.concatenate(v)
    keep = start < end[person]
    person, start, val = person[keep], start[keep], val[keep]
    o = np.lexsort((start, person))
    person, start, val = person[o], start[o], val[o]
    nxt_same = np.r_[person[1:] == person[:-1], False]
    nxt_start = np.r_[start[1:], np.nan]
    stop = np.where(nxt_same, nxt_start - 1, np.nan)
    # the period ends at death (that day), emigration (the day before) or a stay abroad
    last = ~nxt_same
    stop[last] = np.where(
        ~np.isnan(ch.death[person[last]]),
        np.floor(ch.death[person[last]]),
        np.where(~np.isnan(ch.emig[person[last]]), ch.emig[person[last]] - 1, np.nan),
    )
    lv_p, lv_d = ab["person"], ab["leave"]
    for pp, lv, bk in zip(lv_p, lv_d, ab["back"], strict=True):
        lo = np.searchsorted(person, pp, "left")
        hi = np.searchsorted(person, pp, "right")
        for j in range(lo, hi):
            nxt = stop[j] + 1 if not np.isnan(stop[j]) else np.inf
            if start[j] <= lv < nxt and (j + 1 >= hi or start[j + 1] == bk):
                stop[j] = lv - 1
    # merge consecutive periods with the same value and no gap
    same = np.r_[
        False, (person[1:] == person[:-1]) & (val[1:] == val[:-1]) & (start[1:] == stop[:-1] + 1)
    ]
    if same.any():
        keep_i = np.flatnonzero(~same)
        grp = np.cumsum(~same) - 1
        last_of = np.zeros(keep_i.size, dtype=np.int64)
        np.maximum.at(last_of, grp, np.arange(person.size))
        stop = stop[last_of]
        person, start, val = person[keep_i], start[keep_i], val[keep_i]
    return {"person": person, "start": np.floor(start), "stop": stop, "val": val}


def residence_table(ch: Chunk) -> Table:
    """The ``residence`` table."""
    t = _periods(ch, "muni")
    return {
        "person_id": t["person"] + ch.first + 1,
        "municipality_code": MUNI_CODES[t["val"]],
        "start_date": t["start"],
        "end_date": t["stop"],
    }


def registrations_table(ch: Chunk, region: Region) -> Table:
    """The ``gp_registrations`` table."""
    t = _periods(ch, "practice")
    return {
        "person_id": t["person"] + ch.first + 1,
        "practice_id": region.practice_id[t["val"]],
        "start_date": t["start"],
        "end_date": t["stop"],
    }


def practices_table(region: Region) -> Table:
    """The ``gp_practices`` table."""
    return {
        "practice_id": region.practice_id,
        "municipality_code": MUNI_CODES[region.practice_muni],
        "n_gps": region.n_gps,
    }


# --------------------------------------------------------------------------- helpers


def _person_years(ch: Chunk) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(person, year, start, stop) of every observed person-year."""
    y, p = np.nonzero(ch.active_y)
    t0 = YEAR_START[y].astype(float)
    t1 = YEAR_START[y + 1].astype(float)
    stop = np.minimum(t1, ch.end_day()[p])
    o = np.lexsort((y, p))
    return p[o], y[o], t0[o], stop[o]


def _events_in(
    rng: np.random.Generator,
    person: np.ndarray,
    start: np.ndarray,
    stop: np.ndarray,
    rate: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson events (rate per year) on ``[start, stop)`` per row; returns (row, day)."""
    cnt = rng.poisson(np.maximum(rate, 0) * np.maximum(stop - start, 0) / DAYS_PER_YEAR)
    row = np.repeat(np.arange(person.size), cnt)
    day = start[row] + rng.random(row.size) * (stop[row] - start[row])
    return row, day


def _weekday(day: np.ndarray) -> np.ndarray:
    """0 = Monday; 2015-01-01 was a Thursday."""
    return (np.floor(day).astype(np.int64) + 3) % 7


def _to_weekday(day: np.ndarray) -> np.ndarray:
    """Move weekend days to the next Monday (GP clinics are closed)."""
    wd = _weekday(day)
    return np.floor(day) + np.where(wd >= 5, 7 - wd, 0)


# --------------------------------------------------------------------------- GP sector


def gp_tables(
    ch: Chunk, region: Region, rng: np.random.Generator, ids: Ids, det: np.ndarray
) -> dict[str, Table]:
    """GP contacts, diagnoses, lab results and prescriptions."""
    p, y, t0, stop = _person_years(ch)
    age = ch.age_at(t0, p)
    tr = ch.traits
    st = ch.state[y, p]
    known = np.nan_to_num(det[p], nan=np.inf) <= t0[:, None]
    fr = frailty(tr.frail[p], age, st[:, DEM])
    prac = ch.practice_y[y, p]
    # Contacts: ~6.9 per person-year [S14], more with age, conditions, frailty.
    log_mu = (
        np.log(4.6)
        + 0.10 * (age - 50) / 10
        + 0.15 * (~tr.male[p])
        + 0.22 * known.sum(1)
        + 0.25 * np.clip(fr, 0, None)
        + 0.35 * tr.use[p]
        + region.activity[prac]
    )
    mu = np.exp(log_mu) * rng.gamma(2.0, 0.5, p.size)
    row, day = _events_in(rng, p, t0, stop, mu)
    # one årskontrol (0120) a year for persons with a known chronic condition
    chronic = known.any(1)
    arow = np.flatnonzero(chronic)
    aday = t0[arow] + rng.random(arow.size) * (stop[arow] - t0[arow])
    row = np.r_[row, arow]
    day = np.r_[day, aday]
    is_annual = np.r_[np.zeros(row.size - arow.size, bool), np.ones(arow.size, bool)]
    day = np.minimum(_to_weekday(day), np.floor(stop[row] - 1e-9))
    person = p[row]
    keep = observable(ch, person, day) & (day >= t0[row])
    row, day, person, is_annual = row[keep], day[keep], person[keep], is_annual[keep]
    o = np.lexsort((day, person))
    row, day, person, is_annual = row[o], day[o], person[o], is_annual[o]
    n = row.size
    yr = y[row]
    # service mix: e-consultations grow, video from 2020 (COVID-19)
    frail_old = (fr[row] > 1.2) & (age[row] > 75)
    w = np.zeros((n, GP_SERVICES.size))
    w[:, 0] = 0.50  # 0101
    w[:, 2] = 0.24  # 0201
    w[:, 3] = 0.10  # 0204
    w[:, 4] = 0.05 + 0.02 * yr  # 0105
    w[:, 5] = np.where(yr >= 5, 0.04, 0.0)  # 0125
    w[:, 6] = 0.004 + 0.12 * frail_old  # 0411
    w[:, 7] = np.where(age[row] >= 75, 0.006, 0.0)  # 0121
    cum = np.cumsum(w, 1)
    u = rng.random(n) * cum[:, -1]
    svc = (cum < u[:, None]).sum(1)
    svc[is_annual] = 1
    cid = ids.take("gp_contacts", n)
    prac_at, _ = practice_at(ch, person, day)
    contacts = {
        "contact_id": cid,
        "person_id": person + ch.first + 1,
        "practice_id": region.practice_id[prac_at],
        "date": day,
        "service_code": GP_SERVICES[svc],
        "contact_form": GP_FORMS[svc],
        "_person": person,
        "_row": row,
    }

    # Diagnoses: ~60 % of contacts ICPC-coded [S15]; chronic codes when known.
    kn = np.nan_to_num(det[person], nan=np.inf) <= day[:, None]
    n_known = kn.sum(1)
    coded = rng.random(n) < np.where(is_annual, 1.0, 0.6)
    use_chronic = coded & (n_known > 0) & ((rng.random(n) < 0.55) | is_annual)
    # pick a random known condition: argmax of random keys over known ones
    keys = np.where(kn, rng.random(kn.shape), -1.0)
    pick = keys.argmax(1)
    icpc = np.array([ICPC_OF[k] for k in range(len(CONDITIONS))])
    acute = rng.choice(ICPC_ACUTE, size=n, p=ICPC_ACUTE_WEIGHT / ICPC_ACUTE_WEIGHT.sum())
    code = np.where(use_chronic, icpc[pick], acute)
    k87 = (pick == HTN) & (kn[:, CKD] | kn[:, HF]) & (rng.random(n) < 0.5)
    code = np.where(use_chronic & k87, "K87", code)
    d_rows = [np.flatnonzero(coded)]
    d_codes = [code[coded]]
    # årskontrol codes a second known condition too
    keys2 = np.where(kn, keys, -1.0)
    keys2[np.arange(n), pick] = -1.0
    second = is_annual & (keys2.max(1) >= 0)
    d_rows.append(np.flatnonzero(second))
    d_codes.append(icpc[keys2.argmax(1)][second])
    drow = np.concatenate(d_rows)
    dcode = np.concatenate(d_codes)
    o = np.lexsort((dcode, drow))
    drow, dcode = drow[o], dcode[o]
    dup = np.r_[False, (drow[1:] == drow[:-1]) & (dcode[1:] == dcode[:-1])]
    drow, dcode = drow[~dup], dcode[~dup]
    diagnoses = {
        "contact_id": cid[drow],
        "person_id": person[drow] + ch.first + 1,
        "date": day[drow],
        "icpc2_code": dcode,
    }
    contacts["_code"] = code
    contacts["_coded"] = coded

    labs = _labs(ch, rng, ids, contacts, kn, is_annual)
    rx = _prescriptions(ch, rng, ids, det, contacts)
    return {
        "gp_contacts": contacts,
        "gp_diagnoses": diagnoses,
        "gp_lab_results": labs,
        "gp_prescriptions": rx,
    }


def _labs(
    ch: Chunk, rng: np.random.Generator, ids: Ids, c: Table, kn: np.ndarray, annual: np.ndarray
) -> Table:
    """Lab results: tested more often when sick (informative missingness)."""
    person, day = c["_person"], c["date"]
    face = np.isin(c["contact_form"], ["consultation", "home_visit"])
    n = person.size
    st = state_at(ch, person, day)
    tr = ch.traits
    age = ch.age_at(day, person)
    fr = frailty_at(ch, person, day)
    chronic = kn[:, [HTN, T2D, CKD, HF, AF]].any(1)
    p = np.zeros((6, n))
    p[0] = np.where(kn[:, T2D], np.where(annual, 0.95, 0.35), np.where(age > 40, 0.04, 0.01))
    p[1] = np.where(chronic, np.where(annual, 0.95, 0.25), 0.05)
    p[3] = np.where(kn[:, HF], 0.10, 0.006 * np.exp(0.8 * tr.cardio[person] + 1.0 * st[:, HF]))
    p[4] = np.where(kn[:, T2D] | kn[:, HF] | kn[:, AF], np.where(annual, 0.8, 0.12), 0.03)
    p[5] = 0.06 + 0.12 * (kn[:, CKD] | (fr > 1.0)) + 0.3 * annual
    draw = (rng.random((6, n)) < p) & face
    draw[2] = draw[1]  # eGFR is reported with every creatinine
    out: dict[str, list[np.ndarray]] = {k: [] for k in ("row", "code", "num", "text", "unit")}
    sample = day + rng.uniform(8 / 24, 11.5 / 24, n)
    male = tr.male[person]
    off = np.random.default_rng([int(ch.first), 99]).standard_normal((6, ch.n))[:, person]

    def add(k: int, rows: np.ndarray, num: np.ndarray, text: np.ndarray) -> None:
        out["row"].append(rows)
        out["code"].append(np.full(rows.size, LABS[k][0]))
        out["unit"].append(np.full(rows.size, LABS[k][1]))
        out["num"].append(num)
        out["text"].append(text)

    def fmt(x: np.ndarray, dec: int) -> np.ndarray:
        if dec == 0:
            return np.round(x).astype(np.int64).astype(str)
        return np.char.replace(np.char.mod(f"%.{dec}f", x), ".", ",")

    # HbA1c mmol/mol; diabetes >= 48 [S20]
    r = np.flatnonzero(draw[0])
    t2 = st[r, T2D]
    v = np.where(
        t2,
        np.exp(
            np.log(53)
            + 0.15 * off[0, r]
            + 0.05 * tr.metabolic[person[r]]
            + 0.08 * rng.standard_normal(r.size)
        ),
        36
        + 0.05 * (age[r] - 50)
        + 1.5 * tr.metabolic[person[r]]
        + 2.0 * off[0, r]
        + 1.5 * rng.standard_normal(r.size),
    )
    v = np.round(np.clip(v, 22, 160))
    add(0, r, v, fmt(v, 0))
    # Creatinine µmol/L (NORIP F 45-90, M 60-105 [S25]) and eGFR (CKD-EPI) [S22]
    r = np.flatnonzero(draw[1])
    base = np.where(male[r], 84.0, 67.0) * np.exp(0.09 * off[1, r] + 0.004 * (age[r] - 50))
    cre = base * np.where(st[r, CKD], np.exp(0.55 + 0.25 * np.abs(off[2, r])), 1.0)
    cre *= np.where(st[r, HF], 1.12, 1.0) * np.exp(0.06 * rng.standard_normal(r.size))
    cre = np.round(np.clip(cre, 25, 900))
    add(1, r, cre, fmt(cre, 0))
    scr = cre / 88.4
    kappa = np.where(male[r], 0.9, 0.7)
    alpha = np.where(male[r], -0.411, -0.329)
    egfr = (
        141
        * np.minimum(scr / kappa, 1) ** alpha
        * np.maximum(scr / kappa, 1) ** -1.209
        * 0.993 ** age[r]
        * np.where(male[r], 1.0, 1.018)
    )
    egfr = np.round(egfr)
    over = egfr > 90
    add(2, r, np.where(over, np.nan, egfr), np.where(over, ">90", fmt(egfr, 0)))
    # NT-proBNP ng/L: rises with age; heart failure x10 [S22,S26]
    r = np.flatnonzero(draw[3])
    lv = (
        np.log(50)
        + 0.045 * (age[r] - 50)
        + 2.3 * st[r, HF]
        + 0.8 * st[r, AF]
        + 0.5 * st[r, CKD]
        + 0.3 * tr.cardio[person[r]]
        + 0.3 * off[3, r]
        + 0.5 * rng.standard_normal(r.size)
    )
    v = np.round(np.clip(np.exp(lv), 5, 35000))
    low = v < 50
    add(3, r, np.where(low, np.nan, v), np.where(low, "<50", fmt(v, 0)))
    # LDL mmol/L, lower on statins [S22]
    r = np.flatnonzero(draw[4])
    statin = (st[r, T2D] | st[r, HF] | st[r, AF]) & (off[5, r] > -0.5)
    v = 3.2 + 0.6 * off[4, r] + 0.3 * rng.standard_normal(r.size) - 1.1 * statin
    v = np.round(np.clip(v, 0.6, 8.5), 1)
    add(4, r, v, fmt(v, 1))
    # Haemoglobin mmol/L (M 8.3-10.5, F 7.3-9.5) [S24]
    r = np.flatnonzero(draw[5])
    v = (
        np.where(male[r], 9.3, 8.4)
        + 0.4 * off[5, r]
        + 0.25 * rng.standard_normal(r.size)
        - 0.7 * st[r, CKD]
        - 0.25 * np.clip(fr[r], 0, None)
        - 0.2 * st[r, HF]
        - 0.01 * np.clip(age[r] - 70, 0, None)
    )
    v = np.round(np.clip(v, 4.0, 12.5), 1)
    add(5, r, v, fmt(v, 1))
    rows = np.concatenate(out["row"])
    t = {
        "person": person[rows],
        "sample_time": sample[rows],
        "npu_code": np.concatenate(out["code"]),
        "value_num": np.concatenate(out["num"]).astype(float),
        "value_text": np.concatenate(out["text"]).astype(object),
        "unit": np.concatenate(out["unit"]),
    }
    t = _sort(t, "person", "sample_time", "npu_code")
    return {
        "result_id": ids.take("gp_lab_results", t["person"].size),
        "person_id": t["person"] + ch.first + 1,
        "sample_time": t["sample_time"],
        "npu_code": t["npu_code"],
        "value_num": t["value_num"],
        "value_text": t["value_text"],
        "unit": t["unit"],
        "_person": t["person"],
    }


#: Probability that a person with the (known) condition takes the drug in each slot,
#: before and from 2019 (SGLT2/GLP-1 use grows after the 2018-2019 guidelines).
_SLOT_P = {
    HTN: [(0.85, 0.85), (0.40, 0.45)],
    T2D: [(0.85, 0.80), (0.08, 0.40), (0.06, 0.25), (0.70, 0.75)],
    AF: [(0.75, 0.85), (0.60, 0.60)],
    COPD: [(0.75, 0.75), (0.50, 0.50)],
    CKD: [(0.45, 0.45)],
    HF: [(0.80, 0.80), (0.75, 0.75), (0.55, 0.60)],
    DEM: [(0.45, 0.40)],
}


def _prescriptions(
    ch: Chunk, rng: np.random.Generator, ids: Ids, det: np.ndarray, c: Table
) -> Table:
    """Dispensings: chronic drugs of known conditions, frailty drugs, acute courses."""
    p, y, t0, stop = _person_years(ch)
    su = np.random.default_rng([int(ch.first), 98]).random((ch.n, 16))
    parts: dict[str, list[np.ndarray]] = {"person": [], "day": [], "atc": [], "ds": []}
    slot_i = 0
    for cond, slots in DRUGS.items():
        start = np.maximum(t0, np.nan_to_num(det[p, cond], nan=np.inf))
        for s, options in enumerate(slots):
            pb, pa = _SLOT_P[cond][s]
            pr = np.where(y >= 4, pa, pb)
            on = (su[p, slot_i % 16] < pr) & (start < stop)
            alt = su[p, (slot_i + 7) % 16] < 0.5
            slot_i += 1
            for a, (atc, _name, ds) in enumerate(options):
                sel = on & (alt == bool(a))
                rows = np.flatnonzero(sel)
                r, d = _events_in(
                    rng,
                    p[rows],
                    start[rows],
                    stop[rows],
                    np.full(rows.size, 0.92 * DAYS_PER_YEAR / ds),
                )
                parts["person"].append(p[rows][r])
                parts["day"].append(d)
                parts["atc"].append(np.full(r.size, atc))
                parts["ds"].append(np.full(r.size, ds))
    age = ch.age_at(t0, p)
    fr = frailty(ch.traits.frail[p], age, ch.state[y, p][:, DEM])
    for k, (atc, _name, ds) in enumerate(FRAIL_DRUGS):
        pr = 1 / (1 + np.exp(-(fr - 1.2 - 0.3 * k)))
        on = su[p, 10 + k] < pr
        rows = np.flatnonzero(on)
        r, d = _events_in(
            rng, p[rows], t0[rows], stop[rows], np.full(rows.size, 0.7 * DAYS_PER_YEAR / ds)
        )
        parts["person"].append(p[rows][r])
        parts["day"].append(d)
        parts["atc"].append(np.full(r.size, atc))
        parts["ds"].append(np.full(r.size, ds))
    # acute courses after coded infections
    code = c["_code"]
    inf = c["_coded"] & np.isin(code, ["R74", "R78", "U71", "S18", "L03", "R05"])
    inf &= rng.random(code.size) < 0.45
    rows = np.flatnonzero(inf)
    which = np.where(
        code[rows] == "U71", 2, np.where(code[rows] == "R05", 3, rng.integers(0, 2, rows.size))
    )
    parts["person"].append(c["_person"][rows])
    parts["day"].append(c["date"][rows])
    parts["atc"].append(
        np.array([ACUTE_DRUGS[w][0] for w in which], dtype=object).astype(str)
        if rows.size
        else np.zeros(0, dtype="<U7")
    )
    parts["ds"].append(np.array([ACUTE_DRUGS[w][2] for w in which], dtype=np.int64))
    person = np.concatenate(parts["person"]).astype(np.int64)
    day = np.floor(np.concatenate(parts["day"]))
    atc = np.concatenate(parts["atc"]).astype(str)
    ds = np.concatenate(parts["ds"]).astype(np.int64)
    o = np.lexsort((atc, day, person))
    person, day, atc, ds = person[o], day[o], atc[o], ds[o]
    keep = observable(ch, person, day)
    person, day, atc, ds = person[keep], day[keep], atc[keep], ds[keep]
    pk = np.where(rng.random(person.size) < 0.15, 2, 1)
    return {
        "prescription_id": ids.take("gp_prescriptions", person.size),
        "person_id": person + ch.first + 1,
        "date": day,
        "atc": atc,
        "packages": pk,
        "days_supply": np.minimum(ds * pk, 400),
    }


# --------------------------------------------------------------------------- hospital


def _hospital_code(rng: np.random.Generator, muni: np.ndarray) -> np.ndarray:
    north = np.isin(MUNI_CODES[muni], list(NORTH_MUNIS))
    local = np.where(north, "8003", "8001")
    other = np.where(north, "8001", "8003")
    return np.where(rng.random(muni.size) < np.where(north, 0.8, 0.95), local, other)


def hospital_tables(ch: Chunk, rng: np.random.Generator, ids: Ids) -> dict[str, Table]:
    """LPR3-like contacts with diagnoses and procedures.

    Outcome admissions (acute, >= 12 h) come from the truth model's event
    process; every other contact is either planned or shorter than 12 hours,
    so the protocol's admission rule recovers exactly the simulated outcomes.
    """
    end = ch.end_day()
    # --- outcome admissions
    a = ch.adm
    person, start, hf = a["person"], a["day"].copy(), a["hf"]
    age = ch.age_at(start, person)
    los = np.where(
        hf,
        0.5 + rng.lognormal(np.log(4.0), 0.6, person.size),
        0.5
        + rng.lognormal(np.log(2.2), 0.8, person.size)
        * (1 + 0.1 * np.clip(age - 60, 0, None) / 10),
    )
    los = np.minimum(los, 60.0)
    # stays of one person must not overlap: start a readmission after discharge
    for _ in range(20):
        stop = start + los
        same = np.r_[False, person[1:] == person[:-1]]
        clash = same & (start < np.r_[-np.inf, stop[:-1]])
        if not clash.any():
            break
        idx = np.flatnonzero(clash)
        start[idx] = stop[idx - 1] + rng.uniform(0.2, 2.0, idx.size)
    stop = np.minimum(start + los, end[person])
    keep = (start < end[person]) & observable(ch, person, start)
    person, start, stop, hf = person[keep], start[keep], stop[keep], hf[keep]
    kind = np.where(hf, 1, 0)  # 0 acute other, 1 HF, 2 ED, 3 planned, 4 outpatient, 5 terminal

    # --- other contacts per person-year
    p, y, t0, stp = _person_years(ch)
    pa = ch.age_at(t0, p)
    st = ch.state[y, p]
    fr = frailty(ch.traits.frail[p], pa, st[:, DEM])
    ed_rate = 0.09 * np.exp(0.15 * (pa - 60) / 10 + 0.25 * np.clip(fr, 0, None) + 0.15 * st.sum(1))
    pl_rate = 0.035 * np.exp(0.25 * (pa - 60) / 10 + 0.10 * st.sum(1))
    op_rate = (
        0.30
        + 1.6 * st[:, HF]
        + 0.7 * st[:, AF]
        + 0.5 * st[:, COPD]
        + 0.5 * st[:, T2D]
        + 0.9 * st[:, CKD]
    ) * np.where(y >= 5, 1.1, 1.0)
    parts = [(person, start, stop, kind)]
    for k, rate in ((2, ed_rate), (3, pl_rate), (4, op_rate)):
        r, d = _events_in(rng, p, t0, stp, rate)
        pp = p[r]
        if k == 2:
            dur = rng.uniform(1.5, 10.0, r.size) / 24
        elif k == 3:
            d = np.floor(_to_weekday(d)) + rng.uniform(7 / 24, 11 / 24, r.size)
            dur = 0.5 + rng.lognormal(np.log(1.5), 0.6, r.size)
        else:
            d = np.floor(_to_weekday(d)) + rng.uniform(8 / 24, 15 / 24, r.size)
            dur = rng.uniform(15, 120, r.size) / (24 * 60)
        o = np.argsort(pp, kind="stable")
        pp, d, dur = pp[o], d[o], dur[o]
        ok = observable(ch, pp, d)
        pp, d, dur = pp[ok], d[ok], dur[ok]
        parts.append((pp, d, np.minimum(d + dur, end[pp]), np.full(pp.size, k)))
    # terminal acute contact (< 12 h) ending at death for a third of deaths
    dead = np.flatnonzero(~np.isnan(ch.death) & (rng.random(ch.n) < 0.35))
    td = ch.death[dead]
    ts = td - rng.uniform(1, 10, dead.size) / 24
    ok = (ts >= 0) & observable(ch, dead, ts)
    parts.append((dead[ok], ts[ok], td[ok], np.full(ok.sum(), 5)))
    person = np.concatenate([q[0] for q in parts])
    start = np.concatenate([q[1] for q in parts])
    stop = np.concatenate([q[2] for q in parts])
    kind = np.concatenate([q[3] for q in parts])
    o = np.lexsort((start, person))
    person, start, stop, kind = person[o], start[o], stop[o], kind[o]
    # non-outcome contacts that overlap an admission are dropped (one place at a time)
    adm = kind <= 1
    same_prev = np.r_[False, person[1:] == person[:-1]]
    last_adm_end = np.where(adm, stop, -np.inf)
    # running max of admission end within person
    run = last_adm_end.copy()
    for i in np.flatnonzero(same_prev):
        if run[i - 1] > run[i]:
            run[i] = run[i - 1]
    prev_run = np.r_[-np.inf, run[:-1]]
    prev_run[~same_prev] = -np.inf
    drop = ~adm & (start < prev_run + 4 / 24)
    keep = ~drop
    person, start, stop, kind = person[keep], start[keep], stop[keep], kind[keep]
    n = person.size
    muni = practice_at(ch, person, start)[1]
    hosp = _hospital_code(rng, muni)
    virtual = (kind == 4) & (rng.random(n) < np.where(year_of(start) >= 5, 0.3, 0.15))
    ude = (kind == 4) & ~virtual & (rng.random(n) < 0.03)
    ctype = np.where(virtual, "ALCA03", np.where(ude, "ALCA10", "ALCA00"))
    prio = np.where(np.isin(kind, [0, 1, 2, 5]), "ATA1", "ATA3")
    cid = ids.take("hosp_contacts", n)
    contacts = {
        "contact_id": cid,
        "person_id": person + ch.first + 1,
        "hospital_code": hosp,
        "start_time": start,
        "end_time": stop,
        "contact_type": ctype,
        "priority": prio,
        "_person": person,
        "_kind": kind,
    }
    dx, adx = _hosp_diagnoses(ch, rng, contacts)
    contacts["_adx"] = adx
    procs = _hosp_procedures(rng, contacts, adx)
    return {"hosp_contacts": contacts, "hosp_diagnoses": dx, "hosp_procedures": procs}


def _hosp_diagnoses(ch: Chunk, rng: np.random.Generator, c: Table) -> tuple[Table, np.ndarray]:
    person, start, kind = c["_person"], c["start_time"], c["_kind"]
    n = person.size
    st = state_at(ch, person, start)
    fr = frailty_at(ch, person, start)
    adx = _pick(rng, ACUTE_DX_GENERAL, n).astype("<U8")
    # themes of acute non-HF admissions follow the person's state
    themes = [
        (ACUTE_DX_COPD, 1.2 * st[:, COPD]),
        (ACUTE_DX_FALL, 0.10 + 0.25 * np.clip(fr, 0, None)),
        (ACUTE_DX_FRAIL, 0.25 * np.clip(fr, 0, None) + 0.5 * st[:, DEM]),
        (ACUTE_DX_AF, 0.5 * st[:, AF]),
        (ACUTE_DX_T2D, 0.15 * st[:, T2D]),
        (ACUTE_DX_CKD, 0.3 * st[:, CKD]),
    ]
    w = np.column_stack([np.ones(n)] + [t[1] for t in themes])
    cum = np.cumsum(w, 1)
    th = (cum < (rng.random(n) * cum[:, -1])[:, None]).sum(1)
    for i, (codes, _) in enumerate(themes, start=1):
        sel = th == i
        adx[sel] = _pick(rng, codes, int(sel.sum()))
    hfcodes = np.array(["DI500", "DI509", "DI501"])
    is_hf = kind == 1
    adx[is_hf] = hfcodes[np.searchsorted([0.45, 0.85], rng.random(int(is_hf.sum())))]
    planned = kind == 3
    adx[planned] = _pick(rng, PLANNED_DX, int(planned.sum()))
    op = kind == 4
    # outpatient: the clinic of a condition the person has, else general
    op_cond = np.where(st, rng.random(st.shape), -1.0)
    op_cond[:, HTN] = -1.0
    op_cond[:, DEM] = np.where(op_cond[:, DEM] >= 0, op_cond[:, DEM] * 0.3, -1.0)
    has = op_cond.max(1) >= 0
    ck = op_cond.argmax(1)
    sks1 = np.array([SKS_OF[k][0] for k in range(len(CONDITIONS))])
    gen = _pick(rng, OUTPATIENT_DX, n)
    adx[op] = np.where(has[op] & (rng.random(int(op.sum())) < 0.8), sks1[ck[op]], gen[op])
    term = kind == 5
    adx[term] = _pick(rng, ["DI469", "DJ960", "DA419", "DR092"], int(term.sum()))
    ed = kind == 2
    ed_codes = np.array(["DR074", "DS000", "DS525", "DR55", "DT149", "DZ039", "DR104", "DS934"])
    adx[ed] = _pick(rng, ed_codes, int(ed.sum()))
    # an HF patient's short contacts may carry DI500 (outpatient, never an admission >= 12 h)
    rows = [np.arange(n)]
    codes = [adx]
    types = [np.full(n, "A")]
    p_b = np.select([kind <= 1, kind == 3, kind == 4], [0.7, 0.5, 0.25], 0.15)
    for k in range(len(CONDITIONS)):
        sel = st[:, k] & (rng.random(n) < p_b)
        r = np.flatnonzero(sel)
        opts = SKS_OF[k]
        rows.append(r)
        codes.append(np.asarray(opts)[rng.integers(0, len(opts), r.size)])
        types.append(np.full(r.size, "B"))
    # frailty shows as faldtendens (DR296) on some admissions
    r = np.flatnonzero((kind <= 1) & (fr > 1.2) & (rng.random(n) < 0.15))
    rows.append(r)
    codes.append(np.full(r.size, "DR296"))
    types.append(np.full(r.size, "B"))
    row = np.concatenate(rows)
    code = np.concatenate(codes).astype(str)
    typ = np.concatenate(types)
    o = np.lexsort((typ, code, row))
    row, code, typ = row[o], code[o], typ[o]
    dup = np.r_[False, (row[1:] == row[:-1]) & (code[1:] == code[:-1])]
    row, code, typ = row[~dup], code[~dup], typ[~dup]
    o = np.lexsort((code, typ, row))
    row, code, typ = row[o], code[o], typ[o]
    return {
        "contact_id": c["contact_id"][row],
        "person_id": c["person_id"][row],
        "date": np.floor(start[row]),
        "diagnosis_code": code,
        "diagnosis_type": typ,
    }, adx


def _hosp_procedures(rng: np.random.Generator, c: Table, adx: np.ndarray) -> Table:
    kind = c["_kind"]
    n = kind.size
    adm = kind <= 1
    rows, codes = [], []

    def add(sel: np.ndarray, code: str | np.ndarray) -> None:
        r = np.flatnonzero(sel)
        rows.append(r)
        codes.append(
            np.broadcast_to(np.asarray(code), (n,))[r] if np.ndim(code) else np.full(r.size, code)
        )

    u = rng.random((6, n))
    lung = np.char.startswith(adx, "DJ")
    add(adm & (lung | (kind == 1)) & (u[0] < 0.75), PROC_XRAY_CHEST)
    add((kind == 1) & (u[1] < 0.5), PROC_ECHO)
    add(adm & np.char.startswith(adx, "DI48") & (u[2] < 0.2), PROC_CARDIOVERSION)
    add(adm & (adx == "DS720") & (u[3] < 0.9), PROC_HIP)
    add(adm & np.isin(adx, ["DR410", "DS000", "DR296"]) & (u[4] < 0.4), PROC_CT_HEAD)
    add(
        adm & np.isin(adx, ["DJ189", "DN390", "DA419", "DL031", "DJ441"]) & (u[5] < 0.6),
        PROC_ANTIBIOTIC,
    )
    pl = kind == 3
    add(pl & (rng.random(n) < 0.8), _pick(rng, PROC_PLANNED, n))
    row = np.concatenate(rows)
    code = np.concatenate(codes).astype(str)
    o = np.lexsort((code, row))
    row, code = row[o], code[o]
    return {
        "contact_id": c["contact_id"][row],
        "person_id": c["person_id"][row],
        "date": np.floor(c["start_time"][row]),
        "procedure_code": code,
    }


# --------------------------------------------------------------------------- municipal


def home_care_score(ch: Chunk, region: Region, person: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Need for home care: frailty, a personal propensity and the municipality's level.

    Uses nothing that enters the heart-failure hazard (the nil block).
    """
    _, muni = practice_at(ch, person, day)
    age10 = (ch.age_at(day, person) - 75.0) / 10.0
    return (
        frailty_at(ch, person, day)
        + 0.6 * ch.traits.care[person]
        + region.muni_service[muni]
        + HOME_CARE_AGE * age10
    )


def municipal_tables(
    ch: Chunk, region: Region, rng: np.random.Generator, ids: Ids, hosp: Table
) -> dict[str, Table]:
    """Home care, FSIII, rehabilitation, nursing and falls (SEL §83/83a/86, SUL §138/140)."""
    end = ch.end_day()
    # Home-care start: scores are evaluated each 1 January; a person whose score
    # passed the threshold during a year starts on a random Monday of that year
    # (Mondays: 2014-12-29 = day -3). Scores rise slowly with age and dementia.
    everyone = np.arange(ch.n)
    score_hi = np.full(ch.n, -np.inf)
    start = np.full(ch.n, np.nan)
    for yi in range(N_YEARS + 1):
        d = float(YEAR_START[min(yi, N_YEARS)]) if yi < N_YEARS else float(YEAR_START[-1]) - 1
        s = home_care_score(ch, region, everyone, np.full(ch.n, d))
        newly = np.isnan(start) & (s > HOME_CARE_THRESHOLD) & (d < end)
        if yi == 0:
            start[newly] = -3.0
        else:
            # crossed during the previous year: a random Monday in it
            lo = float(YEAR_START[yi - 1])
            wk = lo + rng.random(ch.n) * (d - lo)
            start[newly] = (np.floor((wk + 3) / 7) * 7 - 3)[newly]
        score_hi = np.maximum(score_hi, s)
    start = np.where(start < end, start, np.nan)
    rec = np.flatnonzero(~np.isnan(start))
    # weekly rows from start to death/emigration/end of data
    first_wk = np.maximum(start[rec], -3.0)
    n_wk = np.maximum(0, np.ceil((end[rec] - first_wk) / 7)).astype(np.int64)
    pr = np.repeat(rec, n_wk)
    wk = np.repeat(first_wk, n_wk) + 7 * (
        np.arange(pr.size) - np.repeat(np.cumsum(n_wk) - n_wk, n_wk)
    )
    in_data = (wk >= 0) & observable(ch, pr, wk)
    pr, wk = pr[in_data], wk[in_data]
    sc = home_care_score(ch, region, pr, wk)
    # hours/week: mean ~3.2, two thirds below 2 h [S31]
    base = np.exp(
        np.log(0.75)
        + 0.9 * (sc - HOME_CARE_THRESHOLD)
        + 1.35 * np.random.default_rng([int(ch.first), 97]).standard_normal(ch.n)[pr]
    )
    hours = base * np.exp(0.12 * rng.standard_normal(pr.size))
    practical = np.round(np.clip(0.25 + 0.25 * (sc > HOME_CARE_THRESHOLD + 0.5), 0.25, 1.0) * 4) / 4
    personal = np.round(np.clip(hours - practical, 0, 70) * 4) / 4
    has_pers = personal >= 0.25
    hc = {
        "person": np.r_[pr, pr[has_pers]],
        "week_start": np.r_[wk, wk[has_pers]],
        "service": np.r_[
            np.full(pr.size, "HOMECARE_PRACTICAL"),
            np.full(int(has_pers.sum()), "HOMECARE_PERSONAL"),
        ],
        "hours_per_week": np.r_[practical, personal[has_pers]],
    }
    hc = _sort(hc, "person", "week_start", "service")
    home_care = {
        "person_id": hc["person"] + ch.first + 1,
        "week_start": hc["week_start"],
        "service": hc["service"],
        "hours_per_week": hc["hours_per_week"],
        "_person": hc["person"],
    }

    # FSIII assessments at start and then yearly (revisitation)
    n_ass = np.maximum(1, np.ceil((end[rec] - np.maximum(start[rec], 0)) / DAYS_PER_YEAR)).astype(
        int
    )
    ap = np.repeat(rec, n_ass)
    k = np.arange(ap.size) - np.repeat(np.cumsum(n_ass) - n_ass, n_ass)
    ad = np.floor(
        np.maximum(np.repeat(start[rec], n_ass), 0)
        + k * DAYS_PER_YEAR
        + rng.uniform(0, 30, ap.size)
    )
    ad = _to_weekday(ad)
    ok = (ad < end[ap]) & observable(ch, ap, ad)
    ap, ad = ap[ok], ad[ok]
    sc = home_care_score(ch, region, ap, ad)
    dem = state_at(ch, ap, ad)[:, DEM]
    rows_p, rows_d, rows_c, rows_l = [], [], [], []
    for code, _label, weight in FSIII_CONDITIONS:
        mental = code.startswith("J4")
        assessed = rng.random(ap.size) < (0.95 if not mental else 0.5 + 0.45 * dem)
        lvl = (
            1.0
            + weight * (sc - HOME_CARE_THRESHOLD) * (0.4 if mental else 1.0)
            + (1.8 * dem if mental else 0.3 * dem)
            + 0.7 * rng.standard_normal(ap.size)
        )
        lvl = np.clip(np.round(lvl), 0, 4).astype(np.int64)
        lvl = np.where(rng.random(ap.size) < 0.03, 9, lvl)
        r = np.flatnonzero(assessed)
        rows_p.append(ap[r])
        rows_d.append(ad[r])
        rows_c.append(np.full(r.size, code))
        rows_l.append(lvl[r])
    fs = {
        "person": np.concatenate(rows_p),
        "date": np.concatenate(rows_d),
        "code": np.concatenate(rows_c),
        "level": np.concatenate(rows_l),
    }
    fs = _sort(fs, "person", "date", "code")
    fsiii = {
        "assessment_id": ids.take("muni_fsiii", fs["person"].size),
        "person_id": fs["person"] + ch.first + 1,
        "date": fs["date"],
        "condition_code": fs["code"],
        "level": fs["level"],
    }

    # Rehabilitation: §83a at home-care start; §86 training; SUL §140 after discharge
    rp, rs, rl = [], [], []
    r83 = rec[(rng.random(rec.size) < 0.45) & (start[rec] >= 0)]
    rp.append(r83)
    rs.append(start[r83] + rng.integers(0, 14, r83.size))
    rl.append(np.full(r83.size, "REHAB_SEL83A"))
    p86 = rec[rng.random(rec.size) < 0.25]
    d86 = np.floor(
        np.maximum(start[p86], 0) + rng.random(p86.size) * (end[p86] - np.maximum(start[p86], 0))
    )
    rp.append(p86)
    rs.append(d86)
    rl.append(np.full(p86.size, "TRAIN_SEL86"))
    kind = hosp["_kind"]
    hp = hosp["_person"]
    age_h = ch.age_at(hosp["start_time"], hp)
    fr_h = frailty_at(ch, hp, hosp["start_time"])
    sel = (kind <= 1) & (age_h >= 65) & (rng.random(kind.size) < 0.08 + 0.12 * (fr_h > 0.8))
    rp.append(hp[sel])
    rs.append(np.floor(hosp["end_time"][sel]) + rng.integers(2, 15, int(sel.sum())))
    rl.append(np.full(int(sel.sum()), "TRAIN_SUL140"))
    rpp = np.concatenate(rp)
    rss = _to_weekday(np.concatenate(rs).astype(float))
    rll = np.concatenate(rl)
    o = np.lexsort((rll, rss, rpp))
    rpp, rss, rll = rpp[o], rss[o], rll[o]
    ok = (rss < end[rpp]) & observable(ch, rpp, rss)
    rpp, rss, rll = rpp[ok], rss[ok], rll[ok]
    dur = np.where(
        rll == "TRAIN_SUL140", rng.integers(28, 70, rpp.size), rng.integers(42, 90, rpp.size)
    )
    rend = rss + dur
    ongoing = rend >= np.minimum(end[rpp], float(YEAR_START[-1]))
    rehab = {
        "course_id": ids.take("muni_rehabilitation", rpp.size),
        "person_id": rpp + ch.first + 1,
        "start_date": rss,
        "end_date": np.where(ongoing, np.nan, rend),
        "legal_basis": rll,
    }

    # Nursing (SUL §138): medication dispensing weekly/fortnightly for the frailest
    # home-care recipients and persons with dementia; other interventions episodic.
    sc_rec = score_hi[rec]
    dem_ever = ~np.isnan(ch.onset[rec, DEM])
    nurse = rec[(sc_rec > HOME_CARE_THRESHOLD + 0.5) | dem_ever]
    nstart = np.maximum(start[nurse] + rng.integers(0, 120, nurse.size), 0)
    gap = np.where(rng.random(nurse.size) < 0.5, 7.0, 14.0)
    n_v = np.maximum(0, np.ceil((end[nurse] - nstart) / gap)).astype(np.int64)
    vp = np.repeat(nurse, n_v)
    vk = np.arange(vp.size) - np.repeat(np.cumsum(n_v) - n_v, n_v)
    vd = np.floor(np.repeat(nstart, n_v) + vk * np.repeat(gap, n_v))
    vi = np.full(vp.size, "medication", dtype="<U12")
    # episodic: wound care, compression, injections, catheter, post-discharge observation
    ep = rec[rng.random(rec.size) < 0.5]
    n_ep = rng.poisson(6, ep.size)
    epp = np.repeat(ep, n_ep)
    epd = np.floor(
        np.maximum(np.repeat(start[ep], n_ep), 0)
        + rng.random(epp.size) * (end[epp] - np.maximum(start[epp], 0))
    )
    epi_ = rng.choice(NURSING_INTERVENTIONS[1:], size=epp.size, p=[0.35, 0.2, 0.2, 0.1, 0.15])
    vp, vd, vi = np.r_[vp, epp], np.r_[vd, epd], np.r_[vi, epi_]
    o = np.lexsort((vi, vd, vp))
    vp, vd, vi = vp[o], vd[o], vi[o]
    ok = (vd >= 0) & (vd < end[vp]) & observable(ch, vp, vd)
    vp, vd, vi = vp[ok], vd[ok], vi[ok]
    nursing = {
        "visit_id": ids.take("muni_nursing", vp.size),
        "person_id": vp + ch.first + 1,
        "date": vd,
        "intervention": vi,
    }

    # Falls registered by staff among home-care recipients (rate rises with need)
    lo = np.maximum(start[rec], 0)
    rate = 0.45 * np.exp(0.6 * (score_hi[rec] - HOME_CARE_THRESHOLD))
    r, d = _events_in(rng, rec, lo, end[rec], rate)
    fp = rec[r]
    fd = np.floor(d)
    o = np.lexsort((fd, fp))
    fp, fd = fp[o], fd[o]
    ok = observable(ch, fp, fd)
    fp, fd = fp[ok], fd[ok]
    falls = {
        "fall_id": ids.take("muni_falls", fp.size),
        "person_id": fp + ch.first + 1,
        "date": fd,
        "injury": rng.random(fp.size) < 0.25,
    }
    return {
        "muni_home_care": home_care,
        "muni_fsiii": fsiii,
        "muni_rehabilitation": rehab,
        "muni_nursing": nursing,
        "muni_falls": falls,
        "_home_care_start": {"person": rec, "start": start[rec]},
    }

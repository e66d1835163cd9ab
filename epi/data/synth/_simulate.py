"""Simulate one chunk of persons through 2015-2024 under the truth model.

Produces the person-level timeline (life, residence, practice, conditions,
yearly hazards and the outcome events); :mod:`._tables` turns it into the
sector tables and :mod:`._notes` into the notes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from epi.data.synth._constants import (
    AGE_BAND_FEMALE,
    AGE_BAND_POP,
    AGE_BANDS,
    CONDITIONS,
    DAYS_PER_YEAR,
    END_DAY,
    HF,
    YEAR_START,
)
from epi.data.synth._model import (
    ABROAD_RATE,
    Region,
    Traits,
    burn_in,
    covariates,
    draw_new_practice,
    draw_traits,
    emigration_rate,
    hazard,
    move_prob,
    onset_step,
)

N_YEARS = YEAR_START.size - 1


@dataclass
class Chunk:
    """Simulated timeline of a chunk of persons (arrays indexed by local person)."""

    first: int  # global index of the chunk's first person (person_id = first + i + 1)
    n: int
    traits: Traits
    death: np.ndarray  # day of death (float, NaN if alive at end of data or emigrated)
    emig: np.ndarray  # day of permanent emigration (NaN if none)
    practice0: np.ndarray  # practice index at entry
    muni0: np.ndarray
    reg_start0: np.ndarray  # first registration start (days, may be < 0)
    res_start0: np.ndarray  # first residence start (days, may be < 0)
    state: np.ndarray  # (N_YEARS + 1, n, n_cond) bool: state at 1 January of each year
    onset: np.ndarray  # (n, n_cond) day of onset; -inf before 2015, NaN none
    practice_y: np.ndarray  # (N_YEARS + 1, n) practice at 1 January
    muni_y: np.ndarray
    active_y: np.ndarray  # (N_YEARS, n) alive and not emigrated at 1 January
    lam: np.ndarray  # (3, N_YEARS, n) yearly hazards: acute_other, hf, death
    moves: dict[str, np.ndarray]  # person, day, practice, muni (sorted by person, day)
    abroad: dict[str, np.ndarray]  # person, leave, back (back may be >= END_DAY)
    adm: dict[str, np.ndarray]  # outcome admissions: person, day, hf (sorted)

    def age_at(
        self, day: np.ndarray | float, person: np.ndarray | slice = slice(None)
    ) -> np.ndarray:
        """Age in years at ``day`` for ``person``."""
        return (np.asarray(day, dtype=float) - self.traits.birth[person]) / DAYS_PER_YEAR

    def end_day(self) -> np.ndarray:
        """Last observable moment: death, emigration or end of data."""
        return np.fmin(np.fmin(self.death, self.emig), float(END_DAY))


def draw_demography(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Sex and birth day of ``n`` adults alive on 2015-01-01 (Danish age structure)."""
    p = AGE_BAND_POP / AGE_BAND_POP.sum()
    band = rng.choice(AGE_BAND_POP.size, size=n, p=p)
    lo, hi = AGE_BANDS[band], AGE_BANDS[band + 1]
    age = lo + rng.random(n) * (hi - lo)
    male = rng.random(n) >= AGE_BAND_FEMALE[band]
    birth = -age * DAYS_PER_YEAR
    return male, np.floor(birth)


def assign_practices(
    rng: np.random.Generator, region: Region, n_total: int, first: int, n: int
) -> np.ndarray:
    """Practice index of persons ``first .. first + n`` in a population of ``n_total``.

    The population is a random sample of the region: persons are drawn by
    list size, except that when ``n_total`` allows, the first persons are
    placed one in each practice so that every practice (and so every
    municipality, Læsø included) appears.
    """
    k = region.practice_id.size
    w = region.list_size / region.list_size.sum()
    out = rng.choice(k, size=n, p=w)
    if n_total >= 4 * k:
        # deterministic seeding of every practice among the first k persons overall
        glob = np.arange(first, first + n)
        seeded = glob < k
        out[seeded] = glob[seeded]
    return out


def simulate_chunk(
    seed: int, chunk: int, first: int, n: int, n_total: int, region: Region
) -> Chunk:
    """Simulate persons ``first .. first + n - 1`` of a population of ``n_total``."""
    rng = np.random.default_rng([seed, 1, chunk])
    male, birth = draw_demography(rng, n)
    tr = draw_traits(rng, male, birth)
    practice = assign_practices(rng, region, n_total, first, n)
    muni = region.practice_muni[practice].copy()
    age0 = -birth / DAYS_PER_YEAR
    # Listed with the practice / resident since some time before 2015 (after age 18).
    since_adult = (age0 - 18.0) * DAYS_PER_YEAR
    reg_start0 = -np.floor(np.minimum(since_adult, rng.exponential(6.0, n) * DAYS_PER_YEAR))
    res_start0 = -np.floor(np.minimum(since_adult, rng.exponential(10.0, n) * DAYS_PER_YEAR))
    state0 = burn_in(rng, tr, age0)

    n_cond = len(CONDITIONS)
    state = np.zeros((N_YEARS + 1, n, n_cond), dtype=bool)
    state[0] = state0
    onset = np.full((n, n_cond), np.nan)
    onset[state0] = -np.inf
    practice_y = np.zeros((N_YEARS + 1, n), dtype=np.int64)
    muni_y = np.zeros((N_YEARS + 1, n), dtype=np.int64)
    practice_y[0], muni_y[0] = practice, muni
    active_y = np.zeros((N_YEARS, n), dtype=bool)
    lam = np.zeros((3, N_YEARS, n))
    death = np.full(n, np.nan)
    emig = np.full(n, np.nan)
    mv_p, mv_d, mv_pr, mv_mu = [], [], [], []
    ab_p, ab_l, ab_b = [], [], []
    ad_p, ad_d, ad_h = [], [], []
    abroad_until = np.full(n, -np.inf)
    abroad_from = np.full(n, np.inf)

    for y in range(N_YEARS):
        t0, t1 = float(YEAR_START[y]), float(YEAR_START[y + 1])
        active = np.isnan(death) & np.isnan(emig)
        active_y[y] = active
        idx = np.flatnonzero(active)
        age = (t0 - birth[idx]) / DAYS_PER_YEAR
        st = state[y][idx]
        re = region.re_practice[practice_y[y][idx]] + region.re_muni[muni_y[y][idx]]
        cov = covariates(age, tr, st, re, idx)
        lo, lh, ld = (hazard(o, cov) for o in ("acute_other", "hf_hospitalisation", "death"))
        lam[0, y, idx], lam[1, y, idx], lam[2, y, idx] = lo, lh, ld
        # death and permanent emigration within the year (constant hazards)
        td = t0 + rng.exponential(1.0, idx.size) / ld * DAYS_PER_YEAR
        te = t0 + rng.exponential(1.0, idx.size) / emigration_rate(age) * DAYS_PER_YEAR
        dies = (td < t1) & (td <= te)
        leaves = (te < t1) & (te < td)
        death[idx[dies]] = td[dies]
        emig[idx[leaves]] = np.floor(te[leaves])
        stop = np.minimum(np.minimum(td, te), t1)
        # outcome admissions: Poisson process at rate lo + lh until death/emigration
        la = lo + lh
        cnt = rng.poisson(la * (stop - t0) / DAYS_PER_YEAR)
        who = np.repeat(np.arange(idx.size), cnt)
        days = t0 + rng.random(who.size) * (stop[who] - t0)
        ad_p.append(idx[who])
        ad_d.append(days)
        ad_h.append(rng.random(who.size) < (lh / la)[who])
        # temporary stays abroad (young adults)
        cand = (age < 50) & (abroad_until[idx] < t0)
        go = cand & (rng.random(idx.size) < ABROAD_RATE)
        leave = np.floor(t0 + rng.random(idx.size) * (stop - t0))
        go &= leave < stop - 1
        back = leave + np.floor(rng.uniform(1.0, 3.0, idx.size) * DAYS_PER_YEAR)
        ab_p.append(idx[go])
        ab_l.append(leave[go])
        ab_b.append(back[go])
        abroad_until[idx[go]] = back[go]
        abroad_from[idx[go]] = leave[go]
        # moves (at most one a year) change practice, sometimes municipality
        mv = rng.random(idx.size) < move_prob(age)
        mday = np.floor(t0 + rng.random(idx.size) * (stop - t0))
        mv &= (mday < stop) & ~((mday >= abroad_from[idx]) & (mday < abroad_until[idx]))
        newp, newm = draw_new_practice(rng, region, muni_y[y][idx[mv]], practice_y[y][idx[mv]])
        practice_y[y + 1] = practice_y[y]
        muni_y[y + 1] = muni_y[y]
        practice_y[y + 1][idx[mv]] = newp
        muni_y[y + 1][idx[mv]] = newm
        mv_p.append(idx[mv])
        mv_d.append(mday[mv])
        mv_pr.append(newp)
        mv_mu.append(newm)
        # onsets during the year -> state at next 1 January
        new = onset_step(rng, age, tr, st, idx)
        oday = t0 + rng.random(new.shape) * (t1 - t0)
        sub_onset = onset[idx]
        sub_onset[new] = oday[new]
        # a heart-failure hospitalisation establishes heart failure
        hfh = ad_h[-1]
        if hfh.any():
            hp = who[hfh]
            first_hf = np.full(idx.size, np.inf)
            np.minimum.at(first_hf, hp, days[hfh])
            has = np.isfinite(first_hf) & ~st[:, HF]
            new[has, HF] = True
            sub_onset[has, HF] = np.fmin(
                np.where(np.isnan(sub_onset[has, HF]), np.inf, sub_onset[has, HF]), first_hf[has]
            )
        onset[idx] = sub_onset
        state[y + 1] = state[y]
        state[y + 1][idx] |= new

    def cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

    moves = {
        "person": cat(mv_p, np.int64),
        "day": cat(mv_d, float),
        "practice": cat(mv_pr, np.int64),
        "muni": cat(mv_mu, np.int64),
    }
    o = np.lexsort((moves["day"], moves["person"]))
    moves = {k: v[o] for k, v in moves.items()}
    abroad = {"person": cat(ab_p, np.int64), "leave": cat(ab_l, float), "back": cat(ab_b, float)}
    o = np.lexsort((abroad["leave"], abroad["person"]))
    abroad = {k: v[o] for k, v in abroad.items()}
    # A stay abroad that outlasts the data is a permanent emigration.
    perm = abroad["back"] >= END_DAY
    if perm.any():
        p = abroad["person"][perm]
        emig[p] = np.fmin(np.where(np.isnan(emig[p]), np.inf, emig[p]), abroad["leave"][perm])
        death[p] = np.where(death[p] >= emig[p], np.nan, death[p])
        abroad = {k: v[~perm] for k, v in abroad.items()}
    # Deaths after emigration are not observed in CPR.
    death[~np.isnan(emig) & (death >= np.nan_to_num(emig, nan=np.inf))] = np.nan
    adm = {"person": cat(ad_p, np.int64), "day": cat(ad_d, float), "hf": cat(ad_h, bool)}
    o = np.lexsort((adm["day"], adm["person"]))
    adm = {k: v[o] for k, v in adm.items()}
    return Chunk(
        first=first,
        n=n,
        traits=tr,
        death=death,
        emig=emig,
        practice0=practice,
        muni0=muni,
        reg_start0=reg_start0,
        res_start0=res_start0,
        state=state,
        onset=onset,
        practice_y=practice_y,
        muni_y=muni_y,
        active_y=active_y,
        lam=lam,
        moves=moves,
        abroad=abroad,
        adm=adm,
    )


def is_abroad(ch: Chunk, person: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Whether ``person`` (sorted ascending) is on a temporary stay abroad at ``day``."""
    out = np.zeros(person.size, dtype=bool)
    ab = ch.abroad
    for p, lv, bk in zip(ab["person"], ab["leave"], ab["back"], strict=True):
        lo = np.searchsorted(person, p, side="left")
        hi = np.searchsorted(person, p, side="right")
        if hi > lo:
            d = day[lo:hi]
            out[lo:hi] |= (d >= lv) & (d < bk)
    return out


def practice_at(ch: Chunk, person: np.ndarray, day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Practice and municipality index of ``person`` at ``day`` (after moves)."""
    prac = ch.practice0[person].copy()
    muni = ch.muni0[person].copy()
    mv = ch.moves
    if mv["person"].size == 0 or person.size == 0:
        return prac, muni
    # apply moves in day order; each person moves at most ~10 times
    for p, d, np_, nm in zip(mv["person"], mv["day"], mv["practice"], mv["muni"], strict=True):
        lo = np.searchsorted(person, p, side="left")
        hi = np.searchsorted(person, p, side="right")
        if hi > lo:
            sel = slice(lo, hi)
            later = day[sel] >= d
            prac[sel] = np.where(later, np_, prac[sel])
            muni[sel] = np.where(later, nm, muni[sel])
    return prac, muni

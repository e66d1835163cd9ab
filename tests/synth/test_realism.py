"""Distributions in documented ranges (DANISH_DATA.md §2-§8) and the notes' gold table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from epi.data.synth import CONCEPTS

from ._outcomes import aalen_johansen, acute_admission_cohort
from .conftest import PERSONS

START = pd.Timestamp("2015-01-01")


@pytest.fixture(scope="module")
def persons(synth_dir: Path) -> pd.DataFrame:
    p = pd.read_parquet(synth_dir / "persons.parquet")
    p["age"] = (START - pd.to_datetime(p.birth_date)).dt.days / 365.25
    return p


def test_age_sex_and_geography(persons: pd.DataFrame, synth_dir: Path) -> None:
    assert persons.age.min() >= 18 and persons.age.max() < 101
    assert 44 < persons.age.mean() < 54
    assert 0.18 < (persons.age >= 65).mean() < 0.30
    assert 0.47 < (persons.sex == "F").mean() < 0.55
    old = persons[persons.age >= 85]
    assert (old.sex == "F").mean() > 0.55  # women outlive men
    muni = persons.municipality_code.value_counts(normalize=True)
    assert len(muni) == 11 and muni.idxmax() == "851" and muni.idxmin() == "825"
    assert 0.30 < muni["851"] < 0.44  # Aalborg 217k of 590k
    practices = pd.read_parquet(synth_dir / "gp_practices.parquet")
    assert 180 <= len(practices) <= 220
    assert set(persons.practice_id) == set(practices.practice_id)  # every practice appears
    assert practices.groupby("municipality_code").size()["825"] >= 1  # Læsø
    assert 250 <= practices.n_gps.sum() <= 380  # ~285 GPs in the region [S17]


def test_deaths_emigration_moves(persons: pd.DataFrame, synth_dir: Path) -> None:
    dead = persons.death_date.notna().mean()
    assert 0.08 < dead < 0.18  # ~1.2 %/year over 10 years, ageing closed cohort
    assert 0.005 < persons.emigration_date.notna().mean() < 0.06
    reg = pd.read_parquet(synth_dir / "gp_registrations.parquet")
    movers = reg.groupby("person_id").size()
    assert 0.08 < (movers > 1).mean() < 0.45
    d = pd.to_datetime(persons.set_index("person_id").death_date)
    reg["end_date"] = pd.to_datetime(reg.end_date)
    last = reg.groupby("person_id").end_date.max()
    both = d.dropna().index.intersection(last.dropna().index)
    assert (last[both] <= d[both]).all()


def test_prevalence_and_rates_match_ballparks(synth_dir: Path) -> None:
    py = pd.read_parquet(synth_dir / "truth" / "person_years.parquet")
    y = py[py.year == 2023]
    age = y.age10 * 10 + 75
    assert 0.04 < y.t2d.mean() < 0.09  # T2D 4.4 % of all ages [S46]
    assert 0.025 < y.hf[age >= 75].mean() < 0.09  # ~5 % above 75 [S45]
    assert 0.005 < y.hf.mean() < 0.03  # 1.5-2 % overall
    risk = pd.read_parquet(synth_dir / "truth" / "risk.parquet").acute_admission_365d.dropna()
    assert 0.13 < risk.mean() < 0.25  # acute admissions 65+ 15-25 %/yr (§8)
    mort = 1 - np.exp(-y.lambda_death)
    band = pd.cut(age, [65, 70, 80, 85, 90, 120], right=False)
    m = mort.groupby(band, observed=True).mean()
    assert 0.006 < m.iloc[0] < 0.025  # 65-69 ~1-1.5 %
    assert 0.035 < m.iloc[2] < 0.09  # 80-84 ~5-6 %
    assert 0.12 < m.iloc[4] < 0.32  # 90+ ~20-25 %
    contacts = pd.read_parquet(synth_dir / "gp_contacts.parquet", columns=["person_id"])
    per_py = len(contacts) / len(py)
    assert 5.5 < per_py < 9.0  # ~6.9 GP contacts/person/year [S14]


def test_home_care_share_and_hours(synth_dir: Path, persons: pd.DataFrame) -> None:
    hc = pd.read_parquet(synth_dir / "muni_home_care.parquet")
    wk = hc[pd.to_datetime(hc.week_start).dt.year == 2022]
    py = pd.read_parquet(synth_dir / "truth" / "person_years.parquet")
    y = py[py.year == 2022]
    old = y[y.age10 >= -1.0].person_id
    share = old.isin(wk.person_id).mean()
    assert 0.07 < share < 0.20  # 12 % of 65+ [S47]
    per_week = wk.groupby(["person_id", "week_start"]).hours_per_week.sum()
    assert 1.5 < per_week.mean() < 5.5  # mean 3.2 h/week [S31]
    assert 0.45 < (per_week < 2).mean() < 0.85  # 67 % below 2 h


def test_lab_values_are_plausible_and_informative(synth_dir: Path) -> None:
    lab = pd.read_parquet(synth_dir / "gp_lab_results.parquet")
    dx = pd.read_parquet(synth_dir / "gp_diagnoses.parquet")
    t2d = set(dx[dx.icpc2_code == "T90"].person_id)
    hf = set(dx[dx.icpc2_code == "K77"].person_id)
    a1c = lab[lab.npu_code == "NPU27300"]
    assert a1c.value_num.between(20, 160).all()
    assert 44 < a1c[a1c.person_id.isin(t2d)].value_num.median() < 62
    assert 30 < a1c[~a1c.person_id.isin(t2d)].value_num.median() < 42
    # tested more often when sick: HbA1c per person in T2D far above others
    per = a1c.groupby(a1c.person_id.isin(t2d)).size() / pd.Series(
        {True: len(t2d), False: PERSONS - len(t2d)}
    )
    assert per[True] > 8 * per[False]
    crea = lab[lab.npu_code == "NPU18016"]
    assert 60 < crea.value_num.median() < 100 and (crea.unit == "µmol/L").all()
    egfr = lab[lab.npu_code == "DNK35302"]
    over = egfr.value_text == ">90"
    assert 0.1 < over.mean() < 0.8 and egfr.value_num[over].isna().all()
    assert egfr.value_num.dropna().between(3, 90).all()
    bnp = lab[lab.npu_code == "NPU21571"]
    med_hf = bnp[bnp.person_id.isin(hf)].value_num.median()
    med_other = bnp[~bnp.person_id.isin(hf)].value_num.median()
    assert med_hf > 4 * med_other
    hb = lab[lab.npu_code == "NPU02319"]
    assert 7.5 < hb.value_num.median() < 9.5
    assert hb.value_text.str.contains(",").mean() > 0.8  # decimal commas as reported


def test_hospital_contacts_follow_lpr3(synth_dir: Path) -> None:
    hc = pd.read_parquet(synth_dir / "hosp_contacts.parquet")
    stay = hc.end_time - hc.start_time
    adm = stay >= pd.Timedelta(hours=12)
    assert (hc.end_time >= hc.start_time).all()
    assert (hc[adm].contact_type == "ALCA00").all()
    assert set(hc.priority) == {"ATA1", "ATA3"}
    assert 1.5 < stay[adm].dt.total_seconds().median() / 86400 < 6  # median length of stay
    dx = pd.read_parquet(synth_dir / "hosp_diagnoses.parquet")
    a = dx[dx.diagnosis_type == "A"]
    assert a.contact_id.is_unique and set(a.contact_id) == set(hc.contact_id)
    hf_a = a[a.diagnosis_code.str.startswith("DI50")].contact_id
    hf_adm = hc[hc.contact_id.isin(hf_a) & adm]
    assert len(hf_adm) > 10 and (hf_adm.priority == "ATA1").all()


def test_notes_per_person_and_gold_spans(synth_dir: Path) -> None:
    gold = pd.read_parquet(synth_dir / "truth" / "note_mentions.parquet")
    total = 0
    for t in ("notes_gp", "notes_hospital", "notes_municipal"):
        n = pd.read_parquet(synth_dir / f"{t}.parquet")
        total += len(n)
        m = n.merge(gold, on="note_id", suffixes=("", "_gold"))
        ok = [x[s:e] == g for x, s, e, g in zip(m.text, m.start, m.end, m.text_gold, strict=True)]
        assert all(ok), t
        assert n.text.isna().mean() < 0.01
    assert 5 < total / PERSONS < 25  # notes per person over ten years
    assert set(gold.concept) >= set(CONCEPTS) | {"blood_pressure", "ejection_fraction"}
    finding = gold[gold.concept.isin(CONCEPTS)]
    assert 0.15 < finding.negated.mean() < 0.45
    assert finding.uncertain.mean() > 0.02 and finding.hypothetical.mean() > 0.03
    assert finding.historical.mean() > 0.01
    assert set(finding.experiencer) == {"patient", "family", "other"}
    flags = finding[["negated", "uncertain", "hypothetical", "historical"]].sum(axis=1)
    assert (flags <= 1).all()
    assert (gold.text != gold.text.str.strip()).sum() == 0
    # phrasing varies: many distinct surface forms and sentence frames
    assert finding.text.str.lower().nunique() > 120


def test_acute_admissions_are_calibrated_against_the_tables(synth_dir: Path) -> None:
    c = acute_admission_cohort(synth_dir)
    observed = aalen_johansen(c.duration.to_numpy(), c.event.to_numpy(), 365.0)
    expected = c.risk.mean()
    events = int((c.event == 1).sum())
    se = 1 / np.sqrt(events)
    assert abs(observed / expected - 1) < 3.5 * se, (observed, expected, events)

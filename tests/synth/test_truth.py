"""The truth: closed-form risks, coefficient recovery, calibration, the nil block."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter

from epi.data.synth import COEF
from epi.data.synth._model import COVARIATES, make_region
from epi.data.synth._simulate import simulate_chunk
from epi.data.synth._truth import cif
from epi.data.synth._truth import person_years as person_years_of


@pytest.fixture(scope="module")
def person_years(synth_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(synth_dir / "truth" / "person_years.parquet")


def test_truth_json_documents_the_model(synth_dir: Path) -> None:
    t = json.loads((synth_dir / "truth" / "truth.json").read_text(encoding="utf-8"))
    coefs = t["hazard_model"]["coefficients"]
    assert coefs["acute_other"]["frailty"] == COEF["acute_other"]["frailty"]
    sd = t["hazard_model"]["random_effects"]["sd"]
    assert sd == {"practice": 0.25, "municipality": 0.15}
    assert len(t["hazard_model"]["random_effects"]["practice"]) == 200
    # the nil block: no municipal-driving latent enters the HF hazard
    assert not {"frailty", "dementia", "loneliness"} & set(coefs["hf_hospitalisation"])
    assert {"frailty", "dementia"} <= set(coefs["acute_other"])


def test_risk_a_is_the_closed_form_of_the_2023_hazards(
    synth_dir: Path, person_years: pd.DataFrame
) -> None:
    risk = pd.read_parquet(synth_dir / "truth" / "risk.parquet").set_index("person_id")
    py = person_years[person_years.year == 2023].set_index("person_id")
    r = risk.acute_admission_365d.dropna()
    assert 300 < r.size < 1500
    p = py.loc[r.index]
    expect = cif(p.lambda_acute_other + p.lambda_hf, p.lambda_death, 365)
    np.testing.assert_allclose(r.to_numpy(), expect, rtol=1e-12)
    assert (py.loc[r.index].age10 >= -1.001).all()  # 65+ in completed years
    b = risk.hf_hospitalisation_1826d.dropna()
    assert b.size > 50 and b.between(0, 1).all() and 0.01 < b.mean() < 0.08
    idx = pd.to_datetime(risk.t2d_index_date.dropna())
    assert idx.min() >= pd.Timestamp("2015-01-01") and idx.max() <= pd.Timestamp("2019-12-31")


def _cox(py: pd.DataFrame, first: str, names: list[str]) -> CoxPHFitter:
    start = pd.to_datetime(py.start)
    stop = pd.to_datetime(py.stop)
    ev = pd.to_datetime(py[first])
    has = ev.notna() & (ev < stop)
    end = ev.where(has, stop)
    d = py[names].copy()
    d["duration"] = (end - start).dt.total_seconds() / 86400
    d["event"] = has.astype(int)
    d = d[d.duration > 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines' own convergence chatter
        return CoxPHFitter().fit(d, "duration", "event")


@pytest.fixture(scope="module")
def big_person_years() -> pd.DataFrame:
    """True person-years of 20,000 simulated persons (the truth process only, no tables)."""
    region = make_region(5)
    ch = simulate_chunk(5, 0, 0, 20_000, 20_000, region)
    py = pd.DataFrame(person_years_of(ch, region))
    for c in ("first_acute", "first_acute_other", "first_hf", "stop"):
        py[c] = pd.Timestamp("2015-01-01") + pd.to_timedelta(py[c], unit="D")
    py["start"] = pd.Timestamp("2015-01-01") + pd.to_timedelta(py["start"], unit="D")
    return py


@pytest.mark.parametrize("outcome", ["acute_other", "hf_hospitalisation"])
def test_cox_on_true_covariates_recovers_the_coefficients(
    big_person_years: pd.DataFrame, outcome: str
) -> None:
    first = "first_acute_other" if outcome == "acute_other" else "first_hf"
    py = big_person_years
    names = [c for c in COVARIATES]
    fit = _cox(py, first, names)
    true = pd.Series({n: COEF[outcome].get(n, 0.0) for n in names})
    est, se = fit.params_, fit.standard_errors_
    z = (est - true) / se
    assert (z.abs() < 3.5).all(), z.round(2).to_dict()
    covered = (z.abs() < 1.96).mean()
    assert covered >= 0.75, z.round(2).to_dict()

"""Shared data for the model tests: Rossi (lifelines), pbc (R survival), R references."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REF = Path(__file__).parent / "reference"


@pytest.fixture(scope="session")
def ref() -> dict:
    """Values computed by ``reference/reference.R``."""
    return json.loads((REF / "reference.json").read_text())


@pytest.fixture(scope="session")
def rossi() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rossi recidivism data as (X, outcome); week is the time scale."""
    d = pd.read_csv(REF / "rossi.csv")
    d.index = pd.Index([f"p{i}" for i in range(len(d))], name="person_id")
    outcome = pd.DataFrame({"duration": d["week"].astype(float), "event": d["arrest"]})
    return d.drop(columns=["week", "arrest"]), outcome


@pytest.fixture(scope="session")
def pbc() -> tuple[pd.DataFrame, pd.DataFrame]:
    """pbc (R survival): event 1 = death, 2 = transplant (competing)."""
    d = pd.read_csv(REF / "pbc.csv")
    outcome = pd.DataFrame({"duration": d["time"].astype(float), "event": d["event"]})
    return d.drop(columns=["time", "event"]), outcome


def simulate_competing(n: int = 1500, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Old, frail cohort: exponential outcome and (heavier) death hazards, admin. censoring."""
    rng = np.random.default_rng(seed)
    age = rng.normal(80, 6, n)
    frail = rng.binomial(1, 0.4, n)
    z = (age - 80) / 6
    t1 = rng.exponential(1 / (0.0004 * np.exp(0.4 * z + 0.5 * frail)))
    t2 = rng.exponential(1 / (0.0015 * np.exp(0.8 * z + 1.0 * frail)))
    c = np.full(n, 1826.0)
    time = np.minimum.reduce([t1, t2, c])
    event = np.where(time == t1, 1, np.where(time == t2, 2, 0))
    X = pd.DataFrame({"demo__age": age, "demo__frail": frail.astype(float)})
    return X, pd.DataFrame({"duration": np.maximum(time, 0.5), "event": event})


@pytest.fixture(scope="session")
def competing() -> tuple[pd.DataFrame, pd.DataFrame]:
    return simulate_competing()

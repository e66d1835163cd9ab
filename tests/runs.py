"""Real runs for the tests: bundles written by the real stages, never typed by hand.

Two small studies, each run once per test session (``tests/conftest.py``):

- ``REGISTERS``: the synthetic population through every stage (event store,
  cohort, features, note variables), two arms (GP reference and all sectors),
  the Cox primary model with its paired added-value bootstrap, a Weibull model
  on one arm and a hierarchical model with few draws on the other — its
  diagnostics are expected to fail, which the report must say and the abstract
  must not quote — rendered to HTML and PDF.
- ``ANALYSIS_TABLE``: Rossi's recidivism data (US, weeks) as one analysis
  table: no cohort, features or Danish registers; the report must not claim any.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

REGISTERS = """\
study: {id: e2e, title: End-to-end check}
data: {source: synthetic, persons: 1500, seed: 3}
cohort:
  index: {type: fixed_date, date: 2023-01-01}
  eligibility: {age_min: 60, gp_registered_days: 365, min_lookback_days: 365}
outcome:
  name: unplanned_admission
  code_lists: [{sector: hospital, vocabulary: SKS, codes: [ATA1]}]
  admission_only: true
  acute_only: true
  horizon_days: 365
features:
  sets: {demographics: {}, gp: {}, hospital: {}}
notes: {pack: da, lookback_days: 365}
models:
  - {name: cox, kind: cox, params: {penalizer: 0.05}}
  - {name: weibull, kind: weibull, params: {penalizer: 0.05}, arms: [all]}
  - name: hierarchical
    kind: bayes_weibull_ph
    params: {draws: 100, tune: 100, chains: 2, sampler: pymc, diagnostics: false}
    arms: [gp]
validation: {bootstrap: 4, folds: 2, internal_external: null}
comparisons:
  reference: gp
  arms: {gp: [demographics, gp], all: [demographics, gp, hospital, notes]}
report: {formats: [html, pdf], min_cell_size: 5}
"""

ANALYSIS_TABLE = """\
study: {{id: rossi, title: Rossi recidivism}}
data:
  source: analysis_table
  path: {path}
  time: week
  event: arrest
  predictors: [fin, age, race, wexp, mar, paro, prio]
  time_unit_days: 7
outcome: {{name: rearrest, horizon_days: 364}}
validation: {{bootstrap: 5, folds: 2, internal_external: null}}
report: {{formats: [html]}}
"""


@dataclass
class Run:
    """A finished run: its folder, progress messages and the warnings it raised."""

    path: Path
    messages: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def make_run(protocol_text: str, root: Path, name: str) -> Run:
    """Write ``protocol_text`` to ``root/name.yaml`` and run it; warnings are recorded."""
    from epi.study import run

    protocol = root / f"{name}.yaml"
    protocol.write_text(protocol_text, encoding="utf-8")
    out = Run(root)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out.path = run(protocol, out_root=root / "runs", progress=out.messages.append)
    out.warnings = [str(w.message) for w in caught]
    return out


def make_analysis_table_run(root: Path) -> Run:
    """Rossi as an analysis table (lifelines ships the data)."""
    from lifelines.datasets import load_rossi

    data = root / "rossi.csv"
    load_rossi().to_csv(data, index=False)
    return make_run(ANALYSIS_TABLE.format(path=data), root, "rossi")


def person_ids(run: Path) -> set[str]:
    """The cohort's person ids (to check none leaves the person-level files)."""
    return set(pd.read_parquet(run / "cohort/cohort.parquet")["person_id"].astype(str))

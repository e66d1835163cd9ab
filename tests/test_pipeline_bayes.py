"""A Bayesian hierarchical model inside `epi run`: fitted once, heterogeneity reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from epi.pipeline import run

PROTOCOL = """\
study: {id: e2e_bayes, title: Hierarchical model check}
data: {source: synthetic, persons: 1200, seed: 5}
cohort:
  index: {type: fixed_date, date: 2023-01-01}
  eligibility: {age_min: 60}
outcome:
  code_lists: [{sector: hospital, vocabulary: SKS, codes: [ATA1]}]
  admission_only: true
  acute_only: true
  horizon_days: 365
features:
  sets: {demographics: {}}
models:
  - name: bayes
    kind: bayes_weibull_ph
    # few draws to stay in the test budget; diagnostics are the slow tests' business
    params: {draws: 100, tune: 100, chains: 2, sampler: pymc, diagnostics: false}
validation: {bootstrap: 0, folds: 2, internal_external: null}
report: {formats: [], min_cell_size: 5}
"""


@pytest.mark.slow
def test_bayes_model_runs_in_the_pipeline(tmp_path: Path) -> None:
    protocol = tmp_path / "b.yaml"
    protocol.write_text(PROTOCOL, encoding="utf-8")
    run_dir = run(protocol, out_root=tmp_path / "runs")
    perf = json.loads((run_dir / "results/performance.json").read_text())
    model = perf["arms"]["all"]["models"]["bayes"]
    assert model["optimism_corrected"] is None and "MCMC" in model["not_resampled"]
    assert 0.5 < model["apparent"]["harrell_c"]["estimate"] < 0.95
    het = json.loads((run_dir / "results/heterogeneity.json").read_text())["models"][0]
    groups = {row["group"] for row in het["median_hazard_ratio"]}
    assert {"practice_id", "municipality_code"} <= groups
    for group, rows in het["cluster_effects"].items():
        # clusters under the minimum cell size are pooled, never listed alone
        assert all(r["n_persons"] >= 5 for r in rows if r[group] != "<pooled>")
    assert list((run_dir / "results/figures").glob("caterpillar_*__municipality_code.svg"))

"""A Bayesian hierarchical model inside `epi run`: fitted once, heterogeneity reported."""

from __future__ import annotations

import json
import re

import pytest

from tests.runs import Run


@pytest.mark.slow
def test_bayes_model_runs_in_the_pipeline(registers_run: Run) -> None:
    """The session's registers run fits a hierarchical model to the GP arm (tests/runs.py)."""
    run_dir = registers_run.path
    # 100 draws leave some persons' PSIS weights unreliable (high Pareto k): said, not fatal
    assert any("PSIS-LOO is unreliable for" in w for w in registers_run.warnings)
    perf = json.loads((run_dir / "results/performance.json").read_text())
    model = perf["arms"]["gp"]["models"]["hierarchical"]
    assert model["optimism_corrected"] is None and "MCMC" in model["not_resampled"]
    assert 0.5 < model["apparent"]["harrell_c"]["estimate"] < 0.95
    # validated by PSIS leave-one-out from the one fit: below the apparent C
    assert model["cross_validation"] == "psis_loo"
    loo_c = model["cross_validated"]["harrell_c"]["estimate"]
    assert 0.5 < loo_c < model["apparent"]["harrell_c"]["estimate"]
    loo = json.loads((run_dir / "results/resampling.json").read_text())["fits"][
        "gp / hierarchical"
    ]["cv"]
    assert loo["method"] == "psis_loo" and loo["settings"]["n_high_pareto_k"] > 0
    het = json.loads((run_dir / "results/heterogeneity.json").read_text())["models"][0]
    groups = {row["group"] for row in het["median_hazard_ratio"]}
    assert {"practice_id", "municipality_code"} <= groups
    for group, rows in het["cluster_effects"].items():
        # clusters under the minimum cell size are pooled, never listed alone
        assert all(r["n_persons"] >= 5 for r in rows if r[group] != "<pooled>")
    assert list((run_dir / "results/figures").glob("caterpillar_*__municipality_code.svg"))
    # report material of TRIPOD+AI 12d/23b
    assert het["prob"] == 0.9
    diag = het["diagnostics"][0]
    assert diag["sampler"] == "pymc" and (diag["chains"], diag["draws"]) == (2, 100)
    assert {"sigma_practice_id", "sigma_municipality_code"} <= {
        r["parameter"] for r in het["posterior_summary"]
    }
    for group in ("practice_id", "municipality_code"):
        bands = het["shrinkage"][group]
        assert sum(b["n_levels"] for b in bands["summary"]) + bands["n_masked_levels"] == sum(
            r["n_levels"] for r in het["cluster_effects"][group]
        )
        for kind in ("caterpillar", "shrinkage"):
            rel = het["figures"][kind][group]
            assert (run_dir / "results" / rel).is_file()
            assert (run_dir / "results" / rel).with_suffix(".png").is_file()
    freq = het["frequentist"]
    assert freq["model"] == "cox" and freq["n_compared"] == len(freq["coefficients"]) > 0
    assert 0 <= freq["share_inside"] <= 1 and freq["risk"]["mean_abs_difference"] < 0.1
    # the report shows the caterpillar plots as numbered figures
    part = (run_dir / "report/parts/heterogeneity.md").read_text(encoding="utf-8")
    assert "](figures/heterogeneity-gp-hierarchical-caterpillar-practice.svg){#fig-" in part
    assert (
        run_dir / "report/figures/heterogeneity-gp-hierarchical-caterpillar-practice.svg"
    ).is_file()
    html = (run_dir / "report/report.html").read_text(encoding="utf-8")
    assert re.search(r"<figcaption>Figure \d+: Caterpillar plot of the GP practices", html)
    assert "lie inside the hierarchical model" in html
    assert "Leave-one-out (PSIS-LOO)" in html
    # its diagnostics failed (100 draws): said in the results, never quoted in the abstract
    assert not het["diagnostics"][0]["ok"]
    abstract = (run_dir / "report/parts/abstract.md").read_text(encoding="utf-8")
    assert "median hazard ratio" not in abstract

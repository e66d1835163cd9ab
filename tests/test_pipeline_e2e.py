"""`epi run` end to end on a small synthetic population: every stage, every artefact.

Small on purpose (tests/runs.py: 1,500 persons, 4 bootstrap resamples, two
arms) so it fits the test budget; the demo runs the full protocol.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from epi.format import fmt_measure
from tests.runs import Run


@pytest.fixture(scope="module")
def run_dir(registers_run: Run) -> Path:
    """The session's registers run (tests/runs.py: 1,500 persons, 4 resamples, two arms)."""
    return registers_run.path


def test_every_stage_wrote_its_artefacts(run_dir: Path) -> None:
    for name in (
        "protocol.json", "run.json", "data_report.json", "store.duckdb",
        "cohort/attrition.json", "cohort/summary.json", "features/missingness.json",
        "features/table1.json", "results/performance.json", "results/calibration.json",
        "results/decision_curves.json", "results/coefficients.json", "results/nlp.json",
        "results/models/gp__cox.json", "results/added_value.json", "report/report.html",
    ):  # fmt: skip
        assert (run_dir / name).is_file(), name
    manifest = json.loads((run_dir / "run.json").read_text())
    assert {"cohort", "features", "notes (NLP)", "models and validation"} <= set(
        manifest["stages_run"]
    )


def test_every_json_artefact_carries_the_fingerprint(run_dir: Path) -> None:
    fingerprint = json.loads((run_dir / "protocol.json").read_text())["protocol_fingerprint"]
    for path in run_dir.rglob("*.json"):
        if "report" in path.parts or "models" in path.parts or "data" in path.parts:
            continue
        body = json.loads(path.read_text())
        assert body["protocol_fingerprint"] == fingerprint, path
        assert body["synthetic"] is True, path


def test_performance_is_sane_on_the_synthetic_truth(run_dir: Path) -> None:
    perf = json.loads((run_dir / "results/performance.json").read_text())
    for arm in ("gp", "all"):
        apparent = perf["arms"][arm]["models"]["cox"]["apparent"]
        # the synthetic hazard depends on the predictors: better than chance, and a
        # model scored on its own data is roughly calibrated
        assert 0.55 < apparent["harrell_c"]["estimate"] < 0.95
        assert 0.55 < apparent["auc"]["estimate"] < 0.95
        assert 0.7 < apparent["oe_ratio"]["estimate"] < 1.3
        assert apparent["calibration_slope"]["estimate"] > 0.5
    assert (
        "note__dyspnoea_any" in json.loads((run_dir / "results/nlp.json").read_text())["variables"]
    )


def test_no_person_ids_or_note_text_reach_the_report(run_dir: Path) -> None:
    cohort = pd.read_parquet(run_dir / "cohort/cohort.parquet")
    ids = set(cohort["person_id"].astype(str))
    pattern = re.compile(r"P\d{8}")
    for path in (run_dir / "report").rglob("*"):
        if path.suffix in {".md", ".qmd", ".html", ".json", ".svg", ".typ"}:
            text = path.read_text(encoding="utf-8", errors="ignore")
            assert not (set(pattern.findall(text)) & ids), path


def test_added_value_reaches_the_report(run_dir: Path) -> None:
    result = json.loads((run_dir / "results/added_value.json").read_text())
    (comparison,) = result["comparisons"]
    assert (comparison["arm"], comparison["reference"]) == ("all", "gp")
    part = (run_dir / "report/parts/added_value.md").read_text(encoding="utf-8")
    assert "significantly" not in part
    html = (run_dir / "report/report.html").read_text(encoding="utf-8")
    assert len(re.findall(r"<h\d[^>]*>[^<]*Added value of additional data", html)) == 1
    # the headline difference reaches the abstract with its interval
    d = comparison["differences"]["harrell_c"]
    abstract = (run_dir / "report/parts/abstract.md").read_text(encoding="utf-8")
    assert f"GP + hospital + note variables {fmt_measure(d, signed=True)}" in abstract
    assert (run_dir / "report/figures/added_value_forest.svg").is_file()


def test_primary_model_optimism_comes_from_the_paired_refits(run_dir: Path) -> None:
    """One bootstrap of the primary model: performance.json's optimism-corrected
    estimates are the per-arm scores of the added-value refits."""
    perf = json.loads((run_dir / "results/performance.json").read_text())
    paired = json.loads((run_dir / "results/added_value.json").read_text())
    resampling = json.loads((run_dir / "results/resampling.json").read_text())
    for entry in paired["arms"]:
        corrected = perf["arms"][entry["arm"]]["models"]["cox"]["optimism_corrected"]
        assert set(corrected) == set(entry["measures"])
        for m, s in entry["measures"].items():
            assert corrected[m]["estimate"] == s["estimate"], (entry["arm"], m)
        opt = resampling["fits"][f"{entry['arm']} / cox"]["optimism"]
        assert "added_value.json" in opt["settings"]["paired"]


def test_a_model_restricted_to_some_arms_is_fitted_on_those_only(run_dir: Path) -> None:
    perf = json.loads((run_dir / "results/performance.json").read_text())["arms"]
    assert set(perf["gp"]["models"]) == {"cox", "hierarchical"}
    assert set(perf["all"]["models"]) == {"cox", "weibull"}
    assert not (run_dir / "results/models/gp__weibull.json").exists()
    assert (run_dir / "results/models/all__weibull.json").is_file()

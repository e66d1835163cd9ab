"""The heterogeneity section (TRIPOD+AI 12d, 23b) from the real run's ``heterogeneity.json``.

The registers run (tests/runs.py) fits a hierarchical Weibull model with few
draws to the GP arm; its diagnostics fail, which the section must say. Other
states (no comparator, a missing figure, two models) are made from that real
file through the typed bundle, never typed by hand.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from epi.bundle import Heterogeneity, read_file, write_file
from epi.report import build_report
from epi.report._render import preprocess
from tests.report.conftest import html_text
from tests.runs import Run

SECTION = 'id="sec-heterogeneity"'
STAMP = ("protocol_fingerprint", "study_id", "synthetic", "epi_version")


def _part(root: Path, name: str = "heterogeneity") -> str:
    return (root / "parts" / f"{name}.md").read_text(encoding="utf-8")


def _het(run: Path) -> Heterogeneity:
    het = read_file(run, "heterogeneity")
    assert isinstance(het, Heterogeneity)
    return het


def _rewrite(run: Path, models: list) -> None:
    """Write ``models`` as the run's heterogeneity.json through the typed writer."""
    het = _het(run)
    write_file(
        run,
        Heterogeneity,
        {k: getattr(het, k) for k in STAMP},
        models=models,
        resampling=het.resampling,
    )


def test_section_shows_numbered_figures_with_alt_text(built: dict[str, Path]) -> None:
    root = built["html"].parent
    html = html_text(built["html"])
    section = html.split(SECTION)[1].split('id="sec-added-value"')[0]
    assert "not performed in this run" not in section
    shown = re.findall(r'<figure id="(fig-heterogeneity-[\w-]+)"', section)
    assert shown == [
        "fig-heterogeneity-gp-hierarchical-caterpillar-municipality",
        "fig-heterogeneity-gp-hierarchical-caterpillar-practice",
        "fig-heterogeneity-gp-hierarchical-shrinkage-municipality",
        "fig-heterogeneity-gp-hierarchical-shrinkage-practice",
    ]
    assert re.search(r"<figcaption>Figure \d+: Caterpillar plot of the GP practices", section)
    svg = (root / "figures" / "heterogeneity-gp-hierarchical-caterpillar-practice.svg").read_text()
    assert "<title>Caterpillar plot of the GP practices" in svg and "<desc>Caterpillar" in svg
    _, unresolved = preprocess(root, "typst")
    assert unresolved == []


def test_failed_diagnostics_are_said_with_their_numbers(
    registers_run: Run, built: dict[str, Path]
) -> None:
    diag = _het(registers_run.path).models[0].diagnostics[0]
    assert not diag.ok
    part = _part(built["html"].parent)
    assert f"largest rank-normalised R-hat {diag.max_r_hat:.3f} (required ≤ 1.01)" in part
    assert "**The posterior failed the convergence checks" in part
    assert "2 chains of 100 draws after 100 tuning steps" in part
    methods = _part(built["html"].parent, "heterogeneity_methods")
    assert "R-hat of at most 1.01" in methods and "not performed in this run" not in methods


def test_small_clusters_are_pooled_and_counts_masked_in_the_bundle(registers_run: Run) -> None:
    for group, rows in _het(registers_run.path).models[0].cluster_effects.items():
        for row in rows:
            if row[group] == "<pooled>":
                continue
            assert isinstance(row["n_persons"], int) and row["n_persons"] >= 5, row
            assert row["n_events"] == 0 or row["n_events"] == "<5" or row["n_events"] >= 5


def test_long_cluster_tables_are_cut_to_readable_length(
    registers_run: Run, built: dict[str, Path]
) -> None:
    rows = _het(registers_run.path).models[0].cluster_effects["practice_id"]
    listed = [r for r in rows if r["practice_id"] != "<pooled>"]
    assert len(listed) > 15
    part = _part(built["html"].parent)
    assert f"the 5 lowest and 5 highest of {len(listed)} GP practices" in part
    table = part.split("{#tbl-heterogeneity-gp-hierarchical-clusters-practice}")[0]
    table = table.rsplit("| GP practice |", 1)[1]
    assert len([ln for ln in table.splitlines() if ln.startswith("| ")]) == 10 + 1  # + pooled


def test_a_missing_comparator_and_a_missing_figure_are_said(fresh_run: Path) -> None:
    model = _het(fresh_run).models[0]
    changed = model.model_copy(
        update={"frequentist": {"model": None, "reason": "no frequentist Cox model was fitted"}}
    )
    _rewrite(fresh_run, [changed])
    (fresh_run / "results" / model.figures["shrinkage"]["practice_id"]).unlink()
    build_report(fresh_run, ())
    part = _part(fresh_run / "report").replace("\\_", "_")
    assert "Not performed in this run: no frequentist Cox model was fitted." in part
    assert f"not shown, results/{model.figures['shrinkage']['practice_id']} is absent" in part


def test_several_models_get_their_own_headings_and_ids(fresh_run: Path) -> None:
    model = _het(fresh_run).models[0]
    _rewrite(fresh_run, [model, model.model_copy(update={"model": "hierarchical_pe"})])
    build_report(fresh_run, ())
    part = _part(fresh_run / "report")
    assert "### Model hierarchical, arm gp" in part
    assert "### Model hierarchical\\_pe, arm gp" in part
    ids = re.findall(r"\{#((?:fig|tbl)-heterogeneity-[\w-]+)", part)
    assert len(ids) == len(set(ids)) and any("hierarchical-pe" in i for i in ids)


def test_the_figures_written_by_the_run_are_aggregated_only(registers_run: Run) -> None:
    """The caterpillar plot labels clusters, never persons; no person id in any figure."""
    from tests.runs import person_ids

    ids = person_ids(registers_run.path)
    for svg in (registers_run.path / "results" / "figures").glob("*.svg"):
        text = svg.read_text(encoding="utf-8")
        assert not (set(re.findall(r"P\d{8}", text)) & ids), svg.name
    index = json.loads((registers_run.path / "report" / "figures" / "index.json").read_text())
    assert any(f["name"].startswith("heterogeneity-gp-hierarchical") for f in index)

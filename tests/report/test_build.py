"""build_report on the reports of real runs: contents, numbering, disclosure, robustness.

Every bundle here was written by the real stages (tests/runs.py); a test that
needs a damaged or changed bundle copies a real one and changes it.
"""

from __future__ import annotations

import json
import re
import shutil
from html import unescape
from pathlib import Path

import pytest

from epi.cli import main
from epi.exceptions import ReportError
from epi.report import build_report, load_bundle
from epi.report._render import preprocess
from tests.report.conftest import html_text
from tests.runs import Run


def test_outputs_and_sources_are_written(built: dict[str, Path]) -> None:
    root = built["html"].parent
    assert set(built) == {"qmd", "html", "pdf"}
    assert built["pdf"].read_bytes().startswith(b"%PDF")
    for name in ("table1", "discrimination", "calibration_measures", "checklist", "subgroups"):
        assert (root / "tables" / f"{name}.md").is_file()
    assert (root / "report.qmd").is_file() and (root / "_quarto.yml").is_file()
    assert not list(root.parent.glob(".report.*"))  # no staging folder left behind


def test_every_figure_has_svg_png_and_alt_text(built: dict[str, Path]) -> None:
    root = built["html"].parent
    index = json.loads((root / "figures" / "index.json").read_text())
    assert {f["name"] for f in index} >= {"flow", "calibration", "decision_curves"}
    html = html_text(built["html"])
    for fig in index:
        assert (root / fig["svg"]).stat().st_size > 1000 and (root / fig["png"]).is_file()
        assert len(fig["alt"]) > 40
        assert f'alt="{fig["alt"]}"' in unescape(html)
    assert html.count("<img") == len(index)


def test_html_is_self_contained(built: dict[str, Path]) -> None:
    html = html_text(built["html"])
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<script src" not in html and '<link rel="stylesheet" href' not in html


def test_figures_and_tables_are_numbered_and_cross_referenced(built: dict[str, Path]) -> None:
    html = html_text(built["html"])
    captions = re.findall(r"<caption>(Table \d+):", html)
    assert captions == [f"Table {i}" for i in range(1, len(captions) + 1)] and len(captions) > 15
    figures = re.findall(r"<figcaption>(Figure \d+):", html)
    assert figures == [f"Figure {i}" for i in range(1, len(figures) + 1)] and len(figures) >= 4
    assert '<a href="#tbl-code-lists">Table 2</a>' in html
    assert '<a href="#fig-flow">Figure 1</a>' in html
    assert "@tbl-" not in html and "@fig-" not in html and "not available in this run" not in html
    _, unresolved = preprocess(built["html"].parent, "typst")
    assert unresolved == []


def test_report_is_stamped_and_synthetic_runs_carry_the_banner(
    built: dict[str, Path], bundle_dir: Path
) -> None:
    html = html_text(built["html"])
    fingerprint = load_bundle(bundle_dir).fingerprint
    assert fingerprint in html
    assert html.index("Synthetic data: not for clinical inference") < html.index("<h1")
    typ = (built["html"].parent / "report.typ").read_text()
    assert "SYNTHETIC DATA — NOT FOR CLINICAL INFERENCE" in typ and fingerprint in typ
    assert "#highlight[#emph[For the authors (TRIPOD+AI 17)" in typ


def test_what_was_not_done_is_said(built: dict[str, Path]) -> None:
    html = html_text(built["html"])
    assert "Temporal validation was not performed: no temporal_split_year in the protocol" in (
        html.replace("\\_", "_")
    )
    assert "Internal–external validation was not performed" in html


def test_rebuild_replaces_the_report_and_a_failed_build_keeps_the_old_one(
    fresh_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = fresh_run
    first = build_report(run, ())
    assert set(first) == {"qmd"} and not (run / "report" / "report.html").exists()
    stale = run / "report" / "tables" / "stale.md"
    stale.write_text("old")
    build_report(run, ())
    assert not stale.exists()

    import epi.report._build as build

    def boom(*args: object, **kwargs: object) -> None:
        raise ReportError("build failed")

    monkeypatch.setattr(build, "build_content", boom)
    with pytest.raises(ReportError, match="build failed"):
        build_report(run, ("html",))
    assert (run / "report" / "report.qmd").is_file()
    assert not list(run.glob(".report.*"))


def _other_run(run: Path) -> None:
    summary = json.loads((run / "cohort" / "summary.json").read_text())
    summary["protocol_fingerprint"] = "f" * 64
    (run / "cohort" / "summary.json").write_text(json.dumps(summary))


def _renamed_field(run: Path) -> None:
    coefficients = json.loads((run / "results" / "coefficients.json").read_text())
    coefficients["rows"][0]["index"] = coefficients["rows"][0].pop("term")
    (run / "results" / "coefficients.json").write_text(json.dumps(coefficients))


def _older_epi(run: Path) -> None:
    performance = json.loads((run / "results" / "performance.json").read_text())
    del performance["bundle_version"], performance["interval"]
    (run / "results" / "performance.json").write_text(json.dumps(performance))


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (lambda run: (run / "protocol.json").unlink(),
         "not a run folder: protocol.json is missing"),
        (lambda run: (run / "results" / "performance.json").write_text("{"),
         r"performance.json: not valid JSON \(line 1"),
        (_other_run,
         "summary.json: protocol fingerprint ffffffffffff… differs from protocol.json's"),
        (_renamed_field, r"results/coefficients.json: does not match the results bundle's "
         r"Coefficients layout: 'rows.0.term': Field required; 'rows.0.index': Extra inputs"),
        (_older_epi, r"performance.json: .*'interval': Field required.* written by an older epi"),
    ],
    ids=["no protocol", "bad json", "other run", "renamed field", "older epi"],
)  # fmt: skip
def test_damaged_bundles_are_reported_with_the_file(fresh_run: Path, damage, match: str) -> None:
    damage(fresh_run)
    with pytest.raises(ReportError, match=match):
        build_report(fresh_run, ())
    assert not (fresh_run / "report").exists()


def test_missing_files_never_crash(fresh_run: Path) -> None:
    run = fresh_run
    for rel in ("results", "features", "cohort", "run.json", "data_report.json"):
        path = run / rel
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    out = build_report(run, ("html",))
    html = html_text(out["html"])
    assert html.count("not performed in this run") >= 10
    assert "not available in this run" not in html
    assert "Participant flow diagram: not performed in this run: cohort/attrition.json" in html


def test_unknown_format_is_an_error(bundle_dir: Path) -> None:
    with pytest.raises(ReportError, match=r"unknown report format\(s\) \['docx'\]"):
        build_report(bundle_dir, ("html", "docx"))


def test_cli(fresh_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = fresh_run
    assert main(["report", str(run), "--format", "html"]) == 0
    assert f"html: {run / 'report' / 'report.html'}" in capsys.readouterr().out
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    assert "run folder" in capsys.readouterr().err


def test_a_run_folder_given_relative_to_the_working_directory_renders(
    fresh_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make demo` passes runs/... relative to the repository; pandoc runs inside the
    report folder, so every path it is given must be absolute (the demo once failed
    with "parts/banner.html not found in resource path")."""
    assert (fresh_run / "report").exists() is False
    monkeypatch.chdir(fresh_run.parent)
    assert main(["report", fresh_run.name, "--format", "html,pdf"]) == 0
    assert (fresh_run / "report" / "parts" / "banner.html").is_file()
    assert (fresh_run / "report" / "report.pdf").stat().st_size > 0


@pytest.mark.skipif(shutil.which("quarto") is None, reason="quarto is not on PATH")
def test_quarto_renders_the_same_project(fresh_run: Path) -> None:
    from epi.report._render import render

    build_report(fresh_run, ())
    out = render(fresh_run / "report", ["html", "pdf"], use_quarto=True)
    html = html_text(out["html"])
    assert "Table 1" in html and "Figure 1" in html and out["pdf"].read_bytes()[:4] == b"%PDF"


def test_quarto_requested_without_quarto_is_an_error(
    built: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from epi.report import _render

    monkeypatch.setattr(_render.shutil, "which", lambda _name: None)
    with pytest.raises(ReportError, match="no `quarto` binary is on PATH"):
        _render.render(built["html"].parent, ["html"], use_quarto=True)


def test_the_real_runs_build_without_warnings(registers_run: Run, analysis_table_run: Run) -> None:
    for run in (registers_run, analysis_table_run):
        assert any("rendering html" in m for m in run.messages)
        assert not [m for m in run.messages if "WARNING" in m or "without a target" in m]
    assert any("rendering pdf" in m for m in registers_run.messages)

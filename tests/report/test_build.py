"""build_report end to end on fixture bundles: contents, numbering, disclosure, robustness."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from epi.cli import main
from epi.exceptions import ReportError
from epi.report import build_report, load_bundle
from epi.report._render import preprocess
from tests.report.conftest import BUILD_MESSAGES, html_text


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
    assert {f["name"] for f in index} >= {"flow", "calibration", "decision_curves", "subgroups"}
    html = html_text(built["html"])
    for fig in index:
        assert (root / fig["svg"]).stat().st_size > 1000 and (root / fig["png"]).is_file()
        assert len(fig["alt"]) > 40
        assert f'alt="{fig["alt"]}"' in html.replace("&#39;", "'")
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


def test_absent_analyses_are_marked_not_performed(built: dict[str, Path]) -> None:
    html = html_text(built["html"])
    for what in (
        "Heterogeneity across GP practices and municipalities: not performed in this run",
        "Added value of cross-sector data: not performed in this run",
        "Note variables (NLP): not performed in this run",
        "Temporal: not performed (no temporal split year set in the protocol)",
    ):
        assert what in html, what


def test_small_cells_are_masked_everywhere(built: dict[str, Path]) -> None:
    root = built["html"].parent
    html = html_text(built["html"])
    flow = json.loads((root / "figures" / "index.json").read_text())[0]
    assert flow["name"] == "flow" and "n = 66" in flow["alt"]  # 3 + 63 merged
    assert not re.search(r"n = [1-4]\.", flow["alt"])
    assert "rare diagnosis</td>\n<td></td>\n<td>&lt;5</td>" in html
    table1 = (root / "tables" / "table1.md").read_text()
    assert re.search(r"General practice: rare diagnosis \|  \| \\<5 \|", table1)
    subgroups = (root / "tables" / "subgroups.md").read_text()
    assert subgroups.count("suppressed (small cell)") == 8  # municipality 999, 4 arm×model rows
    # municipalities add up to the cohort: the smallest other n and events are hidden too
    assert "| municipality | 101 | – | 50 |" in subgroups
    assert "| municipality | 147 | 400 | – |" in subgroups
    groups = (root / "tables" / "calibration_groups.md").read_text()
    assert re.search(r"\| 10 \| \\<5 \| – \| – \|", groups)
    assert re.search(r"\| 1 \| – \| 0.030 \|", groups)  # complementary: risks still shown
    dropped = (root / "tables" / "data_sources.md").read_text()
    assert "missing person: \\<5" in dropped and "| 2,300 | – |" in dropped  # kept suppressed
    # no cell of any table states a count of 1 to 4 persons
    for table in (root / "tables").glob("*.md"):
        for line in table.read_text().splitlines():
            assert not re.search(r"\| [1-4] \(\d", line), (table.name, line)


def test_full_bundle_renders_later_issues_and_temporal_validation(
    built_full: dict[str, Path],
) -> None:
    html = html_text(built_full["html"])
    assert "Synthetic data" not in html
    assert "not performed in this run" not in html.split('id="sec-heterogeneity"')[1][:3000]
    assert "delta c" in html and "0.060 (0.040 to 0.080)" in html  # added value, as given
    assert "Temporal: not performed" not in html
    # note text and person ids never enter any file of the report
    for path in built_full["html"].parent.rglob("*"):
        if path.suffix in (".md", ".qmd", ".yml", ".json", ".typ", ".html", ".svg"):
            text = path.read_text(encoding="utf-8")
            assert "Patient faldt" not in text and not re.search(r"\bp0\d{3}\b", text), path
    assert "<td>dyspnoea</td>\n<td>gp</td>\n<td>&lt;5</td>" in html
    assert "\\&lt;" not in html and "\\_" not in html  # nothing escaped twice
    assert "<td>&lt;0.001</td>" in html  # the likelihood-ratio p-value


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


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (lambda run: (run / "protocol.json").unlink(),
         "not a run folder: protocol.json is missing"),
        (lambda run: (run / "results" / "performance.json").write_text("{"),
         r"performance.json: not valid JSON \(line 1"),
        (lambda run: (run / "cohort" / "summary.json").write_text(
            json.dumps({"protocol_fingerprint": "f" * 64, "n": 3})),
         "summary.json: protocol fingerprint ffffffffffff… differs from protocol.json's"),
    ],
    ids=["no protocol", "bad json", "other run"],
)  # fmt: skip
def test_damaged_bundles_are_reported_with_the_file(fresh_run: Path, damage, match: str) -> None:
    run = fresh_run
    damage(run)
    with pytest.raises(ReportError, match=match):
        build_report(run, ())


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


def test_a_file_shaped_unlike_bundle_md_is_flagged_not_fatal(fresh_run: Path) -> None:
    perf = json.loads((fresh_run / "results" / "performance.json").read_text())
    perf["arms"] = ["gp_only", "cross_sector"]  # a list where a mapping is expected
    (fresh_run / "results" / "performance.json").write_text(json.dumps(perf))
    cal = json.loads((fresh_run / "results" / "calibration.json").read_text())
    for curve in cal["curves"]:  # column form instead of records: still understood
        pts = curve["points"]
        curve["points"] = {k: [p[k] for p in pts] for k in pts[0]}
    (fresh_run / "results" / "calibration.json").write_text(json.dumps(cal))
    messages: list[str] = []
    out = build_report(fresh_run, ("html",), progress=messages.append)
    html = html_text(out["html"])
    assert any("WARNING: part of the report not built: abstract" in m for m in messages)
    assert "Not shown: this part could not be formatted from the results bundle" in html
    assert '<figure id="fig-calibration">' in html


def test_fixture_bundles_build_without_warnings(built: dict[str, Path]) -> None:
    assert any("rendering pdf" in m for m in BUILD_MESSAGES)
    assert not [m for m in BUILD_MESSAGES if "WARNING" in m or "without a target" in m]

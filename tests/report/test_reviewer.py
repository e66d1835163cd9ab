"""What a journal reviewer checks, on the reports of real runs (tests/runs.py).

Each test pins one defect of the first reports: predictor names and intervals
in the coefficient table, reference strategies in the decision curves, small
counts in any table, development words, text written for another kind of
study, two intervals for one number, a failed Bayesian model quoted in the
abstract, the sample size never assessed, and several number formats.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import pytest

from epi.bundle import Heterogeneity, Performance, read_file, write_file
from epi.format import fmt_measure
from epi.report import build_report
from tests.runs import Run

#: Column headers whose cells are counts of persons, events or mentions.
COUNT_HEADER = re.compile(
    r"^(n|persons|events|outcomes|mentions|affirmed|negated|uncertain|hypothetical|"
    r"historical|family|rows kept|available n \(events\)|.*persons.*|.*events.*)$",
    re.IGNORECASE,
)
SMALL = re.compile(r"^[1-4]$|^[1-4] \(")
INTERVAL = re.compile(r"([−+]?\d+(?:\.\d+)?) \(([−+]?\d+(?:\.\d+)?) to ([−+]?\d+(?:\.\d+)?)\)")


def _number(text: str) -> float:
    return float(text.replace("−", "-"))


def markdown_tables(root: Path) -> list[tuple[str, list[str], list[list[str]]]]:
    """(file, header, rows) of every pipe table in the report's tables and parts."""
    out = []
    for path in sorted([*root.glob("tables/*.md"), *root.glob("parts/*.md")]):
        block: list[str] = []
        for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
            if line.startswith("|"):
                block.append(line)
                continue
            if len(block) >= 3:
                cells = [[c.strip() for c in row.strip("|").split("|")] for row in block]
                out.append((path.name, cells[0], [r for r in cells[2:]]))
            block = []
    return out


def _unescape(cell: str) -> str:
    return cell.replace("\\<", "<").replace("\\_", "_").replace("\\", "")


def test_every_coefficient_row_has_a_predictor_and_a_finite_interval(
    registers_run: Run, built: dict[str, Path]
) -> None:
    rows = read_file(registers_run.path, "coefficients").rows
    assert rows and all(r.term and r.term != "None" for r in rows)
    assert all(math.isfinite(r.hr_lower) and math.isfinite(r.hr_upper) for r in rows)
    table = (built["html"].parent / "tables" / "coefficients.md").read_text()
    body = [
        line for line in table.splitlines() if line.startswith("| gp") or line.startswith("| all")
    ]
    assert len(body) == len(rows)
    assert "None" not in table and "– to –" not in table


def test_decision_curves_show_treat_all_and_treat_none(
    registers_run: Run, built: dict[str, Path]
) -> None:
    curves = read_file(registers_run.path, "decision_curves").curves
    references = {c.model for c in curves if c.arm is None}
    assert references == {"treat_all", "treat_none"}
    svg = (built["html"].parent / "figures" / "decision_curves.svg").read_text()
    panels = svg.count("<!-- Threshold probability -->")
    assert panels == 2  # one per arm
    assert svg.count("<!-- treat all -->") == svg.count("<!-- treat none -->") == panels


@pytest.mark.parametrize("which", ["registers_run", "analysis_table_run"])
def test_no_count_of_1_to_4_in_any_table(which: str, request: pytest.FixtureRequest) -> None:
    run: Run = request.getfixturevalue(which)
    checked = 0
    for name, header, rows in markdown_tables(run.path / "report"):
        columns = [k for k, h in enumerate(header) if COUNT_HEADER.match(_unescape(h))]
        for row in rows:
            for k in columns:
                if k < len(row):
                    checked += 1
                    assert not SMALL.match(_unescape(row[k])), (name, header[k], row)
    assert checked > (50 if which == "registers_run" else 5)


def test_nlp_counts_are_masked_in_the_bundle_itself(registers_run: Run) -> None:
    """The bundle is what leaves a secure environment: its counts are masked there."""
    nlp = read_file(registers_run.path, "nlp")
    for row in nlp.mentions_by_concept:
        for field in ("mentions", "affirmed", "negated", "uncertain", "family"):
            value = getattr(row, field)
            assert value == 0 or isinstance(value, str) or value >= 5, (row.concept, field)


@pytest.mark.parametrize("which", ["registers_run", "analysis_table_run"])
def test_no_development_words_reach_the_report(which: str, request: pytest.FixtureRequest) -> None:
    run: Run = request.getfixturevalue(which)
    root = run.path / "report"
    html = re.sub(r"<[^>]+>", " ", (root / "report.html").read_text(encoding="utf-8"))
    for word in ("issue", "later_issues", "TODO", "FIXME", "session"):
        assert not re.search(rf"\b{word}\b", html, re.IGNORECASE), word


def test_an_analysis_table_report_claims_nothing_about_danish_registers(
    built_table: Path,
) -> None:
    root = built_table.parent
    texts = [p.read_text(encoding="utf-8") for p in root.glob("parts/*.md")]
    texts += [
        p.read_text(encoding="utf-8") for p in root.glob("tables/*.md") if p.stem != "checklist"
    ]
    # the checklist's own item texts are TRIPOD's; its last column is what this report says
    for line in (root / "tables" / "checklist.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("| "):
            texts.append(line.rsplit("|", 2)[-2])
    text = "\n".join(texts).replace("\\_", "_")
    for phrase in (
        "Danish", "Denmark", r"\bregisters?\b", "municipal", "general practice",
        "index date 2023", "adults aged", "Internal–external validation:",
        "The outcome outcome", "cannot be shared", "Synthetic data",
    ):  # fmt: skip
        assert not re.search(phrase, text), phrase
    assert "rearrest" in text and "analysis table" in text


def test_the_abstract_quotes_the_optimism_corrected_c_with_its_documented_interval(
    registers_run: Run,
) -> None:
    """Mutation guard: the apparent C, or another interval, in its place fails here."""
    perf = read_file(registers_run.path, "performance")
    assert isinstance(perf, Performance)
    abstract = (registers_run.path / "report" / "parts" / "abstract.md").read_text()
    for arm, spec in perf.arms.items():
        cox = spec.models["cox"]
        corrected, apparent = cox.optimism_corrected["harrell_c"], cox.apparent["harrell_c"]
        shift = corrected.estimate - apparent.estimate
        assert corrected.lower == pytest.approx(apparent.lower + shift, abs=1e-12), arm
        assert corrected.upper == pytest.approx(apparent.upper + shift, abs=1e-12), arm
        quoted = f"optimism-corrected Harrell's C {fmt_measure(corrected.model_dump())}"
        assert quoted in abstract, arm
        assert fmt_measure(apparent.model_dump()) not in abstract


def test_one_number_has_one_interval_across_the_bundle(registers_run: Run) -> None:
    """The paired comparison's per-arm measures carry performance.json's intervals."""
    perf = read_file(registers_run.path, "performance")
    added = read_file(registers_run.path, "added_value")
    for entry in added.arms:
        models = perf.arms[entry.arm].models[entry.model]
        for m, stat in entry.measures.items():
            corrected = models.optimism_corrected[m]
            assert (stat.estimate, stat.lower, stat.upper) == pytest.approx(
                (corrected.estimate, corrected.lower, corrected.upper), abs=1e-12
            ), (entry.arm, m)


@pytest.mark.parametrize("which", ["registers_run", "analysis_table_run"])
def test_every_estimate_lies_inside_its_interval(
    which: str, request: pytest.FixtureRequest
) -> None:
    run: Run = request.getfixturevalue(which)
    root = run.path / "report"
    found = 0
    texts = [
        p.read_text(encoding="utf-8") for p in [*root.glob("tables/*.md"), *root.glob("parts/*.md")]
    ]
    for text in texts:
        for est, lo, hi in INTERVAL.findall(text):
            found += 1
            assert _number(lo) <= _number(est) <= _number(hi), (est, lo, hi)
    assert found > 20


def test_one_number_format_everywhere(built: dict[str, Path]) -> None:
    """The typographic minus; no "+" on a measure that is not a difference; no "+0.000"."""
    root = built["html"].parent
    for path in [*root.glob("tables/*.md"), *root.glob("parts/*.md")]:
        for line in path.read_text(encoding="utf-8").splitlines():
            assert not re.search(r"(^|[\s(|\[])-\d*\.\d", line), (path.name, line)
            assert not re.search(r"[+−]0\.000\b", line), (path.name, line)
    for name in ("discrimination.md", "calibration_measures.md"):
        assert "+" not in (root / "tables" / name).read_text(), name
    added = (root / "parts" / "added_value.md").read_text()
    arms = added.split("Calibration and performance of every arm")[1]
    assert not re.search(r"\+\d", arms)


def test_a_failed_hierarchical_model_stays_out_of_the_abstract(
    registers_run: Run, tmp_path: Path
) -> None:
    het = read_file(registers_run.path, "heterogeneity")
    assert isinstance(het, Heterogeneity) and not het.models[0].diagnostics_ok
    abstract = (registers_run.path / "report" / "parts" / "abstract.md").read_text()
    assert "median hazard ratio" not in abstract
    part = (registers_run.path / "report" / "parts" / "heterogeneity.md").read_text()
    assert "Convergence diagnostics failed" in part
    # the same bundle with passing diagnostics: now the abstract quotes it
    run = tmp_path / "run"
    shutil.copytree(registers_run.path, run, ignore=shutil.ignore_patterns("report", "data"))
    passed = het.models[0].model_copy(
        update={
            "diagnostics": [d.model_copy(update={"ok": True}) for d in het.models[0].diagnostics]
        }
    )
    stamp = {
        k: getattr(het, k) for k in ("protocol_fingerprint", "study_id", "synthetic", "epi_version")
    }
    write_file(run, Heterogeneity, stamp, models=[passed], resampling=het.resampling)
    build_report(run, ())
    abstract = (run / "report" / "parts" / "abstract.md").read_text()
    mhr = {r.group: r for r in passed.median_hazard_ratio}
    assert "median hazard ratio between GP practices" in abstract
    assert f"{mhr['practice_id'].mhr:.2f}" in abstract


def test_the_sample_size_is_assessed_and_too_few_data_are_said(
    registers_run: Run, analysis_table_run: Run
) -> None:
    for run in (registers_run, analysis_table_run):
        size = read_file(run.path, "sample_size")
        assert size is not None and size.arms
        for arm, result in size.arms.items():
            assert result["meets"] is False  # small test data, many candidate parameters
            assert any(f"arm '{arm}':" in w and "Riley" in w for w in run.warnings)
        part = (run.path / "report" / "parts" / "sample_size.md").read_text()
        assert "The data are too few for the candidate parameters" in part
        assert "not performed" not in part


def test_bundle_files_all_validate(registers_run: Run) -> None:
    """Every file of the real run reads back through its typed model."""
    from epi.bundle import BUNDLE_FILES

    for name, cls in BUNDLE_FILES.items():
        path = registers_run.path / cls.path
        assert path.is_file(), name
        assert json.loads(path.read_text())["bundle_version"] == 2
        assert read_file(registers_run.path, name) is not None

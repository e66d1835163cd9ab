"""Report fixtures: the reports of the session's real runs (tests/runs.py), never hand-made."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.runs import Run


@pytest.fixture(scope="session")
def bundle_dir(registers_run: Run) -> Path:
    """The registers run's folder (read-only for tests: copy it with ``fresh_run``)."""
    return registers_run.path


@pytest.fixture(scope="session")
def built(registers_run: Run) -> dict[str, Path]:
    """The registers run's own report: ``report.qmd``, ``report.html``, ``report.pdf``."""
    root = registers_run.path / "report"
    return {kind: root / f"report.{kind}" for kind in ("qmd", "html", "pdf")}


@pytest.fixture(scope="session")
def built_table(analysis_table_run: Run) -> Path:
    """The analysis-table run's HTML report."""
    return analysis_table_run.path / "report" / "report.html"


def html_text(path: Path) -> str:
    """The HTML of a report, as text."""
    return path.read_text(encoding="utf-8")


@pytest.fixture
def fresh_run(tmp_path: Path, bundle_dir: Path) -> Path:
    """A private copy of the registers run (without its report) that a test may change."""
    run = tmp_path / "run"
    shutil.copytree(
        bundle_dir,
        run,
        ignore=shutil.ignore_patterns("report", ".report.*", "store.duckdb", "data"),
    )
    return run

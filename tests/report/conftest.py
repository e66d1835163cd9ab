"""Shared fixtures: fixture results bundles (fixtures/bundle.py) and the reports built from them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from epi.report import build_report
from tests.report.fixtures.bundle import write_bundle


@pytest.fixture(scope="session")
def bundle_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic run without the optional files of later issues (temporal: null)."""
    return write_bundle(tmp_path_factory.mktemp("run") / "20261125T100000Z")


BUILD_MESSAGES: list[str] = []


@pytest.fixture(scope="session")
def built(bundle_dir: Path) -> dict[str, Path]:
    """The report of ``bundle_dir`` rendered to HTML and PDF (built once per session).

    Its progress messages are kept in ``BUILD_MESSAGES``.
    """
    return build_report(bundle_dir, ("html", "pdf"), progress=BUILD_MESSAGES.append)


@pytest.fixture(scope="session")
def built_full(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A real-data run with every optional file and a temporal validation (HTML only)."""
    run = write_bundle(
        tmp_path_factory.mktemp("full") / "run", optional=True, temporal=True, synthetic=False
    )
    return build_report(run, ("html",))


def html_text(path: Path) -> str:
    """The HTML of a report, as text."""
    return path.read_text(encoding="utf-8")


@pytest.fixture
def fresh_run(tmp_path: Path, bundle_dir: Path) -> Path:
    """A private copy of ``bundle_dir`` (without its report) that a test may change."""
    run = tmp_path / "run"
    shutil.copytree(bundle_dir, run, ignore=shutil.ignore_patterns("report", ".report.*"))
    return run

"""Session-wide fixtures: real runs written by the real stages (tests/runs.py)."""

from __future__ import annotations

import pytest

from tests.runs import REGISTERS, Run, make_analysis_table_run, make_run


@pytest.fixture(scope="session")
def registers_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The synthetic registers study, run once per session (HTML and PDF report)."""
    return make_run(REGISTERS, tmp_path_factory.mktemp("registers"), "e2e")


@pytest.fixture(scope="session")
def analysis_table_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Rossi's data as an analysis table, run once per session (HTML report)."""
    return make_analysis_table_run(tmp_path_factory.mktemp("rossi"))

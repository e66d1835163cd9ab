"""One synthetic population shared by the synth tests (generated once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from epi.data.synth import generate

PERSONS = 3_000
SEED = 11


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3,000-person synthetic population (seed 11)."""
    return generate(PERSONS, SEED, tmp_path_factory.mktemp("synth") / "out")

"""Fixtures: the simulated design of ``_sim.py`` and one shared comparison."""

from __future__ import annotations

import pytest

from tests.validation.comparison._sim import Design, fit_arms, settings_for, simulate


@pytest.fixture(scope="session")
def design() -> Design:
    return simulate(1500, seed=11)


@pytest.fixture(scope="session")
def compared(design: Design) -> dict:
    """compare_arms on the simulated design with B = 40 (shared by several tests)."""
    from epi.validation.comparison import compare_arms

    fits, factories = fit_arms(design)
    return compare_arms(fits, design.outcome, design.X, factories, **settings_for(40))

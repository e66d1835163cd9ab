"""Restricted cubic splines against Hmisc::rcspline.eval (reference.R)."""

from __future__ import annotations

import numpy as np
import pytest

from epi.models import harrell_knots, rcs_basis

CASES = ["age_4", "age_3", "prio_5", "age_5_n60", "week_7"]


@pytest.mark.parametrize("case", CASES)
def test_knots_and_basis_match_hmisc(ref: dict, case: str) -> None:
    r = ref["rcs"][case]
    x = np.asarray(r["x"], dtype=float)
    knots = harrell_knots(x, r["nk"])
    np.testing.assert_allclose(knots, r["knots"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(rcs_basis(x, knots), np.asarray(r["basis"]), rtol=0, atol=1e-10)


def test_basis_is_linear_beyond_outer_knots() -> None:
    knots = np.array([0.0, 1.0, 2.0, 3.0])
    x = np.array([3.0, 4.0, 5.0, 6.0])
    second_diff = np.diff(rcs_basis(x, knots), n=2, axis=0)
    np.testing.assert_allclose(second_diff, 0, atol=1e-12)


@pytest.mark.parametrize(
    ("x", "k", "match"),
    [
        (np.arange(100.0), 2, "3 to 7"),
        (np.arange(5.0), 4, "at least 6"),
        (np.r_[np.zeros(50), np.ones(50)], 4, "fewer than 3"),
    ],
)
def test_bad_knot_requests(x: np.ndarray, k: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        harrell_knots(x, k)

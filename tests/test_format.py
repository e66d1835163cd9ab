"""The one number formatter: signs, tiny values, missing values, counts."""

from __future__ import annotations

import math

import pytest

from epi.format import fmt_count, fmt_diff, fmt_measure, fmt_num, fmt_p


@pytest.mark.parametrize(
    ("value", "kwargs", "text"),
    [
        (0.6391, {}, "0.639"),
        (-0.002, {}, "−0.002"),  # the typographic minus everywhere, abstract and tables alike
        (-0.0004, {}, "−0.00040"),  # not "+0.000" or "-0.000"
        (0.0004, {"signed": True}, "+0.00040"),
        (0.0071, {"signed": True}, "+0.007"),
        (0.0, {"signed": True}, "0.000"),
        (-0.0, {}, "0.000"),
        (None, {}, "–"),
        (math.nan, {}, "–"),
        (math.inf, {}, "–"),
        (True, {}, "–"),
        (12.3456, {"digits": 1}, "12.3"),
    ],
)
def test_fmt_num(value: object, kwargs: dict, text: str) -> None:
    assert fmt_num(value, **kwargs) == text


def test_an_estimate_and_its_interval_share_one_format() -> None:
    m = {"estimate": 0.639, "lower": 0.623, "upper": 0.655}
    assert fmt_measure(m) == "0.639 (0.623 to 0.655)"  # no "+" on a non-difference
    d = {"estimate": 0.007, "lower": -0.0004, "upper": 0.016}
    assert fmt_measure(d, signed=True) == "+0.007 (−0.00040 to +0.016)"
    assert fmt_measure({"estimate": 0.5, "lower": None, "upper": 0.6}) == "0.500"
    assert fmt_diff(-0.0121) == "−0.012"


def test_p_values_and_counts() -> None:
    assert [fmt_p(x) for x in (0.0004, 0.0312, None)] == ["<0.001", "0.031", "–"]
    assert [fmt_count(x) for x in (3496, 20000, "<5", None)] == ["3,496", "20,000", "<5", "–"]

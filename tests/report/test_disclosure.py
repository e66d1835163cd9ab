"""Disclosure control: small counts masked, and never recoverable from the totals shown."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from epi.disclosure import (
    SUPPRESSED,
    is_masked,
    mask_count,
    suppress_line,
    suppress_masked_line,
    suppress_table,
)
from epi.exceptions import ReportError
from epi.report._flow import flow_boxes


@pytest.mark.parametrize(
    ("n", "min_cell", "expected"),
    [
        (0, 5, "0"),
        (1, 5, "<5"),
        (4, 5, "<5"),
        (5, 5, "5"),
        (12345, 5, "12,345"),
        (3.0, 5, "<5"),
        (9, 10, "<10"),
        (1, 1, "1"),
    ],
)
def test_mask_count(n: int, min_cell: int, expected: str) -> None:
    assert mask_count(n, min_cell) == expected


@pytest.mark.parametrize(
    ("n", "min_cell", "match"),
    [
        (-1, 5, "non-negative integer; got -1"),
        (2.5, 5, "non-negative integer; got 2.5"),
        ("7", 5, "non-negative integer"),
        (None, 5, "non-negative integer; got None"),
        (True, 5, "non-negative integer; got True"),
        (float("nan"), 5, "non-negative integer"),
        (3, 0, "min_cell must be a positive integer"),
        (3, 2.5, "min_cell must be a positive integer"),
    ],
)
def test_mask_count_rejects_bad_input(n: object, min_cell: object, match: str) -> None:
    with pytest.raises(ReportError, match=match):
        mask_count(n, min_cell)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ([120, 3, 40], ["120", "<5", SUPPRESSED]),  # one small cell: the smallest other one too
        ([120, 40, 60], ["120", "40", "60"]),  # nothing small: nothing hidden
        ([100, 2, 3], ["100", "<5", "<5"]),  # two small cells that together reach 5
        ([100, 1, 2, 50], ["100", "<5", "<5", SUPPRESSED]),  # 1 + 2 < 5: hide one more
        ([0, 3, 40], ["0", "<5", SUPPRESSED]),  # zeros are shown and do not protect
        ([3], ["<5"]),  # nothing else to hide
    ],
)
def test_suppress_line(counts: list[int], expected: list[str]) -> None:
    assert suppress_line(counts, 5) == expected


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["396", "400", "<5"], [SUPPRESSED, "400", "<5"]),
        ([396, 400, 2], [SUPPRESSED, "400", "<5"]),
        (["1,440", "360"], ["1,440", "360"]),
        (["396", "<5", "<5"], [SUPPRESSED, "<5", "<5"]),  # masked cells count as 1 each
        (["<5", SUPPRESSED, "90"], ["<5", SUPPRESSED, SUPPRESSED]),
    ],
)
def test_suppress_masked_line(cells: list[object], expected: list[str]) -> None:
    assert suppress_masked_line(cells, 5) == expected  # type: ignore[arg-type]


def test_suppress_line_without_a_published_total_only_masks() -> None:
    assert suppress_line([120, 3, 40], 5, total_shown=False) == ["120", "<5", "40"]


def _check_safe(values: np.ndarray, texts: pd.DataFrame, m: int) -> None:
    hidden = texts.map(is_masked).to_numpy()
    assert not ((values > 0) & (values < m) & ~hidden).any(), "a small count is shown"
    for line_v, line_h in [
        *zip(values, hidden, strict=True),
        *zip(values.T, hidden.T, strict=True),
    ]:
        if line_h.any():
            all_hidden = not ((line_v > 0) & ~line_h).any()
            assert all_hidden or (line_h.sum() >= 2 and line_v[line_h].sum() >= m), (
                f"line {line_v} with hidden {line_h} lets a small count be recovered"
            )


@pytest.mark.parametrize("seed", range(25))
def test_suppress_table_leaves_no_line_with_a_recoverable_cell(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.choice([0, 1, 2, 3, 4, 6, 15, 40, 120], size=(rng.integers(2, 6), 4))
    texts = suppress_table(pd.DataFrame(values), 5)
    _check_safe(values, texts, 5)


def test_suppress_table_two_way_example() -> None:
    counts = pd.DataFrame({"no": [97, 30], "yes": [3, 20]}, index=["level a", "level b"])
    out = suppress_table(counts, 5)
    assert out.loc["level a", "yes"] == "<5"
    # 97 would reveal 3 from the row total; 20 from the column total.
    assert out.loc["level a", "no"] == SUPPRESSED and out.loc["level b", "yes"] == SUPPRESSED


def _steps(*persons: int) -> list[dict[str, object]]:
    return [
        {"step": f"s{i}", "description": f"restriction {i}", "persons": n}
        for i, n in enumerate(persons)
    ]


@pytest.mark.parametrize(
    ("persons", "expected_excluded"),
    [
        ((1140, 926, 923, 860, 800), ["214", "66", "60"]),  # the 3 merged with the next step
        ((1000, 997, 900), ["100"]),  # 3 then 97: merged
        ((1000, 900, 897), ["103"]),  # small last step merged into the previous one
        ((1000, 900, 900, 800), ["100", "0", "100"]),  # zero is shown
    ],
)
def test_flow_boxes_never_show_a_small_exclusion(
    persons: tuple[int, ...], expected_excluded: list[str]
) -> None:
    boxes = flow_boxes(_steps(*persons), 5)
    assert [b.n for b in boxes if b.kind == "excluded"] == expected_excluded
    shown = [int(b.n.replace(",", "")) for b in boxes if b.kind == "remaining"]
    assert all(a - b == 0 or a - b >= 5 for a, b in itertools.pairwise(shown))


def test_flow_boxes_hide_the_source_when_everything_excluded_is_small() -> None:
    boxes = flow_boxes(_steps(100, 98), 5)
    assert [b.n for b in boxes] == ["98 + <5", "<5", "98"]


@pytest.mark.parametrize(
    ("steps", "match"),
    [
        ([], "'steps' is empty"),
        (_steps(100, 120), "more persons .120. than the step before .100."),
        ([{"step": "a", "persons": -1}], r"steps\[0\].persons must be a non-negative count"),
    ],
)
def test_flow_boxes_reject_inconsistent_logs(steps: list[dict[str, object]], match: str) -> None:
    with pytest.raises(ReportError, match=match):
        flow_boxes(steps, 5)

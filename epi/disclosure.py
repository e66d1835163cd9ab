"""Disclosure control for aggregated counts.

Danish register rules forbid showing counts of 1 to ``min_cell - 1`` persons
(default 5). A masked count must also not be recoverable from the totals shown
next to it, so whenever a line of counts (a row or column whose total is
published) has masked cells, further cells are suppressed until at least two
cells are hidden and the hidden cells add up to at least ``min_cell``
(*complementary suppression*). Zeros are shown: they reveal nothing about a
person.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from epi.exceptions import ReportError

__all__ = [
    "MASK_PREFIX",
    "SUPPRESSED",
    "bundle_count",
    "is_masked",
    "mask_count",
    "suppress_line",
    "suppress_lines",
    "suppress_masked_line",
    "suppress_table",
]

#: Shown for a cell hidden only so that a small neighbour cannot be recovered.
SUPPRESSED = "–"
#: Every masked small count starts with this character (``<5``).
MASK_PREFIX = "<"


def _check_min_cell(min_cell: int) -> None:
    if isinstance(min_cell, bool) or not isinstance(min_cell, int | np.integer) or min_cell < 1:
        raise ReportError(
            f"min_cell must be a positive integer (the protocol's report.min_cell_size); "
            f"got {min_cell!r}."
        )


def _as_count(n: object, where: str) -> int:
    if isinstance(n, bool | str | bytes) or n is None:
        raise ReportError(f"{where}: a count must be a non-negative integer; got {n!r}.")
    try:
        value = float(n)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ReportError(f"{where}: a count must be a non-negative integer; got {n!r}.") from None
    if not np.isfinite(value) or value < 0 or value != int(value):
        raise ReportError(f"{where}: a count must be a non-negative integer; got {n!r}.")
    return int(value)


def mask_count(n: int, min_cell: int) -> str:
    """Format a count of persons, masking small counts.

    Parameters
    ----------
    n : int
        A count of persons (non-negative integer; integral floats are accepted).
    min_cell : int
        The protocol's minimum cell size (``report.min_cell_size``, default 5).

    Returns
    -------
    str
        ``"<5"`` for ``0 < n < min_cell``; otherwise ``n`` with thousands
        separators (``"12,345"``). Zero is shown as ``"0"``.

    Raises
    ------
    ReportError
        If ``n`` is not a non-negative integer or ``min_cell`` is not positive.

    Examples
    --------
    >>> mask_count(3, 5), mask_count(0, 5), mask_count(12345, 5)
    ('<5', '0', '12,345')
    """
    _check_min_cell(min_cell)
    value = _as_count(n, "mask_count")
    if 0 < value < min_cell:
        return f"{MASK_PREFIX}{min_cell}"
    return f"{value:,}"


def bundle_count(n: int, min_cell: int) -> int | str:
    """A count as an exportable results bundle stores it: masked below the minimum cell size.

    Returns ``n`` itself when it is 0 or at least ``min_cell``, else ``"<min_cell"``
    (the same text as `mask_count`), so the bundle itself is safe to export.

    Examples
    --------
    >>> bundle_count(3, 5), bundle_count(0, 5), bundle_count(12, 5)
    ('<5', 0, 12)
    """
    _check_min_cell(min_cell)
    value = _as_count(n, "bundle_count")
    return f"{MASK_PREFIX}{min_cell}" if 0 < value < min_cell else value


def is_masked(text: str) -> bool:
    """Whether a formatted cell is hidden (``<5`` or the complementary mark)."""
    text = str(text).strip()
    return text.startswith(MASK_PREFIX) or text == SUPPRESSED


def _secondary(values: np.ndarray, hidden: np.ndarray, min_cell: int) -> bool:
    """Hide more cells of one line until the hidden ones are safe; True if any changed."""
    changed = False
    while hidden.any():
        n_hidden = int(hidden.sum())
        if n_hidden >= 2 and values[hidden].sum() >= min_cell:
            break
        candidates = np.flatnonzero(~hidden & (values > 0))
        if candidates.size == 0:
            break  # every non-zero cell is hidden already: nothing more can be done
        pick = candidates[np.argmin(values[candidates])]
        hidden[pick] = True
        changed = True
    return changed


def suppress_lines(values: np.ndarray, lines: Sequence[np.ndarray], min_cell: int) -> np.ndarray:
    """Primary and complementary suppression over cells linked by published totals.

    Parameters
    ----------
    values : 1-d array of int
        Every cell of a table, flattened.
    lines : sequence of index arrays
        Each line is a set of cells whose sum is published (or that are tied by
        an equation, such as ``Overall = sum of the groups``).
    min_cell : int
        The minimum cell size.

    Returns
    -------
    ndarray of bool
        Which cells to hide. Small non-zero cells are always hidden; lines are
        revisited until none has exactly one hidden cell, or hidden cells that
        add up to fewer than ``min_cell`` while a non-zero cell is still shown.
        This is the usual iterative heuristic, not an optimal suppression.
    """
    _check_min_cell(min_cell)
    values = np.asarray(values, dtype=np.int64)
    hidden = (values > 0) & (values < min_cell)
    for _ in range(values.size + 1):
        changed = False
        for line in lines:
            mask = hidden[line].copy()
            if _secondary(values[line], mask, min_cell):
                hidden[line] = mask
                changed = True
        if not changed:
            break
    return hidden


def suppress_line(
    counts: Sequence[int] | pd.Series, min_cell: int, *, total_shown: bool = True
) -> list[str]:
    """Mask small counts in one row or column and suppress complementary cells.

    Parameters
    ----------
    counts : sequence of int or Series
        The counts of one line whose cells add up to a total (for example the
        levels of a variable in one group, or one level across groups).
    min_cell : int
        The minimum cell size.
    total_shown : bool
        Whether the line's total is published elsewhere (in a header, an
        ``Overall`` column or a flow-diagram box). Only then can a single
        masked cell be recovered by subtraction and complementary cells are
        suppressed.

    Returns
    -------
    list of str
        One text per cell: the count, ``<5`` for a small count, or ``–`` for a
        cell hidden to protect a small one. When the line has any hidden cell,
        at least two cells are hidden and together they hold at least
        ``min_cell`` persons (or every non-zero cell is hidden).

    Examples
    --------
    >>> suppress_line([120, 3, 40], 5)
    ['120', '<5', '–']
    """
    _check_min_cell(min_cell)
    values = np.array([_as_count(v, "suppress_line") for v in counts], dtype=np.int64)
    small = (values > 0) & (values < min_cell)
    hidden = small.copy()
    if total_shown:
        _secondary(values, hidden, min_cell)
    return _texts(values, small, hidden, min_cell)


def _texts(values: np.ndarray, small: np.ndarray, hidden: np.ndarray, min_cell: int) -> list[str]:
    out = []
    for v, s, h in zip(values, small, hidden, strict=True):
        if s:
            out.append(f"{MASK_PREFIX}{min_cell}")
        elif h:
            out.append(SUPPRESSED)
        else:
            out.append(f"{int(v):,}")
    return out


def suppress_masked_line(cells: Sequence[int | str], min_cell: int) -> list[str]:
    """Complementary suppression for a line whose small counts may already be masked.

    Other stages write counts already masked (``"<5"``) into the bundle; when
    such a line adds up to a published total (subgroup levels add up to the
    cohort, calibration groups to the persons validated), a single masked cell
    could still be recovered by subtraction. This hides further shown cells as
    :func:`suppress_line` does, counting each masked cell as 1 person (the
    worst case) toward the ``min_cell`` sum.

    Parameters
    ----------
    cells : sequence of int or str
        Counts, as integers or as texts (``"1,234"``, ``"<5"``, ``"–"``).
    min_cell : int
        The minimum cell size.

    Returns
    -------
    list of str
        Texts as from :func:`suppress_line`; cells masked on input stay masked.
    """
    _check_min_cell(min_cell)
    values, hidden, small = [], [], []
    for cell in cells:
        text = str(cell).strip()
        if isinstance(cell, str) and is_masked(text):
            values.append(1)
            hidden.append(True)
            small.append(text.startswith(MASK_PREFIX))
            continue
        digits = text.replace(",", "")
        raw = int(digits) if isinstance(cell, str) and digits.isdigit() else cell
        n = _as_count(raw, "suppress_masked_line")
        values.append(n)
        hidden.append(0 < n < min_cell)
        small.append(0 < n < min_cell)
    arr, hid = np.array(values, dtype=np.int64), np.array(hidden, dtype=bool)
    _secondary(arr, hid, min_cell)
    return _texts(arr, np.array(small, dtype=bool), hid, min_cell)


def suppress_table(
    counts: pd.DataFrame,
    min_cell: int,
    *,
    row_totals_shown: bool = True,
    column_totals_shown: bool = True,
) -> pd.DataFrame:
    """Mask small counts in a two-way table and suppress complementary cells.

    Rows and columns are treated as lines whose totals are published (for a
    Table 1: the levels of a variable add up to the group size in the header;
    the groups of one grouping add up to the ``Overall`` column). Suppression
    is repeated over rows and columns until no line has a hidden cell that
    subtraction could recover.

    Parameters
    ----------
    counts : DataFrame
        Non-negative integer counts.
    min_cell : int
        The minimum cell size.
    row_totals_shown, column_totals_shown : bool
        Whether the totals of each row (across columns) and of each column
        (down the rows) are published.

    Returns
    -------
    DataFrame
        The same shape and labels, with strings as from :func:`suppress_line`.
    """
    _check_min_cell(min_cell)
    values = np.array(
        [[_as_count(v, f"suppress_table[{r!r}]") for v in row] for r, row in counts.iterrows()],
        dtype=np.int64,
    ).reshape(counts.shape)
    small = (values > 0) & (values < min_cell)
    n_rows, n_cols = values.shape
    cells = np.arange(values.size).reshape(values.shape)
    lines = []
    if row_totals_shown:
        lines += [cells[i, :] for i in range(n_rows)]
    if column_totals_shown:
        lines += [cells[:, j] for j in range(n_cols)]
    hidden = suppress_lines(values.ravel(), lines, min_cell).reshape(values.shape)
    texts = [
        _texts(values[i, :], small[i, :], hidden[i, :], min_cell) for i in range(values.shape[0])
    ]
    return pd.DataFrame(texts, index=counts.index, columns=counts.columns, dtype=object)

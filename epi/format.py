"""The one number formatter of everything epi prints (report, tables, command output).

Rules: a missing or non-finite value is ``–``; negative numbers carry the
typographic minus ``−`` (U+2212); ``digits`` decimals, but a non-zero value
that would round to zero keeps two significant digits, so a difference of
−0.0004 is never printed as ``+0.000``; a ``+`` sign only where the number is
a difference (``signed=True``); counts with thousands separators.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["MINUS", "MISSING", "fmt_count", "fmt_diff", "fmt_measure", "fmt_num", "fmt_p"]

MINUS = "\u2212"
MISSING = "\u2013"


def _finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def fmt_num(value: Any, digits: int = 3, *, signed: bool = False) -> str:
    """A number with ``digits`` decimals (more for tiny non-zero values); ``–`` if missing.

    Examples
    --------
    >>> fmt_num(0.6391), fmt_num(-0.002), fmt_num(-0.0004), fmt_num(None)
    ('0.639', '−0.002', '−0.00040', '–')
    >>> fmt_num(0.0071, signed=True), fmt_num(0.0, signed=True)
    ('+0.007', '0.000')
    """
    x = _finite(value)
    if x is None:
        return MISSING
    decimals = digits
    if x != 0 and round(x, digits) == 0:
        # two significant digits instead of a misleading 0.000
        decimals = max(digits, 1 - math.floor(math.log10(abs(x))))
    text = f"{abs(x):.{decimals}f}"
    if float(text) == 0:
        return text
    if x < 0:
        return MINUS + text
    return ("+" + text) if signed else text


def fmt_diff(value: Any, digits: int = 3) -> str:
    """A difference between two arms or models: always signed (``+0.007``, ``−0.002``)."""
    return fmt_num(value, digits, signed=True)


def fmt_measure(m: Any, digits: int = 3, *, signed: bool = False) -> str:
    """``estimate (lower to upper)`` of a bundle Estimate, a bare number, or ``–``.

    The interval is shown only when both limits are known.
    """
    if isinstance(m, Mapping):
        est = fmt_num(m.get("estimate"), digits, signed=signed)
        lo, hi = _finite(m.get("lower")), _finite(m.get("upper"))
        if est != MISSING and lo is not None and hi is not None:
            return (
                f"{est} ({fmt_num(lo, digits, signed=signed)} to "
                f"{fmt_num(hi, digits, signed=signed)})"
            )
        return est
    return fmt_num(m, digits, signed=signed)


def fmt_p(value: Any) -> str:
    """A p-value: ``<0.001`` below 0.001, else three decimals; ``–`` if missing."""
    x = _finite(value)
    if x is None:
        return MISSING
    return "<0.001" if x < 0.001 else f"{x:.3f}"


def fmt_count(value: Any) -> str:
    """A count with thousands separators (``3,496``); text (a masked ``<5``) as it is."""
    if isinstance(value, str):
        return value
    x = _finite(value)
    if x is None:
        return MISSING
    return f"{round(x):,}"

"""Added value of cross-sector data: the comparison of feature-set arms."""

from __future__ import annotations

from typing import Any

from epi.report._markdown import not_performed
from epi.report.sections._shared import Sections


def added_value(s: Sections) -> None:
    """The added-value part (the typed bundle guarantees compare_arms' shape)."""
    result = s.bundle.get("added_value")
    if result is None:
        why = (
            s.absent("added_value") + " (the added-value analysis has not run)"
            if s.bundle.section("comparisons")
            else "no comparison of arms is registered in the protocol"
        )
        s.part("added_value", not_performed("Added value of cross-sector data", why))
        return
    _comparison(s, result)


def _comparison(s: Sections, result: dict[str, Any]) -> None:
    """The comparison of arms: wording, tables and forest plot from epi.validation.comparison."""
    from epi.validation.comparison import added_value_text, forest_figure

    figure = s.figure(
        "added_value_forest",
        lambda: forest_figure(result),
        "Differences between each extended arm and the reference arm (optimism-corrected, "
        "with paired-bootstrap intervals).",
        "Forest plot: for each extended feature-set arm, the difference from the reference "
        "arm in C indices, AUC, Brier score and IPA with intervals; a vertical line marks no "
        "difference.",
    )
    s.part("added_value", added_value_text(result, heading=False) + "\n\n" + figure)

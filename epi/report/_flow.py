"""Participant flow from the attrition log, safe for small counts.

A flow diagram shows the persons remaining after each step and the persons
excluded by it. Any exclusion count is the difference of two remaining
counts, so masking a small exclusion alone would not hide it: instead, steps
that exclude fewer than ``min_cell`` persons are merged with the next step
(or the previous one at the end) until every shown exclusion holds at least
``min_cell`` persons, and remaining counts are shown only between merged steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from epi.disclosure import mask_count
from epi.exceptions import ReportError

__all__ = ["FlowBox", "flow_boxes"]


@dataclass(frozen=True)
class FlowBox:
    """One box of the flow diagram: ``kind`` is ``remaining`` or ``excluded``."""

    kind: str
    text: str
    n: str
    note: str = ""


def _count(step: dict[str, Any], key: str, i: int) -> int:
    value = step.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ReportError(
            f"cohort/attrition.json: steps[{i}].{key} must be a non-negative count; got {value!r}."
        )
    return int(value)


def flow_boxes(
    steps: list[dict[str, Any]], min_cell: int, final_note: str | None = None
) -> list[FlowBox]:
    """Boxes of the participant flow diagram, with small exclusions merged.

    Parameters
    ----------
    steps : list of dict
        ``cohort/attrition.json`` steps: ``{step, description, persons}``; the
        first is the source population, each later one a restriction.
    min_cell : int
        The minimum cell size.
    final_note : str, optional
        Extra text for the last box (for example the masked outcome count).

    Returns
    -------
    list of FlowBox
        Alternating ``remaining`` and ``excluded`` boxes, starting and ending
        with ``remaining``. Every exclusion shown holds 0 or at least
        ``min_cell`` persons unless the whole flow excludes fewer, in which
        case the source count is not shown exactly.
    """
    if not steps:
        raise ReportError("cohort/attrition.json: 'steps' is empty; rerun the cohort stage.")
    persons = [_count(s, "persons", i) for i, s in enumerate(steps)]
    for i in range(1, len(persons)):
        if persons[i] > persons[i - 1]:
            raise ReportError(
                f"cohort/attrition.json: steps[{i}] ({steps[i].get('step')}) has more persons "
                f"({persons[i]}) than the step before ({persons[i - 1]}); the log is inconsistent."
            )
    groups: list[list[int]] = []
    current: list[int] = []
    for i in range(1, len(steps)):
        current.append(i)
        excluded = persons[current[0] - 1] - persons[current[-1]]
        if (excluded == 0 and len(current) == 1) or excluded >= min_cell:
            groups.append(current)
            current = []
    if current:
        if groups:
            groups[-1].extend(current)
        else:
            groups.append(current)
    boxes = []
    first = steps[0].get("description") or steps[0].get("step") or "Source population"
    total_excluded = persons[0] - persons[-1]
    if 0 < total_excluded < min_cell:
        start_n = f"{mask_count(persons[-1], min_cell)} + <{min_cell}"
    else:
        start_n = mask_count(persons[0], min_cell)
    first = str(first)
    boxes.append(FlowBox("remaining", first[:1].upper() + first[1:], start_n))
    for g, group in enumerate(groups):
        excluded = persons[group[0] - 1] - persons[group[-1]]
        reasons = [str(steps[i].get("description") or steps[i].get("step")) for i in group]
        if len(group) > 1:
            text = "Excluded by restrictions (combined to protect small counts): " + "; ".join(
                reasons
            )
        else:
            text = f"Excluded by restriction: {reasons[0]}"
        boxes.append(FlowBox("excluded", text, mask_count(excluded, min_cell)))
        last = g == len(groups) - 1
        label = "Study cohort" if last else "Remaining"
        note = (final_note or "") if last else ""
        boxes.append(FlowBox("remaining", label, mask_count(persons[group[-1]], min_cell), note))
    return boxes

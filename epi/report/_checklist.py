"""The TRIPOD+AI checklist as data, resolved against one run's bundle."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from epi.exceptions import ReportError

__all__ = ["ChecklistItem", "load_checklist", "resolve_checklist"]

_KEYS = {"id", "part", "topic", "text", "where", "author", "na", "na_for", "requires", "absent"}


@dataclass(frozen=True)
class ChecklistItem:
    """One TRIPOD+AI item and how this run's report answers it.

    Attributes
    ----------
    id, part, topic, text : str
        Item number (``"12d"``), checklist part, topic and a paraphrase.
    status : str
        ``reported``, ``author`` (a marked place for the authors),
        ``not applicable`` or ``not performed``.
    section : str or None
        The report section id answering it (``sec-...``).
    reason : str or None
        Why the item is not applicable or not performed.
    """

    id: str
    part: str
    topic: str
    text: str
    status: str
    section: str | None
    reason: str | None


def load_checklist() -> list[dict[str, Any]]:
    """The raw checklist entries of ``tripod_ai.yaml``, checked for shape.

    Raises
    ------
    ReportError
        If an entry has unknown keys, or not exactly one of ``where``,
        ``author`` and ``na``.
    """
    text = resources.files("epi.report").joinpath("tripod_ai.yaml").read_text(encoding="utf-8")
    items = yaml.safe_load(text)["items"]
    seen = set()
    for i, item in enumerate(items):
        unknown = set(item) - _KEYS
        if unknown:
            raise ReportError(
                f"tripod_ai.yaml: items[{i}] has unknown key(s) {sorted(unknown)}; "
                f"allowed: {sorted(_KEYS)}."
            )
        modes = [k for k in ("where", "author", "na") if item.get(k)]
        if item.get("na_for") and modes == ["author", "na"]:
            modes = ["na"]  # not applicable for those sources, the authors' otherwise
        if len(modes) != 1:
            raise ReportError(
                f"tripod_ai.yaml: item {item.get('id')!r} needs exactly one of where, author, na; "
                f"has {modes or 'none'}."
            )
        if item["id"] in seen:
            raise ReportError(f"tripod_ai.yaml: item {item['id']!r} appears twice.")
        seen.add(item["id"])
    return items


def resolve_checklist(present: dict[str, bool], source: str = "synthetic") -> list[ChecklistItem]:
    """Resolve every item against the bundle files present in a run and its data source.

    Parameters
    ----------
    present : dict
        Bundle file name (``epi.report._bundle.OPTIONAL_FILES``) → whether the
        run holds it.
    source : str
        The protocol's data source. An item that is not applicable to register
        data (``na_for``) is the authors' to report for an analysis table.
    """
    out = []
    for item in load_checklist():
        missing = [name for name in item.get("requires", []) if not present.get(name)]
        common = {k: str(item[k]) for k in ("id", "part", "topic", "text")}
        if item.get("na") and source in item.get("na_for", [source]):
            out.append(ChecklistItem(**common, status="not applicable", section=None,
                                     reason=item["na"]))  # fmt: skip
        elif missing:
            out.append(ChecklistItem(**common, status="not performed", section=item["where"],
                                     reason=item.get("absent") or f"{missing} absent"))  # fmt: skip
        elif item.get("author"):
            out.append(ChecklistItem(**common, status="author", section=item["author"],
                                     reason=None))  # fmt: skip
        else:
            out.append(ChecklistItem(**common, status="reported", section=item["where"],
                                     reason=None))  # fmt: skip
    return out

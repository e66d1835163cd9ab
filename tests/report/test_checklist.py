"""The TRIPOD+AI checklist: every item and sub-item mapped to a report section or a reason."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from epi.exceptions import ReportError
from epi.report import load_checklist, resolve_checklist
from epi.report._build import templates_dir
from epi.report._bundle import OPTIONAL_FILES

# TRIPOD+AI (Collins et al., BMJ 2024;385:e078378): 27 items, with sub-items.
TRIPOD_AI = [
    "1", "2", "3a", "3b", "3c", "4", "5a", "5b", "6a", "6b", "6c", "7", "8a", "8b", "8c",
    "9a", "9b", "9c", "10", "11", "12a", "12b", "12c", "12d", "12e", "12f", "12g", "13", "14",
    "15", "16", "17", "18a", "18b", "18c", "18d", "18e", "18f", "19", "20a", "20b", "20c", "21",
    "22", "23a", "23b", "24", "25", "26", "27a", "27b", "27c",
]  # fmt: skip


def _template_ids() -> set[str]:
    ids = set()
    for path in templates_dir().glob("*.qmd"):
        ids |= set(re.findall(r"\{#(sec-[\w-]+)", path.read_text(encoding="utf-8")))
    return ids


def test_every_item_is_in_the_checklist_once_and_in_order() -> None:
    assert [item["id"] for item in load_checklist()] == TRIPOD_AI
    assert len({re.match(r"\d+", i).group(0) for i in TRIPOD_AI}) == 27  # type: ignore[union-attr]


@pytest.mark.parametrize("present", [False, True], ids=["empty bundle", "full bundle"])
def test_every_item_is_mapped_to_a_section_or_a_reason(present: bool) -> None:
    ids = _template_ids()
    items = resolve_checklist({name: present for name in OPTIONAL_FILES})
    assert [i.id for i in items] == TRIPOD_AI
    for item in items:
        assert item.status in ("reported", "author", "not applicable", "not performed"), item
        if item.status in ("reported", "author"):
            assert item.section == "sec-title" or item.section in ids, (
                f"item {item.id} points to {item.section}, which no template defines"
            )
        else:
            assert item.reason and len(item.reason) > 20, f"item {item.id} needs a reason"


def test_absent_analyses_mark_their_items_not_performed() -> None:
    items = {i.id: i for i in resolve_checklist({"performance": True})}
    assert items["12d"].status == items["23b"].status == "not performed"
    assert "no hierarchical model" in str(items["12d"].reason)
    assert items["23a"].status == "reported"
    assert items["10"].status == "not performed"  # sample_size.json absent


def test_a_malformed_checklist_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import epi.report._checklist as checklist

    bad = tmp_path / "tripod_ai.yaml"
    item = {"id": "1", "part": "Title", "topic": "Title", "text": "x", "where": "s", "na": "y"}
    bad.write_text(yaml.safe_dump({"items": [item]}))

    class Files:
        def joinpath(self, name: str) -> Path:
            return bad

    monkeypatch.setattr(checklist.resources, "files", lambda _pkg: Files())
    with pytest.raises(ReportError, match="needs exactly one of where, author, na"):
        load_checklist()

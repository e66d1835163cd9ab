"""The Danish pack on hand-written clinical sentences (exact mentions and context)."""

from __future__ import annotations

import pytest

from epi.nlp._pipeline import process_text
from tests.nlp.cases_da import CASES, VALUES

_FLAGS = {"neg", "unc", "hyp", "hist", "fam", "oth"}


def _describe(text: str) -> list[tuple[str, str, str]]:
    out = []
    for m in process_text(text, "da"):
        flags = []
        if m.negated:
            flags.append("neg")
        if m.uncertain:
            flags.append("unc")
        if m.hypothetical:
            flags.append("hyp")
        if m.historical:
            flags.append("hist")
        if m.experiencer == "family":
            flags.append("fam")
        if m.experiencer == "other":
            flags.append("oth")
        out.append((text[m.start : m.end], m.concept, " ".join(flags)))
    return out


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_sentence(text: str, expected: list[tuple[str, str, str]]) -> None:
    for _, _, flags in expected:
        assert set(flags.split()) <= _FLAGS
    assert _describe(text) == expected


@pytest.mark.parametrize(("text", "value"), sorted(VALUES.items()))
def test_measurement_values(text: str, value: str) -> None:
    (mention,) = process_text(text, "da")
    assert mention.value == value


def test_sections_set_context() -> None:
    text = (
        "Familieanamnese:\nMor med hjertesvigt.\n"
        "Objektivt:\nHævede ben.\n"
        "Tidligere sygdomme:\nFald 2019.\n"
        "Plan:\nKontrol om 3 mdr."
    )
    got = [
        (text[m.start : m.end], m.section, m.experiencer, m.historical)
        for m in process_text(text, "da")
    ]
    assert got == [
        ("hjertesvigt", "familieanamnese", "family", False),
        ("Hævede ben", "objektivt", "patient", False),
        ("Fald", "tidligere", "patient", True),
    ]


def test_unknown_heading_ends_a_family_section() -> None:
    text = "Dispositioner: Mor med hjertesvigt.\nForløb: Pt. har åndenød.\nBT: 120/80"
    got = [(m.concept, m.section, m.experiencer) for m in process_text(text, "da")]
    assert got == [
        ("heart_failure", "familieanamnese", "family"),
        ("dyspnoea", "", "patient"),
        ("blood_pressure", "", "patient"),
    ]


def test_unknown_heading_keeps_a_plain_section() -> None:
    text = "Objektivt:\nBT: 120/80\nHævede ben."
    got = [(m.concept, m.section) for m in process_text(text, "da")]
    assert got == [("blood_pressure", "objektivt"), ("oedema", "objektivt")]


def test_fsiii_heading_is_a_section() -> None:
    text = "Respiration og cirkulation:\nBorgeren har åndenød ved forflytning."
    (m,) = process_text(text, "da")
    assert (m.concept, m.section) == ("dyspnoea", "fsiii_helbred")

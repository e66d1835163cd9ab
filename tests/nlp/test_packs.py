"""Rule packs are data: validated, closed vocabularies, clear errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from epi.exceptions import RuleError
from epi.nlp import load_pack
from epi.nlp._pipeline import process_text

REQUIRED_DA = [
    "dyspnoea",
    "oedema",
    "fatigue",
    "dizziness",
    "fall",
    "weight_loss",
    "confusion",
    "chest_pain",
    "cough",
    "reduced_appetite",
    "loneliness",
    "heart_failure",
    "ejection_fraction",
    "blood_pressure",
]


def test_da_pack_has_required_concepts() -> None:
    names = load_pack("da").concept_names
    assert set(REQUIRED_DA) <= set(names)


def test_en_pack_has_same_concepts() -> None:
    assert set(REQUIRED_DA) <= set(load_pack("en").concept_names)


def _copy_pack(tmp_path: Path) -> Path:
    src = Path(load_pack("da").meta.name)  # name only; locate the folder via the package
    import epi.nlp

    folder = Path(epi.nlp.__file__).parent / "packs" / str(src)
    dst = tmp_path / "pack"
    shutil.copytree(folder, dst)
    return dst


@pytest.mark.parametrize(
    ("file", "append", "message"),
    [
        (
            "concepts.yaml",
            "  - {concept: x, literals: [y], colour: red}\n",
            r"unknown key 'colour' at concepts\.\d+\.colour; allowed keys: compound, concept, "
            r"fuzzy, literals, pattern, type",
        ),
        (
            "context.yaml",
            "  - {literal: ingen, category: negated, direction: forward, scope: 3}\n",
            r"unknown key 'scope' at context\.\d+\.scope; allowed keys: allowed_types, category, "
            r"direction, excluded_types, literal, max_scope, pattern",
        ),
        (
            "context.yaml",
            "  - {literal: ingen, category: negation, direction: forward}\n",
            r"context\.\d+\.category: Input should be 'negated', 'uncertain'",
        ),
        (
            "concepts.yaml",
            "  - {concept: x, pattern: [{regex: '(unclosed'}]}\n",
            r"concepts\.\d+\.pattern\.0: Value error, bad regex '\(unclosed'",
        ),
        (
            "concepts.yaml",
            "  - {concept: x, pattern: [{lemma: a, shape: dd}]}\n",
            r"unknown key 'shape' at concepts\.\d+\.pattern\.0\.shape; allowed keys: lemma, lower, "
            r"op, regex, value",
        ),
        (
            "sections.yaml",
            "  - {section: x, literals: [y], sets: {experiencer: cousin}}\n",
            r"sections\.\d+\.sets\.experiencer: Input should be 'patient', 'family' or 'other'",
        ),
        (
            "concepts.yaml",
            "  - {concept: x}\n",
            r"give exactly one of 'literals' \(non-empty\) or 'pattern'",
        ),
    ],
)
def test_bad_rule_files(tmp_path: Path, file: str, append: str, message: str) -> None:
    folder = _copy_pack(tmp_path)
    with (folder / file).open("a", encoding="utf-8") as fh:
        fh.write(append)
    with pytest.raises(RuleError, match=message):
        load_pack(folder)


def test_bad_yaml(tmp_path: Path) -> None:
    folder = _copy_pack(tmp_path)
    (folder / "sections.yaml").write_text("sections: [\n", encoding="utf-8")
    with pytest.raises(RuleError, match=r"sections\.yaml: not valid YAML"):
        load_pack(folder)


def test_missing_pack_file(tmp_path: Path) -> None:
    folder = _copy_pack(tmp_path)
    (folder / "context.yaml").unlink()
    with pytest.raises(RuleError, match=r"lacks context\.yaml; add the file"):
        load_pack(folder)


def test_unknown_pack_name() -> None:
    with pytest.raises(
        RuleError, match=r"rule pack 'xx' not found; use a built-in pack \(da, en\)"
    ):
        load_pack("xx")


def test_custom_pack_folder_is_used(tmp_path: Path) -> None:
    folder = _copy_pack(tmp_path)
    with (folder / "concepts.yaml").open("a", encoding="utf-8") as fh:
        fh.write("  - {concept: nausea, type: symptom, literals: [kvalme]}\n")
    mentions = process_text("Ingen kvalme.", str(folder))
    assert [(m.concept, m.negated) for m in mentions] == [("nausea", True)]


def test_unknown_top_level_key(tmp_path: Path) -> None:
    folder = _copy_pack(tmp_path)
    with (folder / "sections.yaml").open("a", encoding="utf-8") as fh:
        fh.write("headings: []\n")
    with pytest.raises(
        RuleError, match=r"unknown key 'headings' at headings; allowed keys: sections"
    ):
        load_pack(folder)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Patient denies chest pain.", [("chest pain", "chest_pain", True, False, "patient")]),
        ("History of heart failure.", [("heart failure", "heart_failure", False, True, "patient")]),
        ("Mother had CHF.", [("CHF", "heart_failure", False, False, "family")]),
        (
            "No edema but has cough.",
            [
                ("edema", "oedema", True, False, "patient"),
                ("cough", "cough", False, False, "patient"),
            ],
        ),
    ],
)
def test_english_pack(text: str, expected: list[tuple[str, str, bool, bool, str]]) -> None:
    got = [
        (text[m.start : m.end], m.concept, m.negated, m.historical, m.experiencer)
        for m in process_text(text, "en")
    ]
    assert got == expected

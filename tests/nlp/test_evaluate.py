"""evaluate / sample / agreement and the `epi nlp` commands."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from epi.exceptions import NLPError
from epi.nlp import agreement, evaluate, evaluate_predictions, read_gold, sample
from epi.nlp._cli import add_commands


def _m(start, end, concept, **kw):
    base = {
        "negated": False,
        "uncertain": False,
        "hypothetical": False,
        "historical": False,
        "experiencer": "patient",
    }
    base.update(kw)
    return {"start": start, "end": end, "concept": concept, **base}


def _write(path: Path, notes: list[dict]) -> Path:
    path.write_text(
        "".join(json.dumps(n, ensure_ascii=False) + "\n" for n in notes), encoding="utf-8"
    )
    return path


def _line(**extra: object) -> str:
    mention = {"start": 0, "end": 1, "concept": "c", **extra}
    return json.dumps({"id": "x", "text": "t", "mentions": [mention]})


GOLD = [
    # "Ingen ødemer. Mor havde hjertesvigt."
    {
        "id": "a",
        "sector": "gp",
        "text": "Ingen ødemer. Mor havde hjertesvigt.",
        "mentions": [
            _m(6, 12, "oedema", negated=True),
            _m(24, 35, "heart_failure", experiencer="family"),
        ],
    },
    # system misses nothing here but gold says uncertain where system says affirmed
    {
        "id": "b",
        "sector": "hospital",
        "text": "Pt. har åndenød og hoste.",
        "mentions": [_m(8, 15, "dyspnoea", uncertain=True), _m(19, 24, "cough")],
    },
    # gold has a mention the system cannot find
    {
        "id": "c",
        "sector": "hospital",
        "text": "Pt. er meget stakåndet-agtig.",
        "mentions": [_m(13, 28, "dizziness")],
    },
]


def test_evaluate_predictions_counts() -> None:
    gold = GOLD
    predicted = {
        "a": [_m(6, 12, "oedema", negated=True), _m(24, 35, "heart_failure", experiencer="family")],
        "b": [_m(8, 15, "dyspnoea"), _m(19, 24, "cough"), _m(0, 3, "fatigue")],
        "c": [_m(0, 2, "weight")],  # concept never annotated: not scored
    }
    res, errors = evaluate_predictions(gold, predicted)
    assert res["concept_micro"]["tp"] == 4
    assert res["concept_micro"]["fp"] == 0  # fatigue/weight are not annotated concepts
    assert res["concept_micro"]["fn"] == 1
    assert res["concept_micro"]["recall"] == pytest.approx(0.8)
    assert res["unannotated_predictions"] == {"fatigue": 1, "weight": 1}
    assert res["attributes"]["negated"]["f1"] == 1.0
    assert res["attributes"]["uncertain"]["confusion"] == {
        "gold_true_pred_true": 0,
        "gold_true_pred_false": 1,
        "gold_false_pred_true": 0,
        "gold_false_pred_false": 3,
    }
    assert res["attributes"]["family"]["tp"] == 1
    assert res["experiencer_confusion"] == {"family->family": 1, "patient->patient": 3}
    assert set(res["by_sector"]) == {"gp", "hospital"}
    assert res["by_sector"]["gp"]["concept_micro"]["f1"] == 1.0
    assert res["by_sector"]["hospital"]["concept_micro"]["fn"] == 1
    kinds = sorted((e["kind"], e["concept"]) for e in errors)
    assert kinds == [("attribute", "dyspnoea"), ("missed", "dizziness")]


def test_evaluate_writes_files_and_keeps_text_off_stdout(tmp_path: Path, capsys) -> None:
    gold = _write(tmp_path / "gold.jsonl", GOLD)
    out = tmp_path / "out"
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="cmd"))
    args = parser.parse_args(["nlp", "evaluate", str(gold), "--out", str(out)])
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    for note in GOLD:
        assert note["text"] not in printed
    assert "ødemer" not in printed and "stakåndet" not in printed
    res = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    assert res["concept_micro"]["tp"] == 4
    assert res["concept_micro"]["fn"] == 1
    md = (out / "evaluation.md").read_text(encoding="utf-8")
    assert "| **all (micro)** | 4 | 0 | 1 |" in md
    assert "## Sector: hospital" in md
    errors = [
        json.loads(x) for x in (out / "errors.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert {e["kind"] for e in errors} == {"attribute", "missed"}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", r"line 1: not valid JSON"),
        (
            '{"id": "x", "text": "t", "mentions": [], "extra": 1}',
            r"line 1: unknown key\(s\) \['extra'\]",
        ),
        ('{"id": "x", "mentions": []}', r"line 1: missing key 'text'"),
        (
            _line(negation=True),
            r"line 1: mentions\[0\]: unknown key\(s\) \['negation'\]",
        ),
        (
            '{"id": "x", "text": "t", "mentions": [{"start": 3, "end": 1, "concept": "c"}]}',
            r"start/end must be integers with 0 <= start < end",
        ),
        (
            _line(experiencer="mother"),
            r"experiencer must be one of \['patient', 'family', 'other'\], got 'mother'",
        ),
        (
            _line(negated="yes"),
            r"'negated' must be true or false",
        ),
    ],
)
def test_bad_gold(tmp_path: Path, line: str, message: str) -> None:
    p = tmp_path / "g.jsonl"
    p.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(NLPError, match=message):
        read_gold(p)


def test_bad_gold_utf8_and_duplicates(tmp_path: Path) -> None:
    p = tmp_path / "g.jsonl"
    p.write_bytes(b'{"id": "x", "text": "\xff"}\n')
    with pytest.raises(NLPError, match="line 1: not valid UTF-8"):
        read_gold(p)
    _write(p, [{"id": "x", "text": "a"}, {"id": "x", "text": "b"}])
    with pytest.raises(NLPError, match=r"line 2: duplicated id 'x'"):
        read_gold(p)


def test_agreement(tmp_path: Path) -> None:
    a = _write(
        tmp_path / "a.jsonl",
        [
            {
                "id": "1",
                "text": "x" * 40,
                "mentions": [
                    _m(0, 5, "cough", negated=True),
                    _m(10, 15, "fall"),
                    _m(20, 25, "dyspnoea", negated=True),
                    _m(30, 35, "oedema"),
                ],
            },
        ],
    )
    b = _write(
        tmp_path / "b.jsonl",
        [
            {
                "id": "1",
                "text": "x" * 40,
                "mentions": [
                    _m(1, 4, "cough", negated=True),
                    _m(10, 15, "fall"),
                    _m(20, 25, "dyspnoea"),
                    _m(36, 39, "oedema"),
                ],
            },
        ],
    )
    res = agreement(a, b)
    assert res["paired"] == 3
    assert res["span_f1"] == pytest.approx(0.75)
    # negated: pairs (T,T), (F,F), (T,F): po = 2/3, pe = (2*1 + 1*2)/9 = 4/9
    assert res["kappa"]["negated"] == pytest.approx((2 / 3 - 4 / 9) / (1 - 4 / 9))
    assert res["kappa"]["uncertain"] == 1.0


def test_agreement_needs_common_notes(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.jsonl", [{"id": "1", "text": "t"}])
    b = _write(tmp_path / "b.jsonl", [{"id": "2", "text": "t"}])
    with pytest.raises(NLPError, match="share no note ids"):
        agreement(a, b)


def test_sample_stratified(tmp_path: Path) -> None:
    texts = ["Pt. har åndenød.", "Ingen hoste.", "Kontrol.", "Mor havde hjertesvigt."] * 10
    notes = pd.DataFrame(
        {
            "note_id": [f"n{i}" for i in range(40)],
            "person_id": [f"p{i}" for i in range(40)],
            "time": pd.Timestamp("2024-01-01"),
            "sector": [("gp", "hospital")[i % 2] for i in range(40)],
            "note_type": "x",
            "text": texts,
        }
    )
    run = tmp_path / "run"
    run.mkdir()
    con = duckdb.connect(str(run / "store.duckdb"))
    con.register("notes_frame", notes)
    con.execute("CREATE TABLE notes AS SELECT * FROM notes_frame")
    con.close()
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="cmd"))
    args = parser.parse_args(
        ["nlp", "sample", str(run), "--n", "8", "--stratify", "sector,concept"]
    )
    assert args.func(args) == 0
    lines = (run / "nlp" / "annotation_sample.jsonl").read_text(encoding="utf-8").splitlines()
    drawn = [json.loads(x) for x in lines]
    assert len(drawn) == 8
    assert len({d["id"] for d in drawn}) == 8
    # strata: gp/dyspnoea, gp/cough, hospital/none... every stratum gets drawn from
    got = {(d["sector"], d["text"]) for d in drawn}
    assert got == {
        ("gp", "Pt. har åndenød."),
        ("gp", "Kontrol."),
        ("hospital", "Ingen hoste."),
        ("hospital", "Mor havde hjertesvigt."),
    }
    assert all(d["mentions"] == [] for d in drawn)
    again = sample(run, n=8, stratify=("sector", "concept"), out=tmp_path / "again.jsonl")
    assert again.read_text(encoding="utf-8").splitlines() == lines  # seeded
    with pytest.raises(NLPError, match=r"cannot stratify by \['ward'\]"):
        sample(run, n=8, stratify=("ward",))


def test_evaluate_on_own_gold_file(tmp_path: Path) -> None:
    gold = _write(tmp_path / "g.jsonl", GOLD[:1])
    res = evaluate(gold, "da", tmp_path / "o")
    assert res["concept_micro"]["f1"] == 1.0
    assert res["attributes"]["family"]["f1"] == 1.0


def test_agreement_command(tmp_path: Path, capsys) -> None:
    notes = [{"id": "1", "text": "x" * 20, "mentions": [_m(0, 5, "cough", negated=True)]}]
    a = _write(tmp_path / "a.jsonl", notes)
    b = _write(tmp_path / "b.jsonl", notes)
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="cmd"))
    args = parser.parse_args(["nlp", "agreement", str(a), str(b)])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "notes: 1  paired mentions: 1  span F1: 1.000" in out
    assert "kappa negated       1.000" in out

"""extract_mentions and note_variables: table shape, bad input, look-back rules."""

from __future__ import annotations

import pandas as pd
import pytest

from epi.exceptions import NLPError
from epi.nlp import MENTION_COLUMNS, extract_mentions, note_variables


def _notes(texts: list[object], times: list[str] | None = None) -> pd.DataFrame:
    n = len(texts)
    return pd.DataFrame(
        {
            "note_id": [f"n{i}" for i in range(n)],
            "person_id": [f"p{i % 2}" for i in range(n)],
            "time": pd.to_datetime(times or ["2024-01-01"] * n),
            "sector": [("gp", "hospital", "municipal")[i % 3] for i in range(n)],
            "note_type": ["kontakt"] * n,
            "text": texts,
        }
    )


def test_mentions_table() -> None:
    notes = _notes(["Ingen ødemer. BT 145/90.", "Mor havde hjertesvigt."])
    before = notes.copy()
    m = extract_mentions(notes)
    pd.testing.assert_frame_equal(notes, before)  # input not modified
    assert list(m.columns) == list(MENTION_COLUMNS)
    assert m[["note_id", "person_id", "sector", "concept", "start", "end"]].values.tolist() == [
        ["n0", "p0", "gp", "oedema", 6, 12],
        ["n0", "p0", "gp", "blood_pressure", 14, 23],
        ["n1", "p1", "hospital", "heart_failure", 10, 21],
    ]
    assert m["negated"].tolist() == [True, False, False]
    assert m["experiencer"].tolist() == ["patient", "patient", "family"]
    assert m["value"].tolist() == [None, "145/90", None]
    assert m.attrs["nlp_summary"]["processed"] == 2


def test_bad_notes_are_counted_not_fatal() -> None:
    english = "The patient denies chest pain and has no history of heart failure in the family."
    texts = [
        None,
        "",
        "   \n ",
        b"\xff\xfe",
        "\ud800 broken",
        english,
        "Pt. har åndenød.",
        float("nan"),
    ]
    m = extract_mentions(_notes(texts))
    summary = m.attrs["nlp_summary"]
    assert summary["skipped"] == {
        "missing": 2,
        "empty": 2,
        "invalid_utf8": 2,
        "too_long": 0,
        "other_language": 1,
        "failed": 0,
    }
    assert summary["processed"] == 1
    assert m["concept"].tolist() == ["dyspnoea"]


def test_one_megabyte_note() -> None:
    line = "Pt. har åndenød og ingen ødemer ved kontrollen i dag.\n"
    big = line * (1_000_000 // len(line) + 1)
    assert len(big.encode("utf-8")) > 1_000_000
    m = extract_mentions(_notes([big]))
    assert m.attrs["nlp_summary"]["long"] == 1
    assert len(m) == 2 * big.count("\n")
    assert m["negated"].sum() == big.count("\n")


def test_parallel_equals_serial() -> None:
    texts = ["Pt. har åndenød.", "Ingen hoste.", None, "Obs. hjertesvigt.", "Svimmel."] * 4
    serial = extract_mentions(_notes(texts), n_jobs=1, chunk_size=3)
    parallel = extract_mentions(_notes(texts), n_jobs=2, chunk_size=3)
    pd.testing.assert_frame_equal(serial, parallel)
    assert serial.attrs == parallel.attrs


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.drop(columns="text"), r"notes table lacks column\(s\) text"),
        (
            lambda d: d.assign(note_id="same"),
            r"notes table has 2 duplicated note_id value\(s\), first \['same', 'same'\]",
        ),
    ],
)
def test_bad_notes_table(mutate, message: str) -> None:
    with pytest.raises(NLPError, match=message):
        extract_mentions(mutate(_notes(["a", "b", "c"])))


def test_note_variables_lookback_and_affirmation() -> None:
    texts = [
        "Pt. har åndenød.",  # p0, 10 days before index: counts
        "Ingen åndenød.",  # p1 negated: not counted
        "Åndenød igen.",  # p0, on the index date: excluded
        "Mor havde åndenød.",  # p1 family: not counted
        "Åndenød.",  # p0, 400 days before: outside look-back
        "Hoste og åndenød.",  # p1, 30 days before: counts
    ]
    times = ["2024-03-22", "2024-03-01", "2024-04-01", "2024-03-01", "2023-02-26", "2024-03-02"]
    m = extract_mentions(_notes(texts, times))
    index = pd.Series(
        pd.to_datetime(["2024-04-01", "2024-04-01", "2024-04-01"]), index=["p0", "p1", "p2"]
    )
    v = note_variables(m, index, lookback_days=365, concepts=["dyspnoea", "cough"])
    assert list(v.columns) == [
        "note__dyspnoea_any",
        "note__dyspnoea_count",
        "note__dyspnoea_days_since_last",
        "note__cough_any",
        "note__cough_count",
        "note__cough_days_since_last",
    ]
    assert v.index.tolist() == ["p0", "p1", "p2"]
    assert v["note__dyspnoea_count"].tolist() == [1, 1, 0]
    assert v["note__dyspnoea_any"].tolist() == [1, 1, 0]
    assert v["note__dyspnoea_days_since_last"].tolist()[:2] == [10.0, 30.0]
    assert pd.isna(v.loc["p2", "note__dyspnoea_days_since_last"])
    assert v["note__cough_count"].tolist() == [0, 1, 0]


def test_note_variables_default_concepts_and_errors() -> None:
    m = extract_mentions(_notes(["Pt. har åndenød."]))
    index = pd.Series(pd.to_datetime(["2024-02-01"]), index=["p0"])
    v = note_variables(m, index, 30)
    assert "note__loneliness_any" in v.columns
    assert "note__blood_pressure_any" not in v.columns
    with pytest.raises(NLPError, match="lookback_days must be a positive integer, got 0"):
        note_variables(m, index, 0)
    with pytest.raises(NLPError, match=r"mentions table lacks column\(s\) experiencer"):
        note_variables(m.drop(columns="experiencer"), index, 30)


def test_no_notes_gives_empty_typed_table() -> None:
    m = extract_mentions(_notes([]))
    assert list(m.columns) == list(MENTION_COLUMNS)
    assert len(m) == 0
    assert m["negated"].dtype == bool
    assert m.attrs["nlp_summary"]["notes"] == 0

"""extract_mentions and note_variables: table shape, bad input, look-back rules."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import pytest

import epi.nlp._engine
import epi.nlp._extract
import epi.nlp._pipeline
from epi.exceptions import NLPError
from epi.nlp import MENTION_COLUMNS, extract_mentions, load_pack, note_variables


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


# --- notes whose processing raises: counted and named below a share, fatal above


class _BrokenRegex:
    """A rule's value regex that raises on one value, quoting it as real bugs do."""

    def __init__(self, regex: re.Pattern[str], bad: str) -> None:
        self.regex, self.bad = regex, bad

    def fullmatch(self, text: str) -> Any:
        if text == self.bad:
            raise ValueError(f"unreadable weight {text!r}")
        return self.regex.fullmatch(text)


@contextmanager
def _broken_weight_rule(bad: str = "473") -> Iterator[None]:
    """Make the ``weight`` concept's pattern raise on notes with the value ``bad``."""
    matcher = load_pack("da").concept_matcher  # the pack the cached pipeline uses
    saved = matcher.patterns
    matcher.patterns = [
        (
            tuple(
                dataclasses.replace(t, regex=_BrokenRegex(t.regex, bad)) if t.regex else t
                for t in toks
            )
            if target.name == "weight"
            else toks,
            target,
        )
        for toks, target in saved
    ]
    try:
        yield
    finally:
        matcher.patterns = saved


_REAL_RUN_CHUNK = epi.nlp._extract._run_chunk


def _run_chunk_with_broken_rule(args: Any) -> Any:
    """``_run_chunk`` with the broken weight rule, in whatever process runs it."""
    with _broken_weight_rule():
        return _REAL_RUN_CHUNK(args)


BAD_NOTE = "Vægt 473 kg. Pårørende: Kragelund."  # the rule fails here
GOOD_NOTE = "Vægt 80 kg. Pt. har åndenød."


def _many(n: int, bad: set[int]) -> pd.DataFrame:
    return _notes([BAD_NOTE if i in bad else GOOD_NOTE for i in range(n)])


def test_rule_failing_on_every_note_stops_the_run_naming_rule_and_note() -> None:
    with _broken_weight_rule(), pytest.raises(NLPError) as info:
        extract_mentions(_notes([BAD_NOTE] * 3))
    message = str(info.value)
    assert message.startswith(
        "NLP failed on 3 of 3 notes (100 %, above the protocol's notes.max_failure_share 0.1 %); "
        "first failure: note 'n0', rule 'concept:weight' (ValueError at test_extract.py:"
    )
    assert "Fix the rule pack" in message
    for text in ("Kragelund", "473", "unreadable", "Vægt"):  # nothing of the note or its error
        assert text not in message


def test_failing_rule_stops_after_the_first_chunk_over_the_share() -> None:
    with _broken_weight_rule(), pytest.raises(NLPError) as info:
        extract_mentions(_notes([BAD_NOTE] * 6), chunk_size=2)
    assert str(info.value).startswith(
        "NLP failed on 2 of the first 2 of 6 notes, already 33.3 % of all notes, above the "
        "allowed share 0.1 % (the protocol's notes.max_failure_share); the run stopped there; "
        "first failure: note 'n0', rule 'concept:weight'"
    )


def test_one_failed_note_in_2000_is_counted_and_named() -> None:
    with _broken_weight_rule():
        m = extract_mentions(_many(2000, {1234}))
    summary = m.attrs["nlp_summary"]
    assert summary["skipped"]["failed"] == 1
    assert summary["processed"] == 1999
    assert summary["failures"] == [
        {"note_id": "n1234", "rule": "concept:weight", "error": "ValueError"}
    ]
    assert "n1234" not in set(m["note_id"])
    assert (m["concept"] == "weight").sum() == 1999


def test_one_failed_note_in_2000_is_fatal_at_share_zero() -> None:
    with (
        _broken_weight_rule(),
        pytest.raises(
            NLPError,
            match=r"NLP failed on 1 of 2,000 notes \(0\.05 %, above the protocol's "
            r"notes\.max_failure_share 0 %\); first failure: note 'n1234', rule 'concept:weight'",
        ),
    ):
        extract_mentions(_many(2000, {1234}), max_failure_share=0)


def test_parallel_keeps_the_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    # the broken rule is set up inside each worker, whatever the start method
    monkeypatch.setattr(epi.nlp._extract, "_run_chunk", _run_chunk_with_broken_rule)
    notes = _many(2000, {20, 1500, 1501})
    m = extract_mentions(notes, n_jobs=2, chunk_size=500, max_failure_share=0.01)
    summary = m.attrs["nlp_summary"]
    assert summary["skipped"]["failed"] == 3
    assert [f["note_id"] for f in summary["failures"]] == ["n20", "n1500", "n1501"]
    assert {f["rule"] for f in summary["failures"]} == {"concept:weight"}
    with pytest.raises(NLPError, match=r"NLP failed on 3 of 2,000 notes .* note 'n20', rule "):
        extract_mentions(notes, n_jobs=2, chunk_size=500, max_failure_share=0.001)


def test_failures_listed_are_at_most_five() -> None:
    with _broken_weight_rule():
        m = extract_mentions(_many(20, set(range(0, 20, 2))), max_failure_share=0.5)
    summary = m.attrs["nlp_summary"]
    assert summary["skipped"]["failed"] == 10
    assert [f["note_id"] for f in summary["failures"]] == ["n0", "n2", "n4", "n6", "n8"]


def _raise(*args: object, **kwargs: object) -> None:
    raise KeyError("Kragelund")


@pytest.mark.parametrize(
    ("module", "name", "where"),
    [
        (epi.nlp._engine, "find_sections", "sections"),
        (epi.nlp._pipeline, "split_sentences", "processor:tokenize"),
        (epi.nlp._pipeline, "annotate", "processor:noterules"),
    ],
    ids=["rule engine stage", "tokenizer", "rules processor"],
)
def test_failure_without_a_rule_names_the_stage(
    monkeypatch: pytest.MonkeyPatch, module: Any, name: str, where: str
) -> None:
    monkeypatch.setattr(module, name, _raise)
    with pytest.raises(NLPError, match=rf"rule '{re.escape(where)}' \(KeyError at ") as info:
        extract_mentions(_notes([BAD_NOTE]))
    assert "Kragelund" not in str(info.value)


def test_max_failure_share_must_be_a_share() -> None:
    with pytest.raises(NLPError, match=r"max_failure_share must be between 0 and 1, got 1\.5"):
        extract_mentions(_notes(["Vægt 80 kg."]), max_failure_share=1.5)

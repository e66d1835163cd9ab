"""Notes in, mention table and per-person note variables out.

Bad notes (missing, empty, undecodable, too long, another language) never stop
a run: each is counted under a reason in the summary
(``mentions.attrs["nlp_summary"]``) and skipped. A note whose processing
raises (a broken rule, a bug) is counted under ``failed`` and named (note id,
rule or stage, exception type) while such notes stay within a small share;
above it the run stops with an :class:`~epi.exceptions.NLPError`, since a rule
that fails on every note would otherwise give a notes feature set of zeros.
Note text is never logged nor put in a message.
"""

from __future__ import annotations

import gc
import logging
import math
import multiprocessing as mp
import sys
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import pandas as pd

from epi._cores import usable_cores
from epi.exceptions import NLPError
from epi.nlp._rules import failure_rule, load_pack

__all__ = [
    "MENTION_COLUMNS",
    "NOTE_COLUMNS",
    "SKIP_REASONS",
    "extract_mentions",
    "note_variables",
]

#: Columns a notes table must have.
NOTE_COLUMNS = ("note_id", "person_id", "time", "sector", "note_type", "text")
#: Columns of the mentions table, in order.
MENTION_COLUMNS = (
    "note_id",
    "person_id",
    "time",
    "sector",
    "note_type",
    "concept",
    "start",
    "end",
    "section",
    "negated",
    "uncertain",
    "hypothetical",
    "historical",
    "experiencer",
    "value",
)
#: Why a note can be skipped.
SKIP_REASONS = ("missing", "empty", "invalid_utf8", "too_long", "other_language", "failed")

MAX_CHARS = 2_000_000  # notes longer than this are skipped ("too_long")
LONG_CHARS = 100_000  # notes longer than this are processed and counted as "long"
MAX_LISTED_FAILURES = 5  # failed notes named in the summary (note id, rule, error)

_LOG = logging.getLogger("epi.nlp")

# A note whose processing raised, as a worker sends it back: row position,
# rule or stage, exception type name, code location ("_rules.py:312").
# Plain strings only: never the exception's message, which may quote the note.
_Failure = tuple[int, str, str, str]
_ChunkResult = tuple[pd.DataFrame, Counter[str], int, list[_Failure]]


def _clean_text(value: Any) -> tuple[str | None, str | None]:
    """Return (text, skip_reason)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None, "missing"
    if isinstance(value, bytes | bytearray):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return None, "invalid_utf8"
    if not isinstance(value, str):
        return None, "missing"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from a bad decode
        return None, "invalid_utf8"
    if not value.strip():
        return None, "empty"
    if len(value) > MAX_CHARS:
        return None, "too_long"
    return value.replace("\x00", " "), None


def _foreign(text: str, markers: frozenset[str], foreign: frozenset[str]) -> bool:
    """A note that reads as another language: many foreign, few own function words."""
    if not foreign:
        return False
    words = text[:5000].lower().split()
    if len(words) < 8:
        return False
    own = sum(w.strip(".,:;!?()") in markers for w in words)
    other = sum(w.strip(".,:;!?()") in foreign for w in words)
    return other >= 3 and other > 2 * own


def _run_chunk(args: tuple[str, list[tuple[int, Any]]]) -> _ChunkResult:
    """Process notes (row position, text) with one pipeline.

    Returns the mention rows, skip counts, the number of long notes and the
    first :data:`MAX_LISTED_FAILURES` failed notes of the chunk.
    """
    from epi.nlp._pipeline import build_pipeline

    pack_name, items = args
    pack = load_pack(pack_name)
    markers = frozenset(pack.meta.markers)
    foreign = frozenset(pack.meta.foreign_markers)
    nlp = build_pipeline(pack_name)
    rows: list[tuple[Any, ...]] = []
    skipped: Counter[str] = Counter()
    failures: list[_Failure] = []
    # Stanza documents are webs of reference cycles; with the cyclic GC on,
    # every automatic collection rescans all live objects, which makes a long
    # note quadratic. Collect the young generation ourselves, by text volume.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    since_collect = 0
    try:
        for pos, raw in items:
            since_collect += _one_note(nlp, pos, raw, markers, foreign, rows, skipped, failures)
            if since_collect > 5_000_000:
                gc.collect(0)
                since_collect = 0
    finally:
        gc.collect(0)
        if gc_was_enabled:
            gc.enable()
    n_long = skipped.pop("_long", 0)
    return _rows_frame(rows), skipped, n_long, failures


# per-mention fields the matcher produces: the mention columns after the note's own
_ROW_COLUMNS = ["_pos", *MENTION_COLUMNS[MENTION_COLUMNS.index("concept") :]]


def _rows_frame(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """Mention rows as a typed frame (built in the worker: cheaper to send back)."""
    return pd.DataFrame(rows, columns=_ROW_COLUMNS).astype(
        {
            "_pos": "int64",
            "start": "int64",
            "end": "int64",
            "negated": "bool",
            "uncertain": "bool",
            "hypothetical": "bool",
            "historical": "bool",
        }
    )


def _one_note(
    nlp: Any,
    pos: int,
    raw: Any,
    markers: frozenset[str],
    foreign: frozenset[str],
    rows: list[tuple[Any, ...]],
    skipped: Counter[str],
    failures: list[_Failure],
) -> int:
    """Process one note into ``rows``; returns the number of characters processed.

    A note whose processing raises is counted under ``failed`` and, while
    ``failures`` holds fewer than :data:`MAX_LISTED_FAILURES`, recorded there
    by rule or stage, exception type and code location (never the text).
    """
    from stanza.models.common import doc as sdoc

    from epi.nlp._pipeline import dispose

    text, reason = _clean_text(raw)
    if reason is None and text is not None and _foreign(text, markers, foreign):
        reason = "other_language"
    if reason is not None:
        skipped[reason] += 1
        return 0
    assert text is not None
    if len(text) > LONG_CHARS:
        skipped["_long"] += 1
    try:
        doc = nlp(sdoc.Document([], text=text))
        mentions = doc.epi_mentions
        dispose(doc)
    except Exception as exc:  # counted and named here; the caller applies the threshold
        skipped["failed"] += 1
        if len(failures) < MAX_LISTED_FAILURES:
            failures.append(_failure(pos, exc))
        return len(text)
    for m in mentions:
        rows.append(
            (
                pos,
                m.concept,
                m.start,
                m.end,
                m.section,
                m.negated,
                m.uncertain,
                m.hypothetical,
                m.historical,
                m.experiencer,
                m.value,
            )
        )
    return len(text)


def _failure(pos: int, exc: BaseException) -> _Failure:
    """What is kept of a note's failure: position, rule or stage, exception type, location.

    A function of its own so that no frame of the note's processing holds the
    traceback (which would keep the note's text and document alive in a cycle).
    """
    tb = exc.__traceback__
    return pos, _failed_at(tb, exc), type(exc).__name__, _code_location(tb)


def _failed_at(tb: TracebackType | None, exc: BaseException) -> str:
    """The rule or stage that raised ``exc``: its tag, else the Stanza processor, else the pipeline.

    The rule engine tags its exceptions (``concept:<name>``, ``context:...``,
    ``concept matching`` ...; see :func:`epi.nlp._rules.tag_failure`). An
    untagged one is named by the processor Stanza was running, read from
    ``Pipeline.process``'s frame (``processor:tokenize``, ``processor:depparse``).
    """
    rule = failure_rule(exc)
    if rule is not None:
        return rule
    processor = None
    while tb is not None:
        frame = tb.tb_frame
        if (
            frame.f_code.co_name == "process"
            and frame.f_globals.get("__name__") == "stanza.pipeline.core"
        ):
            name = frame.f_locals.get("processor_name")
            if isinstance(name, str):
                processor = name
        tb = tb.tb_next
    return f"processor:{processor}" if processor else "pipeline"


def _code_location(tb: TracebackType | None) -> str:
    """File name and line of the innermost frame of a traceback (``"_rules.py:312"``)."""
    if tb is None:
        return "unknown location"
    while tb.tb_next is not None:
        tb = tb.tb_next
    return f"{Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}"


def _pct(share: float) -> str:
    """A share as a percentage with up to three significant digits (0.001 -> ``"0.1"``)."""
    return f"{share * 100:.3g}"


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value (note ids go into JSON)."""
    return value.item() if isinstance(value, np.generic) else value


def _failure_error(
    failed: int, n_notes: int, done: int, max_failure_share: float, first: _Failure, note_id: Any
) -> NLPError:
    """The error that stops a run whose notes fail above ``max_failure_share``."""
    if done < n_notes:
        head = (
            f"NLP failed on {failed:,} of the first {done:,} of {n_notes:,} notes, already "
            f"{_pct(failed / n_notes)} % of all notes, above the allowed share "
            f"{_pct(max_failure_share)} % (the protocol's notes.max_failure_share); "
            "the run stopped there"
        )
    else:
        head = (
            f"NLP failed on {failed:,} of {n_notes:,} notes ({_pct(failed / n_notes)} %, above "
            f"the protocol's notes.max_failure_share {_pct(max_failure_share)} %)"
        )
    _, rule, error, where = first
    return NLPError(
        f"{head}; first failure: note {note_id!r}, rule {rule!r} ({error} at {where}; "
        "its message is not shown, as it may quote the note). Fix the rule pack (or the "
        "stage named) or raise notes.max_failure_share."
    )


def _chunk_results(
    pack: str, chunks: list[list[tuple[int, Any]]], n_jobs: int
) -> Iterator[_ChunkResult]:
    """Results of :func:`_run_chunk`, in chunk order; closing it cancels chunks not yet started."""
    if n_jobs == 1 or len(chunks) <= 1:
        for c in chunks:
            yield _run_chunk((pack, c))
        return
    # fork is fastest; from Python 3.12 it warns when the parent has
    # threads (torch starts some), so use forkserver there
    methods = mp.get_all_start_methods()
    if "fork" in methods and sys.version_info < (3, 12):
        method = "fork"
    else:
        method = "forkserver" if "forkserver" in methods else "spawn"
    with ProcessPoolExecutor(
        max_workers=min(n_jobs, len(chunks)), mp_context=mp.get_context(method)
    ) as ex:
        futures = [ex.submit(_run_chunk, (pack, c)) for c in chunks]
        try:
            for future in futures:
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def _check_notes(notes: pd.DataFrame) -> None:
    if not isinstance(notes, pd.DataFrame):
        raise NLPError(f"notes must be a pandas DataFrame, got {type(notes).__name__}")
    missing = [c for c in NOTE_COLUMNS if c not in notes.columns]
    if missing:
        raise NLPError(
            f"notes table lacks column(s) {', '.join(missing)}; it needs "
            f"{', '.join(NOTE_COLUMNS)} (text may be None)"
        )
    dup = notes["note_id"].duplicated()
    if dup.any():
        first = notes.loc[dup, "note_id"].astype(str).head(3).tolist()
        raise NLPError(
            f"notes table has {int(dup.sum())} duplicated note_id value(s), first {first}; "
            "note ids must be unique"
        )


def extract_mentions(
    notes: pd.DataFrame,
    pack: str = "da",
    n_jobs: int = 1,
    chunk_size: int = 2000,
    max_failure_share: float = 0.001,
) -> pd.DataFrame:
    """Find concept mentions and their context in clinical notes.

    Parameters
    ----------
    notes : pandas.DataFrame
        Columns ``note_id``, ``person_id``, ``time``, ``sector``,
        ``note_type``, ``text`` (text may be None). Not modified.
    pack : str
        Rule pack name (``"da"``, ``"en"``) or folder.
    n_jobs : int
        Worker processes (1 = in this process; -1 = all cores).
    chunk_size : int
        Notes per task sent to a worker.
    max_failure_share : float
        Share of notes (0 to 1) whose processing may raise before the run
        stops (the protocol's ``notes.max_failure_share``). Checked after
        each chunk, so a rule that fails on every note stops the run early.

    Returns
    -------
    pandas.DataFrame
        One row a mention, columns :data:`MENTION_COLUMNS` (``start``/``end``
        are character offsets into the note; ``value`` is the measured value
        as text with a decimal point, e.g. ``"35"``, ``"145/90"``, or None).
        ``attrs["nlp_summary"]`` holds ``notes``, ``processed``,
        ``skipped`` (count per reason in :data:`SKIP_REASONS`), ``long``,
        ``pack`` and ``failures``: the first :data:`MAX_LISTED_FAILURES`
        notes whose processing raised, each ``{note_id, rule, error}``
        (``rule`` names the rule or stage, ``error`` the exception type).

    Raises
    ------
    NLPError
        When the table lacks a column or has duplicated note ids, or when
        more than ``max_failure_share`` of the notes fail; the message names
        the count, the share, the first failed note's id, the rule and the
        exception type, never note text.
    RuleError
        When the pack is invalid.
    """
    _check_notes(notes)
    if not 0 <= max_failure_share <= 1:
        raise NLPError(f"max_failure_share must be between 0 and 1, got {max_failure_share!r}")
    load_pack(pack)  # fail early, in this process, on a bad pack
    texts = notes["text"].tolist()
    items = list(enumerate(texts))
    if n_jobs == -1:
        n_jobs = usable_cores()
    if n_jobs < 1:
        raise NLPError(f"n_jobs must be >= 1 or -1, got {n_jobs}")
    chunks = [items[i : i + chunk_size] for i in range(0, len(items), chunk_size)]
    n_notes = len(notes)
    results: list[_ChunkResult] = []
    skipped: Counter[str] = Counter()
    failures: list[_Failure] = []
    n_long = done = 0
    with closing(_chunk_results(pack, chunks, n_jobs)) as stream:
        for chunk, res in zip(chunks, stream, strict=False):
            results.append(res)
            skipped.update(res[1])
            n_long += res[2]
            failures.extend(res[3])
            done += len(chunk)
            if skipped["failed"] / n_notes > max_failure_share:
                break  # already above the share of all notes: stop, skip the rest
    n_failed = skipped["failed"]
    ids = notes["note_id"]
    if n_failed and n_failed / n_notes > max_failure_share:
        raise _failure_error(
            n_failed,
            n_notes,
            done,
            max_failure_share,
            failures[0],
            _plain(ids.iloc[failures[0][0]]),
        )
    if n_failed:
        _LOG.warning(
            "NLP failed on %s of %s notes (%s %%, within notes.max_failure_share %s %%); "
            "counted under skipped.failed; first failure: note %r, rule %r (%s)",
            f"{n_failed:,}",
            f"{n_notes:,}",
            _pct(n_failed / n_notes),
            _pct(max_failure_share),
            _plain(ids.iloc[failures[0][0]]),
            failures[0][1],
            failures[0][2],
        )
    frame = (
        pd.concat([res[0] for res in results], ignore_index=True) if results else _rows_frame([])
    )
    pos = frame["_pos"].to_numpy(dtype=np.int64)
    meta = notes[["note_id", "person_id", "time", "sector", "note_type"]].iloc[pos]
    out = pd.concat([meta.reset_index(drop=True), frame.drop(columns="_pos")], axis=1)
    out = out.astype(
        {
            "start": "int64",
            "end": "int64",
            "negated": "bool",
            "uncertain": "bool",
            "hypothetical": "bool",
            "historical": "bool",
        }
    )
    out = out[list(MENTION_COLUMNS)]
    n_skipped = sum(skipped.values())
    out.attrs["nlp_summary"] = {
        "pack": str(pack),
        "notes": len(notes),
        "processed": len(notes) - n_skipped,
        "skipped": {r: int(skipped.get(r, 0)) for r in SKIP_REASONS},
        "long": n_long,
        "failures": [
            {"note_id": _plain(ids.iloc[pos]), "rule": rule, "error": error}
            for pos, rule, error, _ in failures[:MAX_LISTED_FAILURES]
        ],
    }
    return out


def note_variables(
    mentions: pd.DataFrame,
    index_dates: pd.Series,
    lookback_days: int,
    concepts: list[str] | None = None,
) -> pd.DataFrame:
    """Per-person note variables over the look-back window (the ``notes`` feature set).

    Only *affirmed* mentions count: not negated, uncertain, hypothetical or
    historical, and experienced by the patient; and only mentions in notes
    dated strictly before the person's index date and at most
    ``lookback_days`` days before it.

    Parameters
    ----------
    mentions : pandas.DataFrame
        Output of :func:`extract_mentions`. Not modified.
    index_dates : pandas.Series
        Index date per person (index ``person_id``, values Timestamps). Every
        person here gets a row, with zeros when they have no mentions.
    lookback_days : int
        Look-back window in days (> 0).
    concepts : list of str, optional
        Concepts to make variables for; default: the concepts of the ``da``
        pack except measurements.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``person_id`` (the order of ``index_dates``), columns
        ``note__<concept>_any`` (0/1), ``note__<concept>_count`` and
        ``note__<concept>_days_since_last`` (float days from the latest
        mention to the index date; NaN without one).

    Raises
    ------
    NLPError
        On a bad look-back, missing columns or duplicated persons.
    """
    if not isinstance(lookback_days, int | np.integer) or lookback_days <= 0:
        raise NLPError(f"lookback_days must be a positive integer, got {lookback_days!r}")
    need = [
        "person_id",
        "time",
        "concept",
        "negated",
        "uncertain",
        "hypothetical",
        "historical",
        "experiencer",
    ]
    missing = [c for c in need if c not in mentions.columns]
    if missing:
        raise NLPError(
            f"mentions table lacks column(s) {', '.join(missing)}; "
            "pass the output of extract_mentions"
        )
    if index_dates.index.duplicated().any():
        raise NLPError("index_dates has duplicated person_id values; give one index date a person")
    if concepts is None:
        pack = load_pack("da")
        concepts = [
            c
            for c in pack.concept_names
            if not any(
                r.concept == c and r.type in ("measurement", "exclude") for r in pack.concepts
            )
        ]
    idx = pd.to_datetime(index_dates)
    m = mentions
    affirmed = (
        ~m["negated"].astype(bool)
        & ~m["uncertain"].astype(bool)
        & ~m["hypothetical"].astype(bool)
        & ~m["historical"].astype(bool)
        & (m["experiencer"] == "patient")
        & m["concept"].isin(concepts)
        & m["person_id"].isin(idx.index)
    )
    m = m.loc[affirmed, ["person_id", "time", "concept"]].copy()
    m["time"] = pd.to_datetime(m["time"])
    m["_index"] = m["person_id"].map(idx)
    days = (m["_index"] - m["time"]).dt.total_seconds() / 86400.0
    m["_days"] = days
    m = m[(days > 0) & (days <= lookback_days)]
    out = pd.DataFrame(index=pd.Index(idx.index, name="person_id"))
    grouped = m.groupby(["person_id", "concept"])["_days"]
    counts = grouped.size().unstack(fill_value=0) if len(m) else pd.DataFrame()
    last = grouped.min().unstack() if len(m) else pd.DataFrame()
    for c in concepts:
        cnt = (
            counts[c].reindex(out.index, fill_value=0)
            if c in counts
            else pd.Series(0, index=out.index)
        )
        out[f"note__{c}_any"] = (cnt > 0).astype("int64")
        out[f"note__{c}_count"] = cnt.astype("int64")
        out[f"note__{c}_days_since_last"] = (
            last[c].reindex(out.index).astype("float64") if c in last else np.nan
        )
    return out

"""Benchmark of epi's Danish clinical NLP against medspaCy on the same notes.

Rows (``run(quick)``):

* ``epi rules, 1 process`` and ``epi rules, 2 processes``: throughput of
  :func:`epi.nlp.extract_mentions` (full ``da`` pack, no neural models, every
  note through a ``stanza.Document``) on ~100-token notes, and the projected
  wall time for 1,000,000 such notes on 2 cores;
* ``medspaCy``: the same notes through ``spacy.blank("da")`` + sentencizer +
  medspaCy's TargetMatcher and ConText with rules translated from epi's pack
  files (inflected forms as ``LOWER IN`` lists, compounds as ``REGEX``,
  ConText directions/scopes/allowed types carried over; sections are not
  ported). When medspaCy is not installed the row says so and epi is still
  measured;
* F1 of both systems on synthetic notes with a gold table
  (``epi.data.synth``, bench seed 424242), per attribute.

Wall-clock rates depend on what else runs on the machine; the
``notes_per_cpu_sec`` column (CPU time of the single epi process) does not.

Run: ``python -m bench nlp`` (or ``python bench/bench_nlp.py [--quick]``).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from epi.nlp import evaluate_predictions, extract_mentions, load_pack, tokenize

BENCH_SEED = 424242
_ATTRS = ("negated", "uncertain", "hypothetical", "historical")
_CATEGORY = {
    "negated": "NEGATED_EXISTENCE",
    "uncertain": "POSSIBLE_EXISTENCE",
    "hypothetical": "HYPOTHETICAL",
    "historical": "HISTORICAL",
    "family": "FAMILY",
    "other": "OTHER_EXPERIENCER",
    "termination": "TERMINATE",
    "pseudo": "PSEUDO",
}
_ENDINGS = ("", "e", "en", "et", "er", "erne", "ene", "n", "t", "r", "ne", "s")


def _synth(persons: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Synthetic notes (all sectors) and their gold mentions."""
    from epi.data.synth import generate

    out = Path(tempfile.mkdtemp(prefix="epi-bench-nlp-"))
    generate(persons, BENCH_SEED, out)
    frames = []
    for sector in ("gp", "hospital", "municipal"):
        f = pd.read_parquet(out / f"notes_{sector}.parquet")
        f["sector"] = sector
        frames.append(f)
    notes = pd.concat(frames, ignore_index=True)
    notes["note_id"] = notes["note_id"].astype(str)
    gold = pd.read_parquet(out / "truth" / "note_mentions.parquet")
    return notes, gold


def _hundred_token_notes(texts: list[str], n: int) -> list[str]:
    """Join consecutive notes until each has at least 100 tokens; cycle to n notes."""
    out: list[str] = []
    buf: list[str] = []
    count = 0
    i = 0
    usable = [t for t in texts if isinstance(t, str) and t.strip()]
    while len(out) < n:
        t = usable[i % len(usable)]
        i += 1
        buf.append(t)
        count += len(tokenize(t))
        if count >= 100:
            out.append("\n".join(buf))
            buf, count = [], 0
    return out


def _notes_frame(texts: list[str]) -> pd.DataFrame:
    n = len(texts)
    return pd.DataFrame(
        {
            "note_id": [f"b{i}" for i in range(n)],
            "person_id": [f"p{i % 997}" for i in range(n)],
            "time": pd.Timestamp("2024-01-01"),
            "sector": "gp",
            "note_type": "bench",
            "text": texts,
        }
    )


def _gold_notes(notes: pd.DataFrame, gold: pd.DataFrame) -> list[dict[str, Any]]:
    by: dict[str, list[dict[str, Any]]] = {}
    for r in gold.itertuples(index=False):
        by.setdefault(str(r.note_id), []).append(
            {
                "start": int(r.start),
                "end": int(r.end),
                "concept": r.concept,
                **{a: bool(getattr(r, a)) for a in _ATTRS},
                "experiencer": r.experiencer,
            }
        )
    return [
        {
            "id": str(r.note_id),
            "text": r.text,
            "sector": r.sector,
            "mentions": by.get(str(r.note_id), []),
        }
        for r in notes.itertuples(index=False)
    ]


def _scores(result: dict[str, Any]) -> dict[str, Any]:
    a = result["attributes"]
    return {
        "f1_concept": result["concept_micro"]["f1"],
        "f1_negated": a["negated"]["f1"],
        "f1_uncertain": a["uncertain"]["f1"],
        "f1_hypothetical": a["hypothetical"]["f1"],
        "f1_historical": a["historical"]["f1"],
        "f1_family": a["family"]["f1"],
    }


def _epi_predictions(notes: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    m = extract_mentions(notes, "da")
    pred: dict[str, list[dict[str, Any]]] = {}
    for r in m.itertuples(index=False):
        pred.setdefault(str(r.note_id), []).append(
            {
                "start": int(r.start),
                "end": int(r.end),
                "concept": r.concept,
                **{a: bool(getattr(r, a)) for a in _ATTRS},
                "experiencer": r.experiencer,
            }
        )
    return pred


# --- medspaCy with epi's rules --------------------------------------------------


def _tok_pattern(spec: Any) -> dict[str, Any]:
    pat: dict[str, Any]
    if spec.regex is not None:
        pat = {"LOWER": {"REGEX": "^(?:" + spec.regex + ")$"}}
    else:
        items: set[str] = set()
        for v in (spec.lemma, spec.lower):
            if v is None:
                continue
            for x in [v] if isinstance(v, str) else v:
                x = x.lower()
                items |= {x + e for e in _ENDINGS} if spec.lemma is not None else {x}
        pat = {"LOWER": {"IN": sorted(items)}}
    if spec.op is not None:
        pat["OP"] = spec.op
    return pat


def _literal_pattern(literal: str, compound: bool, inflect: bool) -> list[dict[str, Any]]:
    words = [literal[s:e].lower() for s, e in tokenize(literal)]
    out: list[dict[str, Any]] = []
    for k, w in enumerate(words):
        last = k == len(words) - 1
        if compound and last and len(words) == 1:
            import re

            out.append(
                {
                    "LOWER": {
                        "REGEX": r"^\w*" + re.escape(w) + "(?:" + "|".join(_ENDINGS[1:]) + ")?$"
                    }
                }
            )
        elif inflect:
            out.append({"LOWER": {"IN": sorted({w + e for e in _ENDINGS})}})
        else:
            out.append({"LOWER": w})
    return out


def _medspacy_pipeline() -> Any:
    import medspacy  # noqa: F401  (registers the factories)
    import spacy
    from medspacy.context import ConTextRule
    from medspacy.ner import TargetRule

    pack = load_pack("da")
    nlp = spacy.blank("da")
    nlp.add_pipe("sentencizer")
    matcher = nlp.add_pipe("medspacy_target_matcher")
    targets = []
    for rule in pack.concepts:
        label = "EXCLUDE" if rule.type == "exclude" else rule.concept
        for lit in rule.literals:
            targets.append(
                TargetRule(lit, label, pattern=_literal_pattern(lit, rule.compound, True))
            )
        if rule.pattern is not None:
            targets.append(
                TargetRule(rule.concept, label, pattern=[_tok_pattern(t) for t in rule.pattern])
            )
    matcher.add(targets)
    context = nlp.add_pipe("medspacy_context", config={"rules": None})
    by_type: dict[str, set[str]] = {}
    for rule in pack.concepts:
        by_type.setdefault(rule.type, set()).add(rule.concept)
    crules = []
    for rule in pack.context:
        allowed = None
        if rule.allowed_types:
            allowed = set().union(*(by_type.get(t, set()) for t in rule.allowed_types))
        kw: dict[str, Any] = {
            "direction": rule.direction.upper().replace("TERMINATE", "TERMINATE"),
            "allowed_types": allowed,
            "max_scope": rule.max_scope or pack.meta.default_scope,
        }
        if rule.direction in ("terminate", "pseudo"):
            kw.pop("max_scope")
        literal = rule.literal or "pattern"
        pattern = (
            [_tok_pattern(t) for t in rule.pattern]
            if rule.pattern is not None
            else _literal_pattern(rule.literal or "", False, False)
        )
        crules.append(ConTextRule(literal, _CATEGORY[rule.category], pattern=pattern, **kw))
    context.add(crules)
    return nlp


def _medspacy_predictions(
    nlp: Any, texts: list[str], ids: list[str]
) -> dict[str, list[dict[str, Any]]]:
    pred: dict[str, list[dict[str, Any]]] = {}
    for nid, doc in zip(ids, nlp.pipe(texts, batch_size=256), strict=True):
        for ent in doc.ents:
            if ent.label_ == "EXCLUDE":
                continue
            cats = {m.category for m in ent._.modifiers}
            pred.setdefault(nid, []).append(
                {
                    "start": ent.start_char,
                    "end": ent.end_char,
                    "concept": ent.label_,
                    "negated": bool(ent._.is_negated),
                    "uncertain": bool(ent._.is_uncertain),
                    "hypothetical": bool(ent._.is_hypothetical),
                    "historical": bool(ent._.is_historical),
                    "experiencer": "family"
                    if ent._.is_family
                    else "other"
                    if "OTHER_EXPERIENCER" in cats
                    else "patient",
                }
            )
    return pred


def run(quick: bool = False) -> list[dict]:
    """Run the NLP benchmark; returns one row per system and setting."""
    import os

    n_notes = 2_000 if quick else 20_000
    n_peer = 1_000 if quick else 4_000  # medspaCy is ~30x slower: fewer notes
    n_gold = 1_500 if quick else 3_000  # synthetic notes scored for F1 (both systems)
    notes, gold = _synth(150 if quick else 300)
    notes = notes.head(n_gold)
    gold = gold[gold["note_id"].isin(set(notes["note_id"]))]
    texts = _hundred_token_notes(notes["text"].tolist(), n_notes)
    tokens_per_note = sum(len(tokenize(t)) for t in texts[:500]) / 500
    frame = _notes_frame(texts)
    gold_notes = _gold_notes(notes, gold)
    rows: list[dict] = []

    extract_mentions(frame.head(50))  # warm-up: pack, pipeline
    for jobs in (1, 2):
        t0, c0 = time.perf_counter(), time.process_time()
        m = extract_mentions(frame, "da", n_jobs=jobs, chunk_size=max(500, n_notes // 8))
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        rows.append(
            {
                "name": f"epi rules, {jobs} process{'es' if jobs > 1 else ''}",
                "notes": n_notes,
                "tokens_per_note": round(tokens_per_note, 1),
                "seconds": dt,
                "notes_per_sec": n_notes / dt,
                "notes_per_sec_per_core": n_notes / dt / jobs,
                "mentions": len(m),
                # CPU seconds of this process (1 process only): robust to other load
                "notes_per_cpu_sec": n_notes / cpu if jobs == 1 else None,
                "projected_min_1M_notes_2_cores": 1_000_000 / (n_notes / dt) / 60
                if jobs == 2
                else None,
                "cores_on_machine": os.cpu_count(),
            }
        )
    epi_result, _ = evaluate_predictions(gold_notes, _epi_predictions(notes))
    rows[0].update(_scores(epi_result))

    try:
        nlp = _medspacy_pipeline()
    except Exception as exc:  # not installed or incompatible: record and go on
        rows.append(
            {"name": "medspaCy", "notes": n_notes, "error": f"{type(exc).__name__}: {exc}"[:200]}
        )
        return rows
    list(nlp.pipe(texts[:50]))
    t0 = time.perf_counter()
    _medspacy_predictions(nlp, texts[:n_peer], [f"b{i}" for i in range(n_peer)])
    dt = time.perf_counter() - t0
    row = {
        "name": "medspaCy (epi rules translated), 1 process",
        "notes": n_peer,
        "tokens_per_note": round(tokens_per_note, 1),
        "seconds": dt,
        "notes_per_sec": n_peer / dt,
        "notes_per_sec_per_core": n_peer / dt,
    }
    ms_result, _ = evaluate_predictions(
        gold_notes,
        _medspacy_predictions(nlp, notes["text"].fillna("").tolist(), notes["note_id"].tolist()),
    )
    row.update(_scores(ms_result))
    rows.append(row)
    return rows


if __name__ == "__main__":
    for r in run(quick="--quick" in sys.argv):
        print(r)

"""Evaluation a clinical team can run on its own annotated notes.

Gold files are JSONL, one note a line::

    {"id": "n1", "text": "...", "sector": "gp",            # sector optional
     "mentions": [{"start": 0, "end": 7, "concept": "dyspnoea",
                   "negated": false, "uncertain": false, "hypothetical": false,
                   "historical": false, "experiencer": "patient"}]}

A predicted mention matches a gold mention when the spans overlap and the
concept is the same (one-to-one, largest overlap first). Concept precision,
recall and F1 count matches; attribute scores are computed over matched
mentions only.
"""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pandas as pd

from epi.exceptions import NLPError
from epi.io import atomic_write_json, atomic_write_text

__all__ = [
    "ATTRIBUTES",
    "agreement",
    "evaluate",
    "evaluate_predictions",
    "read_gold",
    "sample",
    "write_gold_jsonl",
]

BOOL_ATTRIBUTES = ("negated", "uncertain", "hypothetical", "historical")
EXPERIENCERS = ("patient", "family", "other")
#: Attributes scored: the four booleans and experiencer (family, other).
ATTRIBUTES = (*BOOL_ATTRIBUTES, "family", "other")
_NOTE_KEYS = {"id", "text", "mentions", "sector", "note_type", "person_id", "time"}
_MENTION_KEYS = {"start", "end", "concept", *BOOL_ATTRIBUTES, "experiencer"}


def read_gold(path: str | Path) -> list[dict[str, Any]]:
    """Read and validate a gold (or annotation) JSONL file.

    Parameters
    ----------
    path : path-like
        JSONL file, one note a line.

    Returns
    -------
    list of dict
        Notes with ``id``, ``text``, ``sector`` (or ``""``) and ``mentions``
        (attributes filled with defaults when absent: false / ``"patient"``).

    Raises
    ------
    NLPError
        Naming the line and key of the first problem.
    """
    p = Path(path)
    if not p.is_file():
        raise NLPError(f"gold file {p} does not exist; pass a JSONL file")
    notes: list[dict[str, Any]] = []
    seen: set[str] = set()
    with p.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                raise NLPError(
                    f"{p} line {lineno}: not valid UTF-8; re-save the file as UTF-8"
                ) from None
            except json.JSONDecodeError as exc:
                raise NLPError(f"{p} line {lineno}: not valid JSON ({exc.msg})") from None
            where = f"{p} line {lineno}"
            if not isinstance(obj, dict):
                raise NLPError(f"{where}: expected a JSON object")
            extra = set(obj) - _NOTE_KEYS
            if extra:
                raise NLPError(
                    f"{where}: unknown key(s) {sorted(extra)}; allowed: {sorted(_NOTE_KEYS)}"
                )
            for key in ("id", "text"):
                if key not in obj:
                    raise NLPError(f"{where}: missing key '{key}'")
            nid = str(obj["id"])
            if nid in seen:
                raise NLPError(f"{where}: duplicated id {nid!r}; ids must be unique")
            seen.add(nid)
            text = obj["text"]
            mentions = []
            for k, m in enumerate(obj.get("mentions") or []):
                mw = f"{where}: mentions[{k}]"
                if not isinstance(m, dict):
                    raise NLPError(f"{mw}: expected an object")
                extra = set(m) - _MENTION_KEYS
                if extra:
                    raise NLPError(
                        f"{mw}: unknown key(s) {sorted(extra)}; allowed: {sorted(_MENTION_KEYS)}"
                    )
                for key in ("start", "end", "concept"):
                    if key not in m:
                        raise NLPError(f"{mw}: missing key '{key}'")
                if not (isinstance(m["start"], int) and isinstance(m["end"], int)) or not (
                    0 <= m["start"] < m["end"]
                ):
                    raise NLPError(f"{mw}: start/end must be integers with 0 <= start < end")
                for key in BOOL_ATTRIBUTES:
                    if not isinstance(m.get(key, False), bool):
                        raise NLPError(f"{mw}: '{key}' must be true or false")
                exp = m.get("experiencer", "patient")
                if exp not in EXPERIENCERS:
                    raise NLPError(
                        f"{mw}: experiencer must be one of {list(EXPERIENCERS)}, got {exp!r}"
                    )
                mentions.append(
                    {
                        "start": m["start"],
                        "end": m["end"],
                        "concept": str(m["concept"]),
                        **{key: bool(m.get(key, False)) for key in BOOL_ATTRIBUTES},
                        "experiencer": exp,
                    }
                )
            notes.append(
                {
                    "id": nid,
                    "text": text,
                    "sector": str(obj.get("sector") or ""),
                    "mentions": mentions,
                }
            )
    if not notes:
        raise NLPError(f"gold file {p} has no notes")
    return notes


def write_gold_jsonl(notes: pd.DataFrame, gold: pd.DataFrame, path: str | Path) -> Path:
    """Write notes and a gold mentions table as evaluation JSONL.

    Parameters
    ----------
    notes : pandas.DataFrame
        Columns ``note_id``, ``text`` and optionally ``sector``.
    gold : pandas.DataFrame
        Columns ``note_id``, ``start``, ``end``, ``concept``, ``negated``,
        ``uncertain``, ``hypothetical``, ``historical``, ``experiencer``.
    path : path-like
        Output file (written atomically).

    Returns
    -------
    pathlib.Path
    """
    by_note: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in gold.itertuples(index=False):
        by_note[str(row.note_id)].append(
            {
                "start": int(row.start),
                "end": int(row.end),
                "concept": str(row.concept),
                **{k: bool(getattr(row, k)) for k in BOOL_ATTRIBUTES},
                "experiencer": str(row.experiencer),
            }
        )
    lines = []
    has_sector = "sector" in notes.columns
    for row in notes.itertuples(index=False):
        obj: dict[str, Any] = {"id": str(row.note_id), "text": row.text}
        if has_sector:
            obj["sector"] = str(row.sector)
        obj["mentions"] = by_note.get(str(row.note_id), [])
        lines.append(json.dumps(obj, ensure_ascii=False))
    return atomic_write_text(path, "\n".join(lines) + "\n")


def _match(
    gold: list[dict[str, Any]], pred: list[dict[str, Any]]
) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """One-to-one matching: same concept, overlapping spans, largest overlap first."""
    pairs = []
    for gi, g in enumerate(gold):
        for pi, p in enumerate(pred):
            if g["concept"] == p["concept"] and g["start"] < p["end"] and p["start"] < g["end"]:
                overlap = min(g["end"], p["end"]) - max(g["start"], p["start"])
                pairs.append((-overlap, gi, pi))
    pairs.sort()
    used_g: set[int] = set()
    used_p: set[int] = set()
    matched = []
    for _, gi, pi in pairs:
        if gi in used_g or pi in used_p:
            continue
        used_g.add(gi)
        used_p.add(pi)
        matched.append((gi, pi))
    return (
        matched,
        [i for i in range(len(gold)) if i not in used_g],
        [i for i in range(len(pred)) if i not in used_p],
    )


def _prf(tp: int, fp: int, fn: int) -> dict[str, float | int | None]:
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    f = (
        2 * p * r / (p + r)
        if p is not None and r is not None and p + r
        else (0.0 if (tp + fp) and (tp + fn) else None)
    )
    return {"tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r, "f1": f}


def _attr_value(m: dict[str, Any], attr: str) -> bool:
    if attr in BOOL_ATTRIBUTES:
        return bool(m[attr])
    return m["experiencer"] == attr


class _Tally:
    def __init__(self) -> None:
        self.concept: dict[str, Counter[str]] = defaultdict(Counter)
        self.attr: dict[str, Counter[str]] = defaultdict(Counter)
        self.exp_confusion: Counter[tuple[str, str]] = Counter()

    def report(self, concepts: list[str]) -> dict[str, Any]:
        per = {c: _prf(v["tp"], v["fp"], v["fn"]) for c, v in sorted(self.concept.items())}
        tot = Counter()
        for c in concepts:
            tot.update(self.concept.get(c, Counter()))
        attrs = {}
        for a in ATTRIBUTES:
            v = self.attr[a]
            attrs[a] = {
                **_prf(v["tp"], v["fp"], v["fn"]),
                "tn": v["tn"],
                "confusion": {
                    "gold_true_pred_true": v["tp"],
                    "gold_true_pred_false": v["fn"],
                    "gold_false_pred_true": v["fp"],
                    "gold_false_pred_false": v["tn"],
                },
            }
        return {
            "concept_micro": _prf(tot["tp"], tot["fp"], tot["fn"]),
            "concepts": per,
            "attributes": attrs,
            "experiencer_confusion": {
                f"{g}->{p}": n for (g, p), n in sorted(self.exp_confusion.items())
            },
        }


def evaluate_predictions(
    gold: list[dict[str, Any]], predicted: dict[str, list[dict[str, Any]]]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Score predicted mentions against gold notes.

    Parameters
    ----------
    gold : list of dict
        Output of :func:`read_gold`.
    predicted : dict
        Note id → list of predicted mentions (same keys as gold mentions).

    Returns
    -------
    (dict, list of dict)
        Metrics (overall, per concept, per attribute with confusion tables,
        and the same per sector under ``by_sector``) and the error list.
        Concepts never annotated in the gold are scored separately under
        ``unannotated_predictions`` and do not count as false positives.
    """
    gold_concepts = sorted({m["concept"] for n in gold for m in n["mentions"]})
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    unannotated: Counter[str] = Counter()
    errors: list[dict[str, Any]] = []
    for note in gold:
        g = note["mentions"]
        all_pred = predicted.get(note["id"], [])
        p = [m for m in all_pred if m["concept"] in gold_concepts]
        for m in all_pred:
            if m["concept"] not in gold_concepts:
                unannotated[m["concept"]] += 1
        matched, fn, fp = _match(g, p)
        keys = ["all"] + ([f"sector:{note['sector']}"] if note["sector"] else [])
        text = note["text"] if isinstance(note["text"], str) else ""
        for key in keys:
            t = tallies[key]
            for gi, pi in matched:
                t.concept[g[gi]["concept"]]["tp"] += 1
                for a in ATTRIBUTES:
                    gv, pv = _attr_value(g[gi], a), _attr_value(p[pi], a)
                    t.attr[a]["tp" if gv and pv else "fn" if gv else "fp" if pv else "tn"] += 1
                t.exp_confusion[(g[gi]["experiencer"], p[pi]["experiencer"])] += 1
            for gi in fn:
                t.concept[g[gi]["concept"]]["fn"] += 1
            for pi in fp:
                t.concept[p[pi]["concept"]]["fp"] += 1
        for gi in fn:
            errors.append(_err(note["id"], "missed", g[gi], None, text))
        for pi in fp:
            errors.append(_err(note["id"], "spurious", None, p[pi], text))
        for gi, pi in matched:
            wrong = [a for a in (*BOOL_ATTRIBUTES, "experiencer") if g[gi][a] != p[pi][a]]
            if wrong:
                e = _err(note["id"], "attribute", g[gi], p[pi], text)
                e["attributes"] = wrong
                errors.append(e)
    result = tallies["all"].report(gold_concepts)
    result["notes"] = len(gold)
    result["gold_mentions"] = sum(len(n["mentions"]) for n in gold)
    result["annotated_concepts"] = gold_concepts
    result["unannotated_predictions"] = dict(sorted(unannotated.items()))
    result["by_sector"] = {
        k.split(":", 1)[1]: v.report(gold_concepts)
        for k, v in sorted(tallies.items())
        if k.startswith("sector:")
    }
    return result, errors


def _err(
    note_id: str, kind: str, g: dict[str, Any] | None, p: dict[str, Any] | None, text: str
) -> dict[str, Any]:
    ref = g or p
    assert ref is not None
    lo, hi = max(0, ref["start"] - 40), min(len(text), ref["end"] + 40)
    return {
        "note_id": note_id,
        "kind": kind,
        "concept": ref["concept"],
        "start": ref["start"],
        "end": ref["end"],
        "gold": g,
        "predicted": p,
        "context": text[lo:hi],
    }


def _fmt(x: Any) -> str:
    return "–" if x is None else f"{x:.3f}" if isinstance(x, float) else str(x)


def _markdown(result: dict[str, Any], pack: str) -> str:
    lines = [f"# NLP evaluation (pack `{pack}`)", ""]
    lines.append(f"Notes: {result['notes']}; gold mentions: {result['gold_mentions']}.")
    lines.append("A prediction matches when the spans overlap and the concept is the same.")
    lines.append("")

    def block(res: dict[str, Any], title: str) -> None:
        lines.extend(
            [
                f"## {title}",
                "",
                "| concept | TP | FP | FN | precision | recall | F1 |",
                "|---|---|---|---|---|---|---|",
            ]
        )
        for c, v in res["concepts"].items():
            lines.append(
                f"| {c} | {v['tp']} | {v['fp']} | {v['fn']} | {_fmt(v['precision'])} | "
                f"{_fmt(v['recall'])} | {_fmt(v['f1'])} |"
            )
        v = res["concept_micro"]
        lines.append(
            f"| **all (micro)** | {v['tp']} | {v['fp']} | {v['fn']} | "
            f"{_fmt(v['precision'])} | {_fmt(v['recall'])} | {_fmt(v['f1'])} |"
        )
        lines.extend(
            [
                "",
                "Attributes over matched mentions:",
                "",
                "| attribute | TP | FP | FN | TN | precision | recall | F1 |",
                "|---|---|---|---|---|---|---|---|",
            ]
        )
        for a, v in res["attributes"].items():
            lines.append(
                f"| {a} | {v['tp']} | {v['fp']} | {v['fn']} | {v['tn']} | "
                f"{_fmt(v['precision'])} | {_fmt(v['recall'])} | {_fmt(v['f1'])} |"
            )
        lines.extend(
            [
                "",
                "Experiencer confusion (gold → predicted): "
                + ", ".join(f"{k}: {n}" for k, n in res["experiencer_confusion"].items())
                or "none",
                "",
            ]
        )

    block(result, "All notes")
    for sector, res in result["by_sector"].items():
        block(res, f"Sector: {sector}")
    if result["unannotated_predictions"]:
        lines.append(
            "Predicted concepts not annotated in the gold (not scored): "
            + ", ".join(f"{c} ({n})" for c, n in result["unannotated_predictions"].items())
        )
        lines.append("")
    return "\n".join(lines)


def _predict(
    gold: list[dict[str, Any]], pack: str, n_jobs: int = 1
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    from epi.nlp._extract import extract_mentions

    notes = pd.DataFrame(
        {
            "note_id": [n["id"] for n in gold],
            "person_id": [n["id"] for n in gold],
            "time": pd.NaT,
            "sector": [n["sector"] for n in gold],
            "note_type": "",
            "text": [n["text"] for n in gold],
        }
    )
    mentions = extract_mentions(notes, pack=pack, n_jobs=n_jobs)
    predicted: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in mentions.itertuples(index=False):
        predicted[str(row.note_id)].append(
            {
                "start": int(row.start),
                "end": int(row.end),
                "concept": row.concept,
                **{k: bool(getattr(row, k)) for k in BOOL_ATTRIBUTES},
                "experiencer": row.experiencer,
            }
        )
    return predicted, mentions.attrs["nlp_summary"]


def evaluate(
    gold_path: str | Path, pack: str = "da", out_dir: str | Path = "nlp_eval", n_jobs: int = 1
) -> dict[str, Any]:
    """Run the pipeline on a gold JSONL file and score it.

    Parameters
    ----------
    gold_path : path-like
        Gold JSONL (see module docstring).
    pack : str
        Rule pack.
    out_dir : path-like
        Folder for ``evaluation.json``, ``evaluation.md`` and
        ``errors.jsonl`` (the error list quotes note text: it stays in this
        folder and is never printed).
    n_jobs : int
        Worker processes.

    Returns
    -------
    dict
        The metrics written to ``evaluation.json``.
    """
    gold = read_gold(gold_path)
    predicted, summary = _predict(gold, pack, n_jobs)
    result, errors = evaluate_predictions(gold, predicted)
    result["pack"] = pack
    result["extraction"] = summary
    out = Path(out_dir)
    atomic_write_json(out / "evaluation.json", result)
    atomic_write_text(out / "evaluation.md", _markdown(result, pack) + "\n")
    atomic_write_text(
        out / "errors.jsonl", "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in errors)
    )
    return result


def _run_notes(root: Path, pool: int, seed: int) -> pd.DataFrame:
    """A seeded random pool of notes from a run's event store."""
    import duckdb

    store = root / "store.duckdb"
    if not store.is_file():
        raise NLPError(f"{root} has no store.duckdb; give the folder of a finished `epi run`")
    con = duckdb.connect(str(store), read_only=True)
    try:
        # reservoir sampling with a fixed seed is repeatable; sorted so order is too
        return con.execute(
            "SELECT note_id, person_id, time, sector, note_type, text FROM notes "
            f"USING SAMPLE reservoir({int(pool)} ROWS) REPEATABLE ({int(seed)}) "
            "ORDER BY note_id"
        ).df()
    finally:
        con.close()


def sample(
    run_dir: str | Path,
    n: int = 200,
    stratify: tuple[str, ...] | list[str] = ("sector", "concept"),
    seed: int = 0,
    out: str | Path | None = None,
    prefill: bool = False,
    pack: str = "da",
) -> Path:
    """Draw notes for manual annotation, stratified, as gold-format JSONL.

    Parameters
    ----------
    run_dir : path-like
        A run folder written by ``epi run``; notes are read from its event
        store (``store.duckdb``). A random pool of ``max(20 n, 5000)`` notes is
        drawn first and its mentions extracted, so sampling stays quick on a
        large run.
    n : int
        Notes to draw (fewer if the run has fewer).
    stratify : sequence of str
        Note columns and/or ``concept`` (a note's concepts from the mentions
        table; ``"none"`` for notes without any). Strata get equal shares;
        leftover draws go to the largest strata.
    seed : int
        Random seed.
    out : path-like, optional
        Output file; default ``<run_dir>/nlp/annotation_sample.jsonl``.
    prefill : bool
        Pre-fill the predicted mentions (default off: blank annotation
        avoids anchoring the annotators on the system's output).
    pack : str
        Pack used when mentions must be extracted.

    Returns
    -------
    pathlib.Path
        The JSONL written.
    """
    from epi.nlp._extract import extract_mentions

    root = Path(run_dir)
    if not root.is_dir():
        raise NLPError(f"run folder {root} does not exist")
    if n < 1:
        raise NLPError(f"--n must be >= 1, got {n}")
    notes = _run_notes(root, pool=max(20 * n, 5000), seed=seed)
    mentions = extract_mentions(notes, pack=pack)
    strat = list(stratify)
    bad = [s for s in strat if s != "concept" and s not in notes.columns]
    if bad:
        raise NLPError(
            f"cannot stratify by {bad}: not a notes column; use concept or one of "
            f"{sorted(notes.columns)}"
        )
    concepts_of: dict[str, set[str]] = defaultdict(set)
    for nid, c in zip(mentions["note_id"].astype(str), mentions["concept"], strict=True):
        concepts_of[nid].add(str(c))
    strata: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for row in notes.itertuples(index=False):
        nid = str(row.note_id)
        concept_keys = sorted(concepts_of.get(nid) or {"none"}) if "concept" in strat else [""]
        for ck in concept_keys:
            key = tuple(ck if s == "concept" else str(getattr(row, s)) for s in strat)
            strata[key].append(nid)
    rng = random.Random(seed)
    pools = {k: rng.sample(v, len(v)) for k, v in sorted(strata.items())}
    chosen: list[str] = []
    taken: set[str] = set()
    target = min(n, len(notes))
    while len(chosen) < target and any(pools.values()):
        for k in sorted(pools, key=lambda k: (len(pools[k]) == 0, k)):
            pool = pools[k]
            while pool and pool[-1] in taken:
                pool.pop()
            if pool and len(chosen) < target:
                nid = pool.pop()
                taken.add(nid)
                chosen.append(nid)
    by_id = notes.set_index(notes["note_id"].astype(str))
    ment_by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if prefill:
        for row in mentions.itertuples(index=False):
            ment_by[str(row.note_id)].append(
                {
                    "start": int(row.start),
                    "end": int(row.end),
                    "concept": row.concept,
                    **{k: bool(getattr(row, k)) for k in BOOL_ATTRIBUTES},
                    "experiencer": row.experiencer,
                }
            )
    lines = []
    for nid in chosen:
        row = by_id.loc[nid]
        obj: dict[str, Any] = {"id": nid, "text": row["text"]}
        if "sector" in by_id.columns:
            obj["sector"] = str(row["sector"])
        obj["mentions"] = ment_by.get(nid, [])
        lines.append(json.dumps(obj, ensure_ascii=False, default=str))
    dest = Path(out) if out is not None else root / "nlp" / "annotation_sample.jsonl"
    return atomic_write_text(dest, "\n".join(lines) + "\n")


def _kappa(pairs: list[tuple[Any, Any]]) -> float | None:
    if not pairs:
        return None
    n = len(pairs)
    po = sum(a == b for a, b in pairs) / n
    ca = Counter(a for a, _ in pairs)
    cb = Counter(b for _, b in pairs)
    pe = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    if pe == 1.0:
        return 1.0 if po == 1.0 else None
    return (po - pe) / (1 - pe)


def agreement(a: str | Path, b: str | Path) -> dict[str, Any]:
    """Inter-annotator agreement between two annotation JSONL files.

    Mentions are paired as in :func:`evaluate` (same concept, overlapping
    spans). Span agreement is the F1 of B against A (positive agreement);
    each attribute gets Cohen's kappa over the paired mentions.

    Parameters
    ----------
    a, b : path-like
        Annotation files in the gold JSONL form, with the same note ids.

    Returns
    -------
    dict
        ``notes``, ``mentions_a``, ``mentions_b``, ``paired``,
        ``span_f1``, ``kappa`` (per attribute, ``experiencer`` as three
        classes) and ``observed_agreement``.
    """
    ga = {n["id"]: n for n in read_gold(a)}
    gb = {n["id"]: n for n in read_gold(b)}
    common = sorted(set(ga) & set(gb))
    if not common:
        raise NLPError(f"{a} and {b} share no note ids; annotate the same sample")
    pairs: dict[str, list[tuple[Any, Any]]] = defaultdict(list)
    tp = fa = fb = 0
    for nid in common:
        ma, mb = ga[nid]["mentions"], gb[nid]["mentions"]
        matched, only_a, only_b = _match(ma, mb)
        tp += len(matched)
        fa += len(only_a)
        fb += len(only_b)
        for i, j in matched:
            for key in (*BOOL_ATTRIBUTES, "experiencer"):
                pairs[key].append((ma[i][key], mb[j][key]))
    f1 = 2 * tp / (2 * tp + fa + fb) if tp + fa + fb else None
    return {
        "notes": len(common),
        "notes_only_in_a": len(set(ga) - set(gb)),
        "notes_only_in_b": len(set(gb) - set(ga)),
        "mentions_a": tp + fa,
        "mentions_b": tp + fb,
        "paired": tp,
        "span_f1": f1,
        "kappa": {k: _kappa(v) for k, v in pairs.items()}
        if pairs
        else {k: None for k in (*BOOL_ATTRIBUTES, "experiencer")},
        "observed_agreement": {
            k: (sum(x == y for x, y in v) / len(v) if v else None) for k, v in pairs.items()
        },
    }

"""``epi nlp evaluate|sample|agreement``: wired into ``epi/cli.py``.

Nothing here prints note text: results go to stdout as summary figures and
to files under the chosen output folder.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["add_commands"]


def _fmt(x: Any) -> str:
    return "–" if x is None else f"{x:.3f}" if isinstance(x, float) else str(x)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from epi.nlp._evaluate import evaluate

    res = evaluate(args.gold, pack=args.pack, out_dir=args.out, n_jobs=args.jobs)
    micro = res["concept_micro"]
    print(f"notes: {res['notes']}  gold mentions: {res['gold_mentions']}")
    print(
        f"concept F1 {_fmt(micro['f1'])} (P {_fmt(micro['precision'])}, R {_fmt(micro['recall'])})"
    )
    for a, v in res["attributes"].items():
        print(f"{a:<13} F1 {_fmt(v['f1'])}")
    for sector, r in res["by_sector"].items():
        print(f"sector {sector}: concept F1 {_fmt(r['concept_micro']['f1'])}")
    print(f"written: {args.out}/evaluation.json, evaluation.md, errors.jsonl")
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    from epi.nlp._evaluate import sample

    strat = tuple(s.strip() for s in args.stratify.split(",") if s.strip())
    path = sample(
        args.run_dir,
        n=args.n,
        stratify=strat,
        seed=args.seed,
        out=args.out,
        prefill=args.prefill,
        pack=args.pack,
    )
    with open(path, encoding="utf-8") as fh:
        count = sum(1 for line in fh if line.strip())
    print(f"sampled {count} notes -> {path}")
    return 0


def _cmd_agreement(args: argparse.Namespace) -> int:
    from epi.nlp._evaluate import agreement

    res = agreement(args.a, args.b)
    if args.json:
        print(json.dumps(res, indent=2, sort_keys=True))
        return 0
    print(
        f"notes: {res['notes']}  paired mentions: {res['paired']}  span F1: {_fmt(res['span_f1'])}"
    )
    for k, v in res["kappa"].items():
        print(f"kappa {k:<13} {_fmt(v)}")
    return 0


def add_commands(subparsers: Any) -> None:
    """Add ``nlp`` with ``evaluate``, ``sample`` and ``agreement`` to an argparse subparsers."""
    nlp = subparsers.add_parser(
        "nlp", help="clinical NLP: evaluate, sample for annotation, agreement"
    )
    sub = nlp.add_subparsers(dest="nlp_command", required=True)

    ev = sub.add_parser("evaluate", help="score the NLP pipeline on a gold JSONL file")
    ev.add_argument("gold", help="gold JSONL: one note a line with id, text, mentions")
    ev.add_argument("--pack", default="da", help="rule pack name or folder (default: da)")
    ev.add_argument("--out", required=True, help="output folder for the evaluation files")
    ev.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    ev.set_defaults(func=_cmd_evaluate)

    sa = sub.add_parser("sample", help="draw notes of a run for manual annotation (JSONL)")
    sa.add_argument(
        "run_dir", help="folder of a finished `epi run` (notes are read from its store.duckdb)"
    )
    sa.add_argument("--n", type=int, default=200, help="notes to draw (default 200)")
    sa.add_argument(
        "--stratify",
        default="sector,concept",
        help="comma-separated strata: note columns and/or concept",
    )
    sa.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sa.add_argument(
        "--out", default=None, help="output JSONL (default RUN_DIR/nlp/annotation_sample.jsonl)"
    )
    sa.add_argument("--prefill", action="store_true", help="pre-fill the predicted mentions")
    sa.add_argument("--pack", default="da", help="rule pack when mentions must be extracted")
    sa.set_defaults(func=_cmd_sample)

    ag = sub.add_parser("agreement", help="Cohen's kappa per attribute between two annotators")
    ag.add_argument("a", help="annotations of annotator A (JSONL)")
    ag.add_argument("b", help="annotations of annotator B (JSONL)")
    ag.add_argument("--json", action="store_true", help="print the full result as JSON")
    ag.set_defaults(func=_cmd_agreement)

"""``epi synth``: write the synthetic population to a folder."""

from __future__ import annotations

import argparse
import sys

from epi._cores import usable_cores
from epi.data.synth._generate import generate


def _run(args: argparse.Namespace) -> int:
    def say(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr)

    out = generate(args.persons, args.seed, args.out, progress=say, workers=args.workers)
    print(f"synthetic data (synthetic=true): {args.persons:,} persons, seed {args.seed} -> {out}")
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``synth`` subcommand.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The subparsers of the ``epi`` command.
    """
    p = subparsers.add_parser(
        "synth",
        help="write a synthetic North Denmark Region population (all data_specs tables + truth)",
        description="Generate the synthetic population: every table of data_specs/ as parquet, "
        "truth/ (hazard model, true risks, gold note mentions) and manifest.json. "
        "Deterministic for a seed.",
    )
    p.add_argument("--persons", type=int, default=20_000, help="number of adults (default 20000)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument(
        "--workers",
        type=int,
        default=usable_cores(),
        help="worker processes (default: up to 2); the output does not depend on it",
    )
    p.add_argument("--quiet", action="store_true", help="no progress messages")
    p.set_defaults(func=_run)

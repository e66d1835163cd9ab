"""The ``epi`` command line.

Exit codes: 0 success; 2 bad input (a one-paragraph message, no traceback
unless ``--debug``); 1 internal error. Stages that own commands add them
through ``epi/<stage>/_cli.py: add_commands(subparsers)``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from epi import __version__
from epi._cores import usable_cores
from epi._progress import stderr_progress
from epi.exceptions import EpiError

__all__ = ["main"]

# Stage modules that add their own sub-commands (see docs/CONTRACTS.md).
STAGE_COMMANDS = (
    "epi.data.synth._cli",
    "epi.validation._cli",
    "epi.nlp._cli",
    "epi.report._cli",
)


def _cmd_check(args: argparse.Namespace) -> int:
    from epi.study import check

    for line in check(args.protocol, progress=stderr_progress()):
        print(line)
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from epi.study import run

    workers = usable_cores()
    run_dir = run(args.protocol, out_root=args.out, progress=stderr_progress(), workers=workers)
    print(f"run written to {run_dir}")
    return 0


def _cmd_lock(args: argparse.Namespace) -> int:
    from epi.protocol import fingerprint, load_protocol, lock_protocol

    protocol = load_protocol(args.file)
    path = lock_protocol(protocol, args.file)
    print(f"locked {args.file} (fingerprint {fingerprint(protocol)}) → {path}")
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    from epi.protocol import write_schema

    print(f"wrote {write_schema(args.out)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command, including the stages' own."""
    parser = argparse.ArgumentParser(
        prog="epi",
        description=(
            "Protocol-driven clinical prediction research on cross-sector Danish health data."
        ),
    )
    parser.add_argument("--version", action="version", version=f"epi {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "check",
        help="validate a protocol and, if present, its data",
        description="Validate a study protocol (keys, types, code lists, models, lock) and, "
        "for source: tables, check every data file against its spec. Writes nothing.",
    )
    p.add_argument("protocol", type=Path, help="the study protocol (YAML)")
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser(
        "run",
        help="run a study protocol end to end",
        description="Run every stage of a protocol (data, cohort, features, note variables, "
        "models, validation, added value, report) into a new folder "
        "OUT/<study-id>/<UTC timestamp>/; nothing is written elsewhere.",
    )
    p.add_argument("protocol", type=Path, help="the study protocol (YAML)")
    p.add_argument("--out", type=Path, default=Path("runs"), help="runs folder (default: runs)")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("protocol", help="lock a protocol or write its JSON Schema")
    psub = p.add_subparsers(dest="protocol_command", required=True, metavar="ACTION")
    lock = psub.add_parser(
        "lock",
        help="register a protocol: write FILE.lock.json",
        description="Register a protocol: write its fingerprint to FILE.lock.json. Later "
        "runs refuse a changed section unless an amendment names it.",
    )
    lock.add_argument("file", type=Path, help="the study protocol (YAML) to register")
    lock.set_defaults(func=_cmd_lock)
    schema = psub.add_parser("schema", help="write the protocol JSON Schema")
    schema.add_argument("--out", type=Path, default=Path("protocols/_schema"))
    schema.set_defaults(func=_cmd_schema)

    for name in STAGE_COMMANDS:
        # every stage is part of epi: a module that fails to import is a broken install,
        # said at once, never a silently missing command
        importlib.import_module(name).add_commands(sub)
    return parser


def _one_line_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """A warning as one line for people at a terminal: no source path, no code excerpt."""
    text = " ".join(str(message).split())
    print(f"epi: {category.__name__}: {text}", file=file or sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``epi`` command line and return its exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    if not debug:
        warnings.showwarning = _one_line_warning
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        return int(args.func(args) or 0)
    except EpiError as exc:
        if debug:
            traceback.print_exc()
        print(f"epi: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("epi: interrupted; nothing half-written was left behind.", file=sys.stderr)
        return 130
    except Exception as exc:
        if debug:
            traceback.print_exc()
        print(
            f"epi: internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in epi, not in your input. Rerun with --debug and report the traceback.",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

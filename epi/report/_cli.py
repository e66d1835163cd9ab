"""``epi report RUN_DIR [--format html,pdf]``."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_commands"]


def _cmd_report(args: argparse.Namespace) -> int:
    from epi._progress import stderr_progress
    from epi.report._build import build_report

    paths = build_report(args.run_dir, args.format, progress=stderr_progress())
    for fmt, path in paths.items():
        print(f"{fmt}: {path}")
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``epi report`` to the ``epi`` command line."""
    p = subparsers.add_parser(
        "report", help="build the TRIPOD+AI report (HTML and PDF) of a finished run"
    )
    p.add_argument("run_dir", type=Path, help="the run folder `epi run` printed")
    p.add_argument(
        "--format", default="html,pdf", help="comma-separated outputs: html, pdf (default: both)"
    )
    p.set_defaults(func=_cmd_report)

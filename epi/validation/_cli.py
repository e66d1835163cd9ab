"""The ``epi evaluate`` and ``epi samplesize`` commands (wired into ``epi/cli.py``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from epi.exceptions import ValidationInputError
from epi.validation._checks import as_outcome, as_risk
from epi.validation._report import read_predictions, write_evaluation
from epi.validation._samplesize import _riley_survival

#: ``riley_survival`` arguments as ``epi samplesize`` names them (in error messages).
SAMPLESIZE_OPTIONS = {
    "parameters": "--parameters",
    "rsquared_cs": "--rsquared",
    "rate": "--rate",
    "timepoint": "--timepoint",
    "meanfup": "--meanfup",
    "shrinkage": "--shrinkage",
    "mmoe": "--mmoe",
    "n_available": "--n-available",
    "events_available": "--events-available",
}

DEFAULT_THRESHOLDS = "0.01:0.50:0.01"


def parse_thresholds(text: str) -> np.ndarray:
    """Parse ``START:STOP:STEP`` (inclusive) or a comma list into thresholds.

    Raises
    ------
    ValidationInputError
        On malformed text, a step <= 0, or more than 1000 thresholds.
    """
    try:
        parts = [float(x) for x in text.split(":" if ":" in text else ",") if x.strip()]
    except ValueError:
        parts = []
    if not parts or (":" in text and len(parts) != 3):
        raise ValidationInputError(
            f"--thresholds {text!r}: write START:STOP:STEP (e.g. 0.01:0.50:0.01) or a comma "
            "list (e.g. 0.05,0.1,0.2)."
        )
    if ":" not in text:
        return np.array(parts)
    start, stop, step = parts
    if step <= 0 or stop < start:
        raise ValidationInputError(f"--thresholds {text!r}: need START <= STOP and STEP > 0.")
    count = int(np.floor((stop - start) / step + 1e-9)) + 1
    if count > 1000:
        raise ValidationInputError(
            f"--thresholds {text!r} gives {count} thresholds; use at most 1000."
        )
    return np.round(start + step * np.arange(count), 10)


def _evaluate(args: argparse.Namespace) -> int:
    thresholds = parse_thresholds(args.thresholds)
    if args.bootstrap < 0:
        raise ValidationInputError(f"--bootstrap must be >= 0, got {args.bootstrap}.")
    frame = read_predictions(args.file, args.time, args.event, list(args.risk))
    name = Path(args.file).name
    where = f"{name} columns {args.time!r}/{args.event!r}"
    t, e = as_outcome(frame[args.time], frame[args.event], where=where)
    risks = {c: as_risk(frame[c], t.size, name=f"{name} column {c!r}") for c in args.risk}
    if args.compare is not None and args.compare not in risks:
        raise ValidationInputError(
            f"--compare {args.compare!r} is not one of the --risk columns {list(risks)}; "
            "pass the reference column with --risk too."
        )
    metrics = write_evaluation(
        args.out,
        t,
        e,
        risks,
        args.horizon,
        thresholds=thresholds,
        n_bootstrap=args.bootstrap,
        seed=args.seed,
        source=name,
    )
    wrote = "metrics.json, calibration.png/svg, decision_curve.png/svg and summary.md"
    if args.compare is not None:
        from epi.validation.comparison import write_comparison

        write_comparison(
            args.out,
            t,
            e,
            risks,
            args.compare,
            args.horizon,
            thresholds=thresholds,
            risk_groups=parse_thresholds(args.risk_groups),
            n_bootstrap=args.bootstrap,
            seed=args.seed,
            source=name,
        )
        wrote += (
            f", and added_value.json/.md, forest.png/svg and delta_net_benefit.png/svg "
            f"(vs {args.compare})"
        )
    print(
        f"epi evaluate: {len(risks)} model(s), n={metrics['n']}, events by horizon="
        f"{metrics['events']}; wrote {wrote} to {args.out}"
    )
    return 0


def _samplesize(args: argparse.Namespace) -> int:
    result = _riley_survival(
        parameters=args.parameters,
        rsquared_cs=args.rsquared,
        c_statistic=None,
        rate=args.rate,
        timepoint=args.timepoint,
        meanfup=args.meanfup,
        shrinkage=args.shrinkage,
        mmoe=args.mmoe,
        n_available=args.n_available,
        events_available=args.events_available,
        names=SAMPLESIZE_OPTIONS,
    )
    if args.json is not None:
        from epi.io import atomic_write_json

        atomic_write_json(args.json, result.to_dict())
        print(f"epi samplesize: wrote {args.json}", file=sys.stderr)
    print(result.summary())
    return 0


def _add_samplesize(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "samplesize",
        help="Riley et al. minimum sample size for a survival prediction model (pmsampsize)",
        description=(
            "Minimum number of persons and events to develop a survival (Cox) prediction "
            "model with --parameters candidate predictor parameters, by the three criteria of "
            'Riley et al. (BMJ 2020; Stat Med 2019) as R pmsampsize(type = "s") computes '
            "them: global shrinkage >= --shrinkage, optimism <= 0.05 in Nagelkerke R², and "
            "the overall risk by --timepoint within +/- --mmoe. --rate, --timepoint and "
            "--meanfup share one time unit."
        ),
    )
    p.add_argument(
        "--parameters", required=True, type=int, metavar="P", help="candidate parameters"
    )
    p.add_argument(
        "--rsquared",
        required=True,
        type=float,
        metavar="R2",
        help="anticipated (optimism-adjusted) Cox-Snell R² of the new model",
    )
    p.add_argument(
        "--rate", required=True, type=float, help="overall event rate per person per time unit"
    )
    p.add_argument("--timepoint", required=True, type=float, metavar="T", help="time of interest")
    p.add_argument(
        "--meanfup", required=True, type=float, metavar="F", help="mean follow-up per person"
    )
    p.add_argument(
        "--shrinkage", type=float, default=0.9, metavar="S", help="target shrinkage (default 0.9)"
    )
    p.add_argument(
        "--mmoe",
        type=float,
        default=0.05,
        help="margin of error of the overall risk by the timepoint (default 0.05)",
    )
    p.add_argument("--n-available", type=int, default=None, metavar="N", help="persons at hand")
    p.add_argument("--events-available", type=int, default=None, metavar="E", help="events at hand")
    p.add_argument("--json", type=Path, default=None, metavar="FILE", help="write JSON here")
    p.set_defaults(func=_samplesize)


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add ``evaluate`` and ``samplesize`` to the ``epi`` command line.

    Parameters
    ----------
    subparsers
        From ``ArgumentParser.add_subparsers()``.
    """
    p = subparsers.add_parser(
        "evaluate",
        help="validate predicted risks at a horizon (calibration, discrimination, net benefit)",
        description=(
            "Review predictions made by anyone: FILE (CSV or parquet) has one row per person "
            "with follow-up time, event (0 censored, 1 event, 2 competing event) and one or "
            "more columns of predicted risk of the event by the horizon. Writes metrics.json, "
            "a calibration plot and a decision curve (PNG and SVG) and summary.md to --out."
        ),
    )
    p.add_argument("file", metavar="FILE", help="CSV or parquet file, one row per person")
    p.add_argument("--time", required=True, metavar="COL", help="follow-up time column")
    p.add_argument("--event", required=True, metavar="COL", help="event column: 0/1 or 0/1/2")
    p.add_argument(
        "--risk",
        required=True,
        action="append",
        metavar="COL",
        help="predicted risk by the horizon (repeat for several models)",
    )
    p.add_argument(
        "--horizon", required=True, type=float, metavar="H", help="in the unit of --time"
    )
    p.add_argument(
        "--thresholds",
        default=DEFAULT_THRESHOLDS,
        metavar="START:STOP:STEP",
        help=f"decision-curve thresholds, inclusive (default {DEFAULT_THRESHOLDS})",
    )
    p.add_argument(
        "--bootstrap", type=int, default=200, metavar="B", help="bootstrap resamples (default 200)"
    )
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed (default 0)")
    p.add_argument(
        "--compare",
        metavar="REFCOL",
        default=None,
        help="also compare every other --risk column with this one: paired differences, "
        "NRI, IDI and net benefit (added_value.json/.md, forest plot)",
    )
    p.add_argument(
        "--risk-groups",
        default="0.1,0.2",
        metavar="CUTS",
        help="risk cut-offs of the categorical NRI with --compare (default 0.1,0.2)",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.set_defaults(func=_evaluate)
    _add_samplesize(subparsers)

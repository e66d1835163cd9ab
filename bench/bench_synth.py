"""Benchmark of the synthetic population generator (issue 3).

For each size: wall and CPU seconds, peak resident memory (of a fresh child
process, so sizes do not mask each other), rows written, and the calibration
of the true risks against outcomes rebuilt from the written tables (O/E,
Aalen-Johansen with death competing) for both protocols.

Run ``python bench/bench_synth.py`` (20k, 100k, 1M) or with ``--quick`` (20k).
Results go to ``bench/results/synth_standalone.json`` (``make bench`` writes ``synth.json``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from epi.data.synth import generate
out = generate(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], workers=2)
wall = time.perf_counter() - t0
me = resource.getrusage(resource.RUSAGE_SELF)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
rss_main = me.ru_maxrss / 1024
rss_worker = kids.ru_maxrss / 1024
man = json.loads((out / "manifest.json").read_text())
print(json.dumps({"seconds": wall, "cpu_seconds": cpu, "peak_rss_mb_main": rss_main,
                  "peak_rss_mb_worker": rss_worker,
                  "peak_rss_mb_total_bound": rss_main + 2 * rss_worker,
                  "rows": sum(man["tables"].values()), "notes": sum(
                      v for k, v in man["tables"].items() if k.startswith("notes_")),
                  "mentions": man["truth"]["note_mentions"]}))
"""


def aalen_johansen(duration: np.ndarray, event: np.ndarray, horizon: float) -> tuple[float, int]:
    """Cumulative incidence of event 1 at ``horizon`` (competing event 2) and its event count."""
    d = np.asarray(duration, dtype=float)
    e = np.asarray(event)
    keep = d <= horizon
    times, inv = np.unique(d[keep], return_inverse=True)
    d1 = np.bincount(inv, weights=(e[keep] == 1), minlength=times.size)
    d2 = np.bincount(inv, weights=(e[keep] == 2), minlength=times.size)
    leave = np.bincount(inv, minlength=times.size)
    at_risk = d.size - np.r_[0, np.cumsum(leave)[:-1]]
    surv_before = np.r_[1.0, np.cumprod(1 - (d1 + d2) / at_risk)[:-1]]
    return float(np.sum(surv_before * d1 / at_risk)), int(d1.sum())


def _durations(
    t0: pd.Series, horizon_days: int, ev: pd.Series, death: pd.Series, cens: pd.Series
) -> tuple[np.ndarray, np.ndarray]:
    end = t0 + pd.Timedelta(days=horizon_days)
    times = pd.concat([ev, death, cens.where(cens < end, end)], axis=1, keys=["e", "d", "c"])
    first = times.min(axis=1)
    event = np.where(times.e == first, 1, np.where(times.d == first, 2, 0))
    event = np.where(first >= end, 0, event)
    dur = (first.where(first < end, end) - t0).dt.total_seconds().to_numpy() / 86400
    return dur, event


def calibration(folder: Path) -> dict[str, float]:
    """O/E of both protocols' true risks against outcomes rebuilt from the tables."""
    risk = pd.read_parquet(folder / "truth" / "risk.parquet").set_index("person_id")
    persons = pd.read_parquet(folder / "persons.parquet").set_index("person_id")
    death = pd.to_datetime(persons.death_date)
    res = pd.read_parquet(folder / "residence.parquet")
    res["start_date"] = pd.to_datetime(res.start_date)
    res["end_date"] = pd.to_datetime(res.end_date)
    hc = pd.read_parquet(folder / "hosp_contacts.parquet")
    adm = hc[hc.end_time - hc.start_time >= pd.Timedelta(hours=12)]
    out: dict[str, float] = {}

    def res_end_at(ids: pd.Index, day: pd.Series) -> pd.Series:
        r = res[res.person_id.isin(ids)].merge(
            day.rename("t0"), left_on="person_id", right_index=True
        )
        r = r[(r.start_date <= r.t0) & (r.end_date.isna() | (r.end_date >= r.t0))]
        e = (r.set_index("person_id").end_date + pd.Timedelta(days=1)).reindex(ids)
        return e.fillna(pd.Timestamp("2025-01-01"))

    # A: acute admission within 365 days of 2023-01-01, aged 65+
    a = risk.acute_admission_365d.dropna()
    t0 = pd.Series(pd.Timestamp("2023-01-01"), index=a.index)
    acute = adm[(adm.priority == "ATA1") & (adm.start_time >= t0.iloc[0])]
    ev = acute.groupby("person_id").start_time.min().reindex(a.index)
    dur, event = _durations(t0, 365, ev, death.reindex(a.index), res_end_at(a.index, t0))
    obs, n_ev = aalen_johansen(dur, event, 365)
    out |= {
        "a_eligible": int(a.size),
        "a_events": n_ev,
        "a_observed": obs,
        "a_expected": float(a.mean()),
        "a_oe": obs / float(a.mean()),
    }
    # B: HF hospitalisation within 1826 days of the day after the first T2D diagnosis
    b = risk.hf_hospitalisation_1826d.dropna()
    t0 = pd.to_datetime(risk.t2d_index_date.reindex(b.index)) + pd.Timedelta(days=1)
    dx = pd.read_parquet(folder / "hosp_diagnoses.parquet")
    hf_ids = dx[(dx.diagnosis_type == "A") & dx.diagnosis_code.str.startswith("DI50")].contact_id
    hf = adm[adm.contact_id.isin(hf_ids) & adm.person_id.isin(b.index)]
    hf = hf.merge(t0.rename("t0"), left_on="person_id", right_index=True)
    ev = hf[hf.start_time >= hf.t0].groupby("person_id").start_time.min().reindex(b.index)
    dur, event = _durations(t0, 1826, ev, death.reindex(b.index), res_end_at(b.index, t0))
    obs, n_ev = aalen_johansen(dur, event, 1826)
    out |= {
        "b_eligible": int(b.size),
        "b_events": n_ev,
        "b_observed": obs,
        "b_expected": float(b.mean()),
        "b_oe": obs / float(b.mean()),
    }
    return out


def run(quick: bool = False) -> list[dict[str, float]]:
    """Generate 20k (quick) or 20k, 100k and 1M persons; return one row per size.

    Parameters
    ----------
    quick : bool
        Only the 20,000-person run.

    Returns
    -------
    list of dict
        persons, seconds (wall), cpu_seconds (all processes), peak_rss_mb_main,
        peak_rss_mb_worker, peak_rss_mb_total_bound (main + 2 workers), rows, notes,
        mentions and
        the calibration figures of :func:`calibration`.
    """
    sizes = [20_000] if quick else [20_000, 100_000, 1_000_000]
    rows = []
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="epi-synth-bench-") as tmp:
            res = subprocess.run(
                [sys.executable, "-c", _CHILD, str(n), "1", str(Path(tmp) / "out")],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            row: dict[str, float] = {
                "persons": n,
                **json.loads(res.stdout.strip().splitlines()[-1]),
            }
            if n <= 100_000:
                row |= calibration(Path(tmp) / "out")
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def main() -> int:
    """Command-line entry: run the benchmark and write ``bench/results/synth_standalone.json``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20,000 persons only")
    args = ap.parse_args()
    rows = run(quick=args.quick)
    from epi.io import atomic_write_json

    atomic_write_json(
        ROOT / "bench" / "results" / "synth_standalone.json", {"synthetic": True, "runs": rows}
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``epi check`` and ``epi run``: the protocol-driven pipeline.

A run lives in ``runs/<study-id>/<UTC timestamp>/``. It is built in a hidden
``.<timestamp>.partial`` folder and renamed into place when every stage has
finished, so an interrupted run leaves no half-written run folder and never
touches an earlier one. Every artefact carries the protocol fingerprint.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import platform
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from epi import __version__
from epi._progress import Progress
from epi.data import build_event_store, load_vocabularies
from epi.exceptions import ProtocolError
from epi.io import atomic_write_json
from epi.protocol import CodeList, LockStatus, Protocol, check_lock, load_protocol
from epi.protocol._registry import canonical

__all__ = ["RunContext", "check", "run"]

PACKAGES = (
    "numpy", "pandas", "duckdb", "pydantic", "scipy", "scikit-learn", "statsmodels",
    "lifelines", "scikit-survival", "pymc", "arviz", "stanza", "torch", "tableone",
    "matplotlib", "pypandoc_binary", "typst",
)  # fmt: skip


def _quiet(_: str) -> None:
    return None


def iter_code_lists(node: Any, path: str = "") -> Iterator[tuple[str, CodeList]]:
    """Every code list in a protocol with its key path."""
    if isinstance(node, CodeList):
        yield path, node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from iter_code_lists(getattr(node, name), f"{path}.{name}" if path else name)
    elif isinstance(node, list | tuple):
        for i, item in enumerate(node):
            yield from iter_code_lists(item, f"{path}[{i}]")
    elif isinstance(node, dict):
        for key, item in node.items():
            yield from iter_code_lists(item, f"{path}.{key}")


def check_code_lists(protocol: Protocol, file: str | Path) -> int:
    """Check that every code list names a known vocabulary and codes that could fit it.

    Returns
    -------
    int
        The number of code lists checked.

    Raises
    ------
    ProtocolError
        Naming the key path, the unknown vocabulary and the known ones.
    """
    vocabularies = load_vocabularies()
    n = 0
    for path, code_list in iter_code_lists(protocol):
        n += 1
        if code_list.vocabulary not in vocabularies:
            raise ProtocolError(
                f"{file}: '{path}.vocabulary': unknown code vocabulary "
                f"'{code_list.vocabulary}'. Known vocabularies: {', '.join(vocabularies)} "
                "(data_specs/_vocabularies.yaml)."
            )
    return n


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "epi": __version__}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


@dataclass
class RunContext:
    """What the stages of one run share: the protocol, its stamp and the run folder."""

    protocol: Protocol
    protocol_path: Path
    lock: LockStatus
    work_dir: Path
    progress: Progress
    timings: dict[str, float] = field(default_factory=dict)
    artefacts: dict[str, Any] = field(default_factory=dict)

    @property
    def stamp(self) -> dict[str, Any]:
        """Fields every artefact carries."""
        return {
            "protocol_fingerprint": self.lock.fingerprint,
            "study_id": self.protocol.study.id,
            "synthetic": self.protocol.data.source == "synthetic",
            "epi_version": __version__,
        }

    def write_json(self, relative: str, payload: dict[str, Any]) -> Path:
        """Write a stamped JSON artefact under the run folder."""
        return atomic_write_json(self.work_dir / relative, {**self.stamp, **payload})

    def timed(self, stage: str) -> _Timer:
        """Context manager recording the stage's wall time."""
        return _Timer(self, stage)


class _Timer:
    def __init__(self, ctx: RunContext, stage: str) -> None:
        self.ctx, self.stage = ctx, stage

    def __enter__(self) -> None:
        self.start = time.perf_counter()
        self.ctx.progress(f"{self.stage}…")

    def __exit__(self, *exc: object) -> None:
        self.ctx.timings[self.stage] = round(time.perf_counter() - self.start, 3)


def _prepare(protocol_path: str | Path) -> tuple[Protocol, LockStatus]:
    protocol = load_protocol(protocol_path)
    lock = check_lock(protocol, protocol_path)
    check_code_lists(protocol, protocol_path)
    return protocol, lock


def check(protocol_path: str | Path, progress: Progress | None = None) -> list[str]:
    """Validate a protocol (and its data, for ``source: tables``); return a summary.

    Raises
    ------
    EpiError
        On the first problem, naming file, key path or table and column.
    """
    progress = progress or _quiet
    protocol, lock = _prepare(protocol_path)
    lines = [
        f"protocol {protocol_path}: valid (study '{protocol.study.id}', fingerprint "
        f"{lock.fingerprint[:12]}…)",
        "registration: "
        + (
            f"locked {lock.locked_at}; amended sections: {list(lock.changed_sections) or 'none'}"
            if lock.locked
            else "not locked (run `epi protocol lock` to register it)"
        ),
        f"data: {protocol.data.source}",
    ]
    if protocol.data.source == "tables":
        import tempfile

        with tempfile.TemporaryDirectory(prefix="epi-check-") as tmp:
            report = build_event_store(
                Path(protocol.data.path),
                Path(tmp) / "check.duckdb",
                on_invalid=protocol.data.on_invalid,
                progress=progress,
            )
        for t in report.tables:
            state = f"{t.rows_kept} of {t.rows_read} rows valid" if t.present else "absent"
            lines.append(f"  {t.table}: {state}")
    return lines


def _run_dir(out_root: Path, study_id: str) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    base = out_root / study_id
    candidate, k = base / stamp, 1
    while candidate.exists() or (base / f".{candidate.name}.partial").exists():
        k += 1
        candidate = base / f"{stamp}-{k}"
    return candidate


def _stage_data(ctx: RunContext) -> Path:
    """Produce the folder of input tables (synthetic data is generated into the run)."""
    data = ctx.protocol.data
    if data.source == "synthetic":
        from epi.data.synth import generate

        with ctx.timed("synthetic data"):
            return generate(data.persons, data.seed, ctx.work_dir / "data", progress=ctx.progress)
    return Path(data.path)


def run(
    protocol_path: str | Path, out_root: str | Path = "runs", progress: Progress | None = None
) -> Path:
    """Run every stage of a protocol and return the finished run folder.

    Parameters
    ----------
    protocol_path : path
        The study protocol (YAML).
    out_root : path
        Runs are written to ``out_root/<study-id>/<timestamp>/``.
    progress : callable, optional
        Receives one short message per step.

    Raises
    ------
    EpiError
        On bad input; no run folder is left behind.
    """
    progress = progress or _quiet
    protocol_path = Path(protocol_path)
    protocol, lock = _prepare(protocol_path)
    if protocol.data.source == "analysis_table":
        raise ProtocolError(
            f"{protocol_path}: 'data.source: analysis_table' is not runnable yet in this version; "
            "use `epi evaluate` for a table of predictions."
        )
    final = _run_dir(Path(out_root), protocol.study.id)
    work = final.parent / f".{final.name}.partial"
    work.mkdir(parents=True)
    ctx = RunContext(protocol, protocol_path, lock, work, progress)
    try:
        started = time.perf_counter()
        ctx.write_json("protocol.json", {"protocol": canonical(protocol), "lock": lock.as_dict()})
        source = _stage_data(ctx)
        with ctx.timed("event store"):
            report = build_event_store(
                source,
                work / "store.duckdb",
                on_invalid=protocol.data.on_invalid,
                progress=progress,
            )
        ctx.write_json("data_report.json", {"tables": report.as_dict()})
        ctx.timings["total"] = round(time.perf_counter() - started, 3)
        ctx.write_json(
            "run.json",
            {
                "protocol_file": str(protocol_path),
                "lock": lock.as_dict(),
                "seed": protocol.seed,
                "started_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "timings_s": ctx.timings,
                "versions": _versions(),
                "stages_run": list(ctx.timings),
            },
        )
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    work.rename(final)
    progress(f"done: {final}")
    return final

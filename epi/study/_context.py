"""What the stages of one run share: the protocol, its stamp, the run folder and the writer.

Every aggregated artefact is written through `RunContext.write`, i.e. through
its typed bundle model (`epi.bundle`), so a stage cannot write a field the
report does not know.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from epi import __version__
from epi._progress import Progress
from epi.bundle import BUNDLE_VERSION, BundleFile, write_file
from epi.protocol import LockStatus, Protocol

__all__ = ["PACKAGES", "RunContext", "versions"]

F = TypeVar("F", bound=BundleFile)

#: Packages whose versions the run records (run.json, the report's appendix).
PACKAGES = (
    "numpy",
    "pandas",
    "duckdb",
    "pydantic",
    "scipy",
    "scikit-learn",
    "statsmodels",
    "lifelines",
    "scikit-survival",
    "pymc",
    "arviz",
    "stanza",
    "torch",
    "tableone",
    "matplotlib",
    "pypandoc_binary",
    "typst",
)


def versions() -> dict[str, str]:
    """Python, epi and the computing packages as installed (``run.json``)."""
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
    workers: int = 1
    started_utc: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    )

    @property
    def stamp(self) -> dict[str, Any]:
        """Fields every artefact carries."""
        return {
            "bundle_version": BUNDLE_VERSION,
            "protocol_fingerprint": self.lock.fingerprint,
            "study_id": self.protocol.study.id,
            "synthetic": self.protocol.data.source == "synthetic",
            "epi_version": __version__,
        }

    def write(self, cls: type[F], **fields: Any) -> F:
        """Validate ``fields`` as bundle file ``cls``, stamp it and write it atomically."""
        return write_file(self.work_dir, cls, self.stamp, **fields)

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

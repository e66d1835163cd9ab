"""Progress messages for long steps: one line per step on stderr, never person data."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

__all__ = ["Progress", "stderr_progress"]

Progress = Callable[[str], None]


def stderr_progress(prefix: str = "epi") -> Progress:
    """A progress callback printing ``[epi +12.3s] message`` to stderr."""
    start = time.perf_counter()

    def report(message: str) -> None:
        print(
            f"[{prefix} +{time.perf_counter() - start:6.1f}s] {message}",
            file=sys.stderr,
            flush=True,
        )

    return report

"""The one setting for parallel work: how many cores this process may use."""

from __future__ import annotations

import os

__all__ = ["resolve_n_jobs", "usable_cores"]


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity, e.g. a container's or taskset's
    limit), at least 1; ``os.cpu_count()`` would count the machine's, not ours."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # platforms without affinity (macOS)
        return max(1, os.cpu_count() or 1)


def resolve_n_jobs(n_jobs: int) -> int:
    """``n_jobs`` as joblib reads it: ``-1`` every usable core, ``-2`` all but one; at least 1."""
    n = int(n_jobs)
    return max(1, usable_cores() + 1 + n if n < 0 else n)

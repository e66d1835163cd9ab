"""Resamples in parallel processes, in a fixed order (internal)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from epi._cores import resolve_n_jobs

T = TypeVar("T")


def map_resamples(one: Callable[[int], T], n: int, n_jobs: int) -> list[T]:
    """``[one(k) for k in range(n)]``, spread over ``n_jobs`` joblib processes.

    One task per worker (a contiguous chunk of ``k``), so the data ``one``
    closes over travel to each process once. The resamples are drawn before
    the call, so the result does not depend on ``n_jobs``.
    """
    n_jobs = resolve_n_jobs(n_jobs)  # -1: every usable core
    if n_jobs <= 1 or n <= 1:
        return [one(k) for k in range(n)]
    from joblib import Parallel, delayed

    chunks = [c for c in np.array_split(np.arange(n), n_jobs) if c.size]

    def run_chunk(ks: NDArray[np.intp]) -> list[T]:
        return [one(int(k)) for k in ks]

    parts = Parallel(n_jobs=len(chunks))(delayed(run_chunk)(c) for c in chunks)
    return [r for part in parts for r in part]

"""One timing helper for the benchmark scripts, so every ratio is measured the same way."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_time(fn: Callable[[], object], repeat: int, *, warmup: bool = False) -> float:
    """Median wall time of ``repeat`` calls; ``warmup`` runs one untimed call first (caches, imports)."""
    if warmup:
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)

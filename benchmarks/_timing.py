"""The timing loops the figure scripts share (run as `python benchmarks/NAME.py`, which puts
this folder first on sys.path)."""
import time

import numpy as np


def timed(fn):
    """Seconds of one call of fn."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def call_times(fn, calls=None, seconds=None, at_least=3):
    """Seconds of each of `calls` calls of fn, or of the calls that fill about `seconds` (at
    least `at_least`), after one warm-up call."""
    fn()
    if calls is not None:
        return [timed(fn) for _ in range(calls)]
    times = []
    end = time.perf_counter() + seconds
    while len(times) < at_least or time.perf_counter() < end:
        times.append(timed(fn))
    return times


def median_seconds(fn, calls=None, seconds=None, at_least=3):
    return float(np.median(call_times(fn, calls, seconds, at_least)))

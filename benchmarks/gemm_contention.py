"""float32 GEMM while other processes keep every core busy: fastops and OpenBLAS (np.matmul)
on 1 and 2 threads, with and without one busy-loop process per core, in one process.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/gemm_contention.py

A thread that loses its CPU to another process must not hold up the call: with static shares
and a barrier per KC step, a 2-thread product ran 6-8x slower than on one thread under this
load (docs/thread_pool.md). Each figure is the median time of one call over about a second of
calls; the implementations alternate within each load.
"""
import argparse
import os
import subprocess
import sys

import numpy as np
from threadpoolctl import threadpool_limits

import fastops
from _timing import median_seconds

SHAPES = [(128, 784, 512), (10000, 784, 512), (1024, 1024, 1024), (2048, 2048, 2048)]


def busy_loops(count):
    """`count` processes that spin until killed."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def times_ms(seconds):
    """{(shape, impl, threads): median ms per call} for the SHAPES."""
    rng = np.random.default_rng(0)
    out = {}
    for m, k, n in SHAPES:
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        c = np.empty((m, n), np.float32)
        for nt in (2, 1):
            with fastops.config_context(num_threads=nt, backend="fastops"):
                out[(m, k, n), "fastops", nt] = 1e3 * median_seconds(
                    lambda: fastops.matmul(a, b, out=c), seconds=seconds)
            with threadpool_limits(nt):
                out[(m, k, n), "OpenBLAS", nt] = 1e3 * median_seconds(
                    lambda: np.matmul(a, b, out=c), seconds=seconds)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="of calls per figure")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    idle = times_ms(args.seconds)
    procs = busy_loops(cores)
    try:
        loaded = times_ms(args.seconds)
    finally:
        for p in procs:
            p.kill()
            p.wait()
    print(f"ms per call, idle and with {cores} busy-loop processes (one per core)")
    print(f"{'shape':<16}{'impl':<10}{'1T idle':>9}{'2T idle':>9}{'1T busy':>9}{'2T busy':>9}")
    for shape in SHAPES:
        for impl in ("fastops", "OpenBLAS"):
            row = [idle[shape, impl, 1], idle[shape, impl, 2],
                   loaded[shape, impl, 1], loaded[shape, impl, 2]]
            print(f"{'x'.join(map(str, shape)):<16}{impl:<10}"
                  + "".join(f"{t:9.2f}" for t in row))


if __name__ == "__main__":
    main()

"""Shared benchmark set-up: thread control for both sides and result bookkeeping.

Conventions every bench_*.py follows:
- one group per (operation, shape, dtype): `benchmark.group = "add (1000,) float32"`;
- the implementation is the parameter `impl` ("naive", "fastops", "numpy" or "blas"),
  so pytest-benchmark's table puts them side by side;
- the result is checked against NumPy for the very inputs that were timed;
- `record(benchmark, impl, flops=..., nbytes=...)` fills extra_info (GFLOP/s, GB/s, threads).

Threads: 1 by default, `--threads N` (or FASTOPS_BENCH_THREADS=N) for both fastops and
BLAS (through threadpoolctl), so ratios compare like with like.
"""
import os

import pytest

import fastops


def pytest_addoption(parser):
    parser.addoption("--threads", type=int,
                     default=int(os.environ.get("FASTOPS_BENCH_THREADS", "1")),
                     help="threads for fastops and BLAS in the benchmarks (default 1)")


@pytest.fixture(scope="session", autouse=True)
def bench_threads(request):
    n = request.config.getoption("--threads")
    from threadpoolctl import threadpool_limits
    saved = fastops.get_num_threads()
    fastops.set_num_threads(n)
    with threadpool_limits(limits=n):
        yield n
    fastops.set_num_threads(saved)


def record(benchmark, impl, *, flops=None, nbytes=None):
    """Fill extra_info after the timed call; rates use the median time."""
    info = benchmark.extra_info
    info["impl"] = impl
    info["threads"] = fastops.get_num_threads()
    info["simd"] = fastops.get_simd()
    stats = getattr(benchmark, "stats", None)
    median = stats.stats.median if stats is not None else None
    if flops is not None:
        info["flops"] = flops
        if median:
            info["gflops"] = flops / median / 1e9
    if nbytes is not None:
        info["bytes"] = nbytes
        if median:
            info["gbps"] = nbytes / median / 1e9

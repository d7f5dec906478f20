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
import time

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


@pytest.fixture(autouse=True)
def idle_thread_pools(bench_threads):
    """With several threads, let the previous benchmark's pool go idle first.

    OpenBLAS' threads spin for about 0.1 s after a call (fastops' pool sleeps after 1 ms);
    a benchmark started meanwhile shares the cores with them.  Each implementation is
    timed on its own; benchmarks/mixed_blas.py measures the alternating case.
    """
    if bench_threads > 1:
        time.sleep(0.3)


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


def pytest_configure(config):
    forced = {v: os.environ[v] for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if v in os.environ}
    if forced and not config.getoption("benchmark_disable", default=False):
        config.issue_config_time_warning(UserWarning(
            f"{forced} force an OpenBLAS kernel that may not be this CPU's best: BLAS ratios "
            f"will flatter fastops. Run the benchmarks with "
            f"`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE pytest --benchmark-only`"), stacklevel=2)


def pytest_benchmark_update_machine_info(config, machine_info):
    """Versions and the exact CPU into the JSON header (read by `python -m fastops.bench report`)."""
    import platform

    import numpy as np
    versions = {"numpy": np.__version__, "fastops": fastops.__version__}
    try:
        from threadpoolctl import threadpool_info
        for lib in threadpool_info():
            if lib.get("user_api") == "blas":
                versions["BLAS"] = (f"{lib.get('internal_api')} {lib.get('version')} "
                                    f"({lib.get('architecture')})")
                break
    except ImportError:
        pass
    machine_info["versions"] = versions
    machine_info["fastops_simd"] = fastops.get_simd()
    machine_info["openblas_coretype_forced"] = os.environ.get("OPENBLAS_CORETYPE")
    try:  # py-cpuinfo often reports only "AMD EPYC"; the kernel's model name is exact
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    machine_info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        machine_info["cpu_model"] = platform.processor() or None


# ---- fixtures shared by the bench_*.py files ----

NAIVE_ROUNDS = 3  # pure-Python loops: a few rounds of one call each are enough to rank them


@pytest.fixture(scope="module")
def rand():
    """rand(shape, dtype=np.float32, seed=0): a cached standard-normal input, read-only.

    Read-only so that no implementation can win by scribbling on an input it shares with
    the next benchmark (and fastops is exercised on read-only inputs as NumPy accepts them).
    Module scope: the 40 MB arrays of one file are freed before the next file runs.
    """
    import numpy as np
    cache = {}

    def make(shape, dtype=np.float32, seed=0):
        key = (tuple(shape), np.dtype(dtype).str, seed)
        if key not in cache:
            a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
            a.flags.writeable = False
            cache[key] = a
        return cache[key]
    return make


@pytest.fixture
def timed(benchmark):
    """timed(impl, fn, *args, nbytes=None, flops=None, **kwargs) -> fn(*args, **kwargs).

    Times the callable itself (no wrapper), with pedantic few rounds for "naive",
    then fills extra_info through `record`.
    """
    def run(impl, fn, *args, nbytes=None, flops=None, **kwargs):
        if impl == "naive":
            result = benchmark.pedantic(fn, args=args, kwargs=kwargs, rounds=NAIVE_ROUNDS,
                                        iterations=1, warmup_rounds=0)
        else:
            result = benchmark(fn, *args, **kwargs)
        record(benchmark, impl, nbytes=nbytes, flops=flops)
        return result
    return run


@pytest.fixture
def recorder(benchmark):
    """recorder(impl, flops=None, nbytes=None): `record` for this test's benchmark, for
    benchmarks timed by hand (pedantic with a setup) rather than through `timed`."""
    def run(impl, *, flops=None, nbytes=None):
        record(benchmark, impl, flops=flops, nbytes=nbytes)
    return run

"""The four rungs side by side, as an interleaved same-process report: naive Python, pure
Cython (the build of the SIMD setting, and the portable one), fastops (C + SIMD),
NumPy/BLAS.  Each figure is the best of several rounds, the implementations alternating
within a round; a round that other processes disturbed by more than 0.15 core is run
again, up to a limit.  (Every benchmark
group of the pytest suite has the same four rows; this script prints the ratios.)

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/ladder.py
"""
import os
import sys
import time

import numpy as np

import fastops
from fastops import _cython_kernels as ck
from fastops import naive

ELEMENTWISE = {  # op: (cython op code, second operand's shape from the first's, NumPy)
    # relu's second operand is the 0-d zero it is the maximum with
    "relu": (4, lambda s: (), lambda x, y, out=None: np.maximum(x, np.float32(0), out=out)),
    "add": (0, lambda s: s, np.add),
    "bias_add_relu": (6, lambda s: s[-1:],
                      lambda x, b, out=None: np.maximum(np.add(x, b, out=out), 0, out=out)),
}
SHAPES = {"relu": [(100, 10), (1000, 100), (10000, 1000)],
          "add": [(100, 10), (1000, 100), (10000, 1000)],
          "bias_add_relu": [(2, 512), (200, 512), (20000, 512)]}
NAIVE_MAX = 1000


def operands(op, shape, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    y = rng.standard_normal(ELEMENTWISE[op][1](shape)).astype(np.float32)
    return x, (np.zeros((), np.float32) if op == "relu" else y)


def elementwise_impl(op, impl, nthreads):
    """fn(x, y, out) -> out for one rung; `out` preallocated for all but naive."""
    code, _, numpy_fn = ELEMENTWISE[op]
    if impl == "cython":
        binary = ck.build_for(fastops._kernels.current_settings()[1]).binary

        def cython_call(x, y, out):
            binary(code, x, y, out, nthreads)
            return out
        return cython_call
    if impl == "fastops":
        fn = getattr(fastops, op)
        return (lambda x, y, out: fn(x, out=out)) if op == "relu" else \
            (lambda x, y, out: fn(x, y, out=out))
    if impl == "numpy":
        return lambda x, y, out: numpy_fn(x, y, out=out)
    fn = getattr(naive, op)
    return (lambda x, y, out: fn(x)) if op == "relu" else (lambda x, y, out: fn(x, y))


def matmul_impl(impl, nthreads):
    if impl == "cython":
        gemm = ck.build_for(fastops._kernels.current_settings()[1]).gemm

        def cython_call(a, b, out):
            gemm(a, b, out, 1.0, 0.0, nthreads)
            return out
        return cython_call
    if impl == "fastops":
        return lambda a, b, out: fastops.matmul(a, b, out=out, backend="fastops")
    if impl == "numpy":
        return np.matmul
    return lambda a, b, out: naive.matmul(a, b)


# ---- the interleaved report ----

def busy_cores_elsewhere(seconds_fn):
    """Runs seconds_fn(); returns (its result, cores that other processes kept busy)."""
    def busy():
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
        return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")
    b0, c0, w0 = busy(), time.process_time(), time.perf_counter()
    result = seconds_fn()
    wall = time.perf_counter() - w0
    others = (busy() - b0) - (time.process_time() - c0)
    return result, max(others, 0.0) / wall


def per_call(fn, args, min_time=0.05):
    """Seconds per call of fn(*args), timed over a block of at least min_time."""
    fn(*args)
    reps, elapsed = 1, 0.0
    while True:
        t0 = time.perf_counter()
        for _ in range(reps):
            fn(*args)
        elapsed = time.perf_counter() - t0
        if elapsed >= min_time:
            return elapsed / reps
        reps *= 2 if elapsed < min_time / 4 else max(2, int(min_time / elapsed) + 1)


def wait_until_quiet(quiet, patience=30.0):
    """Wait (up to `patience` seconds) until other processes use at most `quiet` cores."""
    deadline = time.perf_counter() + patience
    while time.perf_counter() < deadline:
        if busy_cores_elsewhere(lambda: time.sleep(0.2))[1] <= quiet:
            return


def interleaved(fns, args, rounds=5, nthreads=1, quiet=0.15, retries=4):
    """{name: (best seconds per call, load of other processes during that best)}."""
    best = {name: (float("inf"), 0.0) for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            if nthreads > 1:
                time.sleep(0.3)  # let the previous implementation's spinning threads sleep
            for _ in range(retries):
                wait_until_quiet(quiet)
                seconds, load = busy_cores_elsewhere(lambda: per_call(fn, args))
                if load <= quiet:
                    break
            if seconds < best[name][0]:
                best[name] = (seconds, load)
    return best


def report(nthreads):
    from threadpoolctl import threadpool_info, threadpool_limits
    fastops.set_num_threads(nthreads)
    # NumPy's OpenBLAS (np.matmul's), not scipy's second copy
    blas = sorted((i for i in threadpool_info() if i["user_api"] == "blas"),
                  key=lambda i: "numpy" not in i["filepath"])
    build = ck.build_for(fastops._kernels.current_settings()[1])
    build_name = "portable" if build is ck.PORTABLE else build.__name__.rsplit("_", 1)[1]
    print(f"\n## {nthreads} thread(s); fastops simd {fastops.get_simd()}, cython build "
          f"{build_name}, "
          f"BLAS {blas[0]['internal_api']} {blas[0]['version']} ({blas[0]['architecture']})")
    with threadpool_limits(nthreads):
        for n in (64, 1024):
            rng = np.random.default_rng(0)
            a, b = (rng.standard_normal((n, n)).astype(np.float32) for _ in range(2))
            out = np.empty((n, n), np.float32)
            impls = ["cython", "fastops", "numpy"] + (["naive"] if n == 64 else [])
            fns = {name: matmul_impl(name, nthreads) for name in impls}
            fns["cython-portable"] = lambda a, b, out: ck.PORTABLE.gemm(a, b, out, 1.0, 0.0, nthreads)
            res = interleaved(fns, (a, b, out), rounds=2 if n == 64 else 5, nthreads=nthreads)
            gf = {k: 2 * n**3 / v[0] / 1e9 for k, v in res.items()}
            print(f"matmul {n}^3 f32 GFLOP/s: " + ", ".join(f"{k} {v:.2f}" for k, v in gf.items())
                  + f" | cython/BLAS {gf['cython'] / gf['numpy']:.2f}, portable/BLAS "
                  f"{gf['cython-portable'] / gf['numpy']:.2f}, fastops/BLAS "
                  f"{gf['fastops'] / gf['numpy']:.2f} | worst load elsewhere "
                  f"{max(v[1] for v in res.values()):.2f} core")
            if n == 64:
                ladder("matmul 64^3", res)
        for op in ELEMENTWISE:
            for shape in SHAPES[op]:
                x, y = operands(op, shape)
                out = np.ones(shape, np.float32)
                impls = ["cython", "fastops", "numpy"] + (["naive"] if x.size <= NAIVE_MAX else [])
                fns = {name: elementwise_impl(op, name, nthreads) for name in impls}
                code = ELEMENTWISE[op][0]
                fns["cython-portable"] = lambda x, y, out: ck.PORTABLE.binary(code, x, y, out, nthreads)
                res = interleaved(fns, (x, y, out), rounds=2 if "naive" in fns else 7,
                                  nthreads=nthreads)
                us = {k: v[0] * 1e6 for k, v in res.items()}
                print(f"{op} {shape} out= us: " + ", ".join(f"{k} {v:.2f}" for k, v in us.items())
                      + f" | cython/fastops time {us['cython'] / us['fastops']:.2f}, portable/fastops "
                      f"{us['cython-portable'] / us['fastops']:.2f} | worst load elsewhere "
                      f"{max(v[1] for v in res.values()):.2f} core")
                if op == "relu" and x.size == 1000:
                    ladder("relu 1e3", res)
                if x.size >= 10**5:  # the call as a user writes it: a fresh result each time
                    fns = {"cython": lambda x, y, out: fns_out["cython"](x, y, np.empty_like(x)),
                           "fastops": (lambda x, y, out: getattr(fastops, op)(x)) if op == "relu"
                           else (lambda x, y, out: getattr(fastops, op)(x, y))}
                    fns_out = {"cython": elementwise_impl(op, "cython", nthreads)}
                    res = interleaved(fns, (x, y, None), rounds=7, nthreads=nthreads)
                    print(f"{op} {shape} allocating: cython/fastops time "
                          f"{res['cython'][0] / res['fastops'][0]:.2f} ({res['cython'][0] * 1e6:.0f} us"
                          f" vs {res['fastops'][0] * 1e6:.0f} us) | worst load elsewhere "
                          f"{max(v[1] for v in res.values()):.2f} core")


def ladder(name, res):
    t = {k: v[0] for k, v in res.items()}
    print(f"  ladder {name}: naive {t['naive'] * 1e6:.1f} us / cython {t['cython'] * 1e6:.2f} us"
          f" / fastops {t['fastops'] * 1e6:.2f} us / numpy-BLAS {t['numpy'] * 1e6:.2f} us; "
          f"speed-up over naive: cython {t['naive'] / t['cython']:.0f}x, fastops "
          f"{t['naive'] / t['fastops']:.0f}x, numpy-BLAS {t['naive'] / t['numpy']:.0f}x")


if __name__ == "__main__":
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if var in os.environ:
            sys.exit(f"unset {var} for this command: it forces a slower OpenBLAS kernel")
    for threads in (1, 2):
        report(threads)

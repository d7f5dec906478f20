"""matmul on the four rungs (the naive triple loop, the pure-Cython blocked GEMM, fastops'
packed SIMD GEMM, and BLAS: scipy's cython_blas and NumPy's), float32 and float64.

One group per (shape, dtype), GFLOP/s in extra_info (flops = 2*m*n*k).  Every impl
writes into a preallocated `out`, so the groups time the product, not allocation.
Shapes: squares 64^3 (with the pure-Python naive loop), 256^3, 1024^3, 2048^3, and the
five GEMMs of one chapter-2 MLP training step (batch 128, 784 -> 512 -> 10), with the
transposed operands as views, as backprop computes them.  "fastops-portable" is the
same kernel code on its plain-C micro-kernel (no SIMD intrinsics).

    pytest benchmarks/bench_matmul.py --benchmark-only [--threads 2]
"""
import numpy as np
import pytest

import fastops

# name: (m, k, n, which operand is a transposed view)
SHAPES = {
    "64^3": (64, 64, 64, None),
    "256^3": (256, 256, 256, None),
    "1024^3": (1024, 1024, 1024, None),
    "2048^3": (2048, 2048, 2048, None),
    "X.W1": (128, 784, 512, None),
    "X^T.dH": (784, 128, 512, "a"),
    "H.W2": (128, 512, 10, None),
    "dY.W2^T": (128, 10, 512, "b"),
    "H^T.dY": (512, 128, 10, "a"),
}
IMPLS = ("naive", "cython", "fastops", "fastops-portable", "blas", "numpy")
NAIVE_SHAPES = ("64^3",)           # a pure-Python 256^3 would take about a minute per round
PORTABLE_SKIP = ("2048^3",)        # several seconds per round; 1024^3 already ranks it


def _operands(rand, name, dtype):
    m, k, n, view = SHAPES[name]
    a = rand((k, m) if view == "a" else (m, k), dtype, seed=0)
    b = rand((n, k) if view == "b" else (k, n), dtype, seed=1)
    return (a.T if view == "a" else a), (b.T if view == "b" else b)


def _call(impl):
    if impl == "numpy":
        return np.matmul
    if impl == "blas":
        return lambda a, b, out: fastops.matmul(a, b, out=out, backend="blas")
    if impl in ("naive", "cython"):
        return lambda a, b, out: fastops.matmul(a, b, out=out, backend=impl)
    return lambda a, b, out: fastops.matmul(a, b, out=out, backend="fastops")


CASES = [pytest.param(name, dt, impl, id=f"{name}-{np.dtype(dt).name}-{impl}")
         for name in SHAPES for dt in (np.float32, np.float64) for impl in IMPLS
         if (impl != "naive" or name in NAIVE_SHAPES)
         and (impl != "fastops-portable" or name not in PORTABLE_SKIP)]


@pytest.mark.parametrize("name, dtype, impl", CASES)
def test_matmul(benchmark, recorder, rand, name, dtype, impl):
    m, k, n, _ = SHAPES[name]
    benchmark.group = f"matmul {name} ({m}x{k} . {k}x{n}) {np.dtype(dtype).name}"
    a, b = _operands(rand, name, dtype)
    out = np.zeros((m, n), dtype)
    fn = _call(impl)
    simd = "portable" if impl == "fastops-portable" else fastops.get_simd()
    with fastops.config_context(simd=simd):
        if impl == "naive":
            result = benchmark.pedantic(fn, args=(a, b, out), rounds=2, iterations=1)
        else:
            result = benchmark(fn, a, b, out)
    recorder(impl, flops=2 * m * n * k)
    # checked on the timed inputs: the float64 product within the length-k error bound
    exact = a.astype(np.float64) @ b.astype(np.float64)
    bound = 4 * k * np.finfo(dtype).eps / 2 * (np.abs(a).astype(np.float64) @ np.abs(b))
    assert result is out
    assert np.all(np.abs(out - exact) <= bound)

"""The pure-Cython rung's gemm (fastops._cython_kernels.gemm), every build.

Accuracy as for fastops.matmul: the bound of tests/gemm_bound.py, C_exact computed in float64
for float32 data and in long double for float64 data.  Shapes straddle every block size of
the kernel (MR = 4; NR = 24 floats or 12 doubles, twice that in the AVX-512 build; MC = 128,
KC = 256, NC = 4080).
"""
import numpy as np
import pytest
from gemm_bound import assert_within, reference

from helpers import CYTHON_BUILD_NAMES, cython_build

DTYPES = (np.float32, np.float64)


@pytest.fixture(params=CYTHON_BUILD_NAMES)
def build(request):
    return cython_build(request.param)


@pytest.fixture
def rng():
    return np.random.default_rng(20261201)


def check_gemm(build, a, b, c, alpha=1.0, beta=0.0, nthreads=1):
    saved = a.copy(), b.copy()
    exact, bound = reference(a, b, alpha, beta, c.copy())
    build.gemm(a, b, c, alpha, beta, nthreads)
    assert_within(c, exact, bound)
    np.testing.assert_array_equal(a, saved[0])
    np.testing.assert_array_equal(b, saved[1])


def operands(rng, m, k, n, dtype):
    return (rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype),
            np.full((m, n), np.nan, dtype))


# (m, k, n) just below, at and above MR, NR (floats and doubles), MC, KC and NC
EDGE_SHAPES = [(1, 1, 1), (3, 5, 11), (4, 7, 12), (5, 9, 13), (4, 3, 23), (4, 3, 24), (5, 3, 25),
               (127, 255, 47), (128, 256, 48), (129, 257, 49), (3, 4, 95), (4, 4, 96),
               (5, 4, 97), (257, 513, 30), (9, 3, 4079), (2, 2, 4080), (6, 5, 4081),
               (2, 1000, 3), (300, 2, 2)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", EDGE_SHAPES, ids=str)
def test_block_edges(build, rng, shape, dtype):
    check_gemm(build, *operands(rng, *shape, dtype))


def layouts(rng, rows, cols, dtype):
    """(name, array (rows, cols)) in layouts of every kind of strides."""
    def fresh(r, c):
        return rng.standard_normal((r, c)).astype(dtype)
    return [("c", fresh(rows, cols)), ("t", fresh(cols, rows).T),
            ("step", fresh(2 * rows, 3 * cols)[::2, ::3]), ("neg", fresh(rows, cols)[::-1, ::-1]),
            ("negt", fresh(cols, rows)[::-1].T)]


@pytest.mark.parametrize("dtype", DTYPES)
def test_operand_layouts(build, rng, dtype):
    m, k, n = 37, 29, 53
    for _, a in layouts(rng, m, k, dtype):
        for _, b in layouts(rng, k, n, dtype):
            for _, c in layouts(rng, m, n, dtype):
                c[...] = np.nan
                check_gemm(build, a, b, c)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("alpha, beta", [(1.0, 0.0), (2.5, 0.0), (1.0, 1.0), (-0.5, 2.0),
                                         (1.0, -1.0), (3.0, 0.25)])
def test_alpha_beta(build, rng, alpha, beta, dtype):
    for m, k, n in [(13, 300, 50), (130, 40, 7)]:
        a, b, _ = operands(rng, m, k, n, dtype)
        for _, c in layouts(rng, m, n, dtype):
            if beta == 0:
                c[...] = np.nan  # beta == 0 must not read C
            check_gemm(build, a, b, c, alpha, beta)


@pytest.mark.parametrize("dtype", DTYPES)
def test_k_zero_and_alpha_zero_only_scale_c(build, rng, dtype):
    for m, k, n in [(5, 0, 7), (5, 3, 7)]:
        a = np.full((m, k), np.nan, dtype)  # alpha == 0: A.B is not formed, NaN or not
        b = np.full((k, n), np.inf, dtype)
        c0 = rng.standard_normal((m, n)).astype(dtype)
        alpha = 0.0 if k else 1.5
        c = c0.copy()
        build.gemm(a, b, c, alpha, 2.0, 1)
        np.testing.assert_array_equal(c, 2 * c0)
        c = np.full((m, n), np.nan, dtype)
        build.gemm(a, b, c, alpha, 0.0, 1)
        np.testing.assert_array_equal(c, np.zeros((m, n), dtype))


@pytest.mark.parametrize("shape", [(0, 4, 5), (4, 5, 0), (0, 0, 0)], ids=str)
def test_empty(build, shape):
    m, k, n = shape
    for dtype in DTYPES:
        c = np.empty((m, n), dtype)
        build.gemm(np.ones((m, k), dtype), np.ones((k, n), dtype), c, 1.0, 0.0, 2)
        assert c.shape == (m, n)


@pytest.mark.parametrize("nthreads", [1, 2])
@pytest.mark.parametrize("dtype", DTYPES)
def test_threads(build, rng, nthreads, dtype):
    """Products large enough for a second thread (over 2 MFLOP each), in layouts that
    take the transposed-C path and the strided one."""
    for m, k, n in [(200, 257, 130), (130, 600, 31), (9, 300, 800)]:
        a, b, c = operands(rng, m, k, n, dtype)
        check_gemm(build, a, b, c, nthreads=nthreads)
        check_gemm(build, a[::-1], b.T.copy().T, np.full((n, m), np.nan, dtype).T,
                   1.0, 0.0, nthreads)
        check_gemm(build, a, b, rng.standard_normal((m, 2 * n)).astype(dtype)[:, ::2],
                   -1.0, 0.5, nthreads)


@pytest.mark.parametrize("dtype", DTYPES)
def test_special_values_propagate(build, rng, dtype):
    """NaN and inf in A or B reach exactly the elements of C that NumPy's product has them in."""
    a, b, c = operands(rng, 9, 30, 26, dtype)
    a[2, 5] = np.nan
    b[7, 11] = np.inf
    build.gemm(a, b, c, 1.0, 0.0, 1)
    with np.errstate(invalid="ignore"):
        expected = a.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_array_equal(np.isnan(c), np.isnan(expected))
    np.testing.assert_array_equal(np.isinf(c), np.isinf(expected))

"""fastops' GEMM skips the k steps where a packed MR-row panel of A is all zero (MNIST rows
are 81% zeros).  Adding exact zeros changes no accumulator, so the product must be bit for
bit the dense one; with an Inf or NaN in B the dense result is NaN (0 * Inf), and skipping
must not hide it.  The dense reference is the same GEMM one row at a time: a 1-row product
takes the small-M path, which packs nothing it could skip and accumulates the k steps in
the same order."""
import numpy as np
import pytest
from helpers import SIMD_PATHS

import fastops
from fastops import _kernels

# skipping runs from 4 column tiles of B (AVX2: n > 48; AVX-512, 64-wide tiles: n > 192);
# 2100 rows are too many for one packed slab of A on several threads (each unit then packs
# and scans its own); the MR and NR edges, several KC blocks (AVX2: k > 256; AVX-512:
# k > 512), fewer tiles and the small-M path must give the same bits too
SHAPES = [(128, 784, 64), (151, 40, 65), (64, 600, 70), (151, 40, 17), (7, 300, 33),
          (2100, 256, 70), (128, 784, 512), (151, 1100, 260)]


@pytest.fixture(params=[1, 2], ids=["1thread", "2threads"])
def exact_threads(request, monkeypatch):
    """Exactly n threads (the typed entry takes -n as exactly n): even small products split
    on 2, and on either count they stay on the packed paths, which skip zero steps (a small
    product otherwise runs the unpacked kernel, fo_gemm_small.inc)."""
    n = request.param
    entry = _kernels.BACKENDS["fastops"]
    monkeypatch.setitem(_kernels.BACKENDS, "fastops",
                        lambda a, b, c, isa, nt: entry(a, b, c, isa, -n))
    with fastops.config_context(num_threads=n):
        yield n


def sparse_rows(rng, m, k, dtype, zero_fraction=0.8):
    """Rows like MNIST's: a band of columns always zero, the rest zero at random, some rows
    and some 6-row groups entirely zero, and a few negative zeros."""
    a = rng.standard_normal((m, k)).astype(dtype)
    a[rng.random((m, k)) < zero_fraction] = 0
    a[:, : k // 5] = 0
    a[::9] = 0
    a[12:18] = 0
    a[rng.random((m, k)) < 0.01] = -0.0
    return a


def row_by_row(a, b):
    return np.vstack([fastops.matmul(a[i:i + 1], b, backend="fastops") for i in range(len(a))])


@pytest.mark.parametrize("simd", SIMD_PATHS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m,k,n", SHAPES, ids=str)
def test_skipped_zero_steps_change_no_bit(m, k, n, dtype, simd, exact_threads):
    rng = np.random.default_rng(m * k + n)
    a, b = sparse_rows(rng, m, k, dtype), rng.standard_normal((k, n)).astype(dtype)
    with fastops.config_context(simd=simd):
        got = fastops.matmul(a, b, backend="fastops")
        np.testing.assert_array_equal(got, row_by_row(a, b))
        # the transposed layout the backward pass reads (A = X^T): zero steps come from
        # columns of X that are zero in all of a panel's rows
        at = np.ascontiguousarray(a.T)
        np.testing.assert_array_equal(fastops.matmul(at.T, b, backend="fastops"), got)


@pytest.mark.parametrize("simd", SIMD_PATHS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
# B row-major and transposed (the SIMD packers read them differently); the bad value in
# the first and in a middle column tile (on 2 threads each thread packs and checks its
# own), in the partial last tile (the generic packer), and in the scalar tail of a
# transposed block (k = 203 is not a multiple of 8)
@pytest.mark.parametrize("b_layout,row,col", [("rows", 3, 5), ("rows", 3, 130), ("rows", 3, 258),
                                              ("columns", 3, 5), ("columns", 201, 130)])
@pytest.mark.parametrize("m", [60, 2700])
def test_inf_or_nan_in_b_reaches_the_rows_whose_step_is_zero(bad, dtype, b_layout, row, col,
                                                            simd, exact_threads, m):
    rng = np.random.default_rng(1)
    # 5 column tiles of B at AVX-512's 64 columns (17 at AVX2's 16): wide enough for the
    # GEMM to skip zero steps
    k, n = 203, 260
    a = sparse_rows(rng, m, k, dtype)
    a[:, row] = 0  # the step B's bad row meets is zero in every row of A
    b = rng.standard_normal((k, n)).astype(dtype)
    if b_layout == "columns":
        b = np.ascontiguousarray(b.T).T
    b[row, col] = bad
    with fastops.config_context(simd=simd), np.errstate(invalid="ignore"):
        got = fastops.matmul(a, b, backend="fastops")
        want = np.matmul(a.astype(np.float64), b.astype(np.float64))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    assert np.isnan(got[:, col]).all()


def test_all_zero_a_gives_zeros_whatever_out_held():
    a = np.zeros((50, 300), np.float32)
    b = np.random.default_rng(2).standard_normal((300, 40)).astype(np.float32)
    out = np.full((50, 40), np.nan, np.float32)
    fastops.matmul(a, b, out=out, backend="fastops")
    assert (out == 0).all() and not np.signbit(out).any()

"""Fused nn kernels (fastops.nnops) against NumPy references, on every SIMD path."""
import ctypes
import ctypes.util
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit

import fastops
from fastops import nn as nnops
from helpers import SIMD_PATHS

DTYPES = [np.float32, np.float64]
RTOL = {np.float32: 1e-5, np.float64: 1e-12}
# updates end in w - step: rounding of the operands shows as an absolute error near 0
ATOL = {np.float32: 1e-6, np.float64: 1e-14}


def ref_log_softmax(z):
    z = z.astype(np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


# glibc's <fenv.h> values on x86-64
FE_MODES = {"to nearest": 0, "downward": 0x400, "upward": 0x800, "toward zero": 0xC00}

# the simd and threads fixtures (every SIMD path the CPU has plus portable; 1 and 2
# threads) come from conftest.py


# ---- softmax ----

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (7, 10), (300, 300), (3, 4, 5), (5, 256), (5, 257),
                                   (3, 771)], ids=str)
def test_softmax_matches_numpy(dtype, shape, simd, threads):
    x = np.random.default_rng(0).normal(0, 5, shape).astype(dtype)
    before = x.copy()
    expected = np.exp(ref_log_softmax(x))
    actual = nnops.softmax(x)
    assert actual.dtype == dtype and actual.shape == shape
    np.testing.assert_allclose(actual, expected, rtol=RTOL[dtype], atol=1e-7)
    np.testing.assert_array_equal(x, before)


def test_softmax_exp_is_within_ulps_of_long_double_on_every_path(simd):
    # softmax([0, x]) = [1, e] / (1 + e) with e = exp(x): the ratio of the two outputs is
    # exp(x) up to the two divisions' roundings.  libm's exp (the portable path) reads 1.5 ulp
    # here; the SIMD paths' polynomial 1.9 (AVX-512 and AVX2 give the same bits, NaN signs aside).
    # (float64 rows: float32 rows take float lanes, tested below.)
    rng = np.random.default_rng(7)
    x = np.concatenate([-rng.random(200_000) * 708, [-708.0, -707.99, -0.0, -1e-300,
                                                     -np.log(2) / 2, -np.log(2) * 1.5, -1.0]])
    y = nnops.softmax(np.stack([np.zeros_like(x), x], axis=1))
    exact = np.exp(x.astype(np.longdouble))
    ulps = np.abs(y[:, 1] / y[:, 0] - exact) / np.spacing(exact.astype(np.float64))
    assert ulps.max() <= 2.5, (simd, ulps.max(), x[ulps.argmax()])
    assert y[-5, 1] == y[-5, 0] == 0.5  # exp(-0.0) is exactly 1


def test_float32_softmax_is_within_ulps_of_long_double_on_every_path(simd, threads):
    # float32 rows: the SIMD paths take exp in float lanes (the AVX-512 path calls the AVX2
    # function), summed and scaled in double, so within 1.5 ulp (1.42 read on Zen 3); x - max
    # is rounded to a float there, and its rounding error goes into the reduction, without
    # which these rows' spreads (to 110) cost 64 ulp, as in NumPy's five-call softmax.  The
    # portable path takes libm's double exp and rounds once (0.5 ulp).  Results below the
    # normal range are off by less than one subnormal step.  A strided row gives the
    # contiguous row's bits.
    rng = np.random.default_rng(5)
    rows = []
    for m in (0.0, 3.7, -50.3, 80.1, 1234.567, -1e4 + 0.3, 0.001):
        d = np.concatenate([rng.random(3000) * 110, rng.random(1000) * 2,
                            np.linspace(0, 104, 2000)])
        rows.append(m - d)
    z = np.array(rows, dtype=np.float32)
    wide = z.astype(np.longdouble)
    e = np.exp(wide - wide.max(axis=1, keepdims=True))
    exact = e / e.sum(axis=1, keepdims=True)
    got = nnops.softmax(z)
    err = np.abs(got.astype(np.longdouble) - exact)
    normal = exact >= np.finfo(np.float32).tiny
    ulps = err[normal] / np.spacing(exact[normal].astype(np.float32)).astype(np.longdouble)
    assert ulps.max() <= (0.5001 if simd == "portable" else 1.5), (simd, float(ulps.max()))
    assert err[~normal].max() < 2.0 ** -149, (simd, float(err[~normal].max()))
    strided = nnops.softmax(np.asfortranarray(z))
    np.testing.assert_array_equal(strided.view(np.int32), got.view(np.int32))


# Collected only where the CPU runs both paths, as the simd fixture holds only the paths the
# CPU has: under CI a skip fails, and an AVX2-only host has nothing to compare.
if "avx512" in SIMD_PATHS:
    @pytest.mark.parametrize("dtype", DTYPES)
    def test_avx2_and_avx512_softmax_rows_are_the_same_bits(dtype):
        # the two SIMD paths do the same arithmetic lane by lane and add in the same order; a
        # NaN's sign may differ between them (assert_array_equal compares NaNs as equal)
        rng = np.random.default_rng(11)
        for k in (1, 3, 8, 10, 13, 46, 257, 1000):
            z = (rng.normal(0, 30, (9, k)) * rng.choice([0.01, 1, 20], (9, 1))).astype(dtype)
            labels = rng.integers(0, k, 9)
            with fastops.config_context(simd="avx2"):
                a = nnops.softmax(z), nnops.sparse_softmax_crossentropy(z, labels)
            with fastops.config_context(simd="avx512"):
                b = nnops.softmax(z), nnops.sparse_softmax_crossentropy(z, labels)
            np.testing.assert_array_equal(a[0], b[0])
            np.testing.assert_array_equal(a[1][1], b[1][1])
            assert a[1][0] == b[1][0]


@pytest.mark.parametrize("row", [[0.0, -np.inf, 1.0], [np.inf, 0.0, 1.0], [np.nan, 0.0, 1.0],
                                 [-np.inf, -np.inf], [0.0, -710.0, -745.0, -800.0],
                                 [5e-324, 0.0], [0.0, -708.5, -1000.0, 3.0, -2.0, 1.0, 0.5,
                                                 -0.5, -709.0]], ids=str)
def test_softmax_special_values_are_libms_on_every_path(row, simd):
    # arguments outside [-708, 0] (NaN, +-inf, results below the normal range) take libm's
    # exp on every path, so they come out as on the portable path; -inf gives an exact 0
    z = np.array([row])
    with fastops.config_context(simd="portable"):
        expected = nnops.softmax(z)
        loss, grad, _ = nnops.sparse_softmax_crossentropy(z, np.array([len(row) - 1]))
    got = nnops.softmax(z)
    np.testing.assert_allclose(got, expected, rtol=4e-16, atol=0)
    assert np.array_equal(np.isnan(got), np.isnan(expected))
    assert np.array_equal(got == 0, expected == 0)
    sloss, sgrad, _ = nnops.sparse_softmax_crossentropy(z, np.array([len(row) - 1]))
    np.testing.assert_allclose(sgrad, grad, rtol=4e-16, atol=0)
    assert sloss == pytest.approx(loss, rel=1e-15, nan_ok=True)


@pytest.mark.parametrize("row", [[1.0, 3.0, 3.0, 2.0], [-0.0, 0.0, -1.0], [0.0, -0.0],
                                 [np.nan, 5.0, np.nan], [1.0, np.nan, 9.0],
                                 [-np.inf, -np.inf, -1.0], [2.0, 2.0, 2.0]], ids=str)
@pytest.mark.parametrize("width", [1, 100], ids=["short", "long"])
def test_crossentropy_correct_count_is_numpys_argmax(row, width, simd):
    # first of tied maxima, -0.0 equal to 0.0, the first NaN when there is one (numpy.argmax);
    # rows past 64 logits find it from the vector max, shorter ones in one scan.  Each value
    # repeated `width` times keeps the ties and the NaNs' order.
    z = np.repeat(np.array([row]), width, axis=1)
    first = int(np.argmax(z[0]))
    k = z.shape[1]
    for label in sorted({0, first, first + 1, k - 1} & set(range(k))):
        _, _, sparse = nnops.sparse_softmax_crossentropy(z, np.array([label]), grad=False)
        _, _, dense = nnops.softmax_crossentropy(z, np.eye(k)[[label]], grad=False)
        assert sparse == dense == (label == first), (label, sparse, dense, first)


def test_softmax_large_logits_and_aliasing():
    x = np.array([[1e4, 0.0, -1e4], [-1e30, -1e30, -1e30]], dtype=np.float32)
    out = nnops.softmax(x, out=x)
    assert np.shares_memory(out, x)
    np.testing.assert_allclose(out, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-6)


def test_softmax_transposed_input_is_copied_not_modified():
    x = np.random.default_rng(1).normal(size=(10, 6))
    np.testing.assert_allclose(nnops.softmax(x.T), np.exp(ref_log_softmax(x.T)), rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_backward_is_jacobian_product(dtype):
    rng = np.random.default_rng(2)
    y = nnops.softmax(rng.normal(size=(5, 7)).astype(dtype))
    g = rng.normal(size=(5, 7)).astype(dtype)
    expected = np.einsum("ij,ijk->ik", g, np.einsum("ij,jk->ijk", y, np.eye(7)) - y[:, :, None] * y[:, None, :])
    np.testing.assert_allclose(nnops.softmax_backward(g, y), expected, rtol=RTOL[dtype] * 10, atol=1e-7)


# ---- softmax + cross-entropy ----

def _onehot(labels, k, dtype):
    return np.eye(k, dtype=dtype)[labels]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n,k", [(1, 2), (128, 10), (96, 10), (3000, 30), (7, 257), (5, 600)])
def test_softmax_crossentropy_matches_numpy(dtype, n, k, simd, threads):
    rng = np.random.default_rng(n + k)
    z = rng.normal(0, 3, (n, k)).astype(dtype)
    labels = rng.integers(0, k, n)
    y = _onehot(labels, k, dtype)
    zc, yc = z.copy(), y.copy()
    loss, grad, correct = nnops.softmax_crossentropy(z, y)
    logp = ref_log_softmax(z)
    assert loss == pytest.approx(-(y * logp).sum() / n, rel=1e-6 if dtype == np.float32 else 1e-12)
    np.testing.assert_allclose(grad, (np.exp(logp) - y) / n, rtol=RTOL[dtype], atol=1e-8)
    assert correct == np.sum(z.argmax(1) == labels)
    np.testing.assert_array_equal(z, zc)
    np.testing.assert_array_equal(y, yc)
    # the sparse variant is the same quantity
    sloss, sgrad, scorrect = nnops.sparse_softmax_crossentropy(z, labels)
    assert sloss == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(sgrad, grad, rtol=RTOL[dtype], atol=1e-8)
    assert scorrect == correct


def test_crossentropy_gradient_by_finite_differences():
    rng = np.random.default_rng(3)
    z = rng.normal(0, 2, (4, 5))
    y = rng.random((4, 5))  # soft targets: exercises the sum(y) factor
    _, grad, _ = nnops.softmax_crossentropy(z, y)
    h = 1e-6
    numeric = np.empty_like(z)
    for idx in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += h
        zm[idx] -= h
        numeric[idx] = (nnops.softmax_crossentropy(zp, y, grad=False)[0]
                        - nnops.softmax_crossentropy(zm, y, grad=False)[0]) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("dtype", DTYPES)
def test_crossentropy_no_nan_from_log_zero(dtype):
    # softmax underflows to exactly 0 for the true class: the loss must be large and finite
    z = np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0]], dtype=dtype)
    y = _onehot([2, 0], 3, dtype)
    loss, grad, correct = nnops.softmax_crossentropy(z, y)
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    assert loss == pytest.approx((2000.0 + np.log(3.0)) / 2, rel=1e-6)
    assert correct == 1  # row 1 ties: argmax picks the first, as NumPy


def test_crossentropy_out_buffer_and_forward_only():
    z = np.random.default_rng(4).normal(size=(8, 10)).astype(np.float32)
    y = _onehot(np.arange(8), 10, np.float32)
    out = np.empty_like(z)
    loss, grad, _ = nnops.softmax_crossentropy(z, y, out=out)
    assert grad is out
    loss2, none, _ = nnops.softmax_crossentropy(z, y, grad=False)
    assert none is None and loss2 == loss


@pytest.mark.parametrize("labels", [[0, 10], [-1, 3], [[0], [11]]], ids=["k", "negative", "column"])
def test_sparse_labels_out_of_range(labels):
    z = np.zeros((2, 10), np.float32)
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        nnops.sparse_softmax_crossentropy(z, np.array(labels))


@pytest.mark.parametrize("call, exc, match", [
    (lambda: nnops.softmax_crossentropy(np.zeros((2, 3), np.float32), np.zeros((2, 4), np.float32)),
     ValueError, r"\(2, 4\).*\(2, 3\)"),
    (lambda: nnops.softmax_crossentropy(np.zeros((2, 3)), np.zeros((2, 3)), out=np.zeros((3, 2))),
     ValueError, "shape"),
    (lambda: nnops.softmax_crossentropy(np.zeros((2, 3), np.complex64), np.zeros((2, 3))),
     TypeError, "complex"),
    (lambda: nnops.softmax_crossentropy(np.zeros((2, 3), np.float16), np.zeros((2, 3))),
     TypeError, "float16"),
    (lambda: nnops.sparse_softmax_crossentropy(np.zeros((2, 3)), np.array([0.0, 1.0])),
     TypeError, "integers"),
    (lambda: nnops.sparse_softmax_crossentropy(np.zeros((2, 3)), np.array([0, 1, 2])),
     ValueError, r"\(2,\)"),
    (lambda: nnops.softmax(None), TypeError, "x is None"),
    (lambda: nnops.softmax(np.ma.masked_array(np.zeros(3))), TypeError, "MaskedArray"),
], ids=["width", "out-shape", "complex", "float16", "float-labels", "label-count", "none",
        "subclass"])
def test_bad_arguments(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_one_dtype_rule_promotes_like_numpy():
    # float32 with float64 computes in float64, integers become float64 (as np.exp does)
    z32 = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    y64 = _onehot([0, 1, 2, 0], 3, np.float64)
    loss, grad, _ = nnops.softmax_crossentropy(z32, y64)
    assert grad.dtype == np.float64
    expected = nnops.softmax_crossentropy(z32.astype(np.float64), y64)
    assert loss == expected[0]
    np.testing.assert_array_equal(grad, expected[1])
    ints = np.array([[1, 2], [3, 0]], np.int8)
    np.testing.assert_array_equal(nnops.softmax(ints), nnops.softmax(ints.astype(np.float64)))


def test_strided_out_is_written_in_place():
    x = np.random.default_rng(1).normal(size=(6, 5))
    out = np.zeros((6, 10))[:, ::2]
    assert nnops.softmax(x, out=out) is out
    np.testing.assert_allclose(out, np.exp(ref_log_softmax(x)), rtol=1e-12)


def test_readonly_out():
    out = np.empty((2, 3))
    out.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        nnops.softmax(np.zeros((2, 3)), out=out)


# ---- argmax, count, finiteness ----

@pytest.mark.parametrize("dtype", DTYPES)
def test_argmax_matches_numpy_with_ties_and_nan(dtype):
    x = np.random.default_rng(5).integers(0, 3, (50, 7)).astype(dtype)
    x[3, 4] = np.nan
    x[7, 0] = np.nan
    np.testing.assert_array_equal(nnops.argmax(x), np.argmax(x, axis=-1))
    np.testing.assert_array_equal(nnops.argmax(x[0]), np.argmax(x[0]))


def test_categorical_counts():
    p = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6]])
    y = _onehot([1, 1, 2], 3, np.float64)
    assert nnops.categorical_correct(p, y) == 2
    assert nnops.sparse_categorical_correct(p, [1, 1, 2]) == 2
    assert nnops.sparse_categorical_correct(p, [1, 7, 2]) == 2  # out of range: just wrong
    assert nnops.categorical_correct(p, y, sample_weight=[1.0, 5.0, 0.5]) == 1.5


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [0, 4095, 4096, 3_000_000 - 1])
def test_all_finite(dtype, bad, where, threads):
    x = np.ones(3_000_000, dtype)
    assert nnops.all_finite(x)
    x[where] = bad
    assert not nnops.all_finite(x)
    assert not nnops.all_finite(x.reshape(1000, -1)[:, ::-1])


# ---- sigmoid / tanh ----

@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_tanh_and_backward(dtype, simd, threads):
    rng = np.random.default_rng(6)
    x = rng.normal(0, 4, 70_001).astype(dtype)
    x[:2] = [-1000, 1000]
    g = rng.normal(size=x.shape).astype(dtype)
    s = nnops.sigmoid(x)
    np.testing.assert_allclose(s, expit(x.astype(np.float64)), rtol=RTOL[dtype] * 10)
    t = nnops.tanh(x)
    np.testing.assert_allclose(t, np.tanh(x), rtol=RTOL[dtype])
    # the backward ops are NumPy's formulas bit for bit on every path and layout: no fused
    # multiply-add in 1 - y*y (the AVX2 build fused it on contiguous runs only)
    for gl, sl, tl in ((g, s, t), (g[::-1], s[::-1], t[::-1]), (g[::3], s[::3], t[::3])):
        np.testing.assert_array_equal(nnops.sigmoid_backward(gl, sl), gl * (sl * (1 - sl)))
        np.testing.assert_array_equal(nnops.tanh_backward(gl, tl), gl * (1 - tl * tl))


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_tanh_ulps_of_long_double(dtype, simd):
    # float64, through libm (portable) or the exp / expm1 polynomial in double: within 3 ulp
    # (libm's read 2 here; on Zen 3's AVX2 path dense samples read 2.42 for sigmoid and 2.67
    # for tanh, whose worst lie near x = 0.18, where expm1(-2x) cancels: sampled densely below,
    # with the point that read 4.05 before the polynomial added r last).  float32: portable rounds the double result once (<= 0.5 ulp);
    # the SIMD paths compute in float32 lanes, as NumPy does, within 2 ulp (a sweep of every
    # float32 read 1.94 for tanh and 1.50 for sigmoid; np.tanh reads 1.4 here and
    # 1 / (1 + exp(-x)) 3.2), and AVX-512's float32 tanh, from interval polynomials, within 1
    # (0.73).  Tiny arguments keep their digits (tanh through expm1 or its Taylor series)
    rng = np.random.default_rng(12)
    x = (rng.normal(size=100_000) * rng.choice([1e-9, 1e-3, 0.1, 1, 10, 300], 100_000))
    if dtype == np.float32:  # 2e6 points of [0.1, 12), where the worst cases lie
        x = np.concatenate([x, np.linspace(0.1, 12, 1_000_000), -np.linspace(0.1, 12, 1_000_000)])
    else:
        x = np.concatenate([x, rng.uniform(0.17, 0.2, 1_000_000), [0.18965809823292662]])
    x = x.astype(dtype)
    wide = x.astype(np.longdouble)
    bound = 3.0 if dtype == np.float64 else (0.5 if simd == "portable" else 2.0)
    tanh_bound = 1.0 if (dtype, simd) == (np.float32, "avx512") else bound
    for got, exact, most in ((nnops.sigmoid(x), 1 / (1 + np.exp(-wide)), bound),
                             (nnops.tanh(x), np.tanh(wide), tanh_bound)):
        keep = np.abs(exact) > 1e-290
        ulps = np.abs(got[keep] - exact[keep]) / np.spacing(np.abs(exact[keep]).astype(dtype))
        assert ulps.max() <= most, (simd, float(ulps.max()))


def test_tanhf_table_is_the_generators_output():
    # src/fo_tanhf_table.h is generated; the fit runs in x86's 80-bit long double
    if np.finfo(np.longdouble).nmant != 63:
        pytest.skip("the generator fits against x86's 80-bit long double")
    root = Path(__file__).resolve().parent.parent
    run = subprocess.run([sys.executable, str(root / "scripts" / "gen_tanhf_table.py")],
                         capture_output=True, text=True, timeout=120, check=True)
    assert run.stdout == (root / "src" / "fo_tanhf_table.h").read_text()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["upward", "downward", "toward zero"])
def test_exp_kernels_under_a_directed_rounding_mode(dtype, mode, simd, threads):
    # the vector exp rounds n = x / ln 2 to nearest whatever the caller's MXCSR mode (which
    # the pool hands to its workers); rounding it in that mode would put |r| up to ln 2, past
    # the polynomial's range (hundreds of ulp).  Measured: at most 7 ulp, libm's 3
    libm = ctypes.util.find_library("m")
    if libm is None or platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip("sets the rounding mode through x86-64 glibc's fesetround")
    libm = ctypes.CDLL(libm)
    rng = np.random.default_rng(14)
    x = (rng.normal(size=50_000) * rng.choice([1e-9, 1e-3, 0.3, 3, 30], 50_000)).astype(dtype)
    z = np.stack([x[:5000], np.zeros(5000, dtype)], 1)
    wide = x.astype(np.longdouble)
    e = np.exp(wide[:5000])
    exact = {"tanh": np.tanh(wide), "sigmoid": 1 / (1 + np.exp(-wide)),
             "softmax": np.stack([e / (1 + e), 1 / (1 + e)], 1)}
    assert libm.fesetround(FE_MODES[mode]) == 0
    try:
        got = {"tanh": nnops.tanh(x), "sigmoid": nnops.sigmoid(x), "softmax": nnops.softmax(z)}
    finally:
        libm.fesetround(FE_MODES["to nearest"])
    for name, want in exact.items():
        ulps = np.abs(got[name] - want) / np.spacing(np.abs(want).astype(dtype))
        assert ulps.max() <= 8, (name, mode, simd, float(ulps.max()))


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_tanh_special_values_and_layouts(dtype, simd):
    # arguments past the polynomial's range (|x| > 354 for tanh, > 708 for sigmoid; in
    # float32 lanes 43.5 and 87), NaN and infinities take libm's path (AVX-512's float32
    # tanh computes them all); signs of zero are kept; a value's result does not depend on
    # the layout, the block it falls in or the thread split
    x = np.array([0.0, -0.0, 5e-324, -5e-324, 1e-300, 353.9, 354.1, -354.1, 707.9, 708.1,
                  -708.1, -745.5, 1000.0, -1000.0, np.inf, -np.inf, np.nan, 20.0, -20.0, 1e-8,
                  43.4, -43.6, 86.9, -86.9, -87.1, -88.5, -103.0, -104.0, 1e-45, -1e-40])
    x = x.astype(dtype)
    with fastops.config_context(simd="portable"):
        s0, t0 = nnops.sigmoid(x), nnops.tanh(x)
    s, t = nnops.sigmoid(x), nnops.tanh(x)
    np.testing.assert_allclose(s, s0, rtol=4 * np.finfo(dtype).eps, atol=0)
    np.testing.assert_allclose(t, t0, rtol=4 * np.finfo(dtype).eps, atol=0)
    assert np.array_equal(np.signbit(t), np.signbit(t0)) and np.isnan(t[16]) and np.isnan(s[16])
    assert t[14] == 1 and t[15] == -1 and s[14] == 1 and s[15] == 0
    rng = np.random.default_rng(13)
    y = (rng.normal(size=10_003) * 30).astype(dtype)
    for fn in (nnops.sigmoid, nnops.tanh):
        whole = fn(y)
        np.testing.assert_array_equal(fn(y[::-1])[::-1], whole)
        np.testing.assert_array_equal(fn(y[3:])[:-2], whole[3:-2])
        np.testing.assert_array_equal(fn(np.repeat(y, 2)[::2]), whole)
        with fastops.config_context(num_threads=2):
            np.testing.assert_array_equal(fn(y), whole)
        inplace = y.copy()
        assert fn(inplace, out=inplace) is inplace
        np.testing.assert_array_equal(inplace, whole)


# ---- optimizer updates: one kernel pass vs the Keras formulas in NumPy ----

SIZES = [5, 1000, 200_003]


def _state(n, dtype, seed=7):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=n).astype(dtype)
    g = rng.normal(size=n).astype(dtype)
    s1 = rng.random(n).astype(dtype)
    s2 = rng.normal(size=n).astype(dtype) * 0.1
    return w, g, s1, s2


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("centered, momentum", [(False, 0.0), (True, 0.0), (False, 0.9), (True, 0.5)])
def test_rmsprop_update(dtype, n, centered, momentum, simd, threads):
    w, g, v, a = _state(n, dtype)
    m = (a * 3).astype(dtype)
    lr, rho, eps = dtype(0.01), dtype(0.9), dtype(1e-7)
    ev = rho * v + (1 - rho) * g * g
    ea = rho * a + (1 - rho) * g
    den = ev - ea * ea + eps if centered else ev + eps
    den = np.abs(den)  # keep the reference and the kernel on real numbers
    inc = lr * g / np.sqrt(den)
    em = momentum * m + inc
    ew = w - (em if momentum else inc)
    if centered:  # make den positive for the kernel as for the reference
        v = v + 1.0
        ev = rho * v + (1 - rho) * g * g
        den = ev - ea * ea + eps
        inc = lr * g / np.sqrt(den)
        em = momentum * m + inc
        ew = w - (em if momentum else inc)
    gc = g.copy()
    nnops.rmsprop_update(w, g, v, 0.01, 0.9, 1e-7, momentum, m if momentum else None, a if centered else None)
    np.testing.assert_allclose(w, ew, rtol=RTOL[dtype] * 10, atol=ATOL[dtype])
    np.testing.assert_allclose(v, ev, rtol=RTOL[dtype], atol=ATOL[dtype])
    if centered:
        np.testing.assert_allclose(a, ea, rtol=RTOL[dtype], atol=ATOL[dtype])
    if momentum:
        np.testing.assert_allclose(m, em, rtol=RTOL[dtype] * 10, atol=ATOL[dtype])
    np.testing.assert_array_equal(g, gc)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("momentum, nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd_update(dtype, n, momentum, nesterov, simd, threads):
    w, g, m, _ = _state(n, dtype)
    lr = dtype(0.1)
    em = momentum * m - lr * g
    if not momentum:
        ew = w - lr * g
    elif nesterov:
        ew = w + momentum * em - lr * g
    else:
        ew = w + em
    nnops.sgd_update(w, g, m if momentum else None, 0.1, momentum, nesterov)
    np.testing.assert_allclose(w, ew, rtol=RTOL[dtype] * 10, atol=ATOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
def test_adagrad_update(dtype, n, simd, threads):
    w, g, acc, _ = _state(n, dtype)
    ea = acc + g * g
    ew = w - dtype(0.05) * g / np.sqrt(ea + dtype(1e-7))
    nnops.adagrad_update(w, g, acc, 0.05, 1e-7)
    np.testing.assert_allclose(acc, ea, rtol=RTOL[dtype], atol=ATOL[dtype])
    np.testing.assert_allclose(w, ew, rtol=RTOL[dtype] * 10, atol=ATOL[dtype])


def _ulps(a, b):
    """Units in the last place between float32 arrays (0 for equal bits; NaN never here)."""
    ia, ib = (x.view(np.int32).astype(np.int64) for x in (a, b))
    ia, ib = (np.where(i < 0, -(i & 0x7FFFFFFF), i) for i in (ia, ib))
    return np.abs(ia - ib)


# RMSprop's and Adagrad's float32 SIMD steps take 1/sqrt from rsqrt14 (AVX-512) or rsqrt
# (AVX2) and a Newton step; Adam's keeps the exact square root and division
QUOTIENT_ULPS = {"avx512": 3, "avx2": 6, "portable": 0}


@pytest.mark.parametrize("which", ["rmsprop", "adagrad", "adam"])
@pytest.mark.parametrize("eps", [1e-7, 0.0])
def test_float32_step_quotient_ulps_and_special_values(which, eps, simd, threads):
    """w -= x / sqrt(s + eps) (RMSprop, Adagrad: x = lr g) or x / (sqrt(s) + eps) (Adam:
    x = alpha m), from w = 0, so -w is the quotient itself: within a few ulp of the scalar
    formula (NumPy's correctly rounded sqrt and division, in float32, from the kernel's own
    x and s) on the lanes the approximations cover, and the scalar formula's very bits where
    an operand is 0, subnormal, Inf, NaN or negative, wherever those lanes fall in a vector,
    its tail, or a thread's range."""
    rng = np.random.default_rng(8)
    n = 100_003
    g = (rng.choice([-1, 1], n) * 10.0 ** rng.uniform(-18, 18, n)).astype(np.float32)
    s = (10.0 ** rng.uniform(-30, 30, n)).astype(np.float32)
    special = [(0, 0), (0, 1e-25), (1e-39, 0), (1e-39, 1e-30), (np.inf, 1), (1, np.inf),
               (1, np.nan), (np.nan, 1), (-1, 0), (-1, 1e-3), (3.4e38, 1e19), (0, -0.0)]
    where = np.concatenate([rng.choice(n - 40, 400, replace=False), np.arange(n - 20, n)])
    for i, at in enumerate(where):
        s[at], g[at] = special[i % len(special)]
    w, state = np.zeros(n, np.float32), s.copy()
    tiny, huge = np.finfo(np.float32).tiny, np.finfo(np.float32).max
    e = np.float32(eps)
    with np.errstate(all="ignore"):
        if which == "adam":
            m = (g * np.float32(0.5)).astype(np.float32)
            m[where[::7]] = 0.0  # dead units: m = 0 and, from s = 0, v = 0
            state[where[::7]] = 0.0
            g[where[::7]] = 0.0
            nnops.adam_update(w, g, m, state, 1, 0.001, 0.9, 0.999, eps)
            alpha = np.float32(0.001 * np.sqrt(1 - 0.999) / (1 - 0.9))
            root = np.sqrt(state)
            expected = (alpha * m) / (root + e)  # from the kernel's own m and v
            d = root + e
            covered = ((state == 0) | ((state >= tiny) & (state <= huge))) \
                & (d >= tiny) & (d <= huge)
            bound = 0
        else:
            if which == "rmsprop":
                nnops.rmsprop_update(w, g, state, 0.001, 0.9, eps)
            else:
                nnops.adagrad_update(w, g, state, 0.001, eps)
            expected = (np.float32(0.001) * g) / np.sqrt(state + e)  # from the kernel's own s
            d = state + e
            covered = (d >= tiny) & (d <= huge)
            bound = QUOTIENT_ULPS[simd]
    got = -w
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    assert covered.sum() > n * 0.9 and (~covered).sum() >= 100
    odd = ~covered & ~np.isnan(expected)
    np.testing.assert_array_equal(got[odd], expected[odd])
    assert _ulps(got[covered], expected[covered]).max() <= bound


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_update(dtype, n, amsgrad, simd, threads):
    w, g, v, m = _state(n, dtype)
    vhat = (v * 1.5).astype(dtype)
    step, lr, b1, b2, eps = 3, 0.001, 0.9, 0.999, 1e-7
    alpha = lr * np.sqrt(1 - b2 ** step) / (1 - b1 ** step)
    em = m + (g - m) * (1 - b1)
    ev = v + (g * g - v) * (1 - b2)
    used = np.maximum(vhat, ev) if amsgrad else ev
    ew = w - alpha * em / (np.sqrt(used) + eps)
    nnops.adam_update(w, g, m, v, step, lr, b1, b2, eps, vhat if amsgrad else None)
    np.testing.assert_allclose(m, em, rtol=RTOL[dtype] * 10, atol=ATOL[dtype])
    np.testing.assert_allclose(v, ev, rtol=RTOL[dtype] * 10, atol=ATOL[dtype])
    np.testing.assert_allclose(w, ew, rtol=RTOL[dtype] * 10, atol=ATOL[dtype])


def test_update_bad_arguments():
    w = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match="velocity"):
        nnops.rmsprop_update(w, np.zeros(4, np.float32), np.zeros(5, np.float32))
    with pytest.raises(TypeError, match="float64"):
        nnops.rmsprop_update(w, np.zeros(4), np.zeros(4, np.float32))
    with pytest.raises(ValueError, match="learning_rate"):
        nnops.rmsprop_update(w, np.zeros(4, np.float32), np.zeros(4, np.float32), np.nan)
    with pytest.raises(ValueError, match="momentum_buffer"):
        nnops.sgd_update(w, np.zeros(4, np.float32), None, 0.1, momentum=0.5)
    ro = np.zeros(4, np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        nnops.adagrad_update(ro, np.zeros(4, np.float32), np.zeros(4, np.float32))
    with pytest.raises(ValueError, match="step"):
        nnops.adam_update(w, w.copy(), w.copy(), w.copy(), 0)


def test_softmax_rejects_an_empty_class_axis():
    for shape in [(3, 0), (0,), (2, 2, 0)]:
        with pytest.raises(ValueError, match="empty last axis"):
            nnops.softmax(np.empty(shape, np.float32))


def _misaligned(shape, dtype):
    buf = np.zeros(int(np.prod(shape)) * np.dtype(dtype).itemsize + 1, np.uint8)
    a = np.frombuffer(buf.data, dtype=dtype, count=int(np.prod(shape)), offset=1).reshape(shape)
    assert not a.flags.aligned
    return a


def test_misaligned_inputs_and_outputs_give_the_same_result():
    x = _misaligned((4, 5), np.float32)
    x[...] = np.arange(20, dtype=np.float32).reshape(4, 5) / 7
    expected = nnops.softmax(np.array(x))
    np.testing.assert_array_equal(nnops.softmax(x), expected)
    out = _misaligned((4, 5), np.float32)
    assert nnops.softmax(np.array(x), out=out) is out
    np.testing.assert_array_equal(out, expected)


def test_overlap_with_out_is_as_if_the_inputs_were_copied():
    base = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    expected = nnops.softmax(base[:4].copy())
    got = nnops.softmax(base[:4], out=base[1:])  # partial overlap: NumPy's as-if-copied rule
    np.testing.assert_array_equal(got, expected)
    base = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    expected = nnops.softmax(base.copy())
    assert nnops.softmax(base, out=base) is base
    np.testing.assert_allclose(base, expected, rtol=1e-6)


def test_out_sharing_memory_with_labels_reads_the_labels_first():
    # issue 9: out overwrote labels still to be read, which then indexed the logits (SIGSEGV)
    buf = np.zeros(16, np.float64)
    out = buf.reshape(4, 4)
    labels = buf[:4].view(np.int64)
    labels[:] = [0, 1, 2, 3]
    z = np.random.default_rng(3).normal(size=(4, 4))
    expected = nnops.sparse_softmax_crossentropy(z, labels.copy())
    loss, grad, correct = nnops.sparse_softmax_crossentropy(z, labels, out=out)
    assert grad is out and loss == expected[0] and correct == expected[2]
    np.testing.assert_array_equal(grad, expected[1])


def test_out_sharing_memory_with_y_true_reads_it_first():
    buf = np.random.default_rng(4).random(16)
    y = buf[:12].reshape(3, 4).copy()
    z = np.random.default_rng(5).normal(size=(3, 4))
    expected = nnops.softmax_crossentropy(z, y)
    shared = np.concatenate([y.ravel(), [0.0] * 4])
    y_view, out = shared[:12].reshape(3, 4), shared[4:].reshape(3, 4)
    loss, grad, _ = nnops.softmax_crossentropy(z, y_view, out=out)
    assert loss == expected[0]
    np.testing.assert_array_equal(grad, expected[1])


def test_gradient_sharing_the_variable_is_read_as_given_slots_must_not_share():
    w = np.ones(6, np.float32)
    expected_w = w.copy()
    nnops.rmsprop_update(expected_w, np.ones(6, np.float32), np.zeros(6, np.float32))
    v = np.zeros(6, np.float32)
    nnops.rmsprop_update(w, w, v)  # the gradient is w as it was before the step
    np.testing.assert_array_equal(w, expected_w)
    w = np.ones(6, np.float32)
    with pytest.raises(ValueError, match="shares memory"):
        nnops.rmsprop_update(w, np.ones(6, np.float32), w)
    v2 = np.zeros(6, np.float32)
    with pytest.raises(ValueError, match="shares memory"):  # two slots, one buffer
        nnops.rmsprop_update(w, np.ones(6, np.float32), v2, momentum=0.5, momentum_buffer=v2)
    with pytest.raises(ValueError, match="shares memory"):
        nnops.adam_update(w, np.ones(6, np.float32), v2, v2, 1)

"""The pure-Cython rung (fastops._cython_kernels): binary and sum, every build.

The entries are called directly with inputs prepared as their contract says (the
checking layer above them validates, broadcasts and allocates).  Each test runs on the
portable build and, where this CPU can run them, on the AVX2 and AVX-512 builds of the
same source.
GEMM is tested in test_cython_rung_gemm.py.
"""
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import fastops
from fastops import _cython_kernels as ck
from helpers import CYTHON_BUILD_NAMES, cython_build

BUILDS = {"portable": ck.PORTABLE, "avx2": ck._avx2_build(), "avx512": ck._avx512_build()}
DTYPES = (np.float32, np.float64)
SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0]
OP_NAMES = ("add", "subtract", "multiply", "divide", "maximum", "minimum",
            "bias_add_relu", "relu_backward")


def numpy_op(op, a, b):
    """NumPy's result for op code `op` (the contract's reference)."""
    with np.errstate(all="ignore"):
        if op == 6:
            return np.maximum(np.add(a, b), 0)
        if op == 7:
            return np.where(b > 0, a, 0).astype(np.result_type(a, b))
        return (np.add, np.subtract, np.multiply, np.divide, np.maximum, np.minimum)[op](a, b)


@pytest.fixture(params=CYTHON_BUILD_NAMES)
def build(request):
    return cython_build(request.param)


def assert_bitwise(actual, expected):
    """Same shape and dtype, NaN where NumPy has NaN, and every other bit identical
    (so -0.0 and 0.0 differ, which assert_array_equal would accept)."""
    expected = np.asarray(expected)
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    nan = np.isnan(expected)
    np.testing.assert_array_equal(np.isnan(actual), nan)
    ints = np.int32 if actual.dtype == np.float32 else np.int64
    got, want = actual[~nan].view(ints), expected[~nan].view(ints)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, (f"{bad.size} elements differ, first: got {actual[~nan][bad[0]]!r}, "
                           f"NumPy {expected[~nan][bad[0]]!r}")


def data(rng, shape, dtype, special=True):
    x = rng.standard_normal(shape).astype(dtype)
    if special and x.size:
        flat = x.reshape(-1)
        picks = rng.integers(0, x.size, size=max(1, x.size // 4))
        flat[picks] = rng.choice(SPECIAL, size=picks.size)
    return x


def layouts(rng, shape, dtype):
    """(name, array of `shape`) in the memory layouts the entries must accept."""
    out = [("contiguous", data(rng, shape, dtype))]
    if len(shape) >= 2:
        out.append(("transposed", data(rng, shape[::-1], dtype).T))
        out.append(("fortran", np.asfortranarray(data(rng, shape, dtype))))
    if len(shape) >= 1:
        big = data(rng, tuple(2 * n + 1 for n in shape), dtype)
        out.append(("step2", big[tuple(slice(1, 2 * n + 1, 2) for n in shape)]))
        out.append(("negative", data(rng, shape, dtype)[..., ::-1]))
    return out


def run_binary(build, op, a, b, nthreads=1, out=None):
    if out is None:
        out = np.full(np.broadcast_shapes(a.shape, b.shape), 7.0, a.dtype)
    build.binary(op, a, b, out, nthreads)
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", range(8), ids=OP_NAMES)
def test_binary_layouts(build, op, dtype):
    rng = np.random.default_rng(1)
    for shape in [(7, 13), (3, 5, 4)]:
        for (na, a), (nb, b) in itertools.product(layouts(rng, shape, dtype), repeat=2):
            for out_layout in ("contiguous", "negative", "transposed"):
                out = np.empty(shape, dtype)
                if out_layout == "negative":
                    out = out[..., ::-1]
                elif out_layout == "transposed":
                    out = np.empty(shape[::-1], dtype).T
                assert_bitwise(run_binary(build, op, a, b, out=out), numpy_op(op, a, b))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", range(8), ids=OP_NAMES)
def test_binary_special_pairs(build, op, dtype):
    """Every pair of special values, both ways round: NaN propagation, signed zeros, infs."""
    pairs = np.array(list(itertools.product(SPECIAL, repeat=2)), dtype)
    a, b = pairs[:, 0].copy(), pairs[:, 1].copy()
    assert_bitwise(run_binary(build, op, a, b), numpy_op(op, a, b))
    # the same values through the broadcast-scalar loops
    for v in SPECIAL:
        s = np.array(v, dtype)
        assert_bitwise(run_binary(build, op, a, s), numpy_op(op, a, s))
        assert_bitwise(run_binary(build, op, s, b), numpy_op(op, s, b))


BROADCASTS = [((6, 512), (512,)), ((6, 5), (6, 1)), ((1, 9), (8, 1)), ((4, 3, 5), (3, 1)),
              ((2, 1, 5), (4, 1)), ((7,), ()), ((), (7,)), ((), ()), ((1, 1), (1,)),
              ((0, 5), (5,)), ((3, 0), (3, 1)), ((5, 1, 1, 2), (1, 3, 1)), ((1,), (1, 4))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", BROADCASTS, ids=str)
def test_binary_broadcasting(build, shapes, dtype):
    rng = np.random.default_rng(2)
    for op in range(8):
        for (_, a), (_, b) in itertools.product(layouts(rng, shapes[0], dtype),
                                                layouts(rng, shapes[1], dtype)):
            assert_bitwise(run_binary(build, op, a, b), numpy_op(op, a, b))
            assert_bitwise(run_binary(build, op, b, a), numpy_op(op, b, a))


@pytest.mark.parametrize("dtype", DTYPES)
def test_zero_stride_inputs(build, dtype):
    """Inputs of full shape whose strides are zero (np.broadcast_to views)."""
    rng = np.random.default_rng(10)
    row, col = data(rng, (1, 9), dtype), data(rng, (7, 1), dtype)
    a, b = np.broadcast_to(row, (7, 9)), np.broadcast_to(col, (7, 9))
    for op in range(8):
        assert_bitwise(run_binary(build, op, a, b), numpy_op(op, a, b))
    x = np.asarray(np.nan_to_num(a, nan=1.0, posinf=2.0, neginf=-2.0))
    for axes in [(0,), (1,), (0, 1)]:
        assert_sum_close(build, np.broadcast_to(x[:1], (700, 9)), axes)


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_is_maximum_with_a_zero_scalar(build, dtype):
    rng = np.random.default_rng(3)
    for _, x in layouts(rng, (33, 17), dtype):
        assert_bitwise(run_binary(build, 4, x, np.zeros((), dtype)), np.maximum(x, 0))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", range(8), ids=OP_NAMES)
def test_binary_in_place(build, op, dtype):
    rng = np.random.default_rng(4)
    for which in ("a", "b"):
        base = data(rng, (40, 31), dtype)
        for view in (base, base.T, base[::-1, ::2]):
            other = data(rng, view.shape, dtype)
            a, b = (view, other) if which == "a" else (other, view)
            expected = numpy_op(op, a, b)
            run_binary(build, op, a, b, out=view)
            assert_bitwise(view, expected)


@pytest.mark.parametrize("nthreads", [1, 2])
@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_above_the_thread_threshold(build, nthreads, dtype):
    """Large enough for two threads: many runs, a few long runs (split into pieces),
    one contiguous run, and a layout that cannot be merged."""
    rng = np.random.default_rng(5)
    cases = [(data(rng, (600, 512), dtype), data(rng, (512,), dtype)),
             (data(rng, (3, 70001), dtype), data(rng, (3, 1), dtype)),
             (data(rng, (2**18 + 3,), dtype), np.array(0.0, dtype)),
             (data(rng, (700, 400), dtype)[::-1].T, data(rng, (400, 1400), dtype)[:, ::2])]
    for op in range(8):
        for a, b in cases:
            assert_bitwise(run_binary(build, op, a, b, nthreads), numpy_op(op, a, b))


@st.composite
def strided_view(draw, shape, dtype):
    steps = [draw(st.sampled_from([1, 2, -1, -2])) for _ in shape]
    base_shape = [max(1, abs(s) * n) for s, n in zip(steps, shape)]
    values = st.one_of(st.floats(-1e6, 1e6, width=32), st.sampled_from(SPECIAL))
    base = draw(hnp.arrays(dtype, base_shape, elements=values))
    view = base[tuple(slice(None, None, s) for s in steps)][tuple(slice(0, n) for n in shape)]
    if len(shape) >= 2 and draw(st.booleans()):
        view = np.ascontiguousarray(view.swapaxes(0, 1)).swapaxes(0, 1)
    return np.asarray(view)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(data=st.data(), op=st.integers(0, 7), dtype=st.sampled_from(DTYPES),
       shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_side=0, max_side=5, max_dims=5))
def test_binary_any_broadcastable_shapes(data, op, dtype, shapes):
    a = data.draw(strided_view(shapes.input_shapes[0], dtype))
    b = data.draw(strided_view(shapes.input_shapes[1], dtype))
    for build in filter(None, BUILDS.values()):
        assert_bitwise(run_binary(build, op, a, b), numpy_op(op, a, b))


# ---- sum ----

U64 = 2.0**-53


def fsum_reference(x, axes):
    """(exact sum rounded once, sum of |x|) over `axes`, as float64 arrays of the kept axes."""
    kept = [d for d in range(x.ndim) if d not in axes]
    moved = np.moveaxis(x.astype(np.float64), list(axes), list(range(x.ndim - len(axes), x.ndim)))
    rows = moved.reshape([x.shape[d] for d in kept] + [math.prod(x.shape[d] for d in axes)])
    exact = np.empty(rows.shape[:-1])
    for idx in np.ndindex(exact.shape):
        exact[idx] = math.fsum(rows[idx])
    return exact, np.abs(rows).sum(axis=-1)


def assert_sum_close(build, x, axes, nthreads=1):
    got = build.sum(x, tuple(axes), nthreads)
    exact, magnitude = fsum_reference(x, axes)
    n = max(1, math.prod(x.shape[d] for d in axes))
    if len(axes) == x.ndim:
        assert type(got) is float
        got = np.array(got)
    else:
        assert got.dtype == np.float64 and got.flags.c_contiguous
    assert got.shape == exact.shape
    # pairwise summation in double: error ~ log2(n) roundings; 24 covers the blocks of
    # 128 in 8 accumulators and the runs added in leaves of 8
    bound = (24 + 2 * math.log2(n)) * U64 * magnitude
    err = np.abs(got - exact)
    assert (err <= bound).all(), f"worst error {err.max()} against a bound of {bound.max()}"


@pytest.mark.parametrize("dtype", DTYPES)
def test_sum_every_axis_combination(build, dtype):
    rng = np.random.default_rng(6)
    for _, x in layouts(rng, (5, 7, 300), dtype) + layouts(rng, (300, 3, 4), dtype):
        x = np.nan_to_num(x, nan=0.5, posinf=2.0, neginf=-2.0)
        for r in range(4):
            for axes in itertools.combinations(range(3), r):
                assert_sum_close(build, x, axes)


@pytest.mark.parametrize("nthreads", [1, 2])
@pytest.mark.parametrize("dtype", DTYPES)
def test_sum_error_grows_like_log_n(build, nthreads, dtype):
    """0.1 added a million times one after another is off by about 1e-11 relative; the
    bound here is about 1e-14, so only pairwise (or better) summation passes, along the
    fast axis, across rows (axis 0 of a C array), and over strided data."""
    x = np.full((1000, 1000), 0.1, dtype)
    x[::7] = 0.3
    for view, axes in [(x, (0, 1)), (x, (0,)), (x.T, (1,)), (x[:, ::3], (0, 1)),
                       (x.reshape(-1)[::-1], (0,)), (x.reshape(10**6, 1), (0,))]:
        assert_sum_close(build, view, axes, nthreads)


@pytest.mark.parametrize("nthreads", [1, 2])
def test_sum_above_the_thread_threshold(build, nthreads):
    rng = np.random.default_rng(7)
    for dtype in DTYPES:
        x = rng.standard_normal((600, 300)).astype(dtype)
        for view in (x, x.T, x[::-1, ::2], x.reshape(3, 200, 300)):
            for r in range(view.ndim + 1):
                for axes in itertools.combinations(range(view.ndim), r):
                    assert_sum_close(build, view, axes, nthreads)


@pytest.mark.parametrize("shape, axes", [((0, 3), (0,)), ((0, 3), (1,)), ((0, 3), (0, 1)),
                                         ((), ()), ((1, 1, 5), (0, 1)), ((4, 1), (1,)),
                                         ((3, 4), ()), ((2, 0, 3), (0, 2))])
def test_sum_edge_shapes(build, shape, axes):
    rng = np.random.default_rng(8)
    for dtype in DTYPES:
        for _, x in layouts(rng, shape, dtype):
            x = np.asarray(np.nan_to_num(x, nan=1.0, posinf=3.0, neginf=-3.0))
            assert_sum_close(build, x, axes)


def test_sum_propagates_nan_and_inf(build):
    x = np.ones((4, 300), np.float32)
    x[1, 5] = np.nan
    x[2, 7] = np.inf
    got = build.sum(x, (1,), 1)
    assert np.isnan(got[1]) and got[2] == np.inf and got[0] == 300.0
    assert np.isnan(build.sum(x, (0, 1), 2))


def test_inputs_unchanged(build):
    rng = np.random.default_rng(9)
    a, b = data(rng, (50, 60), np.float32), data(rng, (60,), np.float32)
    saved = a.copy(), b.copy()
    run_binary(build, 6, a, b)
    build.sum(a, (0,), 2)
    assert_bitwise(a, saved[0])
    assert_bitwise(b, saved[1])


def test_the_simd_setting_picks_the_build():
    avx2 = BUILDS["avx2"] if BUILDS["avx2"] is not None else ck.PORTABLE
    assert ck.build_for(2) is (BUILDS["avx512"] if BUILDS["avx512"] is not None else avx2)
    assert ck.build_for(1) is avx2
    assert ck.build_for(0) is ck.PORTABLE


@pytest.mark.parametrize("simd", [*CYTHON_BUILD_NAMES, "auto"])
def test_the_public_rung_runs_the_build_of_its_settings(monkeypatch, simd):
    calls = []
    for build in {id(b): b for b in (ck.PORTABLE, *BUILDS.values()) if b is not None}.values():
        original = build.binary
        monkeypatch.setattr(build, "binary",
                            lambda *a, _o=original, _b=build: calls.append(_b) or _o(*a))
    with fastops.config_context(simd=simd):
        np.testing.assert_array_equal(fastops.cython.relu(np.array([-1.0, 2.0])), [0.0, 2.0])
    level = {"portable": 0, "avx2": 1, "avx512": 2, "auto": fastops._kernels.cpu_level()}[simd]
    assert calls == [ck.build_for(level)]

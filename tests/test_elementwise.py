"""Elementwise kernels against NumPy: bit for bit, over dtypes, layouts, shapes, SIMD paths, threads,
and with the same np.errstate warnings."""
import warnings

import numpy as np
import pytest
from helpers import FLOAT_DTYPES, layouts

import fastops


def _relu_backward_ref(g, x):
    g, x = np.asarray(g), np.asarray(x)
    r = np.where(x > 0, g, np.zeros((), np.result_type(g, x)))
    return r[()] if r.ndim == 0 else r  # a scalar for 0-d inputs, as ufuncs give


BINARY = {
    "add": np.add,
    "subtract": np.subtract,
    "multiply": np.multiply,
    "divide": np.divide,
    "maximum": np.maximum,
    "minimum": np.minimum,
    "bias_add": np.add,
    "bias_add_relu": lambda x, b: np.maximum(np.add(x, b), 0),
    "relu_backward": _relu_backward_ref,
}


def assert_same(actual, expected):
    """Same type, dtype, shape, and identical bits (NaN where NaN, the sign of zeros too)."""
    assert type(actual) is type(expected), (type(actual), type(expected))
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    np.testing.assert_array_equal(actual, expected)
    np.testing.assert_array_equal(np.signbit(actual), np.signbit(expected))


def reference(name, *args):
    with np.errstate(all="ignore"):
        return BINARY[name](*args) if name != "relu" else np.maximum(args[0], 0)


def bias_shaped(a, b):
    return np.ndim(b) == 1 and np.ndim(a) >= 1 and np.shape(a)[-1] == np.shape(b)[0]


def check(name, a, b, **kw):
    """fastops' `name` on (a, b) is NumPy's result, bit for bit; a bias op given a b that is
    not of shape (x.shape[-1],) must raise instead (Keras' bias_add contract).  Returns the
    result, or None when the contract rejected the pair."""
    fn = getattr(fastops, name)
    if name in ("bias_add", "bias_add_relu") and not bias_shaped(a, b):
        with pytest.raises(ValueError, match=r"x\.shape\[-1\]"):
            fn(a, b, **kw)
        return None
    with warnings.catch_warnings(record=True) as numpy_said:
        warnings.simplefilter("always")
        expected = BINARY[name](a, b)
    with warnings.catch_warnings(record=True) as fastops_said:
        warnings.simplefilter("always")
        got = fn(a, b, **kw)
    assert_same(got, expected)
    numpy_kinds, fastops_kinds = fp_kinds(numpy_said), fp_kinds(fastops_said)
    if name == "bias_add_relu":  # documented: its inf - inf is not reported (see README)
        numpy_kinds.discard("invalid value")
    assert fastops_kinds == numpy_kinds
    return got


def fp_kinds(caught):
    """{'divide by zero', 'overflow', 'invalid value', ...} of the RuntimeWarnings caught."""
    return {str(w.message).split(" encountered")[0] for w in caught
            if issubclass(w.category, RuntimeWarning)}


SHAPES = [(), (0,), (1,), (7,), (33,), (3, 5), (2, 3, 4), (2, 1, 3, 1, 2, 2, 1, 3), (0, 4)]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_relu_matches_numpy(rng, simd, dtype, shape):
    for name, x in layouts(rng, shape, dtype):
        before = x.copy()
        assert_same(fastops.relu(x), reference("relu", x))
        np.testing.assert_array_equal(x, before)  # input untouched


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_binary_same_shape_every_layout(rng, simd, name, dtype, shape):
    fn = getattr(fastops, name)
    for (la, a), (lb, b) in zip(layouts(rng, shape, dtype), layouts(rng, shape, dtype)[::-1]):
        a0, b0 = a.copy(), b.copy()
        check(name, a, b)
        np.testing.assert_array_equal(a, a0)
        np.testing.assert_array_equal(b, b0)


BROADCAST_PAIRS = [
    ((3, 1), (1, 4)),
    ((64, 3, 32, 10), (32, 10)),
    ((5,), ()),
    ((), (5,)),
    ((2, 0, 3), (3,)),
    ((4, 1, 3), (5, 3)),
    ((128, 512), (512,)),
    ((1, 6), (6, 1)),
    ((2, 3, 1, 5), (3, 4, 1)),
]


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=["f32", "f64"])
def test_binary_broadcasting(rng, simd, name, shapes, dtype):
    a = rng.standard_normal(shapes[0]).astype(dtype)
    b = rng.standard_normal(shapes[1]).astype(dtype)
    check(name, a, b)
    # transposed and strided views of the same pair
    if a.ndim >= 2:
        at = np.ascontiguousarray(a.T).T
        check(name, at, b[..., ::-1])


@pytest.mark.parametrize("name", ["add", "maximum", "bias_add_relu", "relu_backward", "divide"])
@pytest.mark.parametrize("shapes", [((300001,), (300001,)), ((700, 300), (300,)), ((3, 200000), (3, 1)),
                                    ((3, 200000), (200000,)), ((2, 131072), ()),
                                    ((1000, 257), (1000, 257))], ids=str)
def test_large_arrays_threads(rng, simd, threads, name, shapes):
    """Sizes above the parallel threshold, with runs split into chunks for the threads."""
    a = rng.standard_normal(shapes[0]).astype(np.float32)
    b = rng.standard_normal(shapes[1]).astype(np.float32)
    check(name, a, b)
    check(name, a[..., ::-1], b)
    if a.ndim == 2:
        bt = b[:, None] if b.ndim == 1 else b.T
        check(name, a.T, bt)


def test_relu_large_threads(rng, simd, threads):
    x = rng.standard_normal((1000, 777)).astype(np.float32)
    assert_same(fastops.relu(x), np.maximum(x, 0))
    assert_same(fastops.relu(x.T), np.maximum(x.T, 0))


def test_relu_special_values():
    x = np.array([np.nan, -np.nan, -0.0, 0.0, -1.0, 1.0, np.inf, -np.inf, 1e-45, -1e-45], np.float32)
    for dt in FLOAT_DTYPES:
        y = x.astype(dt)
        assert_same(fastops.relu(y), np.maximum(y, 0))
        assert_same(fastops.relu(y[::-2]), np.maximum(y[::-2], 0))


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_nan_and_signed_zero_propagation(simd, name):
    a = np.array([np.nan, 1.0, np.nan, -0.0, 0.0, -np.inf, 2.0] * 5, np.float32)
    b = np.array([1.0, np.nan, np.nan, 0.0, -0.0, np.inf, 2.0] * 5, np.float32)
    for x, y in [(a, b), (b, a), (a, np.float32(0.0)), (np.float32(np.nan), b)]:
        check(name, x, y)


def test_divide_by_zero_is_ieee(simd):
    a = np.array([1.0, -1.0, 0.0, np.nan] * 4, np.float64)
    b = np.zeros_like(a)
    check("divide", a, b)  # inf and nan, with NumPy's divide-by-zero and invalid warnings


# ---- dtypes ----

@pytest.mark.parametrize("a, b", [
    (np.ones(3, np.float32), np.ones(3, np.float64)),
    (np.ones(3, np.float32), 2.5),
    (2.5, np.ones(3, np.float32)),
    (np.ones(3, np.float32), 3),
    (np.ones(3, np.float32), np.float64(2.0)),
    (np.ones(3, np.int32), np.ones(3, np.float32)),
    (np.ones(3, np.float32), np.float32(2)),
    (np.float32(1.5), np.float32(2)),
    (np.array(1.5, np.float32), 2.0),
    ([1.0, 2.0, 3.0], np.ones(3, np.float32)),
    ([[1, -2, 3], [-4, 5, 6]], [1.5, -1.0, 1.0]),
])
@pytest.mark.parametrize("name", ["add", "divide", "maximum", "subtract"])
def test_promotion_as_numpy(a, b, name):
    check(name, a, b)


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint16, np.bool_, np.float16])
@pytest.mark.parametrize("name", ["add", "multiply", "maximum", "minimum", "divide", "bias_add_relu",
                                  "relu_backward"])
def test_non_float_dtypes_give_numpy_result(rng, dtype, name):
    a = (rng.standard_normal((4, 5)) * 10).astype(dtype)
    b = (rng.standard_normal(5) * 10).astype(dtype)
    check(name, a, b)


def test_book_int_example():
    x = np.array([[1, -2, 3], [-4, 5, 6]])
    y = np.array([[1, -1, 1], [-1, 1, 1]])
    assert_same(fastops.maximum(fastops.add(x, y), 0.), np.maximum(x + y, 0.))
    assert_same(fastops.relu(x), np.maximum(x, 0))


@pytest.mark.parametrize("bad", [np.ones(3, np.complex64), np.array(["a", "b", "c"]),
                                 np.array([1, "x", None], dtype=object)], ids=["complex", "str", "object"])
@pytest.mark.parametrize("name", ["add", "relu", "sum"])
def test_unsupported_dtypes_raise_typeerror(bad, name):
    fn = getattr(fastops, name)
    with pytest.raises(TypeError, match="float32 and float64"):
        fn(bad) if name in ("relu", "sum") else fn(bad, np.ones(3, np.float32))


# ---- out= ----

@pytest.mark.parametrize("name", ["add", "subtract", "maximum", "bias_add_relu", "relu_backward"])
def test_out_aliases_inputs(rng, simd, name):
    fn = getattr(fastops, name)
    a = rng.standard_normal((6, 7)).astype(np.float32)
    b = rng.standard_normal((6, 7)).astype(np.float32)
    if name == "bias_add_relu":  # b is a bias row; out = a in place
        x, row = a.copy(), b[0].copy()
        expected = reference(name, x, row)
        assert fn(x, row, out=x) is x
        assert_same(x, expected)
        return
    for which in ("a", "b"):
        x, y = a.copy(), b.copy()
        expected = reference(name, x, y)
        target = x if which == "a" else y
        res = fn(x, y, out=target)
        assert res is target
        assert_same(res, expected)


def test_out_partial_overlap_as_numpy(rng, simd):
    """NumPy acts as if inputs were copied before writing; so must we."""
    x = np.arange(10, dtype=np.float64)
    y = x.copy()
    fastops.add(x[:-1], 1.0, out=x[1:])
    np.add(y[:-1], 1.0, out=y[1:])
    assert_same(x, y)
    a = rng.standard_normal((8, 8)).astype(np.float32)
    b = a.copy()
    fastops.subtract(a, a.T, out=a)       # same buffer, transposed: overlap, not identical
    np.subtract(b, b.T, out=b)
    assert_same(a, b)
    c = rng.standard_normal(64).astype(np.float32)
    d = c.copy()
    fastops.maximum(c[::-1], c, out=c)
    np.maximum(d[::-1], d, out=d)
    assert_same(c, d)


def test_out_strided_view_and_tuple(rng, simd):
    a = rng.standard_normal((5, 6)).astype(np.float32)
    big = np.zeros((10, 12), np.float32)
    view = big[::2, ::2]
    res = fastops.relu(a, out=view)
    assert res is view
    assert_same(big[::2, ::2].copy(), np.maximum(a, 0))
    assert np.all(big[1::2] == 0) and np.all(big[:, 1::2] == 0)  # nothing written outside the view
    o = np.empty((5, 6), np.float32)
    assert fastops.add(a, a, out=(o,)) is o


def test_relu_in_place_book_example():
    a = np.random.default_rng(0).random((64, 3, 32, 10)) - 0.5
    expected = np.maximum(a, 0)
    assert fastops.relu(a, out=a) is a
    assert_same(a, expected)


def test_results_are_new_arrays_or_scalars():
    x = np.ones((2, 3), np.float32)
    r = fastops.add(x, x)
    assert r is not x and not np.shares_memory(r, x)
    assert isinstance(fastops.add(np.float32(1), np.float32(2)), np.float32)
    assert isinstance(fastops.relu(np.array(-1.0)), np.float64)
    assert isinstance(fastops.relu(np.array(-1.0), out=np.empty(())), np.ndarray)


def test_fortran_order_input_gives_fortran_result():
    x = np.asfortranarray(np.ones((50, 40), np.float32))
    assert fastops.relu(x).flags.f_contiguous


def test_misaligned_out_gets_the_result(rng, simd):
    from helpers import misaligned
    a = rng.standard_normal((7, 9)).astype(np.float32)
    out = misaligned(np.zeros((7, 9), np.float32))
    assert fastops.bias_add_relu(a, a[0], out=out) is out
    assert_same(np.array(out), np.maximum(a + a[0], 0))


@pytest.mark.parametrize("name", ["add", "maximum", "bias_add_relu"])
def test_large_outputs_given_as_out_are_streamed_correctly(rng, simd, threads, name):
    """Outputs of 16 MiB and more passed as out= take the non-temporal store path:
    odd offsets (unaligned heads and tails), in place, and broadcast rows."""
    n = (16 << 20) // 4 + 37
    x = rng.standard_normal(n + 3).astype(np.float32)
    y = rng.standard_normal(n + 3).astype(np.float32)
    out = np.ones(n + 3, np.float32)
    fn = getattr(fastops, name)
    fn(x[3:], y[:-3], out=out[3:])
    assert_same(out[3:].copy(), reference(name, x[3:], y[:-3]))
    np.testing.assert_array_equal(out[:3], 1.0)       # nothing written before the view
    expected = reference(name, x, y)
    assert fn(x, y, out=x) is x                        # in place
    assert_same(x, expected)
    a = rng.standard_normal((420, 10, 1000)).astype(np.float32)
    b = rng.standard_normal((1000,) if name == "bias_add_relu" else (10, 1000)).astype(np.float32)
    o = np.empty_like(a)
    fn(a, b, out=o)
    assert_same(o, reference(name, a, b))

"""fastops.sum against NumPy (values within float rounding, exact shapes and dtypes)."""
import numpy as np
import pytest
from helpers import FLOAT_DTYPES, layouts

import fastops

RTOL = {np.float32: 2e-6, np.float64: 1e-13}

AXES = [None, 0, -1, (0, 1), (0, 2), (1,), (-1, 0)]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_sum_matches_numpy(rng, simd, dtype, axis, keepdims):
    for name, x in layouts(rng, (6, 5, 40), dtype, special=False):
        expected = np.sum(x.astype(np.float64), axis=axis, keepdims=keepdims).astype(dtype)
        actual = fastops.sum(x, axis=axis, keepdims=keepdims)
        assert type(actual) is type(np.sum(x, axis=axis, keepdims=keepdims)), name
        assert np.asarray(actual).shape == np.asarray(expected).shape
        assert np.asarray(actual).dtype == dtype
        np.testing.assert_allclose(actual, expected, rtol=RTOL[dtype], atol=1e-5, err_msg=name)


@pytest.mark.parametrize("shape, axis", [((), None), ((0,), None), ((0, 3), 0), ((3, 0), 1), ((3, 0), 0),
                                         ((1,), 0), ((7,), 0), ((2, 1, 3), 1), ((300000,), None),
                                         ((1000, 300), 0), ((1000, 300), 1), ((128, 512), 0)], ids=str)
def test_sum_shapes_and_threads(rng, threads, shape, axis):
    x = rng.standard_normal(shape)
    for dt in FLOAT_DTYPES:
        y = x.astype(dt)
        expected = np.sum(y, axis=axis)
        actual = fastops.sum(y, axis=axis)
        assert np.asarray(actual).shape == np.asarray(expected).shape
        np.testing.assert_allclose(actual, expected, rtol=RTOL[dt] * 10, atol=1e-4)


def test_float32_sum_of_1e7_does_not_drift(threads):
    x = np.full(10_000_000, 0.1, np.float32)
    exact = 10_000_000 * float(np.float32(0.1))
    assert abs(float(fastops.sum(x)) - exact) / exact < 1e-7
    y = np.random.default_rng(1).random(10_000_000, dtype=np.float32)
    np.testing.assert_allclose(fastops.sum(y), y.sum(dtype=np.float64), rtol=1e-7)
    naive_drift = abs(float(np.cumsum(x)[-1]) - exact) / exact   # sequential float32 drifts
    assert naive_drift > 1e-4


def test_sum_special_values():
    x = np.array([1.0, np.inf, 2.0], np.float32)
    assert fastops.sum(x) == np.inf
    assert np.isnan(fastops.sum(np.array([1.0, np.nan], np.float32)))
    assert np.isnan(fastops.sum(np.array([np.inf, -np.inf])))


def test_sum_out_and_errors(rng):
    x = rng.standard_normal((4, 5)).astype(np.float32)
    out = np.empty(5, np.float32)
    assert fastops.sum(x, axis=0, out=out) is out
    np.testing.assert_allclose(out, x.sum(0), rtol=1e-6)
    with pytest.raises(ValueError, match="out has shape"):
        fastops.sum(x, axis=0, out=np.empty(4, np.float32))
    with pytest.raises(TypeError, match="out has dtype"):
        fastops.sum(x, axis=0, out=np.empty(5, np.float64))
    with pytest.raises(ValueError, match="out of bounds"):
        fastops.sum(x, axis=2)
    with pytest.raises(ValueError, match="duplicate"):
        fastops.sum(x, axis=(0, -2))
    with pytest.raises(TypeError, match="axis"):
        fastops.sum(x, axis=1.0)


def test_sum_int_and_bool_as_numpy():
    x = np.arange(12, dtype=np.int32).reshape(3, 4)
    for axis in (None, 0, 1):
        r, e = fastops.sum(x, axis=axis), np.sum(x, axis=axis)
        assert np.asarray(r).dtype == np.asarray(e).dtype
        np.testing.assert_array_equal(r, e)
    assert fastops.sum(np.array([True, True, False])) == 2

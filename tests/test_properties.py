"""Property tests: any broadcastable pair of shapes, any layout, gives NumPy's answer."""
import numpy as np
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import fastops

OPS = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply, "maximum": np.maximum,
       "minimum": np.minimum, "divide": np.divide}


@st.composite
def strided_array(draw, shape, dtype):
    """An array of `shape` that is a view: reversed axes, steps and offsets chosen by hypothesis."""
    steps = [draw(st.sampled_from([1, 2, -1, -2])) for _ in shape]
    base_shape = [max(1, abs(s) * n) for s, n in zip(steps, shape)]
    base = draw(hnp.arrays(dtype, base_shape, elements=st.floats(-1e6, 1e6, width=32)))
    view = base[tuple(slice(None, None, s) for s in steps)]
    view = view[tuple(slice(0, n) for n in shape)]
    if len(shape) >= 2 and draw(st.booleans()):
        view = np.ascontiguousarray(view.swapaxes(0, 1)).swapaxes(0, 1)
    return view


@settings(max_examples=300, deadline=None)
@given(data=st.data(), shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_side=0, max_side=6, max_dims=6),
       name=st.sampled_from(sorted(OPS)), dtype=st.sampled_from([np.float32, np.float64]))
def test_broadcast_binary_matches_numpy(data, shapes, name, dtype):
    a = data.draw(strided_array(shapes.input_shapes[0], dtype))
    b = data.draw(strided_array(shapes.input_shapes[1], dtype))
    with np.errstate(all="ignore"):
        expected = OPS[name](a, b)
        actual = getattr(fastops, name)(a, b)
    assert np.shape(actual) == shapes.result_shape
    np.testing.assert_array_equal(actual, expected)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), shape=hnp.array_shapes(min_dims=0, max_dims=8, min_side=0, max_side=4),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_relu_any_ndim_any_layout(data, shape, dtype):
    x = data.draw(strided_array(shape, dtype))
    np.testing.assert_array_equal(fastops.relu(x), np.maximum(x, 0))


@settings(max_examples=150, deadline=None)
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=5, min_side=0, max_side=5),
       keepdims=st.booleans())
def test_sum_any_axes(data, shape, keepdims):
    x = data.draw(strided_array(shape, np.float64))
    axis = data.draw(st.one_of(st.none(), hnp.valid_tuple_axes(len(shape))))
    expected = np.sum(x, axis=axis, keepdims=keepdims)
    actual = fastops.sum(x, axis=axis, keepdims=keepdims)
    assert np.shape(actual) == np.shape(expected)
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-6)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=5, min_side=0, max_side=6),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_bias_add_relu_matches_numpy(data, shape, dtype):
    x = data.draw(strided_array(shape, dtype))
    b = data.draw(strided_array(shape[-1:], dtype))
    with np.errstate(all="ignore"):
        expected = np.maximum(np.add(x, b), 0)
    np.testing.assert_array_equal(fastops.bias_add_relu(x, b), expected)

"""to_categorical against an independent reference: rows of the identity matrix."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fastops.utils import to_categorical


def reference(labels, num_classes, dtype=np.float32):
    return np.eye(num_classes, dtype=dtype)[np.asarray(labels, dtype=np.int64)]


def test_book_usage_on_mnist_like_labels():
    y = np.array([5, 0, 4, 1, 9, 2], dtype=np.uint8)
    got = to_categorical(y)
    assert got.shape == (6, 10) and got.dtype == np.float32
    np.testing.assert_array_equal(got, reference(y, 10))


@pytest.mark.parametrize("y, num_classes, shape", [
    ([0, 2, 1], None, (3, 3)),
    ([[1], [0], [3]], None, (3, 4)),                   # trailing 1 squeezed, as Keras
    (np.array([[0, 1, 2], [2, 1, 0]]), None, (2, 3, 3)),
    (np.zeros((2, 3, 1), dtype=np.int32), 5, (2, 3, 5)),
    (np.array([4]), None, (1, 5)),                     # (1,) is not squeezed: 1-d
    (3, 5, (5,)),                                      # a scalar label, as Keras
    ([1, 0], 6, (2, 6)),
])
def test_shapes_and_values(y, num_classes, shape):
    got = to_categorical(y, num_classes)
    assert got.shape == shape
    n = num_classes or int(np.max(y)) + 1
    np.testing.assert_array_equal(got, reference(np.reshape(y, shape[:-1]), n))


@pytest.mark.parametrize("dtype", ["float32", "float64", np.int8, "uint8", bool])
def test_dtype(dtype):
    got = to_categorical([1, 0, 2], dtype=dtype)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, reference([1, 0, 2], 3, dtype=np.dtype(dtype)))


@pytest.mark.parametrize("y", [np.array([2.0, 0.0, 1.0]), np.array([2, 0, 1], dtype=np.uint64),
                               np.array([True, False, True]), np.array([2, 0, 1], dtype=">i4")])
def test_integral_label_types(y):
    expected = reference(y.astype(np.int64), int(y.max()) + 1)
    np.testing.assert_array_equal(to_categorical(y), expected)


def test_empty_input():
    assert to_categorical(np.array([], dtype=np.int64), num_classes=3).shape == (0, 3)
    assert to_categorical(np.zeros((0, 1), dtype=np.int64), num_classes=2).shape == (0, 2)
    with pytest.raises(ValueError, match="empty.*num_classes"):
        to_categorical([])


@pytest.mark.parametrize("y, num_classes, exc, match", [
    ([0, -1, 2], None, ValueError, "negative label -1"),
    ([0, 3], 3, ValueError, "label 3.*num_classes=3"),
    ([0.5, 1.0], None, ValueError, "non-integer label 0.5"),
    ([1.0, np.nan], None, ValueError, "NaN"),
    ([1.0, np.inf], 4, ValueError, "NaN or Inf"),
    (["1", "2"], None, TypeError, "dtype <U1"),
    ([1 + 2j], None, TypeError, "complex"),
    ([1, 2], 0, ValueError, "num_classes must be >= 1"),
    ([1, 2], 2.5, TypeError, "num_classes must be an int"),
    ([1, 2], True, TypeError, "num_classes must be an int"),
])
def test_bad_input(y, num_classes, exc, match):
    with pytest.raises(exc, match=match):
        to_categorical(y, num_classes)


def test_bad_dtype():
    with pytest.raises(TypeError, match="not a NumPy dtype"):
        to_categorical([0, 1], dtype="no-such-type")


def test_input_not_modified():
    y = np.array([[3], [1]], dtype=np.float64)
    before = y.copy()
    to_categorical(y)
    np.testing.assert_array_equal(y, before)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(dtype=st.sampled_from([np.int8, np.int32, np.int64, np.uint16]),
                  shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5),
                  elements=st.integers(0, 7)),
       st.integers(0, 3))
def test_matches_reference(y, extra):
    n = int(y.max()) + 1 + extra
    got = to_categorical(y, n if extra else None)
    labels = y[..., 0] if y.ndim > 1 and y.shape[-1] == 1 else y
    np.testing.assert_array_equal(got, reference(labels, n))
    assert got.dtype == np.float32

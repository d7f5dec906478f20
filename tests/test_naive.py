"""The naive textbook kernels are themselves right: checked against NumPy on small inputs."""
import numpy as np
import pytest

import fastops
from fastops import naive


@pytest.fixture
def small(rng):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    a[0, :3] = [np.nan, -0.0, 0.0]
    return a


def test_naive_relu(small):
    np.testing.assert_array_equal(naive.relu(small), np.maximum(small, 0))
    np.testing.assert_array_equal(np.signbit(naive.relu(small)), np.signbit(np.maximum(small, 0)))


@pytest.mark.parametrize("name, ref", [("add", np.add), ("subtract", np.subtract), ("multiply", np.multiply),
                                       ("divide", np.divide), ("maximum", np.maximum), ("minimum", np.minimum)])
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2,))], ids=str)
def test_naive_binary(rng, name, ref, shapes):
    a = rng.standard_normal(shapes[0]).astype(np.float32)
    b = rng.standard_normal(shapes[1]).astype(np.float32)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(getattr(naive, name)(a, b), ref(a, b))


def test_naive_bias_add_relu_and_backward(rng):
    x = rng.standard_normal((5, 3))
    b = rng.standard_normal(3)
    np.testing.assert_array_equal(naive.bias_add_relu(x, b), np.maximum(x + b, 0))
    np.testing.assert_array_equal(naive.relu_backward(b, x), np.where(x > 0, b, 0.0))


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
def test_naive_sum(rng, axis):
    x = rng.standard_normal((4, 6))
    np.testing.assert_allclose(naive.sum(x, axis=axis), np.sum(x, axis=axis), rtol=1e-12)


def test_naive_shape_error():
    with pytest.raises(ValueError, match="broadcast"):
        naive.add(np.ones((2, 3)), np.ones(4))


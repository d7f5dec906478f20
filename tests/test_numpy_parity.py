"""NumPy parity at the edges (issue 9): ndarray subclasses, empty contractions, deep stacks."""
import numpy as np
import pytest

import fastops
from fastops import nn


def test_masked_array_sum_is_numpys():
    m = np.ma.masked_array([1.0, 2.0, 1e30], mask=[False, False, True])
    assert fastops.sum(m) == np.sum(m) == 3.0
    got = fastops.add(m, 1.0)
    assert isinstance(got, np.ma.MaskedArray) and got.mask.tolist() == [False, False, True]


def test_matrix_keeps_its_type():
    a = np.matrix([[1.0, 2.0], [3.0, 4.0]])
    got = fastops.matmul(a, a)
    assert type(got) is np.matrix
    np.testing.assert_array_equal(got, a @ a)
    assert type(fastops.dot(a, a)) is np.matrix


def test_memmap_is_computed_as_the_array_it_is(tmp_path):
    path = tmp_path / "x.dat"
    m = np.memmap(path, dtype=np.float32, mode="w+", shape=(100,))
    m[:] = np.arange(-50, 50)
    np.testing.assert_array_equal(fastops.relu(m), np.maximum(np.asarray(m), 0))
    assert fastops.sum(m) == np.sum(np.asarray(m))


def test_nn_kernels_reject_subclasses_clearly():
    with pytest.raises(TypeError, match="MaskedArray"):
        nn.softmax(np.ma.masked_array(np.zeros((2, 3))))
    with pytest.raises(TypeError, match="matrix"):
        nn.argmax(np.matrix([[1.0, 2.0]]))


@pytest.mark.parametrize("sa, sb", [((2, 0), (3, 0, 4)), ((2, 3, 0), (0, 5)), ((0,), (2, 0, 3))])
def test_dot_with_an_empty_contraction(sa, sb):
    a, b = np.ones(sa), np.ones(sb)
    expected = np.dot(a, b)
    got = fastops.dot(a, b)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("batch_dims", [33, 62])
def test_matmul_stacks_beyond_32_dimensions(batch_dims):
    shape = (1,) * (batch_dims - 1) + (2,)
    a = np.random.default_rng(0).normal(size=shape + (3, 4))
    b = np.random.default_rng(1).normal(size=(4, 5))
    got = fastops.matmul(a, b)
    np.testing.assert_allclose(got, np.matmul(a, b), rtol=1e-12)


def test_sixty_four_dimensions_elementwise():
    x = np.ones((1,) * 63 + (3,), np.float32)
    np.testing.assert_array_equal(fastops.add(x, x), x + x)
    assert fastops.sum(x) == 3.0

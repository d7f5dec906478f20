"""Broadcasting on the four rungs (naive, Cython, fastops, NumPy): maximum(a, b) with b
broadcast over leading axes, and the fused
bias_add_relu(x, b) = relu(x + b) of a Dense layer, against NumPy's unfused spelling
np.maximum(x + b, 0).  Default calls allocate on both sides; "out=" groups do not.
"""
import numpy as np
import pytest

import fastops
from fastops import naive

NAIVE_MAX = 100_000  # elements; a pure-Python round stays well under a second

# (op, shape of the big operand, shape of the broadcast one)
SHAPES = [
    ("maximum", (64, 3, 32, 10), (32, 10)),        # the book's example
    ("maximum", (1000, 10, 1000), (10, 1000)),     # the same pattern at 1e7 elements
    ("bias_add_relu", (128, 512), (512,)),         # one batch through Dense(512)
    ("bias_add_relu", (60000, 512), (512,)),       # all of MNIST through Dense(512)
]


def numpy_bias_add_relu(x, b, out=None):
    """What a NumPy MLP writes: np.maximum(x + b, 0) (two passes, one temporary)."""
    if out is None:
        return np.maximum(x + b, np.float32(0))
    np.add(x, b, out=out)
    return np.maximum(out, np.float32(0), out=out)


IMPLS = {
    "maximum": {"naive": naive.maximum, "cython": fastops.cython.maximum,
                "fastops": fastops.maximum, "numpy": np.maximum},
    "bias_add_relu": {"naive": naive.bias_add_relu, "cython": fastops.cython.bias_add_relu,
                      "fastops": fastops.bias_add_relu, "numpy": numpy_bias_add_relu},
}


def _case(rand, op, big, small):
    a, b = rand(big, seed=0), rand(small, seed=1)
    # minimal traffic: read the big operand once, write the result, read b once
    nbytes = 4 * (2 * a.size + b.size)
    return a, b, IMPLS[op]["numpy"](a, b), nbytes


def _id(op, big, small):
    return f"{op}-{'x'.join(map(str, big))}"


CASES = [pytest.param(op, big, small, impl, id=f"{_id(op, big, small)}-{impl}")
         for op, big, small in SHAPES for impl in ("naive", "cython", "fastops", "numpy")
         if impl != "naive" or np.prod(big) <= NAIVE_MAX]


@pytest.mark.parametrize("op, big, small, impl", CASES)
def test_broadcast(timed, benchmark, rand, op, big, small, impl):
    benchmark.group = f"{op} {big} with {small} float32"
    a, b, expected, nbytes = _case(rand, op, big, small)
    result = timed(impl, IMPLS[op][impl], a, b, nbytes=nbytes)
    assert result.dtype == np.float32 and result.shape == big
    np.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize("impl", ["cython", "fastops", "numpy"])
@pytest.mark.parametrize("op, big, small", SHAPES, ids=[_id(*s) for s in SHAPES])
def test_broadcast_out(timed, benchmark, rand, op, big, small, impl):
    benchmark.group = f"{op} out= {big} with {small} float32"
    a, b, expected, nbytes = _case(rand, op, big, small)
    out = np.ones(big, np.float32)  # touched: page faults stay out of the timing
    result = timed(impl, IMPLS[op][impl], a, b, out=out, nbytes=nbytes)
    assert result is out
    np.testing.assert_array_equal(out, expected)

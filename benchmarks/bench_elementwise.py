"""relu, relu_backward and add at about 1e3, 1e5, 1e7 float32, on the four rungs: naive Python,
pure Cython (fastops.cython), fastops' SIMD C, and NumPy.

Two kinds of group per (op, shape):
- the default call: every implementation allocates its result, as a user writes it;
- "out=": fastops and NumPy both write into a preallocated, already touched array, so
  the group measures the loop alone (no page faults of a fresh 40 MB result).
Elementwise kernels do the same arithmetic as NumPy, so results must be bit-identical.
"""
import numpy as np
import pytest

import fastops
from fastops import naive

SHAPES = [(100, 10), (1000, 100), (10000, 1000)]  # 1e3, 1e5, 1e7 elements
NAIVE_MAX = 100_000  # a pure-Python round at 1e5 takes ~0.1 s; at 1e7 it would take ~10 s
ARITY = {"relu": 1, "relu_backward": 2, "add": 2}
BYTES_PER_ELEMENT = {"relu": 8, "relu_backward": 12, "add": 12}  # float32 reads + write


def numpy_relu_backward(grad, x, out=None):
    """The NumPy spelling of the ReLU gradient, as a NumPy training loop writes it."""
    return np.multiply(grad, x > 0, out=out)


def _callable(op, impl, args):
    """(fn, args) to time: the implementation itself, not a lambda around it."""
    if impl == "numpy":
        return {"relu": (np.maximum, (*args, np.float32(0))),
                "relu_backward": (numpy_relu_backward, args),
                "add": (np.add, args)}[op]
    return getattr({"fastops": fastops, "cython": fastops.cython, "naive": naive}[impl], op), args


def _case(rand, op, shape, impl):
    args = tuple(rand(shape, seed=s) for s in range(ARITY[op]))
    fn, call_args = _callable(op, impl, args)
    ref_fn, ref_args = _callable(op, "numpy", args)
    return fn, call_args, ref_fn(*ref_args), BYTES_PER_ELEMENT[op] * int(np.prod(shape))


# naive only where a round takes well under a second
CASES = [pytest.param(op, shape, impl, id=f"{op}-{np.prod(shape):.0e}-{impl}")
         for op in ARITY for shape in SHAPES for impl in ("naive", "cython", "fastops", "numpy")
         if impl != "naive" or np.prod(shape) <= NAIVE_MAX]


@pytest.mark.parametrize("op, shape, impl", CASES)
def test_elementwise(timed, benchmark, rand, op, shape, impl):
    benchmark.group = f"{op} {shape} float32"
    fn, args, expected, nbytes = _case(rand, op, shape, impl)
    result = timed(impl, fn, *args, nbytes=nbytes)
    assert result.dtype == np.float32 and result.shape == shape
    np.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize("impl", ["cython", "fastops", "numpy"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{np.prod(s):.0e}")
@pytest.mark.parametrize("op", list(ARITY))
def test_elementwise_out(timed, benchmark, rand, op, shape, impl):
    benchmark.group = f"{op} out= {shape} float32"
    fn, args, expected, nbytes = _case(rand, op, shape, impl)
    out = np.ones(shape, np.float32)  # touched: page faults stay out of the timing
    result = timed(impl, fn, *args, out=out, nbytes=nbytes)
    assert result is out
    np.testing.assert_array_equal(out, expected)

"""sum on the four rungs (naive, Cython, fastops, NumPy) over all elements (1e3, 1e5, 1e7 float32) and along
axis 0 of a (128, 512) batch (the bias gradient of Dense(512)).

Sums may differ from NumPy's in the last bits (another pairwise blocking), so they are
checked against a float64 sum with a float32 tolerance that scales with sum(|x|).
"""
import numpy as np
import pytest

import fastops
from fastops import naive

NAIVE_MAX = 100_000
RTOL = 1e-5  # relative to sum(|x|): pairwise/float64 accumulation keeps float32 sums here

CASES = [  # (shape, axis)
    ((1000,), None), ((100_000,), None), ((10_000_000,), None),
    ((128, 512), 0),
]
IMPLS = {"naive": naive.sum, "cython": fastops.cython.sum, "fastops": fastops.sum, "numpy": np.sum}
PARAMS = [pytest.param(shape, axis, impl, id=f"{'x'.join(map(str, shape))}-axis{axis}-{impl}")
          for shape, axis in CASES for impl in IMPLS
          if impl != "naive" or np.prod(shape) <= NAIVE_MAX]


def _check(result, x, axis):
    exact = x.sum(axis=axis, dtype=np.float64)
    scale = np.abs(x).sum(axis=axis, dtype=np.float64)
    assert np.asarray(result).dtype == np.float32
    assert np.shape(result) == np.shape(exact)
    assert np.all(np.abs(np.asarray(result, np.float64) - exact) <= RTOL * scale)


@pytest.mark.parametrize("shape, axis, impl", PARAMS)
def test_sum(timed, benchmark, rand, shape, axis, impl):
    benchmark.group = f"sum{'' if axis is None else f' axis={axis}'} {shape} float32"
    x = rand(shape)
    kwargs = {} if axis is None else {"axis": axis}
    result = timed(impl, IMPLS[impl], x, nbytes=x.nbytes, **kwargs)
    _check(result, x, axis)

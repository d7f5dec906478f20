"""fastops.nn.take_rows, the batch gather of fit: out[i] = x[indices[i]] cast to out's dtype
in the same pass, split over the threads.  Checked against NumPy's fancy indexing, on every
dtype pair and layout, and on the bad input it must refuse without writing out."""
import numpy as np
import pytest

import fastops
from fastops import nn

DTYPES = [np.float32, np.float64]


def layouts(x):
    """x C-ordered, Fortran-ordered and as a strided view (columns 1, 3, ...)."""
    wide = np.zeros((x.shape[0], 2 * x.shape[1]), x.dtype)
    wide[:, 1::2] = x
    return {"C": x, "F": np.asfortranarray(x), "strided": wide[:, 1::2]}


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("src", DTYPES)
@pytest.mark.parametrize("dst", DTYPES)
def test_rows_match_fancy_indexing(src, dst, layout, threads):
    rng = np.random.default_rng(0)
    # 300 x 400 = 120000 elements: past the size from which a row pass splits over threads
    x = layouts(rng.standard_normal((300, 400)).astype(src))[layout]
    idx = rng.integers(0, 300, 256)
    idx[:3] = [0, 299, 0]  # the first and last rows, and a repeat
    out = np.full((256, 400), np.nan, dst)
    with fastops.config_context(num_threads=threads):
        got = nn.take_rows(x, idx, out)
    assert got is out
    np.testing.assert_array_equal(out, x[idx].astype(dst))


@pytest.mark.parametrize("dst", DTYPES)
def test_strided_out_and_uint_indices(dst):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((50, 7))
    big = np.zeros((20, 14), dst)
    idx = rng.integers(0, 50, 20).astype(np.uint16)
    nn.take_rows(x, idx, big[:, ::2])
    np.testing.assert_array_equal(big[:, ::2], x[idx].astype(dst))
    assert not big[:, 1::2].any()


@pytest.mark.parametrize("bad", [-1, 50, 2**40])
def test_index_out_of_range_writes_nothing(bad):
    x = np.ones((50, 3), np.float32)
    out = np.full((3, 3), 7.0, np.float32)
    with pytest.raises(ValueError, match=r"take_rows: indices must lie in \[0, 50\)"):
        nn.take_rows(x, np.array([0, bad, 1]), out)
    assert (out == 7).all()


def test_bad_arguments_are_named():
    x = np.ones((10, 4), np.float32)
    out = np.zeros((3, 4), np.float32)
    with pytest.raises(TypeError, match="take_rows: indices must be integers"):
        nn.take_rows(x, np.array([0.0, 1.0, 2.0]), out)
    with pytest.raises(ValueError, match=r"take_rows: x must be 2-D"):
        nn.take_rows(np.ones(10, np.float32), [0, 1, 2], out)
    with pytest.raises(ValueError, match=r"take_rows: out has shape \(3, 4\)"):
        nn.take_rows(x, [0, 1], out)
    with pytest.raises(TypeError, match="take_rows: out must be a float32 or float64"):
        nn.take_rows(x, [0, 1, 2], np.zeros((3, 4), np.int32))
    with pytest.raises(ValueError, match="take_rows: out shares memory with x"):
        nn.take_rows(x, [0, 1, 2], x[4:7])
    before = x.copy()
    nn.take_rows(x, [0, 1, 2], out)
    np.testing.assert_array_equal(x, before)  # x is only read


def test_indices_sharing_memory_with_out_are_read_as_before_the_call():
    """The indices are checked once and then read row by row: an out that holds them must
    not change them under the gather (it segfaulted: row 0 overwrote index 1 with 1e300's
    bits, which the kernel then read as a row number)."""
    x = np.full((4, 2), 1e300)
    x[2] = 7.0
    buf = np.zeros(8)
    idx = buf.view(np.int64)[:4]
    idx[:] = [3, 2, 1, 0]
    expected = x[[3, 2, 1, 0]]
    res = nn.take_rows(x, idx, buf.reshape(4, 2))
    np.testing.assert_array_equal(res, expected)

"""fastops.sum along every loop of the kernel (src/fo_elementwise_body.inc): the contiguous
16-lane loop and its tail, and NumPy's pairwise blocking of strided runs (8 accumulators,
blocks of 128, halves above) with its tail after the last block of 8.  Lengths around each
boundary; values chosen so that every element changes the result exactly, so a loop that
skips or repeats one element is caught, whatever the tolerance."""
import numpy as np
import pytest

import fastops

LENGTHS = [1, 7, 8, 9, 13, 15, 16, 17, 31, 127, 128, 129, 135, 255, 257, 1001]


def powers(n, dtype):
    """1, 2, 4, ..., 2048, cycling: the sums of these lengths stay below 2**24, so they are
    exact even as float32 results, and each element's absence shows."""
    return (2.0 ** (np.arange(n) % 12)).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize("step", [1, 2, -3], ids=["contiguous", "step2", "step-3"])
def test_every_element_counts_once(simd, n, step, dtype):
    base = np.zeros(n * abs(step), dtype)
    x = base[::step] if step > 0 else base[::step][:n]
    x[...] = powers(n, dtype)
    expected = float(powers(n, np.float64).sum())
    assert float(fastops.sum(x)) == expected
    rows = np.asfortranarray(np.stack([x, 2 * x]))  # the last axis strided in memory
    np.testing.assert_array_equal(fastops.sum(rows, axis=-1), [expected, 2 * expected])

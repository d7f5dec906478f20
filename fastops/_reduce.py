"""The weighted sums of the loss and metric objects, through the kernel API."""
import numpy as np

import fastops


def weighted_sum(values, sample_weight=None):
    """sum_i w_i * values_i of a 1-D array (w = 1 when None), as a Python float, in float64."""
    v = np.asarray(values, np.float64).reshape(-1)
    if sample_weight is None:
        return float(fastops.sum(v))
    return float(fastops.dot(v, np.asarray(sample_weight, np.float64).reshape(-1)))

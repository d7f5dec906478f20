"""Keras' global model settings: the compute dtype of new models (`floatx`) and `epsilon`.

Models compute in `floatx()` (float32 by default) whatever the dtype of the data: each batch
is cast into a preallocated float buffer, so float64 or uint8 inputs never cost a full copy.
"""
import numpy as np

_FLOATX = ["float32"]
_EPSILON = [1e-7]


def floatx():
    """The default float type of new models and layers, as a string ('float32' or 'float64').

    Returns:
        'float32' unless `set_floatx` changed it.

    Example:
        >>> fastops.config.floatx()
        'float32'
    """
    return _FLOATX[0]


def set_floatx(value):
    """Set the float type of models built from now on: 'float32' or 'float64'.

    Args:
        value: 'float32' or 'float64' (fastops' kernels have no float16 path).

    Example:
        >>> fastops.config.set_floatx('float64')
    """
    _FLOATX[0] = _float_name(value, "set_floatx: value")


def _float_name(value, what):
    """'float32' or 'float64' for a dtype-like `value` (the float types of fastops' kernels);
    ValueError naming `what` for anything else."""
    try:
        name = np.dtype(value).name
    except TypeError:
        name = None
    if name not in ("float32", "float64"):
        raise ValueError(f"{what} must be 'float32' or 'float64', got {value!r}")
    return name


def epsilon():
    """The fuzz factor of Keras' probability-space losses (1e-7)."""
    return _EPSILON[0]


def set_epsilon(value):
    """Set the fuzz factor used to clip probabilities in cross-entropies."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 0.5:
        raise ValueError(f"set_epsilon: value must be a float in (0, 0.5), got {value!r}")
    _EPSILON[0] = float(value)

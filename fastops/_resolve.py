"""Dtype policy and argument checks for the kernels' general path.

fastops computes float32 and float64 itself.  Other dtypes follow NumPy exactly by
explicit delegation: integer, bool and float16/longdouble inputs are handed to the
NumPy ufunc that defines the operation (same result, same dtype, same errors).
Complex, object, string, bytes, datetime and structured inputs raise TypeError.
"""
import numpy as np

try:
    from numpy.exceptions import AxisError
except ImportError:  # NumPy < 1.25
    AxisError = np.AxisError

COMPILED = (np.dtype(np.float32), np.dtype(np.float64))
_REJECTED_KINDS = {"c": "complex", "O": "object", "U": "string", "S": "bytes",
                   "V": "structured/void", "M": "datetime", "m": "timedelta"}
SUPPORTED = ("float32 and float64 are computed by fastops; integer, bool and other "
             "real floating dtypes are computed by NumPy")


def _as_array(x, arg, name):
    """ndarray for x; Python int/float scalars stay as they are (NumPy 2 treats them as weak)."""
    if type(x) in (int, float):
        return x
    if x is None:
        raise TypeError(f"{name}: argument {arg} is None, expected an array or a number")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like: say which argument
        raise TypeError(f"{name}: argument {arg} cannot be converted to an array: {exc}") from None
    kind = arr.dtype.kind
    if kind in _REJECTED_KINDS:
        raise TypeError(f"{name}: argument {arg} has unsupported {_REJECTED_KINDS[kind]} dtype "
                        f"{arr.dtype}; {SUPPORTED}")
    return arr


def binary_operands(a, b, name):
    """(a, b, dtype) as ndarrays of the common float dtype, or (None, None, dtype)
    when the result is not float32/float64 and NumPy must compute it."""
    xa = _as_array(a, "a", name)
    xb = _as_array(b, "b", name)
    dtype = np.result_type(xa, xb)
    if dtype not in COMPILED:
        return None, None, dtype
    # Casting happens only when dtypes differ (NumPy casts in its buffers; we cast once).
    return _aligned(np.asarray(xa, dtype=dtype)), _aligned(np.asarray(xb, dtype=dtype)), dtype


def _aligned(arr):
    # The C loops index typed pointers: misaligned data (np.frombuffer at an odd offset)
    # is copied once rather than read through an unaligned float pointer.
    return arr if arr.flags.aligned else arr.copy()


def delegate_binary(name, a, b, out):
    """NumPy's result for non-float dtypes, with NumPy's own semantics and errors."""
    kw = {} if out is None else {"out": out}
    if name == "bias_add_relu":
        return np.maximum(np.add(a, b), 0, **kw)
    if name == "relu_backward":
        grad, x = np.asarray(a), np.asarray(b)
        res = np.where(x > 0, grad, np.zeros((), np.result_type(grad, x)))
        if out is None:
            return res[()] if res.ndim == 0 else res
        np.copyto(out, res, casting="same_kind")
        return out
    return getattr(np, name)(a, b, **kw)


def unary_operand(x, name):
    """x as a native float32/float64 ndarray, or None when NumPy must compute it."""
    arr = _as_array(x, "x", name)
    if type(arr) in (int, float):
        return None
    if arr.dtype.kind == "f" and arr.dtype.itemsize in (4, 8):
        return _aligned(np.asarray(arr, dtype=arr.dtype.newbyteorder("=")))
    return None


def normalize_axes(axis, ndim, name):
    """Set of non-negative axes to reduce; AxisError (a ValueError) when out of range."""
    if axis is None:
        return set(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    out = set()
    for ax in axes:
        if isinstance(ax, bool) or not isinstance(ax, (int, np.integer)):
            raise TypeError(f"{name}: axis must be None, an int or a tuple of ints, got {axis!r}")
        if not -ndim <= ax < ndim:
            raise AxisError(f"{name}: axis {ax} is out of bounds for array of dimension {ndim}")
        ax = int(ax) % ndim
        if ax in out:
            raise ValueError(f"{name}: duplicate value in axis {axis!r}")
        out.add(ax)
    return out

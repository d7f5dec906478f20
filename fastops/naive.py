"""The textbook's naive kernels: plain Python loops, one element at a time.

These are Deep Learning with Python's `naive_relu`, `naive_add`, ... under the
fastops names, generalised from 2-d to any shape.  They are the reference the
tests compare small inputs against and the 'naive' row of every benchmark;
fastops itself never calls them.  NumPy is used only to allocate and index.
"""
import math

import numpy as np


def _relu_value(v):
    # np.maximum(v, 0): NaN propagates and -0.0 becomes 0.0 (Python's max(v, 0) would keep -0.0)
    return v if (v > 0 or v != v) else 0.0


def relu(x):
    """The book's naive_relu: x.copy(), then x[i, j] = max(x[i, j], 0) for every element."""
    x = np.array(x, copy=True)
    for idx in np.ndindex(x.shape):
        x[idx] = _relu_value(x[idx])
    return x


def _broadcast_shape(sa, sb):
    nd = max(len(sa), len(sb))
    sa = (1,) * (nd - len(sa)) + tuple(sa)
    sb = (1,) * (nd - len(sb)) + tuple(sb)
    shape = []
    for da, db in zip(sa, sb):
        if da != db and da != 1 and db != 1:
            raise ValueError(f"operands could not be broadcast together with shapes {sa} {sb}")
        shape.append(db if da == 1 else da)
    return tuple(shape), sa, sb


def binary(fn, x, y):
    """out[idx] = fn(x[idx'], y[idx'']) with the broadcasting rules spelled out as loops:
    shapes are right-aligned, and a dimension of size 1 always reads index 0."""
    x, y = np.asarray(x), np.asarray(y)
    shape, sx, sy = _broadcast_shape(x.shape, y.shape)
    xr, yr = x.reshape(sx), y.reshape(sy)
    out = np.empty(shape, dtype=np.result_type(x, y))
    for idx in np.ndindex(shape):
        ix = tuple(0 if n == 1 else i for i, n in zip(idx, sx))
        iy = tuple(0 if n == 1 else i for i, n in zip(idx, sy))
        out[idx] = fn(xr[ix], yr[iy])
    return out


def add(x, y):
    """The book's naive_add (x[i, j] + y[i, j]), with broadcasting as in naive_add_matrix_and_vector."""
    return binary(lambda a, b: a + b, x, y)


def subtract(x, y):
    return binary(lambda a, b: a - b, x, y)


def multiply(x, y):
    return binary(lambda a, b: a * b, x, y)


def divide(x, y):
    def div(a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            return a / b
    return binary(div, x, y)


def maximum(x, y):
    return binary(lambda a, b: a if (a > b or a != a) else b, x, y)


def minimum(x, y):
    return binary(lambda a, b: a if (a < b or a != a) else b, x, y)


def relu_backward(grad, x):
    return binary(lambda g, v: g if v > 0 else 0.0, grad, x)


def bias_add(x, b):
    return add(x, b)


def bias_add_relu(x, b):
    """The book's naive_add_matrix_and_vector followed by naive_relu, fused per element."""
    return binary(lambda a, c: _relu_value(a + c), x, b)


def sum(x, axis=None, keepdims=False):
    """Sum with a Python float (double) accumulator per output element."""
    x = np.asarray(x)
    axes = range(x.ndim) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
    axes = {a % x.ndim for a in axes}
    out_shape = tuple(1 if d in axes else n for d, n in enumerate(x.shape))
    acc = {}
    for idx in np.ndindex(x.shape):
        key = tuple(0 if d in axes else i for d, i in enumerate(idx))
        acc[key] = acc.get(key, 0.0) + float(x[idx])
    out = np.zeros(out_shape, dtype=x.dtype)
    for key, v in acc.items():
        out[key] = v
    if not keepdims:
        out = out.reshape(tuple(n for d, n in enumerate(x.shape) if d not in axes))
        if out.ndim == 0:
            return x.dtype.type(out[()])
    return out

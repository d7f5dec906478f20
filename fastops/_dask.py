"""fastops' kernels on Dask arrays: lazy, block by block, with Dask's own graph tools.

src/contract.pxi sends every call with a dask array operand here (through
`_kernels.dask_dispatch`), so `fastops.relu(x)` on a dask array returns a dask array.  This
module is imported on that first call only: importing fastops never imports dask.

- Elementwise kernels: `dask.array.core.elemwise` (Dask's broadcasting and chunk alignment;
  NumPy arrays and scalars mix in as in Dask's own ufuncs).
- sum: `dask.array.reduction`; each chunk is summed by fastops (float64 accumulation,
  rounded once to the result dtype), the partial sums are added in float64.  sum(relu(y))
  is fused: each chunk's relu goes into a scratch array kept per scheduler thread (at most
  256 MB) instead of a new array per chunk, with the same values.
- matmul / dot: Dask's matmul contraction pattern (blockwise without concatenation, one
  product per pair of blocks, then a sum of the partial products when the contracted axis
  has several chunks).
- the nn row kernels: map_blocks / blockwise over row blocks; the last axis must lie in one
  chunk (ValueError naming the rechunk otherwise).

Result dtypes are fastops' (each kernel is probed on a one-element array of the operands'
dtypes, which also raises fastops' TypeError before any graph is built).  `out=` raises
TypeError: a dask array is immutable and lazy, so the result is the returned array.  Every
block runs under the thread rule of fastops._dask_threads.
"""
import numbers
import threading

import dask.array as da
import numpy as np
from dask.array.core import elemwise

from . import _kernels
from ._dask_threads import in_task_threads

__all__ = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "bias_add",
           "bias_add_relu", "relu", "relu_backward", "sum", "matmul", "dot", "sigmoid", "tanh",
           "sigmoid_backward", "tanh_backward", "softmax", "softmax_backward", "argmax",
           "categorical_crossentropy_rows", "sparse_categorical_crossentropy_rows",
           "binary_crossentropy_rows", "mean_squared_error_rows", "mean_absolute_error_rows",
           "categorical_accuracy_rows", "sparse_categorical_accuracy_rows",
           "binary_accuracy_rows", "top_k_accuracy_rows"]


class Block:
    """The fastops kernel `name` applied to the blocks of one task, under the task's thread
    rule.  Picklable by reference, so a distributed worker runs its own installed kernels."""

    def __init__(self, name, **kwargs):
        self.name = name
        self.kwargs = kwargs
        self.__name__ = f"fastops-{name}"

    def __call__(self, *blocks):
        with in_task_threads():
            return getattr(_kernels, self.name)(*blocks, **self.kwargs)

    def __dask_tokenize__(self):
        return ("fastops.Block", self.name, sorted(self.kwargs.items()))


def _no_out(out, fn):
    if out is not None:
        raise TypeError(f"{fn}: out= is not supported with dask arrays (a dask array is "
                        f"immutable and lazy); use the returned dask array")


def _is_scalar(x):
    return type(x) in (int, float) or (isinstance(x, numbers.Number) and np.ndim(x) == 0
                                       and not hasattr(x, "dtype"))


def _operand(x, fn, arg):
    """A dask array, a Python int/float (a weak scalar, as in NumPy 2), or a dask array made
    from any other array_like (one chunk, as Dask's ufuncs do)."""
    if _is_scalar(x):
        return x
    if x is None:
        raise TypeError(f"{fn}: argument {arg} is None, expected an array or a number")
    if isinstance(x, da.Array):
        return x
    return da.asarray(np.asarray(x) if not hasattr(x, "__dask_graph__") else x)


def _sample(x, zero=False):
    """A one-element stand-in of x with its dtype and number of dimensions."""
    if _is_scalar(x):
        return x
    fill = np.zeros if zero else np.ones
    return fill((1,) * x.ndim, x.dtype)


def _probe(fn, *operands, **kwargs):
    """The result dtype fastops gives for these operands (and its TypeError, if any)."""
    with np.errstate(all="ignore"):
        res = getattr(_kernels, fn)(*[_sample(o) for o in operands], **kwargs)
    return np.asarray(res).dtype


# ---- elementwise ----

def _elementwise(fn, *args, out=None):
    _no_out(out, fn)
    names = ("a", "b") if len(args) == 2 else ("x",)
    ops = [_operand(a, fn, n) for a, n in zip(args, names)]
    dtype = _probe(fn, *ops)
    return elemwise(Block(fn), *ops, dtype=dtype)


def _named(op, fn):
    op.__name__ = op.__qualname__ = fn
    return op


def _unary(fn):
    def op(x, out=None):
        return _elementwise(fn, x, out=out)
    return _named(op, fn)


def _binary(fn):
    def op(a, b, out=None):
        return _elementwise(fn, a, b, out=out)
    return _named(op, fn)


def _backward(fn):
    """An activation's backward: grad and y of one shape (no broadcasting, as in fastops)."""
    def op(grad, y, out=None):
        g_shape, y_shape = da.asarray(grad).shape, da.asarray(y).shape
        if g_shape != y_shape:
            raise ValueError(f"{fn}: y has shape {y_shape} but grad has shape {g_shape}")
        return _elementwise(fn, grad, y, out=out)
    return _named(op, fn)


# dask_dispatch reaches these by name, so they are made by name
globals().update({fn: _binary(fn) for fn in ("add", "subtract", "multiply", "divide", "maximum",
                                              "minimum", "relu_backward", "bias_add",
                                              "bias_add_relu")})
globals().update({fn: _unary(fn) for fn in ("sigmoid", "tanh")})
globals().update({fn: _backward(fn) for fn in ("sigmoid_backward", "tanh_backward")})


def relu(x, out=None):
    res = _elementwise("relu", x, out=out)
    if isinstance(x, da.Array):
        res._fastops_relu_of = x  # lets sum(relu(x)) fuse the two (see sum)
    return res


# ---- sum ----

def _partial_sum(x, axis=None, keepdims=False):
    """One chunk's sum by fastops, widened to float64 when it is a float partial."""
    with in_task_threads():
        s = np.asarray(_kernels.sum(x, axis=axis, keepdims=keepdims))
    return s.astype(np.float64) if s.dtype.kind == "f" else s


def _final_sum(dtype):
    def aggregate(x, axis=None, keepdims=False):
        return _partial_sum(x, axis=axis, keepdims=keepdims).astype(dtype, copy=False)
    return aggregate


_scratch = threading.local()
_SCRATCH_MAX_BYTES = 256 << 20


def _relu_partial_sum(x, axis=None, keepdims=False):
    """One chunk of sum(relu(x)): relu into this thread's reused scratch array (a fresh
    40 MB result would cost its page faults on every chunk), then its sum."""
    buf = getattr(_scratch, "buf", None)
    dtype = _probe("relu", x)
    if buf is None or buf.shape != x.shape or buf.dtype != dtype:
        buf = np.empty(x.shape, dtype)
        _scratch.buf = buf if buf.nbytes <= _SCRATCH_MAX_BYTES else None
    with in_task_threads():
        _kernels.relu(x, out=buf)
    return _partial_sum(buf, axis=axis, keepdims=keepdims)


def sum(x, axis=None, keepdims=False, out=None):
    _no_out(out, "sum")
    x = _operand(x, "sum", "x")
    if _is_scalar(x):
        x = da.asarray(x)
    dtype = np.asarray(_kernels.sum(_sample(x), axis=axis, keepdims=keepdims)).dtype
    chunk, source = _partial_sum, x
    relu_of = getattr(x, "_fastops_relu_of", None)
    if relu_of is not None and relu_of.chunks == x.chunks:
        # sum(relu(y)): the same chunks and values, without materialising relu's blocks
        chunk, source = _relu_partial_sum, relu_of
    return da.reduction(source, chunk, _final_sum(dtype), combine=_partial_sum, axis=axis,
                        keepdims=keepdims, dtype=dtype)


from ._dask_products import dot, matmul  # noqa: E402
from ._dask_rows import (argmax, binary_accuracy_rows, binary_crossentropy_rows,  # noqa: E402
                         categorical_accuracy_rows, categorical_crossentropy_rows,
                         mean_absolute_error_rows, mean_squared_error_rows,
                         softmax, softmax_backward, sparse_categorical_accuracy_rows,
                         sparse_categorical_crossentropy_rows, top_k_accuracy_rows)

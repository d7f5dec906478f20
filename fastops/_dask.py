"""fastops' kernels on Dask arrays: lazy, block by block, with Dask's own graph tools.

src/contract.pxi sends every call with a dask array operand here (through
`_kernels.dask_dispatch`), so `fastops.relu(x)` on a dask array returns a dask array.  This
module is imported on that first call only: importing fastops never imports dask.

- Elementwise kernels: `dask.array.core.elemwise` (Dask's broadcasting and chunk alignment;
  NumPy arrays and scalars mix in as in Dask's own ufuncs).
- sum: `dask.array.reduction`; each chunk is summed by fastops (float64 accumulation,
  rounded once to the result dtype), the partial sums are added in float64.
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
from functools import reduce

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


def add(a, b, out=None):
    return _elementwise("add", a, b, out=out)


def subtract(a, b, out=None):
    return _elementwise("subtract", a, b, out=out)


def multiply(a, b, out=None):
    return _elementwise("multiply", a, b, out=out)


def divide(a, b, out=None):
    return _elementwise("divide", a, b, out=out)


def maximum(a, b, out=None):
    return _elementwise("maximum", a, b, out=out)


def minimum(a, b, out=None):
    return _elementwise("minimum", a, b, out=out)


def relu(x, out=None):
    return _elementwise("relu", x, out=out)


def relu_backward(grad, x, out=None):
    return _elementwise("relu_backward", grad, x, out=out)


def bias_add(x, b, out=None):
    return _elementwise("bias_add", x, b, out=out)


def bias_add_relu(x, b, out=None):
    return _elementwise("bias_add_relu", x, b, out=out)


def _same_shape(fn, a, b, an, bn):
    if a.shape != b.shape:
        raise ValueError(f"{fn}: {bn} has shape {b.shape} but {an} has shape {a.shape}")


def sigmoid(x, out=None):
    return _elementwise("sigmoid", x, out=out)


def tanh(x, out=None):
    return _elementwise("tanh", x, out=out)


def sigmoid_backward(grad, y, out=None):
    _same_shape("sigmoid_backward", da.asarray(grad), da.asarray(y), "grad", "y")
    return _elementwise("sigmoid_backward", grad, y, out=out)


def tanh_backward(grad, y, out=None):
    _same_shape("tanh_backward", da.asarray(grad), da.asarray(y), "grad", "y")
    return _elementwise("tanh_backward", grad, y, out=out)


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


def sum(x, axis=None, keepdims=False, out=None):
    _no_out(out, "sum")
    x = _operand(x, "sum", "x")
    if _is_scalar(x):
        x = da.asarray(x)
    dtype = np.asarray(_kernels.sum(_sample(x), axis=axis, keepdims=keepdims)).dtype
    return da.reduction(x, _partial_sum, _final_sum(dtype), combine=_partial_sum, axis=axis,
                        keepdims=keepdims, dtype=dtype)


# ---- matmul and dot: Dask's contraction pattern with fastops' products ----

class _Product:
    """fastops.matmul / dot of one pair of blocks, with a length-1 axis put back at `k_pos`
    for the contracted index (blockwise keeps it, the sum below removes it)."""

    def __init__(self, name, k_pos, backend):
        self.name, self.k_pos, self.backend = name, k_pos, backend
        self.__name__ = f"fastops-{name}"

    def __call__(self, a, b):
        with in_task_threads():
            r = getattr(_kernels, self.name)(a, b, backend=self.backend)
        return np.expand_dims(np.asarray(r), self.k_pos)

    def __dask_tokenize__(self):
        return ("fastops._Product", self.name, self.k_pos, self.backend)


def _add_partials(parts, axis=None, dtype=None, keepdims=False):
    """Partial products (a list when not concatenated) added with fastops.add."""
    with in_task_threads():
        total = reduce(_kernels.add, parts) if isinstance(parts, list) else parts
    return total if keepdims else np.squeeze(total, axis=axis[0])


def _contract(name, a, b, a_ind, b_ind, out_ind, k, backend, dtype):
    """blockwise(product, out_ind + contracted k) then the sum over k's blocks."""
    k_pos = out_ind.index(k)
    prod = da.blockwise(_Product(name, k_pos, backend), out_ind, a, a_ind, b, b_ind,
                        adjust_chunks={k: 1}, dtype=dtype, concatenate=False)
    if prod.shape[k_pos] == 1:
        return prod.squeeze(k_pos)
    return da.reduction(prod, _add_partials, _add_partials, axis=k_pos, dtype=dtype,
                        concatenate=False)


def _product_dtype(fn, a, b, backend):
    sa = np.ones((1,) * max(a.ndim, 1), a.dtype)
    sb = np.ones((1,) * max(b.ndim, 1), b.dtype)
    return np.asarray(getattr(_kernels, fn)(sa, sb, backend=backend)).dtype


def matmul(a, b, out=None, backend=None):
    _no_out(out, "matmul")
    a, b = (da.asarray(_operand(v, "matmul", n)) for v, n in ((a, "a"), (b, "b")))
    for x, n in ((a, "a"), (b, "b")):
        if x.ndim == 0:
            raise ValueError(f"matmul: {n} is 0-d (shape ()); matmul needs at least 1 "
                             f"dimension (use multiply for scalars)")
    ka = a.shape[-1]
    kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if ka != kb:
        raise ValueError(f"matmul: inner dimensions differ: a has shape {a.shape} and b has "
                         f"shape {b.shape} ({ka} != {kb})")
    dtype = _product_dtype("matmul", a, b, backend)
    a_1d, b_1d = a.ndim == 1, b.ndim == 1
    if a_1d:
        a = a[np.newaxis, :]
    if b_1d:
        b = b[:, np.newaxis]
    if a.ndim < b.ndim:
        a = a[(b.ndim - a.ndim) * (np.newaxis,)]
    elif a.ndim > b.ndim:
        b = b[(a.ndim - b.ndim) * (np.newaxis,)]
    nd = a.ndim
    a_ind = tuple(range(nd))
    b_ind = tuple(range(nd - 2)) + (nd - 1, nd)
    out = _contract("matmul", a, b, a_ind, b_ind, tuple(range(nd + 1)), nd - 1, backend, dtype)
    if a_1d:
        out = out.squeeze(-2)
    if b_1d:
        out = out.squeeze(-1)
    return out


def dot(a, b, out=None, backend=None):
    _no_out(out, "dot")
    a, b = (da.asarray(_operand(v, "dot", n)) for v, n in ((a, "a"), (b, "b")))
    if a.ndim == 0 or b.ndim == 0:
        return _elementwise("multiply", a, b)
    if a.ndim <= 2 and b.ndim <= 2:
        return matmul(a, b, backend=backend)
    kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if a.shape[-1] != kb:
        raise ValueError(f"dot: inner dimensions differ: a has shape {a.shape} and b has "
                         f"shape {b.shape} ({a.shape[-1]} != {kb})")
    dtype = _product_dtype("dot", a, b, backend)
    k = a.ndim - 1
    a_ind = tuple(range(a.ndim))
    rest = tuple(range(a.ndim, a.ndim + b.ndim - 1))
    b_ind = (k,) if b.ndim == 1 else rest[:-1] + (k,) + rest[-1:]
    out_ind = a_ind + (rest[:-1] + rest[-1:] if b.ndim > 1 else ())
    # out_ind keeps k right after a's free axes: the product's length-1 axis goes there
    return _contract("dot", a, b, a_ind, b_ind, out_ind, k, backend, dtype)


from ._dask_rows import (argmax, binary_accuracy_rows, binary_crossentropy_rows,  # noqa: E402
                         categorical_accuracy_rows, categorical_crossentropy_rows,
                         mean_absolute_error_rows, mean_squared_error_rows,
                         softmax, softmax_backward, sparse_categorical_accuracy_rows,
                         sparse_categorical_crossentropy_rows, top_k_accuracy_rows)

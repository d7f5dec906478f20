"""fastops.matmul / dot on dask arrays: Dask's matmul contraction pattern (blockwise without
concatenation, one fastops product per pair of blocks, then a sum of the partial products
when the contracted axis has several chunks), with fastops' dtypes and errors."""
from functools import reduce

import dask.array as da
import numpy as np

from . import _kernels
from ._dask import _elementwise, _no_out, _operand
from ._dask_threads import in_task_threads


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

# Elementwise and reduction entry points.
#
# Design:
#   a) the public functions here take any array-like; float32/float64 ndarrays of one
#      dtype go straight to _binary_arrays (a few C-level checks, no Python calls),
#      everything else goes through fastops._resolve (dtype policy, conversions,
#      delegation of integer/bool dtypes to NumPy);
#   b) _binary_arrays broadcasts, checks or allocates `out`, removes partial overlap
#      between `out` and an input, and hands pointers, shape and byte strides to C;
#   c) src/elementwise_kernels.c walks memory with the GIL released.
import sys

import numpy as np

cimport numpy as cnp
from libc.string cimport memcmp

from fo_arrays cimport arrays_overlap

from fastops import _resolve

cnp.import_array()

cdef extern from "fo_cpu.h":
    int fo_cpu_level() nogil

cdef extern from "elementwise_kernels.h":
    ctypedef cnp.npy_intp fo_idx
    enum:
        FO_ADD
        FO_SUBTRACT
        FO_MULTIPLY
        FO_DIVIDE
        FO_MAXIMUM
        FO_MINIMUM
        FO_ADD_RELU
        FO_RELU_GRAD
        FO_FLOAT32
        FO_FLOAT64
        FO_MAX_NDIM
    void fo_elementwise_set_isa(int level) nogil
    int fo_elementwise_get_isa() nogil
    void fo_binary(int op, int dtype, int ndim, const fo_idx *shape,
                   const char *a, const fo_idx *stride_a,
                   const char *b, const fo_idx *stride_b,
                   char *out, const fo_idx *stride_out, int nthreads, int out_is_fresh) nogil
    double fo_sum_all(int dtype, int ndim, const fo_idx *shape,
                      const char *x, const fo_idx *stride_x, int nthreads) nogil
    void fo_sum_into(int dtype, int ndim, const fo_idx *shape,
                     const char *x, const fo_idx *stride_x,
                     double *acc, const fo_idx *stride_acc) nogil

cdef int _num_threads = 1

# 0-d zeros: relu(x) is maximum(x, 0) with a broadcast scalar operand
_ZERO = {cnp.NPY_FLOAT32: np.zeros((), np.float32), cnp.NPY_FLOAT64: np.zeros((), np.float64)}
for _z in _ZERO.values():
    _z.flags.writeable = False

_OP_NAMES = ("add", "subtract", "multiply", "divide", "maximum", "minimum",
             "bias_add_relu", "relu_backward")


# ---- settings (called by fastops._config) ----

def _set_num_threads(int n):
    global _num_threads
    _num_threads = n


def _set_isa(int level):
    fo_elementwise_set_isa(level)


def _cpu_level():
    return fo_cpu_level()


def _active_isa():
    return fo_elementwise_get_isa()


# ---- core: ndarrays of one float dtype ----

cdef inline int _dtype_code(cnp.ndarray x):
    """FO_FLOAT32/FO_FLOAT64 for a native-order float array, else -1."""
    cdef int t = cnp.PyArray_TYPE(x)
    if not cnp.PyArray_ISNOTSWAPPED(x):
        return -1
    if t == cnp.NPY_FLOAT32:
        return FO_FLOAT32
    if t == cnp.NPY_FLOAT64:
        return FO_FLOAT64
    return -1


cdef inline int _float_code(cnp.ndarray x):
    """As _dtype_code, and -1 for misaligned data too: the C loops index typed
    pointers, so such arrays take the general path, which copies them."""
    if not cnp.PyArray_ISALIGNED(x):
        return -1
    return _dtype_code(x)


cdef bint _must_copy(cnp.ndarray x, const fo_idx *sx, cnp.ndarray out, int nd):
    """True when x overlaps out other than as the very same elements (in place)."""
    cdef int d
    if not arrays_overlap(x, out):
        return False
    if cnp.PyArray_DATA(x) != cnp.PyArray_DATA(out):
        return True
    for d in range(nd):
        if cnp.PyArray_DIM(out, d) > 1 and sx[d] != cnp.PyArray_STRIDE(out, d):
            return True
    return False


cdef void _broadcast_strides(cnp.ndarray x, int nd, const fo_idx *shape, fo_idx *sx):
    cdef int d, off = nd - cnp.PyArray_NDIM(x)
    for d in range(nd):
        if d < off or cnp.PyArray_DIM(x, d - off) != shape[d]:
            sx[d] = 0
        else:
            sx[d] = cnp.PyArray_STRIDE(x, d - off)


cdef object _check_out(object out, int nd, const fo_idx *shape, int code, str name):
    if type(out) is tuple and len(out) == 1:  # ufunc convention: out=(arr,)
        out = out[0]
    if not cnp.PyArray_Check(out):
        raise TypeError(f"{name}: out must be a numpy.ndarray, got {type(out).__name__}")
    cdef cnp.ndarray o = out
    if _dtype_code(o) != code:
        want = "float32" if code == FO_FLOAT32 else "float64"
        raise TypeError(f"{name}: out has dtype {o.dtype}, the result is {want}; "
                        f"fastops does not cast into out")
    if cnp.PyArray_NDIM(o) != nd or memcmp(cnp.PyArray_DIMS(o), shape, nd * sizeof(fo_idx)) != 0:
        shp = tuple([shape[d] for d in range(nd)])
        raise ValueError(f"{name}: out has shape {(<object>o).shape}, the result has shape {shp}")
    if not cnp.PyArray_ISWRITEABLE(o):
        raise ValueError(f"{name}: output array is read-only")
    return o


cdef object _binary_arrays(int op, cnp.ndarray a, cnp.ndarray b, object out, int code, str name):
    """out := op(a, b); a and b are native ndarrays of the dtype `code`."""
    cdef int nda = cnp.PyArray_NDIM(a), ndb = cnp.PyArray_NDIM(b)
    cdef int nd = nda if nda > ndb else ndb
    cdef int d
    cdef fo_idx da, db
    cdef fo_idx shape[FO_MAX_NDIM]
    cdef fo_idx sa[FO_MAX_NDIM]
    cdef fo_idx sb[FO_MAX_NDIM]
    cdef fo_idx so[FO_MAX_NDIM]
    cdef bint fortran = False
    cdef bint fresh = out is None
    cdef cnp.ndarray o, target = None
    for d in range(nd):
        da = cnp.PyArray_DIM(a, d - (nd - nda)) if d >= nd - nda else 1
        db = cnp.PyArray_DIM(b, d - (nd - ndb)) if d >= nd - ndb else 1
        if da == db or db == 1:
            shape[d] = da
        elif da == 1:
            shape[d] = db
        else:
            raise ValueError(f"{name}: operands could not be broadcast together "
                             f"with shapes {(<object>a).shape} {(<object>b).shape}")
    if out is None:
        # NumPy's K order for the common case: a Fortran-ordered operand of full
        # shape gives a Fortran-ordered result, so no axis is walked across.
        if nd > 1 and not cnp.PyArray_IS_C_CONTIGUOUS(a) and cnp.PyArray_IS_F_CONTIGUOUS(a) \
                and nda == nd:
            fortran = True
        o = cnp.PyArray_EMPTY(nd, shape, cnp.NPY_FLOAT32 if code == FO_FLOAT32 else cnp.NPY_FLOAT64,
                              fortran)
    else:
        o = _check_out(out, nd, shape, code, name)
        if not cnp.PyArray_ISALIGNED(o):  # compute aligned, then let NumPy copy it over
            target = o
            o = cnp.PyArray_EMPTY(nd, shape, cnp.PyArray_TYPE(target), False)
    _broadcast_strides(a, nd, shape, sa)
    _broadcast_strides(b, nd, shape, sb)
    if out is not None:
        # NumPy semantics for overlap: as if every input were read before out is written
        if _must_copy(a, sa, o, nd):
            a = a.copy()
            _broadcast_strides(a, nd, shape, sa)
        if _must_copy(b, sb, o, nd):
            b = b.copy()
            _broadcast_strides(b, nd, shape, sb)
    for d in range(nd):
        so[d] = cnp.PyArray_STRIDE(o, d)
    with nogil:
        fo_binary(op, code, nd, shape, <char *>cnp.PyArray_DATA(a), sa,
                  <char *>cnp.PyArray_DATA(b), sb, <char *>cnp.PyArray_DATA(o), so, _num_threads, fresh)
    if target is not None:
        target[...] = o
    if out is None:
        return o if nd else o[()]  # 0-d results become NumPy scalars, as ufuncs do
    return out if type(out) is not tuple else out[0]


cdef object _binary(int op, object a, object b, object out):
    cdef int code
    if cnp.PyArray_CheckExact(a) and cnp.PyArray_CheckExact(b):
        code = _float_code(a)
        if code >= 0 and cnp.PyArray_TYPE(a) == cnp.PyArray_TYPE(b) and cnp.PyArray_ISNOTSWAPPED(b):
            return _binary_arrays(op, a, b, out, code, _OP_NAMES[op])
    name = _OP_NAMES[op]
    xa, xb, dtype = _resolve.binary_operands(a, b, name)
    if xa is None:
        return _resolve.delegate_binary(name, a, b, out)
    return _binary_arrays(op, xa, xb, out, _float_code(xa), name)


# ---- public kernels ----

def add(a, b, out=None):
    """out := a + b, with NumPy broadcasting.

    Parameters
    ----------
    a, b : array_like
        float32/float64 are computed by fastops; integer and bool inputs are
        computed by NumPy (same result and dtype); complex, object and string
        inputs raise TypeError.
    out : ndarray, optional
        Of the broadcast shape and the result dtype (fastops does not cast);
        may be one of the inputs.

    Returns
    -------
    ndarray (a NumPy scalar for 0-d inputs without `out`), as np.add.

    Examples
    --------
    >>> fastops.add(np.ones((2, 3), np.float32), 1.0)   # float32: Python scalars are weak
    array([[2., 2., 2.],
           [2., 2., 2.]], dtype=float32)
    """
    return _binary(FO_ADD, a, b, out)


def subtract(a, b, out=None):
    """out := a - b, with NumPy broadcasting (see fastops.add for dtypes and out)."""
    return _binary(FO_SUBTRACT, a, b, out)


def multiply(a, b, out=None):
    """out := a * b, with NumPy broadcasting (see fastops.add for dtypes and out)."""
    return _binary(FO_MULTIPLY, a, b, out)


def divide(a, b, out=None):
    """out := a / b (true division, IEEE: x/0 is ±inf or nan), as np.divide."""
    return _binary(FO_DIVIDE, a, b, out)


def maximum(a, b, out=None):
    """out := max(a, b) elementwise; a NaN in either operand propagates, as np.maximum."""
    return _binary(FO_MAXIMUM, a, b, out)


def minimum(a, b, out=None):
    """out := min(a, b) elementwise; a NaN in either operand propagates, as np.minimum."""
    return _binary(FO_MINIMUM, a, b, out)


def relu(x, out=None):
    """out := max(x, 0), bit for bit np.maximum(x, 0): NaN stays NaN, -0.0 gives 0.0.

    Examples
    --------
    >>> fastops.relu(a, out=a)   # in place
    """
    cdef int code
    if cnp.PyArray_CheckExact(x):
        code = _float_code(x)
        if code >= 0:
            return _binary_arrays(FO_MAXIMUM, x, _ZERO[cnp.PyArray_TYPE(x)], out, code, "relu")
    xa = _resolve.unary_operand(x, "relu")
    if xa is None:
        return np.maximum(x, 0, out=out) if out is not None else np.maximum(x, 0)
    return _binary_arrays(FO_MAXIMUM, xa, _ZERO[cnp.PyArray_TYPE(xa)], out, _float_code(xa), "relu")


def relu_backward(grad, x, out=None):
    """out := grad where x > 0, else 0 (the gradient of relu at x; NaN in x gives 0).

    Same as np.where(x > 0, grad, 0) in the promoted dtype, with broadcasting.
    """
    return _binary(FO_RELU_GRAD, grad, x, out)


def bias_add(x, b, out=None):
    """out := x + b for x of shape (n, d) and b of shape (d,) (any broadcastable pair)."""
    return _binary(FO_ADD, x, b, out)


def bias_add_relu(x, b, out=None):
    """out := max(x + b, 0) in one pass over memory, as np.maximum(x + b, 0).

    x is typically (n, d) and b (d,); any broadcastable pair is accepted.
    """
    return _binary(FO_ADD_RELU, x, b, out)


def sum(x, axis=None, keepdims=False, out=None):
    """Sum over the given axes, as np.sum, accumulated in float64.

    float32 input gives a float32 result, but every partial sum is kept in
    float64 (pairwise within runs), so sums of 1e7 float32 values do not drift.
    Integer and bool input is summed by NumPy (np.sum's result and dtype).

    Parameters
    ----------
    x : array_like
    axis : None, int or tuple of ints
    keepdims : bool
    out : ndarray, optional
        Of the result shape and x's dtype.

    Examples
    --------
    >>> fastops.sum(dz, axis=0)        # bias gradient of a (batch, units) array
    """
    cdef int code, d, nd, k
    cdef fo_idx shape[FO_MAX_NDIM]
    cdef fo_idx sx[FO_MAX_NDIM]
    cdef fo_idx sacc[FO_MAX_NDIM]
    cdef fo_idx kept[FO_MAX_NDIM]
    cdef char reduced[FO_MAX_NDIM]
    cdef fo_idx res_dims[FO_MAX_NDIM]
    cdef int res_nd
    cdef double total
    cdef cnp.ndarray xa, acc
    if cnp.PyArray_CheckExact(x) and _float_code(x) >= 0:
        xa = x
    else:
        xa = _resolve.unary_operand(x, "sum")
        if xa is None:
            return np.sum(x, axis=axis, keepdims=keepdims, out=out)
    code = _float_code(xa)
    nd = cnp.PyArray_NDIM(xa)
    if axis is None:
        for d in range(nd):
            reduced[d] = 1
    elif type(axis) is int and -nd <= <long>axis < nd:
        for d in range(nd):
            reduced[d] = 0
        reduced[<long>axis + nd if <long>axis < 0 else <long>axis] = 1
    else:
        axes = _resolve.normalize_axes(axis, nd, "sum")
        for d in range(nd):
            reduced[d] = d in axes
    k = 0
    for d in range(nd):
        shape[d] = cnp.PyArray_DIM(xa, d)
        sx[d] = cnp.PyArray_STRIDE(xa, d)
        if not reduced[d]:
            kept[k] = shape[d]
            k += 1
    rtype = np.float32 if code == FO_FLOAT32 else np.float64
    res_nd = nd if keepdims else k
    for d in range(res_nd):
        res_dims[d] = (1 if reduced[d] else shape[d]) if keepdims else kept[d]
    res_shape = tuple([res_dims[d] for d in range(res_nd)])
    if out is not None:
        out = _check_out(out, res_nd, res_dims, code, "sum")
    if k == 0:
        with nogil:
            total = fo_sum_all(code, nd, shape, <char *>cnp.PyArray_DATA(xa), sx, _num_threads)
        if out is not None:
            out[...] = total
            return out
        if keepdims:
            return np.full(res_shape, total, dtype=rtype)
        return rtype(total)
    acc = cnp.PyArray_ZEROS(k, kept, cnp.NPY_FLOAT64, 0)
    k = 0
    for d in range(nd):
        if reduced[d]:
            sacc[d] = 0
        else:
            sacc[d] = cnp.PyArray_STRIDE(acc, k)
            k += 1
    with nogil:
        fo_sum_into(code, nd, shape, <char *>cnp.PyArray_DATA(xa), sx,
                    <double *>cnp.PyArray_DATA(acc), sacc)
    if out is None:
        res = acc if code == FO_FLOAT64 else acc.astype(np.float32)
        return res.reshape(res_shape) if keepdims else res
    out[...] = acc.reshape(res_shape)
    return out


from fastops import _config
_config._register(sys.modules[__name__])

# The fused nn kernels (exported as fastops.nn.*): row kernels over the last axis, losses with
# their gradient in one pass, metric counts, dropout and the optimizer updates.  Included by
# _kernels.pyx; the C is src/fo_nn.c.
import math
import operator

from libc.stdint cimport int64_t, uint64_t


# ---- operands of the row kernels ----

cdef cnp.ndarray as_rows(cnp.ndarray x, str fn, str arg):
    """x (any shape, at least 1-d, non-empty last axis) viewed as (rows, last axis); a view
    whenever NumPy can make one, so strided input is read in place."""
    if cnp.PyArray_NDIM(x) == 0:
        raise ValueError(f"{fn}: {arg} must have at least 1 dimension, got a scalar")
    cdef cnp.npy_intp last = cnp.PyArray_DIM(x, cnp.PyArray_NDIM(x) - 1)
    if last == 0:
        raise ValueError(f"{fn}: {arg} has an empty last axis (shape {np.shape(x)}); it needs at "
                         f"least one class")
    cdef cnp.ndarray r = x if cnp.PyArray_NDIM(x) == 2 else x.reshape(-1, last)
    return r if whole_strides(r) else np.ascontiguousarray(r)


cdef inline fo_mat mat_of(cnp.ndarray r):
    cdef fo_mat m
    cdef fo_idx isz = cnp.PyArray_ITEMSIZE(r)
    m.data = <char *>cnp.PyArray_DATA(r)
    m.rs = cnp.PyArray_STRIDE(r, 0) // isz
    m.cs = cnp.PyArray_STRIDE(r, 1) // isz
    return m


cdef fo_mat no_mat():
    cdef fo_mat m
    m.data = NULL
    m.rs = m.cs = 0
    return m


cdef tuple rows_pair(object a, object b, str fn, str an, str bn):
    """Two float operands of one shape, promoted to one dtype: (a, b, a_rows, b_rows)."""
    xa = float_operand(a, fn, an)
    xb = float_operand(b, fn, bn)
    if not cnp.PyArray_SAMESHAPE(xa, xb):
        raise ValueError(f"{fn}: {bn} has shape {np.shape(xb)} but {an} has shape {np.shape(xa)}")
    dtype = np.result_type(xa, xb)
    xa = kernel_ready(xa, dtype)
    xb = kernel_ready(xb, dtype)
    return xa, xb, as_rows(xa, fn, an), as_rows(xb, fn, bn)


cdef cnp.ndarray rows_out(object out, cnp.ndarray like, str fn):
    """The output of a row kernel shaped like `like`: new, or `out` checked (the caller copies
    the inputs out overlaps other than exactly, see unaliased)."""
    if out is None:
        return cnp.PyArray_EMPTY(cnp.PyArray_NDIM(like), cnp.PyArray_DIMS(like),
                                 cnp.PyArray_TYPE(like), False)
    return check_out(out, cnp.PyArray_NDIM(like), cnp.PyArray_DIMS(like),
                     cnp.PyArray_TYPE(like), fn)


cdef cnp.ndarray kernel_out(cnp.ndarray o):
    """o, or an aligned temporary when the kernel cannot write o in place (misaligned)."""
    if not cnp.PyArray_ISALIGNED(o):
        return cnp.PyArray_EMPTY(cnp.PyArray_NDIM(o), cnp.PyArray_DIMS(o), cnp.PyArray_TYPE(o),
                                 False)
    return o


cdef cnp.ndarray per_row(object v, fo_idx n, str fn, str arg, str kinds, str what,
                         str why):
    """v as an ndarray of shape (n,) (given as (n,) or (n, 1)) of a dtype kind in `kinds`:
    the checks labels and sample weights share; `what` and `why` word their errors."""
    if is_foreign(v) or is_dask(v):
        raise TypeError(f"{fn}: {arg} must be a numpy array, got {type(v).__name__}")
    cdef cnp.ndarray arr = np.asarray(v)
    if arr.dtype.kind not in kinds:
        raise TypeError(f"{fn}: {arg} must be {what}, got dtype {arr.dtype}")
    if cnp.PyArray_NDIM(arr) == 2 and cnp.PyArray_DIM(arr, 1) == 1:
        arr = arr[:, 0]
    if cnp.PyArray_NDIM(arr) != 1 or cnp.PyArray_DIM(arr, 0) != n:
        raise ValueError(f"{fn}: {arg} must have shape ({n},){why}, got {np.shape(arr)}")
    return arr


cdef cnp.ndarray labels_operand(object labels, fo_idx n, str fn, str arg="labels"):
    """Integer labels (or row indices: arg names them) as contiguous int64 of length n
    (shape (n,) or (n, 1)); their range is checked by the kernel before any of them
    addresses memory."""
    cdef cnp.ndarray arr = per_row(labels, n, fn, arg, "iu", "integers",
                                   f" to match the {n} rows")
    # only an 8-byte unsigned type holds values past int64's range: a max over others is wasted
    if arr.dtype.kind == "u" and cnp.PyArray_ITEMSIZE(arr) == 8 and arr.size \
            and arr.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{fn}: {arg} hold {arr.max()}, beyond any index")
    return np.ascontiguousarray(arr, dtype=np.int64)


cdef cnp.ndarray weights_operand(object w, fo_idx n, str fn):
    """Per-row weights as contiguous float64 of length n, or None."""
    if w is None:
        return None
    arr = per_row(w, n, fn, "sample_weight", "biuf", "numeric", ", one weight per row")
    return np.ascontiguousarray(arr, dtype=np.float64)


cdef inline const double *weights_ptr(cnp.ndarray w):
    return <const double *>cnp.PyArray_DATA(w) if w is not None else NULL


cdef object count_result(double c, cnp.ndarray w):
    """A weighted count as a float; an unweighted whole count as an int."""
    return int(c) if w is None and c == int(c) else float(c)


cdef void finish_out(cnp.ndarray o, object out):
    """Copy a temporary result into the caller's (misaligned) out."""
    if out is not None and <object>o is not unwrap_out(out):
        unwrap_out(out)[...] = o


cdef fo_idx checked_bad_row(fo_idx bad, cnp.ndarray labels, fo_idx k, str fn) except -2:
    if bad >= 0:
        raise ValueError(f"{fn}: labels must lie in [0, {k}) for {k} classes, found "
                         f"{labels[bad]} at row {bad}")
    return bad


# ---- softmax ----

def softmax(x, out=None):
    """Numerically stable softmax over the last axis.

    Args:
        x: float32/float64 array of at least 1 dimension, any layout.
        out: optional array of x's shape and dtype; may be x itself.

    Returns:
        exp(x - max) / sum(exp(x - max)) per row of the last axis.

    Example:
        >>> fastops.nn.softmax(np.array([[0.0, np.log(3.0)]]))
        array([[0.25, 0.75]])
    """
    if is_dask(x):
        return dask_dispatch("softmax", x, out=out)
    cdef cnp.ndarray xa = float_operand(x, "softmax", "x")
    cdef cnp.ndarray xr = as_rows(xa, "softmax", "x")
    cdef cnp.ndarray o = rows_out(out, xa, "softmax")
    cdef cnp.ndarray k_out = kernel_out(o)
    xr = as_rows(unaliased(xa, o), "softmax", "x")
    cdef cnp.ndarray orows = as_rows(k_out, "softmax", "out")
    cdef Config cfg = current_config()
    cdef fo_mat mx = mat_of(xr), mo = mat_of(orows)
    cdef fo_idx n = cnp.PyArray_DIM(xr, 0), k = cnp.PyArray_DIM(xr, 1)
    cdef bint f32_ = cnp.PyArray_TYPE(<cnp.ndarray>xr) == cnp.NPY_FLOAT32
    with nogil:
        (fo_softmax_f32 if f32_ else fo_softmax_f64)(cfg.isa, cfg.nthreads, n, k, mx, mo)
    sync_rows(orows, k_out)
    finish_out(k_out, out)
    return unwrap_out(out) if out is not None else k_out


cdef void sync_rows(cnp.ndarray rows, cnp.ndarray full):
    """as_rows copies an output it cannot view as rows: write the rows back."""
    if not overlaps(rows, full):
        full[...] = rows.reshape((<object>full).shape)


def softmax_backward(grad, y, out=None):
    """out := y * (grad - sum(grad * y, axis=-1)): the gradient through softmax from its
    output y.  out may be grad or y itself."""
    if is_dask(grad) or is_dask(y):
        return dask_dispatch("softmax_backward", grad, y, out=out)
    fn = "softmax_backward"
    ga, ya, gr, yr = rows_pair(grad, y, fn, "grad", "y")
    cdef cnp.ndarray o = rows_out(out, ya, fn)
    cdef cnp.ndarray k_out = kernel_out(o)
    gr = as_rows(unaliased(ga, o), fn, "grad")
    yr = as_rows(unaliased(ya, o), fn, "y")
    cdef cnp.ndarray orows = as_rows(k_out, fn, "out")
    cdef Config cfg = current_config()
    cdef fo_mat mg = mat_of(gr), my = mat_of(yr), mo = mat_of(orows)
    cdef fo_idx n = cnp.PyArray_DIM(yr, 0), k = cnp.PyArray_DIM(yr, 1)
    cdef bint f32_ = cnp.PyArray_TYPE(<cnp.ndarray>yr) == cnp.NPY_FLOAT32
    with nogil:
        (fo_softmax_backward_f32 if f32_ else fo_softmax_backward_f64)(
            cfg.isa, cfg.nthreads, n, k, mg, my, mo)
    sync_rows(orows, k_out)
    finish_out(k_out, out)
    return unwrap_out(out) if out is not None else k_out

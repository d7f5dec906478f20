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
    if np.shape(x)[-1] == 0:
        raise ValueError(f"{fn}: {arg} has an empty last axis (shape {np.shape(x)}); it needs at "
                         f"least one class")
    cdef cnp.ndarray r = x if cnp.PyArray_NDIM(x) == 2 else x.reshape(-1, np.shape(x)[-1])
    cdef fo_idx isz = cnp.PyArray_ITEMSIZE(r)
    if cnp.PyArray_STRIDE(r, 0) % isz or cnp.PyArray_STRIDE(r, 1) % isz:
        r = np.ascontiguousarray(r)
    return r


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
    if np.shape(xa) != np.shape(xb):
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


cdef cnp.ndarray labels_operand(object labels, fo_idx n, str fn):
    """Integer labels as contiguous int64 of length n (shape (n,) or (n, 1)); their range is
    checked by the kernel before any of them addresses memory."""
    if is_foreign(labels) or is_dask(labels):
        raise TypeError(f"{fn}: labels must be a numpy array, got {type(labels).__name__}")
    arr = np.asarray(labels)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{fn}: labels must be integers, got dtype {arr.dtype}")
    if arr.ndim == 2 and np.shape(arr)[1] == 1:
        arr = arr[:, 0]
    if np.shape(arr) != (n,):
        raise ValueError(f"{fn}: labels must have shape ({n},) to match the {n} rows, got "
                         f"{np.shape(arr)}")
    if arr.dtype.kind == "u" and arr.size and arr.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{fn}: labels hold {arr.max()}, beyond any class index")
    return np.ascontiguousarray(arr, dtype=np.int64)


cdef cnp.ndarray weights_operand(object w, fo_idx n, str fn):
    """Per-row weights as contiguous float64 of length n, or None."""
    if w is None:
        return None
    if is_foreign(w) or is_dask(w):
        raise TypeError(f"{fn}: sample_weight must be a numpy array, got {type(w).__name__}")
    arr = np.asarray(w)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{fn}: sample_weight must be numeric, got dtype {arr.dtype}")
    if arr.ndim == 2 and np.shape(arr)[1] == 1:
        arr = arr[:, 0]
    if np.shape(arr) != (n,):
        raise ValueError(f"{fn}: sample_weight must have shape ({n},), one weight per row, "
                         f"got {np.shape(arr)}")
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
        if f32_:
            fo_softmax_f32(cfg.isa, cfg.nthreads, n, k, mx, mo)
        else:
            fo_softmax_f64(cfg.isa, cfg.nthreads, n, k, mx, mo)
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
        if f32_:
            fo_softmax_backward_f32(cfg.isa, cfg.nthreads, n, k, mg, my, mo)
        else:
            fo_softmax_backward_f64(cfg.isa, cfg.nthreads, n, k, mg, my, mo)
    sync_rows(orows, k_out)
    finish_out(k_out, out)
    return unwrap_out(out) if out is not None else k_out


# ---- argmax and metric counts ----

def argmax(x, out=None):
    """Index of the first maximum along the last axis (as np.argmax(x, axis=-1)), int64;
    a NaN counts as the maximum, as in NumPy."""
    if is_dask(x):
        return dask_dispatch("argmax", x, out=out)
    cdef cnp.ndarray xa = float_operand(x, "argmax", "x")
    cdef cnp.ndarray xr = as_rows(xa, "argmax", "x")
    cdef cnp.npy_intp dims[FO_MAX_NDIM]
    cdef int d, nd = cnp.PyArray_NDIM(xa) - 1
    for d in range(nd):
        dims[d] = cnp.PyArray_DIM(xa, d)
    cdef cnp.ndarray o
    if out is None:
        o = cnp.PyArray_EMPTY(nd, dims, cnp.NPY_INT64, False)
    else:
        o = check_out(out, nd, dims, cnp.NPY_INT64, "argmax")
    cdef cnp.ndarray flat = o if cnp.PyArray_IS_C_CONTIGUOUS(o) and cnp.PyArray_ISALIGNED(o) \
        else cnp.PyArray_EMPTY(nd, dims, cnp.NPY_INT64, False)
    xr = as_rows(unaliased(xa, flat), "argmax", "x")
    cdef Config cfg = current_config()
    cdef fo_mat mx = mat_of(xr)
    cdef fo_idx n = cnp.PyArray_DIM(xr, 0), k = cnp.PyArray_DIM(xr, 1)
    cdef int64_t *po = <int64_t *>cnp.PyArray_DATA(flat)
    cdef bint f32_ = cnp.PyArray_TYPE(<cnp.ndarray>xr) == cnp.NPY_FLOAT32
    with nogil:
        if f32_:
            fo_argmax_f32(cfg.isa, cfg.nthreads, n, k, mx, po)
        else:
            fo_argmax_f64(cfg.isa, cfg.nthreads, n, k, mx, po)
    if flat is not o:
        o[...] = flat
    return o


cdef enum CountKind:
    CATEGORICAL
    SPARSE_CATEGORICAL
    BINARY
    TOP_K


cdef double run_count(int kind, bint f32, Config cfg, fo_idx n, fo_idx k, fo_mat p, fo_mat y,
                      const int64_t *labels, double threshold, fo_idx top, const double *w,
                      double *rows, fo_idx *bad) noexcept nogil:
    if kind == CATEGORICAL:
        return (fo_categorical_correct_f32 if f32 else fo_categorical_correct_f64)(
            cfg.isa, cfg.nthreads, n, k, p, y, w, rows)
    if kind == SPARSE_CATEGORICAL:
        return (fo_sparse_categorical_correct_f32 if f32 else fo_sparse_categorical_correct_f64)(
            cfg.isa, cfg.nthreads, n, k, p, labels, w, rows)
    if kind == BINARY:
        return (fo_binary_correct_f32 if f32 else fo_binary_correct_f64)(
            cfg.isa, cfg.nthreads, n, k, p, y, threshold, w, rows)
    return (fo_top_k_correct_f32 if f32 else fo_top_k_correct_f64)(
        cfg.isa, cfg.nthreads, n, k, p, labels, top, w, rows, bad)


cdef tuple count(int kind, str fn, object y_pred, object b, double threshold, fo_idx top,
                 object sample_weight, bint want_rows, object rows_out):
    """(weighted correct count, per-row correctness or None); b is y_true or labels."""
    cdef bint sparse = kind == SPARSE_CATEGORICAL or kind == TOP_K
    cdef cnp.ndarray pa, pr, yr = None, lab = None, w, rows = None
    if sparse:
        pa = float_operand(y_pred, fn, "y_pred")
        pr = as_rows(pa, fn, "y_pred")
    else:
        pa, _, pr, yr = rows_pair(y_pred, b, fn, "y_pred", "y_true")
    cdef fo_idx n = cnp.PyArray_DIM(pr, 0), k = cnp.PyArray_DIM(pr, 1), bad = -1
    if sparse:
        lab = labels_operand(b, n, fn)
    w = weights_operand(sample_weight, n, fn)
    if want_rows:
        rows = cnp.PyArray_EMPTY(1, &n, cnp.NPY_FLOAT64, False)
    cdef Config cfg = current_config()
    cdef fo_mat mp = mat_of(pr), my = mat_of(yr) if yr is not None else no_mat()
    cdef const double *pw = weights_ptr(w)
    cdef const int64_t *pl = <const int64_t *>cnp.PyArray_DATA(lab) if lab is not None else NULL
    cdef double *prows = <double *>cnp.PyArray_DATA(rows) if rows is not None else NULL
    cdef bint f32 = cnp.PyArray_TYPE(pr) == cnp.NPY_FLOAT32
    cdef double c
    with nogil:
        c = run_count(kind, f32, cfg, n, k, mp, my, pl, threshold, top, pw, prows, &bad)
    if kind == TOP_K:
        checked_bad_row(bad, lab, k, fn)
    per_row = rows_result(rows, pa, rows_out, fn) if want_rows else None
    return count_result(c, w), per_row


def categorical_correct(y_pred, y_true, sample_weight=None):
    """sum_i w_i * [argmax(y_pred_i) == argmax(y_true_i)] (Keras categorical_accuracy times
    the rows); an int without weights."""
    return count(CATEGORICAL, "categorical_correct", y_pred, y_true, 0.0, 0, sample_weight,
                 False, None)[0]


def sparse_categorical_correct(y_pred, labels, sample_weight=None):
    """sum_i w_i * [argmax(y_pred_i) == labels_i] (Keras sparse_categorical_accuracy times
    the rows); a label outside [0, k) is simply wrong, as in Keras."""
    return count(SPARSE_CATEGORICAL, "sparse_categorical_correct", y_pred, labels, 0.0, 0,
                 sample_weight, False, None)[0]


def binary_correct(y_pred, y_true, threshold=0.5, sample_weight=None):
    """sum_i w_i * mean_j [(y_pred_ij > threshold) == y_true_ij] (Keras binary_accuracy times
    the rows; y_true is compared exactly with 0 and 1)."""
    t = hyper("binary_correct", "threshold", threshold)
    return count(BINARY, "binary_correct", y_pred, y_true, t, 0, sample_weight, False, None)[0]


def top_k_correct(y_pred, labels, k=5, sample_weight=None):
    """sum_i w_i * [labels_i among the k largest of y_pred_i] (Keras
    sparse_top_k_categorical_accuracy; a class tied with the k-th value counts as in, as in
    TensorFlow's in_top_k; labels outside [0, k) raise ValueError)."""
    top = positive_int("top_k_correct", "k", k)
    return count(TOP_K, "top_k_correct", y_pred, labels, 0.0, top, sample_weight, False, None)[0]


def categorical_accuracy_rows(y_pred, y_true, out=None):
    """Per-row [argmax(y_pred) == argmax(y_true)] as 0/1 in y_pred's dtype (Keras'
    categorical_accuracy function)."""
    if is_dask(y_pred) or is_dask(y_true):
        return dask_dispatch("categorical_accuracy_rows", y_pred, y_true, out=out)
    return count(CATEGORICAL, "categorical_accuracy", y_pred, y_true, 0.0, 0, None, True, out)[1]


def sparse_categorical_accuracy_rows(y_pred, labels, out=None):
    """Per-row [argmax(y_pred) == label] (Keras' sparse_categorical_accuracy function)."""
    if is_dask(y_pred) or is_dask(labels):
        return dask_dispatch("sparse_categorical_accuracy_rows", y_pred, labels, out=out)
    return count(SPARSE_CATEGORICAL, "sparse_categorical_accuracy", y_pred, labels, 0.0, 0,
                 None, True, out)[1]


def binary_accuracy_rows(y_pred, y_true, threshold=0.5, out=None):
    """Per-row mean_j [(y_pred > threshold) == y_true] (Keras' binary_accuracy function)."""
    if is_dask(y_pred) or is_dask(y_true):
        return dask_dispatch("binary_accuracy_rows", y_pred, y_true, threshold=threshold, out=out)
    t = hyper("binary_accuracy", "threshold", threshold)
    return count(BINARY, "binary_accuracy", y_pred, y_true, t, 0, None, True, out)[1]


def top_k_accuracy_rows(y_pred, labels, k=5, out=None):
    """Per-row [label among the k largest] (Keras' sparse_top_k_categorical_accuracy)."""
    if is_dask(y_pred) or is_dask(labels):
        return dask_dispatch("top_k_accuracy_rows", y_pred, labels, k=k, out=out)
    top = positive_int("top_k_accuracy", "k", k)
    return count(TOP_K, "top_k_accuracy", y_pred, labels, 0.0, top, None, True, out)[1]


# ---- row gather ----

def take_rows(x, indices, out):
    """out[i] := x[indices[i]], converted to out's dtype (float32/float64) in the same pass:
    the batch gather of training, which np.take cannot do across dtypes.

    Args:
        x: float32/float64 array of 2 dimensions (rows, features), any layout.
        indices: integer array (m,), each in [0, len(x)) (else ValueError, nothing written).
        out: float32/float64 array (m, features), any layout; must not overlap x.
    """
    fn = "take_rows"
    cdef cnp.ndarray xa = float_operand(x, fn, "x")
    if cnp.PyArray_NDIM(xa) != 2:
        raise ValueError(f"{fn}: x must be 2-D (rows, features), got shape {np.shape(xa)}")
    if not cnp.PyArray_Check(out) or np.asarray(out).dtype.type not in (np.float32, np.float64):
        raise TypeError(f"{fn}: out must be a float32 or float64 ndarray, got "
                        f"{getattr(out, 'dtype', type(out).__name__)}")
    cdef cnp.ndarray o = out
    idx = labels_operand(indices, np.size(indices), fn)
    cdef cnp.npy_intp dims[2]
    dims[0] = cnp.PyArray_DIM(idx, 0)
    dims[1] = cnp.PyArray_DIM(xa, 1)
    check_out(o, 2, dims, cnp.PyArray_TYPE(o), fn)
    if overlaps(o, xa):
        raise ValueError(f"{fn}: out shares memory with x")
    cdef cnp.ndarray k_out = kernel_out(o)
    cdef Config cfg = current_config()
    cdef fo_mat mx = mat_of(xa), mo = mat_of(k_out)
    cdef fo_idx n = dims[0], k = dims[1], n_src = cnp.PyArray_DIM(xa, 0), bad = -1
    cdef int src = dtype_code(xa)
    cdef const int64_t *pi = <const int64_t *>cnp.PyArray_DATA(idx)
    cdef bint f32 = cnp.PyArray_TYPE(k_out) == cnp.NPY_FLOAT32
    with nogil:
        if f32:
            fo_take_rows_f32(cfg.isa, cfg.nthreads, n, k, mx, src, n_src, pi, mo, &bad)
        else:
            fo_take_rows_f64(cfg.isa, cfg.nthreads, n, k, mx, src, n_src, pi, mo, &bad)
    if bad >= 0:
        raise ValueError(f"{fn}: indices must lie in [0, {n_src}), found {idx[bad]} at {bad}")
    finish_out(k_out, out)
    return out


# ---- dropout ----

def dropout(x, rate, seed, out=None):
    """Inverted dropout: out = where(keep, x / (1 - rate), 0), keep drawn from (seed, element
    index) so dropout_backward redraws the same mask without storing it.

    Element i (flat C order) is kept when (mix(key + (i + 1) * G) >> 40) >= int(rate * 2**24),
    key = mix(seed + G), mix the splitmix64 finaliser, G = 0x9E3779B97F4A7C15 (mod 2**64).

    Args:
        x: float32/float64 array, any shape.
        rate: fraction dropped, in [0, 1].
        seed: int in [0, 2**64).
        out: optional array of x's shape and dtype; may be x itself.
    """
    return dropout_kernel(x, rate, seed, out, "dropout")


def dropout_backward(grad, rate, seed, out=None):
    """The gradient through dropout(., rate, seed): the same mask and scale applied to grad."""
    return dropout_kernel(grad, rate, seed, out, "dropout_backward")


cdef object dropout_kernel(object x, object rate, object seed, object out, str fn):
    r = hyper(fn, "rate", rate, 0.0, 1.0)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
        raise ValueError(f"{fn}: seed must be an int in [0, 2**64), got {seed!r}")
    cdef cnp.ndarray xa = float_operand(x, fn, "x")
    cdef cnp.ndarray o = rows_out(out, xa, fn)
    cdef cnp.ndarray k_out = kernel_out(o)
    if xa.ndim == 0 or xa.size == 0:
        k_out[...] = xa if r < 1 else 0
        finish_out(k_out, out)
        return unwrap_out(out) if out is not None else k_out
    xa = unaliased(xa, o)
    cdef cnp.ndarray xr = as_rows(xa, fn, "x")
    cdef cnp.ndarray orows = as_rows(k_out, fn, "out")
    cdef Config cfg = current_config()
    cdef fo_mat mx = mat_of(xr), mo = mat_of(orows)
    cdef fo_idx n = cnp.PyArray_DIM(xr, 0), k = cnp.PyArray_DIM(xr, 1)
    cdef uint64_t cut = <uint64_t>int(r * 2**24), s = <uint64_t>int(seed)
    cdef double keep = 1.0 - r
    cdef bint f32_ = cnp.PyArray_TYPE(<cnp.ndarray>xr) == cnp.NPY_FLOAT32
    with nogil:
        if f32_:
            fo_dropout_f32(cfg.isa, cfg.nthreads, n, k, mx, cut, keep, s, mo)
        else:
            fo_dropout_f64(cfg.isa, cfg.nthreads, n, k, mx, cut, keep, s, mo)
    sync_rows(orows, k_out)
    finish_out(k_out, out)
    return unwrap_out(out) if out is not None else k_out



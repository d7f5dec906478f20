# argmax and the metric counts (correct predictions, weighted, and per-row accuracies) of the
# nn family, on the row operands of nn.pxi.  Included by _kernels.pyx.

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
        (fo_argmax_f32 if f32_ else fo_argmax_f64)(cfg.isa, cfg.nthreads, n, k, mx, po)
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

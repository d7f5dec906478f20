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
    return float(c) if w is not None else int(c)


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


# ---- losses: (loss, gradient w.r.t. the first operand, [correct]) ----

cdef tuple loss_grad_out(object out, bint grad, cnp.ndarray like, str fn):
    """(out array or None, kernel output, its rows) for a loss's gradient."""
    if not grad:
        if out is not None:
            raise ValueError(f"{fn}: out was given but grad=False")
        return None, None, None
    o = rows_out(out, like, fn)
    k_out = kernel_out(o)
    return o, k_out, as_rows(k_out, fn, "out")


def softmax_crossentropy(logits, y_true, out=None, grad=True, sample_weight=None):
    """Softmax + categorical cross-entropy from the logits, forward and backward in one pass.

    Equals Keras' categorical_crossentropy(y_true, softmax(logits)), computed from the
    logits with log-sum-exp (as TensorFlow does): no log(0), and a logit of -inf where
    y_true is 0 adds nothing.

    Args:
        logits: (..., k) float32/float64; rows are every index but the last axis.
        y_true: same shape (one-hot or soft targets).
        out: optional array of logits' shape for the gradient of the mean loss,
            w_i * (softmax(logits) * sum(y_true) - y_true) / n.  May be logits itself.
        grad: False computes the loss only (out must be None).
        sample_weight: optional (n,) weights w_i of the rows.

    Returns:
        (loss, gradient or None, correct): loss = sum_i w_i * loss_i / n, accumulated in
        float64; correct = sum_i w_i * [argmax(logits_i) == argmax(y_true_i)] (an int
        without weights).
    """
    fn = "softmax_crossentropy"
    za, ya, zr, yr = rows_pair(logits, y_true, fn, "logits", "y_true")
    cdef fo_idx n = cnp.PyArray_DIM(zr, 0), k = cnp.PyArray_DIM(zr, 1)
    if n == 0:
        raise ValueError(f"{fn}: logits must have at least one row, got shape {np.shape(za)}")
    w = weights_operand(sample_weight, n, fn)
    o, k_out, grows = loss_grad_out(out, grad, za, fn)
    if o is not None:
        zr = as_rows(unaliased(za, o), fn, "logits")
        yr = as_rows(unaliased(ya, o), fn, "y_true")
    cdef Config cfg = current_config()
    cdef fo_mat mz = mat_of(zr), my = mat_of(yr)
    cdef fo_mat mgr = mat_of(grows) if grows is not None else no_mat()
    cdef const double *pw = weights_ptr(w)
    cdef double loss, correct = 0.0
    cdef bint f32_ = cnp.PyArray_TYPE(<cnp.ndarray>zr) == cnp.NPY_FLOAT32
    with nogil:
        if f32_:
            loss = fo_softmax_crossentropy_f32(cfg.isa, cfg.nthreads, n, k, mz, my, pw, mgr,
                                               &correct)
        else:
            loss = fo_softmax_crossentropy_f64(cfg.isa, cfg.nthreads, n, k, mz, my, pw, mgr,
                                               &correct)
    return loss, finished_grad(grows, k_out, out), count_result(correct, w)


cdef object finished_grad(object grows, object k_out, object out):
    if grows is None:
        return None
    sync_rows(grows, k_out)
    finish_out(k_out, out)
    return unwrap_out(out) if out is not None else k_out


def sparse_softmax_crossentropy(logits, labels, out=None, grad=True, sample_weight=None):
    """As softmax_crossentropy with integer class labels (Keras'
    sparse_categorical_crossentropy): labels (n,) or (n, 1), each in [0, k), else
    ValueError naming the first bad one (checked before any is used as an index).

    Returns:
        (loss, gradient or None, correct).
    """
    fn = "sparse_softmax_crossentropy"
    cdef cnp.ndarray za = float_operand(logits, fn, "logits")
    cdef cnp.ndarray zr = as_rows(za, fn, "logits")
    cdef fo_idx n = cnp.PyArray_DIM(zr, 0), k = cnp.PyArray_DIM(zr, 1), bad = -1
    if n == 0:
        raise ValueError(f"{fn}: logits must have at least one row, got shape {np.shape(za)}")
    lab = labels_operand(labels, n, fn)
    w = weights_operand(sample_weight, n, fn)
    o, k_out, grows = loss_grad_out(out, grad, za, fn)
    if o is not None:
        zr = as_rows(unaliased(za, o), fn, "logits")
        lab = unaliased(lab, o)
    cdef Config cfg = current_config()
    cdef fo_mat mz = mat_of(zr)
    cdef fo_mat mgr = mat_of(grows) if grows is not None else no_mat()
    cdef const double *pw = weights_ptr(w)
    cdef const int64_t *pl = <const int64_t *>cnp.PyArray_DATA(lab)
    cdef double loss, correct = 0.0
    cdef bint f32_ = cnp.PyArray_TYPE(<cnp.ndarray>zr) == cnp.NPY_FLOAT32
    with nogil:
        if f32_:
            loss = fo_sparse_softmax_crossentropy_f32(cfg.isa, cfg.nthreads, n, k, mz, pl, pw,
                                                      mgr, &correct, &bad)
        else:
            loss = fo_sparse_softmax_crossentropy_f64(cfg.isa, cfg.nthreads, n, k, mz, pl, pw,
                                                      mgr, &correct, &bad)
    checked_bad_row(bad, lab, k, fn)
    return loss, finished_grad(grows, k_out, out), count_result(correct, w)


def sigmoid_crossentropy(logits, y_true, out=None, grad=True, sample_weight=None):
    """Sigmoid + binary cross-entropy from the logits, forward and backward in one pass.

    loss_i is the mean over the last axis of max(z, 0) - z * y + log(1 + exp(-|z|)) (Keras'
    binary_crossentropy(y_true, sigmoid(z)) computed from the logits, as TensorFlow does).

    Returns:
        (loss, gradient or None, correct): gradient w_i * (sigmoid(z) - y) / (n * k);
        correct = sum_i w_i * mean_j [(z > 0) == y] (Keras' binary_accuracy at 0.5).
    """
    fn = "sigmoid_crossentropy"
    za, ya, zr, yr = rows_pair(logits, y_true, fn, "logits", "y_true")
    cdef fo_idx n = cnp.PyArray_DIM(zr, 0), k = cnp.PyArray_DIM(zr, 1)
    if n == 0:
        raise ValueError(f"{fn}: logits must have at least one row, got shape {np.shape(za)}")
    w = weights_operand(sample_weight, n, fn)
    o, k_out, grows = loss_grad_out(out, grad, za, fn)
    if o is not None:
        zr = as_rows(unaliased(za, o), fn, "logits")
        yr = as_rows(unaliased(ya, o), fn, "y_true")
    cdef Config cfg = current_config()
    cdef fo_mat mz = mat_of(zr), my = mat_of(yr)
    cdef fo_mat mgr = mat_of(grows) if grows is not None else no_mat()
    cdef const double *pw = weights_ptr(w)
    cdef double loss, correct = 0.0
    cdef bint f32_ = cnp.PyArray_TYPE(<cnp.ndarray>zr) == cnp.NPY_FLOAT32
    with nogil:
        if f32_:
            loss = fo_sigmoid_crossentropy_f32(cfg.isa, cfg.nthreads, n, k, mz, my, pw, mgr,
                                               &correct)
        else:
            loss = fo_sigmoid_crossentropy_f64(cfg.isa, cfg.nthreads, n, k, mz, my, pw, mgr,
                                               &correct)
    c = correct if w is not None else (int(correct) if correct == int(correct) else correct)
    return loss, finished_grad(grows, k_out, out), c


cdef tuple regression(bint absolute, object y_pred, object y_true, object out, bint grad,
                      object sample_weight, str fn):
    pa, ya, pr, yr = rows_pair(y_pred, y_true, fn, "y_pred", "y_true")
    cdef fo_idx n = cnp.PyArray_DIM(pr, 0), k = cnp.PyArray_DIM(pr, 1)
    if n == 0:
        raise ValueError(f"{fn}: y_pred must have at least one row, got shape {np.shape(pa)}")
    w = weights_operand(sample_weight, n, fn)
    o, k_out, grows = loss_grad_out(out, grad, pa, fn)
    if o is not None:
        pr = as_rows(unaliased(pa, o), fn, "y_pred")
        yr = as_rows(unaliased(ya, o), fn, "y_true")
    cdef Config cfg = current_config()
    cdef fo_mat mp = mat_of(pr), my = mat_of(yr)
    cdef fo_mat mgr = mat_of(grows) if grows is not None else no_mat()
    cdef const double *pw = weights_ptr(w)
    cdef double loss
    cdef bint f32 = cnp.PyArray_TYPE(pr) == cnp.NPY_FLOAT32
    with nogil:
        if absolute:
            loss = (fo_mean_absolute_error_f32(cfg.isa, cfg.nthreads, n, k, mp, my, pw, mgr)
                    if f32 else
                    fo_mean_absolute_error_f64(cfg.isa, cfg.nthreads, n, k, mp, my, pw, mgr))
        else:
            loss = (fo_mean_squared_error_f32(cfg.isa, cfg.nthreads, n, k, mp, my, pw, mgr)
                    if f32 else
                    fo_mean_squared_error_f64(cfg.isa, cfg.nthreads, n, k, mp, my, pw, mgr))
    return loss, finished_grad(grows, k_out, out)


def mean_squared_error(y_pred, y_true, out=None, grad=True, sample_weight=None):
    """(loss, gradient or None): loss_i = mean over the last axis of (y_pred - y_true)**2,
    loss = sum_i w_i * loss_i / n; gradient 2 * w_i * (y_pred - y_true) / (n * k)."""
    return regression(False, y_pred, y_true, out, grad, sample_weight, "mean_squared_error")


def mean_absolute_error(y_pred, y_true, out=None, grad=True, sample_weight=None):
    """(loss, gradient or None): loss_i = mean over the last axis of |y_pred - y_true|;
    gradient w_i * sign(y_pred - y_true) / (n * k) (0 where they are equal)."""
    return regression(True, y_pred, y_true, out, grad, sample_weight, "mean_absolute_error")


# ---- argmax and metric counts ----

def argmax(x, out=None):
    """Index of the first maximum along the last axis (as np.argmax(x, axis=-1)), int64;
    a NaN counts as the maximum, as in NumPy."""
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


def categorical_correct(y_pred, y_true, sample_weight=None):
    """sum_i w_i * [argmax(y_pred_i) == argmax(y_true_i)] (Keras categorical_accuracy
    times the rows); an int without weights."""
    fn = "categorical_correct"
    pa, ya, pr, yr = rows_pair(y_pred, y_true, fn, "y_pred", "y_true")
    cdef fo_idx n = cnp.PyArray_DIM(pr, 0), k = cnp.PyArray_DIM(pr, 1)
    w = weights_operand(sample_weight, n, fn)
    cdef Config cfg = current_config()
    cdef fo_mat mp = mat_of(pr), my = mat_of(yr)
    cdef const double *pw = weights_ptr(w)
    cdef double c
    cdef bint f32_ = cnp.PyArray_TYPE(<cnp.ndarray>pr) == cnp.NPY_FLOAT32
    with nogil:
        if f32_:
            c = fo_categorical_correct_f32(cfg.isa, cfg.nthreads, n, k, mp, my, pw)
        else:
            c = fo_categorical_correct_f64(cfg.isa, cfg.nthreads, n, k, mp, my, pw)
    return count_result(c, w)


def sparse_categorical_correct(y_pred, labels, sample_weight=None):
    """sum_i w_i * [argmax(y_pred_i) == labels_i] (Keras sparse_categorical_accuracy times
    the rows); a label outside [0, k) is simply wrong, as in Keras."""
    fn = "sparse_categorical_correct"
    cdef cnp.ndarray pa = float_operand(y_pred, fn, "y_pred")
    cdef cnp.ndarray pr = as_rows(pa, fn, "y_pred")
    cdef fo_idx n = cnp.PyArray_DIM(pr, 0), k = cnp.PyArray_DIM(pr, 1)
    lab = labels_operand(labels, n, fn)
    w = weights_operand(sample_weight, n, fn)
    cdef Config cfg = current_config()
    cdef fo_mat mp = mat_of(pr)
    cdef const double *pw = weights_ptr(w)
    cdef const int64_t *pl = <const int64_t *>cnp.PyArray_DATA(lab)
    cdef double c
    cdef bint f32_ = cnp.PyArray_TYPE(<cnp.ndarray>pr) == cnp.NPY_FLOAT32
    with nogil:
        if f32_:
            c = fo_sparse_categorical_correct_f32(cfg.isa, cfg.nthreads, n, k, mp, pl, pw)
        else:
            c = fo_sparse_categorical_correct_f64(cfg.isa, cfg.nthreads, n, k, mp, pl, pw)
    return count_result(c, w)


def binary_correct(y_pred, y_true, threshold=0.5, sample_weight=None):
    """sum_i w_i * mean_j [(y_pred_ij > threshold) == y_true_ij] (Keras binary_accuracy times
    the rows; y_true is compared exactly with 0 and 1)."""
    fn = "binary_correct"
    t = hyper(fn, "threshold", threshold)
    pa, ya, pr, yr = rows_pair(y_pred, y_true, fn, "y_pred", "y_true")
    cdef fo_idx n = cnp.PyArray_DIM(pr, 0), k = cnp.PyArray_DIM(pr, 1)
    w = weights_operand(sample_weight, n, fn)
    cdef Config cfg = current_config()
    cdef fo_mat mp = mat_of(pr), my = mat_of(yr)
    cdef const double *pw = weights_ptr(w)
    cdef double c, th = t
    cdef bint f32_ = cnp.PyArray_TYPE(<cnp.ndarray>pr) == cnp.NPY_FLOAT32
    with nogil:
        if f32_:
            c = fo_binary_correct_f32(cfg.isa, cfg.nthreads, n, k, mp, my, th, pw)
        else:
            c = fo_binary_correct_f64(cfg.isa, cfg.nthreads, n, k, mp, my, th, pw)
    if w is None and c == int(c):
        return int(c)
    return float(c)


def top_k_correct(y_pred, labels, k=5, sample_weight=None):
    """sum_i w_i * [labels_i among the k largest of y_pred_i] (Keras
    sparse_top_k_categorical_accuracy; a class tied with the k-th value counts as in, as in
    TensorFlow's in_top_k)."""
    fn = "top_k_correct"
    top = positive_int(fn, "k", k)
    cdef cnp.ndarray pa = float_operand(y_pred, fn, "y_pred")
    cdef cnp.ndarray pr = as_rows(pa, fn, "y_pred")
    cdef fo_idx n = cnp.PyArray_DIM(pr, 0), nk = cnp.PyArray_DIM(pr, 1), bad = -1
    lab = labels_operand(labels, n, fn)
    w = weights_operand(sample_weight, n, fn)
    cdef Config cfg = current_config()
    cdef fo_mat mp = mat_of(pr)
    cdef const double *pw = weights_ptr(w)
    cdef const int64_t *pl = <const int64_t *>cnp.PyArray_DATA(lab)
    cdef fo_idx tk = top
    cdef double c
    cdef bint f32_ = cnp.PyArray_TYPE(<cnp.ndarray>pr) == cnp.NPY_FLOAT32
    with nogil:
        if f32_:
            c = fo_top_k_correct_f32(cfg.isa, cfg.nthreads, n, nk, mp, pl, tk, pw, &bad)
        else:
            c = fo_top_k_correct_f64(cfg.isa, cfg.nthreads, n, nk, mp, pl, tk, pw, &bad)
    checked_bad_row(bad, lab, nk, fn)
    return count_result(c, w)


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


# ---- optimizer updates (in place on the variable and its slots) ----

cdef double hyper(str fn, str name, object value, object lo=None, object hi=None) except? -1.0:
    """A finite number within [lo, hi], as a float; TypeError/ValueError naming it."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{fn}: {name} must be a number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{fn}: {name} must be a number, got {value!r}") from None
    if not math.isfinite(v) or (lo is not None and v < lo) or (hi is not None and v > hi):
        rng = ("" if lo is None and hi is None else
               f" in [{lo if lo is not None else '-inf'}, {hi if hi is not None else 'inf'}]")
        raise ValueError(f"{fn}: {name} must be a finite number{rng}, got {value!r}")
    return v


cdef fo_idx positive_int(str fn, str name, object value) except -1:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{fn}: {name} must be a positive int, got {value!r}")
    return <fo_idx>value


cdef cnp.ndarray state_array(object a, str fn, str name, object like):
    """An array updated in place: a writeable, C-contiguous, aligned float32/float64
    ndarray (of like's shape and dtype when like is given)."""
    if not cnp.PyArray_CheckExact(a):
        raise TypeError(f"{fn}: {name} must be a numpy.ndarray, got {type(a).__name__}")
    cdef cnp.ndarray arr = a
    if like is None:
        if dtype_code(arr) < 0:
            raise TypeError(f"{fn}: {name} must be float32 or float64 (native), got {arr.dtype}")
    elif np.shape(arr) != np.shape(like) or arr.dtype != like.dtype:
        raise ValueError(f"{fn}: {name} must match the variable ({np.shape(like)}, {like.dtype}), "
                         f"got ({np.shape(arr)}, {arr.dtype})")
    if not (cnp.PyArray_ISWRITEABLE(arr) and cnp.PyArray_IS_C_CONTIGUOUS(arr)
            and cnp.PyArray_ISALIGNED(arr)):
        raise ValueError(f"{fn}: {name} must be writeable, C-contiguous and aligned (it is "
                         f"updated in place)")
    return arr


cdef cnp.ndarray update_gradient(object g, cnp.ndarray w, str fn, tuple state):
    """The gradient as a contiguous array of w's dtype and shape, copied when it shares
    memory with an array the update writes (it must read the values it was given)."""
    cdef cnp.ndarray ga = float_operand(g, fn, "gradient")
    if ga.dtype != w.dtype:
        raise TypeError(f"{fn}: gradient has dtype {ga.dtype} but the variable has {w.dtype}")
    if np.shape(ga) != np.shape(w):
        raise ValueError(f"{fn}: gradient has shape {np.shape(ga)} but the variable has shape "
                         f"{np.shape(w)}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(ga):
        return np.ascontiguousarray(ga)
    for s in state:
        if s is not None and overlaps(ga, s):
            return ga.copy()
    return ga


cdef inline void *data_or_null(object a):
    return cnp.PyArray_DATA(<cnp.ndarray>a) if a is not None else NULL


def sgd_update(variable, gradient, momentum_buffer=None, learning_rate=0.01, momentum=0.0,
               nesterov=False, l1=0.0, l2=0.0):
    """One SGD step in place (Keras' formulas); returns the penalty of the variable before it.

    The gradient is first regularised, g' = g + l1 * sign(w) + 2 * l2 * w, in the same pass;
    the penalty returned is l1 * sum|w| + l2 * sum(w**2).

    Equations::

        no momentum:  w -= lr * g'
        momentum:     m = momentum * m - lr * g';  w += m
        nesterov:     m = momentum * m - lr * g';  w += momentum * m - lr * g'
    """
    fn = "sgd_update"
    cdef cnp.ndarray w = state_array(variable, fn, "variable", None)
    cdef double lr = hyper(fn, "learning_rate", learning_rate, 0.0)
    cdef double mu = hyper(fn, "momentum", momentum, 0.0, 1.0)
    cdef double c1 = hyper(fn, "l1", l1, 0.0), c2 = hyper(fn, "l2", l2, 0.0)
    m = state_array(momentum_buffer, fn, "momentum_buffer", w) \
        if momentum_buffer is not None else None
    if mu > 0 and m is None:
        raise ValueError(f"{fn}: momentum={momentum} needs a momentum_buffer")
    if mu == 0:
        m = None
    disjoint(fn, variable=w, momentum_buffer=m)
    cdef cnp.ndarray g = update_gradient(gradient, w, fn, (w, m))
    cdef Config cfg = current_config()
    cdef fo_idx n = cnp.PyArray_SIZE(w)
    cdef void *pw = cnp.PyArray_DATA(w)
    cdef void *pg = cnp.PyArray_DATA(g)
    cdef void *pm = data_or_null(m)
    cdef int nest = bool(nesterov)
    cdef double penalty
    cdef bint f32_ = cnp.PyArray_TYPE(<cnp.ndarray>w) == cnp.NPY_FLOAT32
    with nogil:
        if f32_:
            penalty = fo_sgd_update_f32(cfg.isa, cfg.nthreads, n, <float *>pw, <float *>pg,
                                        <float *>pm, lr, mu, nest, c1, c2)
        else:
            penalty = fo_sgd_update_f64(cfg.isa, cfg.nthreads, n, <double *>pw, <double *>pg,
                                        <double *>pm, lr, mu, nest, c1, c2)
    return penalty


def rmsprop_update(variable, gradient, velocity, learning_rate=0.001, rho=0.9, epsilon=1e-7,
                   momentum=0.0, momentum_buffer=None, average_gradient=None, l1=0.0, l2=0.0):
    """One RMSprop step in place, as Keras applies it; returns the penalty (see sgd_update).

    Equations::

        v = rho * v + (1 - rho) * g'**2
        centered (average_gradient given): a = rho * a + (1 - rho) * g';  d = v - a**2 + eps
        otherwise:                          d = v + eps
        inc = lr * g' / sqrt(d)
        momentum > 0:  m = momentum * m + inc;  w -= m
        otherwise:     w -= inc
    """
    fn = "rmsprop_update"
    cdef cnp.ndarray w = state_array(variable, fn, "variable", None)
    cdef cnp.ndarray v = state_array(velocity, fn, "velocity", w)
    cdef double lr = hyper(fn, "learning_rate", learning_rate, 0.0)
    cdef double r = hyper(fn, "rho", rho, 0.0, 1.0), eps = hyper(fn, "epsilon", epsilon, 0.0)
    cdef double mu = hyper(fn, "momentum", momentum, 0.0, 1.0)
    cdef double c1 = hyper(fn, "l1", l1, 0.0), c2 = hyper(fn, "l2", l2, 0.0)
    m = state_array(momentum_buffer, fn, "momentum_buffer", w) \
        if momentum_buffer is not None else None
    if mu > 0 and m is None:
        raise ValueError(f"{fn}: momentum={momentum} needs a momentum_buffer")
    if mu == 0:
        m = None
    a = state_array(average_gradient, fn, "average_gradient", w) \
        if average_gradient is not None else None
    disjoint(fn, variable=w, velocity=v, momentum_buffer=m, average_gradient=a)
    cdef cnp.ndarray g = update_gradient(gradient, w, fn, (w, v, m, a))
    cdef Config cfg = current_config()
    cdef fo_idx n = cnp.PyArray_SIZE(w)
    cdef void *pw = cnp.PyArray_DATA(w)
    cdef void *pg = cnp.PyArray_DATA(g)
    cdef void *pv = cnp.PyArray_DATA(v)
    cdef void *pm = data_or_null(m)
    cdef void *pa = data_or_null(a)
    cdef double penalty
    cdef bint f32_ = cnp.PyArray_TYPE(<cnp.ndarray>w) == cnp.NPY_FLOAT32
    with nogil:
        if f32_:
            penalty = fo_rmsprop_update_f32(cfg.isa, cfg.nthreads, n, <float *>pw, <float *>pg,
                                            <float *>pv, <float *>pm, <float *>pa, lr, r, eps,
                                            mu, c1, c2)
        else:
            penalty = fo_rmsprop_update_f64(cfg.isa, cfg.nthreads, n, <double *>pw,
                                            <double *>pg, <double *>pv, <double *>pm,
                                            <double *>pa, lr, r, eps, mu, c1, c2)
    return penalty


def adagrad_update(variable, gradient, accumulator, learning_rate=0.001, epsilon=1e-7, l1=0.0,
                   l2=0.0):
    """One Adagrad step in place (Keras' formulas); returns the penalty (see sgd_update).

    Equations::

        acc += g'**2
        w -= lr * g' / sqrt(acc + eps)
    """
    fn = "adagrad_update"
    cdef cnp.ndarray w = state_array(variable, fn, "variable", None)
    cdef cnp.ndarray acc = state_array(accumulator, fn, "accumulator", w)
    cdef double lr = hyper(fn, "learning_rate", learning_rate, 0.0)
    cdef double eps = hyper(fn, "epsilon", epsilon, 0.0)
    cdef double c1 = hyper(fn, "l1", l1, 0.0), c2 = hyper(fn, "l2", l2, 0.0)
    disjoint(fn, variable=w, accumulator=acc)
    cdef cnp.ndarray g = update_gradient(gradient, w, fn, (w, acc))
    cdef Config cfg = current_config()
    cdef fo_idx n = cnp.PyArray_SIZE(w)
    cdef void *pw = cnp.PyArray_DATA(w)
    cdef void *pg = cnp.PyArray_DATA(g)
    cdef void *pa = cnp.PyArray_DATA(acc)
    cdef double penalty
    cdef bint f32_ = cnp.PyArray_TYPE(<cnp.ndarray>w) == cnp.NPY_FLOAT32
    with nogil:
        if f32_:
            penalty = fo_adagrad_update_f32(cfg.isa, cfg.nthreads, n, <float *>pw, <float *>pg,
                                            <float *>pa, lr, eps, c1, c2)
        else:
            penalty = fo_adagrad_update_f64(cfg.isa, cfg.nthreads, n, <double *>pw,
                                            <double *>pg, <double *>pa, lr, eps, c1, c2)
    return penalty


def adam_update(variable, gradient, m, v, step, learning_rate=0.001, beta_1=0.9, beta_2=0.999,
                epsilon=1e-7, vhat=None, l1=0.0, l2=0.0):
    """One Adam step in place (Keras' formulas); `step` counts from 1; returns the penalty
    (see sgd_update).

    Equations::

        alpha = lr * sqrt(1 - beta_2**step) / (1 - beta_1**step)
        m += (g' - m) * (1 - beta_1)
        v += (g'**2 - v) * (1 - beta_2)
        amsgrad (vhat given): vhat = max(vhat, v);  v_used = vhat
        w -= alpha * m / (sqrt(v_used) + eps)
    """
    fn = "adam_update"
    cdef cnp.ndarray w = state_array(variable, fn, "variable", None)
    cdef cnp.ndarray ma = state_array(m, fn, "m", w)
    cdef cnp.ndarray va = state_array(v, fn, "v", w)
    vh = state_array(vhat, fn, "vhat", w) if vhat is not None else None
    cdef fo_idx t = positive_int(fn, "step", step)
    cdef double b1 = hyper(fn, "beta_1", beta_1, 0.0, 1.0)
    cdef double b2 = hyper(fn, "beta_2", beta_2, 0.0, 1.0)
    if b1 == 1.0:
        raise ValueError(f"{fn}: beta_1 must be < 1, got {beta_1!r}")
    cdef double lr = hyper(fn, "learning_rate", learning_rate, 0.0)
    cdef double eps = hyper(fn, "epsilon", epsilon, 0.0)
    cdef double c1 = hyper(fn, "l1", l1, 0.0), c2 = hyper(fn, "l2", l2, 0.0)
    cdef double alpha = lr * math.sqrt(1.0 - b2 ** t) / (1.0 - b1 ** t)
    disjoint(fn, variable=w, m=ma, v=va, vhat=vh)
    cdef cnp.ndarray g = update_gradient(gradient, w, fn, (w, ma, va, vh))
    cdef Config cfg = current_config()
    cdef fo_idx n = cnp.PyArray_SIZE(w)
    cdef void *pw = cnp.PyArray_DATA(w)
    cdef void *pg = cnp.PyArray_DATA(g)
    cdef void *pm = cnp.PyArray_DATA(ma)
    cdef void *pv = cnp.PyArray_DATA(va)
    cdef void *pvh = data_or_null(vh)
    cdef double penalty
    cdef bint f32_ = cnp.PyArray_TYPE(<cnp.ndarray>w) == cnp.NPY_FLOAT32
    with nogil:
        if f32_:
            penalty = fo_adam_update_f32(cfg.isa, cfg.nthreads, n, <float *>pw, <float *>pg,
                                         <float *>pm, <float *>pv, <float *>pvh, alpha, b1, b2,
                                         eps, c1, c2)
        else:
            penalty = fo_adam_update_f64(cfg.isa, cfg.nthreads, n, <double *>pw, <double *>pg,
                                         <double *>pm, <double *>pv, <double *>pvh, alpha, b1,
                                         b2, eps, c1, c2)
    return penalty

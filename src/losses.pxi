# The losses (exported as fastops.nn.*): each computes the mean loss, optionally its gradient
# w.r.t. the first operand and the weighted correct count, and optionally the per-row losses
# (the Keras loss functions' reduction='none').  Included by _kernels.pyx after nn.pxi; the C
# is src/fo_nn_losses.inc.

cdef enum LossKind:
    SOFTMAX_XENT
    SIGMOID_XENT
    MSE
    MAE
    CATEGORICAL_PROBS
    BINARY_PROBS
    SPARSE_SOFTMAX_XENT
    SPARSE_CATEGORICAL_PROBS


ctypedef double (*dense_loss)(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat p, fo_mat y,
                              const double *w, fo_mat grad, double *rows) noexcept nogil


cdef double run_loss(int kind, bint f32, Config cfg, fo_idx n, fo_idx k, fo_mat a, fo_mat b,
                     const int64_t *labels, const double *w, fo_mat g, double *correct,
                     double *rows, fo_idx *bad) noexcept nogil:
    if kind == SOFTMAX_XENT:
        return (fo_softmax_crossentropy_f32 if f32 else fo_softmax_crossentropy_f64)(
            cfg.isa, cfg.nthreads, n, k, a, b, w, g, correct, rows)
    if kind == SIGMOID_XENT:
        return (fo_sigmoid_crossentropy_f32 if f32 else fo_sigmoid_crossentropy_f64)(
            cfg.isa, cfg.nthreads, n, k, a, b, w, g, correct, rows)
    if kind == SPARSE_SOFTMAX_XENT:
        return (fo_sparse_softmax_crossentropy_f32 if f32 else
                fo_sparse_softmax_crossentropy_f64)(cfg.isa, cfg.nthreads, n, k, a, labels, w, g,
                                                    correct, rows, bad)
    if kind == SPARSE_CATEGORICAL_PROBS:
        return (fo_sparse_categorical_crossentropy_probs_f32 if f32 else
                fo_sparse_categorical_crossentropy_probs_f64)(cfg.isa, cfg.nthreads, n, k, a,
                                                              labels, w, g, rows, bad)
    cdef dense_loss dense  # the kinds without a correct count share one signature
    if kind == MSE:
        dense = fo_mean_squared_error_f32 if f32 else fo_mean_squared_error_f64
    elif kind == MAE:
        dense = fo_mean_absolute_error_f32 if f32 else fo_mean_absolute_error_f64
    elif kind == CATEGORICAL_PROBS:
        dense = (fo_categorical_crossentropy_probs_f32 if f32 else
                 fo_categorical_crossentropy_probs_f64)
    else:
        dense = fo_binary_crossentropy_probs_f32 if f32 else fo_binary_crossentropy_probs_f64
    return dense(cfg.isa, cfg.nthreads, n, k, a, b, w, g, rows)


cdef tuple loss(int kind, str fn, object a, object b, object out, bint grad,
                object sample_weight, bint want_rows, object rows_out):
    """(loss, gradient or None, correct, per-row losses or None) of one kind.  `b` is y_true
    for the dense kinds and labels for the sparse ones."""
    cdef bint sparse = kind == SPARSE_SOFTMAX_XENT or kind == SPARSE_CATEGORICAL_PROBS
    cdef cnp.ndarray pa, ya = None, pr, yr = None, lab = None, w, rows = None
    first = "logits" if kind in (SOFTMAX_XENT, SIGMOID_XENT, SPARSE_SOFTMAX_XENT) else "y_pred"
    if sparse:
        pa = float_operand(a, fn, first)
        pr = as_rows(pa, fn, first)
    else:
        pa, ya, pr, yr = rows_pair(a, b, fn, first, "y_true")
    cdef fo_idx n = cnp.PyArray_DIM(pr, 0), k = cnp.PyArray_DIM(pr, 1), bad = -1
    if n == 0:
        raise ValueError(f"{fn}: {first} must have at least one row, got shape {np.shape(pa)}")
    if sparse:
        lab = labels_operand(b, n, fn)
    w = weights_operand(sample_weight, n, fn)
    o, k_out, grows = loss_grad_out(out, grad, pa, fn)
    if o is not None:
        pr = as_rows(unaliased(pa, o), fn, first)
        if sparse:
            lab = unaliased(lab, o)
        else:
            yr = as_rows(unaliased(ya, o), fn, "y_true")
        if w is not None and overlaps(w, o):  # the kernels read the weights more than once
            w = w.copy()
    if want_rows:
        rows = cnp.PyArray_EMPTY(1, &n, cnp.NPY_FLOAT64, False)
    cdef Config cfg = current_config()
    cdef fo_mat mp = mat_of(pr), my = mat_of(yr) if yr is not None else no_mat()
    cdef fo_mat mg = mat_of(grows) if grows is not None else no_mat()
    cdef const double *pw = weights_ptr(w)
    cdef const int64_t *pl = <const int64_t *>cnp.PyArray_DATA(lab) if lab is not None else NULL
    cdef double *prows = <double *>cnp.PyArray_DATA(rows) if rows is not None else NULL
    cdef bint f32 = cnp.PyArray_TYPE(pr) == cnp.NPY_FLOAT32
    cdef double value, correct = 0.0
    with nogil:
        value = run_loss(kind, f32, cfg, n, k, mp, my, pl, pw, mg, &correct, prows, &bad)
    if sparse:
        checked_bad_row(bad, lab, k, fn)
    per_row = None
    if want_rows:
        per_row = rows_result(rows, pa, rows_out, fn)
    return value, finished_grad(grows, k_out, out), count_result(correct, w), per_row


cdef object rows_result(cnp.ndarray rows, cnp.ndarray like, object out, str fn):
    """Per-row values in like's dtype and shape without the last axis (into out if given)."""
    shape = np.shape(like)[:-1]
    res = rows.astype(like.dtype).reshape(shape)
    if out is None:
        return res
    cdef cnp.npy_intp dims[FO_MAX_NDIM]
    for d in range(len(shape)):
        dims[d] = shape[d]
    o = check_out(out, len(shape), dims, cnp.PyArray_TYPE(like), fn)
    o[...] = res
    return o


cdef tuple loss_grad_out(object out, bint grad, cnp.ndarray like, str fn):
    """(out array or None, kernel output, its rows) for a loss's gradient."""
    if not grad:
        if out is not None:
            raise ValueError(f"{fn}: out was given but grad=False")
        return None, None, None
    o = rows_out(out, like, fn)
    k_out = kernel_out(o)
    return o, k_out, as_rows(k_out, fn, "out")


cdef object finished_grad(object grows, object k_out, object out):
    if grows is None:
        return None
    sync_rows(grows, k_out)
    finish_out(k_out, out)
    return unwrap_out(out) if out is not None else k_out


# ---- fused with the output activation, from the logits: (loss, grad, correct) ----

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
    return loss(SOFTMAX_XENT, "softmax_crossentropy", logits, y_true, out, grad,
                sample_weight, False, None)[:3]


def sparse_softmax_crossentropy(logits, labels, out=None, grad=True, sample_weight=None):
    """As softmax_crossentropy with integer class labels (Keras'
    sparse_categorical_crossentropy): labels (n,) or (n, 1), each in [0, k), else
    ValueError naming the first bad one (checked before any is used as an index).

    Returns:
        (loss, gradient or None, correct).
    """
    return loss(SPARSE_SOFTMAX_XENT, "sparse_softmax_crossentropy", logits, labels, out, grad,
                sample_weight, False, None)[:3]


def sigmoid_crossentropy(logits, y_true, out=None, grad=True, sample_weight=None):
    """Sigmoid + binary cross-entropy from the logits, forward and backward in one pass.

    loss_i is the mean over the last axis of max(z, 0) - z * y + log(1 + exp(-|z|)) (Keras'
    binary_crossentropy(y_true, sigmoid(z)) computed from the logits, as TensorFlow does).

    Returns:
        (loss, gradient or None, correct): gradient w_i * (sigmoid(z) - y) / (n * k);
        correct = sum_i w_i * mean_j [(z > 0) == y] (Keras' binary_accuracy at 0.5).
    """
    return loss(SIGMOID_XENT, "sigmoid_crossentropy", logits, y_true, out, grad,
                sample_weight, False, None)[:3]


# ---- on predictions: (loss, grad) ----

def mean_squared_error(y_pred, y_true, out=None, grad=True, sample_weight=None):
    """(loss, gradient or None): loss_i = mean over the last axis of (y_pred - y_true)**2,
    loss = sum_i w_i * loss_i / n; gradient 2 * w_i * (y_pred - y_true) / (n * k)."""
    return loss(MSE, "mean_squared_error", y_pred, y_true, out, grad, sample_weight, False,
                None)[:2]


def mean_absolute_error(y_pred, y_true, out=None, grad=True, sample_weight=None):
    """(loss, gradient or None): loss_i = mean over the last axis of |y_pred - y_true|;
    gradient w_i * sign(y_pred - y_true) / (n * k) (0 where they are equal)."""
    return loss(MAE, "mean_absolute_error", y_pred, y_true, out, grad, sample_weight, False,
                None)[:2]


def categorical_crossentropy_probs(y_pred, y_true, out=None, grad=True, sample_weight=None):
    """(loss, gradient or None) of Keras' categorical_crossentropy on probabilities: each row
    divided by its sum, clipped to [1e-7, 1 - 1e-7]; the gradient w.r.t. y_pred is 0 where
    the clip is active.  For heads the fused softmax path does not cover."""
    return loss(CATEGORICAL_PROBS, "categorical_crossentropy_probs", y_pred, y_true, out, grad,
                sample_weight, False, None)[:2]


def sparse_categorical_crossentropy_probs(y_pred, labels, out=None, grad=True,
                                          sample_weight=None):
    """As categorical_crossentropy_probs with integer labels (n,) in [0, k)."""
    return loss(SPARSE_CATEGORICAL_PROBS, "sparse_categorical_crossentropy_probs", y_pred,
                labels, out, grad, sample_weight, False, None)[:2]


def binary_crossentropy_probs(y_pred, y_true, out=None, grad=True, sample_weight=None):
    """(loss, gradient or None) of Keras' binary_crossentropy on probabilities, clipped to
    [1e-7, 1 - 1e-7] (mean over the last axis); the gradient is 0 where the clip is active."""
    return loss(BINARY_PROBS, "binary_crossentropy_probs", y_pred, y_true, out, grad,
                sample_weight, False, None)[:2]


# ---- per-row losses (Keras' loss functions, reduction 'none') ----

def categorical_crossentropy_rows(y_pred, y_true, from_logits=False, out=None):
    """Per-row categorical cross-entropy, shape y_pred.shape[:-1], in y_pred's dtype: from
    the logits (log-sum-exp) or from probabilities as Keras 3 (normalised, clipped)."""
    if is_dask(y_pred) or is_dask(y_true):
        return dask_dispatch("categorical_crossentropy_rows",
                             y_pred, y_true, from_logits=from_logits, out=out)
    kind = SOFTMAX_XENT if from_logits else CATEGORICAL_PROBS
    return loss(kind, "categorical_crossentropy", y_pred, y_true, None, False, None, True,
                out)[3]


def sparse_categorical_crossentropy_rows(y_pred, labels, from_logits=False, out=None):
    """Per-row sparse categorical cross-entropy (see categorical_crossentropy_rows)."""
    if is_dask(y_pred) or is_dask(labels):
        return dask_dispatch("sparse_categorical_crossentropy_rows",
                             y_pred, labels, from_logits=from_logits, out=out)
    kind = SPARSE_SOFTMAX_XENT if from_logits else SPARSE_CATEGORICAL_PROBS
    return loss(kind, "sparse_categorical_crossentropy", y_pred, labels, None, False, None,
                True, out)[3]


def binary_crossentropy_rows(y_pred, y_true, from_logits=False, out=None):
    """Per-row binary cross-entropy, the mean over the last axis (see
    categorical_crossentropy_rows)."""
    if is_dask(y_pred) or is_dask(y_true):
        return dask_dispatch("binary_crossentropy_rows",
                             y_pred, y_true, from_logits=from_logits, out=out)
    kind = SIGMOID_XENT if from_logits else BINARY_PROBS
    return loss(kind, "binary_crossentropy", y_pred, y_true, None, False, None, True, out)[3]


def mean_squared_error_rows(y_pred, y_true, out=None):
    """Per-row mean over the last axis of (y_pred - y_true)**2."""
    if is_dask(y_pred) or is_dask(y_true):
        return dask_dispatch("mean_squared_error_rows", y_pred, y_true, out=out)
    return loss(MSE, "mean_squared_error", y_pred, y_true, None, False, None, True, out)[3]


def mean_absolute_error_rows(y_pred, y_true, out=None):
    """Per-row mean over the last axis of |y_pred - y_true|."""
    if is_dask(y_pred) or is_dask(y_true):
        return dask_dispatch("mean_absolute_error_rows", y_pred, y_true, out=out)
    return loss(MAE, "mean_absolute_error", y_pred, y_true, None, False, None, True, out)[3]

"""Kernels the model layer needs that fastops.nn does not have yet.

# ======================================================================================
# PENDING KERNELS: NumPy stand-ins.  Each function below has the exact signature the model
# layer calls; the lead replaces the body with a compiled kernel behind the same signature.
# Conventions as fastops.nn: float32/float64 operands of one dtype, sums accumulated in
# float64, `sample_weight` per row, reduction 'sum_over_batch_size' (divide by n rows).
# ======================================================================================
"""
import numpy as np

__all__ = ["l1_l2_penalty", "categorical_crossentropy_rows", "sparse_categorical_crossentropy_rows",
           "binary_crossentropy_rows", "mean_squared_error_rows", "mean_absolute_error_rows",
           "categorical_crossentropy_probs", "sparse_categorical_crossentropy_probs",
           "binary_crossentropy_probs", "weighted_sum"]

_EPS = 1e-7  # Keras' backend epsilon, the clip of probability-space cross-entropies


def _write(out, value, dtype):
    if out is None:
        return value.astype(dtype)
    out[...] = value
    return out


def _float(a, name):
    a = np.asarray(a)
    if a.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name} must be float32 or float64, got dtype {a.dtype}")
    return a


def l1_l2_penalty(w, l1, l2):
    """l1 * sum(|w|) + l2 * sum(w**2) of any float array, as a Python float."""
    w = _float(w, "w").astype(np.float64)
    return float(l1 * np.abs(w).sum() + l2 * (w * w).sum())


def weighted_sum(values, sample_weight=None):
    """sum_i w_i * values_i of a 1-D float array (w = 1 when None), as a Python float."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    return float(v.sum() if sample_weight is None else (v * sample_weight).sum())


# ---- per-sample losses (Keras' loss functions, reduction 'none') ----

def _log_softmax(z):
    z = z.astype(np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _log_probs(p):
    p = p.astype(np.float64)
    return np.log(np.clip(p / p.sum(axis=-1, keepdims=True), _EPS, 1 - _EPS))


def categorical_crossentropy_rows(y_pred, y_true, from_logits=False, out=None):
    """Per-row -sum_j y_ij log q_ij, q = softmax(y_pred) (logits) or y_pred / sum(y_pred)
    clipped to [eps, 1 - eps] (Keras 3's formula); shape y_pred.shape[:-1]."""
    p = _float(y_pred, "y_pred")
    logq = _log_softmax(p) if from_logits else _log_probs(p)
    return _write(out, -(np.asarray(y_true, np.float64) * logq).sum(axis=-1), p.dtype)


def sparse_categorical_crossentropy_rows(y_pred, labels, from_logits=False, out=None):
    """Per-row -log q[label] (q as categorical_crossentropy_rows); labels int (n,)."""
    p = _float(y_pred, "y_pred")
    labels = np.asarray(labels).reshape(-1).astype(np.int64)
    k = p.shape[-1]
    if labels.size and (labels.min() < 0 or labels.max() >= k):
        raise ValueError(f"labels must lie in [0, {k})")
    logq = (_log_softmax(p) if from_logits else _log_probs(p)).reshape(-1, k)
    return _write(out, -logq[np.arange(len(labels)), labels].reshape(p.shape[:-1]), p.dtype)


def binary_crossentropy_rows(y_pred, y_true, from_logits=False, out=None):
    """Per-row mean_j of -(y log p + (1 - y) log(1 - p)); p = sigmoid(y_pred) computed stably
    from logits, else y_pred clipped to [eps, 1 - eps] (Keras 3)."""
    p = _float(y_pred, "y_pred")
    y = np.asarray(y_true, np.float64)
    z = p.astype(np.float64)
    if from_logits:
        elem = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    else:
        q = np.clip(z, _EPS, 1 - _EPS)
        elem = -(y * np.log(q) + (1 - y) * np.log(1 - q))
    return _write(out, elem.mean(axis=-1), p.dtype)


def mean_squared_error_rows(y_pred, y_true, out=None):
    """Per-row mean_j (y_pred - y_true)**2."""
    p = _float(y_pred, "y_pred")
    d = p.astype(np.float64) - np.asarray(y_true, np.float64)
    return _write(out, (d * d).mean(axis=-1), p.dtype)


def mean_absolute_error_rows(y_pred, y_true, out=None):
    """Per-row mean_j |y_pred - y_true|."""
    p = _float(y_pred, "y_pred")
    d = p.astype(np.float64) - np.asarray(y_true, np.float64)
    return _write(out, np.abs(d).mean(axis=-1), p.dtype)


# ---- probability-space cross-entropies with their gradient (non-fused heads) ----

def _reduce(rows, sample_weight):
    n = rows.shape[0]
    w = None if sample_weight is None else np.asarray(sample_weight, np.float64).reshape(-1)
    return float((rows if w is None else rows * w).sum() / n), (np.ones(n) if w is None else w)


def categorical_crossentropy_probs(y_pred, y_true, out=None, grad=True, sample_weight=None):
    """(loss, grad) of Keras' categorical_crossentropy on probabilities (n, k): q = p / sum(p)
    clipped to [eps, 1 - eps], loss = sum_i w_i * (-sum_j y_ij log q_ij) / n; grad is
    d(loss)/d(y_pred), zero where the clip is active."""
    p = _float(y_pred, "y_pred").astype(np.float64)
    y = np.asarray(y_true, np.float64)
    s = p.sum(axis=1, keepdims=True)
    q = p / s
    qc = np.clip(q, _EPS, 1 - _EPS)
    loss, w = _reduce(-(y * np.log(qc)).sum(axis=1), sample_weight)
    if not grad:
        return loss, None
    dq = np.where((q > _EPS) & (q < 1 - _EPS), -y / qc, 0.0)
    dp = (dq - (dq * q).sum(axis=1, keepdims=True)) / s
    return loss, _write(out, dp * (w / p.shape[0])[:, None], y_pred.dtype)


def sparse_categorical_crossentropy_probs(y_pred, labels, out=None, grad=True, sample_weight=None):
    """As categorical_crossentropy_probs with integer labels (n,)."""
    p = _float(y_pred, "y_pred")
    labels = np.asarray(labels).reshape(-1).astype(np.int64)
    y = np.zeros(p.shape)
    y[np.arange(len(labels)), labels] = 1
    return categorical_crossentropy_probs(p, y, out, grad, sample_weight)


def binary_crossentropy_probs(y_pred, y_true, out=None, grad=True, sample_weight=None):
    """(loss, grad) of Keras' binary_crossentropy on probabilities (n, k), clipped to
    [eps, 1 - eps]: loss = sum_i w_i * mean_j bce_ij / n; grad zero where the clip is active."""
    p = _float(y_pred, "y_pred").astype(np.float64)
    y = np.asarray(y_true, np.float64)
    n, k = p.shape
    q = np.clip(p, _EPS, 1 - _EPS)
    loss, w = _reduce(-(y * np.log(q) + (1 - y) * np.log(1 - q)).mean(axis=1), sample_weight)
    if not grad:
        return loss, None
    dq = np.where((p > _EPS) & (p < 1 - _EPS), (q - y) / (q * (1 - q)), 0.0)
    return loss, _write(out, dq * (w / (n * k))[:, None], y_pred.dtype)


# ---- per-sample accuracies (Keras' metric functions) ----

def categorical_accuracy_rows(y_pred, y_true, out=None):
    """Per-row [argmax(y_pred) == argmax(y_true)] as float32 (first maximum wins)."""
    p = np.asarray(y_pred)
    return _write(out, (p.argmax(-1) == np.asarray(y_true).argmax(-1)), np.float32)


def sparse_categorical_accuracy_rows(y_pred, labels, out=None):
    """Per-row [argmax(y_pred) == label] as float32."""
    p = np.asarray(y_pred)
    labels = np.asarray(labels).reshape(p.shape[:-1])
    return _write(out, p.argmax(-1) == labels, np.float32)


def binary_accuracy_rows(y_pred, y_true, threshold=0.5, out=None):
    """Per-row mean_j [(y_pred > threshold) == y_true] as float32."""
    p = np.asarray(y_pred)
    return _write(out, ((p > threshold) == np.asarray(y_true)).mean(-1), np.float32)


def top_k_accuracy_rows(y_pred, labels, k=5, out=None):
    """Per-row [labels_i among the k largest of y_pred_i] (ties with the k-th count in)."""
    p = np.asarray(y_pred)
    labels = np.asarray(labels).reshape(-1).astype(np.int64)
    target = p[np.arange(len(p)), labels]
    kth = -np.sort(-p, axis=1)[:, min(k, p.shape[1]) - 1]
    return _write(out, target >= kth, np.float32)

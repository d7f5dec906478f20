"""fastops.nn: the fused kernels of neural-network training (as keras.ops is to keras.layers).

TRANSITION MODULE.  This file fixes the public names and signatures of the nn kernel API
that the model layer (fastops.layers, losses, metrics, optimizers) builds on.  The
functions marked "NumPy stand-in" compute the documented result with NumPy until their
compiled kernel lands behind the same signature; the others are the compiled kernels of
fastops.nnops.

Conventions shared by every function here:
  - arrays are float32 or float64 (both operands the same dtype); `out` is optional and
    receives the result (or the gradient, for the losses);
  - the losses take per-row `sample_weight` (shape (n,)) and reduce as Keras'
    'sum_over_batch_size': loss = sum_i w_i * loss_i / n, where loss_i is the mean over
    the last axis (binary cross-entropy, mse, mae) or the sum over classes (categorical);
    the gradient written is d(loss)/d(input);
  - the `*_correct` counts return sum_i w_i * correct_i (w_i = 1 without sample_weight),
    an int when no weights are given.
"""
import numpy as np

from .nnops import (adagrad_update as _adagrad_update, adam_update as _adam_update,
                    all_finite, argmax, rmsprop_update as _rmsprop_update,
                    sgd_update as _sgd_update, sigmoid, sigmoid_backward, softmax,
                    softmax_backward, softmax_crossentropy as _softmax_xent,
                    sparse_softmax_crossentropy as _sparse_softmax_xent, tanh, tanh_backward)

__all__ = [
    "softmax", "softmax_backward", "sigmoid", "sigmoid_backward", "tanh", "tanh_backward",
    "argmax", "all_finite",
    "softmax_crossentropy", "sparse_softmax_crossentropy", "sigmoid_crossentropy",
    "mean_squared_error", "mean_absolute_error",
    "categorical_correct", "sparse_categorical_correct", "binary_correct", "top_k_correct",
    "dropout", "dropout_backward",
    "sgd_update", "rmsprop_update", "adagrad_update", "adam_update",
]


# ---- helpers of the NumPy stand-ins ----

def _pair(fn, a, b, an, bn):
    a = np.asarray(a)
    b = np.asarray(b)
    if a.dtype not in (np.float32, np.float64):
        raise TypeError(f"{fn}: {an} must be float32 or float64, got dtype {a.dtype}")
    b = b.astype(a.dtype, copy=False)
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(f"{fn}: {an} and {bn} must be 2-D of the same shape, got {a.shape} and "
                         f"{b.shape}")
    return a, b


def _weights(fn, sample_weight, n, dtype):
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"{fn}: sample_weight must have shape ({n},), got {w.shape}")
    return w


def _reduce(fn, rows, sample_weight, n):
    w = _weights(fn, sample_weight, n, None)
    return float((rows if w is None else rows * w).sum() / n), w


def _write(out, value):
    if out is None:
        return value
    out[...] = value
    return out


def _count(correct, w):
    return int(correct.sum()) if w is None else float((correct * w).sum())


# ---- losses with their gradient ----

def softmax_crossentropy(logits, y_true, out=None, grad=True, sample_weight=None):
    """Softmax + categorical cross-entropy from the logits: (loss, grad, n_correct).

    loss_i = -sum_j y_ij * log_softmax(z)_ij;  grad = w_i * (softmax(z) * sum_j y_ij - y) / n.
    """
    if sample_weight is None:
        return _softmax_xent(logits, y_true, out=out, grad=grad)
    # NumPy stand-in for the weighted form
    z, y = _pair("softmax_crossentropy", logits, y_true, "logits", "y_true")
    n = z.shape[0]
    w = _weights("softmax_crossentropy", sample_weight, n, z.dtype)
    zs = z.astype(np.float64) - z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(zs).sum(axis=1, keepdims=True))
    rows = -(y * (zs - lse)).sum(axis=1)
    loss = float((rows * w).sum() / n)
    correct = float(((z.argmax(1) == y.argmax(1)) * w).sum())
    g = None
    if grad:
        p = np.exp(zs - lse)
        g = _write(out, ((p * y.sum(1, keepdims=True) - y) * (w / n)[:, None]).astype(z.dtype))
    return loss, g, correct


def sparse_softmax_crossentropy(logits, labels, out=None, grad=True, sample_weight=None):
    """As softmax_crossentropy with integer labels (n,): (loss, grad, n_correct)."""
    if sample_weight is None:
        return _sparse_softmax_xent(logits, labels, out=out, grad=grad)
    z = np.asarray(logits)
    labels = np.asarray(labels).reshape(-1)
    k = z.shape[1]
    y = np.zeros_like(z)
    if labels.size and (labels.min() < 0 or labels.max() >= k):
        raise ValueError(f"sparse_softmax_crossentropy: labels must lie in [0, {k})")
    y[np.arange(len(labels)), labels] = 1
    return softmax_crossentropy(z, y, out=out, grad=grad, sample_weight=sample_weight)


def sigmoid_crossentropy(logits, y_true, out=None, grad=True, sample_weight=None):
    """Sigmoid + binary cross-entropy from the logits (NumPy stand-in): (loss, grad, n_correct).

    loss_i = mean_j [max(z, 0) - z * y + log(1 + exp(-|z|))];
    grad = w_i * (sigmoid(z) - y) / (n * k);  n_correct = sum_i w_i * mean_j [(z > 0) == y].
    """
    z, y = _pair("sigmoid_crossentropy", logits, y_true, "logits", "y_true")
    n, k = z.shape
    z64 = z.astype(np.float64)
    elem = np.maximum(z64, 0) - z64 * y + np.log1p(np.exp(-np.abs(z64)))
    loss, w = _reduce("sigmoid_crossentropy", elem.mean(axis=1), sample_weight, n)
    correct = _count(((z > 0) == y).mean(axis=1), w)
    g = None
    if grad:
        s = 1.0 / (1.0 + np.exp(-z64))
        scale = (1.0 / (n * k)) if w is None else (w / (n * k))[:, None]
        g = _write(out, ((s - y) * scale).astype(z.dtype))
    return loss, g, correct


def mean_squared_error(y_pred, y_true, out=None, grad=True, sample_weight=None):
    """(loss, grad): loss_i = mean_j (p - y)**2; grad = 2 * w_i * (p - y) / (n * k). NumPy stand-in."""
    p, y = _pair("mean_squared_error", y_pred, y_true, "y_pred", "y_true")
    n, k = p.shape
    d = p.astype(np.float64) - y
    loss, w = _reduce("mean_squared_error", (d * d).mean(axis=1), sample_weight, n)
    g = None
    if grad:
        scale = (2.0 / (n * k)) if w is None else (2.0 * w / (n * k))[:, None]
        g = _write(out, (d * scale).astype(p.dtype))
    return loss, g


def mean_absolute_error(y_pred, y_true, out=None, grad=True, sample_weight=None):
    """(loss, grad): loss_i = mean_j |p - y|; grad = w_i * sign(p - y) / (n * k). NumPy stand-in."""
    p, y = _pair("mean_absolute_error", y_pred, y_true, "y_pred", "y_true")
    n, k = p.shape
    d = p.astype(np.float64) - y
    loss, w = _reduce("mean_absolute_error", np.abs(d).mean(axis=1), sample_weight, n)
    g = None
    if grad:
        scale = (1.0 / (n * k)) if w is None else (w / (n * k))[:, None]
        g = _write(out, (np.sign(d) * scale).astype(p.dtype))
    return loss, g


# ---- metric counts (NumPy stand-ins) ----

def categorical_correct(y_pred, y_true, sample_weight=None):
    """sum_i w_i * [argmax(y_pred_i) == argmax(y_true_i)] (Keras categorical_accuracy)."""
    p, y = _pair("categorical_correct", y_pred, y_true, "y_pred", "y_true")
    return _count(p.argmax(1) == y.argmax(1), _weights("categorical_correct", sample_weight,
                                                       len(p), None))


def sparse_categorical_correct(y_pred, labels, sample_weight=None):
    """sum_i w_i * [argmax(y_pred_i) == labels_i] (Keras sparse_categorical_accuracy)."""
    p = np.asarray(y_pred)
    labels = np.asarray(labels).reshape(-1)
    return _count(p.argmax(1) == labels, _weights("sparse_categorical_correct", sample_weight,
                                                  len(p), None))


def binary_correct(y_pred, y_true, threshold=0.5, sample_weight=None):
    """sum_i w_i * mean_j [(y_pred > threshold) == y_true] (Keras binary_accuracy)."""
    p, y = _pair("binary_correct", y_pred, y_true, "y_pred", "y_true")
    return _count(((p > threshold) == y).mean(axis=1),
                  _weights("binary_correct", sample_weight, len(p), None))


def top_k_correct(y_pred, labels, k=5, sample_weight=None):
    """sum_i w_i * [labels_i is among the k largest of y_pred_i] (Keras in_top_k: a class tied
    with the k-th largest value counts as in the top k)."""
    p = np.asarray(y_pred)
    labels = np.asarray(labels).reshape(-1)
    target = p[np.arange(len(p)), labels]
    kth = -np.sort(-p, axis=1)[:, min(k, p.shape[1]) - 1]
    return _count(target >= kth, _weights("top_k_correct", sample_weight, len(p), None))


# ---- dropout (NumPy stand-in; the compiled kernel must draw the same mask) ----

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(z):
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def dropout_keep(shape, rate, seed):
    """The keep mask of dropout(x of `shape`, rate, seed): element i (flat C order) is kept when
    (mix(key + (i + 1) * G) >> 40) >= int(rate * 2**24), key = mix(seed + G), with
    mix = the splitmix64 finaliser and G = 0x9E3779B97F4A7C15 (all mod 2**64)."""
    with np.errstate(over="ignore"):
        key = _mix(np.uint64(seed) + _GOLDEN)
        idx = np.arange(1, int(np.prod(shape)) + 1, dtype=np.uint64)
        h = _mix(key + idx * _GOLDEN)
    return ((h >> np.uint64(40)) >= np.uint64(int(rate * 2**24))).reshape(shape)


def dropout(x, rate, seed, out=None):
    """Inverted dropout: out = where(keep, x / (1 - rate), 0) with the mask of `dropout_keep`."""
    x = np.asarray(x)
    keep_prob = x.dtype.type(1.0 - rate)
    return _write(out, np.where(dropout_keep(x.shape, rate, seed), x / keep_prob,
                                x.dtype.type(0)))


def dropout_backward(grad, rate, seed, out=None):
    """The gradient through dropout(., rate, seed): the same mask and scale applied to grad."""
    return dropout(grad, rate, seed, out=out)


# ---- optimizer updates: in place; return the penalty l1*sum|w| + l2*sum w**2 of w before it ----

def _penalty_and_grad(variable, gradient, l1, l2):
    if not l1 and not l2:
        return 0.0, gradient
    w = variable.astype(np.float64)
    penalty = float(l1 * np.abs(w).sum() + l2 * (w * w).sum())
    g = (gradient + l1 * np.sign(variable) + 2 * l2 * variable).astype(variable.dtype)
    return penalty, g


def sgd_update(variable, gradient, momentum_buffer=None, learning_rate=0.01, momentum=0.0,
               nesterov=False, l1=0.0, l2=0.0):
    """One SGD step in place (Keras formulas), the gradient first regularised with
    l1 * sign(w) + 2 * l2 * w; returns the penalty of w before the step."""
    penalty, g = _penalty_and_grad(variable, gradient, l1, l2)
    _sgd_update(variable, g, momentum_buffer, learning_rate, momentum, nesterov)
    return penalty


def rmsprop_update(variable, gradient, velocity, learning_rate=0.001, rho=0.9, epsilon=1e-7,
                   momentum=0.0, momentum_buffer=None, average_gradient=None, l1=0.0, l2=0.0):
    """One RMSprop step in place (Keras formulas; see sgd_update for l1/l2 and the return)."""
    penalty, g = _penalty_and_grad(variable, gradient, l1, l2)
    _rmsprop_update(variable, g, velocity, learning_rate, rho, epsilon, momentum,
                    momentum_buffer, average_gradient)
    return penalty


def adagrad_update(variable, gradient, accumulator, learning_rate=0.001, epsilon=1e-7, l1=0.0,
                   l2=0.0):
    """One Adagrad step in place (Keras formulas; see sgd_update for l1/l2 and the return)."""
    penalty, g = _penalty_and_grad(variable, gradient, l1, l2)
    _adagrad_update(variable, g, accumulator, learning_rate, epsilon)
    return penalty


def adam_update(variable, gradient, m, v, step, learning_rate=0.001, beta_1=0.9, beta_2=0.999,
                epsilon=1e-7, vhat=None, l1=0.0, l2=0.0):
    """One Adam step in place (Keras formulas; see sgd_update for l1/l2 and the return)."""
    penalty, g = _penalty_and_grad(variable, gradient, l1, l2)
    _adam_update(variable, g, m, v, step, learning_rate, beta_1, beta_2, epsilon, vhat)
    return penalty

"""Public, validated entry points of the fused nn kernels (fastops._nn).

Every function checks its arguments here, raising TypeError/ValueError that name
the argument, its shape and dtype, and then calls one compiled kernel.  Inputs
are never modified: a non-contiguous input is copied, only `out` (and, for the
optimizer updates, the parameter and its slots, which are updated in place) is
written.  float32 and float64 only; both operands must share the dtype.
"""
import operator

import numpy as np

from . import _nn

__all__ = ["softmax", "softmax_backward", "softmax_crossentropy", "sparse_softmax_crossentropy",
           "argmax", "count_equal", "label_range", "all_finite", "sigmoid", "sigmoid_backward",
           "tanh", "tanh_backward", "sgd_update", "rmsprop_update", "adagrad_update",
           "adam_update"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


# ---- argument checks ----

def _float_input(fn, name, x, ndim=None, dtype=None):
    """x as a C-contiguous float32/float64 ndarray (copied only if it is not one)."""
    if not isinstance(x, np.ndarray):
        if x is None or isinstance(x, (str, bytes)):
            raise TypeError(f"{fn}: {name} must be a float32 or float64 array, got {type(x).__name__}")
        x = np.asarray(x)
        if x.dtype not in _FLOATS and x.dtype.kind in "iub":
            x = x.astype(np.float64)
    if x.dtype not in _FLOATS:
        raise TypeError(f"{fn}: {name} must be float32 or float64, got dtype {x.dtype}")
    if dtype is not None and x.dtype != dtype:
        raise TypeError(f"{fn}: {name} has dtype {x.dtype} but the other operand has {dtype}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{fn}: {name} must be {ndim}-D, got shape {x.shape}")
    if not x.flags.c_contiguous or not x.flags.aligned or not x.dtype.isnative:
        x = np.array(x, dtype=x.dtype.newbyteorder("="), order="C")  # the kernels need aligned rows
    return x


def _overlaps_partially(a, b):
    """True when a and b may share memory without being the very same elements."""
    same = (a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
            and a.shape == b.shape and a.strides == b.strides)
    return not same and np.may_share_memory(a, b)


def _out(fn, out, shape, dtype, name="out", inputs=()):
    """`out` checked (ndarray, shape, dtype, writeable, C-contiguous, aligned, and either
    one of `inputs` exactly or disjoint from them) or a new array."""
    if out is None:
        return np.empty(shape, dtype=dtype)
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{fn}: {name} must be an ndarray or None, got {type(out).__name__}")
    if out.dtype != dtype:
        raise TypeError(f"{fn}: {name} has dtype {out.dtype}, the result is {np.dtype(dtype)}; "
                        f"fastops does not cast into out")
    if out.shape != tuple(shape):
        raise ValueError(f"{fn}: {name} has shape {out.shape}, the result has shape {tuple(shape)}")
    if not out.flags.writeable:
        raise ValueError(f"{fn}: {name} is read-only")
    if not out.flags.c_contiguous or not out.flags.aligned:
        raise ValueError(f"{fn}: {name} must be C-contiguous and aligned")
    for x in inputs:
        if _overlaps_partially(out, x):
            raise ValueError(f"{fn}: {name} overlaps an input without being it; pass the "
                             f"input itself (in place) or separate memory")
    return out


def _rows(fn, name, x):
    """Any-D float array viewed as (rows, last axis)."""
    x = _float_input(fn, name, x)
    if x.ndim == 0:
        raise ValueError(f"{fn}: {name} must have at least 1 dimension, got a scalar")
    if x.shape[-1] == 0:
        raise ValueError(f"{fn}: {name} has an empty last axis (shape {x.shape}); "
                         f"it needs at least one class")
    return x, x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x


def _same_shape(fn, name, x, ref, refname):
    if x.shape != ref.shape:
        raise ValueError(f"{fn}: {name} has shape {x.shape} but {refname} has shape {ref.shape}")


def _labels(fn, name, labels, n, k):
    """Integer labels as contiguous int64 of length n, each in [0, k) (else ValueError)."""
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{fn}: {name} must be integers, got dtype {labels.dtype}")
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.shape != (n,):
        raise ValueError(f"{fn}: {name} must have shape ({n},) to match the logits, got {labels.shape}")
    labels = np.ascontiguousarray(labels, dtype=np.int64)
    if n:
        lo, hi = _nn.label_range(labels)
        if lo < 0 or hi >= k:
            bad = lo if lo < 0 else hi
            raise ValueError(f"{fn}: {name} must lie in [0, {k}) for {k} classes, found {bad}")
    return labels


# ---- softmax ----

def softmax(x, out=None):
    """Numerically stable softmax over the last axis.

    Parameters
    ----------
    x : ndarray, float32 or float64, at least 1-D
    out : ndarray or None
        Same shape and dtype as x, C-contiguous; may be x itself.

    Returns
    -------
    ndarray
        exp(x - max) / sum(exp(x - max)), rows summing to 1.

    Examples
    --------
    >>> fastops.softmax(np.array([[0.0, np.log(3.0)]]))
    array([[0.25, 0.75]])
    """
    x, x2 = _rows("softmax", "x", x)
    out = _out("softmax", out, x.shape, x.dtype, inputs=(x,))
    _nn.softmax(x2, out.reshape(x2.shape))
    return out


def softmax_backward(grad, y, out=None):
    """Gradient through softmax from its output y: y * (grad - sum(grad * y, axis=-1))."""
    y, y2 = _rows("softmax_backward", "y", y)
    grad = _float_input("softmax_backward", "grad", grad, dtype=y.dtype)
    _same_shape("softmax_backward", "grad", grad, y, "y")
    out = _out("softmax_backward", out, y.shape, y.dtype, inputs=(grad, y))
    _nn.softmax_backward(grad.reshape(y2.shape), y2, out.reshape(y2.shape))
    return out


def _xent_grad_out(fn, out, grad, z):
    if not grad:
        if out is not None:
            raise ValueError(f"{fn}: out was given but grad=False")
        return None
    return _out(fn, out, z.shape, z.dtype, inputs=(z,))


def softmax_crossentropy(logits, y_true, out=None, grad=True):
    """Softmax + categorical cross-entropy, forward and backward in one pass.

    Equals Keras' categorical_crossentropy(y_true, softmax(logits)) computed from
    the logits with log-sum-exp (as TensorFlow does), so log(0) never occurs.

    Parameters
    ----------
    logits : ndarray (n, k), float32 or float64
    y_true : ndarray (n, k), same dtype (one-hot or soft targets)
    out : ndarray (n, k) or None
        Receives the gradient of the mean loss w.r.t. the logits,
        (softmax(logits) * sum(y_true, axis=1) - y_true) / n.
    grad : bool
        False: forward only (no gradient written, `out` must be None).

    Returns
    -------
    loss : float
        Mean over the batch of -sum(y_true * log_softmax(logits)), accumulated in float64.
    grad : ndarray or None
    n_correct : int
        Rows where argmax(logits) == argmax(y_true) (the Keras 'accuracy').
    """
    fn = "softmax_crossentropy"
    z = _float_input(fn, "logits", logits, ndim=2)
    y = _float_input(fn, "y_true", y_true, ndim=2, dtype=z.dtype)
    if y.shape != z.shape:
        raise ValueError(f"{fn}: y_true has shape {y.shape} but logits has shape {z.shape} "
                         f"(one-hot targets need one column per class)")
    if z.shape[0] == 0 or z.shape[1] == 0:
        raise ValueError(f"{fn}: logits must be non-empty, got shape {z.shape}")
    g = _xent_grad_out(fn, out, grad, z)
    loss, correct = _nn.softmax_xent(z, y, g)
    return loss, g, correct


def sparse_softmax_crossentropy(logits, labels, out=None, grad=True):
    """As softmax_crossentropy with integer class labels (Keras sparse_categorical_crossentropy).

    Parameters
    ----------
    logits : ndarray (n, k), float32 or float64
    labels : integer array (n,) or (n, 1), each in [0, k); otherwise ValueError
    out, grad : as softmax_crossentropy

    Returns
    -------
    (loss, grad, n_correct)
    """
    fn = "sparse_softmax_crossentropy"
    z = _float_input(fn, "logits", logits, ndim=2)
    if z.shape[0] == 0 or z.shape[1] == 0:
        raise ValueError(f"{fn}: logits must be non-empty, got shape {z.shape}")
    labels = _labels(fn, "labels", labels, z.shape[0], z.shape[1])
    g = _xent_grad_out(fn, out, grad, z)
    loss, correct = _nn.sparse_softmax_xent(z, labels, g)
    return loss, g, correct


# ---- argmax, labels, finiteness ----

def argmax(x, out=None):
    """Index of the first maximum along the last axis (as numpy.argmax(x, axis=-1)), int64."""
    x, x2 = _rows("argmax", "x", x)
    if x.shape[-1] == 0:
        raise ValueError(f"argmax: x has an empty last axis, shape {x.shape}")
    out = _out("argmax", out, x.shape[:-1], np.dtype(np.int64))
    _nn.argmax(x2, out.reshape(-1))
    return out


def count_equal(a, b):
    """Number of positions where two integer arrays of the same shape agree."""
    a, b = np.asarray(a), np.asarray(b)
    for name, v in (("a", a), ("b", b)):
        if v.dtype.kind not in "iu":
            raise TypeError(f"count_equal: {name} must be integers, got dtype {v.dtype}")
    if a.shape != b.shape:
        raise ValueError(f"count_equal: a has shape {a.shape} but b has shape {b.shape}")
    a = np.ascontiguousarray(a, dtype=np.int64).reshape(-1)
    b = np.ascontiguousarray(b, dtype=np.int64).reshape(-1)
    return int(_nn.count_equal(a, b))


def label_range(labels):
    """(min, max) of a non-empty integer array."""
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"label_range: labels must be integers, got dtype {labels.dtype}")
    if labels.size == 0:
        raise ValueError("label_range: labels is empty")
    return _nn.label_range(np.ascontiguousarray(labels, dtype=np.int64).reshape(-1))


def all_finite(x):
    """True if the float array x holds no NaN and no +-Inf (one pass, no temporaries)."""
    x = _float_input("all_finite", "x", x)
    return _nn.all_finite(x)


# ---- sigmoid / tanh ----

def _unary(fn, kernel, x, out):
    x = _float_input(fn, "x", x)
    out = _out(fn, out, x.shape, x.dtype, inputs=(x,))
    kernel(x, out)
    return out


def _unary_backward(fn, kernel, grad, y, out):
    y = _float_input(fn, "y", y)
    grad = _float_input(fn, "grad", grad, dtype=y.dtype)
    _same_shape(fn, "grad", grad, y, "y")
    out = _out(fn, out, y.shape, y.dtype, inputs=(grad, y))
    kernel(grad, y, out)
    return out


def sigmoid(x, out=None):
    """1 / (1 + exp(-x)), without overflow for large |x|."""
    return _unary("sigmoid", _nn.sigmoid, x, out)


def sigmoid_backward(grad, y, out=None):
    """Gradient through sigmoid from its output y: grad * y * (1 - y)."""
    return _unary_backward("sigmoid_backward", _nn.sigmoid_backward, grad, y, out)


def tanh(x, out=None):
    """Hyperbolic tangent."""
    return _unary("tanh", _nn.tanh, x, out)


def tanh_backward(grad, y, out=None):
    """Gradient through tanh from its output y: grad * (1 - y**2)."""
    return _unary_backward("tanh_backward", _nn.tanh_backward, grad, y, out)


# ---- optimizer updates ----

def _param(fn, w):
    if not isinstance(w, np.ndarray) or w.dtype not in _FLOATS:
        raise TypeError(f"{fn}: variable must be a float32 or float64 ndarray, got "
                        f"{getattr(w, 'dtype', type(w).__name__)}")
    return _updatable(fn, "variable", w)


def _updatable(fn, name, a):
    """a, which the kernel updates in place: writeable, C-contiguous, aligned."""
    if not a.flags.writeable or not a.flags.c_contiguous or not a.flags.aligned:
        raise ValueError(f"{fn}: {name} must be writeable, C-contiguous and aligned "
                         f"(it is updated in place)")
    return a


def _slot(fn, name, s, w, optional=False):
    if s is None and optional:
        return None
    if not isinstance(s, np.ndarray):
        raise TypeError(f"{fn}: {name} must be an ndarray, got {type(s).__name__}")
    if s.shape != w.shape or s.dtype != w.dtype:
        raise ValueError(f"{fn}: {name} must match the variable ({w.shape}, {w.dtype}), "
                         f"got ({s.shape}, {s.dtype})")
    return _updatable(fn, name, s)


def _gradient(fn, g, w):
    g = _float_input(fn, "gradient", g, dtype=w.dtype)
    _same_shape(fn, "gradient", g, w, "variable")
    return g


def _disjoint(fn, **arrays):
    """The update kernels declare every array `restrict`: no two may share memory."""
    items = [(name, a) for name, a in arrays.items() if a is not None]
    for i, (name_a, a) in enumerate(items):
        for name_b, b in items[i + 1:]:
            if np.may_share_memory(a, b):
                raise ValueError(f"{fn}: {name_b} shares memory with {name_a}; "
                                 f"the update needs separate arrays")


def _hyper(fn, name, value, lo=None, hi=None):
    try:
        v = operator.index(value) if isinstance(value, (int, np.integer)) else float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{fn}: {name} must be a number, got {value!r}") from None
    if isinstance(value, bool) or v != v or (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ValueError(f"{fn}: {name} must be in [{lo}, {hi}], got {value!r}")
    return float(v)


def sgd_update(variable, gradient, momentum_buffer=None, learning_rate=0.01, momentum=0.0,
               nesterov=False):
    """One SGD step in place (Keras formulas).

    Equations::

        no momentum:  w -= lr * g
        momentum:     m = momentum * m - lr * g;  w += m
        nesterov:     m = momentum * m - lr * g;  w += momentum * m - lr * g
    """
    fn = "sgd_update"
    w = _param(fn, variable)
    g = _gradient(fn, gradient, w)
    mu = _hyper(fn, "momentum", momentum, 0.0, 1.0)
    m = _slot(fn, "momentum_buffer", momentum_buffer, w, optional=True)
    if mu > 0 and m is None:
        raise ValueError(f"{fn}: momentum={momentum} needs a momentum_buffer")
    _disjoint(fn, variable=w, gradient=g, momentum_buffer=m)
    _nn.sgd_update(w, g, m if mu > 0 else None, _hyper(fn, "learning_rate", learning_rate), mu,
                   bool(nesterov))
    return w


def rmsprop_update(variable, gradient, velocity, learning_rate=0.001, rho=0.9, epsilon=1e-7,
                   momentum=0.0, momentum_buffer=None, average_gradient=None):
    """One RMSprop step in place, as Keras applies it.

    Equations::

        v = rho * v + (1 - rho) * g**2
        centered (average_gradient given): a = rho * a + (1 - rho) * g;  d = v - a**2 + eps
        otherwise:                          d = v + eps
        inc = lr * g / sqrt(d)
        momentum > 0:  m = momentum * m + inc;  w -= m
        otherwise:     w -= inc
    """
    fn = "rmsprop_update"
    w = _param(fn, variable)
    g = _gradient(fn, gradient, w)
    v = _slot(fn, "velocity", velocity, w)
    mu = _hyper(fn, "momentum", momentum, 0.0, 1.0)
    m = _slot(fn, "momentum_buffer", momentum_buffer, w, optional=True)
    if mu > 0 and m is None:
        raise ValueError(f"{fn}: momentum={momentum} needs a momentum_buffer")
    a = _slot(fn, "average_gradient", average_gradient, w, optional=True)
    _disjoint(fn, variable=w, gradient=g, velocity=v, momentum_buffer=m, average_gradient=a)
    _nn.rmsprop_update(w, g, v, m if mu > 0 else None, a,
                       _hyper(fn, "learning_rate", learning_rate), _hyper(fn, "rho", rho, 0.0, 1.0),
                       _hyper(fn, "epsilon", epsilon, 0.0), mu)
    return w


def adagrad_update(variable, gradient, accumulator, learning_rate=0.001, epsilon=1e-7):
    """One Adagrad step in place (Keras formulas).

    Equations::

        acc += g**2
        w -= lr * g / sqrt(acc + eps)
    """
    fn = "adagrad_update"
    w = _param(fn, variable)
    g = _gradient(fn, gradient, w)
    acc = _slot(fn, "accumulator", accumulator, w)
    _disjoint(fn, variable=w, gradient=g, accumulator=acc)
    _nn.adagrad_update(w, g, acc, _hyper(fn, "learning_rate", learning_rate),
                       _hyper(fn, "epsilon", epsilon, 0.0))
    return w


def adam_update(variable, gradient, m, v, step, learning_rate=0.001, beta_1=0.9, beta_2=0.999,
                epsilon=1e-7, vhat=None):
    """One Adam step in place (Keras formulas); `step` counts from 1.

    Equations::

        alpha = lr * sqrt(1 - beta_2**step) / (1 - beta_1**step)
        m += (g - m) * (1 - beta_1)
        v += (g**2 - v) * (1 - beta_2)
        amsgrad (vhat given): vhat = max(vhat, v);  v_used = vhat
        w -= alpha * m / (sqrt(v_used) + eps)
    """
    fn = "adam_update"
    w = _param(fn, variable)
    g = _gradient(fn, gradient, w)
    m = _slot(fn, "m", m, w)
    v = _slot(fn, "v", v, w)
    vh = _slot(fn, "vhat", vhat, w, optional=True)
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 1:
        raise ValueError(f"{fn}: step must be an int >= 1, got {step!r}")
    b1 = _hyper(fn, "beta_1", beta_1, 0.0, 1.0)
    b2 = _hyper(fn, "beta_2", beta_2, 0.0, 1.0)
    if b1 == 1.0:
        raise ValueError(f"{fn}: beta_1 must be < 1, got {beta_1!r}")
    lr = _hyper(fn, "learning_rate", learning_rate)
    alpha = lr * (1.0 - b2 ** step) ** 0.5 / (1.0 - b1 ** step)
    _disjoint(fn, variable=w, gradient=g, m=m, v=v, vhat=vh)
    _nn.adam_update(w, g, m, v, vh, alpha, b1, b2, _hyper(fn, "epsilon", epsilon, 0.0))
    return w

"""Losses with Keras 3's names, functions, classes and configs.

A Loss gives the value and the gradient dL/dy_pred of the batch loss (reduction
'sum_over_batch_size': sum_i w_i * loss_i / n).  Built-in losses compute both in one fused
fastops.nn kernel.  When the model's last layer ends in the activation a loss can absorb
(softmax for the categorical cross-entropies, sigmoid for the binary one), the trainer asks
that layer for its logits and the loss works from them (`logits_value_and_gradient`): one
pass, numerically stable, and the kernel also counts correct predictions for 'accuracy'.

Custom losses: fastops has no autodiff, so a custom loss subclasses `Loss` and supplies both
`call(y_true, y_pred)` (per-sample losses, shape (n,)) and `gradient(y_true, y_pred)` (d
loss_i / d y_pred_i, shape of y_pred).  A bare Python function is rejected with a TypeError.
"""
import numpy as np

import fastops
from . import nn
from ._reduce import weighted_sum
from ._registry import register, resolve, serialize, snake_case

__all__ = ["Loss", "BinaryCrossentropy", "CategoricalCrossentropy",
           "SparseCategoricalCrossentropy", "MeanSquaredError", "MeanAbsoluteError",
           "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
           "mean_squared_error", "mean_absolute_error", "mse", "mae", "get", "serialize",
           "deserialize"]

_REDUCTIONS = ("sum_over_batch_size", "sum", "none", None, "mean")


class Loss:
    """Base class.  Subclasses give `call` (per-sample losses) and `gradient` (their
    gradient w.r.t. y_pred, row by row); the base class weights and reduces them.

    Attributes:
        target: 'dense' (y_true has the output's shape) or 'sparse' (integer labels).
        fused_activation: the last-layer activation whose logits this loss can work from.
        counts: the accuracy metric ('categorical', 'sparse_categorical', 'binary') whose
            count the fused kernel returns, or None.
    """
    keras_module = "keras.losses"
    target = "dense"
    fused_activation = None
    counts = None

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {_REDUCTIONS}, "
                             f"got {reduction!r}")
        self.name = name or snake_case(type(self).__name__)
        self.reduction = reduction
        self.dtype = dtype
        self.from_logits = getattr(self, "from_logits", False)

    # ---- the subclass contract ----

    def call(self, y_true, y_pred):
        """Per-sample losses, shape (n,)."""
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred)")

    def gradient(self, y_true, y_pred):
        """d loss_i / d y_pred_i for every row, shape of y_pred."""
        raise NotImplementedError(f"{type(self).__name__} must implement gradient(y_true, "
                                  f"y_pred): fastops has no autodiff")

    # ---- what the trainer calls ----

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The reduced loss as a float (Keras: loss_object(y_true, y_pred))."""
        rows = np.asarray(self.call(y_true, y_pred))
        if self.reduction in ("none", None):
            return rows if sample_weight is None else fastops.multiply(
                rows, np.asarray(sample_weight, dtype=rows.dtype))
        total = weighted_sum(rows, sample_weight)
        # Keras' sum_over_batch_size divides by the per-sample losses' count: one for 1-D
        # inputs, which are a single sample
        return total if self.reduction == "sum" else total / max(rows.size, 1)

    def value_and_gradient(self, y_true, y_pred, sample_weight=None, out=None):
        """(loss, dloss/dy_pred) of the batch loss sum_i w_i loss_i / n; `out` receives the
        gradient when given."""
        n = y_pred.shape[0]
        loss = weighted_sum(self.call(y_true, y_pred), sample_weight) / n
        g = np.asarray(self.gradient(y_true, y_pred), dtype=y_pred.dtype)
        if g.shape != y_pred.shape:
            raise ValueError(f"{type(self).__name__}.gradient returned shape {g.shape}, "
                             f"expected y_pred's {y_pred.shape}")
        scale = fastops.multiply(np.ones(n, y_pred.dtype) if sample_weight is None else
                                 sample_weight.astype(y_pred.dtype), y_pred.dtype.type(1.0 / n))
        grad = fastops.multiply(g, scale.reshape((n,) + (1,) * (g.ndim - 1)), out=out)
        return loss, grad

    def fuses_with(self, activation_name):
        """True when the trainer may hand this loss the logits of a layer ending in
        `activation_name` instead of its output."""
        return (self.fused_activation is not None and not self.from_logits
                and activation_name == self.fused_activation)

    def logits_value_and_gradient(self, y_true, logits, sample_weight=None, out=None,
                                  grad=True):
        """(loss, dloss/dlogits or None, correct count) from the logits of the fused head."""
        raise NotImplementedError(f"{type(self).__name__} has no fused form")

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        config.pop("dtype", None)
        return cls(**config)

    def __repr__(self):
        return f"<loss {self.name}>"


def _no_smoothing(cls, label_smoothing, axis):
    if label_smoothing:
        raise ValueError(f"{cls}: label_smoothing is not supported by fastops (got "
                         f"{label_smoothing}); smooth the targets before fit")
    if axis != -1:
        raise ValueError(f"{cls}: only axis=-1 is supported, got {axis}")


def _kernels(fused, name):
    """A crossentropy's fastops.nn kernels: `fused`_crossentropy on logits, and `name`_probs
    and `name`_rows on probabilities."""
    return tuple(staticmethod(getattr(nn, k)) for k in
                 (fused + "_crossentropy", name + "_probs", name + "_rows"))


class _Crossentropy(Loss):
    fused_kernel = None   # fastops.nn kernel on logits: (z, y, out, grad, sample_weight)
    probs_kernel = None   # pending kernel on probabilities: (p, y, out, grad, sample_weight)
    rows_kernel = None    # per-sample form: (p, y, from_logits)
    # Keras' options that fastops supports at their defaults only, written into the config
    fixed_options = {"label_smoothing": 0.0, "axis": -1}

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction=
                 "sum_over_batch_size", name=None, dtype=None, ignore_class=None):
        _no_smoothing(type(self).__name__, label_smoothing, axis)
        if ignore_class is not None:
            raise ValueError(f"{type(self).__name__}: ignore_class is not supported by fastops")
        self.from_logits = bool(from_logits)
        super().__init__(name, reduction, dtype)

    def call(self, y_true, y_pred):
        return _rows(type(self).rows_kernel, y_pred, y_true, dense=self.target == "dense",
                     from_logits=self.from_logits)

    def value_and_gradient(self, y_true, y_pred, sample_weight=None, out=None):
        if self.from_logits:
            return type(self).fused_kernel(y_pred, y_true, out=out,
                                           sample_weight=sample_weight)[:2]
        return type(self).probs_kernel(y_pred, y_true, out=out, sample_weight=sample_weight)

    def logits_value_and_gradient(self, y_true, logits, sample_weight=None, out=None,
                                  grad=True):
        return type(self).fused_kernel(logits, y_true, out=out, grad=grad,
                                       sample_weight=sample_weight)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits, **self.fixed_options}


@register("loss", "categorical_crossentropy")
class CategoricalCrossentropy(_Crossentropy):
    """-sum_j y_j log p_j for one-hot (or soft) targets of the output's shape."""
    fused_activation = "softmax"
    counts = "categorical"
    fused_kernel, probs_kernel, rows_kernel = _kernels("softmax", "categorical_crossentropy")


@register("loss", "sparse_categorical_crossentropy")
class SparseCategoricalCrossentropy(_Crossentropy):
    """-log p[label] for integer labels of shape (n,) or (n, 1)."""
    target = "sparse"
    fused_activation = "softmax"
    counts = "sparse_categorical"
    fused_kernel, probs_kernel, rows_kernel = _kernels("sparse_softmax",
                                                       "sparse_categorical_crossentropy")
    fixed_options = {"ignore_class": None}


@register("loss", "binary_crossentropy", "bce")
class BinaryCrossentropy(_Crossentropy):
    """mean_j -(y log p + (1 - y) log(1 - p)) for 0/1 (or soft) targets."""
    fused_activation = "sigmoid"
    counts = "binary"
    fused_kernel, probs_kernel, rows_kernel = _kernels("sigmoid", "binary_crossentropy")


class _Regression(Loss):
    kernel = None
    rows_kernel = None

    def __init__(self, reduction="sum_over_batch_size", name=None, dtype=None):
        super().__init__(name, reduction, dtype)

    def call(self, y_true, y_pred):
        return _rows(type(self).rows_kernel, y_pred, y_true)

    def value_and_gradient(self, y_true, y_pred, sample_weight=None, out=None):
        return type(self).kernel(y_pred, y_true, out=out, sample_weight=sample_weight)


@register("loss", "mean_squared_error", "mse")
class MeanSquaredError(_Regression):
    """mean_j (y_pred - y_true)**2."""
    kernel = staticmethod(nn.mean_squared_error)
    rows_kernel = staticmethod(nn.mean_squared_error_rows)


@register("loss", "mean_absolute_error", "mae")
class MeanAbsoluteError(_Regression):
    """mean_j |y_pred - y_true|."""
    kernel = staticmethod(nn.mean_absolute_error)
    rows_kernel = staticmethod(nn.mean_absolute_error_rows)


# ---- Keras' loss functions: per-sample losses, shape y_pred.shape[:-1] ----

def _rows(kernel, y_pred, y_true, **kwargs):
    y_pred = np.asarray(y_pred)
    if y_pred.dtype.kind != "f":
        y_pred = y_pred.astype(np.float32)
    y_true = np.asarray(y_true)
    if kwargs.pop("dense", True) and y_true.shape != y_pred.shape:
        if y_true.shape + (1,) == y_pred.shape:
            y_true = y_true[..., None]
        else:
            raise ValueError(f"y_true has shape {y_true.shape} but y_pred has {y_pred.shape}")
    return kernel(y_pred, y_true, **kwargs)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample binary cross-entropy (mean over the last axis), as keras.losses'."""
    _no_smoothing("binary_crossentropy", label_smoothing, axis)
    return _rows(nn.binary_crossentropy_rows, y_pred, y_true, from_logits=from_logits)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample categorical cross-entropy, as keras.losses'."""
    _no_smoothing("categorical_crossentropy", label_smoothing, axis)
    return _rows(nn.categorical_crossentropy_rows, y_pred, y_true, from_logits=from_logits)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    """Per-sample sparse categorical cross-entropy, as keras.losses'."""
    if ignore_class is not None or axis != -1:
        raise ValueError("sparse_categorical_crossentropy: ignore_class and axis are not "
                         "supported by fastops")
    return _rows(nn.sparse_categorical_crossentropy_rows, y_pred, y_true, dense=False,
                 from_logits=from_logits)


def mean_squared_error(y_true, y_pred):
    """Per-sample mean squared error over the last axis, as keras.losses'."""
    return _rows(nn.mean_squared_error_rows, y_pred, y_true)


def mean_absolute_error(y_true, y_pred):
    """Per-sample mean absolute error over the last axis, as keras.losses'."""
    return _rows(nn.mean_absolute_error_rows, y_pred, y_true)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
_FUNCTIONS = {binary_crossentropy: BinaryCrossentropy, categorical_crossentropy:
              CategoricalCrossentropy, sparse_categorical_crossentropy:
              SparseCategoricalCrossentropy, mean_squared_error: MeanSquaredError,
              mean_absolute_error: MeanAbsoluteError}


def get(identifier):
    """A Loss from a Keras name or alias ('mse', 'binary_crossentropy', ...), one of this
    module's loss functions, a config dict, or a Loss instance."""
    if identifier is None:
        raise ValueError("a loss is required, e.g. loss='categorical_crossentropy'")
    if callable(identifier) and not isinstance(identifier, (Loss, type)):
        cls = _FUNCTIONS.get(identifier)
        if cls is None:
            raise TypeError(
                f"loss {getattr(identifier, '__name__', identifier)!r} is a plain function: "
                f"fastops has no autodiff, so a custom loss must subclass fastops.losses.Loss "
                f"and implement call(y_true, y_pred) and gradient(y_true, y_pred)")
        return cls()
    loss = resolve("loss", identifier, Loss)
    if not isinstance(loss, Loss) and callable(loss):  # a config naming a function
        return get(loss)
    if loss.reduction != "sum_over_batch_size":
        raise ValueError(f"loss {loss.name}: fit trains with reduction='sum_over_batch_size' "
                         f"only, got {loss.reduction!r}")
    return loss


def deserialize(config):
    return get(config)

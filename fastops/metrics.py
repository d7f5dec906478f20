"""Metrics with Keras 3's names, classes, functions and configs.

A metric accumulates over batches: `update_state(y_true, y_pred, sample_weight=None)`,
`result()` (the weighted mean so far), `reset_state()`.  The accuracies count through
fastops.nn's count kernels; when the loss works from the logits of a fused softmax/sigmoid
head, the trainer hands them the logits (argmax and the 0.5 threshold do not change under
softmax/sigmoid), and the matching accuracy takes its count straight from the loss kernel.
A plain Python function `metric(y_true, y_pred)` is accepted (wrapped in
`MeanMetricWrapper`): metrics need no gradient.
"""
import math
import numbers

import numpy as np

import fastops
from . import nn
from ._reduce import weighted_sum
from . import losses as _losses
from ._registry import alias, lookup, register, resolve, serialize, snake_case

__all__ = ["Metric", "Mean", "MeanMetricWrapper", "BinaryAccuracy", "CategoricalAccuracy",
           "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
           "SparseTopKCategoricalAccuracy", "MeanSquaredError", "MeanAbsoluteError",
           "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
           "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy",
           "mean_squared_error", "mean_absolute_error", "mse", "mae", "get", "serialize",
           "deserialize"]


class Metric:
    """Base class: a weighted mean of per-sample values (`total / count`)."""
    keras_module = "keras.metrics"
    target = "dense"      # y_true as the output ('dense') or integer labels ('sparse')
    counts = None         # the loss count this metric can take ('categorical', ...)
    logit_threshold = None

    def __init__(self, name=None, dtype=None):
        self.name = name or snake_case(type(self).__name__)
        self.dtype = dtype or "float32"
        self.reset_state()

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def result(self):
        """The weighted mean so far (0.0 before any update, as Keras)."""
        return self.total / self.count if self.count else 0.0

    def add(self, total, count):
        """Add a batch's weighted sum and weight."""
        self.total += float(total)
        self.count += float(count)

    def values(self, y_true, y_pred):
        """Per-sample values (subclasses)."""
        raise NotImplementedError

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = np.asarray(self.values(y_true, y_pred), dtype=np.float64)
        n = np.shape(y_pred)[0] if np.ndim(y_pred) else 1
        if values.ndim == 0:
            values = np.full(n, float(values))
        w = None if sample_weight is None else np.asarray(sample_weight, np.float64)
        self.add(weighted_sum(values, w), n if w is None else fastops.sum(w))

    def from_logits(self, activation_name):
        """Whether this metric may read the logits of a head ending in `activation_name`."""
        return False

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<metric {self.name}: {self.result():.4g}>"


@register("metric", "mean")
class Mean(Metric):
    """The weighted mean of the values given to update_state(values, sample_weight)."""

    def update_state(self, values, sample_weight=None):
        values = np.asarray(values, np.float64).reshape(-1)
        w = None if sample_weight is None else np.asarray(sample_weight, np.float64)
        self.add(weighted_sum(values, w), values.size if w is None else fastops.sum(w))


class MeanMetricWrapper(Metric):
    """The weighted mean of fn(y_true, y_pred) per sample (any Python function)."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        self.fn = fn
        self.kwargs = kwargs
        super().__init__(name or getattr(fn, "__name__", "metric"), dtype)

    def values(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self.kwargs)


class _Count(Metric):
    """An accuracy counted by a fastops.nn kernel."""

    def update_state(self, y_true, y_pred, sample_weight=None):
        w = None if sample_weight is None else np.asarray(sample_weight, np.float64)
        n = np.shape(y_pred)[0]
        self.add(self.correct(y_true, np.asarray(y_pred), w), n if w is None else fastops.sum(w))

    def from_logits(self, activation_name):
        return activation_name in ("softmax", "linear")


@register("metric", "categorical_accuracy")
class CategoricalAccuracy(_Count):
    """Rows where argmax(y_pred) == argmax(y_true)."""
    counts = "categorical"

    def correct(self, y_true, y_pred, w):
        return nn.categorical_correct(y_pred, y_true, sample_weight=w)


@register("metric", "sparse_categorical_accuracy")
class SparseCategoricalAccuracy(_Count):
    """Rows where argmax(y_pred) equals the integer label."""
    target = "sparse"
    counts = "sparse_categorical"

    def correct(self, y_true, y_pred, w):
        return nn.sparse_categorical_correct(y_pred, y_true, sample_weight=w)


@register("metric", "binary_accuracy")
class BinaryAccuracy(_Count):
    """mean over outputs of [(y_pred > threshold) == y_true]."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        # any finite threshold, as Keras: 0.0 is the usual one for a model whose last layer
        # gives logits (from_logits=True losses)
        if isinstance(threshold, (bool, np.bool_)) or not isinstance(threshold, numbers.Real) \
                or not math.isfinite(threshold):
            raise ValueError(f"BinaryAccuracy: threshold must be a finite number, got "
                             f"{threshold!r}")
        self.threshold = float(threshold)
        self.counts = "binary" if self.threshold == 0.5 else None
        # a sigmoid head's logits are compared with the threshold's logit; outside (0, 1)
        # the metric reads the probabilities themselves
        self.logit_threshold = (math.log(self.threshold / (1 - self.threshold))
                                if 0 < self.threshold < 1 else None)
        super().__init__(name, dtype)

    def correct(self, y_true, y_pred, w):
        return nn.binary_correct(y_pred, y_true, threshold=self.threshold, sample_weight=w)

    def correct_from_logits(self, y_true, logits, w):
        return nn.binary_correct(logits, y_true, threshold=self.logit_threshold, sample_weight=w)

    def from_logits(self, activation_name):
        return activation_name == "sigmoid" and self.logit_threshold is not None

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


@register("metric", "top_k_categorical_accuracy")
class TopKCategoricalAccuracy(_Count):
    """Rows whose true class (argmax of y_true) is among the k largest predictions."""

    def __init__(self, k=5, name=None, dtype=None):
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"{type(self).__name__}: k must be a positive int, got {k!r}")
        self.k = int(k)
        super().__init__(name, dtype)

    def correct(self, y_true, y_pred, w):
        return nn.top_k_correct(y_pred, nn.argmax(y_true), k=self.k, sample_weight=w)

    def get_config(self):
        return {**super().get_config(), "k": self.k}


@register("metric", "sparse_top_k_categorical_accuracy")
class SparseTopKCategoricalAccuracy(TopKCategoricalAccuracy):
    """Rows whose integer label is among the k largest predictions."""
    target = "sparse"

    def correct(self, y_true, y_pred, w):
        return nn.top_k_correct(y_pred, y_true, k=self.k, sample_weight=w)


def _like(y_true, y_pred):
    """y_true in y_pred's shape and dtype: a (n,) target is compared with every column, as
    Keras 3 expands it to (n, 1) and broadcasts."""
    y_true = np.asarray(y_true)
    if y_true.shape != y_pred.shape:
        if y_true.shape == y_pred.shape[:-1] or y_true.shape == y_pred.shape[:-1] + (1,):
            y_true = np.broadcast_to(y_true.reshape(y_pred.shape[:-1] + (1,)), y_pred.shape)
        else:
            raise ValueError(f"y_true has shape {y_true.shape}, which does not match y_pred's "
                             f"{y_pred.shape}")
    return np.ascontiguousarray(y_true, dtype=y_pred.dtype)


@register("metric", "mean_squared_error")
class MeanSquaredError(Metric):
    """Weighted mean of the per-sample mean squared error."""
    kernel = staticmethod(nn.mean_squared_error)

    def update_state(self, y_true, y_pred, sample_weight=None):
        n = y_pred.shape[0]
        w = None if sample_weight is None else np.asarray(sample_weight, np.float64)
        loss = type(self).kernel(y_pred, _like(y_true, y_pred), grad=False, sample_weight=w)[0]
        self.add(loss * n, n if w is None else fastops.sum(w))

    def values(self, y_true, y_pred):
        return _losses.mean_squared_error(y_true, y_pred)


@register("metric", "mean_absolute_error")
class MeanAbsoluteError(MeanSquaredError):
    """Weighted mean of the per-sample mean absolute error."""
    kernel = staticmethod(nn.mean_absolute_error)

    def values(self, y_true, y_pred):
        return _losses.mean_absolute_error(y_true, y_pred)


# ---- Keras' metric functions: per-sample values ----

def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Per-sample binary accuracy (mean over the last axis)."""
    y_pred = np.asarray(y_pred)
    return nn.binary_accuracy_rows(y_pred, np.asarray(y_true).reshape(y_pred.shape), threshold)


def categorical_accuracy(y_true, y_pred):
    """Per-sample [argmax(y_pred) == argmax(y_true)]."""
    return nn.categorical_accuracy_rows(y_pred, y_true)


def sparse_categorical_accuracy(y_true, y_pred):
    """Per-sample [argmax(y_pred) == y_true]."""
    return nn.sparse_categorical_accuracy_rows(y_pred, y_true)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """Per-sample [argmax(y_true) among the top k of y_pred]."""
    return nn.top_k_accuracy_rows(y_pred, nn.argmax(y_true), k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """Per-sample [y_true among the top k of y_pred]."""
    return nn.top_k_accuracy_rows(y_pred, y_true, k)


mean_squared_error = mse = _losses.mean_squared_error
mean_absolute_error = mae = _losses.mean_absolute_error
_FUNCTIONS = {binary_accuracy: BinaryAccuracy, categorical_accuracy: CategoricalAccuracy,
              sparse_categorical_accuracy: SparseCategoricalAccuracy,
              top_k_categorical_accuracy: TopKCategoricalAccuracy,
              sparse_top_k_categorical_accuracy: SparseTopKCategoricalAccuracy,
              mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError}
alias("metric", "mse", MeanSquaredError)
alias("metric", "mae", MeanAbsoluteError)
for _name in ("accuracy", "acc"):
    alias("metric", _name, "accuracy")


def get(identifier, y_true_ndim=None, output_units=None):
    """A Metric from a Keras name or alias, one of this module's functions, any Python function
    ``fn(y_true, y_pred)``, a config dict, or a Metric instance.

    'accuracy' / 'acc' become BinaryAccuracy, SparseCategoricalAccuracy or CategoricalAccuracy
    from the shapes, as Keras 3 decides: binary when the output has one unit, sparse when
    y_true has fewer dims than the output (or one column), else categorical; the metric keeps
    the name it was given.
    """
    if isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc"):
        if output_units is None:
            return identifier  # resolved once the shapes are known
        if output_units == 1:
            cls = BinaryAccuracy
        elif y_true_ndim == 1 or y_true_ndim is None:
            cls = SparseCategoricalAccuracy
        else:
            cls = CategoricalAccuracy
        return cls(name=identifier)
    if isinstance(identifier, str):
        lookup("metric", identifier)
        metric = resolve("metric", identifier, Metric)
        metric.name = identifier
        return metric
    if callable(identifier) and not isinstance(identifier, (Metric, type)):
        cls = _FUNCTIONS.get(identifier)
        if cls is not None:
            metric = cls()
            metric.name = identifier.__name__
            return metric
        return MeanMetricWrapper(identifier)
    metric = resolve("metric", identifier, Metric)
    # a config naming a function (a custom object, or Keras' 'function' entries)
    return get(metric) if not isinstance(metric, Metric) and callable(metric) else metric


def deserialize(config):
    return get(config)

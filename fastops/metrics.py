"""Metrics: accuracy only, counted by the fused loss kernel during fit/evaluate.

The History key is the string the user passed ('accuracy' or 'acc'), as in Keras.
"""
from . import nnops

_ACCURACY_NAMES = ("accuracy", "acc", "categorical_accuracy", "sparse_categorical_accuracy")


def get(identifier):
    """Validated metric name (only accuracy is supported)."""
    if not isinstance(identifier, str):
        raise TypeError(f"metrics must be names, got {type(identifier).__name__}")
    if identifier not in _ACCURACY_NAMES:
        raise ValueError(f"Unknown metric: {identifier!r}. Known: {list(_ACCURACY_NAMES)}")
    return identifier


def accuracy(y_true, y_pred):
    """Fraction of rows where argmax(y_pred) equals the label (y_true one-hot or integer)."""
    pred = nnops.argmax(y_pred)
    if getattr(y_true, "ndim", 1) == getattr(y_pred, "ndim", 2):
        y_true = nnops.argmax(y_true)
    n = pred.size
    if n == 0:
        raise ValueError("accuracy: empty input")
    return nnops.count_equal(y_true, pred) / n

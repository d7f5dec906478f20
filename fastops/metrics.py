"""Metrics: accuracy only, counted by the fused loss kernel during fit/evaluate.

The History key is the string the user passed ('accuracy' or 'acc'), as in Keras.
"""
_ACCURACY_NAMES = ("accuracy", "acc", "categorical_accuracy", "sparse_categorical_accuracy")


def get(identifier):
    """Validated metric name (only accuracy is supported)."""
    if not isinstance(identifier, str):
        raise TypeError(f"metrics must be names, got {type(identifier).__name__}")
    if identifier not in _ACCURACY_NAMES:
        raise ValueError(f"Unknown metric: {identifier!r}. Known: {list(_ACCURACY_NAMES)}")
    return identifier

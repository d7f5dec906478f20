"""Keras-compatible helpers."""
import numpy as np


def to_categorical(y, num_classes=None, dtype="float32"):
    """Class labels -> one-hot rows, as Keras' `to_categorical`.

    Labels are cast to integers; a trailing axis of length 1 is dropped; the class axis is
    appended last, of length `num_classes` (default: the largest label + 1).

    Unlike Keras 3, which always returns float64, the default dtype is float32 (as in Keras 2)
    so an MNIST pipeline stays float32.  Unlike Keras, labels that are negative, not below
    `num_classes`, or floats with a fraction raise ValueError instead of wrapping around or
    being truncated.

    Args:
        y: array-like of integer labels (integral floats and bools are accepted).
        num_classes: total number of classes, a positive int, or None.
        dtype: dtype of the result.

    Returns:
        An array of shape y.shape (without a trailing 1) + (num_classes,).

    Example:
        >>> to_categorical([0, 2, 1])
        array([[1., 0., 0.],
               [0., 0., 1.],
               [0., 1., 0.]], dtype=float32)
    """
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise TypeError(f"to_categorical: y must hold integer labels, got dtype {y.dtype}")
    if num_classes is not None:
        if isinstance(num_classes, (bool, np.bool_)) or not isinstance(
                num_classes, (int, np.integer)):
            raise TypeError(f"to_categorical: num_classes must be an int or None, got "
                            f"{type(num_classes).__name__} {num_classes!r}")
        if num_classes < 1:
            raise ValueError(f"to_categorical: num_classes must be >= 1, got {num_classes}")
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"to_categorical: dtype {dtype!r} is not a NumPy dtype") from None

    shape = y.shape
    if len(shape) > 1 and shape[-1] == 1:  # (n, 1) column of labels, as Keras squeezes it
        shape = shape[:-1]
    flat = y.reshape(-1)

    if flat.size:
        if y.dtype.kind == "f":
            if not np.all(np.isfinite(flat)):
                raise ValueError("to_categorical: y holds NaN or Inf")
            if np.any(flat != np.floor(flat)):
                bad = flat[flat != np.floor(flat)][0]
                raise ValueError(f"to_categorical: y holds the non-integer label {bad}")
        low, high = flat.min(), flat.max()
        if low < 0:
            raise ValueError(f"to_categorical: y holds the negative label {low}")
        if num_classes is None:
            num_classes = int(high) + 1
        elif high >= num_classes:
            raise ValueError(f"to_categorical: y holds label {high}, not below "
                             f"num_classes={num_classes}")
    elif num_classes is None:
        # Keras fails here too (max of an empty array); say why.
        raise ValueError("to_categorical: y is empty, so num_classes cannot be inferred; "
                         "pass num_classes")

    out = np.zeros((flat.size, num_classes), dtype=dtype)
    out[np.arange(flat.size), flat.astype(np.intp)] = 1
    return out.reshape(shape + (num_classes,))

"""Argument checks of the loaders: run first, before any file is touched."""
import math
import numbers
import operator
import os


def path_arg(path, name="path"):
    """`path` unchanged if it is None, a str or an os.PathLike; TypeError otherwise."""
    if path is not None and not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a str, an os.PathLike or None, "
                        f"got {type(path).__name__}")
    if isinstance(path, str) and not path:
        raise ValueError(f"{name} must not be empty")
    return path


def int_arg(value, name, minimum=0, allow_none=False, maximum=None):
    """`value` as a Python int in [minimum, maximum] (numpy integers accepted, bool
    refused), or None when `allow_none`."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        kind = "an int or None" if allow_none else "an int"
        raise TypeError(f"{name} must be {kind}, got {value!r} ({type(value).__name__})")
    value = operator.index(value)
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def seed_arg(seed):
    """A seed np.random.RandomState takes: an int in [0, 2**32 - 1], or None (fresh
    entropy, as in Keras, where RandomState(None) gives an unreproducible shuffle)."""
    if seed is None:
        return None
    return int_arg(seed, "seed", maximum=2**32 - 1)


def fraction_arg(value, name, include_one):
    """`value` unchanged (the split is computed from it exactly as Keras does) if it is a
    real number in [0, 1) or [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a float, got {value!r} ({type(value).__name__})")
    top = "1]" if include_one else "1)"
    if not math.isfinite(value) or value < 0 or value > 1 or (value == 1 and not include_one):
        raise ValueError(f"{name} must be in [0, {top}, got {value!r}")
    return value

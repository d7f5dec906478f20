"""Weight regularizers L1, L2 and L1L2 with Keras 3's names, defaults and configs.

fastops folds a regularizer into the optimizer's update kernel: its `l1` and `l2`
coefficients go to the `l1=` / `l2=` arguments of `fastops.nn.*_update`, which add
``l1 * sign(w) + 2 * l2 * w`` to the gradient and return the penalty
``l1 * sum|w| + l2 * sum w**2`` of the weights before the step; the model adds that penalty
to the reported loss, as Keras does.  Only these linear-plus-quadratic penalties exist:
a custom Regularizer subclass is rejected (fastops has no autodiff for other penalties).
"""
import numpy as np

from . import nn
from ._registry import constructor_config, register, resolve, serialize

__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1", "l2", "l1_l2", "get", "serialize",
           "deserialize"]


def _coefficient(cls, name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) \
            or not np.isfinite(value) or value < 0:
        raise ValueError(f"{cls}: {name} must be a finite number >= 0, got {value!r}")
    return float(value)


class Regularizer:
    """Base class: a penalty l1 * sum|w| + l2 * sum w**2 (coefficients `l1`, `l2`)."""
    keras_module = "keras.regularizers"
    l1 = 0.0
    l2 = 0.0

    def __call__(self, x):
        """The penalty of the array `x`, as a float."""
        return nn.l1_l2_penalty(np.asarray(x), self.l1, self.l2)

    def get_config(self):
        return constructor_config(self)

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"{type(self).__name__}({self.get_config()})"


@register("regularizer", "l1")
class L1(Regularizer):
    """l1 * sum(|w|) (Keras default l1=0.01)."""

    def __init__(self, l1=0.01):
        self.l1 = _coefficient("L1", "l1", l1)


@register("regularizer", "l2")
class L2(Regularizer):
    """l2 * sum(w**2) (Keras default l2=0.01)."""

    def __init__(self, l2=0.01):
        self.l2 = _coefficient("L2", "l2", l2)


@register("regularizer", "l1_l2", "l1l2")
class L1L2(Regularizer):
    """l1 * sum(|w|) + l2 * sum(w**2) (Keras defaults l1=0.0, l2=0.0)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _coefficient("L1L2", "l1", l1)
        self.l2 = _coefficient("L1L2", "l2", l2)


# Keras 3 spells the factories as the classes themselves: l1_l2() is L1L2(), 0.0 for both
# (tf.keras 2's factory defaulted to 0.01 each).
l1 = L1
l2 = L2
l1_l2 = L1L2


def get(identifier):
    """A Regularizer from None, a name ('l1', 'l2', 'l1_l2'), a config dict or an instance."""
    if identifier is None:
        return None
    reg = resolve("regularizer", identifier, Regularizer)
    if type(reg) not in (L1, L2, L1L2):
        raise TypeError(f"regularizer {type(reg).__name__} is not L1, L2 or L1L2: fastops folds "
                        f"regularizers into its update kernels and supports only these penalties")
    return reg


def deserialize(config):
    return get(config)

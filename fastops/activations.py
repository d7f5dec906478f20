"""Activations: Keras' functions (``relu(x)`` returns a new array) and the in-place objects
that Dense layers use, each a forward and a backward through fastops kernels.

An Activation object's `forward(z, bias)` turns the matmul output z into the layer output in
place, adding the bias first (fused with the activation where a kernel exists, as
bias_add_relu); `backward(grad, y)` turns the gradient w.r.t. the output y into the gradient
w.r.t. the pre-activation, in place in `grad`.  Every backward is written in terms of the
output y, so a layer keeps one buffer per batch, not two.  Activations serialize as their
Keras name ('relu'), as Keras 3 does.
"""
import numpy as np

import fastops
from fastops import nn

from ._registry import register, resolve

__all__ = ["Activation", "Linear", "ReLU", "Softmax", "Sigmoid", "Tanh", "linear", "relu",
           "softmax", "sigmoid", "tanh", "get", "serialize", "deserialize"]


class Activation:
    """Base class (and the identity); subclasses set `name` and override forward/backward."""
    name = "linear"

    def forward(self, z, bias):
        if bias is not None:
            fastops.bias_add(z, bias, out=z)
        return z

    def backward(self, grad, y):
        return grad

    def __call__(self, x):
        """Apply to a copy of `x` (functional use)."""
        x = np.asarray(x)
        return self.forward(np.array(x, dtype=np.result_type(x, np.float32), order="C"), None)

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls()

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(type(self))

    def __repr__(self):
        return f"<activation {self.name}>"


@register("activation", "linear", "none")
class Linear(Activation):
    """y = z"""


@register("activation", "relu")
class ReLU(Activation):
    """y = max(z, 0)"""
    name = "relu"

    def forward(self, z, bias):
        if bias is not None:
            return fastops.bias_add_relu(z, bias, out=z)
        return fastops.relu(z, out=z)

    def backward(self, grad, y):
        # y > 0 exactly where z > 0, so the output serves as relu_backward's x.
        return fastops.relu_backward(grad, y, out=grad)


class _NnActivation(Activation):
    """An activation whose forward is the fastops.nn kernel of its `name` and whose backward
    is that kernel's `<name>_backward`, both in place; the bias is added first (unfused)."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._kernel = staticmethod(getattr(nn, cls.name))
        cls._backward_kernel = staticmethod(getattr(nn, cls.name + "_backward"))

    def forward(self, z, bias):
        return self._kernel(super().forward(z, bias), out=z)

    def backward(self, grad, y):
        return self._backward_kernel(grad, y, out=grad)


@register("activation", "softmax")
class Softmax(_NnActivation):
    """y = exp(z) / sum(exp(z)) over the last axis"""
    name = "softmax"


@register("activation", "sigmoid")
class Sigmoid(_NnActivation):
    """y = 1 / (1 + exp(-z))"""
    name = "sigmoid"


@register("activation", "tanh")
class Tanh(_NnActivation):
    """y = tanh(z)"""
    name = "tanh"


def linear(x):
    """Keras' linear activation: a copy of x."""
    return Linear()(x)


def relu(x):
    """max(x, 0) as a new array."""
    return ReLU()(x)


def softmax(x, axis=-1):
    """Softmax over the last axis as a new array (only axis=-1, as Dense uses it)."""
    if axis not in (-1, np.ndim(x) - 1):
        raise ValueError(f"softmax: fastops computes softmax over the last axis only, got "
                         f"axis={axis}")
    return Softmax()(x)


def sigmoid(x):
    """1 / (1 + exp(-x)) as a new array."""
    return Sigmoid()(x)


def tanh(x):
    """tanh(x) as a new array."""
    return Tanh()(x)


def get(identifier):
    """An Activation from None (linear), a Keras name ('relu', 'softmax', 'sigmoid', 'tanh',
    'linear'), one of this module's functions, or an Activation instance."""
    if identifier is None:
        return Linear()
    for fn, cls in ((linear, Linear), (relu, ReLU), (softmax, Softmax), (sigmoid, Sigmoid),
                    (tanh, Tanh)):
        if identifier is fn:
            return cls()
    if callable(identifier) and not isinstance(identifier, Activation):
        raise TypeError(f"activation {getattr(identifier, '__name__', identifier)!r} is a Python "
                        f"function: fastops has no autodiff, so an activation needs a backward; "
                        f"subclass fastops.activations.Activation")
    return resolve("activation", identifier, Activation)


def serialize(activation):
    """The Keras name of an activation ('relu'), as Keras 3 writes it in layer configs."""
    return get(activation).name


def deserialize(config):
    return get(config)

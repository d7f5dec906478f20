"""Activations of Dense layers, each a forward and a backward computed in place.

`forward(z, bias)` turns the matmul output z into the layer output, adding the
bias first (fused with the activation where a kernel exists, as bias_add_relu);
`backward(grad, y)` turns the gradient w.r.t. the output y into the gradient
w.r.t. the pre-activation, in place in `grad`.  Every backward is written in
terms of the output y, so a layer keeps one buffer per batch, not two.
"""
import fastops

from . import nn as nnops
from ._registry import resolve


class Activation:
    name = None

    def forward(self, z, bias):
        if bias is not None:
            fastops.bias_add(z, bias, out=z)
        return z

    def backward(self, grad, y):
        return grad

    def __call__(self, x):
        """Apply to a new array (functional use: `activations.get('relu')(x)`)."""
        import numpy as np
        return self.forward(np.array(x, dtype=np.result_type(x, np.float32)), None)

    def __repr__(self):
        return f"<activation {self.name}>"


class Linear(Activation):
    """y = z"""
    name = "linear"


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


class Softmax(Activation):
    """y = exp(z) / sum(exp(z)) over the last axis"""
    name = "softmax"

    def forward(self, z, bias):
        return nnops.softmax(super().forward(z, bias), out=z)

    def backward(self, grad, y):
        return nnops.softmax_backward(grad, y, out=grad)


class Sigmoid(Activation):
    """y = 1 / (1 + exp(-z))"""
    name = "sigmoid"

    def forward(self, z, bias):
        return nnops.sigmoid(super().forward(z, bias), out=z)

    def backward(self, grad, y):
        return nnops.sigmoid_backward(grad, y, out=grad)


class Tanh(Activation):
    """y = tanh(z)"""
    name = "tanh"

    def forward(self, z, bias):
        return nnops.tanh(super().forward(z, bias), out=z)

    def backward(self, grad, y):
        return nnops.tanh_backward(grad, y, out=grad)


_BY_NAME = {cls.name: cls for cls in (Linear, ReLU, Softmax, Sigmoid, Tanh)}


def get(identifier):
    """An Activation from a name ('relu', 'softmax', 'sigmoid', 'tanh', 'linear'), None or an Activation."""
    if identifier is None:
        return Linear()
    return resolve("activation", identifier, Activation, _BY_NAME)

"""Cross-entropy losses, fused with the softmax of the last layer.

A loss here is computed from logits in one kernel pass that also writes the
gradient w.r.t. those logits and counts correct predictions, so the model never
materialises the softmax during training.  Keras' categorical_crossentropy on a
softmax output is the same quantity (TensorFlow also computes it from the logits).
"""
from . import nn as nnops
from ._registry import resolve


class Loss:
    name = None
    sparse = False

    def __init__(self, from_logits=False):
        self.from_logits = bool(from_logits)

    def check_output(self, activation_name):
        """The last layer this loss can be fused with: softmax, or linear with from_logits=True."""
        expected = "linear" if self.from_logits else "softmax"
        if activation_name != expected:
            raise ValueError(
                f"loss {self.name!r} (from_logits={self.from_logits}) needs the last layer to use "
                f"activation={expected!r}, got {activation_name!r}")

    def __repr__(self):
        return f"<loss {self.name}>"


class CategoricalCrossentropy(Loss):
    """mean(-sum(y_true * log(softmax(logits)))) for one-hot (n, k) targets"""
    name = "categorical_crossentropy"

    def __call__(self, logits, y_true, grad_out=None, grad=True):
        """(loss, gradient w.r.t. logits or None, number correct)"""
        return nnops.softmax_crossentropy(logits, y_true, out=grad_out, grad=grad)


class SparseCategoricalCrossentropy(Loss):
    """mean(-log(softmax(logits))[label]) for integer labels"""
    name = "sparse_categorical_crossentropy"
    sparse = True

    def __call__(self, logits, labels, grad_out=None, grad=True):
        return nnops.sparse_softmax_crossentropy(logits, labels, out=grad_out, grad=grad)


_BY_NAME = {cls.name: cls for cls in (CategoricalCrossentropy, SparseCategoricalCrossentropy)}


def get(identifier):
    """A Loss from its Keras name or a Loss instance."""
    return resolve("loss", identifier, Loss, _BY_NAME)

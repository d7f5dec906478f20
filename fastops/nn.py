"""fastops.nn: the fused kernels of neural-network training (as keras.ops is to keras.layers).

Conventions shared by every function here:
  - float operands are float32 or float64 (integers become float64, as np.exp makes them),
    any layout; operands of one call are promoted to one dtype as NumPy promotes;
  - row kernels work along the last axis: rows are every index before it;
  - the losses take per-row `sample_weight` (shape (n,)) and reduce as Keras'
    'sum_over_batch_size': loss = sum_i w_i * loss_i / n; the gradient written is
    d(loss)/d(first operand);
  - the `*_correct` counts return sum_i w_i * correct_i (an int without weights);
  - `out` may be an input (in place); other overlap is resolved as NumPy does (as if the
    inputs were read first); the optimizer updates write the variable and its slots in place
    and reject slots that share memory.
"""
import numpy as np

from ._kernels import (adagrad_update, adam_update, all_finite, argmax, binary_accuracy_rows,
                       binary_correct, binary_crossentropy_probs, binary_crossentropy_rows,
                       categorical_accuracy_rows, categorical_correct,
                       categorical_crossentropy_probs, categorical_crossentropy_rows, dropout,
                       dropout_backward, l1_l2_penalty, mean_absolute_error,
                       mean_absolute_error_rows, mean_squared_error, mean_squared_error_rows,
                       rmsprop_update, sgd_update, sigmoid, sigmoid_backward,
                       sigmoid_crossentropy, softmax, softmax_backward, softmax_crossentropy,
                       sparse_categorical_accuracy_rows, sparse_categorical_correct,
                       sparse_categorical_crossentropy_probs,
                       sparse_categorical_crossentropy_rows, sparse_softmax_crossentropy, take_rows,
                       tanh, tanh_backward, top_k_accuracy_rows, top_k_correct)

__all__ = [
    "softmax", "softmax_backward", "sigmoid", "sigmoid_backward", "tanh", "tanh_backward",
    "argmax", "all_finite", "take_rows",
    # losses fused with the output activation, from the logits
    "softmax_crossentropy", "sparse_softmax_crossentropy", "sigmoid_crossentropy",
    # losses on predictions (regression, and probabilities with Keras' clipping)
    "mean_squared_error", "mean_absolute_error", "categorical_crossentropy_probs",
    "sparse_categorical_crossentropy_probs", "binary_crossentropy_probs",
    # per-row losses and accuracies (Keras' loss and metric functions)
    "categorical_crossentropy_rows", "sparse_categorical_crossentropy_rows",
    "binary_crossentropy_rows", "mean_squared_error_rows", "mean_absolute_error_rows",
    "categorical_accuracy_rows", "sparse_categorical_accuracy_rows", "binary_accuracy_rows",
    "top_k_accuracy_rows",
    # weighted correct counts
    "categorical_correct", "sparse_categorical_correct", "binary_correct", "top_k_correct",
    "dropout", "dropout_backward", "dropout_keep",
    "sgd_update", "rmsprop_update", "adagrad_update", "adam_update", "l1_l2_penalty",
]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(z):
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def dropout_keep(shape, rate, seed):
    """The keep mask dropout(x of `shape`, rate, seed) applies, computed with NumPy (for
    reference implementations and tests): element i (flat C order) is kept when
    (mix(key + (i + 1) * G) >> 40) >= int(rate * 2**24), key = mix(seed + G)."""
    with np.errstate(over="ignore"):
        key = _mix(np.uint64(seed) + _GOLDEN)
        idx = np.arange(1, int(np.prod(shape)) + 1, dtype=np.uint64)
        h = _mix(key + idx * _GOLDEN)
    return ((h >> np.uint64(40)) >= np.uint64(int(rate * 2**24))).reshape(shape)

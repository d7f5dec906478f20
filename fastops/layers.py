"""Dense, the one layer of the chapter-2 MLP, computed only through fastops kernels.

A layer owns its parameters and their gradient buffers; the model owns the
per-batch activation buffers and passes them in, so nothing is allocated per step.
"""
import itertools

import numpy as np

import fastops

from . import activations

_INITIALIZERS = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
                 "lecun_normal", "zeros", "ones")
_counter = itertools.count()


def _initial_values(name, shape, dtype, rng):
    """Keras initializers (float64 draws, then cast, so a seed gives the same values per dtype)."""
    fan_in, fan_out = (shape[0], shape[1]) if len(shape) == 2 else (shape[0], shape[0])
    if name == "zeros":
        return np.zeros(shape, dtype)
    if name == "ones":
        return np.ones(shape, dtype)
    scale = {"glorot": 2.0 / (fan_in + fan_out), "he": 2.0 / fan_in, "lecun": 1.0 / fan_in}[name.split("_")[0]]
    if name.endswith("uniform"):
        limit = np.sqrt(3.0 * scale)
        values = rng.uniform(-limit, limit, size=shape)
    else:  # truncated normal at 2 stddev, stddev corrected as Keras does
        std = np.sqrt(scale) / 0.87962566103423978
        values = rng.normal(0.0, std, size=shape)
        bad = np.abs(values) > 2 * std
        while bad.any():
            values[bad] = rng.normal(0.0, std, size=int(bad.sum()))
            bad = np.abs(values) > 2 * std
    return values.astype(dtype)


def _check_initializer(arg, value):
    if not isinstance(value, str) or value.lower() not in _INITIALIZERS:
        raise ValueError(f"Unknown {arg}: {value!r}. Known: {list(_INITIALIZERS)}")
    return value.lower()


class Dense:
    """Densely connected layer: output = activation(x @ kernel + bias).

    Parameters
    ----------
    units : int > 0
    activation : None/'linear', 'relu', 'softmax', 'sigmoid', 'tanh' or an Activation
    input_shape : tuple (features,), only on the first layer (as Keras 2)
    use_bias : bool
    kernel_initializer, bias_initializer : Keras initializer names

    Examples
    --------
    >>> layers.Dense(512, activation='relu', input_shape=(28 * 28,))
    """

    def __init__(self, units, activation=None, input_shape=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", name=None,
                 input_dim=None):
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError("Received an invalid value for `units`, expected a positive integer. "
                             f"Received: units={units!r}")
        self.units = int(units)
        self.activation = activations.get(activation)
        if input_dim is not None:
            input_shape = (input_dim,)
        if input_shape is not None:
            input_shape = tuple(input_shape)
            if len(input_shape) != 1 or isinstance(input_shape[0], bool) or \
                    not isinstance(input_shape[0], (int, np.integer)) or input_shape[0] <= 0:
                raise ValueError("Dense takes 1-D inputs: input_shape must be (features,) with "
                                 f"features > 0, got {input_shape!r}")
        self.input_shape = input_shape
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _check_initializer("kernel_initializer", kernel_initializer)
        self.bias_initializer = _check_initializer("bias_initializer", bias_initializer)
        n = next(_counter)
        self.name = name or ("dense" if n == 0 else f"dense_{n}")
        self.kernel = self.bias = self.d_kernel = self.d_bias = None

    @property
    def built(self):
        return self.kernel is not None

    def build(self, input_dim, dtype, rng):
        """Create the parameters and their gradient buffers."""
        self.kernel = _initial_values(self.kernel_initializer, (input_dim, self.units), dtype, rng)
        self.d_kernel = np.empty_like(self.kernel)
        if self.use_bias:
            self.bias = _initial_values(self.bias_initializer, (self.units,), dtype, rng)
            self.d_bias = np.empty_like(self.bias)

    @property
    def weights(self):
        return [self.kernel, self.bias] if self.use_bias else [self.kernel]

    @property
    def gradients(self):
        return [self.d_kernel, self.d_bias] if self.use_bias else [self.d_kernel]

    def count_params(self):
        return sum(w.size for w in self.weights) if self.built else 0

    def forward(self, x, out, activate=True):
        """out := activation(x @ kernel + bias); activate=False stops after the bias (logits)."""
        fastops.matmul(x, self.kernel, out=out)
        if activate:
            return self.activation.forward(out, self.bias)
        if self.use_bias:
            fastops.bias_add(out, self.bias, out=out)
        return out

    def backward(self, x, y, grad, dx=None, activate=True):
        """Gradients from grad = dLoss/dy (overwritten with dLoss/dz).

        d_kernel := x.T @ dz, d_bias := sum(dz, axis=0), dx := dz @ kernel.T (if dx given);
        the transposes are strided views, never copies.
        """
        dz = self.activation.backward(grad, y) if activate else grad
        fastops.matmul(x.T, dz, out=self.d_kernel)
        if self.use_bias:
            fastops.sum(dz, axis=0, out=self.d_bias)
        if dx is not None:
            fastops.matmul(dz, self.kernel.T, out=dx)
        return dx

    def __call__(self, x):
        """Forward pass on new arrays (inference only)."""
        out = np.empty((x.shape[0], self.units), dtype=self.kernel.dtype)
        return self.forward(x, out)

    def __repr__(self):
        return f"Dense({self.units}, activation={self.activation.name!r}, name={self.name!r})"

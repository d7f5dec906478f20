"""Layers of the book's Dense chapters: Dense, Dropout, InputLayer / Input, computed only
through fastops kernels (Keras 3's names, arguments, defaults and configs).

Dense computes matmul -> bias -> activation (bias and relu fused in one kernel).  A loss that
can absorb the last activation (softmax/sigmoid + cross-entropy) asks the layer for its
logits instead (`logits` / `logits_backward`); see fastops.losses.
"""
import numpy as np

import fastops
from fastops import nn

from . import activations, initializers, regularizers
from ._layer import Layer, check_weights, unique_name
from ._registry import register, serialize

__all__ = ["Layer", "Dense", "Dropout", "InputLayer", "Input"]

_DROPOUT_SEED_STREAM = 2  # SeedSequence child of the model seed (0: weights, 1: shuffling)


@register("layer", "dense")
class Dense(Layer):
    """Densely connected layer: output = activation(x @ kernel + bias).

    Args:
        units: positive int, the output width.
        activation: None/'linear', 'relu', 'softmax', 'sigmoid', 'tanh' or an Activation.
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: Keras names ('glorot_uniform', 'zeros',
            'random_normal', 'random_uniform', 'truncated_normal', 'orthogonal', 'he_normal',
            ...), config dicts or fastops.initializers objects.
        kernel_regularizer, bias_regularizer: None, 'l1', 'l2', 'l1_l2' or fastops.regularizers
            objects (folded into the optimizer step).
        **kwargs: name, trainable, dtype, input_shape, input_dim (Keras 2 style).

    Example:
        >>> layers.Dense(512, activation='relu', input_shape=(28 * 28,))
    """

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, **kwargs):
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError("Received an invalid value for `units`, expected a positive integer. "
                             f"Received: units={units!r}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _initializer("kernel_initializer", kernel_initializer)
        self.bias_initializer = _initializer("bias_initializer", bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        super().__init__(**kwargs)
        self.kernel = self.bias = None
        self._kernel_product = None

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(f"Dense '{self.name}' takes 2-D inputs (batch, features) here; got "
                             f"input shape {input_shape}")
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units),
                                      self.kernel_initializer, self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.units,), self.bias_initializer,
                                        self.bias_regularizer)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)[:-1] + (self.units,)

    def logits(self, x, training=False, out=None):
        """x @ kernel + bias, the pre-activation (what a fused loss reads)."""
        z = fastops.matmul(x, self.kernel, out=out)
        if self.use_bias:
            fastops.bias_add(z, self.bias, out=z)
        if training:
            self._x, self._y = x, z
        return z

    def forward(self, x, training=False, out=None):
        z = fastops.matmul(x, self.kernel, out=out)
        y = self.activation.forward(z, self.bias if self.use_bias else None)
        if training:
            self._x, self._y = x, y
        return y

    @property
    def product_gradients(self):
        # a subclass that overrides the backward passes may not take products=
        cls = type(self)
        return cls.backward is Dense.backward and cls.logits_backward is Dense.logits_backward

    def backward(self, grad, out=None, input_grad=True, products=False):
        """From grad = dL/doutput (overwritten with dL/dz): d_kernel := x.T @ dz,
        d_bias := sum(dz, axis=0), returns dL/dx := dz @ kernel.T (into `out`).
        products=True leaves d_kernel as the pair (x.T, dz) in gradient_sources() instead."""
        return self.logits_backward(self.activation.backward(grad, self._y), out, input_grad,
                                    products)

    def logits_backward(self, dz, out=None, input_grad=True, products=False):
        """As backward, from dz = dL/dlogits (the transposes are strided views, not copies)."""
        self._kernel_product = None
        if self.trainable:
            if products:
                self._kernel_product = (self._x.T, dz)
            else:
                fastops.matmul(self._x.T, dz, out=self._gradients[id(self.kernel)])
            if self.use_bias:
                fastops.sum(dz, axis=0, out=self._gradients[id(self.bias)])
        if not input_grad:
            return None
        return fastops.matmul(dz, self.kernel.T, out=out)

    def gradient_sources(self):
        # the pair is handed over once: it holds views of the step's buffers, which must
        # not outlive the step (a pickled model would carry them)
        sources = self.gradients
        product, self._kernel_product = self._kernel_product, None
        if sources and product is not None:
            sources[0] = product
        return sources

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": serialize(self.kernel_initializer),
                "bias_initializer": serialize(self.bias_initializer),
                "kernel_regularizer": serialize(self.kernel_regularizer),
                "bias_regularizer": serialize(self.bias_regularizer),
                "kernel_constraint": None, "bias_constraint": None}

    def __repr__(self):
        return f"Dense({self.units}, activation={self.activation.name!r}, name={self.name!r})"


def _initializer(arg, value):
    try:
        return initializers.get(value)
    except (ValueError, TypeError) as e:
        raise type(e)(f"{arg}: {e}") from None


@register("layer", "dropout")
class Dropout(Layer):
    """Inverted dropout: in training, each input is zeroed with probability `rate` and the
    others scaled by 1 / (1 - rate); at inference the input passes unchanged.

    The mask comes from fastops.nn.dropout's counter-based generator: step t of the layer's
    life uses seed (base + t) mod 2**64, where base is `seed` when given, else drawn from the
    model's seed, so a seeded model's fits are reproducible bit for bit.

    Args:
        rate: float in [0, 1), the fraction of inputs to drop.
        noise_shape: must be None (fastops draws one mask element per input).
        seed: int or None.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        if isinstance(rate, bool) or not isinstance(rate, (int, float, np.floating)) \
                or not 0 <= rate < 1:
            raise ValueError("Invalid value received for argument `rate`. Expected a float value "
                             f"between 0 and 1. Received: rate={rate!r}")
        if noise_shape is not None:
            raise ValueError("Dropout: noise_shape is not supported by fastops")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                                 or seed < 0):
            raise ValueError(f"Dropout: seed must be a non-negative int or None, got {seed!r}")
        self.rate = float(rate)
        self.seed = None if seed is None else int(seed)
        super().__init__(**kwargs)
        self.seed_base = self.seed
        self.steps = 0

    def forward(self, x, training=False, out=None):
        if not training or self.rate == 0:
            return x
        if self.seed_base is None:
            self.seed_base = int(np.random.SeedSequence().generate_state(1, np.uint64)[0])
        self._step_seed = (self.seed_base + self.steps) % 2**64
        self.steps += 1
        return nn.dropout(x, self.rate, self._step_seed, out=out)

    def backward(self, grad, out=None, input_grad=True):
        if not input_grad:
            return None
        if self.rate == 0:
            return grad
        return nn.dropout_backward(grad, self.rate, self._step_seed, out=out)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": None}


def dropout_seed_base(model_seed, layer_index):
    """The seed base of an unseeded Dropout at `layer_index` of a model seeded `model_seed`."""
    seq = np.random.SeedSequence(model_seed, spawn_key=(_DROPOUT_SEED_STREAM, layer_index))
    return int(seq.generate_state(1, np.uint64)[0])


@register("layer", "input_layer")
class InputLayer(Layer):
    """The model's input: fixes the input shape, computes nothing.

    Args:
        shape: the input shape without the batch axis, e.g. (784,).
        batch_size: optional fixed batch size (fastops accepts any batch size anyway).
        dtype: the compute dtype (default floatx()).
        batch_shape: the full shape with the batch axis, instead of shape/batch_size.
        name: default 'input_layer', numbered as Keras does.
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None,
                 input_tensor=None, optional=False, name=None, ragged=None, input_shape=None,
                 **kwargs):
        if sparse or ragged or input_tensor is not None or optional:
            raise ValueError("InputLayer: sparse, ragged, optional and input_tensor are not "
                             "supported by fastops")
        if input_shape is not None and shape is None:
            shape = input_shape
        if batch_shape is not None:
            if shape is not None:
                raise ValueError("InputLayer: give shape or batch_shape, not both")
            batch_size, shape = batch_shape[0], tuple(batch_shape)[1:]
        if shape is None:
            raise ValueError("InputLayer: shape is required, e.g. Input(shape=(784,))")
        super().__init__(name=name or unique_name("input_layer"), dtype=dtype, input_shape=shape)
        self.batch_size = batch_size
        self.shape = (batch_size,) + self.declared_input_shape[1:]
        self.build(self.shape)

    def forward(self, x, training=False, out=None):
        return x

    def backward(self, grad, out=None, input_grad=True):
        return grad if input_grad else None

    def get_config(self):
        return {"batch_shape": list(self.shape), "dtype": self.dtype, "sparse": False,
                "ragged": False, "name": self.name, "optional": False}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def serialized(self):
        return serialize(self)


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None,
          tensor=None, optional=False):
    """The input of a Sequential model: ``Sequential([Input(shape=(784,)), Dense(...)])``.

    Returns an InputLayer (Keras returns a symbolic tensor; fastops has no functional API).
    """
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse,
                      batch_shape=batch_shape, name=name, input_tensor=tensor, optional=optional)


def get(identifier):
    """A layer from a Keras 3 config dict (or a layer, returned as is)."""
    from ._registry import resolve
    return resolve("layer", identifier, Layer)


__all__ += ["check_weights", "get"]

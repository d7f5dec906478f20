"""The Layer base class (Keras 3's shape): weights created by `build(input_shape)` as soon as
the input shape is known, a forward and a backward pass, weights and their gradients,
get_weights / set_weights (all-or-nothing), count_params, get_config / from_config.

Buffers: `forward(x, training, out)` writes into `out` when the trainer gives one (allocated
once per batch shape), else into a new array.  With training=True a layer remembers its input
and output for `backward(grad, out)`, which fills the gradients of its trainable weights and
returns the gradient w.r.t. its input (skipped when `input_grad=False`, for the first layer).
Inference (training=False) touches no layer state, so predict may run in several threads.
"""
import collections
import itertools

import numpy as np

from . import config as _config
from ._registry import serialize, snake_case

_UIDS = collections.defaultdict(itertools.count)
_NOT_SUPPORTED = ("activity_regularizer", "kernel_constraint", "bias_constraint")


def unique_name(prefix):
    """Keras' automatic names: 'dense', then 'dense_1', 'dense_2', ... per process."""
    uid = next(_UIDS[prefix])
    return prefix if uid == 0 else f"{prefix}_{uid}"


def dtype_policy(dtype):
    """Keras 3's serialized DTypePolicy of a float dtype name."""
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": dtype},
            "registered_name": None}


def _dtype_name(cls, dtype):
    if isinstance(dtype, dict):  # a serialized DTypePolicy
        dtype = dtype.get("config", {}).get("name")
    if dtype is None:
        return _config.floatx()
    return _config._float_name(dtype, f"{cls}: dtype")


def _shape(cls, input_shape, input_dim):
    if input_dim is not None:
        input_shape = (input_dim,)
    if input_shape is None:
        return None
    try:
        shape = tuple(input_shape)
    except TypeError:
        raise TypeError(f"{cls}: input_shape must be a tuple such as (784,), got "
                        f"{input_shape!r}") from None
    if not shape or any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d <= 0
                        for d in shape):
        raise ValueError(f"{cls}: input_shape must be a tuple of positive ints such as (784,), "
                         f"got {input_shape!r}")
    return (None,) + tuple(int(d) for d in shape)


class Layer:
    """Base class of fastops layers.

    Args:
        name: unique name (default: the snake-case class name, numbered as Keras does).
        trainable: whether fit updates the layer's weights.
        dtype: 'float32' or 'float64' (default: fastops.config.floatx()).
        input_shape / input_dim: the input shape without the batch axis, as Keras 2 allowed on
            the first layer of a Sequential.
    """
    keras_module = "keras.layers"

    def __init__(self, name=None, trainable=True, dtype=None, input_shape=None, input_dim=None,
                 batch_input_shape=None, **kwargs):
        cls = type(self).__name__
        bad = {k: v for k, v in kwargs.items() if k not in _NOT_SUPPORTED}
        if bad:
            raise TypeError(f"Unrecognized keyword arguments passed to {cls}: {bad}")
        for key in _NOT_SUPPORTED:
            if kwargs.get(key) is not None:
                raise ValueError(f"{cls}: `{key}` is not supported by fastops")
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"{cls}: name must be a non-empty string, got {name!r}")
        self.name = name or unique_name(snake_case(cls))
        self.trainable = bool(trainable)
        self.dtype = _dtype_name(cls, dtype)
        if batch_input_shape is not None:
            input_shape = tuple(batch_input_shape)[1:]
        self.declared_input_shape = _shape(cls, input_shape, input_dim)
        self.built = False
        self.build_input_shape = None
        self.rng = None          # set by the model: draws of unseeded initializers
        self._weights = []       # (name, array, trainable, regularizer)
        self._gradients = {}

    # ---- building ----

    def build(self, input_shape):
        """Create the weights for inputs of `input_shape` (batch axis first, may be None)."""
        self.build_input_shape = tuple(input_shape)
        self.output_shape = tuple(self.compute_output_shape(self.build_input_shape))
        self.built = True

    def add_weight(self, name, shape, initializer, regularizer=None, trainable=True):
        """Create, register and return a weight of `shape` in the layer's dtype."""
        value = np.ascontiguousarray(initializer(shape, self.dtype, self.rng), dtype=self.dtype)
        self._weights.append((name, value, trainable, regularizer))
        if trainable:
            self._gradients[id(value)] = np.empty_like(value)
        return value

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    # ---- weights ----

    @property
    def trainable_weights(self):
        return [w for _, w, t, _ in self._weights if t and self.trainable]

    @property
    def non_trainable_weights(self):
        return [w for _, w, t, _ in self._weights if not (t and self.trainable)]

    @property
    def weights(self):
        """Trainable weights first, then non-trainable ones (Keras' order)."""
        return self.trainable_weights + self.non_trainable_weights

    @property
    def gradients(self):
        """Gradient buffers, one per trainable weight, filled by `backward`."""
        return [self._gradients[id(w)] for w in self.trainable_weights]

    # Layers whose backward takes products=True: a weight's gradient is then left as a pair
    # (a, b) with gradient a @ b, which the optimizer's update kernels multiply block by
    # block without storing it (fastops.nn.rmsprop_update and the others).
    product_gradients = False

    def gradient_sources(self):
        """What the last `backward` left for the optimizer, one per trainable weight: the
        gradient buffer, or the pair (a, b) of a product gradient."""
        return self.gradients

    @property
    def regularizers(self):
        """The regularizer (or None) of each trainable weight."""
        return [r for _, _, t, r in self._weights if t and self.trainable]

    def get_weights(self):
        """Copies of the weights, in `weights` order."""
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        """Copy `weights` into the layer: every array is checked before any is changed."""
        check_weights(self.name, self.weights, weights)
        for dst, src in zip(self.weights, weights):
            np.copyto(dst, src, casting="same_kind")

    def count_params(self):
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer '{self.name}', but the "
                             f"layer isn't built. You can build it manually via: "
                             f"`layer.build(input_shape)`.")
        return int(sum(w.size for w in self.weights))

    # ---- computation ----

    def __call__(self, inputs, training=None):
        """The layer's output for the batch `inputs` as a NumPy array (Keras returns a
        backend tensor), building the layer on first use.  training=True raises: fastops
        runs a training pass only inside a step, where its backward pass follows."""
        if training:
            raise ValueError(f"{self.name}: calling a fastops layer with training=True is not "
                             f"supported; fit or train_on_batch run the training pass")
        x = np.asarray(inputs)
        if x.dtype != np.dtype(self.dtype):
            x = x.astype(self.dtype)
        if not self.built:
            self.build((None,) + x.shape[1:])
        return self.forward(x, training=False)

    def forward(self, x, training=False, out=None):
        """The layer's output for the batch x (subclasses)."""
        raise NotImplementedError

    def backward(self, grad, out=None, input_grad=True):
        """Gradients of the last training forward from grad = dL/doutput (subclasses)."""
        raise NotImplementedError

    def __call__(self, x, training=False):
        """Forward on a new array (builds the layer on first use)."""
        x = np.asarray(x)
        if not self.built:
            self.build((None,) + x.shape[1:])
        return self.forward(np.ascontiguousarray(x, dtype=self.dtype), training=training)

    # ---- config ----

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, "dtype": dtype_policy(self.dtype)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("quantization_config", "kernel_constraint", "bias_constraint",
                    "activity_regularizer"):
            if config.get(key, None) is None:
                config.pop(key, None)
        return cls(**config)

    def serialized(self):
        """Keras 3's layer entry of a Sequential config (with its build_config once built)."""
        entry = serialize(self)
        if self.built and self.build_input_shape is not None:
            entry["build_config"] = {"input_shape": list(self.build_input_shape)}
        return entry

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def check_weights(owner, current, weights):
    """ValueError unless `weights` matches `current` in count and shapes (nothing changed)."""
    if isinstance(weights, np.ndarray) or not hasattr(weights, "__len__"):
        raise TypeError(f"set_weights of {owner}: expected a list of arrays, got "
                        f"{type(weights).__name__}")
    if len(weights) != len(current):
        raise ValueError(f"set_weights of {owner}: expected {len(current)} arrays, got "
                         f"{len(weights)}")
    for i, (dst, src) in enumerate(zip(current, weights)):
        src = np.asarray(src)
        if src.shape != dst.shape:
            raise ValueError(f"set_weights of {owner}: array {i} has shape {src.shape}, "
                             f"expected {dst.shape}")
        if src.dtype.kind not in "fiub":
            raise TypeError(f"set_weights of {owner}: array {i} has dtype {src.dtype}, "
                            f"expected numbers")

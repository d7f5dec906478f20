"""Sequential: a linear stack of layers, its structure and config (Keras 3's `Sequential`).

Training lives in fastops.trainer (compile / fit / evaluate / predict), saving in
fastops.saving; this module holds the layers, building, weights, config and summary.

Randomness: `seed` fixes weight initialisation, shuffling and dropout masks, so the same
seed gives the same weights and history bit for bit on the same machine and thread count.
Without a seed one is drawn from NumPy's global RNG (np.random.seed makes runs repeatable).
"""
import json

import numpy as np

from . import config as _config
from ._layer import Layer, check_weights, dtype_policy, unique_name
from ._registry import deserialize, register
from .layers import Dropout, InputLayer, dropout_seed_base
from .trainer import Trainer

__all__ = ["Sequential", "load_model", "clone_model", "model_from_json"]


@register("model", "sequential")
class Sequential(Trainer):
    """A linear stack of layers.

    Args:
        layers: list of layers (an `Input(...)` / InputLayer may come first).
        trainable: whether fit updates the weights.
        name: the model's name (default 'sequential', numbered as Keras does).
        seed: int; fixes initial weights, shuffling and dropout (a fastops addition).

    Example:
        >>> model = Sequential([Input(shape=(784,)), Dense(512, activation='relu'),
        ...                     Dense(10, activation='softmax')])
        >>> model.compile(optimizer='rmsprop', loss='sparse_categorical_crossentropy',
        ...               metrics=['accuracy'])
    """
    keras_module = "keras"

    def __init__(self, layers=None, trainable=True, name=None, seed=None):
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"Sequential: name must be a non-empty string, got {name!r}")
        self.name = name or unique_name("sequential")
        self.trainable = bool(trainable)
        if seed is None:
            seed = int(np.random.randint(0, 2**31 - 1))
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative int or None, got {seed!r}")
        self.seed = int(seed)
        init_seq, shuffle_seq = np.random.SeedSequence(self.seed).spawn(2)
        self._init_rng = np.random.default_rng(init_seq)
        self._shuffle_rng = np.random.default_rng(shuffle_seq)
        self._input = None
        self._layers = []
        self._init_trainer()
        if layers is not None:
            if isinstance(layers, Layer) or not isinstance(layers, (list, tuple)):
                raise TypeError(f"Sequential: layers must be a list, got {type(layers).__name__}")
            for layer in layers:
                self.add(layer)

    # ---- structure ----

    @property
    def layers(self):
        """The layers, without the InputLayer (as Keras 3)."""
        return list(self._layers)

    def add(self, layer):
        """Append a layer; the model is built as soon as its input shape is known."""
        if isinstance(layer, InputLayer):
            if self._input is not None or self._layers:
                raise ValueError("Sequential.add: an Input / InputLayer must be the first layer")
            self._input = layer
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add: expected a fastops layer (fastops.layers.Dense, "
                            f"Dropout, Input), got {type(layer).__name__}")
        if layer.declared_input_shape is not None:
            if self._layers or self._input is not None:
                raise ValueError("Sequential.add: only the first layer may set input_shape")
            self._input = InputLayer(batch_shape=layer.declared_input_shape, dtype=layer.dtype)
        if any(layer is l or layer.name == l.name for l in self._layers):
            raise ValueError(f"All layers added to a Sequential model should have unique names. "
                             f"Name '{layer.name}' is already the name of a layer in this model.")
        self._layers.append(layer)
        if self._input is not None:
            self.build(self._input.shape)

    def pop(self):
        """Remove the last layer (the remaining layers keep their weights)."""
        if not self._layers:
            raise TypeError("There are no layers in the model.")
        return self._layers.pop()

    @property
    def built(self):
        return bool(self._layers) and all(l.built for l in self._layers)

    @property
    def dtype(self):
        return self._layers[0].dtype if self._layers else _config.floatx()

    @property
    def input_dim(self):
        if self._input is not None:
            return self._input.shape[-1]
        if self._layers and self._layers[0].built:
            return self._layers[0].build_input_shape[-1]
        return None

    @property
    def input_shape(self):
        return None if self.input_dim is None else (None, self.input_dim)

    @property
    def output_shape(self):
        if not self.built:
            raise ValueError(f"Sequential model '{self.name}' has no defined outputs yet "
                             f"(not built)")
        return self._layers[-1].output_shape

    def build(self, input_shape=None):
        """Create every layer's weights for inputs of `input_shape` = (None, features)."""
        if not self._layers:
            raise ValueError("Sequential.build: the model has no layers")
        if input_shape is None:
            if self._input is None:
                raise ValueError("Sequential.build: give input_shape, e.g. build((None, 784)), "
                                 "or an Input / input_shape to the first layer")
            input_shape = self._input.shape
        input_shape = tuple(input_shape)
        if len(input_shape) != 2 or isinstance(input_shape[-1], bool) or \
                not isinstance(input_shape[-1], (int, np.integer)) or input_shape[-1] < 1:
            raise ValueError(f"Sequential.build: input_shape must be (None, features), got "
                             f"{input_shape!r}")
        dtypes = {l.dtype for l in self._layers}
        if len(dtypes) > 1:
            raise ValueError(f"Sequential: all layers must share one dtype, got {sorted(dtypes)}")
        if self._input is None:
            self._input = InputLayer(batch_shape=(None, int(input_shape[-1])), dtype=self.dtype)
        shape = (None, int(input_shape[-1]))
        for index, layer in enumerate(self._layers):
            if not layer.built:
                layer.rng = self._init_rng
                layer.build(shape)
            elif layer.build_input_shape[-1] != shape[-1]:
                raise ValueError(f"layer '{layer.name}' was built for {layer.build_input_shape[-1]}"
                                 f" features, but receives {shape[-1]}")
            if isinstance(layer, Dropout) and layer.seed is None and layer.steps == 0:
                layer.seed_base = dropout_seed_base(self.seed, index)
            shape = layer.output_shape

    # ---- weights ----

    @property
    def weights(self):
        return [w for l in self._layers for w in l.weights]

    @property
    def trainable_weights(self):
        return [w for l in self._layers for w in l.trainable_weights] if self.trainable else []

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return [w for l in self._layers for w in l.non_trainable_weights]

    def get_weights(self):
        """Copies of all weights, layer by layer ([kernel, bias] per Dense)."""
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        """Copy `weights` (as get_weights gives them) in; all are checked before any changes."""
        if not self.built:
            raise ValueError("set_weights: the model has not been built")
        weights = list(weights) if isinstance(weights, (list, tuple)) else weights
        check_weights(f"model '{self.name}'", self.weights, weights)
        for dst, src in zip(self.weights, weights):
            np.copyto(dst, src, casting="unsafe")

    def count_params(self):
        if not self.built:
            raise ValueError("You tried to call `count_params` on a model that isn't built. "
                             "Build it with model.build(input_shape) or fit it first.")
        return sum(l.count_params() for l in self._layers)

    def save_weights(self, filepath, overwrite=True):
        """Write the weights to a '.weights.h5' (Keras 3) or '.npz' file, atomically."""
        from . import saving
        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False):
        """Read weights written by save_weights (or by Keras 3); all-or-nothing."""
        from . import saving
        saving.load_weights(self, filepath, skip_mismatch=skip_mismatch)

    def save(self, filepath, overwrite=True, zipped=None):
        """Save the model in Keras 3's '.keras' format (config, weights, compile config)."""
        from . import saving
        saving.save_model(self, filepath, overwrite=overwrite)

    # ---- config ----

    def get_config(self):
        layers = ([self._input.serialized()] if self._input is not None else []) + \
            [l.serialized() for l in self._layers]
        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": dtype_policy(self.dtype), "layers": layers}
        if self._input is not None:
            config["build_input_shape"] = list(self._input.shape)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        if not isinstance(config, dict) or "layers" not in config:
            raise ValueError(f"A Sequential model configuration must be a dictionary containing "
                             f"the 'name' and 'layers' keys. Received: config={config}")
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for layer_config in config["layers"]:
            model.add(deserialize("layer", layer_config))
        shape = config.get("build_input_shape")
        if shape and not model.built:
            model.build(tuple(shape))
        return model

    def to_json(self, **kwargs):
        """The model's architecture as Keras 3's JSON (what config.json of a '.keras' file
        holds, without the compile config); `kwargs` go to json.dumps."""
        from .saving._keras_file import model_config
        return json.dumps(model_config(self), **kwargs)

    def get_layer(self, name=None, index=None):
        """The layer of that name, or at that index (Keras 3: one of the two, index first)."""
        if index is not None and name is not None:
            raise ValueError(f"Provide only a layer name or a layer index. Received: "
                             f"index={index}, name={name}.")
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
                raise TypeError(f"get_layer: index must be an int, got {index!r}")
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only "
                                 f"has {len(self.layers)} layers.")
            return self.layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError(f"No such layer: {name}. Existing layers are: "
                             f"{[layer.name for layer in self.layers]}.")
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Print the layer table in Keras 3's layout."""
        from ._summary import summary_lines
        for line in summary_lines(self):
            (print_fn or print)(line)

    def __repr__(self):
        return f"<Sequential name={self.name}, built={self.built}>"


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Load a model saved with `model.save('m.keras')` (by fastops or Keras 3)."""
    from . import saving
    return saving.load_model(filepath, custom_objects=custom_objects, compile=compile)


def model_from_json(json_string, custom_objects=None):
    """A new model (fresh weights) from the JSON of `model.to_json()` (fastops or Keras 3)."""
    from ._registry import custom_object_scope
    from .saving._keras_file import model_from_config
    try:
        config = json.loads(json_string)
    except (TypeError, json.JSONDecodeError) as e:
        raise ValueError(f"model_from_json: not a model's JSON ({e})") from None
    if not isinstance(config, dict) or config.get("class_name") != "Sequential":
        raise ValueError(f"model_from_json: fastops builds Sequential models, this JSON holds "
                         f"{config.get('class_name') if isinstance(config, dict) else config!r}")
    with custom_object_scope(custom_objects):
        return model_from_config(config)


def clone_model(model):
    """A new, unbuilt-weights copy of `model`'s architecture (fresh weights)."""
    return Sequential.from_config(model.get_config())

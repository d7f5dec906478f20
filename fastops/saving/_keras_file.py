"""The '.keras' file of Keras 3: a zip of config.json, metadata.json and model.weights.h5."""
import datetime
import inspect
import io
import json
import os
import zipfile

from .._atomic import atomic_path
from .._registry import custom_object_scope, serialize
from . import _h5

# The Keras release whose file format this writes (and that reads it back, tested).
KERAS_FORMAT_VERSION = "3.15.1"


def _compile_config(model):
    cc = model.compile_config
    if cc is None:
        return None

    def plain(obj):
        if obj is None or isinstance(obj, (str, dict)):  # a dict: a config read from a file
            return obj
        if isinstance(obj, (list, tuple)):
            return [plain(o) for o in obj]
        if hasattr(obj, "get_config") and hasattr(obj, "keras_module"):
            return serialize(obj)
        if callable(obj) and getattr(obj, "__module__", "") in ("fastops.metrics",
                                                                 "fastops.losses"):
            return obj.__name__  # Keras serializes its own functions by name
        if inspect.isfunction(obj) and obj.__name__ != "<lambda>":
            # Keras 3's entry for a user function; load_model needs it in custom_objects
            return {"module": "builtins", "class_name": "function", "config": obj.__name__,
                    "registered_name": "function"}
        raise ValueError(f"save: cannot serialize {obj!r} in the compile config (a lambda or "
                         f"a callable object); compile with named functions, names or fastops "
                         f"objects to save the model")
    return {"optimizer": serialize(model.optimizer), "loss": plain(cc["loss"]),
            "loss_weights": None, "metrics": plain(cc["metrics"]),
            "weighted_metrics": plain(cc["weighted_metrics"]), "run_eagerly": False,
            "steps_per_execution": 1, "jit_compile": False}


def model_config(model):
    """config.json of a '.keras' file, without its compile config (also model.to_json())."""
    config = {"module": "keras", "class_name": "Sequential", "config": model.get_config(),
              "registered_name": None}
    if model.built:
        config["build_config"] = {"input_shape": list(model.input_shape)}
    return config


def model_from_config(config):
    """A new model (fresh weights) from config.json's entry (the inverse of model_config),
    built when the entry holds its input shape."""
    from ..models import Sequential
    model = Sequential.from_config(config.get("config"))
    shape = (config.get("build_config") or {}).get("input_shape")
    if shape and not model.built:
        model.build(tuple(shape))
    return model


def save_model(model, filepath, overwrite=True):
    """Write `model` (config, weights, optimizer state, compile config) as a '.keras' zip."""
    path = os.fspath(filepath)
    if not path.endswith(".keras"):
        raise ValueError(f"save: the filename must end in `.keras`, got {path!r} (for weights "
                         f"only, use save_weights('...weights.h5'))")
    if not model.built:
        raise ValueError("save: the model has not been built; fit or build it first")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"save: {path} exists and overwrite=False")
    import h5py
    config = model_config(model)
    compile_config = _compile_config(model)
    if compile_config is not None:
        config["compile_config"] = compile_config
    metadata = {"keras_version": KERAS_FORMAT_VERSION,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    weights = io.BytesIO()
    with h5py.File(weights, "w") as h5:
        _h5.write(h5, model, model.optimizer if model.optimizer is not None
                  and model.optimizer.iterations else None)
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w") as z:
            z.writestr("metadata.json", json.dumps(metadata))
            z.writestr("config.json", json.dumps(config))
            z.writestr("model.weights.h5", weights.getvalue())


def load_model(filepath, custom_objects=None, compile=True):
    """A Sequential model from a '.keras' file written by fastops or Keras 3; the names in
    custom_objects ({name: class or function}) resolve to those objects, as in Keras 3."""
    path = os.fspath(filepath)
    if not path.endswith(".keras"):
        raise ValueError(f"load_model: fastops reads Keras 3 '.keras' files, got {path!r}")
    try:
        with zipfile.ZipFile(path) as z:
            config = json.loads(z.read("config.json"))
            weights = z.read("model.weights.h5")
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: not a Keras 3 .keras file ({e})") from None
    if config.get("class_name") != "Sequential":
        raise ValueError(f"{path}: fastops loads Sequential models, this file holds a "
                         f"{config.get('class_name')!r}")
    with custom_object_scope(custom_objects):
        return _load(path, config, weights, compile)


def _metric_objects(entries):
    """The compile config's metric entries with the config dicts built now, while the custom
    objects are in scope (names stay names: 'accuracy' is resolved from the data's shapes)."""
    from .. import metrics
    if not isinstance(entries, list):
        return entries
    return [metrics.get(e) if isinstance(e, dict) else e for e in entries]


def _load(path, config, weights, compile):
    import h5py

    model = model_from_config(config)
    cc = config.get("compile_config") if compile else None
    if cc:
        model.compile(optimizer=cc["optimizer"], loss=cc.get("loss"),
                      metrics=_metric_objects(cc.get("metrics")),
                      weighted_metrics=_metric_objects(cc.get("weighted_metrics")))
        # the entries as the file had them, so a save writes them back as they were (a
        # built metric object would lose the function it wraps)
        model.compile_config.update(metrics=cc.get("metrics"),
                                    weighted_metrics=cc.get("weighted_metrics"))
    with h5py.File(io.BytesIO(weights), "r") as h5:
        arrays = _h5.read_layers(h5, model, path)
        try:
            model.set_weights(arrays)
        except (ValueError, TypeError) as e:
            raise type(e)(f"{path}: {e}") from None
        if cc:
            _h5.read_optimizer(h5, model.optimizer, model.trainable_weights)
    return model

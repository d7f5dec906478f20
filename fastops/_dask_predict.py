"""predict on a dask array: a dask array of outputs, computed block by block where Dask runs.

The model is captured when predict is called: its config and a copy of its weights go into
one graph key (a snapshot), which every block task depends on, so a distributed cluster ships
the weights once per worker that needs them, not once per block.  Each process rebuilds the
model from a snapshot once (cached by its token) and predicts its blocks with it, under the
task thread rule of fastops._dask_threads.  Later changes to the model (another fit) do not
change an array already returned.
"""
import hashlib
import json
import threading
from collections import OrderedDict

import numpy as np

from ._dask_threads import in_task_threads

_BUILT = OrderedDict()  # token -> model rebuilt in this process (a few, most recent last)
_BUILT_LOCK = threading.Lock()
_KEEP = 4


class ModelSnapshot:
    """A model's config and weights, picklable, with a token naming exactly this content."""

    def __init__(self, model):
        self.config = model.get_config()
        self.class_name = type(model).__name__
        self.weights = model.get_weights()
        digest = hashlib.sha256(json.dumps(self.config, sort_keys=True, default=str).encode())
        for w in self.weights:
            digest.update(str((w.dtype.str, w.shape)).encode())
            digest.update(np.ascontiguousarray(w).data)
        self.token = digest.hexdigest()[:32]

    def __dask_tokenize__(self):
        return ("fastops.ModelSnapshot", self.token)

    def model(self):
        """The model rebuilt from this snapshot (once per process)."""
        with _BUILT_LOCK:
            built = _BUILT.get(self.token)
            if built is not None:
                _BUILT.move_to_end(self.token)
                return built
        from .models import Sequential
        built = Sequential.from_config(self.config)
        built.set_weights(self.weights)
        with _BUILT_LOCK:
            _BUILT[self.token] = built
            while len(_BUILT) > _KEEP:
                _BUILT.popitem(last=False)
        return built


def _predict_block(x, snapshot, batch_size):
    with in_task_threads():
        return snapshot.model().predict(x, batch_size=batch_size, verbose=0)


def predict_dask(model, x, batch_size):
    """model.predict over the row blocks of a 2-D dask array x, lazily."""
    import dask
    import dask.array as da
    if x.ndim != 2:
        raise ValueError(f"x must be 2-D (samples, features), got shape {x.shape}")
    if x.dtype.kind not in "fiub":
        raise TypeError(f"x must be a numeric array, got dtype {x.dtype}")
    if model.input_dim is not None and x.shape[1] != model.input_dim:
        raise ValueError(f"x has {x.shape[1]} features per sample (shape {x.shape}) but the "
                         f"model expects input_shape=({model.input_dim},)")
    if not model.built:
        model.build((None, x.shape[1]))
    if len(x.chunks[1]) > 1:
        x = x.rechunk({1: -1})  # a row needs all its features at once
    snapshot = ModelSnapshot(model)
    weights = dask.delayed(snapshot, pure=True, name=f"fastops-model-{snapshot.token}")
    units = tuple(model.output_shape[1:])
    return da.blockwise(_predict_block, "ij", x, "ik", weights, None, batch_size, None,
                        new_axes={"j": units[0]}, concatenate=True,
                        dtype=np.dtype(model.dtype),
                        meta=np.empty((0, 0), model.dtype))

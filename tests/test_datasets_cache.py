"""Regression tests of issue 9 ("Lost data"): a verified dataset is returned, with one warning
naming the cache folder and the reason, even when the cache cannot hold it, and is not fetched
again on the next call; leftovers of killed writes are removed by owner pid and age; an
explicit path that fails verification is an error naming the file."""
import os
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
from test_datasets_support import (assert_same, env, homes, keras_cache_serves,  # noqa: F401
                                   leftovers, make_unwritable, no_pip, npz_bytes)

from fastops import _atomic
from fastops.datasets import mnist


def load_quietly():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return mnist.load_data()


def assert_one_uncached_warning(record, folder, reason):
    messages = [str(w.message) for w in record if "cannot be cached" in str(w.message)]
    assert len(messages) == 1, messages
    assert f"cannot be cached in {folder} (" in messages[0]
    assert reason in messages[0]


@pytest.mark.parametrize("odd_cache", ["read_only_folder", "file_where_folder_should_be",
                                       "folder_named_like_the_file"])
def test_verified_fetch_is_returned_when_the_cache_cannot_hold_it(env, monkeypatch, odd_cache):
    if odd_cache == "read_only_folder":
        make_unwritable(env.cache, monkeypatch)
        reason = "Permission denied"
    elif odd_cache == "file_where_folder_should_be":
        env.cache.parent.mkdir(parents=True)
        env.cache.write_bytes(b"a file, not a folder")
        reason = "exists"
    else:
        (env.npz / "inside").mkdir(parents=True)
        reason = "not a regular file"
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert_same(mnist.load_data(), env.arrays)
    assert_one_uncached_warning(record, env.cache, reason)
    assert (env.homes.spare / "mnist.npz").is_file()
    assert leftovers(env.homes.spare) == []

    # the next call is served by the spare copy: no second conversion, no second warning
    monkeypatch.setattr(mnist, "_pip_download", no_pip)
    assert_same(load_quietly(), env.arrays)
    assert len(env.pip_calls) == 1


def test_spare_copy_moves_into_the_cache_once_it_is_writable(env, monkeypatch):
    writable_again = make_unwritable(env.cache, monkeypatch)
    with pytest.warns(RuntimeWarning, match="cannot be cached"):
        assert_same(mnist.load_data(), env.arrays)
    assert not env.npz.exists()
    writable_again()
    monkeypatch.setattr(mnist, "_pip_download", no_pip)
    assert_same(load_quietly(), env.arrays)
    assert env.npz.is_file() and not (env.homes.spare / "mnist.npz").exists()
    assert_same(load_quietly(), env.arrays)  # now from the cache itself


def test_spare_folder_of_someone_else_is_not_used_but_data_is_returned(env, monkeypatch):
    make_unwritable(env.cache, monkeypatch)
    elsewhere = env.tmp / "elsewhere"
    elsewhere.mkdir()
    # a link planted where fastops' own temp folder goes: never followed
    env.homes.spare.parent.symlink_to(elsewhere, target_is_directory=True)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert_same(mnist.load_data(), env.arrays)
    assert_one_uncached_warning(record, env.cache, "Permission denied")
    assert "not kept anywhere" in str(record[-1].message)
    assert list(elsewhere.iterdir()) == []
    assert [p.name for p in env.homes.temp.iterdir()] == [env.homes.spare.parent.name]


def test_corrupt_cache_is_dropped_when_keras_cache_serves(env, monkeypatch):
    keras_cache_serves(env, monkeypatch)
    env.cache.mkdir(parents=True)
    env.npz.write_bytes(b"junk")
    with pytest.warns(RuntimeWarning, match="corrupt"):
        assert_same(mnist.load_data(), env.arrays)
    assert not env.npz.exists()  # so the warning is not repeated on every call
    assert_same(load_quietly(), env.arrays)


def dead_pid():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_leftovers_of_killed_writes_are_removed_by_owner_and_age(env):
    env.cache.mkdir(parents=True)
    env.npz.write_bytes(npz_bytes(env.arrays))
    day_old = time.time() - _atomic.STALE_AFTER_SECONDS - 60
    dead = env.cache / f".mnist.npz.tmp-{dead_pid()}-abc"
    ours = env.cache / f".mnist.npz.tmp-{os.getpid()}-def"      # a write in progress
    ours_old = env.cache / f".mnist.npz.tmp-{os.getpid()}-ghi"  # pid reused a day later
    legacy_old = env.cache / "mnist.npz.part_xyz"               # fastops 0.1, no pid
    legacy_new = env.cache / "mnist.npz.part_uvw"
    other = env.cache / ".other.npz.tmp-1-x"                    # another file's: not ours
    for p in (dead, ours, ours_old, legacy_old, legacy_new, other):
        p.write_bytes(b"half")
    for p in (ours_old, legacy_old):
        os.utime(p, (day_old, day_old))
    assert_same(load_quietly(), env.arrays)
    left = {p.name for p in env.cache.iterdir()}
    assert left == {"mnist.npz", ours.name, legacy_new.name, other.name}


@pytest.mark.parametrize("bad", ["junk", "folder", "other_data"])
def test_explicit_path_that_fails_is_an_error_naming_it(env, bad):
    target = env.tmp / "mine.npz"
    if bad == "junk":
        target.write_bytes(b"junk")
    elif bad == "folder":
        target.mkdir()
    else:
        other = {k: v.copy() for k, v in env.arrays.items()}
        other["y_test"] = (other["y_test"] + 1) % 10
        target.write_bytes(npz_bytes(other))
    before = target.read_bytes() if target.is_file() else None
    with pytest.raises(OSError, match=f"{target} is not a valid MNIST npz"):
        mnist.load_data(path=target)
    assert (target.read_bytes() if target.is_file() else None) == before
    assert env.pip_calls == []  # failed before any source was tried


def test_nothing_is_kept_when_the_write_fails_at_the_rename(env, monkeypatch):
    real_replace = os.replace

    def failing_replace(src, dst):
        if str(dst) == str(env.npz):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(_atomic.os, "replace", failing_replace)
    with pytest.warns(RuntimeWarning, match="No space left on device"):
        assert_same(mnist.load_data(), env.arrays)
    assert not env.npz.exists() and leftovers(env.cache) == []
    np.testing.assert_array_equal(mnist.load_data()[1][1], env.arrays["y_test"])


def test_spare_folder_others_may_write_in_is_not_used(env, monkeypatch):
    make_unwritable(env.cache, monkeypatch)
    env.homes.spare.parent.mkdir(mode=0o777)
    env.homes.spare.parent.chmod(0o777)
    with pytest.warns(RuntimeWarning, match="not kept anywhere"):
        assert_same(mnist.load_data(), env.arrays)
    assert not env.homes.spare.exists()

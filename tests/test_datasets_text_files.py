"""IMDB and Reuters files: sources and their failures, pickle safety, the word index, and
argument checks made before any file work."""
import json
from pathlib import Path

import numpy as np
import pytest
from test_datasets_support import (UNREACHABLE, homes, leftovers, md5,  # noqa: F401
                                   no_file_work, npz_bytes, sha256)
from test_datasets_text import (assert_matches, imdb_arrays, imdb_file,  # noqa: F401
                                keras_reference, reuters_arrays, reuters_file)

from fastops.datasets import imdb, reuters


# ----------------------------------------------------------------------------- sources

def test_keras_cache_is_read_in_place_and_a_download_is_cached(homes, monkeypatch):
    a = imdb_arrays(seed=3)
    data = npz_bytes(a, compressed=False)
    monkeypatch.setattr(imdb, "SHA256", sha256(data))
    expected = keras_reference([(a["x_train"], a["y_train"]), (a["x_test"], a["y_test"])])

    homes.keras.mkdir(parents=True)
    (homes.keras / "imdb.npz").write_bytes(data)
    monkeypatch.setattr(imdb, "URL", UNREACHABLE + "imdb.npz")
    assert_matches(imdb.load_data(), expected, a["y_train"].dtype)
    assert not (homes.cache / "imdb.npz").exists()  # read in place, not copied

    (homes.keras / "imdb.npz").unlink()
    served = homes.tmp / "served.npz"
    served.write_bytes(data)
    monkeypatch.setattr(imdb, "URL", served.as_uri())
    assert_matches(imdb.load_data(), expected, a["y_train"].dtype)
    assert (homes.cache / "imdb.npz").read_bytes() == data
    assert leftovers(homes.cache) == []


def test_corrupt_cache_is_fetched_again_with_a_warning(imdb_file, monkeypatch):
    a, data, homes = imdb_file
    (homes.cache / "imdb.npz").write_bytes(data[:-10])
    served = homes.tmp / "served.npz"
    served.write_bytes(data)
    monkeypatch.setattr(imdb, "URL", served.as_uri())
    with pytest.warns(RuntimeWarning, match="imdb.npz is corrupt"):
        imdb.load_data()
    assert (homes.cache / "imdb.npz").read_bytes() == data


def test_no_source_lists_every_place_and_the_digest(homes, monkeypatch):
    monkeypatch.setattr(imdb, "URL", UNREACHABLE + "imdb.npz")
    with pytest.raises(OSError) as info:
        imdb.load_data()
    msg = str(info.value)
    assert f"{homes.keras / 'imdb.npz'}: not found" in msg
    assert "127.0.0.1:9/imdb.npz: cannot reach it" in msg
    assert f"Put the file by hand at {homes.cache / 'imdb.npz'} (sha256 {imdb.SHA256}" in msg


@pytest.mark.parametrize("module", [imdb, reuters])
def test_explicit_path_not_keras_file_is_an_error_naming_it(homes, module, tmp_path):
    mine = tmp_path / "mine.npz"
    mine.write_bytes(npz_bytes(reuters_arrays(), compressed=False))
    with pytest.raises(OSError, match=f"{mine} is not a valid .* npz .*sha256"):
        module.load_data(path=mine)
    with pytest.raises(OSError, match=f"{tmp_path} is not a valid"):
        module.load_data(path=tmp_path)


# ----------------------------------------------------------------------------- pickle safety

class _Planted:
    """Unpickling this calls Path.touch(marker): a stand-in for any code a file could run."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return Path.touch, (Path(self.marker),)


def planted_npz(marker):
    x = np.empty(1, dtype=object)
    x[0] = _Planted(marker)
    return npz_bytes({"x_train": x, "y_train": np.array([0]), "x_test": x,
                      "y_test": np.array([0])}, compressed=False)


def test_a_file_that_is_not_keras_own_is_never_unpickled(homes, monkeypatch):
    marker = homes.tmp / "code-ran"
    homes.cache.mkdir(parents=True)
    (homes.cache / "imdb.npz").write_bytes(planted_npz(marker))
    monkeypatch.setattr(imdb, "URL", UNREACHABLE + "imdb.npz")
    with pytest.warns(RuntimeWarning, match="differs from Keras' imdb.npz"):
        with pytest.raises(OSError):
            imdb.load_data()
    assert not marker.exists()


def test_even_a_verified_file_unpickles_only_arrays(homes, monkeypatch):
    marker = homes.tmp / "code-ran"
    data = planted_npz(marker)
    homes.cache.mkdir(parents=True)
    (homes.cache / "imdb.npz").write_bytes(data)
    monkeypatch.setattr(imdb, "SHA256", sha256(data))
    monkeypatch.setattr(imdb, "URL", UNREACHABLE + "imdb.npz")
    with pytest.warns(RuntimeWarning, match="refusing to load pathlib"):
        with pytest.raises(OSError):
            imdb.load_data()
    assert not marker.exists()


def test_np_load_never_allows_pickles(imdb_file, reuters_file, monkeypatch):
    calls = []
    real_load = np.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("allow_pickle", False))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(np, "load", spy)
    imdb.load_data()
    reuters.load_data()
    assert True not in calls


# ----------------------------------------------------------------------------- word index

@pytest.mark.parametrize("module", [imdb, reuters])
def test_word_index_sources_and_verification(homes, monkeypatch, module):
    index = {"the": 1, "and": 2, "é": 3}
    data = json.dumps(index).encode()
    monkeypatch.setattr(module, "WORD_INDEX_MD5", md5(data))
    served = homes.tmp / "served.json"
    served.write_bytes(data)
    monkeypatch.setattr(module, "WORD_INDEX_URL", served.as_uri())
    assert module.get_word_index() == index
    cached = homes.cache / module.WORD_INDEX_NAME
    assert cached.read_bytes() == data

    cached.write_bytes(b"{}")  # valid JSON, but not Keras' file
    with pytest.warns(RuntimeWarning, match="corrupt .*md5"):
        assert module.get_word_index() == index
    cached.unlink()
    monkeypatch.setattr(module, "WORD_INDEX_URL", UNREACHABLE + "index.json")
    homes.keras.mkdir(parents=True, exist_ok=True)
    (homes.keras / module.WORD_INDEX_NAME).write_bytes(data)
    assert module.get_word_index() == index and not cached.exists()

    bad = b"[1, 2]"
    (homes.keras / module.WORD_INDEX_NAME).write_bytes(bad)
    monkeypatch.setattr(module, "WORD_INDEX_MD5", md5(bad))
    with pytest.raises(OSError, match="not a {word: index} mapping"):
        module.get_word_index()


# ----------------------------------------------------------------------------- arguments

BAD_TEXT_ARGS = [
    ({"num_words": -1}, ValueError, "num_words must be >= 1"),
    ({"num_words": 0}, ValueError, "num_words must be >= 1"),
    ({"num_words": 2.5}, TypeError, "num_words must be an int or None"),
    ({"num_words": True}, TypeError, "num_words must be an int or None"),
    ({"skip_top": -1}, ValueError, "skip_top must be >= 0"),
    ({"skip_top": None}, TypeError, "skip_top must be an int"),
    ({"maxlen": 0}, ValueError, "maxlen must be >= 1"),
    ({"maxlen": "100"}, TypeError, "maxlen must be an int or None"),
    ({"seed": "x"}, TypeError, "seed must be an int"),
    ({"seed": -1}, ValueError, "seed must be >= 0"),
    ({"seed": 2**32}, ValueError, "seed must be <= 4294967295"),
    ({"start_char": -1}, ValueError, "start_char must be >= 0"),
    ({"start_char": 1.0}, TypeError, "start_char must be an int or None"),
    ({"oov_char": "2"}, TypeError, "oov_char must be an int or None"),
    ({"index_from": None}, TypeError, "index_from must be an int"),
    ({"index_from": -3}, ValueError, "index_from must be >= 0"),
    ({"index_from": 2**70}, ValueError, "index_from must be <="),
    ({"path": 3}, TypeError, "path must be a str"),
    ({"nb_words": 10}, TypeError, "nb_words"),
]
BAD_SPLITS = [
    ({"test_split": 1.5}, ValueError, r"test_split must be in \[0, 1\]"),
    ({"test_split": -0.1}, ValueError, "test_split must be in"),
    ({"test_split": float("nan")}, ValueError, "test_split must be in"),
    ({"test_split": "0.2"}, TypeError, "test_split must be a float"),
    ({"test_split": None}, TypeError, "test_split must be a float"),
]


@pytest.mark.parametrize("kwargs, error, match", BAD_TEXT_ARGS)
@pytest.mark.parametrize("module", [imdb, reuters])
def test_bad_arguments_are_refused_before_any_file_work(no_file_work, module, kwargs, error,
                                                        match):
    with pytest.raises(error, match=match):
        module.load_data(**kwargs)


@pytest.mark.parametrize("kwargs, error, match", BAD_SPLITS)
def test_bad_test_split_is_refused_before_any_file_work(no_file_work, kwargs, error, match):
    with pytest.raises(error, match=match):
        reuters.load_data(**kwargs)


@pytest.mark.parametrize("module", [imdb, reuters])
def test_word_index_path_is_checked_first(no_file_work, module):
    with pytest.raises(TypeError, match="path must be a str"):
        module.get_word_index(path=b"index.json")


@pytest.mark.parametrize("enabled", [True, False])
def test_garbage_collector_state_is_restored(imdb_file, enabled):
    import gc
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        imdb.load_data()
        with pytest.raises(ValueError):
            imdb.load_data(maxlen=2)
        assert gc.isenabled() == enabled
    finally:
        (gc.enable if was else gc.disable)()

"""IMDB and Reuters: Keras 3's encoding (checked against a plain-Python transcription of
Keras' algorithm, and against keras.datasets itself when Keras is installed), the sources and
their failures, pickle safety, and argument checks.  The data are small files in Keras'
format written here; the module's digests are patched to the digests computed here.
"""
import itertools
import json
import os
from pathlib import Path

import numpy as np
import pytest
from test_datasets_support import (UNREACHABLE, homes, keras_datasets,  # noqa: F401
                                   leftovers, md5, no_file_work, npz_bytes, object_array,
                                   random_sequences, sha256)

from fastops.datasets import _fetch, imdb, reuters
from fastops.datasets._npz import read_object_npz


def _npz_read(path):
    return read_object_npz(path, ("x", "y"))


# ----------------------------------------------------------------------------- the reference

def keras_reference(splits, num_words=None, skip_top=0, maxlen=None, seed=113,
                    start_char=1, oov_char=2, index_from=3, test_split=None):
    """Keras 3.15.1's imdb.load_data / reuters.load_data after the file is read, written out
    in plain Python from keras/src/datasets/{imdb,reuters}.py:

    - one np.random.RandomState(seed); each (x, y) pair in order is permuted by
      `idx = np.arange(n); rng.shuffle(idx)`;
    - each sequence becomes [start_char] (if not None) + [w + index_from for w];
    - if maxlen: only sequences with len < maxlen are kept (IMDB: ValueError if a split
      ends up empty);
    - num_words, if falsy, is the largest index over all kept sequences;
    - each w with not (skip_top <= w < num_words) becomes oov_char, or is dropped if
      oov_char is None;
    - IMDB returns the train and test parts; Reuters splits its single set at
      int(n * (1 - test_split)).
    `splits` is a list of (x, y) pairs: [train, test] for IMDB, [all] for Reuters.
    Returns lists: [(sequences, labels), ...].
    """
    rng = np.random.RandomState(seed)
    parts = []
    for x, y in splits:
        idx = np.arange(len(x))
        rng.shuffle(idx)
        seqs = [([start_char] if start_char is not None else []) +
                [w + index_from for w in x[i]] for i in idx]
        labels = [y[i] for i in idx]
        if maxlen:
            kept = [i for i, s in enumerate(seqs) if len(s) < maxlen]
            seqs, labels = [seqs[i] for i in kept], [labels[i] for i in kept]
            if test_split is None and not seqs:
                raise ValueError("no sequence was kept")
        parts.append((seqs, labels))
    everything = [s for seqs, _ in parts for s in seqs]
    top = num_words or max(max(s) for s in everything)

    def limit(s):
        if oov_char is None:
            return [w for w in s if skip_top <= w < top]
        return [w if skip_top <= w < top else oov_char for w in s]

    out = []
    for seqs, labels in parts:
        out.append(([limit(s) for s in seqs], labels))
    if test_split is not None:
        seqs, labels = out[0]
        cut = int(len(seqs) * (1 - test_split))
        out = [(seqs[:cut], labels[:cut]), (seqs[cut:], labels[cut:])]
    return out


def as_lists(x):
    return [list(s) for s in x]


def assert_matches(result, expected, label_dtype):
    for (x, y), (seqs, labels) in zip(result, expected):
        assert x.dtype == object and x.ndim == 1
        assert as_lists(x) == seqs
        assert all(type(w) is int for s in x for w in s)  # Python ints, as Keras
        assert y.dtype == label_dtype
        assert y.tolist() == [int(v) for v in labels]


# ----------------------------------------------------------------------------- files

def imdb_arrays(seed=0, n_train=40, n_test=30):
    rng = np.random.default_rng(seed)
    return {"x_train": object_array(random_sequences(rng, n_train, 60, 12)),
            "y_train": rng.integers(0, 2, n_train),
            "x_test": object_array(random_sequences(rng, n_test, 60, 12)),
            "y_test": rng.integers(0, 2, n_test)}


def reuters_arrays(seed=1, n=70):
    rng = np.random.default_rng(seed)
    return {"x": object_array(random_sequences(rng, n, 80, 15)), "y": rng.integers(0, 46, n)}


@pytest.fixture
def imdb_file(homes, monkeypatch):
    """Keras-format imdb.npz in the fastops cache (object arrays pickled by np.savez)."""
    a = imdb_arrays()
    data = npz_bytes(a, compressed=False)
    homes.cache.mkdir(parents=True, exist_ok=True)
    (homes.cache / "imdb.npz").write_bytes(data)
    monkeypatch.setattr(imdb, "SHA256", sha256(data))
    monkeypatch.setattr(imdb, "URL", UNREACHABLE + "imdb.npz")
    return a, data, homes


@pytest.fixture
def reuters_file(homes, monkeypatch):
    a = reuters_arrays()
    data = npz_bytes(a, compressed=False)
    homes.cache.mkdir(parents=True, exist_ok=True)
    (homes.cache / "reuters.npz").write_bytes(data)
    monkeypatch.setattr(reuters, "SHA256", sha256(data))
    monkeypatch.setattr(reuters, "URL", UNREACHABLE + "reuters.npz")
    return a, data, homes


# every combination of the options' regimes: None or a value for each optional one, 0 or
# not for skip_top and index_from
TEXT_ARGS = [dict(zip(("num_words", "skip_top", "maxlen", "start_char", "oov_char",
                       "index_from"), v))
             for v in itertools.product((None, 20), (0, 5), (None, 9), (1, None), (2, None),
                                        (3, 0))]


def ids(kwargs):
    return ",".join(map(str, kwargs.values()))


# ----------------------------------------------------------------------------- encoding

@pytest.mark.parametrize("kwargs", TEXT_ARGS, ids=ids)
def test_imdb_matches_the_transcription_of_keras(imdb_file, kwargs):
    a, _, _ = imdb_file
    expected = keras_reference([(a["x_train"], a["y_train"]), (a["x_test"], a["y_test"])],
                               **kwargs)
    assert_matches(imdb.load_data(**kwargs), expected, a["y_train"].dtype)


@pytest.mark.parametrize("kwargs", TEXT_ARGS, ids=ids)
def test_reuters_matches_the_transcription_of_keras(reuters_file, kwargs):
    a, _, _ = reuters_file
    expected = keras_reference([(a["x"], a["y"])], test_split=0.2, **kwargs)
    assert_matches(reuters.load_data(**kwargs), expected, a["y"].dtype)


@pytest.mark.parametrize("seed", [0, 7, 2**32 - 1, np.int64(5)])
@pytest.mark.parametrize("test_split", [0.0, 1.0, 0.5, np.float32(0.3)])
def test_seeds_and_splits_match_the_transcription_of_keras(imdb_file, seed, test_split):
    a, _, homes = imdb_file
    expected = keras_reference([(a["x_train"], a["y_train"]), (a["x_test"], a["y_test"])],
                               seed=seed)
    assert_matches(imdb.load_data(seed=seed), expected, a["y_train"].dtype)
    r = reuters_arrays()
    data = npz_bytes(r, compressed=False)
    (homes.cache / "other.npz").write_bytes(data)
    expected = keras_reference([(r["x"], r["y"])], test_split=test_split, seed=seed)
    got = reuters.encode(_npz_read(homes.cache / "other.npz"), test_split=test_split,
                         seed=seed, num_words=None, skip_top=0, maxlen=None, start_char=1,
                         oov_char=2, index_from=3)
    assert_matches(got, expected, r["y"].dtype)


def test_num_words_none_turns_the_largest_index_into_oov_as_keras():
    """A consequence of Keras' strict `w < num_words` with num_words = the largest index."""
    a = {"x_train": object_array([[1, 2, 3]]), "y_train": np.array([1]),
         "x_test": object_array([[2]]), "y_test": np.array([0])}
    (x_train, _), (x_test, _) = imdb.encode(a, num_words=None, skip_top=0, maxlen=None,
                                            seed=0, start_char=None, oov_char=9, index_from=0)
    assert as_lists(x_train) == [[1, 2, 9]] and as_lists(x_test) == [[2]]


def test_imdb_maxlen_that_keeps_nothing_is_keras_value_error(imdb_file):
    with pytest.raises(ValueError, match="no sequence was kept. Increase maxlen"):
        imdb.load_data(maxlen=2)  # every sequence has a word plus the start character


def test_reuters_maxlen_that_keeps_nothing_is_a_value_error(reuters_file):
    with pytest.raises(ValueError, match="no sequence was kept. Increase maxlen"):
        reuters.load_data(maxlen=2)


@pytest.mark.parametrize("kwargs", TEXT_ARGS[::5], ids=ids)
def test_imdb_matches_keras_itself(imdb_file, keras_datasets, kwargs):
    _, _, homes = imdb_file
    keras_datasets["point_at"](keras_datasets["imdb"], homes.cache / "imdb.npz")
    ours = imdb.load_data(**kwargs)
    theirs = keras_datasets["imdb"].load_data(**kwargs)
    for (x, y), (kx, ky) in zip(ours, theirs):
        assert as_lists(x) == as_lists(kx)
        assert y.dtype == ky.dtype and y.tolist() == ky.tolist()


@pytest.mark.parametrize("kwargs", TEXT_ARGS[::5], ids=ids)
def test_reuters_matches_keras_itself(reuters_file, keras_datasets, kwargs):
    _, _, homes = reuters_file
    keras_datasets["point_at"](keras_datasets["reuters"], homes.cache / "reuters.npz")
    for test_split in (0.2, 0.5):
        ours = reuters.load_data(test_split=test_split, **kwargs)
        theirs = keras_datasets["reuters"].load_data(test_split=test_split, **kwargs)
        for (x, y), (kx, ky) in zip(ours, theirs):
            assert as_lists(x) == as_lists(kx)
            assert y.dtype == ky.dtype and y.tolist() == ky.tolist()
    assert reuters.get_label_names() == tuple(keras_datasets["reuters"].get_label_names())


def test_reuters_label_names():
    names = reuters.get_label_names()
    assert len(names) == len(set(names)) == 46
    assert (names[0], names[3], names[4], names[45]) == ("cocoa", "earn", "acq", "lead")


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

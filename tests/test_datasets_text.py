"""IMDB and Reuters: Keras 3's encoding (checked against a plain-Python transcription of
Keras' algorithm, and against keras.datasets itself when Keras is installed), the sources and
their failures, pickle safety, and argument checks.  The data are small files in Keras'
format written here; the module's digests are patched to the digests computed here.
"""
import itertools

import numpy as np
import pytest
from test_datasets_support import (UNREACHABLE, homes, keras_datasets,  # noqa: F401
                                   npz_bytes, object_array, random_sequences, sha256)

from fastops.datasets import imdb, reuters
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


def cached_keras_file(module, a, homes, monkeypatch):
    """`a` as the module's Keras-format npz in the fastops cache (object arrays pickled by
    np.savez), declared to be Keras' file; no download."""
    data = npz_bytes(a, compressed=False)
    homes.cache.mkdir(parents=True, exist_ok=True)
    (homes.cache / module.FILE_NAME).write_bytes(data)
    monkeypatch.setattr(module, "SHA256", sha256(data))
    monkeypatch.setattr(module, "URL", UNREACHABLE + module.FILE_NAME)
    return a, data, homes


@pytest.fixture
def imdb_file(homes, monkeypatch):
    return cached_keras_file(imdb, imdb_arrays(), homes, monkeypatch)


@pytest.fixture
def reuters_file(homes, monkeypatch):
    return cached_keras_file(reuters, reuters_arrays(), homes, monkeypatch)


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

"""What IMDB and Reuters share: argument checks, Keras' sequence encoding, the word index.

The encoding reproduces keras/src/datasets/imdb.py and reuters.py of Keras 3.15.1 (and
remove_long_seq of keras/src/utils/python_utils.py), step for step:

1. Shuffle: one np.random.RandomState(seed); per array pair, in order (IMDB: train, then
   test, from the same generator; Reuters: the whole set), `idx = arange(n)`,
   `rng.shuffle(idx)`, then `x[idx]`, `y[idx]`.
2. Shift: every word w becomes w + index_from, and start_char (unless None) is put first.
3. maxlen, when given: a sequence is kept only if its length, start character included,
   is strictly below maxlen.
4. num_words, when None: the largest index left in all kept sequences (IMDB: train and
   test together).  The bound in 5 is strict, so that largest word itself becomes oov_char,
   as in Keras.
5. Every w outside skip_top <= w < num_words, the start character included, becomes
   oov_char, or is dropped when oov_char is None.

Keras does this with Python lists; here the sequences are held as one flat int64 array and
their lengths, so each step is a NumPy pass, and the result is made into Python lists of
Python ints (Keras' types) once at the end.
"""
import contextlib
import gc
import itertools
import json

import numpy as np

from . import _fetch
from ._checks import int_arg, path_arg, seed_arg
from ._npz import read_object_npz

_INDEX_MAX = 2**62  # int64 arithmetic stays exact for every word index below this


@contextlib.contextmanager
def gc_paused():
    """Pause the cyclic garbage collector while millions of lists of ints (which hold no
    cycles) are made: its passes over them took 45% of an IMDB-sized load."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def check_args(num_words, skip_top, maxlen, seed, start_char, oov_char, index_from):
    """The checked arguments, as a dict; TypeError or ValueError naming the bad one."""
    return {
        "num_words": int_arg(num_words, "num_words", minimum=1, allow_none=True,
                             maximum=_INDEX_MAX),
        "skip_top": int_arg(skip_top, "skip_top", maximum=_INDEX_MAX),
        "maxlen": int_arg(maxlen, "maxlen", minimum=1, allow_none=True),
        "seed": seed_arg(seed),
        "start_char": int_arg(start_char, "start_char", allow_none=True, maximum=_INDEX_MAX),
        "oov_char": int_arg(oov_char, "oov_char", allow_none=True, maximum=_INDEX_MAX),
        "index_from": int_arg(index_from, "index_from", maximum=_INDEX_MAX),
    }


def check_sequences(arrays, pairs):
    """Raise Rejected unless each (x, y) pair is a 1-D object array of sequences and a 1-D
    integer array of the same length."""
    for xk, yk in pairs:
        x, y = arrays[xk], arrays[yk]
        if x.ndim != 1 or x.dtype != object:
            raise _fetch.Rejected(f"{xk} is {x.dtype}{x.shape}, expected 1-D object")
        if y.shape != x.shape or y.dtype.kind not in "iu":
            raise _fetch.Rejected(f"{yk} is {y.dtype}{y.shape}, expected integers {x.shape}")


def shuffle(rng, x, y):
    """Keras' shuffle of one (x, y) pair (step 1)."""
    idx = np.arange(len(x))
    rng.shuffle(idx)
    return x[idx], y[idx]


def to_flat(x):
    """(words, lengths) of an object array of sequences."""
    lengths = np.fromiter((len(s) for s in x), dtype=np.int64, count=len(x))
    words = np.fromiter(itertools.chain.from_iterable(x), dtype=np.int64,
                        count=int(lengths.sum()))
    return words, lengths


def shift(words, lengths, start_char, index_from):
    """Step 2."""
    words = words + index_from
    if start_char is None:
        return words, lengths
    starts = np.cumsum(lengths + 1) - (lengths + 1)
    out = np.empty(words.size + lengths.size, dtype=np.int64)
    is_start = np.zeros(out.size, dtype=bool)
    is_start[starts] = True
    out[starts] = start_char
    out[~is_start] = words
    return out, lengths + 1


def keep_shorter(words, lengths, y, maxlen):
    """Step 3: the sequences shorter than maxlen, with their labels."""
    keep = lengths < maxlen
    return words[np.repeat(keep, lengths)], lengths[keep], y[keep]


def limit_vocabulary(words, lengths, num_words, skip_top, oov_char):
    """Steps 4 and 5."""
    if num_words is None:
        num_words = int(words.max()) if words.size else 0
    inside = (words >= skip_top) & (words < num_words)
    if oov_char is not None:
        return np.where(inside, words, oov_char), lengths
    owner = np.repeat(np.arange(lengths.size), lengths)
    return words[inside], np.bincount(owner[inside], minlength=lengths.size).astype(np.int64)


def to_object_array(words, lengths):
    """A 1-D object array of Python lists of Python ints (Keras' result types)."""
    values = words.tolist()
    ends = np.cumsum(lengths).tolist()
    starts = [0] + ends[:-1]
    return np.fromiter((values[a:b] for a, b in zip(starts, ends)), dtype=object,
                       count=len(ends))


def keras_npz(name, url, sha256, path, what, pairs):
    """Keras' npz of sequences `name` (`pairs`: its (x, y) keys), from `path`, Keras' cache
    read in place or Keras' download; unpickled only once its sha256 is Keras'."""
    path_arg(path)

    def verify(p):
        _fetch.digest_is(sha256, label=f"Keras' {name}")(p)
        a = read_object_npz(p, tuple(k for pair in pairs for k in pair))
        check_sequences(a, pairs)
        return a

    return _fetch.get_file(
        name, [_fetch.Local(_fetch.keras_cached(path, name)), _fetch.Url(url)], verify,
        path=path, what=what, expected=f"sha256 {sha256}, Keras' {name}",
        hint=f"That file is Keras' {url}.")


def word_index(name, url, md5, path, what):
    """Keras' word-index JSON ({word: rank}), verified by the md5 Keras publishes."""
    path_arg(path)

    def verify(p):
        _fetch.digest_is(md5, "md5", "Keras' file")(p)
        try:
            with open(p, encoding="utf-8") as f:
                index = json.load(f)
        except (UnicodeDecodeError, ValueError) as e:
            raise _fetch.Rejected(f"not JSON ({e})") from None
        if not isinstance(index, dict) or not all(
                isinstance(k, str) and type(v) is int for k, v in index.items()):
            raise _fetch.Rejected("not a {word: index} mapping")
        return index

    return _fetch.get_file(
        name, [_fetch.Local(_fetch.keras_cached(path, name)), _fetch.Url(url)], verify,
        path=path, what=what, expected=f"md5 {md5}, Keras' {name}")

"""IMDB movie reviews labelled by sentiment, loaded as Keras 3 does.

File, URL and digests are Keras' (keras/src/datasets/imdb.py, Keras 3.15.1).  Sources, in
order: the npz at `path` (default: the fastops cache), Keras' cache read in place, Keras'
download.  No package on PyPI or Debian ships this file (DEVELOPERS.md, "Datasets").
"""
import numpy as np

from . import _text

FILE_NAME = "imdb.npz"
URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb.npz"
SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_NAME = "imdb_word_index.json"
WORD_INDEX_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb_word_index.json"
WORD_INDEX_MD5 = "bfafd718b763782e994055a2d397834f"  # Keras publishes only an md5 for it
_PAIRS = (("x_train", "y_train"), ("x_test", "y_test"))


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113,
              start_char=1, oov_char=2, index_from=3):
    """Load the IMDB reviews (25000 train, 25000 test) as lists of word indices.

    Args:
        path: where the npz lives or is to be written; relative paths are under the fastops
            cache folder, as Keras does with its own.
        num_words: keep the num_words most frequent words (indices below num_words after the
            shift); others become oov_char.  None: all words (but, as in Keras, the largest
            index becomes oov_char too).
        skip_top: indices below skip_top (after the shift, start_char included) become
            oov_char.
        maxlen: keep only sequences shorter than maxlen (start_char counted); None: all.
        seed: seed of np.random.RandomState for the shuffle, as Keras.
        start_char: put first in every sequence; None: nothing is.
        oov_char: replaces the words cut by num_words or skip_top; None: they are dropped.
        index_from: added to every word index.

    Returns:
        ((x_train, y_train), (x_test, y_test)): x are 1-D object arrays of lists of ints,
        y int arrays of 0/1 labels.

    Raises:
        TypeError, ValueError: a bad argument (before any file is touched), or maxlen so
            small that no sequence is kept (Keras' ValueError).
        OSError: no source verified, or the file at an explicit `path` is not Keras' npz.

    Example:
        >>> (x_train, y_train), _ = imdb.load_data(num_words=10000)  # doctest: +SKIP
    """
    args = _text.check_args(num_words, skip_top, maxlen, seed, start_char, oov_char,
                            index_from)
    with _text.gc_paused():
        a = _text.keras_npz(FILE_NAME, URL, SHA256, path, "IMDB npz", _PAIRS)
        return encode(a, **args)


def encode(a, num_words, skip_top, maxlen, seed, start_char, oov_char, index_from):
    """Keras' transformation of the raw arrays (fastops.datasets._text has the steps)."""
    rng = np.random.RandomState(seed)
    parts = []
    for xk, yk in _PAIRS:
        x, y = _text.shuffle(rng, a[xk], a[yk])
        words, lengths = _text.shift(*_text.to_flat(x), start_char, index_from)
        if maxlen is not None:
            words, lengths, y = _text.keep_shorter(words, lengths, y, maxlen)
        parts.append((words, lengths, y))
    if maxlen is not None and (parts[0][1].size == 0 or parts[1][1].size == 0):
        raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, no "
                         "sequence was kept. Increase maxlen.")
    n_train = parts[0][1].size
    words, lengths = _text.limit_vocabulary(
        np.concatenate([parts[0][0], parts[1][0]]), np.concatenate([parts[0][1], parts[1][1]]),
        num_words, skip_top, oov_char)
    x = _text.to_object_array(words, lengths)
    return (x[:n_train].copy(), parts[0][2]), (x[n_train:].copy(), parts[1][2])


def get_word_index(path="imdb_word_index.json"):
    """The {word: index} dict of IMDB (indices before `index_from` is added).

    Args:
        path: where the JSON lives or is to be written (relative: under the cache folder).

    Returns:
        dict mapping each word to its frequency rank (1 = most frequent).

    Example:
        >>> index = imdb.get_word_index()  # doctest: +SKIP
        >>> words = {i + 3: w for w, i in index.items()}  # with index_from=3
    """
    return _text.word_index(WORD_INDEX_NAME, WORD_INDEX_URL, WORD_INDEX_MD5, path,
                            "IMDB word index")

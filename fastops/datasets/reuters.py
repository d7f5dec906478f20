"""Reuters newswires labelled over 46 topics, loaded as Keras 3 does.

File, URL, digests and label names are Keras' (keras/src/datasets/reuters.py, Keras
3.15.1).  Sources, in order: the npz at `path` (default: the fastops cache), Keras' cache
read in place, Keras' download.  No package on PyPI or Debian ships this file
(DEVELOPERS.md, "Datasets").
"""
import numpy as np

from . import _text
from ._checks import fraction_arg

FILE_NAME = "reuters.npz"
URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/reuters.npz"
SHA256 = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_NAME = "reuters_word_index.json"
WORD_INDEX_URL = ("https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
                  "reuters_word_index.json")
WORD_INDEX_MD5 = "4d44cc38712099c9e383dc6e5f11a921"  # Keras publishes only an md5 for it
LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing",
    "money-supply", "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass",
    "crude", "nat-gas", "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum",
    "oilseed", "gold", "tin", "strategic-metal", "livestock", "retail", "ipi",
    "iron-steel", "rubber", "heat", "jobs", "lei", "bop", "zinc", "orange", "pet-chem",
    "dlr", "gas", "silver", "wpi", "hog", "lead",
)


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2,
              seed=113, start_char=1, oov_char=2, index_from=3):
    """Load the 11228 Reuters newswires as lists of word indices, split into train and test.

    Args:
        path: where the npz lives or is to be written; relative paths are under the fastops
            cache folder, as Keras does with its own.
        num_words, skip_top, maxlen, seed, start_char, oov_char, index_from: as in
            `fastops.datasets.imdb.load_data`.
        test_split: fraction in [0, 1] of the (shuffled, filtered) newswires put in the test
            set: the first int(n * (1 - test_split)) go to train.

    Returns:
        ((x_train, y_train), (x_test, y_test)): x are 1-D object arrays of lists of ints,
        y int arrays of topic indices 0..45 (names: `get_label_names()`).

    Raises:
        TypeError, ValueError: a bad argument (before any file is touched), or maxlen so
            small that no newswire is kept.
        OSError: no source verified, or the file at an explicit `path` is not Keras' npz.

    Example:
        >>> (x_train, y_train), _ = reuters.load_data(num_words=10000)  # doctest: +SKIP
    """
    args = _text.check_args(num_words, skip_top, maxlen, seed, start_char, oov_char,
                            index_from)
    test_split = fraction_arg(test_split, "test_split", include_one=True)
    with _text.gc_paused():
        a = _text.keras_npz(FILE_NAME, URL, SHA256, path, "Reuters npz", (("x", "y"),))
        return encode(a, test_split=test_split, **args)


def encode(a, test_split, num_words, skip_top, maxlen, seed, start_char, oov_char,
           index_from):
    """Keras' transformation of the raw arrays (fastops.datasets._text has the steps)."""
    x, y = _text.shuffle(np.random.RandomState(seed), a["x"], a["y"])
    words, lengths = _text.shift(*_text.to_flat(x), start_char, index_from)
    if maxlen is not None:
        words, lengths, y = _text.keep_shorter(words, lengths, y, maxlen)
        if lengths.size == 0:
            raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, "
                             "no sequence was kept. Increase maxlen.")
    words, lengths = _text.limit_vocabulary(words, lengths, num_words, skip_top, oov_char)
    x = _text.to_object_array(words, lengths)
    idx = int(len(x) * (1 - test_split))  # Keras' expression, on the caller's own value
    return (x[:idx].copy(), y[:idx].copy()), (x[idx:].copy(), y[idx:].copy())


def get_word_index(path="reuters_word_index.json"):
    """The {word: index} dict of Reuters (indices before `index_from` is added).

    Args:
        path: where the JSON lives or is to be written (relative: under the cache folder).

    Returns:
        dict mapping each word to its frequency rank (1 = most frequent).

    Example:
        >>> index = reuters.get_word_index()  # doctest: +SKIP
    """
    return _text.word_index(WORD_INDEX_NAME, WORD_INDEX_URL, WORD_INDEX_MD5, path,
                            "Reuters word index")


def get_label_names():
    """The 46 topic names, indexed by the labels of `load_data`.

    Returns:
        tuple of str, as Keras' `reuters.get_label_names()`.

    Example:
        >>> reuters.get_label_names()[3]
        'earn'
    """
    return LABEL_NAMES

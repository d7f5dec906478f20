"""Reading and writing the npz files of the datasets.

Numeric arrays are read with pickling disabled.  IMDB's and Reuters' files hold ragged
sequences as object arrays, which NumPy can store only as pickle streams; those are read
by `read_object_npz`, which callers use only on a file whose sha256 is already Keras' own,
and which even then unpickles with an allow-list of the three globals an object ndarray
needs (numpy.ndarray, numpy.dtype, multiarray._reconstruct; the same list Keras 3.15 uses in
keras/src/datasets/npz_utils.py), so no file can make it run other code.
"""
import io
import pickle
import zipfile
import zlib

import numpy as np

from ._fetch import Rejected

_ALLOWED_GLOBALS = frozenset({
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),   # files written by NumPy 1
    ("numpy._core.multiarray", "_reconstruct"),  # files written by NumPy 2
})
_BROKEN = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError,
           pickle.UnpicklingError, IndexError, TypeError, AttributeError)


def read_npz(path, keys):
    """{key: array} of the numeric arrays `keys` in the npz at `path`; pickles refused.

    Raises:
        Rejected: the file is missing a key, is not an npz, or is truncated or corrupt.
    """
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in keys}
    except KeyError as e:
        raise Rejected(f"missing array {e}") from None
    except Exception as e:  # BadZipFile, zlib.error, EOFError, ValueError: all "corrupt"
        raise Rejected(f"unreadable ({type(e).__name__}: {e})") from None


def read_object_npz(path, keys):
    """Like `read_npz`, but object arrays are unpickled with the allow-list above.

    Only for files already verified to be Keras' own by sha256.
    """
    try:
        out = {}
        with zipfile.ZipFile(path) as z:
            for k in keys:
                out[k] = _read_npy(io.BytesIO(z.read(k + ".npy")))
        return out
    except KeyError as e:
        raise Rejected(f"missing array {e}") from None
    except _BROKEN as e:
        raise Rejected(f"unreadable ({type(e).__name__}: {e})") from None


def write_npz(dest, arrays):
    """np.savez_compressed of the numeric `arrays` to the file `dest`."""
    # np.savez_compressed appends ".npz" to a name without it: hand it an open file.
    with open(dest, "wb") as f:
        np.savez_compressed(f, **arrays)


class _ArrayOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a dataset file")


def _read_npy(fp):
    fmt = np.lib.format
    version = fmt.read_magic(fp)
    if version == (1, 0):
        shape, fortran, dtype = fmt.read_array_header_1_0(fp)
    else:  # 3.0 differs from 2.0 only in the header's text encoding, not in its layout
        shape, fortran, dtype = fmt.read_array_header_2_0(fp)
    if not dtype.hasobject:
        fp.seek(0)
        return fmt.read_array(fp, allow_pickle=False)
    array = _ArrayOnlyUnpickler(fp).load()
    if not isinstance(array, np.ndarray) or array.shape != shape:
        raise ValueError(f"the pickle does not hold the {shape} array its header announces")
    return array

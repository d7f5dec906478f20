"""Input checking and batching for fit / evaluate / predict.

x is never copied whole: each batch is gathered (fastops.nn.take_rows or np.take, when
shuffling) or sliced, then cast into a float buffer of the model's dtype that is allocated
once per batch size.  Targets and sample weights are small ((n,) or (n, k)) and are prepared
once per call.
"""
import math

import numpy as np

from fastops import nn


def positive_int(name, value, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def verbose_level(value):
    if value == "auto":
        return 1
    if isinstance(value, bool) or value not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto', got {value!r}")
    return int(value)


def check_x(x, name, input_dim):
    """x as an ndarray of numbers, 2-D, with the model's feature count (no copy)."""
    if x is None:
        raise ValueError(f"{name} is required")
    if not isinstance(x, np.ndarray):
        x = np.asarray(x)
    if x.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be a numeric array, got dtype {x.dtype}")
    if x.ndim != 2:
        raise ValueError(f"{name} must be 2-D (samples, features), got shape {x.shape}; "
                         f"flatten it first, e.g. {name}.reshape(len({name}), -1)")
    if input_dim is not None and x.shape[1] != input_dim:
        raise ValueError(f"{name} has {x.shape[1]} features per sample (shape {x.shape}) but "
                         f"the model expects input_shape=({input_dim},)")
    if x.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {x.shape})")
    if x.dtype.kind == "f" and not _finite(x):
        raise ValueError(f"{name} contains NaN or Inf")
    return x


def _finite(a):
    if a.dtype in (np.float32, np.float64):
        return nn.all_finite(a)
    return bool(np.isfinite(a).all())


def check_y(y, n, name, xname, loss, units, dtype):
    """Targets ready for the loss: int64 labels (n,) for a sparse loss, else a float array of
    the output's shape (n, units) in the model dtype (a 1-D y for one unit becomes (n, 1))."""
    if y is None:
        raise ValueError(f"{name} is required to {'train' if name == 'y' else 'evaluate'}")
    if not isinstance(y, np.ndarray):
        y = np.asarray(y)
    if y.ndim == 0 or y.shape[0] != n:
        raise ValueError(f"{xname} and {name} have different lengths: {n} samples in {xname}, "
                         f"{y.shape[0] if y.ndim else 'a scalar'} in {name}")
    if y.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be numeric, got dtype {y.dtype}")
    if loss.target == "sparse":
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ValueError(f"{name}: {loss.name} needs integer labels of shape ({n},), got "
                             f"shape {y.shape} (one-hot targets: use categorical_crossentropy)")
        if y.dtype.kind == "f":
            if not _finite(y) or np.any(y != np.floor(y)):
                raise TypeError(f"{name}: {loss.name} needs integer labels, got dtype {y.dtype} "
                                f"with non-integer values")
        lo, hi = y.min(), y.max()
        if lo < 0 or hi >= units:
            raise ValueError(f"{name}: labels must lie in [0, {units}) for the last layer's "
                             f"{units} units, found {lo if lo < 0 else hi}")
        return np.ascontiguousarray(y, dtype=np.int64)
    if y.ndim == 1 and units == 1:
        y = y.reshape(n, 1)
    if y.ndim != 2 or y.shape[1] != units:
        hint = (" (integer labels: use fastops.utils.to_categorical or "
                "loss='sparse_categorical_crossentropy')" if y.ndim == 1 else "")
        raise ValueError(f"{name}: {loss.name} needs targets of shape ({n}, {units}) for the "
                         f"last layer's {units} units, got shape {y.shape}{hint}")
    y = np.ascontiguousarray(y, dtype=dtype)
    if not nn.all_finite(y):
        raise ValueError(f"{name} contains NaN or Inf")
    return y


def check_sample_weight(sample_weight, n, name):
    """Per-sample weights as float64 (n,), finite and >= 0."""
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight)
    if w.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be numeric, got dtype {w.dtype}")
    if w.ndim == 2 and w.shape[1] == 1:
        w = w[:, 0]
    if w.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), one weight per sample, got {w.shape}")
    w = np.ascontiguousarray(w, dtype=np.float64)
    if not nn.all_finite(w) or (w < 0).any():
        raise ValueError(f"{name} must hold finite weights >= 0")
    return w


def class_weights(class_weight, y, loss):
    """Per-sample weights from {class: weight}, as Keras 3 (argmax of one-hot targets, the
    rounded value of a single column); a class the dict does not name weighs 1.0."""
    if not isinstance(class_weight, dict) or not class_weight:
        raise TypeError(f"class_weight must be a non-empty dict {{class index: weight}}, got "
                        f"{class_weight!r}")
    keys = list(class_weight)
    if any(isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer))
           for k in keys):
        raise ValueError(f"class_weight keys must be class indices (ints), got {keys}")
    weights = np.array([class_weight[k] for k in keys], dtype=np.float64)
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise ValueError("class_weight values must be finite numbers >= 0")
    if loss.target == "sparse":
        labels = y
    elif y.shape[1] > 1:
        labels = nn.argmax(y)
    else:
        labels = np.rint(y[:, 0]).astype(np.int64)
    # per distinct target, Keras' class_weight.get(y, 1.0): no table as long as the largest
    # label, which a stray huge label would make huge
    classes, index = np.unique(np.asarray(labels, dtype=np.int64), return_inverse=True)
    by_class = dict(zip((int(k) for k in keys), weights.tolist()))
    return np.array([by_class.get(int(c), 1.0) for c in classes], np.float64)[index.reshape(-1)]


def split_validation(arrays, fraction):
    """Keras' validation_split: the last `fraction` of the rows, taken before shuffling."""
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) \
            or not 0 <= fraction < 1:
        raise ValueError(f"validation_split must be a float in [0, 1), got {fraction!r}")
    n = arrays[0].shape[0]
    split = int(math.floor(n * (1.0 - fraction)))
    if split == 0 or split == n:
        raise ValueError(f"validation_split={fraction} leaves an empty training or validation "
                         f"set for {n} samples")
    return ([None if a is None else a[:split] for a in arrays],
            [None if a is None else a[split:] for a in arrays])


# evaluate and predict run a batch as row blocks of at most this many rows, so the buffers
# stay small and a block's activations stay in cache between the layers' products (issue
# 11: one 10k-row batch was slower than NumPy's loop).  1024, not 256: the products of
# 256-row blocks ran well below the GEMM's rate on 2 threads, and one 10k-row evaluate took
# 98.9 ms against 88.0 ms at 1024 (the NumPy loop: 90.1; medians of 9, Zen 3).  Losses and
# metrics are sums over rows, so the blocks add up to the batch's values; callbacks still
# see the caller's batches.
INFERENCE_ROWS = 1024


def inference_passes(n, batch_size, watched):
    """[(batch index or None, [(start, stop) of its row blocks])]: the passes evaluate and
    predict make over n rows.  When a callback watches the batches (`watched`), each batch
    is split into row blocks.  Otherwise nothing can observe the batches, and the rows run
    in blocks of INFERENCE_ROWS whatever the batch size: the outputs, losses and counts are
    the same (the loss up to its summation order), and ten kernel calls per 32-row batch
    cost more than their arithmetic."""
    if watched:
        return [(b, row_blocks(s, e)) for b, (s, e) in enumerate(batch_bounds(n, batch_size))]
    return [(None, row_blocks(0, n))]


def inference_rows(batch_size, watched):
    """Rows of the buffers of inference_passes."""
    return min(batch_size, INFERENCE_ROWS) if watched else INFERENCE_ROWS


def row_blocks(s, e, rows=INFERENCE_ROWS):
    """[(start, stop)] of the row blocks of rows s:e."""
    return [(i, min(i + rows, e)) for i in range(s, e, rows)]


def batch_bounds(n, batch_size):
    return [(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]


def cache_aligned_empty(shape, dtype):
    """np.empty whose data starts on a 64-byte cache line.  NumPy aligns to 16 bytes, and a
    256 KB buffer from glibc's mmap starts 16 bytes past a page, so every row of a (128, 512)
    float32 buffer straddled cache lines: each 64-byte vector store was split in two, and
    where two threads split the columns, they wrote the same line of every row."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    raw = np.empty(nbytes + 64, np.uint8)
    start = -raw.ctypes.data % 64
    return raw[start:start + nbytes].view(dtype).reshape(shape)


class Gatherer:
    """Batches of (x, y, w) rows into buffers of one batch size, reused for every batch;
    the last, partial batch uses leading-row views of the same buffers."""

    def __init__(self, x, y, w, batch_size, dtype):
        self.x, self.y, self.w = x, y, w
        rows = min(batch_size, x.shape[0])
        self.dtype = np.dtype(dtype)
        self.cast = x.dtype != self.dtype
        self.xbuf = cache_aligned_empty((rows,) + x.shape[1:], self.dtype)
        # Float rows (the usual case) go through fastops.nn.take_rows, which casts as it
        # copies and splits the rows over the threads: IMDB's 512 rows of 10000 float64 ->
        # float32 took 3.3 ms at 2 threads against 5.2 ms copied row by row from Python.
        # Other inputs: np.take cannot cast into its out, and on wide rows it is 3-5x
        # slower than copying row by row (28 ms vs 6 ms for those rows), so wide or cast
        # rows are copied one at a time straight into xbuf.
        self.kernel = (x.ndim == 2 and x.dtype.type in (np.float32, np.float64)
                       and x.dtype.isnative and x.flags.aligned)  # else the kernel copies x
        self.by_row = self.cast or int(np.prod(x.shape[1:])) >= 4096
        self.ybuf = None if y is None else np.empty((rows,) + y.shape[1:], y.dtype)
        self.wbuf = None if w is None else np.empty(rows, np.float64)

    def take(self, idx):
        """The rows `idx` (an index array) of x, y, w, gathered into the buffers."""
        m = len(idx)
        xb = self.xbuf[:m]
        if self.kernel:
            nn.take_rows(self.x, idx, xb)
        elif self.by_row:
            x = self.x
            for i, j in enumerate(idx.tolist()):
                xb[i] = x[j]
        else:
            np.take(self.x, idx, axis=0, out=xb, mode="clip")
        # mode='clip': with the default 'raise', np.take buffers `out` (a copy per call);
        # idx is a permutation of valid rows, so nothing is clipped
        yb = None if self.y is None else np.take(self.y, idx, axis=0, out=self.ybuf[:m],
                                                 mode="clip")
        wb = None if self.w is None else np.take(self.w, idx, out=self.wbuf[:m], mode="clip")
        return xb, yb, wb

    def slice(self, s, e):
        """Rows s:e, as views when x already has the model dtype and C layout."""
        xb = self.x[s:e]
        if self.cast or not xb.flags.c_contiguous:
            np.copyto(self.xbuf[:e - s], xb, casting="unsafe")
            xb = self.xbuf[:e - s]
        yb = None if self.y is None else self.y[s:e]
        wb = None if self.w is None else self.w[s:e]
        return xb, yb, wb

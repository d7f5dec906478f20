"""fastops.nn's row kernels on Dask arrays (softmax, argmax, per-row losses and accuracies).

A row kernel reads a whole row of the last axis, so each row must lie in one chunk: a dask
array chunked along its last axis raises ValueError naming the rechunk to do (rechunking
silently could move far more data than the caller expects).  Rows are then independent,
so blocks of rows are mapped with blockwise; targets and labels are aligned to the rows'
chunks by Dask.
"""
import dask.array as da
import numpy as np

from ._dask import Block, _no_out

_NN_DTYPES = (np.float32, np.float64)


def _rows(x, fn, arg):
    if x is None:
        raise TypeError(f"{fn}: argument {arg} is None, expected an array")
    x = x if isinstance(x, da.Array) else da.asarray(np.asarray(x))
    if x.ndim == 0:
        raise ValueError(f"{fn}: {arg} must have at least 1 dimension, got a scalar")
    if len(x.chunks[-1]) > 1:
        raise ValueError(f"{fn}: {arg} is chunked along its last axis (chunks "
                         f"{x.chunks[-1]}); this row kernel needs every row in one chunk: "
                         f"{arg}.rechunk({{{x.ndim - 1}: -1}})")
    return x


def _float_dtype(fn, *arrays):
    """The nn kernels' dtype: float32/float64 as promoted, integers and bools as float64."""
    kinds = [a.dtype for a in arrays]
    for dt in kinds:
        if dt.kind not in "biuf" or (dt.kind == "f" and dt.type not in _NN_DTYPES):
            raise TypeError(f"{fn}: dtype {dt} is not supported; the nn kernels compute "
                            f"float32 and float64")
    dtype = np.result_type(*kinds)
    return np.dtype(np.float64) if dtype.kind in "biu" else dtype


def _labels(labels, rows, fn):
    labels = _rows_any(labels, fn)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{fn}: labels must be integers, got dtype {labels.dtype}")
    if labels.ndim == rows.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.shape != rows.shape[:-1]:
        raise ValueError(f"{fn}: labels must have shape {rows.shape[:-1]} to match the rows "
                         f"of y_pred {rows.shape}, got {labels.shape}")
    return labels


def _rows_any(x, fn):
    if x is None:
        raise TypeError(f"{fn}: labels is None, expected an array")
    return x if isinstance(x, da.Array) else da.asarray(np.asarray(x))


def softmax(x, out=None):
    _no_out(out, "softmax")
    x = _rows(x, "softmax", "x")
    return x.map_blocks(Block("softmax"), dtype=_float_dtype("softmax", x))


def softmax_backward(grad, y, out=None):
    fn = "softmax_backward"
    _no_out(out, fn)
    g, y = _rows(grad, fn, "grad"), _rows(y, fn, "y")
    if g.shape != y.shape:
        raise ValueError(f"{fn}: y has shape {y.shape} but grad has shape {g.shape}")
    ind = tuple(range(g.ndim))
    return da.blockwise(Block(fn), ind, g, ind, y, ind, dtype=_float_dtype(fn, g, y))


def argmax(x, out=None):
    _no_out(out, "argmax")
    x = _rows(x, "argmax", "x")
    _float_dtype("argmax", x)
    return x.map_blocks(Block("argmax"), drop_axis=x.ndim - 1, dtype=np.int64)


def _per_row(fn, kernel, y_pred, other, sparse, **kwargs):
    """A per-row kernel(y_pred, y_true or labels) -> shape y_pred.shape[:-1]."""
    _no_out(kwargs.pop("out", None), fn)
    p = _rows(y_pred, fn, "y_pred")
    ind = tuple(range(p.ndim))
    if sparse:
        t = _labels(other, p, fn)
        t_ind = ind[:-1]
        dtype = _float_dtype(fn, p)
    else:
        t = _rows(other, fn, "y_true")
        if t.shape != p.shape:
            raise ValueError(f"{fn}: y_true has shape {t.shape} but y_pred has shape {p.shape}")
        t_ind = ind
        dtype = _float_dtype(fn, p, t)
    # one chunk along the last axis, so concatenating it only unwraps the one block
    return da.blockwise(Block(kernel, **kwargs), ind[:-1], p, ind, t, t_ind, dtype=dtype,
                        concatenate=True)


def categorical_crossentropy_rows(y_pred, y_true, from_logits=False, out=None):
    return _per_row("categorical_crossentropy", "categorical_crossentropy_rows", y_pred, y_true,
                    False, from_logits=from_logits, out=out)


def sparse_categorical_crossentropy_rows(y_pred, labels, from_logits=False, out=None):
    return _per_row("sparse_categorical_crossentropy", "sparse_categorical_crossentropy_rows",
                    y_pred, labels, True, from_logits=from_logits, out=out)


def binary_crossentropy_rows(y_pred, y_true, from_logits=False, out=None):
    return _per_row("binary_crossentropy", "binary_crossentropy_rows", y_pred, y_true, False,
                    from_logits=from_logits, out=out)


def mean_squared_error_rows(y_pred, y_true, out=None):
    return _per_row("mean_squared_error", "mean_squared_error_rows", y_pred, y_true, False,
                    out=out)


def mean_absolute_error_rows(y_pred, y_true, out=None):
    return _per_row("mean_absolute_error", "mean_absolute_error_rows", y_pred, y_true, False,
                    out=out)


def categorical_accuracy_rows(y_pred, y_true, out=None):
    return _per_row("categorical_accuracy", "categorical_accuracy_rows", y_pred, y_true, False,
                    out=out)


def sparse_categorical_accuracy_rows(y_pred, labels, out=None):
    return _per_row("sparse_categorical_accuracy", "sparse_categorical_accuracy_rows", y_pred,
                    labels, True, out=out)


def binary_accuracy_rows(y_pred, y_true, threshold=0.5, out=None):
    return _per_row("binary_accuracy", "binary_accuracy_rows", y_pred, y_true, False,
                    threshold=threshold, out=out)


def top_k_accuracy_rows(y_pred, labels, k=5, out=None):
    return _per_row("top_k_accuracy", "top_k_accuracy_rows", y_pred, labels, True, k=k,
                    out=out)

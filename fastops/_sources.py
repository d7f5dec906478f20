"""Streamed inputs of fit / evaluate / predict: np.memmap, dask arrays, PyDataset, generators.

A source yields *slabs*: (x, y, w) holding one or more whole batches in order (only the last
slab of an epoch may end with a partial batch); the loop cuts them into batches.  Slabs are
what the prefetch thread hands over, so a file or a cluster is read in pieces of a few MB
while the model computes, and memory stays at the model plus a few slabs.

Shuffling never copies x whole:
- np.memmap: Keras' order, a permutation of the row indices (from the model's shuffle
  generator, the same draw as for an in-memory array, so the same batches); each slab is
  gathered by index;
- dask array: the order of the row blocks is permuted, then the rows within each block
  (batches may span two blocks);
- PyDataset: the order of the batches is permuted (as Keras 3); generators are not shuffled.
"""
import inspect
import math

import numpy as np

from ._data import positive_int
from .utils import PyDataset

SLAB_BYTES = 4 << 20  # rows per slab: about this many bytes of x


def kind_of(x):
    """'memmap', 'dask', 'dataset', 'generator', or 'array' (in memory)."""
    if isinstance(x, np.memmap):
        return "memmap"
    if hasattr(type(x), "__dask_graph__") and not isinstance(x, np.ndarray):
        return "dask"
    if isinstance(x, PyDataset) or (hasattr(x, "__getitem__") and hasattr(x, "__len__")
                                    and hasattr(x, "on_epoch_end")
                                    and not isinstance(x, (np.ndarray, list, tuple))):
        return "dataset"
    if inspect.isgenerator(x) or (hasattr(x, "__next__") and hasattr(x, "__iter__")
                                  and not isinstance(x, np.ndarray)):
        return "generator"
    return "array"


def is_stream(x):
    return kind_of(x) != "array"


def streamed(x, validation_data=None):
    """Whether fit / evaluate must stream: x, or any part of validation_data, is streamed."""
    if is_stream(x) or (validation_data is not None and is_stream(validation_data)):
        return True
    return isinstance(validation_data, (tuple, list)) and any(
        v is not None and is_stream(v) for v in validation_data)


def _slab_rows(x, batch_size):
    row_bytes = max(1, int(np.prod(x.shape[1:], dtype=np.int64)) * x.dtype.itemsize)
    return batch_size * max(1, SLAB_BYTES // (row_bytes * batch_size))


class ArraySource:
    """x an ndarray or np.memmap; y and w in-memory arrays (checked whole, as they are
    small) or None.  Slabs are copies, so the pages of a memmap are read by the prefetch
    thread."""
    streamed_targets = False

    def __init__(self, x, y, w, batch_size):
        self.x, self.y, self.w = x, y, w
        self.n = x.shape[0]
        self.batch_size = batch_size
        self.steps = math.ceil(self.n / batch_size)
        self.slab = _slab_rows(x, batch_size)
        self.features = x.shape[1]

    def epoch(self, rng=None, steps=None):
        """Slabs of one epoch: rows in order, or in the permutation rng gives (Keras')."""
        order = rng.permutation(self.n) if rng is not None else None
        end = self.n if steps is None else min(self.n, steps * self.batch_size)
        for s in range(0, end, self.slab):
            e = min(s + self.slab, end)
            if order is None:
                sel = slice(s, e)
                yield (np.array(self.x[sel]), _rows(self.y, sel), _rows(self.w, sel))
            else:
                idx = order[s:e]
                yield (np.take(self.x, idx, axis=0), _take(self.y, idx), _take(self.w, idx))


def _rows(a, sel):
    return None if a is None else a[sel]


def _take(a, idx):
    return None if a is None else np.take(a, idx, axis=0)


class DaskSource:
    """x a 2-D dask array; y and w dask arrays, in-memory arrays or None.  Row blocks are
    computed one ahead (by the scheduler in use: threaded, or the cluster of an active
    distributed Client) and cut into slabs of whole batches across block boundaries."""
    streamed_targets = True

    def __init__(self, x, y, w, batch_size):
        import dask.array as da
        if x.ndim != 2:
            raise ValueError(f"x must be 2-D (samples, features), got shape {x.shape}")
        if any(math.isnan(c) for c in x.shape):
            raise ValueError("x has unknown chunk sizes; call x.compute_chunk_sizes() first")
        self.x = x.rechunk({1: -1}) if len(x.chunks[1]) > 1 else x
        rows = self.x.chunks[0]
        self.y = None if y is None else _aligned(da, y, rows, "y")
        self.w = None if w is None else _aligned(da, w, rows, "sample_weight")
        self.n = x.shape[0]
        self.features = x.shape[1]
        self.batch_size = batch_size
        self.steps = math.ceil(self.n / batch_size)
        self.slab = _slab_rows(x, batch_size)

    def _block(self, i):
        import dask
        parts = [a.blocks[i] for a in (self.x, self.y, self.w) if a is not None]
        got = list(dask.compute(*parts))
        x = got.pop(0)
        y = got.pop(0) if self.y is not None else None
        w = got.pop(0) if self.w is not None else None
        return x, y, w

    def epoch(self, rng=None, steps=None):
        from ._prefetch import Prefetch
        nblocks = len(self.x.chunks[0])
        order = rng.permutation(nblocks) if rng is not None else range(nblocks)
        limit = None if steps is None else steps * self.batch_size
        pieces, have, sent = [], 0, 0
        with Prefetch((self._block(int(i)) for i in order), depth=1) as blocks:
            for x, y, w in blocks:
                perm = rng.permutation(len(x)) if rng is not None else None
                s, n = 0, len(x)
                while s < n:
                    take = min(self.slab - have, n - s)
                    pieces.append(_piece(x, y, w, perm, s, s + take))
                    have += take
                    s += take
                    if have == self.slab:
                        slab = _joined(pieces)
                        pieces, have = [], 0
                        sent += len(slab[0])
                        if limit is not None and sent >= limit:
                            yield _cut(slab, len(slab[0]) - (sent - limit))
                            return
                        yield slab
        if pieces:
            slab = _joined(pieces)
            if limit is not None and sent + len(slab[0]) > limit:
                slab = _cut(slab, limit - sent)
            yield slab


def _aligned(da, a, rows, name):
    a = a if isinstance(a, da.Array) else da.asarray(np.asarray(a))
    if a.ndim == 0 or a.shape[0] != sum(rows):
        raise ValueError(f"x and {name} have different lengths: {sum(rows)} samples in x, "
                         f"{a.shape[0] if a.ndim else 'a scalar'} in {name}")
    return a.rechunk({0: rows} | {d: -1 for d in range(1, a.ndim)})


def _piece(x, y, w, perm, s, e):
    if perm is None:
        sel = slice(s, e)
        return x[sel], _rows(y, sel), _rows(w, sel)
    idx = perm[s:e]
    return np.take(x, idx, axis=0), _take(y, idx), _take(w, idx)


def _joined(pieces):
    if len(pieces) == 1:
        return pieces[0]
    return tuple(None if p[0] is None else np.concatenate(p)
                 for p in zip(*[(x, y, w) for x, y, w in pieces]))


def _cut(slab, rows):
    return tuple(None if a is None else a[:rows] for a in slab)


def standardize(batch, where, need_targets):
    """A batch as (x, y, w) of arrays, as Keras 3 accepts them: x, (x,), (x, y), (x, y, w)."""
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple):
        batch = (batch,)
    if not 1 <= len(batch) <= 3:
        raise ValueError(f"{where} must be x, (x,), (x, y) or (x, y, sample_weight), got a "
                         f"tuple of {len(batch)}")
    x, y, w = (tuple(batch) + (None, None))[:3]
    if need_targets and y is None:
        raise ValueError(f"{where} gave no targets: fit and evaluate need batches (x, y) or "
                         f"(x, y, sample_weight)")
    return (None if x is None else np.asarray(x), None if y is None else np.asarray(y),
            None if w is None else np.asarray(w))


class DatasetSource:
    """A PyDataset: batches by index, fetched by its `workers` threads up to
    `max_queue_size` ahead; on_epoch_begin / on_epoch_end around each epoch of fit."""
    streamed_targets = True

    def __init__(self, ds, need_targets):
        self.ds = ds
        self.steps = int(ds.num_batches) if hasattr(ds, "num_batches") else len(ds)
        if self.steps < 1:
            raise ValueError(f"the PyDataset is empty (len {self.steps})")
        self.workers = max(1, int(getattr(ds, "workers", 1) or 1))
        self.depth = max(1, int(getattr(ds, "max_queue_size", 10) or 1))
        self.need_targets = need_targets
        self.first = standardize(ds[0], "PyDataset.__getitem__(0)", need_targets)
        self.features = self.first[0].shape[-1] if self.first[0].ndim else None

    def epoch(self, rng=None, steps=None):
        from ._prefetch import ordered_map
        order = rng.permutation(self.steps) if rng is not None else range(self.steps)
        if steps is not None:
            order = order[:steps]
        fetch = lambda i: standardize(self.ds[int(i)], f"PyDataset.__getitem__({int(i)})",
                                      self.need_targets)
        yield from ordered_map(fetch, order, self.workers, self.depth)


class GeneratorSource:
    """A generator or iterator of batches, read on from epoch to epoch (not rewound):
    `steps` batches per epoch, or until it ends (Keras 3's rules)."""
    streamed_targets = True

    def __init__(self, gen, need_targets, steps=None):
        self.it = iter(gen)
        self.need_targets = need_targets
        self.steps = positive_int("steps_per_epoch", steps, True)
        try:
            first = next(self.it)
        except StopIteration:
            raise ValueError("the generator yielded no batch") from None
        self.first = standardize(first, "the generator", need_targets)
        self._pending = [self.first]
        self.features = self.first[0].shape[-1] if self.first[0].ndim else None
        self.exhausted = False

    def epoch(self, rng=None, steps=None):
        steps = steps or self.steps
        count = 0
        while steps is None or count < steps:
            if self._pending:
                batch = self._pending.pop()
            else:
                try:
                    batch = standardize(next(self.it), "the generator", self.need_targets)
                except StopIteration:
                    self.exhausted = True
                    return
            count += 1
            yield batch

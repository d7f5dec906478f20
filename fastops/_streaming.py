"""fit / evaluate / predict over streamed data: np.memmap, dask arrays, PyDataset, generators.

The same steps as for in-memory arrays (fastops._step), fed by a source (fastops._sources)
through a prefetch thread: slabs of a few batches are read, checked and cast to the model
dtype in the background while the model computes, so memory stays at the model, its
buffers and a few slabs.  x is never copied or cast whole.  An np.memmap is batched and
shuffled exactly as the same rows in memory would be (same order, same results).
"""
import contextlib
import copy
import warnings

import numpy as np

from . import callbacks as callbacks_mod
from ._batches import SlabChecker, batches_of
from ._data import check_sample_weight, check_y, class_weights, split_validation
from ._prefetch import Prefetch
from ._sources import (ArraySource, DaskSource, DatasetSource, GeneratorSource, kind_of)
from ._step import Buffers, Step, with_validation

_NAMES = {"dataset": "PyDataset", "generator": "generator"}


def _check_x_layout(x, name, input_dim):
    """The checks of check_x that need no pass over the data (finiteness is per slab)."""
    if x.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be a numeric array, got dtype {x.dtype}")
    if x.ndim != 2:
        raise ValueError(f"{name} must be 2-D (samples, features), got shape {x.shape}")
    if input_dim is not None and x.shape[1] != input_dim:
        raise ValueError(f"{name} has {x.shape[1]} features per sample (shape {x.shape}) but "
                         f"the model expects input_shape=({input_dim},)")
    if x.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {x.shape})")


class StreamTrainer:
    """Mixin of Trainer: the streamed versions of fit / evaluate / predict."""

    def _source(self, x, y, w, batch_size, need_targets, steps, what, class_weight=None):
        """(source, checker, y_like) for x of any streamed kind (or an in-memory array)."""
        kind = kind_of(x)
        if kind in _NAMES:
            for arg, value in (("y", y), ("sample_weight", w)):
                if value is not None:
                    raise ValueError(f"{what}: `{arg}` is not supported when x is a "
                                     f"{_NAMES[kind]}: its batches carry it ((x, y) or "
                                     f"(x, y, sample_weight))")
            src = (DatasetSource(x, need_targets) if kind == "dataset"
                   else GeneratorSource(x, need_targets, steps))
            if src.features is None:
                raise ValueError(f"{what}: the {_NAMES[kind]}'s batches of x must be 2-D")
            y_like = src.first[1]
        else:
            if kind != "dask":
                x = x if isinstance(x, np.ndarray) else np.asarray(x)
            _check_x_layout(x, "x", self.input_dim)
            if need_targets and y is None:
                raise ValueError(f"y is required to {'train' if what == 'fit' else what}")
            src = None
            if kind == "dask":
                src = DaskSource(x, y if need_targets else None, w if need_targets else None,
                                 batch_size)
            y_like = src.y if src is not None else y
        if not self.built:
            self.build((None, src.features if src is not None else x.shape[1]))
        if src is None:
            n = x.shape[0]
            if need_targets:
                y = check_y(y, n, "y", "x", self.loss, self.output_shape[-1], self.dtype)
                w = check_sample_weight(w, n, "sample_weight")
                if class_weight is not None:
                    w = class_weights(class_weight, y, self.loss)
            src = ArraySource(x, y if need_targets else None, w if need_targets else None,
                              batch_size)
            class_weight, y_like = None, y
        checker = SlabChecker(self, need_targets, class_weight, src.streamed_targets)
        return src, checker, y_like

    @staticmethod
    def _slabs(src, checker, rng, steps):
        """The source's slabs for one epoch, checked and cast (runs in the prefetch thread)."""
        for k, slab in enumerate(src.epoch(rng, steps)):
            yield checker(slab, f"slab {k} of the epoch")

    @contextlib.contextmanager
    def _batches(self, src, checker, rng, steps, batch_size):
        """The epoch's batches (x, y, w), read and checked ahead in a prefetch thread, which
        stops when the block is left (an early break or an exception too)."""
        per_batch = None if isinstance(src, (DatasetSource, GeneratorSource)) else batch_size
        with Prefetch(self._slabs(src, checker, rng, steps), getattr(src, "depth", 2)) as slabs:
            yield (batch for slab in slabs for batch in batches_of(slab, per_batch))

    def _fit_stream(self, x, y, sample_weight, batch_size, vbatch, epochs, verbose, callbacks,
                    validation_split, validation_data, shuffle, class_weight, initial_epoch,
                    steps_per_epoch, validation_steps, validation_freq):
        kind = kind_of(x)
        if validation_split and kind in _NAMES:
            raise ValueError(f"validation_split is only supported for arrays (NumPy, "
                             f"np.memmap, dask), not a {_NAMES[kind]}")
        if validation_split and validation_data is None:  # validation_data wins (Keras)
            (x, y, sample_weight), split = split_validation([x, y, sample_weight],
                                                            validation_split)
            validation_data = tuple(split)
        elif validation_split != 0.0:
            split_validation([x], validation_split)  # its argument check
        src, checker, y_like = self._source(x, y, sample_weight, batch_size, True,
                                            steps_per_epoch, "fit", class_weight)
        val = None
        if validation_data is not None:
            val = self._validation_source(validation_data, vbatch, validation_steps)
        steps = src.steps
        if steps_per_epoch is not None and kind != "generator":
            if steps_per_epoch > steps:
                raise ValueError(f"steps_per_epoch={steps_per_epoch} is more than the "
                                 f"{steps} batches of the data")
            steps = steps_per_epoch
        metrics = self._resolve_metrics(y_like)
        cbs = callbacks_mod.CallbackList(callbacks, add_history=True, add_progbar=verbose != 0,
                                         model=self, verbose=verbose, epochs=epochs,
                                         steps=steps)
        with self._training():
            self.stop_training = False
            self._in_fit = True
            try:
                self._fit_stream_loop(src, checker, val, metrics, batch_size, vbatch, steps,
                                      shuffle and kind != "generator", initial_epoch, epochs,
                                      validation_freq, cbs)
            finally:
                self._in_fit = False
        return cbs.history

    def _validation_source(self, data, vbatch, validation_steps):
        if kind_of(data) in _NAMES:
            return self._source(data, None, None, None, True, validation_steps,
                                "validation_data")
        if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
            raise ValueError("validation_data must be a tuple (x_val, y_val) or "
                             "(x_val, y_val, val_sample_weight), a PyDataset or a generator")
        return self._source(*(tuple(data) + (None,))[:3], vbatch, True, validation_steps,
                            "validation_data")

    def _fit_stream_loop(self, src, checker, val, metrics, batch_size, vbatch, steps, shuffle,
                         initial_epoch, epochs, validation_freq, cbs):
        step = Step(self, metrics)
        bufs = [None]
        cbs.on_train_begin()
        logs = {}
        for epoch in range(initial_epoch, epochs):
            step.reset()
            cbs.on_epoch_begin(epoch)
            getattr(getattr(src, "ds", None), "on_epoch_begin", lambda: None)()
            rng = self._shuffle_rng if shuffle else None
            b = 0
            with self._batches(src, checker, rng, steps, batch_size) as batches:
                for xb, yb, wb in batches:
                    cbs.on_train_batch_begin(b)
                    step.train(xb, yb, wb, _buffers(bufs, self.layers, xb.shape[0], self.dtype,
                                                    True))
                    logs = step.logs()
                    cbs.on_train_batch_end(b, logs)
                    b += 1
                    if self.stop_training:
                        break
            getattr(getattr(src, "ds", None), "on_epoch_end", lambda: None)()
            if b == 0:
                warnings.warn("Your input ran out of data; interrupting training. Make sure "
                              "that your dataset or generator can generate at least "
                              "`steps_per_epoch * epochs` batches.", stacklevel=3)
                break
            logs = step.logs()
            if val is not None and (epoch + 1) % validation_freq == 0:
                vlogs = self._evaluate_stream_loop(*val[:2], vbatch, cbs, metrics)
                logs = with_validation(logs, vlogs)
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbs.on_train_end(logs)

    def _evaluate_stream_loop(self, src, checker, batch_size, cbs, metrics, steps=None):
        step = Step(self, metrics)
        penalty = self._penalty()
        bufs = [None]
        cbs.on_test_begin()
        with self._batches(src, checker, None, steps, batch_size) as batches:
            for b, (xb, yb, wb) in enumerate(batches):
                cbs.on_test_batch_begin(b)
                step.test(xb, yb, wb, _buffers(bufs, self.layers, xb.shape[0], self.dtype,
                                               False), penalty)
                cbs.on_test_batch_end(b, step.logs())
        logs = step.logs()
        cbs.on_test_end(logs)
        return logs

    def _evaluate_stream(self, x, y, sample_weight, batch_size, verbose, steps, callbacks):
        src, checker, y_like = self._source(x, y, sample_weight, batch_size, True, steps,
                                            "evaluate")
        metrics = [copy.copy(m) for m in self._resolve_metrics(y_like)]
        n_steps = steps or src.steps
        cbs = callbacks_mod.CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                         verbose=verbose, epochs=1, steps=n_steps)
        logs = self._evaluate_stream_loop(src, checker, batch_size, cbs, metrics, steps)
        return logs, metrics

    def _predict_stream(self, x, batch_size, verbose, steps, callbacks):
        src, checker, _ = self._source(x, None, None, batch_size, False, steps, "predict")
        n = getattr(src, "n", None)
        units = tuple(self.output_shape[1:])
        out = np.empty((n,) + units, self.dtype) if n is not None and steps is None else None
        parts = []
        bufs = [None]
        cbs = callbacks_mod.CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                         verbose=verbose, epochs=1, steps=steps or src.steps)
        cbs.on_predict_begin()
        s = 0
        with self._batches(src, checker, None, steps, batch_size) as batches:
            for b, (xb, _, _) in enumerate(batches):
                m = xb.shape[0]
                cbs.on_predict_batch_begin(b)
                dest = out[s:s + m] if out is not None else np.empty((m,) + units, self.dtype)
                Step.predict(self.layers, xb, _buffers(bufs, self.layers, m, self.dtype, False),
                             dest)
                if out is None:
                    parts.append(dest)
                cbs.on_predict_batch_end(b, {"outputs": dest})
                s += m
        cbs.on_predict_end()
        if out is not None:
            return out[:s]
        return np.concatenate(parts) if parts else np.empty((0,) + units, self.dtype)


def _buffers(holder, layers, rows, dtype, train):
    """One set of buffers for the largest batch seen so far (batch sizes of a PyDataset or
    a generator may vary)."""
    bufs = holder[0]
    if bufs is None or bufs.rows < rows:
        bufs = holder[0] = Buffers(layers, rows, dtype, train)
    return bufs


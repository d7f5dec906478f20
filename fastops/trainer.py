"""The training loop: compile, fit, evaluate and predict of a model, driven by callbacks.

One training step: gather the batch into preallocated buffers (cast to the model dtype),
forward through each layer, the loss (from the logits of a fused softmax/sigmoid head when
the loss can absorb it: value, gradient and correct count in one kernel pass), backward
through each layer into preallocated gradient buffers, then one optimizer kernel per weight
with its L1/L2 penalty folded in.  Buffers are allocated once per call and batch size.

Streamed inputs (np.memmap, dask arrays, PyDataset, generators) run the same steps through
fastops._streaming, fed by a prefetch thread.

Threads: predict and evaluate use per-call buffers and read the weights only, so any number
of threads may run them on one model.  fit changes the weights: while it runs, predict or
evaluate from another thread (or a second fit) raises RuntimeError instead of reading
half-updated weights; callbacks of the fitting thread may call them.
"""
import numpy as np

from . import callbacks as callbacks_mod
from . import losses as losses_mod
from . import metrics as metrics_mod
from . import optimizers as optimizers_mod
from ._data import (Gatherer, batch_bounds, check_sample_weight, check_x, check_y,
                    class_weights, inference_rows, positive_int, split_validation,
                    verbose_level)
from ._inference import Inference
from ._model_pickle import PicklableModel
from ._on_batch import OnBatch
from ._sources import streamed as _streamed
from ._step import Buffers, Step, logged_metrics, with_validation
from ._streaming import StreamTrainer
from ._threads import ThreadGuard


class Trainer(Inference, OnBatch, PicklableModel, StreamTrainer, ThreadGuard):
    """compile / fit / evaluate / predict for a model with `layers`, `build`, `dtype`
    (evaluate and predict: fastops._inference; the *_on_batch methods: fastops._on_batch).

    x may be an in-memory array, an np.memmap, a dask array, a fastops.utils.PyDataset or
    a generator of batches; all but the first are streamed (fastops._streaming).
    """

    def _init_trainer(self):
        self.optimizer = self.loss = None
        self.compiled_metrics = []
        self.stop_training = False
        self.history = None
        self.compile_config = None
        self._metric_ids = []
        self._init_guard()

    # ---- compile ----

    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True):
        """Set the optimizer, loss and metrics (names, functions, classes, as Keras 3).

        Example:
            >>> model.compile(optimizer='rmsprop', loss='sparse_categorical_crossentropy',
            ...               metrics=['accuracy'])
        """
        if loss_weights is not None:
            raise ValueError("compile: loss_weights is not supported (fastops models have one "
                             "output)")
        opt = optimizers_mod.get(optimizer)
        loss_obj = None if loss is None else losses_mod.get(loss)
        ids = []
        for arg, value in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
            if value is None:
                continue
            if isinstance(value, (str, metrics_mod.Metric)) or callable(value) \
                    or not isinstance(value, (list, tuple)):
                raise TypeError(f"compile: {arg} must be a list, e.g. ['accuracy'], got "
                                f"{value!r}")
            for m in value:
                metrics_mod.get(m)  # unknown names fail here, before any training
                ids.append((m, arg == "weighted_metrics"))
        self.optimizer, self.loss, self._metric_ids = opt, loss_obj, ids
        self.compiled_metrics = []
        self.compile_config = {"optimizer": optimizer, "loss": loss, "metrics": metrics,
                               "weighted_metrics": weighted_metrics}

    def _resolve_metrics(self, y):
        units = self.output_shape[-1]
        sparse = y.ndim == 1 or (y.shape[-1] == 1 and units > 1)
        names = [self._metric_name(m) for m, _ in self._metric_ids]
        if not self.compiled_metrics or [m.name for m in self.compiled_metrics] != names:
            self.compiled_metrics = []
            for m, weighted in self._metric_ids:
                obj = metrics_mod.get(m, y_true_ndim=1 if sparse else 2, output_units=units)
                obj.weighted = weighted
                self.compiled_metrics.append(obj)
        return self.compiled_metrics

    @staticmethod
    def _metric_name(m):
        if isinstance(m, str):
            return m
        return metrics_mod.get(m).name if not isinstance(m, metrics_mod.Metric) else m.name

    @property
    def metrics_names(self):
        return ["loss"] + [name for name, _ in logged_metrics(self.compiled_metrics)]

    # ---- argument checks ----

    def _require_compiled(self, what):
        if self.optimizer is None:
            raise ValueError(f"You must call `compile()` before calling `{what}()`: "
                             f"model.compile(optimizer=..., loss=...)")
        if self.loss is None:
            raise ValueError(f"{what}: no loss to compute. Provide a `loss` argument in "
                             f"`compile()`.")

    def _arrays(self, x, y, sample_weight=None, xname="x", yname="y", wname="sample_weight"):
        x = check_x(x, xname, self.input_dim)
        if not self.built:
            self.build((None, x.shape[1]))
        y = check_y(y, x.shape[0], yname, xname, self.loss, self.output_shape[-1], self.dtype)
        return x, y, check_sample_weight(sample_weight, x.shape[0], wname)

    # ---- fit ----

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Train for `epochs` passes over (x, y); returns the History callback (Keras 3).

        batch_size None means 32; the last partial batch is kept; validation_split takes the
        last fraction of the rows before shuffling; validation_data (x, y) or (x, y, w)
        overrides it.  Every argument is checked before the first step.
        """
        self._require_compiled("fit")
        batch_size = 32 if batch_size is None else positive_int("batch_size", batch_size)
        vbatch = positive_int("validation_batch_size", validation_batch_size, True) or batch_size
        for name, value in (("epochs", epochs), ("initial_epoch", initial_epoch)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        steps_per_epoch = positive_int("steps_per_epoch", steps_per_epoch, True)
        validation_freq = positive_int("validation_freq", validation_freq)
        verbose = verbose_level(verbose)
        if class_weight is not None and sample_weight is not None:
            raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
        if _streamed(x, validation_data):
            return self._fit_stream(x, y, sample_weight, batch_size, vbatch, epochs, verbose,
                                    callbacks, validation_split, validation_data, shuffle,
                                    class_weight, initial_epoch, steps_per_epoch,
                                    validation_steps, validation_freq)
        if validation_steps is not None:
            raise ValueError("fit: validation_steps is not supported with array data")
        x, y, w = self._arrays(x, y, sample_weight)
        val = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
                raise ValueError("validation_data must be a tuple (x_val, y_val) or "
                                 "(x_val, y_val, val_sample_weight)")
            val = self._arrays(*validation_data, xname="validation_data[0]",
                               yname="validation_data[1]", wname="validation_data[2]")
        elif validation_split:
            (x, y, w), val = split_validation([x, y, w], validation_split)
        elif validation_split != 0.0:
            split_validation([x], validation_split)
        if class_weight is not None:  # the training rows only: Keras splits first
            w = class_weights(class_weight, y, self.loss)
        metrics = self._resolve_metrics(y)
        bounds = batch_bounds(x.shape[0], batch_size)
        if steps_per_epoch is not None:
            if steps_per_epoch > len(bounds):
                raise ValueError(f"steps_per_epoch={steps_per_epoch} is more than the "
                                 f"{len(bounds)} batches of {x.shape[0]} samples")
            bounds = bounds[:steps_per_epoch]
        cbs = callbacks_mod.CallbackList(callbacks, add_history=True, add_progbar=verbose != 0,
                                         model=self, verbose=verbose, epochs=epochs,
                                         steps=len(bounds))
        with self._training():
            self.stop_training = False
            self._in_fit = True
            try:
                self._fit_loop(x, y, w, val, metrics, batch_size, vbatch, bounds, shuffle,
                               initial_epoch, epochs, validation_freq, cbs)
            finally:
                self._in_fit = False
        return cbs.history

    def _fit_loop(self, x, y, w, val, metrics, batch_size, vbatch, bounds, shuffle,
                  initial_epoch, epochs, validation_freq, cbs):
        step = Step(self, metrics)
        gather = Gatherer(x, y, w, batch_size, self.dtype)
        bufs = Buffers(self.layers, gather.xbuf.shape[0], self.dtype, train=True)
        val_pass = None
        if val is not None:
            vrows = inference_rows(vbatch, cbs.watches_batches("test"))
            val_pass = (Gatherer(*val, vrows, self.dtype),
                        Buffers(self.layers, min(vrows, val[0].shape[0]), self.dtype, False))
        n = x.shape[0]
        cbs.on_train_begin()
        logs = {}
        for epoch in range(initial_epoch, epochs):
            step.reset()
            cbs.on_epoch_begin(epoch)
            order = self._shuffle_rng.permutation(n) if shuffle else None
            for b, (s, e) in enumerate(bounds):
                cbs.on_train_batch_begin(b)
                batch = gather.take(order[s:e]) if shuffle else gather.slice(s, e)
                step.train(*batch, bufs)
                logs = step.logs()
                cbs.on_train_batch_end(b, logs)
                if self.stop_training:
                    break
            logs = step.logs()
            if val_pass is not None and (epoch + 1) % validation_freq == 0:
                vlogs = self._evaluate_loop(*val_pass, vbatch, cbs, metrics)
                logs = with_validation(logs, vlogs)
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbs.on_train_end(logs)

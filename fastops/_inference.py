"""evaluate and predict: the passes of a model over data that read its weights only.

They use per-call buffers, so any number of threads may run them on one model (a fit in
another thread makes them raise instead, fastops._threads).  Mixed into fastops.trainer's
Trainer, whose compile state (loss, metrics) they read.
"""
import copy

import numpy as np

from . import callbacks as callbacks_mod
from . import nn
from ._data import (Gatherer, batch_bounds, check_x, inference_passes, inference_rows,
                    positive_int, verbose_level)
from ._sources import is_stream, streamed as _streamed
from ._step import Buffers, Step, logged_metrics


class Inference:
    """evaluate / predict (and the evaluation loop fit's validation runs)."""

    # ---- evaluate ----

    def _evaluate_loop(self, gather, bufs, batch_size, cbs, metrics):
        step = Step(self, metrics)
        penalty = self._penalty()
        cbs.on_test_begin()
        n = gather.x.shape[0]
        for b, blocks in inference_passes(n, batch_size, cbs.watches_batches("test")):
            if b is not None:
                cbs.on_test_batch_begin(b)
            for s, e in blocks:
                step.test(*gather.slice(s, e), bufs, penalty)
            if b is not None:
                cbs.on_test_batch_end(b, step.logs())
        logs = step.logs()
        cbs.on_test_end(logs)
        return logs

    def _penalty(self):
        return sum(nn.l1_l2_penalty(w, r.l1, r.l2) for layer in self.layers
                   for w, r in zip(layer.trainable_weights, layer.regularizers) if r is not None)

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """Loss and metrics on (x, y): the loss alone without metrics, else [loss, *metrics] in
        compile order, or a dict with return_dict=True (Keras 3)."""
        self._require_compiled("evaluate")
        batch_size = 32 if batch_size is None else positive_int("batch_size", batch_size)
        verbose = verbose_level(verbose)
        if _streamed(x):
            steps = positive_int("steps", steps, True)
            with self._reading("evaluate"):
                logs, metrics = self._evaluate_stream(x, y, sample_weight, batch_size, verbose,
                                                      steps, callbacks)
        elif steps is not None:
            raise ValueError("evaluate: steps is not supported with array data")
        else:
            logs, metrics = self._evaluate_arrays(x, y, sample_weight, batch_size, verbose,
                                                  callbacks)
        return self._results(logs, metrics, return_dict)

    @staticmethod
    def _results(logs, metrics, return_dict):
        """What evaluate and the batch methods return (Keras 3): the logs dict, the loss
        alone without metrics, else [loss, *metrics] in compile order (plain, then weighted)."""
        if return_dict:
            return logs
        if not metrics:
            return logs["loss"]
        return [logs["loss"]] + [logs[name] for name, _ in logged_metrics(metrics)]

    def _evaluate_arrays(self, x, y, sample_weight, batch_size, verbose, callbacks):
        with self._reading("evaluate"):
            x, y, w = self._arrays(x, y, sample_weight)
            metrics = [copy.copy(m) for m in self._resolve_metrics(y)]  # per-call state
            n = x.shape[0]
            cbs = callbacks_mod.CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                             verbose=verbose, epochs=1,
                                             steps=len(batch_bounds(n, batch_size)))
            rows = inference_rows(batch_size, cbs.watches_batches("test"))
            logs = self._evaluate_loop(Gatherer(x, y, w, rows, self.dtype),
                                       Buffers(self.layers, min(rows, n), self.dtype, False),
                                       batch_size, cbs, metrics)
        return logs, metrics

    # ---- predict ----

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The last layer's outputs for x, shape (n, units), in the model dtype.

        A dask array x gives a dask array: inference runs where Dask runs the blocks (the
        threaded scheduler, or the cluster of an active distributed Client).
        """
        batch_size = 32 if batch_size is None else positive_int("batch_size", batch_size)
        verbose = verbose_level(verbose)
        if is_stream(x):
            steps = positive_int("steps", steps, True)
            if hasattr(type(x), "__dask_graph__"):
                from ._dask_predict import predict_dask
                return predict_dask(self, x, batch_size)
            with self._reading("predict"):
                return self._predict_stream(x, batch_size, verbose, steps, callbacks)
        if steps is not None:
            raise ValueError("predict: steps is not supported with array data")
        with self._reading("predict"):
            x = check_x(x, "x", self.input_dim)
            if not self.built:
                self.build((None, x.shape[1]))
            n = x.shape[0]
            out = np.empty((n,) + tuple(self.output_shape[1:]), self.dtype)
            cbs = callbacks_mod.CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                             verbose=verbose, epochs=1,
                                             steps=len(batch_bounds(n, batch_size)))
            watched = cbs.watches_batches("predict")
            gather = Gatherer(x, None, None, inference_rows(batch_size, watched), self.dtype)
            bufs = Buffers(self.layers, gather.xbuf.shape[0], self.dtype, train=False)
            cbs.on_predict_begin()
            for b, blocks in inference_passes(n, batch_size, watched):
                if b is not None:
                    cbs.on_predict_batch_begin(b)
                for s, e in blocks:
                    Step.predict(self.layers, gather.slice(s, e)[0], bufs, out[s:e])
                if b is not None:
                    cbs.on_predict_batch_end(b, {"outputs": out[blocks[0][0]:blocks[-1][1]]})
            cbs.on_predict_end()
        return out

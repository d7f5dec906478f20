"""Batches of streamed data made ready for a step: x cast to the model dtype, y and weights
checked as fit checks whole arrays, but one slab at a time (the data is never whole here).

A bad value in streamed data (NaN in x, a label out of range) can only be seen when its slab
is read: it raises then, naming the batch, before that batch's step.
"""
import numpy as np

from ._data import check_sample_weight, check_x, check_y, class_weights


class SlabChecker:
    """Checks and converts slabs (x, y, w) for one model call."""

    def __init__(self, model, need_targets, class_weight=None, streamed_targets=True):
        self.model = model
        self.need_targets = need_targets
        self.class_weight = class_weight
        self.streamed_targets = streamed_targets

    def __call__(self, slab, where):
        x, y, w = slab
        model = self.model
        x = check_x(x, f"x ({where})", model.input_dim)
        if not model.built:
            model.build((None, x.shape[1]))
        x = np.ascontiguousarray(x, dtype=model.dtype)
        if not self.need_targets:
            return x, None, None
        if self.streamed_targets:
            y = check_y(y, x.shape[0], f"y ({where})", f"x ({where})", model.loss,
                        model.output_shape[-1], model.dtype)
            if w is not None:
                if self.class_weight is not None:
                    raise ValueError("You cannot `class_weight` and `sample_weight` at the "
                                     "same time.")
                w = check_sample_weight(w, x.shape[0], f"sample_weight ({where})")
            elif self.class_weight is not None:
                w = class_weights(self.class_weight, y, model.loss)
        return x, y, w


def batches_of(slab, batch_size):
    """Cut a slab into batches of batch_size rows (views; the last may be shorter); with
    batch_size None the slab is one batch (a PyDataset's or a generator's own)."""
    x, y, w = slab
    n = x.shape[0]
    if batch_size is None or n <= batch_size:
        yield x, y, w
        return
    for s in range(0, n, batch_size):
        e = min(s + batch_size, n)
        yield x[s:e], None if y is None else y[s:e], None if w is None else w[s:e]

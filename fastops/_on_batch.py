"""Keras 3's single-batch methods: train_on_batch, test_on_batch, predict_on_batch, calling
a model on an array, and reset_metrics.  Mixed into fastops.trainer's Trainer; each runs the
same Step as fit / evaluate / predict on the whole batch at once."""
import numpy as np

from ._data import Gatherer, class_weights
from ._step import Buffers, Step


def _one_batch(x):
    """A batch size that takes all of x's rows at once (evaluate and predict check x)."""
    return max(np.shape(x)[0] if np.ndim(x) else 1, 1)


class OnBatch:
    """The batch methods of a compiled model (Keras 3's names, arguments and returns)."""

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        """One gradient step on the batch (x, y); returns the loss (no metrics), the list
        [loss, *metrics], or a dict with return_dict=True, of this batch alone (Keras 3)."""
        self._require_compiled("train_on_batch")
        if class_weight is not None and sample_weight is not None:
            raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
        with self._training("train_on_batch"):
            x, y, w = self._arrays(x, y, sample_weight)
            if class_weight is not None:
                w = class_weights(class_weight, y, self.loss)
            metrics = self._resolve_metrics(y)
            step = Step(self, metrics)
            n = x.shape[0]
            step.train(*Gatherer(x, y, w, n, self.dtype).slice(0, n),
                       Buffers(self.layers, n, self.dtype, train=True))
            logs = step.logs()
        return self._results(logs, metrics, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Loss and metrics of the batch (x, y), as evaluate returns them."""
        return self.evaluate(x, y, batch_size=_one_batch(x), verbose=0,
                             sample_weight=sample_weight, return_dict=return_dict)

    def predict_on_batch(self, x):
        """The model's outputs for the batch x (a NumPy array, as Keras 3 returns)."""
        return self.predict(x, batch_size=_one_batch(x), verbose=0)

    def __call__(self, inputs, training=None, mask=None):
        """The outputs for `inputs` as a NumPy array (Keras returns a backend tensor).
        training=True raises: fastops runs a training pass only inside a step, where its
        backward pass follows."""
        if training:
            raise ValueError(f"{self.name}: calling a fastops model with training=True is not "
                             f"supported; train_on_batch or fit run the training pass")
        if mask is not None:
            raise ValueError(f"{self.name}: masks are not supported")
        return self.predict_on_batch(inputs)

    def reset_metrics(self):
        """Reset the compiled metrics' state (each call of fit, evaluate and the batch
        methods starts from zero anyway)."""
        for m in self.compiled_metrics:
            m.reset_state()

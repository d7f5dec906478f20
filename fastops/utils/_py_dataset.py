"""PyDataset: a dataset of batches computed by Python code (Keras 3's keras.utils.PyDataset)."""
import warnings


def _option(name):
    """A constructor option as a property that warns, as Keras' does, when the subclass
    never called super().__init__ (the default is then used)."""
    attr = "_" + name

    def get(self):
        self._warn_if_super_not_called()
        return getattr(self, attr)

    def set(self, value):
        setattr(self, attr, value)

    return property(get, set)


class PyDataset:
    """Base class of a dataset that returns whole batches by index (Keras 3's PyDataset).

    Subclasses implement `__len__` (the number of batches) and `__getitem__(index)`, which
    returns a batch `(x, y)`, `(x, y, sample_weight)` or, for predict, `x` or `(x,)`.
    `on_epoch_begin` / `on_epoch_end` are called around each epoch of fit.  fit, evaluate
    and predict fetch batches ahead in background threads while the model computes:
    `workers` threads (at least one) keep up to `max_queue_size` batches ready, in order.
    `use_multiprocessing=True` is accepted and runs on threads too (fastops' kernels
    release the GIL, so the model's own work does not need processes).

    Args:
        workers: threads fetching batches (Keras 3's default 1).
        use_multiprocessing: accepted for Keras compatibility; threads are used.
        max_queue_size: batches kept ready ahead of the model (Keras' default 10).

    Example:
        >>> class Batches(fastops.utils.PyDataset):
        ...     def __init__(self, x, y, batch_size, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.x, self.y, self.batch_size = x, y, batch_size
        ...     def __len__(self):
        ...         return -(-len(self.x) // self.batch_size)
        ...     def __getitem__(self, i):
        ...         s = slice(i * self.batch_size, (i + 1) * self.batch_size)
        ...         return self.x[s], self.y[s]
        >>> model.fit(Batches(x, y, 128), epochs=5)
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _warn_if_super_not_called(self):
        missing = [name for name in ("_workers", "_use_multiprocessing", "_max_queue_size")
                   if not hasattr(self, name)]
        defaults = {"_workers": 1, "_use_multiprocessing": False, "_max_queue_size": 10}
        for name in missing:
            setattr(self, name, defaults[name])
        if missing:
            warnings.warn("Your `PyDataset` class should call `super().__init__(**kwargs)` in "
                          "its constructor. `**kwargs` can include `workers`, "
                          "`use_multiprocessing`, `max_queue_size`.", stacklevel=3)

    workers = _option("workers")
    use_multiprocessing = _option("use_multiprocessing")
    max_queue_size = _option("max_queue_size")

    def __getitem__(self, index):
        """The batch at position `index`."""
        raise NotImplementedError

    @property
    def num_batches(self):
        """Batches in the dataset: len(self) (fastops has no infinite PyDataset)."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError("You need to implement `__len__` (the number of batches)")

    def on_epoch_begin(self):
        """Called at the beginning of every epoch of fit."""

    def on_epoch_end(self):
        """Called at the end of every epoch of fit."""

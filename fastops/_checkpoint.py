"""The callbacks that write files: ModelCheckpoint and CSVLogger, every write atomic."""
import csv
import io
import os

import numpy as np

from ._atomic import atomic_open
from .callbacks import _Monitor, Callback


class ModelCheckpoint(_Monitor):
    """Save the model (or its weights) at the end of each epoch.

    Args:
        filepath: may hold `{epoch:02d}` and log keys such as `{val_loss:.2f}`.  Must end in
            '.keras' (the whole model), or '.weights.h5' / '.npz' with save_weights_only.
        monitor, mode: the log value that decides the best epoch ('val_loss', 'auto').
        save_best_only: save only when `monitor` improves.
        save_weights_only: call model.save_weights instead of model.save.
        save_freq: 'epoch' (saving every N batches is not supported).
        initial_value_threshold: the value `monitor` must beat first.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__(monitor, mode)
        self.filepath = os.fspath(filepath)
        if save_freq != "epoch":
            raise ValueError(f"ModelCheckpoint: only save_freq='epoch' is supported, got "
                             f"{save_freq!r}")
        if save_weights_only:
            if not self.filepath.endswith((".weights.h5", ".npz")):
                raise ValueError("When using `save_weights_only=True` in `ModelCheckpoint`, the "
                                 "filepath provided must end in `.weights.h5` (Keras weights "
                                 f"format) or `.npz`. Received: filepath={self.filepath}")
        elif not self.filepath.endswith(".keras"):
            raise ValueError("The filepath provided must end in `.keras` (Keras model format). "
                             f"Received: filepath={self.filepath}")
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self.best = initial_value_threshold

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        try:
            path = self.filepath.format(epoch=epoch + 1, **logs)
        except KeyError as e:
            raise KeyError(f"ModelCheckpoint: failed to format the filepath {self.filepath!r}: "
                           f"{e} is not among the logs {sorted(logs)}") from None
        if self.save_best_only:
            current = self._current(logs)
            if current is None or not self._better(current, self.best):
                if self.verbose > 0 and current is not None:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best}")
                return
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best} to "
                      f"{current}, saving model to {path}")
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        if self.save_weights_only:
            self.model.save_weights(path, overwrite=True)
        else:
            self.model.save(path, overwrite=True)


class CSVLogger(Callback):
    """Write each epoch's logs as a CSV row ('epoch' then the sorted keys).

    The whole file is rewritten atomically at each epoch end, so a reader (or a crash)
    always sees complete rows.  With append=True, the rows of an existing file are kept.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = bool(append)
        self.keys = None

    def on_train_begin(self, logs=None):
        self._previous = ""
        if self.append and os.path.exists(self.filename):
            with open(self.filename, newline="") as f:
                self._previous = f.read()
        self._rows = io.StringIO()
        self.keys = None
        self._writer = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys += [f"val_{k}" for k in self.keys]
        if self._writer is None:
            dialect = type("Dialect", (csv.excel,), {"delimiter": self.sep})
            self._writer = csv.DictWriter(self._rows, fieldnames=["epoch"] + self.keys,
                                          dialect=dialect)
            if not self._previous:
                self._writer.writeheader()
        row = {"epoch": epoch}
        row.update((k, _value(logs.get(k, "NA"))) for k in self.keys)
        self._writer.writerow(row)
        with atomic_open(self.filename, "w", newline="") as f:
            f.write(self._previous + self._rows.getvalue())


def _value(v):
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    return v

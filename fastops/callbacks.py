"""Callbacks with Keras 3's hooks, arguments and behaviour.

fit / evaluate / predict call, through a CallbackList: on_train_begin/end,
on_epoch_begin/end(epoch, logs), on_train_batch_begin/end(batch, logs), on_test_* during
evaluation (and fit's validation), on_predict_*.  `logs` hold the running means of the loss
and metrics ('val_' ones at epoch end).  A callback reaches the model as `self.model` and may
set `self.model.stop_training = True`.  History and the progress bar are callbacks too.
"""
import math
import warnings

import numpy as np


__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger", "EarlyStopping",
           "ModelCheckpoint", "LearningRateScheduler", "ReduceLROnPlateau", "CSVLogger",
           "TerminateOnNaN", "LambdaCallback"]

_HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_test_begin",
          "on_test_end", "on_predict_begin", "on_predict_end", "on_train_batch_begin",
          "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end",
          "on_predict_batch_begin", "on_predict_batch_end")


class Callback:
    """Base class: override the hooks you need; `self.model` and `self.params` are set by fit."""

    def __init__(self):
        self.params = {}
        self._model = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self._model = model

    @property
    def model(self):
        return self._model

    def on_batch_begin(self, batch, logs=None):
        """Alias of on_train_batch_begin (Keras 2 name)."""

    def on_batch_end(self, batch, logs=None):
        """Alias of on_train_batch_end (Keras 2 name)."""

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)


def _noop(self, *args, **kwargs):
    return None


for _hook in _HOOKS:
    if not hasattr(Callback, _hook):
        setattr(Callback, _hook, _noop)


class CallbackList:
    """Calls each hook on every callback in order, then History, then the progress bar (as
    Keras 3: History sees the keys callbacks add to the epoch logs)."""

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None,
                 **params):
        if callbacks is None:
            callbacks = []
        if isinstance(callbacks, Callback) or not isinstance(callbacks, (list, tuple)):
            raise TypeError(f"callbacks must be a list of fastops.callbacks.Callback, got "
                            f"{type(callbacks).__name__}")
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be fastops.callbacks.Callback instances, got "
                                f"{type(cb).__name__}")
        self.callbacks = list(callbacks)
        self.history = None
        if add_history:  # one the caller passed is the one fit returns (Keras 3)
            self.history = next((c for c in self.callbacks if isinstance(c, History)), None)
            if self.history is None:
                self.history = History()
                self.callbacks.append(self.history)
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)

    def watches_batches(self, mode):
        """Whether a callback overrides on_<mode>_batch_begin or _end ('train', 'test',
        'predict'): if none does, the batches of that loop are not observable."""
        hooks = (f"on_{mode}_batch_begin", f"on_{mode}_batch_end")
        # the hook as the instance resolves it: a method inherited from Callback is the no-op
        return any(getattr(getattr(cb, h), "__func__", None) is not getattr(Callback, h)
                   for cb in self.callbacks for h in hooks)

    def __getattr__(self, hook):
        if hook not in _HOOKS:
            raise AttributeError(hook)

        before_logs = 1 if "batch" in hook or "epoch" in hook else 0
        by_keyword = "batch" in hook  # as Keras 3's CallbackList passes them

        def call(*args, **kwargs):
            # every callback gets a dict, never None, as in Keras 3 (logs = logs or {})
            logs = kwargs.pop("logs", args[before_logs] if len(args) > before_logs else None)
            logs = {} if logs is None else logs
            args = args[:before_logs]
            for cb in self.callbacks:
                if by_keyword:
                    getattr(cb, hook)(*args, logs=logs)
                else:
                    getattr(cb, hook)(*args, logs)
        return call


class History(Callback):
    """Records each epoch's logs: `history` maps 'loss', 'accuracy', 'val_loss', ... to lists."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        self.model.history = self

    def __repr__(self):
        return f"<History epochs={len(self.epoch)} keys={list(self.history)}>"


class _Monitor(Callback):
    """Shared by EarlyStopping, ModelCheckpoint, ReduceLROnPlateau: a monitored log value."""

    def __init__(self, monitor, mode):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{type(self).__name__}: mode must be 'auto', 'min' or 'max', got "
                             f"{mode!r}")
        self.monitor = monitor
        if mode == "auto":
            name = monitor[4:] if monitor.startswith("val_") else monitor
            mode = "max" if name in ("acc", "accuracy", "auc") or name.endswith("accuracy") \
                else "min"
        self.mode = mode

    def _better(self, current, reference, delta=0.0):
        if reference is None:
            return True
        if self.mode == "max":
            return current - delta > reference
        return current + delta < reference

    def _current(self, logs):
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(f"{type(self).__name__}: the metric '{self.monitor}' is not in the "
                          f"logs (available: {sorted(logs or {})}); skipping", RuntimeWarning,
                          stacklevel=3)
        return value


class EarlyStopping(_Monitor):
    """Stop training when `monitor` has not improved by `min_delta` for `patience` epochs.

    Args:
        monitor: log key ('val_loss').
        min_delta: smallest change that counts as an improvement.
        patience: epochs without improvement before stopping.
        verbose: 1 prints when it stops and restores.
        mode: 'auto', 'min' or 'max'.
        baseline: the value to beat before the patience counter restarts.
        restore_best_weights: set the best epoch's weights back at the end of training.
        start_from_epoch: epochs to wait before monitoring.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode)
        if not isinstance(patience, (int, np.integer)) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be an int >= 0, got {patience!r}")
        self.min_delta = abs(float(min_delta))
        self.patience = int(patience)
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = int(start_from_epoch)

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        current = self._current(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self._better(current, self.best, self.min_delta):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._better(current, self.baseline, self.min_delta):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class LearningRateScheduler(Callback):
    """Set the optimizer's learning rate to schedule(epoch, lr) at the start of each epoch."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError("LearningRateScheduler: schedule must be callable(epoch, lr)")
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr = self.model.optimizer.learning_rate
        try:
            lr = self.schedule(epoch, lr)
        except TypeError:  # a one-argument schedule(epoch), as Keras allows
            lr = self.schedule(epoch)
        if not isinstance(lr, (float, int, np.floating, np.integer)) or isinstance(lr, bool):
            raise ValueError(f"LearningRateScheduler: the schedule returned {lr!r}, not a number")
        self.model.optimizer.learning_rate = float(lr)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class ReduceLROnPlateau(_Monitor):
    """Multiply the learning rate by `factor` when `monitor` stalls for `patience` epochs."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        super().__init__(monitor, mode)
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau: unexpected arguments {sorted(kwargs)}")
        if not 0 < factor < 1:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0 (or <= 0). "
                             f"Got {factor}")
        self.factor, self.patience, self.verbose = float(factor), int(patience), verbose
        self.min_delta, self.cooldown, self.min_lr = float(min_delta), int(cooldown), float(min_lr)

    def on_train_begin(self, logs=None):
        self.best, self.wait, self.cooldown_counter = None, 0, 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = float(self.model.optimizer.learning_rate)
        current = self._current(logs)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._better(current, self.best, self.min_delta):
            self.best, self.wait = current, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = float(self.model.optimizer.learning_rate)
                if old > self.min_lr:
                    new = max(old * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                              f"to {new}.")
                    self.cooldown_counter, self.wait = self.cooldown, 0


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite."""

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


from ._checkpoint import CSVLogger, ModelCheckpoint  # noqa: E402  (they use the base above)
from .progbar import ProgbarLogger  # noqa: E402


class LambdaCallback(Callback):
    """A callback from plain functions, one per hook (Keras 3): on_epoch_begin(epoch, logs),
    on_train_batch_end(batch, logs), on_train_begin(logs), ...; on_batch_begin / on_batch_end
    stand for the train-batch hooks, as in Keras.

    Example:
        >>> LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs["loss"]))
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        hooks = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end,
                     on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end)
        for legacy, hook in (("on_batch_begin", "on_train_batch_begin"),
                             ("on_batch_end", "on_train_batch_end")):
            if legacy in kwargs:
                fn = kwargs.pop(legacy)
                hooks[hook] = hooks[hook] or fn
        for name, fn in kwargs.items():
            if name not in _HOOKS:
                raise TypeError(f"LambdaCallback: unexpected argument {name!r}; hooks are "
                                f"{list(_HOOKS)}")
            hooks[name] = fn
        for name, fn in hooks.items():
            if fn is None:
                continue
            if not callable(fn):
                raise TypeError(f"LambdaCallback: {name} must be callable, got "
                                f"{type(fn).__name__}")
            setattr(self, name, fn)  # an instance attribute: watches_batches sees it

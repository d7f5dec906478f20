"""Keras-style progress output (the tf.keras 2.x line format).

verbose=1 on a terminal: one line redrawn in place with '\\r' (at most every 50 ms);
verbose=1 elsewhere and verbose=2: one line per epoch; verbose=0: nothing.
"""
import sys
import time


def _fmt_value(v):
    return f"{v:.4f}" if abs(v) > 1e-3 else f"{v:.4e}"


def _fmt_per_step(seconds):
    if seconds >= 1:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


class Progbar:
    """Progress of `target` steps; `update(step, values)` with values a list of (name, float)."""

    def __init__(self, target, verbose=1, width=30, stream=None, interval=0.05):
        self.target = target
        self.verbose = verbose
        self.width = width
        self.stream = stream or sys.stdout
        self.interval = interval
        isatty = getattr(self.stream, "isatty", None)
        self.dynamic = bool(isatty and isatty())
        self.start = time.perf_counter()
        self._last_draw = 0.0
        self._last_len = 0

    def _bar(self, step):
        done = int(self.width * step / self.target) if self.target else self.width
        bar = "=" * max(done - 1, 0)
        if step < self.target:
            bar += ">" if done > 0 else ""
        elif done > 0:
            bar += "="
        return f"[{bar}{'.' * (self.width - len(bar))}]"

    def update(self, step, values=(), finalize=None):
        if self.verbose == 0:
            return
        finalize = step >= self.target if finalize is None else finalize
        now = time.perf_counter()
        if not finalize and (self.verbose != 1 or not self.dynamic or now - self._last_draw < self.interval):
            return
        self._last_draw = now
        elapsed = now - self.start
        digits = len(str(self.target))
        metrics = "".join(f" - {name}: {_fmt_value(v)}" for name, v in values)
        per_step = elapsed / max(step, 1)
        if finalize:
            timing = f"{elapsed:.0f}s {_fmt_per_step(per_step)}"
            if self.verbose == 2:
                line = f"{step:{digits}d}/{self.target} - {timing}{metrics}"
            else:
                line = f"{step:{digits}d}/{self.target} {self._bar(step)} - {timing}{metrics}"
        else:
            eta = per_step * (self.target - step)
            line = f"{step:{digits}d}/{self.target} {self._bar(step)} - ETA: {eta:.0f}s{metrics}"
        if self.dynamic and self.verbose == 1:
            pad = " " * max(self._last_len - len(line), 0)
            self.stream.write("\r" + line + pad + ("\n" if finalize else ""))
            self._last_len = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


from .callbacks import Callback as _Callback  # noqa: E402  (callbacks imports this module last)


class ProgbarLogger(_Callback):
    """Prints 'Epoch i/n' and a progress line per epoch (verbose 1: a bar, 2: one line)."""

    def __init__(self):
        super().__init__()
        self._bar = None
        self._mode = "train"

    def _start(self, steps):
        verbose = self.params.get("verbose", 1)
        self._bar = Progbar(steps or 0, verbose=verbose) if verbose else None

    def on_epoch_begin(self, epoch, logs=None):
        if self.params.get("verbose", 1):
            print(f"Epoch {epoch + 1}/{self.params.get('epochs', 1)}", flush=True)
        self._start(self.params.get("steps"))
        self._seen = 0

    def on_train_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        if self._bar is not None and self.params.get("verbose") == 1:
            self._bar.update(batch + 1, list((logs or {}).items()), finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        if self._bar is not None:
            self._bar.update(self._seen, list((logs or {}).items()), finalize=True)

    def on_test_begin(self, logs=None):
        if not getattr(self.model, "_in_fit", False):
            self._start(self.params.get("steps"))

    def on_test_batch_end(self, batch, logs=None):
        if self._bar is not None and not getattr(self.model, "_in_fit", False):
            self._bar.update(batch + 1, list((logs or {}).items()),
                             finalize=batch + 1 == self.params.get("steps"))

    def on_predict_begin(self, logs=None):
        self._start(self.params.get("steps"))

    def on_predict_batch_end(self, batch, logs=None):
        if self._bar is not None:
            self._bar.update(batch + 1, finalize=batch + 1 == self.params.get("steps"))

"""Thread rules of a model: any number of concurrent predict / evaluate calls, one fit at a time
and no reader from another thread while it runs (fit changes the weights in place)."""
import contextlib
import threading


class ThreadGuard:
    """Mixin: `_reading(what)` around predict/evaluate, `_training()` around fit."""

    def _init_guard(self):
        self._guard = threading.Lock()
        self._fit_thread = None
        self._readers = {}

    @contextlib.contextmanager
    def _reading(self, what):
        me = threading.get_ident()
        with self._guard:
            if self._fit_thread is not None and self._fit_thread != me:
                raise RuntimeError(f"{what}: fit is running on this model in another thread; "
                                   f"wait for it (fit changes the weights in place)")
            self._readers[me] = self._readers.get(me, 0) + 1
        try:
            yield
        finally:
            with self._guard:
                self._readers[me] -= 1
                if not self._readers[me]:
                    del self._readers[me]

    @contextlib.contextmanager
    def _training(self, what="fit"):
        me = threading.get_ident()
        with self._guard:
            if self._fit_thread == me:
                raise RuntimeError(f"{what}: fit is running on this model in this thread (a "
                                   f"callback?); {what} would change the weights under it")
            if self._fit_thread is not None or any(t != me for t in self._readers):
                raise RuntimeError(f"{what}: the model is in use by another thread (fit, "
                                   f"predict or evaluate); {what} changes the weights in place")
            self._fit_thread = me
        try:
            yield
        finally:
            with self._guard:
                self._fit_thread = None

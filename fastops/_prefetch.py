"""Fetch items of an iterator ahead of their use, in a background thread.

fit / evaluate / predict read streamed data (np.memmap, dask arrays, PyDataset, generators)
through `Prefetch`: a thread runs the iterator (reading the file, computing the dask block,
calling __getitem__) and keeps at most `depth` items ready in a queue, so memory stays at
the model plus a few items while the model computes on the previous one.  The thread runs in
a copy of the caller's context, so a fastops.config_context in force applies to it too.
"""
import collections
import contextvars
import queue
import threading
from concurrent.futures import ThreadPoolExecutor

_END = object()


class _Failure:
    def __init__(self, exc):
        self.exc = exc


class Prefetch:
    """Iterate `iterable` in a thread, `depth` items ahead; use as a context manager so the
    thread stops when the consumer stops early (an exception, stop_training).

    Example:
        >>> with Prefetch(batches(), depth=2) as items:
        ...     for item in items:
        ...         step(item)
    """

    def __init__(self, iterable, depth=2):
        self._queue = queue.Queue(max(1, int(depth)))
        self._stop = threading.Event()
        ctx = contextvars.copy_context()
        self._thread = threading.Thread(target=ctx.run, args=(self._run, iterable),
                                        name="fastops-prefetch", daemon=True)
        self._thread.start()

    def _put(self, item):
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, iterable):
        try:
            for item in iterable:
                if not self._put(item):
                    return
            self._put(_END)
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(_Failure(exc))
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()

    def __iter__(self):
        return self

    def __next__(self):
        item = self._queue.get()
        if item is _END:
            self._queue.put(_END)  # a second next() also ends
            raise StopIteration
        if isinstance(item, _Failure):
            raise item.exc
        return item

    def close(self):
        self._stop.set()
        while self._thread.is_alive():
            try:
                self._queue.get(timeout=0.05)
            except queue.Empty:
                pass
        self._thread.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def ordered_map(fn, items, workers, window):
    """fn(item) for each item, computed by `workers` threads at most `window` items ahead,
    yielded in the order of `items`."""
    if workers <= 1:
        for item in items:
            yield fn(item)
        return
    ctx = contextvars.copy_context()
    with ThreadPoolExecutor(workers, thread_name_prefix="fastops-dataset") as pool:
        pending = collections.deque()
        it = iter(items)
        for item in it:
            pending.append(pool.submit(ctx.copy().run, fn, item))
            if len(pending) >= window:
                break
        while pending:
            result = pending.popleft().result()
            nxt = next(it, _END)
            if nxt is not _END:
                pending.append(pool.submit(ctx.copy().run, fn, nxt))
            yield result

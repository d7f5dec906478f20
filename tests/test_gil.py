"""README: "Kernels release the GIL".  Shown without timing: with the interpreter's switch
interval raised far beyond the test's length, the only moments another Python thread can
run are those where the running thread gives the GIL up itself.  A counter thread that
gives it up between increments can therefore advance during a call only if that call
released the GIL; a call that holds it leaves the counter exactly where it was (checked
on a pure-Python loop and a GIL-holding NumPy call, so the test can fail).
"""
import sys
import threading
import time

import numpy as np
import pytest

import fastops
from fastops import nn

N = 1_500_000  # long enough that a released GIL is taken over many times
ROWS, COLS = 3000, 500


@pytest.fixture
def counter():
    """A thread counting while it holds the GIL; sleep(0) hands the GIL back each time."""
    state = {"count": 0, "stop": False}

    def count():
        while not state["stop"]:
            state["count"] += 1
            time.sleep(0)

    old = sys.getswitchinterval()
    sys.setswitchinterval(100.0)  # no forced switch: only voluntary releases let it run
    t = threading.Thread(target=count, daemon=True)
    t.start()
    time.sleep(0.01)  # let it reach its loop
    try:
        yield state
    finally:
        state["stop"] = True
        sys.setswitchinterval(old)
        t.join(10)


def counted_during(state, call, repeats=100, until_moved=True):
    """How far the counter advanced while `call` ran, summed over up to `repeats` calls
    (stopping at the first call it advanced in, with `until_moved`): on a busy machine the
    counter thread may not be scheduled within one short call, but it is within a few."""
    moved = 0
    for _ in range(repeats):
        before = state["count"]
        call()
        moved += state["count"] - before
        if moved and until_moved:
            break
    return moved


rng = np.random.default_rng(7)
X = rng.standard_normal(N).astype(np.float32)
A = rng.standard_normal((ROWS, COLS)).astype(np.float32)
B = rng.standard_normal((COLS, COLS)).astype(np.float32)
LOGITS = rng.standard_normal((N // 10, 10)).astype(np.float32)
ONEHOT = np.eye(10, dtype=np.float32)[rng.integers(0, 10, N // 10)]
W, G, V = (rng.standard_normal(N).astype(np.float32) for _ in range(3))

CALLS = {
    "add": lambda: fastops.add(X, X),
    "relu": lambda: fastops.relu(X),
    "sum": lambda: fastops.sum(A, axis=0),
    "matmul fastops": lambda: fastops.matmul(A, B, backend="fastops"),
    "matmul blas": lambda: fastops.matmul(A, B, backend="blas"),
    "matmul cython": lambda: fastops.matmul(A, B, backend="cython"),
    "cython add": lambda: fastops.cython.add(X, X),
    "softmax": lambda: nn.softmax(LOGITS),
    "softmax_crossentropy": lambda: nn.softmax_crossentropy(LOGITS, ONEHOT),
    "rmsprop_update": lambda: nn.rmsprop_update(W, G, np.abs(V)),
    "dropout": lambda: nn.dropout(X, 0.5, 1),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_the_kernel_releases_the_gil(counter, name):
    with fastops.config_context(num_threads=1):
        assert counted_during(counter, CALLS[name]) > 0


def test_calls_that_hold_the_gil_leave_the_counter_still(counter):
    def python_loop():
        total = 0
        for i in range(300_000):
            total += i
        return total

    assert counted_during(counter, python_loop, repeats=20, until_moved=False) == 0
    # a NumPy call that keeps the GIL (object dtype runs Python code per element)
    objects = np.arange(100_000, dtype=object)
    assert counted_during(counter, lambda: objects.sum(), repeats=20, until_moved=False) == 0

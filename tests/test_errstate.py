"""np.errstate is honoured as NumPy's ufuncs honour it: warn, raise, call, ignore."""
import warnings

import numpy as np
import pytest

import fastops

ONES = np.ones(5, np.float32)
ZEROS = np.zeros(5, np.float32)
BIG = np.full(5, 3e38, np.float32)


def runtime_warnings(fn, *args, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn(*args, **kw)
    return result, [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize("fn, args, message", [
    (fastops.divide, (ONES, ZEROS), "divide by zero encountered in divide"),
    (fastops.add, (BIG, BIG), "overflow encountered in add"),
    (fastops.multiply, (BIG, BIG), "overflow encountered in multiply"),
    (fastops.subtract, (np.full(3, np.inf), np.full(3, np.inf)), "invalid value encountered in subtract"),
    (fastops.sum, (BIG,), "overflow encountered in sum"),
    (fastops.matmul, (np.full((2, 2), 3e38, np.float32), np.full((2, 2), 10, np.float32)),
     "overflow encountered in matmul"),
])
def test_warn_raise_ignore_call(fn, args, message):
    _, said = runtime_warnings(fn, *args)
    assert said == [message]
    with np.errstate(all="raise"):
        with pytest.raises(FloatingPointError, match=message):
            fn(*args)
    with np.errstate(all="ignore"):
        _, said = runtime_warnings(fn, *args)
    assert said == []
    calls = []
    with np.errstate(all="call"):
        old = np.seterrcall(lambda kind, flag: calls.append(kind))
        try:
            fn(*args)
        finally:
            np.seterrcall(old)
    assert calls == [message.split(" encountered")[0]]


def test_clean_calls_stay_silent_and_flags_do_not_leak():
    # a flag raised by an earlier call (here NumPy's) must not be reported by a clean one
    with np.errstate(all="ignore"):
        np.divide(ONES, ZEROS)
    with np.errstate(all="raise"):
        fastops.add(ONES, ONES)
        fastops.matmul(np.ones((3, 3)), np.ones((3, 3)))
        fastops.sum(ONES)


def test_comparisons_and_relu_never_report_nan():
    x = np.array([np.nan, 1.0, -1.0], np.float32)
    with np.errstate(all="raise"):
        fastops.maximum(x, x[::-1])
        fastops.relu(x)
        fastops.relu_backward(x, x)


def test_under_is_reported_only_when_asked():
    tiny = np.full(4, 1e-30, np.float32)
    _, said = runtime_warnings(fastops.multiply, tiny, tiny)  # NumPy's default: under='ignore'
    assert said == []
    with np.errstate(under="raise"):
        with pytest.raises(FloatingPointError, match="underflow encountered in multiply"):
            fastops.multiply(tiny, tiny)


def test_threaded_kernels_report_what_any_thread_raised():
    a = np.ones(1_000_000, np.float32)
    b = np.ones(1_000_000, np.float32)
    b[-3] = 0.0  # in the last thread's share
    with fastops.config_context(num_threads=2):
        with np.errstate(divide="raise"):
            with pytest.raises(FloatingPointError, match="divide by zero"):
                fastops.divide(a, b)


@pytest.mark.parametrize("kind", ["overflow", "underflow"])
def test_overflow_and_underflow_on_a_worker_thread_reach_the_caller(kind):
    # glibc's feraiseexcept raises these two on the x87 unit, which the SSE status the
    # callers read never saw: 2 threads missed what 1 thread reported
    big = np.float32(1e30 if kind == "overflow" else 1e-30)
    a = np.ones(2_000_000, np.float32)
    a[-4:] = big  # in the last thread's share only
    flag = {"overflow": "over", "underflow": "under"}[kind]
    for threads in (1, 2):
        with fastops.config_context(num_threads=threads), np.errstate(**{flag: "raise"}):
            with pytest.raises(FloatingPointError, match=f"{kind} encountered in multiply"):
                fastops.multiply(a, a)


def test_matmul_overflow_on_a_worker_thread_reaches_the_caller():
    a = np.ones((512, 256), np.float32)
    b = np.ones((256, 512), np.float32)
    b[:, -2:] = 1e37  # the last columns: another thread's block at 2 threads
    for threads in (1, 2):
        with fastops.config_context(num_threads=threads, backend="fastops"), \
                np.errstate(over="raise"):
            with pytest.raises(FloatingPointError, match="overflow encountered in matmul"):
                fastops.matmul(a, b)


def test_matmul_padding_products_are_not_reported():
    # inf in A against the zero padding of B's edge tile raises 'invalid' in products that are
    # discarded: the result is finite except where NumPy's is, and only real ones report
    a = np.ones((7, 33), np.float32)
    b = np.ones((33, 5), np.float32)
    a[0, 0] = 1e30
    with np.errstate(all="raise"):
        c = fastops.matmul(a, b)
    assert np.isfinite(c).all()

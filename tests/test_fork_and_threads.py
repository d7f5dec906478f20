"""fastops' thread pool in real Python programs: children of fork compute with threads and
never hang (issue 9), idle workers stop using the CPU soon after a call (issue 13), and
kernels called from several Python threads at once give the serial results."""
import concurrent.futures
import multiprocessing
import os
import threading
import time

import numpy as np
import pytest

import fastops
from fastops import _blas_threads, _kernels

# large enough that every kernel below splits over 2 threads
A = np.random.default_rng(0).standard_normal((700, 700)).astype(np.float32)
B = np.random.default_rng(1).standard_normal((700, 700)).astype(np.float32)


def threaded_work(seed):
    """100 threaded kernel calls; their results, folded into a few numbers."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(300_000).astype(np.float32)
    out = []
    with fastops.config_context(num_threads=2):
        for i in range(100):
            if i % 3 == 0:
                out.append(float(fastops.matmul(A, B)[i % 700].sum()))
            elif i % 3 == 1:
                out.append(float(fastops.sum(fastops.relu(x))))
            else:
                out.append(float(fastops.add(x, x)[i]))
    return out


@pytest.fixture(scope="module")
def parent_results():
    threaded_work(0)  # the parent's pool has workers before any fork
    return {s: threaded_work(s) for s in range(4)}


def in_forked_child(work, what):
    """Run work() (returning bytes) in a child of os.fork and return what it wrote; fail if
    the child is still running after 60 s (a hang, as libgomp's children had)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: run, report, never return into pytest
        try:
            os.write(w, work())
        finally:
            os._exit(0)
    os.close(w)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail(f"the forked child hung {what}")
    said = os.read(r, 256)
    os.close(r)
    return said


def test_os_fork_child_computes_with_threads(parent_results):
    def work():
        ok = threaded_work(1) == parent_results[1] and _kernels.pool_state()[0] >= 1
        return b"ok" if ok else b"wrong"
    assert in_forked_child(work, "in fastops' kernels") == b"ok"


def test_fork_child_after_the_cython_rung_ran_threaded():
    """libgomp cannot start a team in a child forked after the parent ran one (the child
    hung): there the Cython rung runs on one thread, with one RuntimeWarning, same result."""
    with fastops.config_context(num_threads=2):
        expected = fastops.cython.matmul(A, B)  # an OpenMP team in the parent

    def work():
        import warnings
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            with fastops.config_context(num_threads=2):
                got = [fastops.cython.matmul(A, B) for _ in range(2)]
        said = [str(x.message) for x in seen if issubclass(x.category, RuntimeWarning)]
        ok = all(np.array_equal(g, expected) for g in got) and len(said) == 1 \
            and "one thread" in said[0]
        return b"ok" if ok else repr(said).encode()[:200]
    assert in_forked_child(work, "in the Cython rung") == b"ok"


@pytest.mark.parametrize("kind", ["pool", "executor"])
def test_fork_start_method_workers(parent_results, kind):
    """A 'fork' multiprocessing.Pool and a ProcessPoolExecutor of 4 workers x 100 threaded
    kernel calls each: no hang, the parent's results."""
    ctx = multiprocessing.get_context("fork")
    if kind == "pool":
        with ctx.Pool(4) as pool:
            results = pool.map_async(threaded_work, range(4)).get(timeout=120)
    else:
        with concurrent.futures.ProcessPoolExecutor(4, mp_context=ctx) as ex:
            results = list(ex.map(threaded_work, range(4), timeout=120))
    assert results == [parent_results[s] for s in range(4)]


def test_idle_workers_stop_spinning_and_use_no_cpu():
    with fastops.config_context(num_threads=2):
        fastops.matmul(A, B)
    time.sleep(0.05)  # far beyond the spin time (1 ms)
    size, spinning, cpu0, spin_us = _kernels.pool_state()
    assert size >= 1 and spinning == 0
    time.sleep(0.2)
    assert _kernels.pool_state()[2] - cpu0 < 2_000_000  # under 2 ms of CPU in 200 ms idle


def test_alternating_with_numpy_leaves_numpy_its_cores():
    """fastops then np.matmul, over and over, with OpenBLAS on its own workers
    (FASTOPS_BLAS_THREADS=native; by default its jobs run on the pool, test_blas_threads.py):
    fastops' workers must be asleep while NumPy runs, so their CPU time is at most the fastops
    calls' own time plus the spins."""
    x = np.random.default_rng(2).standard_normal((400, 400)).astype(np.float32)
    _blas_threads.uninstall()
    try:
        worker_cpu, busy = _alternate_with_numpy(x)
    finally:
        _blas_threads.install()
    spins = 20 * 2 * _kernels.pool_state()[3] * 1e-6  # a spin after each call and each barrier
    assert worker_cpu <= busy + spins + 0.01


def _alternate_with_numpy(x):
    with fastops.config_context(num_threads=2):
        fastops.matmul(x, x)
        cpu0 = _kernels.pool_state()[2]
        busy = 0.0
        for _ in range(20):
            t = time.perf_counter()
            fastops.matmul(x, x)
            busy += time.perf_counter() - t
            np.matmul(x, x)
            np.matmul(x, x)
        return (_kernels.pool_state()[2] - cpu0) / 1e9, busy


def test_kernels_from_many_python_threads_give_the_serial_results():
    x = np.random.default_rng(3).standard_normal(400_000).astype(np.float32)
    expected = (fastops.matmul(A, B), fastops.relu(x), fastops.sum(x))
    errors = []

    def worker():
        for _ in range(10):
            with fastops.config_context(num_threads=2):
                got = (fastops.matmul(A, B), fastops.relu(x), fastops.sum(x))
            if not (np.array_equal(got[0], expected[0]) and np.array_equal(got[1], expected[1])
                    and abs(got[2] - expected[2]) <= 1e-6 * abs(expected[2])):
                errors.append("mismatch")

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads) and errors == []


def test_concurrent_products_of_different_sizes_keep_their_own_buffers():
    # one GEMM at a time holds the kept packing block and the others allocate their own
    # (fo_gemm.c: fo_workspace_take): products of different sizes, some sparse enough to
    # skip zero steps, and fused optimizer updates (the rows path), from 4 Python threads
    rng = np.random.default_rng(4)
    cases = []
    for i, (m, k, n) in enumerate([(300, 784, 512), (1000, 300, 260), (128, 784, 512),
                                   (64, 2000, 700)]):
        a = rng.standard_normal((m, k)).astype(np.float32)
        if i % 2 == 0:
            a[rng.random((m, k)) < 0.8] = 0
        cases.append((a, rng.standard_normal((k, n)).astype(np.float32)))
    w0 = rng.standard_normal((784, 512)).astype(np.float32)
    x, dz = cases[2][0], rng.standard_normal((128, 512)).astype(np.float32)

    def update(w):  # a Dense kernel's gradient as the pair (x.T, dz): the rows path
        fastops.nn.sgd_update(w, (x.T, dz), learning_rate=0.01, backend="fastops")
        return w

    with fastops.config_context(num_threads=2):
        expected = [fastops.matmul(a, b) for a, b in cases]
        w_expected = update(w0.copy())
    errors = []

    def worker(j):
        for r in range(8):
            i = (j + r) % (len(cases) + 1)
            with fastops.config_context(num_threads=2):
                if i == len(cases):
                    ok = np.array_equal(update(w0.copy()), w_expected)
                else:
                    ok = np.array_equal(fastops.matmul(*cases[i]), expected[i])
            if not ok:
                errors.append(f"thread {j}, case {i}")

    threads = [threading.Thread(target=worker, args=(j,)) for j in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads) and errors == []

"""NumPy's and SciPy's OpenBLAS run their threaded jobs on fastops' pool (issue 13).

The C callback (src/fo_blas_threads.c) is checked by tests/c/blas_threads_check.c, plainly
and under the sanitizers; here the installed package: that the callback goes into the loaded
OpenBLAS, that linear algebra through it is right, that no thread spins after a BLAS call,
and that fork, threads and the opt-out behave.
"""
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import fastops
from fastops import _blas_threads
from test_fork_and_threads import in_forked_child
from test_pool import C_DIR, GCC, SRC, _build, _run, _sanitizer_runs

BLAS_CHECKS = ["every_job_once", "pool_busy", "nested", "concurrent_callers",
               "fork_during_call"]
C_SOURCES = [C_DIR / "blas_threads_check.c", SRC / "fo_blas_threads.c", SRC / "fo_pool.c"]


def _openblas_with_callback():
    """Whether NumPy's BLAS is an OpenBLAS new enough (0.3.27) to take a threads callback."""
    for info in threadpool_info():
        if info.get("internal_api") == "openblas" and "numpy" in info["filepath"]:
            version = tuple(int(p) for p in info["version"].split(".")[:3])
            return version >= (0, 3, 27)
    return False


needs_callback = pytest.mark.skipif(
    not _openblas_with_callback() or _blas_threads.mode() != "pool",
    reason="NumPy's BLAS is not OpenBLAS >= 0.3.27, or FASTOPS_BLAS_THREADS=native")


def _run_python(code, timeout=120, **env):
    full_env = {k: v for k, v in os.environ.items() if k != "FASTOPS_BLAS_THREADS"}
    full_env.update(env)
    try:
        return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                              text=True, timeout=timeout, env=full_env, cwd=tempfile.gettempdir())
    except subprocess.TimeoutExpired as hung:
        pytest.fail(f"still running after {timeout} s:\n{hung.stdout}\n{hung.stderr}")


@pytest.mark.skipif(GCC is None, reason="needs gcc")
@pytest.mark.parametrize("flags", [(), ("-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g"),
                                   ("-fsanitize=thread", "-g")], ids=["plain", "asan-ubsan", "tsan"])
def test_callback_checks(tmp_path, flags):
    if flags and not _sanitizer_runs(tmp_path, flags[0]):
        pytest.skip(f"gcc's {flags[0]} does not build or run here")
    exe = _build(tmp_path, "blas_threads_check", *flags, sources=C_SOURCES)
    env = dict(os.environ, TSAN_OPTIONS="halt_on_error=1 die_after_fork=0 exitcode=66")
    run = _run([exe], timeout=180, env=env)
    assert "Sanitizer" not in run.stderr and "runtime error" not in run.stderr, run.stderr
    assert run.returncode == 0, run.stdout + run.stderr
    assert [line.split(":")[0] for line in run.stdout.splitlines()] == \
        [f"PASS {name}" for name in BLAS_CHECKS], run.stdout


@needs_callback
def test_numpy_blas_runs_on_the_pool():
    assert any("openblas" in os.path.basename(p) for p in _blas_threads.installed())
    rng = np.random.default_rng(0)
    a, b = rng.random((400, 300)), rng.random((300, 500))
    before = _blas_threads.counts()[0]
    with threadpool_limits(2, user_api="blas"):
        got = a @ b
    assert _blas_threads.counts()[0] > before
    np.testing.assert_allclose(got, np.einsum("ik,kj->ij", a, b), rtol=1e-12)


@needs_callback
def test_linear_algebra_through_the_pool():
    rng = np.random.default_rng(1)
    n = 300
    before = _blas_threads.counts()[0]
    with threadpool_limits(2, user_api="blas"):
        a = rng.random((n, n))
        q, _ = np.linalg.qr(a)
        np.testing.assert_allclose(q @ q.T, np.eye(n), atol=1e-12)
        x = rng.random(n)
        np.testing.assert_allclose(np.linalg.solve(a, a @ x), x, rtol=1e-8)
        spd = a @ a.T + n * np.eye(n)
        w, v = np.linalg.eigh(spd)
        np.testing.assert_allclose((v * w) @ v.T, spd, rtol=1e-10)
        c = a + 1j * rng.random((n, n))
        np.testing.assert_allclose(c @ c, np.einsum("ik,kj->ij", c, c), rtol=1e-12)
        f = rng.random((512, 256), dtype=np.float32)
        np.testing.assert_allclose(f @ f.T, np.einsum("ik,jk->ij", f, f), rtol=2e-5)
    assert _blas_threads.counts()[0] > before


@needs_callback
def test_scipy_blas_runs_on_the_pool_once_fastops_uses_it():
    """fastops' 'blas' backend loads SciPy's OpenBLAS; from then on its jobs run on the pool."""
    rng = np.random.default_rng(2)
    a = rng.random((512, 512), dtype=np.float32)
    with fastops.config_context(backend="blas", num_threads=2):
        fastops.matmul(a, a)
    assert any("scipy.libs" in p for p in _blas_threads.installed()), _blas_threads.installed()
    import scipy.linalg
    before = _blas_threads.counts()[0]
    with threadpool_limits(2, user_api="blas"):
        lu, piv = scipy.linalg.lu_factor(a.astype(np.float64))
        x = scipy.linalg.lu_solve((lu, piv), a.astype(np.float64) @ np.ones(512))
    np.testing.assert_allclose(x, np.ones(512), rtol=1e-6)
    assert _blas_threads.counts()[0] > before


@needs_callback
def test_no_thread_spins_after_a_blas_call():
    """OpenBLAS's own workers spin for about 0.1 s after a call; the pool's sleep after 1 ms.
    The process's CPU time over a 0.3 s pause after a threaded BLAS call stays near zero."""
    code = """
        import time, numpy as np, fastops
        from threadpoolctl import threadpool_limits
        a = np.random.default_rng(0).random((1024, 1024), dtype=np.float32)
        with threadpool_limits(2, user_api="blas"):
            for _ in range(3):
                a @ a
            cpu = time.process_time()
            time.sleep(0.3)
            print(time.process_time() - cpu)
    """
    run = _run_python(code)
    assert run.returncode == 0, run.stderr
    assert float(run.stdout) < 0.03, f"{float(run.stdout):.3f} s of CPU while idle"


@needs_callback
def test_forked_child_runs_blas_and_fastops():
    rng = np.random.default_rng(3)
    a = rng.random((256, 256))
    with threadpool_limits(2, user_api="blas"):
        a @ a  # the pool has run OpenBLAS's jobs before the fork
        expect = np.einsum("ik,kj->ij", a, a)

        def work():
            ok = np.allclose(a @ a, expect, rtol=1e-12) and \
                np.allclose(fastops.matmul(a, a), expect, rtol=1e-12)
            return b"ok" if ok else b"wrong"
        assert in_forked_child(work, "in OpenBLAS through the pool") == b"ok"


@needs_callback
def test_blas_and_fastops_from_many_threads():
    """Four threads in NumPy's BLAS and one in fastops at once: all results right, no hang."""
    rng = np.random.default_rng(4)
    a = rng.random((200, 300))
    b = rng.random((300, 250))
    expect = np.einsum("ik,kj->ij", a, b)
    wrong = []

    def blas_loop():
        for _ in range(30):
            if not np.allclose(a @ b, expect, rtol=1e-12):
                wrong.append("numpy")

    def fastops_loop():
        for _ in range(30):
            if not np.allclose(fastops.matmul(a, b), expect, rtol=1e-12):
                wrong.append("fastops")

    with threadpool_limits(2, user_api="blas"), fastops.config_context(num_threads=2):
        threads = [threading.Thread(target=blas_loop) for _ in range(4)]
        threads.append(threading.Thread(target=fastops_loop))
        for t in threads:
            t.start()
        deadline = time.monotonic() + 120
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert not wrong, wrong


@needs_callback
def test_native_mode_leaves_openblas_alone():
    code = """
        import numpy as np, fastops
        from fastops import _blas_threads
        a = np.ones((512, 512))
        a @ a
        print(_blas_threads.installed(), _blas_threads.counts()[0])
    """
    run = _run_python(code, FASTOPS_BLAS_THREADS="native")
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["[]", "0"]


def test_bad_mode_names_the_variable():
    run = _run_python("import fastops", FASTOPS_BLAS_THREADS="openmp")
    assert run.returncode != 0
    assert "ValueError" in run.stderr and "FASTOPS_BLAS_THREADS" in run.stderr, run.stderr


@needs_callback
def test_uninstall_gives_openblas_its_workers_back():
    try:
        _blas_threads.uninstall()
        assert _blas_threads.installed() == []
        before = _blas_threads.counts()[0]
        a = np.ones((512, 512))
        with threadpool_limits(2, user_api="blas"):
            np.testing.assert_array_equal(a @ a, np.full((512, 512), 512.0))
        assert _blas_threads.counts()[0] == before
    finally:
        _blas_threads.install()
    assert _blas_threads.installed()

"""The GEMM's work-shared threads (src/fo_gemm_driver.inc, src/fo_pool.c) through a C check,
tests/c/gemm_threads_check.c: 2-thread products on every path equal the 1-thread ones bit for
bit, with sparse A and with an Inf in B, built plainly and under ThreadSanitizer."""
import pytest
from test_pool import C_DIR, GCC, SRC, _build, _run, _sanitizer_runs

pytestmark = pytest.mark.skipif(GCC is None, reason="needs gcc")

SOURCES = [C_DIR / "gemm_threads_check.c", SRC / "fo_gemm.c", SRC / "fo_pool.c",
           SRC / "fo_blas_threads.c"]


@pytest.mark.parametrize("flags", [("-O2",), ("-O1", "-g", "-fsanitize=thread")],
                         ids=["plain", "tsan"])
def test_two_threads_match_one(tmp_path, flags):
    if len(flags) > 1 and not _sanitizer_runs(tmp_path, flags[-1]):
        pytest.skip("gcc's ThreadSanitizer does not build or run here")
    exe = _build(tmp_path, "gemm_threads_check", *flags, sources=SOURCES)
    run = _run([exe], timeout=300)
    assert "ThreadSanitizer" not in run.stderr, run.stderr
    assert run.returncode == 0 and "mismatches 0" in run.stdout, run.stdout + run.stderr

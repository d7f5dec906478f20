"""Settings are bounded, validated before they change, and context-local (issue 9)."""
import asyncio
import threading

import numpy as np
import pytest

import fastops
from fastops import _config


def snapshot():
    return fastops.get_num_threads(), fastops.get_simd(), fastops.get_backend()


@pytest.mark.parametrize("n", [2**31 - 1, 2**31, 10**30])
def test_huge_thread_counts_are_clamped_not_fatal(n):
    before = snapshot()
    try:
        fastops.set_num_threads(n)
        assert fastops.get_num_threads() == _config.MAX_THREADS
        np.testing.assert_array_equal(fastops.add(np.ones(3), 1.0), 2.0)
        with fastops.config_context(num_threads=n):
            assert fastops.get_num_threads() == _config.MAX_THREADS
    finally:
        fastops.set_num_threads(before[0])
    assert snapshot() == before


@pytest.mark.parametrize("kwargs", [{"num_threads": 0}, {"num_threads": 1.5},
                                    {"num_threads": True}, {"simd": "sse9"},
                                    {"backend": "cuda"}, {"num_threads": 2, "backend": "gpu"}])
def test_a_rejected_value_changes_nothing(kwargs):
    before = snapshot()
    with pytest.raises(ValueError):
        with fastops.config_context(**kwargs):
            pass
    assert snapshot() == before
    for key, value in kwargs.items():
        setter = {"num_threads": fastops.set_num_threads, "simd": fastops.set_simd,
                  "backend": fastops.set_backend}[key]
        try:
            setter(value)
        except ValueError:
            continue
    assert snapshot()[1:] == before[1:]


def test_config_context_is_local_to_its_thread():
    entered, release = threading.Event(), threading.Event()
    seen = {}

    def inside():
        with fastops.config_context(backend="naive", num_threads=1):
            entered.set()
            release.wait(10)
            seen["inside"] = snapshot()

    t = threading.Thread(target=inside)
    t.start()
    entered.wait(10)
    seen["outside"] = snapshot()
    release.set()
    t.join(10)
    assert seen["inside"][2] == "naive" and seen["inside"][0] == 1
    assert seen["outside"][2] != "naive"


def test_overlapping_contexts_in_two_threads_restore_everything():
    # issue 9: exit order A-enter, B-enter, A-exit, B-exit left the backend stuck at 'naive'
    before = snapshot()
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()

    def a():
        with fastops.config_context(backend="naive"):
            a_in.set()
            b_in.wait(10)
        a_out.set()

    def b():
        a_in.wait(10)
        with fastops.config_context(backend="blas", simd="portable"):
            b_in.set()
            a_out.wait(10)

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert snapshot() == before


def test_asyncio_tasks_see_their_own_settings():
    async def task(backend, results):
        with fastops.config_context(backend=backend):
            await asyncio.sleep(0.01)
            results.append((backend, fastops.get_backend()))

    async def main():
        results = []
        await asyncio.gather(task("naive", results), task("blas", results))
        return results

    assert sorted(asyncio.run(main())) == [("blas", "blas"), ("naive", "naive")]


def test_nested_contexts_inherit_what_they_do_not_set():
    with fastops.config_context(num_threads=1, backend="naive"):
        with fastops.config_context(simd="portable"):
            assert snapshot() == (1, "portable", "naive")
        assert fastops.get_backend() == "naive" and fastops.get_num_threads() == 1


def test_process_defaults_show_through_an_open_context():
    before = snapshot()
    with fastops.config_context(num_threads=1):
        fastops.set_backend("blas")
        try:
            assert fastops.get_backend() == "blas" and fastops.get_num_threads() == 1
        finally:
            fastops.set_backend(before[2])


def test_get_simd_tells_the_truth_per_family():
    with fastops.config_context(simd=fastops.cpu_simd()):
        assert fastops.get_simd("gemm") == fastops.cpu_simd()
        assert fastops.get_simd("nn") == fastops.cpu_simd()
        assert fastops.get_simd("elementwise") == min(fastops.cpu_simd(), "avx2",
                                                      key=_config.SIMD_LEVELS.index)
    with pytest.raises(ValueError, match="family must be None"):
        fastops.get_simd("gpu")


def test_show_config_names_what_runs(capsys):
    fastops.show_config()
    text = capsys.readouterr().out
    assert fastops.cpu_simd() in text and "matmul backend" in text
    assert "'auto' runs float32: " in text

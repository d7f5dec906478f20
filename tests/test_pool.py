"""fastops' thread pool (src/fo_pool.c) through its C check program, tests/c/pool_check*.c.

Each check runs in a process of its own with a timeout, so a hang (after fork, in a barrier, a
lost wake-up) fails the test instead of stalling the suite.  The same checks run again in the
condition-variable build (the macOS code path), the serial build (the Windows one), under
ThreadSanitizer, and under AddressSanitizer + UndefinedBehaviorSanitizer.
"""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "src"
C_DIR = REPO / "tests" / "c"
CHECK_SOURCES = [C_DIR / "pool_check.c", C_DIR / "pool_check_state.c",
                 C_DIR / "pool_check_fork.c", SRC / "fo_pool.c"]
CHECKS = ["lazy", "worker_fp_env", "sum", "barrier", "claims", "shared_regions", "nesting",
          "concurrent", "spin_setting", "fp_flags", "rounding", "idle", "wake_only_needed",
          "fork_after_region", "fork_during_regions", "fork_in_task", "max_threads"]
STRICT = ["-O2", "-pthread", "-Wall", "-Wextra", "-Werror"]
GCC = shutil.which("gcc")
CLANG = shutil.which("clang")

pytestmark = pytest.mark.skipif(GCC is None, reason="needs gcc")


def _env(**extra):
    """The environment without FASTOPS_SPIN_US: the checks expect the default spin time."""
    env = {k: v for k, v in os.environ.items() if k != "FASTOPS_SPIN_US"}
    env.update(extra)
    return env


def _build(directory, name, *flags, cc=None, sources=CHECK_SOURCES):
    exe = directory / name
    build = subprocess.run([cc or GCC, *STRICT, *flags, f"-I{SRC}", *map(str, sources), "-lm",
                            "-o", str(exe)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    return exe


def _run(args, timeout=60, env=None):
    try:
        return subprocess.run([str(a) for a in args], capture_output=True, text=True,
                              timeout=timeout, env=env or _env())
    except subprocess.TimeoutExpired as hung:
        pytest.fail(f"{args} still running after {timeout} s; output so far:\n{hung.stdout}")


def _assert_all_pass(run):
    report = run.stdout + run.stderr
    assert run.returncode == 0, report
    assert [line.split(":")[0] for line in run.stdout.splitlines()] == \
        [f"PASS {name}" for name in CHECKS], report


def _sanitizer_runs(directory, flag):
    """Whether this compiler and kernel can build and run a program with `flag`."""
    probe = directory / "probe.c"
    probe.write_text("int main(void) { return 0; }\n")
    build = subprocess.run([GCC, flag, str(probe), "-o", str(directory / "probe")],
                           capture_output=True, timeout=120)
    return build.returncode == 0 and \
        subprocess.run([str(directory / "probe")], capture_output=True, timeout=60).returncode == 0


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("pool")


@pytest.fixture(scope="module")
def pool_check(build_dir):
    return _build(build_dir, "pool_check")


def test_every_check_is_run(pool_check):
    assert _run([pool_check, "--list"]).stdout.split() == CHECKS


@pytest.mark.parametrize("name", CHECKS)
def test_pool_check(pool_check, name):
    run = _run([pool_check, name])
    assert run.returncode == 0 and f"PASS {name}:" in run.stdout, run.stdout + run.stderr


@pytest.mark.parametrize("value, expected", [
    ("1234", 1234), ("0", 0), ("100000", 100000),
    ("100001", 1000), ("-1", 1000), ("abc", 1000), ("12x", 1000), ("", 1000),
    ("99999999999999999999", 1000),
])
def test_spin_time_from_environment(pool_check, value, expected):
    run = _run([pool_check, "spin_env", expected], env=_env(FASTOPS_SPIN_US=value))
    assert run.returncode == 0, run.stdout + run.stderr


def test_condition_variable_build(build_dir):
    """The code path of macOS and other non-Linux systems, exercised here on Linux."""
    _assert_all_pass(_run([_build(build_dir, "pool_check_condvar", "-DFO_POOL_USE_CONDVAR"), "all"]))


def test_serial_build(build_dir):
    """The Windows build: every region runs on its caller; the checks expect n = 1."""
    _assert_all_pass(_run([_build(build_dir, "pool_check_serial", "-DFO_POOL_SERIAL"), "all"]))


@pytest.mark.skipif(CLANG is None, reason="needs clang (apt: clang)")
def test_clang_build(build_dir):
    _assert_all_pass(_run([_build(build_dir, "pool_check_clang", cc=CLANG), "--quick", "all"]))


def test_thread_sanitizer(build_dir):
    if not _sanitizer_runs(build_dir, "-fsanitize=thread"):
        pytest.skip("gcc's ThreadSanitizer does not build or run here")
    exe = _build(build_dir, "pool_check_tsan", "-fsanitize=thread", "-g")
    # die_after_fork=0: the fork checks start threads in the child of a threaded parent, which
    # TSan refuses by default; its own state in such a child is what the pool resets anyway.
    run = _run([exe, "--quick", "all"], timeout=120,
               env=_env(TSAN_OPTIONS="halt_on_error=1 die_after_fork=0 exitcode=66"))
    assert "ThreadSanitizer" not in run.stderr, run.stderr
    _assert_all_pass(run)


def test_address_and_undefined_sanitizers(build_dir):
    if not _sanitizer_runs(build_dir, "-fsanitize=address,undefined"):
        pytest.skip("gcc's AddressSanitizer does not build or run here")
    exe = _build(build_dir, "pool_check_asan", "-fsanitize=address,undefined",
                 "-fno-sanitize-recover=all", "-g")
    run = _run([exe, "--quick", "all"], timeout=120)
    assert "Sanitizer" not in run.stderr and "runtime error" not in run.stderr, run.stderr
    _assert_all_pass(run)


def test_latency_benchmark_builds_and_runs(build_dir):
    exe = _build(build_dir, "pool_bench", sources=[C_DIR / "pool_bench.c", SRC / "fo_pool.c"])
    run = _run([exe, "0.001"])
    assert run.returncode == 0, run.stderr
    assert "barrier round trip" in run.stdout and "empty region" in run.stdout, run.stdout

"""Settings taken from the environment at import (checked in fresh interpreters)."""
import os
import subprocess
import sys

import pytest

import fastops


def _run(tmp_path, code, **env):
    # cwd outside the checkout: the installed package, not the source folder, is imported
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("FASTOPS_SIMD", "FASTOPS_NUM_THREADS", "OMP_NUM_THREADS")}
    full_env.update(env)
    return subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=full_env,
                          capture_output=True, text=True, timeout=120)


def test_fastops_simd_env_forces_the_portable_path(tmp_path):
    r = _run(tmp_path, "import fastops, numpy as np;"
                       "x = np.arange(-5, 5, dtype=np.float32);"
                       "print(fastops.get_simd(), fastops.get_simd('elementwise'),"
                       " fastops.relu(x).min())",
             FASTOPS_SIMD="portable")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["portable", "portable", "0.0"]


def test_bad_fastops_simd_env_is_a_clear_error(tmp_path):
    r = _run(tmp_path, "import fastops", FASTOPS_SIMD="sse9")
    assert r.returncode != 0
    assert "FASTOPS_SIMD" in r.stderr and "sse9" in r.stderr


@pytest.mark.parametrize("env, expected", [({"FASTOPS_NUM_THREADS": "3"}, "3"),
                                           ({"OMP_NUM_THREADS": "1"}, "1"),
                                           ({"FASTOPS_NUM_THREADS": "2", "OMP_NUM_THREADS": "1"}, "2")])
def test_thread_count_from_the_environment(tmp_path, env, expected):
    r = _run(tmp_path, "import fastops; print(fastops.get_num_threads())", **env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == expected


def test_default_thread_count_is_the_usable_cores(tmp_path):
    r = _run(tmp_path, "import fastops; print(fastops.get_num_threads())")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert r.stdout.strip() == str(cores)


def test_bad_thread_env_is_a_clear_error(tmp_path):
    r = _run(tmp_path, "import fastops; fastops.get_num_threads()", FASTOPS_NUM_THREADS="many")
    assert r.returncode != 0 and "FASTOPS_NUM_THREADS" in r.stderr


def test_cpu_simd_names_a_known_level():
    assert fastops.cpu_simd() in fastops._config.SIMD_LEVELS


def test_huge_thread_env_is_clamped(tmp_path):
    # issue 9: FASTOPS_NUM_THREADS=99999999999 made `import fastops` fail with an OverflowError
    r = _run(tmp_path, "import fastops; print(fastops.get_num_threads())",
             FASTOPS_NUM_THREADS="99999999999")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(fastops._config.MAX_THREADS)


@pytest.mark.parametrize("value", ["0", "-3", "2.5"])
def test_bad_thread_env_values_name_the_variable(tmp_path, value):
    r = _run(tmp_path, "import fastops", OMP_NUM_THREADS=value)
    assert r.returncode != 0 and "OMP_NUM_THREADS" in r.stderr and "positive int" in r.stderr

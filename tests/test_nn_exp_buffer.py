"""The softmax and cross-entropy rows without their heap buffer (tests/c/exp_buffer_check.c).

Rows longer than the on-stack chunk take a buffer of a whole row from malloc, so that no exp
is computed twice.  When malloc refuses it the rows go chunk by chunk instead; no Python test
can make malloc fail, so a C check interposes it and compares both ways on every ISA the CPU
has.  The check links src/*.c directly, like tests/test_pool.py.
"""
import platform
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "src"
GCC = shutil.which("gcc")

pytestmark = pytest.mark.skipif(GCC is None or platform.libc_ver()[0] != "glibc",
                                reason="needs gcc and glibc (the check interposes malloc)")


def test_rows_without_their_heap_buffer_match(tmp_path):
    exe = tmp_path / "exp_buffer_check"
    build = subprocess.run(
        [GCC, "-O2", "-pthread", "-Wall", "-Wextra", "-Werror", f"-I{SRC}",
         str(REPO / "tests" / "c" / "exp_buffer_check.c"), str(SRC / "fo_nn.c"),
         str(SRC / "fo_gemm.c"), str(SRC / "fo_pool.c"), "-lm", "-o", str(exe)],
        capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.endswith("\n0 mismatches\n"), run.stdout

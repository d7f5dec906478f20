"""The portable kernels on a CPU without x86 SIMD: src/*.c cross-compiled for aarch64 and run
under qemu-user.  .ci/run installs the cross compiler and qemu (Debian: gcc-aarch64-linux-gnu,
qemu-user); without them this test skips, and fails under CI (CI=1)."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CC = shutil.which("aarch64-linux-gnu-gcc")
QEMU = shutil.which("qemu-aarch64") or shutil.which("qemu-aarch64-static")


def test_portable_kernels_on_aarch64(tmp_path):
    if CC is None or QEMU is None:
        why = "needs aarch64-linux-gnu-gcc and qemu-aarch64 (apt: gcc-aarch64-linux-gnu qemu-user)"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    exe = tmp_path / "check"
    sources = [REPO / "tests" / "c" / "portable_kernels_check.c"] + \
        [REPO / "src" / f for f in ("fo_elementwise.c", "fo_gemm.c", "fo_nn.c", "fo_pool.c")]
    build = subprocess.run([CC, "-O3", "-Wall", "-Werror", "-pthread", "-static",
                            f"-I{REPO / 'src'}", *map(str, sources), "-lm", "-o", str(exe)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    run = subprocess.run([QEMU, str(exe)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 mismatches" in run.stdout

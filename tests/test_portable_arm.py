"""The portable kernels on a CPU without x86 SIMD: src/*.c cross-compiled for aarch64 and run
under qemu-user.  .ci/run installs the cross compiler and qemu (Debian: gcc-aarch64-linux-gnu,
qemu-user); without them this test reports itself skipped."""
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CC = shutil.which("aarch64-linux-gnu-gcc")
QEMU = shutil.which("qemu-aarch64") or shutil.which("qemu-aarch64-static")


@pytest.mark.skipif(CC is None or QEMU is None,
                    reason="needs aarch64-linux-gnu-gcc and qemu-aarch64 (apt: gcc-aarch64-linux-gnu qemu-user)")
def test_portable_kernels_on_aarch64(tmp_path):
    exe = tmp_path / "check"
    sources = [REPO / "tests" / "c" / "portable_kernels_check.c"] + \
        [REPO / "src" / f for f in ("elementwise_kernels.c", "gemm_kernels.c", "nn_kernels.c")]
    build = subprocess.run([CC, "-O3", "-Wall", "-Werror", "-fopenmp", "-static", f"-I{REPO / 'src'}",
                            *map(str, sources), "-lm", "-o", str(exe)],
                           capture_output=True, text=True, timeout=300)
    # -Werror on our code; the static libgomp link warning about dlopen is the linker's, not ours
    assert build.returncode == 0, build.stderr
    run = subprocess.run([QEMU, str(exe)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 mismatches" in run.stdout

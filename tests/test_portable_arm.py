"""fastops' C kernels on aarch64: src/*.c cross-compiled and run under qemu-user.

- the portable kernels (elementwise, nn, GEMM) with a request for AVX-512 that must fall back;
- the GEMM at every edge of its blocking on both aarch64 kernels (portable C and NEON), 1 and
  2 threads, against the error bound of tests/gemm_bound.py (tests/c/gemm_edges_check.c);
- the hot elementwise and nn loops compiled to NEON vector code (read in the disassembly);
- the NEON GEMM executing fewer guest instructions per flop than the portable one (a qemu
  plugin counts them; a proxy for speed, which cannot be measured here);
- the SIMD level names of each architecture (fastops._config).

.ci/run installs the cross compiler and qemu (Debian: gcc-aarch64-linux-gnu, qemu-user); without
them these tests skip, and fail under CI (CI=1).

`python tests/test_portable_arm.py` prints the instruction counts per flop (docs/aarch64.md).
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "src"
CDIR = REPO / "tests" / "c"
CC = shutil.which("aarch64-linux-gnu-gcc")
OBJDUMP = shutil.which("aarch64-linux-gnu-objdump")
QEMU = shutil.which("qemu-aarch64") or shutil.which("qemu-aarch64-static")
HOST_CC = shutil.which("gcc") or shutil.which("cc")
KERNELS = [SRC / f for f in ("fo_elementwise.c", "fo_unary.c", "fo_gemm.c", "fo_nn.c", "fo_pool.c")]
# setup.py's flags for the kernels, plus -Werror
CFLAGS = ["-O3", "-fno-math-errno", "-Wall", "-Werror", "-pthread"]


def need_tools(*tools):
    if any(t is None for t in tools):
        why = ("needs aarch64-linux-gnu-gcc, its objdump, qemu-aarch64 and a host C compiler "
               "(apt: gcc-aarch64-linux-gnu qemu-user gcc)")
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)


def build(out, *sources):
    run = subprocess.run([CC, *CFLAGS, "-static", f"-I{SRC}", *map(str, sources), "-lm",
                          "-o", str(out)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    return out


def test_portable_kernels_on_aarch64(tmp_path):
    need_tools(CC, QEMU)
    exe = build(tmp_path / "check", CDIR / "portable_kernels_check.c", *KERNELS)
    run = subprocess.run([QEMU, str(exe)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 mismatches" in run.stdout


def test_gemm_edges_on_aarch64(tmp_path):
    need_tools(CC, QEMU)
    exe = build(tmp_path / "edges", CDIR / "gemm_edges_check.c", SRC / "fo_gemm.c",
                SRC / "fo_pool.c")
    run = subprocess.run([QEMU, str(exe)], capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr
    assert "kernels checked: isa 0..1 (cpu level 1)" in run.stdout  # NEON is there and run
    # 'auto' keeps BLAS on aarch64 until the NEON kernel is measured on real hardware
    assert "auto backend: float32 blas, float64 blas" in run.stdout
    assert re.search(r"^\d+ gemm calls, 0 failures$", run.stdout, re.M), run.stdout[-4000:]


def test_simd_level_names_per_architecture():
    from fastops import _config
    assert _config._simd_levels("aarch64") == ("portable", "neon")
    assert _config._simd_levels("arm64") == ("portable", "neon")  # macOS' name
    assert _config._simd_levels("x86_64") == ("portable", "avx2", "avx512")
    assert _config._simd_levels("AMD64") == ("portable", "avx2", "avx512")  # Windows'
    assert _config._simd_levels("ppc64le") == ("portable",)
    assert _config.cpu_simd() in _config.SIMD_LEVELS


# ---- NEON code in the disassembly ---------------------------------------------------------

def disassemble(tmp_path, source):
    obj = tmp_path / (source.stem + ".o")
    run = subprocess.run([CC, *CFLAGS, f"-I{SRC}", "-c", str(source), "-o", str(obj)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    text = subprocess.run([OBJDUMP, "-d", str(obj)], capture_output=True, text=True,
                          check=True).stdout
    funcs, name = {}, None
    for line in text.splitlines():
        head = re.match(r"^[0-9a-f]+ <(.+)>:$", line)
        if head:
            name = head.group(1)
            funcs[name] = []
            continue
        ins = re.match(r"^\s+([0-9a-f]+):\t[0-9a-f]+ \t(.*)$", line)
        if ins and name:
            funcs[name].append((int(ins.group(1), 16), ins.group(2)))
    return funcs


def vector_loops(instructions):
    """The loops (a backward branch and the code it jumps back over) that compute on full
    128-bit vectors of floats or doubles: v registers as .4s / .2d."""
    found = []
    for addr, text in instructions:
        jump = re.match(r"(b\.\w+|b|cbnz|cbz|tbnz|tbz)\s.*?([0-9a-f]+) <", text)
        if jump and int(jump.group(2), 16) < addr:
            body = [t for a, t in instructions if int(jump.group(2), 16) <= a <= addr]
            if any(re.search(r"\bv\d+\.(4s|2d)", t) and t.split()[0].startswith("f")
                   for t in body):
                found.append(body)
    return found


# The contiguous loops of the hot kernels (relu is maximum against a 0-d zero: maximum_vs;
# the updates with Keras' default options); each must have a vector loop.
HOT_LOOPS = {
    "fo_elementwise.c": [f"{op}_{shape}_{t}_portable" for t in ("f32", "f64")
                         for op in ("add", "subtract", "multiply", "divide", "maximum",
                                    "minimum", "bias_add_relu")
                         for shape in ("vv", "vs", "sv")]
    + [f"{fn}_{t}_portable" for t in ("f32", "f64")
       for fn in ("relu_backward_vv", "sum_lanes", "accumulate")],
    "fo_nn.c": [f"{fn}_{t}_portable" for t in ("f32", "f64")
                for fn in ("sgd", "rmsprop", "adagrad", "adam")]
    + [f"softmax_backward_rows_{t}" for t in ("f32", "f64")]
    + [f"softmax_row_{fn}_{t}_portable" for t in ("f32", "f64") for fn in ("exp", "scale")],
    "fo_gemm.c": ["ukr_s_neon_8x12", "ukr_d_neon_6x8", "sup_s_neon_8x12", "sup_d_neon_6x8"],
}


@pytest.mark.parametrize("source", sorted(HOT_LOOPS))
def test_hot_loops_compile_to_neon(tmp_path, source):
    need_tools(CC, OBJDUMP)
    funcs = disassemble(tmp_path, SRC / source)
    scalar = [name for name in HOT_LOOPS[source]
              if name not in funcs or not vector_loops(funcs[name])]
    assert not scalar, f"no NEON vector loop in {scalar}"


def test_neon_gemm_kernels_use_fmla_by_element(tmp_path):
    need_tools(CC, OBJDUMP)
    funcs = disassemble(tmp_path, SRC / "fo_gemm.c")
    for name, lanes in (("ukr_s_neon_8x12", r"\.4s, v\d+\.4s, v\d+\.s\[\d\]"),
                        ("ukr_d_neon_6x8", r"\.2d, v\d+\.2d, v\d+\.d\[\d\]")):
        loop = max(vector_loops(funcs[name]), key=len)
        fmla = [t for t in loop if t.startswith("fmla") and re.search(lanes, t)]
        spills = [t for t in loop if re.search(r"\[sp", t)]
        assert len(fmla) % 24 == 0 and fmla, (name, loop)  # 24 per k step, unrolled
        assert not spills, (name, spills)                   # accumulators stay in registers


# ---- instruction counts under qemu ---------------------------------------------------------

COUNT_SHAPES = [("f32", 256, 256, 256), ("f32", 128, 784, 512), ("f32", 128, 512, 10),
                ("f64", 256, 256, 256), ("f64", 128, 784, 512), ("f64", 128, 512, 10)]


def build_counter(workdir):
    plugin = workdir / "libinsncount.so"
    run = subprocess.run([HOST_CC, "-shared", "-fPIC", "-O2", "-Wall", "-Werror",
                          str(CDIR / "qemu_insn_count.c"), "-o", str(plugin)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    exe = build(workdir / "edges", CDIR / "gemm_edges_check.c", SRC / "fo_gemm.c",
                SRC / "fo_pool.c")
    return plugin, exe


def guest_insns(plugin, exe, isa, dtype, m, k, n, reps):
    run = subprocess.run([QEMU, "-plugin", str(plugin), "-d", "plugin", str(exe), "count",
                          str(isa), dtype, str(m), str(k), str(n), str(reps)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    return int(re.search(r"insns: (\d+)", run.stdout + run.stderr).group(1))


def insns_per_flop(plugin, exe, isa, dtype, m, k, n):
    """Guest instructions of one product per flop (2mkn): the difference between 3 products
    and 1 over 2, so start-up and the program's own set-up cancel."""
    one = guest_insns(plugin, exe, isa, dtype, m, k, n, 1)
    three = guest_insns(plugin, exe, isa, dtype, m, k, n, 3)
    return (three - one) / 2 / (2.0 * m * k * n)


def test_neon_gemm_executes_fewer_instructions_per_flop(tmp_path):
    need_tools(CC, QEMU, HOST_CC)
    plugin, exe = build_counter(tmp_path)
    for dtype, m, k, n in (("f32", 128, 784, 512), ("f64", 128, 784, 512)):
        portable = insns_per_flop(plugin, exe, 0, dtype, m, k, n)
        neon = insns_per_flop(plugin, exe, 1, dtype, m, k, n)
        assert 0 < neon < 0.8 * portable, (dtype, neon, portable)


if __name__ == "__main__":
    import tempfile
    if None in (CC, QEMU, HOST_CC):
        sys.exit("needs aarch64-linux-gnu-gcc, qemu-aarch64 and gcc")
    with tempfile.TemporaryDirectory() as d:
        plugin_, exe_ = build_counter(Path(d))
        print("guest instructions per flop (qemu-aarch64, 1 thread, gcc "
              + subprocess.run([CC, "-dumpversion"], capture_output=True, text=True).stdout.strip()
              + " -O3)")
        print(f"{'shape (m x k x n)':24s} {'portable':>9s} {'neon':>9s} {'ratio':>7s}")
        for dt, m_, k_, n_ in COUNT_SHAPES:
            p_ = insns_per_flop(plugin_, exe_, 0, dt, m_, k_, n_)
            q_ = insns_per_flop(plugin_, exe_, 1, dt, m_, k_, n_)
            print(f"{dt} {m_}x{k_}x{n_:<14} {p_:9.3f} {q_:9.3f} {p_ / q_:7.2f}")

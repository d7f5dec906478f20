"""Issue 11's GEMM table: fastops' float32 GEMM against OpenBLAS (np.matmul) at the book's
shapes, on 1 and 2 threads, interleaved in one process, and the measured FMA peak of one
core for the "% of peak" column.

Each round times both libraries twice, in ABBA order (fastops, OpenBLAS, OpenBLAS, fastops,
then the mirror in the next round), and takes the ratio of the pairs' means: the same
samples for both, and a drift within the round cancels.  The figure is the median of the
rounds' ratios.  The peak is probed before and after the products, and the higher reading
is the one the "% of peak" uses.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/gemm_ratios.py [--simd avx2]

The MLP shapes are the chapter-2 step at batch 128: X.W1 (128x784 . 784x512), X^T.dH,
H.W2 (128x512 . 512x10), H^T.dY and dY.W2^T, each read through transposed views as the
trainer does; the "mnist" rows take X from real MNIST rows (fastops skips the all-zero steps
of its A panels, BLAS computes them), the others random normal data.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

import fastops
from _timing import median_seconds

HERE = os.path.dirname(os.path.abspath(__file__))


def mnist_rows(m, seed=0):
    """m real MNIST training rows (float32 in [0, 1]): 81% zeros."""
    from fastops.datasets import mnist
    (x, _), _ = mnist.load_data()
    rows = np.random.default_rng(seed).choice(len(x), m, replace=False)
    return x.reshape(len(x), -1)[rows].astype(np.float32) / 255


def operands(m, k, n, ta=False, tb=False, seed=0, real=False):
    """A (m x k) and B (k x n), random normal; real: A's rows (or, transposed, its columns)
    are MNIST rows, on which fastops' GEMM skips the all-zero steps of its A panels."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((k, m) if ta else (m, k), dtype=np.float32)
    if real:
        a = mnist_rows(a.shape[0], seed)
    b = rng.standard_normal((n, k) if tb else (k, n), dtype=np.float32)
    return (a.T if ta else a), (b.T if tb else b)


SHAPES = {  # name: (m, k, n, A transposed, B transposed[, A from MNIST rows])
    "1024^3": (1024, 1024, 1024, False, False),
    "2048^3": (2048, 2048, 2048, False, False),
    "X.W1": (128, 784, 512, False, False),
    "X.W1 10k": (10000, 784, 512, False, False),  # evaluate of the test set in one batch
    "X.W1 mnist": (128, 784, 512, False, False, True),
    "X^T.dH mnist": (784, 128, 512, True, False, True),
    "X^T.dH": (784, 128, 512, True, False),
    "H.W2": (128, 512, 10, False, False),
    "H^T.dY": (512, 128, 10, True, False),
    "dY.W2^T": (128, 10, 512, False, True),
}


def best_time(fn, min_seconds):
    """Median of repeats of fn over about min_seconds (at least 3)."""
    return median_seconds(fn, seconds=min_seconds)


def fma_peak(threads, bits):
    """GFLOP/s of `threads` threads of independent `bits`-wide FMAs (benchmarks/c/fma_peak.c)."""
    exe = os.path.join(tempfile.gettempdir(), "fastops_fma_peak")
    subprocess.run(["gcc", "-O2", "-pthread", "-o", exe, os.path.join(HERE, "c", "fma_peak.c")],
                   check=True)
    out = subprocess.run([exe, str(threads), "12", "0.5", str(bits)], check=True, capture_output=True,
                         text=True).stdout
    total = next(ln for ln in out.splitlines() if ln.startswith("total:"))
    return float(total.split()[1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--simd", default=None, help="force fastops' SIMD level (avx2, avx512)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated names")
    args = ap.parse_args()
    if args.simd:
        fastops.set_simd(args.simd)
    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo")
                if ln.startswith("model name")), "?")
    print(f"CPU: {cpu}; fastops SIMD {fastops.get_simd()}; "
          + "; ".join(f"{b['internal_api']} {b['version']} core {b.get('architecture')}"
                      for b in blas))
    if os.environ.get("OPENBLAS_CORETYPE"):
        print("WARNING: OPENBLAS_CORETYPE is set: OpenBLAS runs a forced kernel")
    # the peak of the vector width fastops runs: 512-bit FMAs double it on AVX-512 cores
    bits = 512 if fastops.get_simd() == "avx512" else 256
    peak1 = fma_peak(1, bits)
    threads = [int(t) for t in args.threads.split(",")]
    results = []  # (threads, shape, fastops GF/s, OpenBLAS GF/s, ratio)
    for nt in threads:
        with threadpool_limits(nt, user_api="blas"), fastops.config_context(
                num_threads=nt, backend="fastops"):
            for name in args.shapes.split(","):
                m, k, n, ta, tb, *real = SHAPES[name]
                a, b = operands(m, k, n, ta, tb, real=bool(real))
                c = np.empty((m, n), np.float32)
                flops = 2.0 * m * n * k
                secs = 0.4 if flops > 1e9 else 0.15
                impls = {"fastops": lambda: fastops.matmul(a, b, out=c),
                         "openblas": lambda: np.matmul(a, b, out=c)}
                ratios, tf, tb_ = [], [], []
                for r in range(args.rounds):
                    order = ("fastops", "openblas") if r % 2 == 0 else ("openblas", "fastops")
                    times = {name_: [] for name_ in impls}
                    for impl in order + order[::-1]:
                        times[impl].append(best_time(impls[impl], secs))
                    f, o = np.mean(times["fastops"]), np.mean(times["openblas"])
                    ratios.append(o / f)
                    tf.append(f)
                    tb_.append(o)
                results.append((nt, name, flops / np.median(tf) / 1e9,
                                flops / np.median(tb_) / 1e9, np.median(ratios)))
    peak = max(peak1, fma_peak(1, bits))
    print(f"FMA peak, 1 core, {bits}-bit: {peak1:.0f} GFLOP/s float32 before the products, "
          f"{peak:.0f} the higher of before and after (the % of peak below)")
    for nt in threads:
        print(f"\n{nt} thread(s): fastops GFLOP/s / OpenBLAS GFLOP/s (>1: fastops faster), "
              f"median of {args.rounds} interleaved ABBA rounds")
        print(f"{'shape':12s} {'fastops GF/s':>12s} {'OpenBLAS GF/s':>13s} {'speed ratio':>11s} "
              f"{'fastops %peak':>13s}")
        for nt_, name, fg, og, ratio in results:
            if nt_ == nt:
                print(f"{name:12s} {fg:12.1f} {og:13.1f} {ratio:11.3f} "
                      f"{100 * fg / (peak * nt):12.0f}%")
    sys.stdout.flush()


if __name__ == "__main__":
    main()

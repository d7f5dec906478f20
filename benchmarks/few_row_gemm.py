"""fastops.matmul against np.matmul on products of 1-16 rows (the few-row path and the
small-M path), alternating in one process, best of 5 rounds:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/few_row_gemm.py --threads 1
"""
import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

import fastops
from fastops import _kernels

SHAPES = [(1, 784, 512), (4, 784, 512), (8, 784, 512), (16, 784, 512), (1, 512, 10),
          (16, 512, 10), (1, 4096, 4096), (4, 4096, 4096), (16, 4096, 4096), (1, 10**6, 1),
          (2, 10**6, 2), (1, 100000, 64)]


def best_seconds(fns, reps, rounds=5):
    """The best per-call time of each function, the functions alternating within a round."""
    best = [np.inf] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            t = time.perf_counter()
            for _ in range(reps):
                fn()
            best[i] = min(best[i], (time.perf_counter() - t) / reps)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    level = fastops._config.SIMD_LEVELS.index(fastops.get_simd())
    print(f"SIMD {fastops.get_simd()}, {args.threads} thread(s); float32; time / NumPy's")
    with fastops.config_context(num_threads=args.threads, backend="fastops"), \
            threadpool_limits(args.threads):
        for m, k, n in SHAPES:
            a = rng.random((m, k), dtype=np.float32)
            b = rng.random((k, n), dtype=np.float32)
            c = np.empty((m, n), np.float32)
            reps = max(3, int(1e8 / (2 * m * k * n + 40 * k * n)))
            fo, ref = best_seconds([lambda: fastops.matmul(a, b, out=c),
                                    lambda: np.matmul(a, b, out=c)], reps)
            path = _kernels.gemm_path(a, b, c, level, args.threads)[0]
            print(f"({m}, {k}) x ({k}, {n}) [{path}]: {fo * 1e6:9.1f} us, NumPy "
                  f"{ref * 1e6:9.1f} us, ratio {fo / ref:5.2f}")


if __name__ == "__main__":
    main()

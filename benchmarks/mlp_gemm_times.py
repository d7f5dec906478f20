"""Median times (µs) of fastops.matmul at the five GEMM shapes of the chapter-2 MLP's step, for
before/after comparisons of two installed builds run alternately (the API every version
shares):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/mlp_gemm_times.py --threads 2
"""
import argparse

import numpy as np

import fastops
from _timing import median_seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--calls", type=int, default=400)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    x = rng.random((128, 784), dtype=np.float32)
    w1 = rng.random((784, 512), dtype=np.float32)
    h = rng.random((128, 512), dtype=np.float32)
    w2 = rng.random((512, 10), dtype=np.float32)
    dy = rng.random((128, 10), dtype=np.float32)
    dh = rng.random((128, 512), dtype=np.float32)
    shapes = {"X.W1": (x, w1), "XT.dH": (x.T, dh), "H.W2": (h, w2), "HT.dY": (h.T, dy),
              "dY.W2T": (dy, w2.T)}
    out = []
    with fastops.config_context(num_threads=args.threads, backend="fastops"):
        for name, (a, b) in shapes.items():
            c = fastops.matmul(a, b)
            for _ in range(50):
                fastops.matmul(a, b, out=c)
            us = median_seconds(lambda: fastops.matmul(a, b, out=c), calls=args.calls) * 1e6
            out.append(f"{name}={us:.1f}")
    print(f"{args.threads} threads:", " ".join(out))


if __name__ == "__main__":
    main()

"""Median times of a few kernels at the benchmark suite's sizes, on the API every fastops
version shares, for before/after comparisons of two installed builds run alternately:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/kernel_times.py --threads 1

Prints one line: name=microseconds for relu, add, bias_add_relu, sum and matmul.
"""
import argparse

import numpy as np

import fastops
from _timing import median_seconds


def median_us(fn, seconds=0.3):
    return median_seconds(fn, seconds=seconds, at_least=5) * 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    fastops.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    small = rng.standard_normal(1000).astype(np.float32)
    big = rng.standard_normal(10_000_000).astype(np.float32)
    out_small, out_big = np.empty_like(small), np.empty_like(big)
    h = rng.standard_normal((128, 512)).astype(np.float32)
    b = rng.standard_normal(512).astype(np.float32)
    a = rng.standard_normal((1024, 1024)).astype(np.float32)
    c = np.empty_like(a)
    cases = {
        "relu_1e3": lambda: fastops.relu(small, out=out_small),
        "relu_1e7": lambda: fastops.relu(big, out=out_big),
        "add_1e3": lambda: fastops.add(small, small, out=out_small),
        "add_1e7": lambda: fastops.add(big, big, out=out_big),
        "bias_add_relu_128x512": lambda: fastops.bias_add_relu(h, b),
        "sum_1e7": lambda: fastops.sum(big),
        "matmul_1024": lambda: fastops.matmul(a, a, out=c),
    }
    print(" ".join(f"{k}={median_us(f):.1f}" for k, f in cases.items()))


if __name__ == "__main__":
    main()

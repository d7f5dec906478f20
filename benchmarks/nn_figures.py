"""fastops.nn's kernels built on exp against the same computation in NumPy, timed
alternately in one process: softmax and sparse_softmax_crossentropy from MNIST's and
Reuters' class counts to rows of 1000, and sigmoid and tanh on 1e6 values.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/nn_figures.py [--threads 1]

NumPy's softmax is the five calls a NumPy user writes (max, subtract, exp, sum, divide);
its cross-entropy adds the log of the row sums and the picked logits; its sigmoid is
1 / (1 + exp(-x)) and its tanh np.tanh.  Prints the medians of `--rounds` rounds and
fastops' time over NumPy's.
"""
import argparse

import numpy as np

import fastops
from fastops import nn
from _timing import median_seconds

SHAPES = [(128, 10), (10000, 10), (10000, 46), (1000, 1000)]


def numpy_softmax(z, out):
    m = z.max(axis=1, keepdims=True)
    np.subtract(z, m, out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=1, keepdims=True)


def numpy_sparse_crossentropy(z, labels, rows):
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    lse = np.log(e.sum(axis=1)) + m[:, 0]
    return float(np.mean(lse - z[rows, labels]))


def report(name, shape, ours, theirs, rounds, budget=0.05):
    """One line: medians of `rounds` alternating timings of ours and theirs, and the median of
    their ratios."""
    times = np.array([[median_seconds(f, seconds=budget) for f in (ours, theirs)]
                      for _ in range(rounds)])
    fo, ref = np.median(times, axis=0) * 1e6
    print(f"  {name:20s} {shape:15s} fastops {fo:9.1f}  NumPy {ref:9.1f}  "
          f"ratio {np.median(times[:, 0] / times[:, 1]):.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=fastops.get_num_threads())
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    fastops.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    print(f"fastops {fastops.__version__}, SIMD {fastops.get_simd()}, {args.threads} thread(s); "
          "medians of alternating rounds, us per call")
    for n, k in SHAPES:
        z = rng.normal(0, 3, (n, k)).astype(np.float32)
        labels = rng.integers(0, k, n)
        rows = np.arange(n)
        out = np.empty_like(z)
        shape = f"{n} x {k}"
        report("softmax", shape, lambda: nn.softmax(z, out=out),
               lambda: numpy_softmax(z, out), args.rounds)
        report("sparse crossentropy", shape,
               lambda: nn.sparse_softmax_crossentropy(z, labels, grad=False),
               lambda: numpy_sparse_crossentropy(z, labels, rows), args.rounds)
    for dtype in (np.float32, np.float64):
        x = rng.normal(0, 3, 1_000_000).astype(dtype)
        out = np.empty_like(x)
        shape = f"1e6 {np.dtype(dtype).name}"
        report("sigmoid", shape, lambda: nn.sigmoid(x, out=out),
               lambda: np.divide(1, 1 + np.exp(-x), out=out), args.rounds)
        report("tanh", shape, lambda: nn.tanh(x, out=out), lambda: np.tanh(x, out=out),
               args.rounds)


if __name__ == "__main__":
    main()

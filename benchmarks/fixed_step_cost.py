"""The cost of a training step beside its arithmetic: the chapter-2 step's calls (gather,
two Dense layers, softmax cross-entropy, accuracy, RMSprop) on a model whose products are
trivial (4 features -> Dense(4, relu) -> Dense(2, softmax)), at batch 128.  What is left is
the Python loop and the kernels' entries, the part of a step no faster GEMM removes.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/fixed_step_cost.py
"""
import argparse
import time

import numpy as np

import fastops
from fastops import layers, models


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", default="2,1")
    ap.add_argument("--epochs", type=int, default=5, help="the best of these epochs")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    x = rng.random((60000, 4), dtype=np.float32)
    y = rng.integers(0, 2, 60000).astype(np.uint8)  # MNIST's labels are uint8 too
    steps = -(-len(x) // 128)
    for nt in (int(t) for t in args.threads.split(",")):
        with fastops.config_context(num_threads=nt):
            net = models.Sequential(seed=0)
            net.add(layers.Dense(4, activation="relu", input_shape=(4,)))
            net.add(layers.Dense(2, activation="softmax"))
            net.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                        metrics=["accuracy"])
            net.fit(x[:1280], y[:1280], batch_size=128, verbose=0)
            best = np.inf
            for _ in range(args.epochs):
                t0 = time.perf_counter()
                net.fit(x, y, batch_size=128, epochs=1, verbose=0)
                best = min(best, time.perf_counter() - t0)
        print(f"{nt} thread(s): {best / steps * 1e6:.1f} us a step (4-4-2 model, batch 128, "
              f"best of {args.epochs} epochs)")


if __name__ == "__main__":
    main()

"""Seconds of the chapter-2 fit (1st edition: one-hot labels, 5 epochs, batch 128) in this
process, for comparing two installed versions of fastops run alternately:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/fit_seconds.py \
        --backend blas --threads 2

Written against the model API both versions share (Sequential(seed), Dense(input_shape),
compile, fit), so an older build can run it too.
"""
import argparse
import time

import numpy as np

import fastops
from fastops import layers, models
from fastops.datasets import mnist


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=5)
    args = ap.parse_args()
    (x, y), _ = mnist.load_data()
    x = x.reshape(60000, 784).astype(np.float32) / 255
    y = np.eye(10, dtype=np.float32)[y]
    fastops.set_num_threads(args.threads)
    if args.backend:
        fastops.set_backend(args.backend)
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(args.threads, user_api="blas")
    except ImportError:
        pass
    net = models.Sequential(seed=0)
    net.add(layers.Dense(512, activation="relu", input_shape=(784,)))
    net.add(layers.Dense(10, activation="softmax"))
    net.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    t0 = time.perf_counter()
    net.fit(x, y, epochs=args.epochs, batch_size=128, verbose=0)
    print(f"{time.perf_counter() - t0:.3f}")


if __name__ == "__main__":
    main()

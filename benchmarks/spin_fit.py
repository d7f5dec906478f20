"""One-epoch fits of the chapter-2 MLP (one-hot, batch 128, 2 threads) at several idle-spin
times of fastops' pool, interleaved in one process (min of --rounds), for the choice of the
default spin (docs/thread_pool.md):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/spin_fit.py \
        --backends fastops,blas --spins 50,250,1000
"""
import argparse
import time

import numpy as np

import fastops
from fastops import _kernels, layers, models
from fastops.datasets import mnist


def chapter2_mlp():
    net = models.Sequential(seed=0)
    net.add(layers.Dense(512, activation="relu", input_shape=(784,)))
    net.add(layers.Dense(10, activation="softmax"))
    net.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return net


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backends", default="fastops,blas")
    ap.add_argument("--spins", default="50,250,1000")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    (x, y), _ = mnist.load_data()
    x = x.reshape(60000, 784).astype(np.float32) / 255
    y = np.eye(10, dtype=np.float32)[y]
    fastops.set_num_threads(2)
    cases = [(b, int(s)) for b in args.backends.split(",") for s in args.spins.split(",")]
    wall = {c: [] for c in cases}
    cpu = {c: [] for c in cases}
    for _ in range(args.rounds):
        for backend, spin in cases:
            fastops.set_backend(backend)
            _kernels.set_spin_us(spin)
            net = chapter2_mlp()
            c0, w0 = time.process_time(), time.perf_counter()
            net.fit(x, y, epochs=1, batch_size=128, verbose=0)
            wall[backend, spin].append(time.perf_counter() - w0)
            cpu[backend, spin].append(time.process_time() - c0)
    for backend, spin in cases:
        print(f"backend {backend:8s} spin {spin:6d} us: epoch {min(wall[backend, spin]):.2f} s "
              f"wall, {min(cpu[backend, spin]):.2f} s CPU (min of {args.rounds})")


if __name__ == "__main__":
    main()

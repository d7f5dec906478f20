"""Issue 11's step profile: one epoch of the chapter-2 fit (real MNIST, batch 128) timed by
phase, by wrapping the pieces the training step calls.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/step_phases.py [--threads 1]

The optimizer's phase includes the X^T.dH product: fit hands each Dense kernel's gradient to
the update kernel as the pair (x.T, dz), which multiplies it block by block inside the update.
The wrappers cost about a microsecond per call, charged to the phase they wrap.
"""
import argparse
import collections
import time

import numpy as np

import fastops
from fastops import _data, _step, layers, models
from fastops.datasets import mnist

PHASES = [  # (object, method, label), in the order a step runs them
    (_data.Gatherer, "take", "gather the batch"),
    ("dense1", "forward", "X.W1, bias + relu"),
    ("dense2", "logits", "H.W2, bias"),
    ("loss", "logits_value_and_gradient", "softmax + cross-entropy, dY"),
    (_step.Step, "_update_metrics", "accuracy"),
    ("dense2", "logits_backward", "H^T.dY (a pair), dY.W2^T, db2"),
    ("dense1", "backward", "relu', X^T.dH (a pair), db1"),
    ("optimizer", "apply", "RMSprop: X^T.dH and H^T.dY fused, 4 updates"),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=fastops.get_num_threads())
    args = ap.parse_args()
    (x, y), _ = mnist.load_data()
    x = x.reshape(len(x), -1).astype(np.float32) / 255
    net = models.Sequential(seed=0)
    net.add(layers.Dense(512, activation="relu", input_shape=(784,)))
    net.add(layers.Dense(10, activation="softmax"))
    net.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                metrics=["accuracy"])
    owners = {"dense1": net.layers[0], "dense2": net.layers[1], "loss": net.loss,
              "optimizer": net.optimizer}
    seconds = collections.defaultdict(float)

    def timed(fn, label):
        def call(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                seconds[label] += time.perf_counter() - t0
        return call

    for owner, name, label in PHASES:
        obj = owners.get(owner, owner)
        setattr(obj, name, timed(getattr(obj, name), label))
    steps = -(-len(x) // 128)
    with fastops.config_context(num_threads=args.threads):
        net.fit(x[:12800], y[:12800], epochs=1, batch_size=128, verbose=0)  # warm-up
        seconds.clear()
        t0 = time.perf_counter()
        net.fit(x, y, epochs=1, batch_size=128, verbose=0)
        total = time.perf_counter() - t0
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo")
                if ln.startswith("model name")), "?")
    print(f"CPU: {cpu}; SIMD {fastops.get_simd()}; {args.threads} thread(s); one epoch, "
          f"{steps} steps of 128 rows")
    print(f"| phase | ms per step | share |\n|---|---|---|")
    for _, _, label in PHASES:
        print(f"| {label} | {seconds[label] * 1e3 / steps:.3f} | {seconds[label] / total:.0%} |")
    rest = total - sum(seconds.values())
    print(f"| the loop, callbacks, logs | {rest * 1e3 / steps:.3f} | {rest / total:.0%} |")
    print(f"| **step** | **{total * 1e3 / steps:.3f}** | |")


if __name__ == "__main__":
    main()

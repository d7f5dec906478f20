"""Issue 9's thread figure: 8 threads run predict, evaluate and kernels on shared objects for
a while, each inside its own config_context, while another thread keeps changing the process
defaults (threads, SIMD level, backend) and opening contexts of its own.  Every result must be
bit-identical to the one computed before the run, and the defaults must be back at the end.

    python scripts/stress_threads.py [seconds]     (default 30)
"""
import sys
import threading
import time

import numpy as np

import fastops
from fastops import layers, models


def main(seconds=30.0):
    rng = np.random.default_rng(0)
    x = rng.random((512, 784), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 512)]
    a = rng.standard_normal((300, 300)).astype(np.float32)
    v = rng.standard_normal(400_000).astype(np.float32)
    model = models.Sequential([layers.Dense(512, activation="relu", input_shape=(784,)),
                               layers.Dense(10, activation="softmax")], seed=0)
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    pinned = dict(num_threads=2, simd=fastops.cpu_simd(), backend="fastops")
    with fastops.config_context(**pinned):
        expected = {
            "predict": model.predict(x, batch_size=128, verbose=0),
            "evaluate": model.evaluate(x, y, batch_size=128, verbose=0),
            "matmul": fastops.matmul(a, a),
            "add": fastops.add(v, v),
            "softmax": fastops.nn.softmax(a),
        }
    jobs = {
        "predict": lambda: model.predict(x, batch_size=128, verbose=0),
        "evaluate": lambda: model.evaluate(x, y, batch_size=128, verbose=0),
        "matmul": lambda: fastops.matmul(a, a),
        "add": lambda: fastops.add(v, v),
        "softmax": lambda: fastops.nn.softmax(a),
    }
    before = (fastops.get_num_threads(), fastops.get_simd(), fastops.get_backend())
    stop = time.monotonic() + seconds
    counts, mismatches, errors = {k: 0 for k in jobs}, [], []

    def worker(i):
        names = list(jobs)
        try:
            with fastops.config_context(**pinned):
                while time.monotonic() < stop:
                    name = names[i % len(names)]
                    got = jobs[name]()
                    same = (got == expected[name] if name == "evaluate"
                            else np.array_equal(got, expected[name]))
                    if not same:
                        mismatches.append(name)
                    counts[name] += 1
                    i += 1
        except Exception as e:  # reported, not swallowed
            errors.append(repr(e))

    def meddler():
        choices = [("set_num_threads", 1), ("set_num_threads", 2),
                   ("set_simd", "portable"), ("set_simd", "auto"),
                   ("set_backend", "blas"), ("set_backend", "naive"), ("set_backend", "auto")]
        k = 0
        while time.monotonic() < stop:
            name, value = choices[k % len(choices)]
            getattr(fastops, name)(value)
            with fastops.config_context(num_threads=1, backend="naive"):
                fastops.add(v[:10], 1.0)
            k += 1
        fastops.set_num_threads(before[0])
        fastops.set_simd("auto" if before[1] == fastops.cpu_simd() else before[1])
        fastops.set_backend(before[2])

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    threads.append(threading.Thread(target=meddler))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = (fastops.get_num_threads(), fastops.get_simd(), fastops.get_backend())
    print(f"{seconds:.0f} s, 8 threads: calls {counts}")
    print(f"mismatches: {len(mismatches)}, errors: {errors or 0}, settings restored: "
          f"{after == before} ({after})")
    return 0 if not mismatches and not errors and after == before else 1


if __name__ == "__main__":
    sys.exit(main(float(sys.argv[1]) if len(sys.argv) > 1 else 30.0))

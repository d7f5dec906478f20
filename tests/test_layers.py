"""Dense and activations: forward vs NumPy, backward vs central finite differences (float64)."""
import numpy as np
import pytest

from fastops import activations, layers
from helpers import numeric_grad


def make_dense(units, activation, use_bias, n_in=6, seed=0):
    layer = layers.Dense(units, activation=activation, use_bias=use_bias)
    layer.build(n_in, np.float64, np.random.default_rng(seed))
    if use_bias:
        layer.bias[:] = np.random.default_rng(seed + 1).normal(size=units)
    return layer


REF = {
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0),
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "softmax": lambda z: np.exp(z - z.max(1, keepdims=True)) / np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True),
}


@pytest.mark.parametrize("activation", list(REF))
@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "nobias"])
def test_dense_forward_matches_numpy(activation, use_bias):
    layer = make_dense(5, activation, use_bias)
    x = np.random.default_rng(2).normal(size=(4, 6))
    z = x @ layer.kernel + (layer.bias if use_bias else 0)
    out = np.empty((4, 5))
    np.testing.assert_allclose(layer.forward(x, out), REF[activation](z), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("activation", list(REF))
@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "nobias"])
def test_dense_backward_by_finite_differences(activation, use_bias):
    """L = sum(R * dense(x)) so dL/dy = R; every gradient the layer returns is checked."""
    rng = np.random.default_rng(3)
    layer = make_dense(5, activation, use_bias)
    x = rng.normal(size=(4, 6))
    r = rng.normal(size=(4, 5))
    out = np.empty((4, 5))

    def loss():
        return float(np.sum(r * layer.forward(x, np.empty((4, 5)))))

    y = layer.forward(x, out)
    if activation == "relu":  # keep away from the kink, where the derivative is not defined
        z = x @ layer.kernel + (layer.bias if use_bias else 0)
        assert np.abs(z).min() > 1e-4
    grad = r.copy()
    dx = np.empty_like(x)
    layer.backward(x, y, grad, dx=dx)
    np.testing.assert_allclose(layer.d_kernel, numeric_grad(loss, layer.kernel), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dx, numeric_grad(loss, x), rtol=1e-6, atol=1e-8)
    if use_bias:
        np.testing.assert_allclose(layer.d_bias, numeric_grad(loss, layer.bias), rtol=1e-6, atol=1e-8)
    else:
        assert layer.bias is None and layer.weights == [layer.kernel]


def test_dense_backward_reads_transposes_as_views_without_modifying_inputs():
    layer = make_dense(3, "relu", True)
    x = np.random.default_rng(4).normal(size=(8, 6))
    xc = x.copy()
    y = layer.forward(x, np.empty((8, 3)))
    layer.backward(x, y, np.ones((8, 3)))
    np.testing.assert_array_equal(x, xc)


@pytest.mark.parametrize("units", [0, -3, 2.5, "10", True, None])
def test_dense_rejects_bad_units(units):
    with pytest.raises(ValueError, match="invalid value for `units`"):
        layers.Dense(units)


@pytest.mark.parametrize("kwargs, match", [
    ({"activation": "swish"}, "Unknown activation"),
    ({"kernel_initializer": "orthogonal"}, "kernel_initializer"),
    ({"input_shape": (28, 28)}, "input_shape"),
])
def test_dense_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        layers.Dense(4, **kwargs)


def test_activation_get():
    assert isinstance(activations.get(None), activations.Linear)
    assert isinstance(activations.get("ReLU"), activations.ReLU)
    with pytest.raises(TypeError):
        activations.get(3)


@pytest.mark.parametrize("name", ["glorot_uniform", "he_uniform", "lecun_uniform"])
def test_uniform_initializers_respect_keras_limits(name):
    layer = layers.Dense(300, kernel_initializer=name)
    layer.build(200, np.float32, np.random.default_rng(0))
    fan_in, fan_out = 200, 300
    limit = {"glorot_uniform": np.sqrt(6 / (fan_in + fan_out)), "he_uniform": np.sqrt(6 / fan_in),
             "lecun_uniform": np.sqrt(3 / fan_in)}[name]
    k = layer.kernel
    assert k.dtype == np.float32 and k.shape == (200, 300)
    assert np.abs(k).max() <= limit and np.abs(k).max() > 0.99 * limit
    assert abs(k.std() - limit / np.sqrt(3)) < 0.01 * limit

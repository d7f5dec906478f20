"""Layers: Dense forward vs NumPy, backward vs central finite differences (float64), Dropout's
mask and scale, InputLayer, weights get/set all-or-nothing, Keras 3 configs, initializers."""
import numpy as np
import pytest
from helpers import numeric_grad

from fastops import activations, initializers, layers, nn, regularizers


def make_dense(units, activation, use_bias, n_in=6, seed=0):
    layer = layers.Dense(units, activation=activation, use_bias=use_bias, dtype="float64")
    layer.rng = np.random.default_rng(seed)
    layer.build((None, n_in))
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
    np.testing.assert_allclose(layer.forward(x, out=np.empty((4, 5))), REF[activation](z),
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(layer.logits(x), z, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(layer(x), REF[activation](z), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("activation", list(REF))
@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "nobias"])
def test_dense_backward_by_finite_differences(activation, use_bias):
    """L = sum(R * dense(x)) so dL/dy = R; every gradient the layer returns is checked."""
    rng = np.random.default_rng(3)
    layer = make_dense(5, activation, use_bias)
    x = rng.normal(size=(4, 6))
    r = rng.normal(size=(4, 5))

    def loss():
        return float(np.sum(r * layer.forward(x)))

    layer.forward(x, training=True, out=np.empty((4, 5)))
    if activation == "relu":  # keep away from the kink, where the derivative is not defined
        z = x @ layer.kernel + (layer.bias if use_bias else 0)
        assert np.abs(z).min() > 1e-4
    dx = layer.backward(r.copy(), out=np.empty_like(x))
    grads = dict(zip(["kernel", "bias"], layer.gradients))
    np.testing.assert_allclose(grads["kernel"], numeric_grad(loss, layer.kernel), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dx, numeric_grad(loss, x), rtol=1e-6, atol=1e-8)
    if use_bias:
        np.testing.assert_allclose(grads["bias"], numeric_grad(loss, layer.bias), rtol=1e-6, atol=1e-8)
    else:
        assert layer.bias is None and layer.weights == [layer.kernel]
    assert layer.backward(r.copy(), input_grad=False) is None


def test_dense_backward_does_not_modify_its_input():
    layer = make_dense(3, "relu", True)
    x = np.random.default_rng(4).normal(size=(8, 6))
    xc = x.copy()
    layer.forward(x, training=True)
    layer.backward(np.ones((8, 3)))
    np.testing.assert_array_equal(x, xc)


@pytest.mark.parametrize("units", [0, -3, 2.5, "10", True, None])
def test_dense_rejects_bad_units(units):
    with pytest.raises(ValueError, match="invalid value for `units`"):
        layers.Dense(units)


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"activation": "swish"}, ValueError, "Unknown activation"),
    ({"activation": lambda z: z}, TypeError, "no autodiff"),
    ({"kernel_initializer": "glorot_fancy"}, ValueError, "kernel_initializer"),
    ({"kernel_regularizer": "l3"}, ValueError, "Unknown regularizer"),
    ({"input_shape": (0,)}, ValueError, "input_shape"),
    ({"dtype": "float16"}, ValueError, "dtype"),
    ({"kernel_constraint": "non_neg"}, ValueError, "not supported"),
    ({"units_": 3}, TypeError, "Unrecognized keyword"),
])
def test_dense_rejects_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        layers.Dense(4, **kwargs)


def test_activation_get():
    assert isinstance(activations.get(None), activations.Linear)
    assert isinstance(activations.get("ReLU"), activations.ReLU)
    assert isinstance(activations.get(activations.relu), activations.ReLU)
    with pytest.raises(TypeError):
        activations.get(3)
    np.testing.assert_array_equal(activations.relu(np.array([-1.0, 2.0])), [0.0, 2.0])


@pytest.mark.parametrize("name", ["glorot_uniform", "he_uniform", "lecun_uniform"])
def test_uniform_initializers_respect_keras_limits(name):
    k = initializers.get(name)((200, 300), "float32", np.random.default_rng(0))
    fan_in, fan_out = 200, 300
    limit = {"glorot_uniform": np.sqrt(6 / (fan_in + fan_out)), "he_uniform": np.sqrt(6 / fan_in),
             "lecun_uniform": np.sqrt(3 / fan_in)}[name]
    assert k.dtype == np.float32 and k.shape == (200, 300)
    assert np.abs(k).max() <= limit and np.abs(k).max() > 0.99 * limit
    assert abs(k.std() - limit / np.sqrt(3)) < 0.01 * limit


@pytest.mark.parametrize("name, mean, std, bound", [
    ("random_normal", 0.0, 0.05, None), ("truncated_normal", 0.0, 0.05 * 0.8796, 0.1),
    ("glorot_normal", 0.0, np.sqrt(2 / 700), 2 * np.sqrt(2 / 700) / 0.8796),
    ("he_normal", 0.0, np.sqrt(2 / 300), 2 * np.sqrt(2 / 300) / 0.8796),
    ("lecun_normal", 0.0, np.sqrt(1 / 300), 2 * np.sqrt(1 / 300) / 0.8796),
])
def test_normal_initializers_moments_and_truncation(name, mean, std, bound):
    k = initializers.get(name)((300, 400), "float64", np.random.default_rng(1))
    assert abs(k.mean() - mean) < 0.02 * std * 10
    assert abs(k.std() - std) < 0.02 * std
    if bound is not None:
        assert np.abs(k).max() <= bound * (1 + 1e-12)


def test_other_initializers():
    rng = np.random.default_rng(2)
    u = initializers.RandomUniform(-0.2, 0.3)((1000,), "float64", rng)
    assert u.min() >= -0.2 and u.max() < 0.3 and u.min() < -0.19 and u.max() > 0.29
    q = initializers.Orthogonal(gain=2.0)((50, 30), "float64", rng)
    np.testing.assert_allclose(q.T @ q, 4 * np.eye(30), atol=1e-12)
    np.testing.assert_array_equal(initializers.get("ones")((2, 2)), np.ones((2, 2)))
    np.testing.assert_array_equal(initializers.Constant(3.0)((2,)), [3.0, 3.0])
    a = initializers.RandomNormal(seed=5)((4,), "float64")
    np.testing.assert_array_equal(a, initializers.RandomNormal(seed=5)((4,), "float64"))


def test_set_weights_is_all_or_nothing():
    layer = make_dense(3, "relu", True)
    before = layer.get_weights()
    with pytest.raises(ValueError, match="array 1 has shape"):
        layer.set_weights([np.zeros((6, 3)), np.zeros(4)])
    for a, b in zip(layer.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="expected 2 arrays"):
        layer.set_weights([np.zeros((6, 3))])
    layer.set_weights([np.ones((6, 3)), np.arange(3)])
    np.testing.assert_array_equal(layer.bias, [0, 1, 2])
    assert layer.count_params() == 21
    with pytest.raises(ValueError, match="isn't built"):
        layers.Dense(3).count_params()


def test_dropout_forward_and_backward_use_the_kernel_mask():
    layer = layers.Dropout(0.25, seed=11)
    x = np.random.default_rng(5).normal(size=(16, 8)).astype(np.float32)
    assert layer(x) is not None and layer.forward(x) is x  # inference: identity, no copy
    y = layer.forward(x, training=True)
    keep = nn.dropout_keep(x.shape, 0.25, 11)
    np.testing.assert_array_equal(y, np.where(keep, x / np.float32(0.75), 0))
    g = layer.backward(np.ones_like(x), out=np.empty_like(x))
    np.testing.assert_array_equal(g, np.where(keep, np.float32(1 / 0.75), 0))
    y2 = layer.forward(x, training=True)  # step 2 uses seed + 1: another mask
    np.testing.assert_array_equal(y2 != 0, nn.dropout_keep(x.shape, 0.25, 12))
    assert 0.6 < keep.mean() < 0.9


@pytest.mark.parametrize("rate", [-0.1, 1.0, "0.5", True])
def test_dropout_rejects_bad_rate(rate):
    with pytest.raises(ValueError, match="rate"):
        layers.Dropout(rate)


def test_input_forms():
    a = layers.Input(shape=(784,))
    assert isinstance(a, layers.InputLayer) and a.shape == (None, 784)
    b = layers.InputLayer(batch_shape=(None, 5), name="inp")
    assert b.get_config() == {"batch_shape": [None, 5], "dtype": "float32", "sparse": False,
                              "ragged": False, "name": "inp", "optional": False}
    with pytest.raises(ValueError, match="shape is required"):
        layers.Input()


def test_dense_config_is_keras_3_and_round_trips():
    layer = layers.Dense(4, activation="relu", kernel_initializer="random_normal",
                         kernel_regularizer=regularizers.l2(0.001), name="d")
    cfg = layer.get_config()
    assert cfg["kernel_initializer"] == {"module": "keras.initializers", "class_name": "RandomNormal",
                                         "config": {"mean": 0.0, "stddev": 0.05, "seed": None},
                                         "registered_name": None}
    assert cfg["kernel_regularizer"] == {"module": "keras.regularizers", "class_name": "L2",
                                         "config": {"l2": 0.001}, "registered_name": None}
    assert cfg["activation"] == "relu" and cfg["units"] == 4 and cfg["bias_regularizer"] is None
    assert cfg["dtype"]["config"] == {"name": "float32"}
    clone = layers.Dense.from_config({**cfg, "name": "d2"})
    assert clone.get_config() == {**cfg, "name": "d2"}


def test_regularizers():
    assert regularizers.l2().l2 == 0.01 and regularizers.l1_l2().get_config() == {"l1": 0.0, "l2": 0.0}
    assert regularizers.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}
    # Keras 3: l1_l2 is L1L2, so naming one coefficient adds no penalty of the other
    assert regularizers.l1_l2(l1=0.001).get_config() == {"l1": 0.001, "l2": 0.0}
    w = np.array([[1.0, -2.0]])
    assert regularizers.l1_l2(0.5, 0.25)(w) == pytest.approx(0.5 * 3 + 0.25 * 5)
    with pytest.raises(ValueError, match="l2"):
        regularizers.l2(-1)

    class Custom(regularizers.Regularizer):
        pass
    with pytest.raises(TypeError, match="only these"):
        regularizers.get(Custom())

"""Keras 3's object surface of every registered kind: serialize -> deserialize gives an equal
object (same class and config), names and functions resolve, repr names the object, and a
custom Loss subclass (the documented extension point) trains exactly as the built-in loss."""
import numpy as np
import pytest

from fastops import (activations, initializers, layers, losses, metrics, models, optimizers,
                     regularizers)

OBJECTS = [
    (activations, activations.get("relu")), (activations, activations.get("softmax")),
    (activations, activations.get(None)),
    (losses, losses.CategoricalCrossentropy(from_logits=True)),
    (losses, losses.SparseCategoricalCrossentropy()), (losses, losses.BinaryCrossentropy()),
    (losses, losses.MeanSquaredError()), (losses, losses.MeanAbsoluteError()),
    (metrics, metrics.BinaryAccuracy(threshold=0.3)),
    (metrics, metrics.TopKCategoricalAccuracy(k=3)), (metrics, metrics.MeanSquaredError()),
    (optimizers, optimizers.Adam(learning_rate=0.01, amsgrad=True)),
    (optimizers, optimizers.RMSprop(momentum=0.5, centered=True)),
    (regularizers, regularizers.L1(0.02)), (regularizers, regularizers.L2(0.03)),
    (regularizers, regularizers.l1_l2(0.1, 0.2)),
    (initializers, initializers.Constant(0.5)), (initializers, initializers.RandomUniform(-1, 2, seed=3)),
    (initializers, initializers.Orthogonal(gain=2.0, seed=1)),
    (initializers, initializers.HeNormal(seed=4)),
]


def config_of(module, obj):
    serialized = module.serialize(obj)
    return serialized if isinstance(serialized, str) else serialized["config"]


@pytest.mark.parametrize("module, obj", OBJECTS, ids=lambda o: type(o).__name__)
def test_serialize_then_deserialize_gives_the_same_object(module, obj):
    again = module.deserialize(module.serialize(obj))
    assert type(again) is type(obj)
    assert config_of(module, again) == config_of(module, obj)
    assert type(obj).__name__ in repr(obj) or getattr(obj, "name", "") in repr(obj)


def test_activation_functions_and_equality():
    x = np.array([[-1.0, 0.0, 2.0]])
    np.testing.assert_array_equal(activations.linear(x), x)
    np.testing.assert_array_equal(activations.relu(x), [[0.0, 0.0, 2.0]])
    np.testing.assert_allclose(activations.sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-6)
    np.testing.assert_allclose(activations.tanh(x), np.tanh(x), rtol=1e-6)
    e = np.exp(x - x.max())
    np.testing.assert_allclose(activations.softmax(x), e / e.sum(), rtol=1e-6)
    with pytest.raises(ValueError, match="last axis only"):
        activations.softmax(np.ones((2, 3)), axis=0)
    assert activations.get(activations.tanh) == activations.Tanh()
    assert activations.get("relu") != activations.get("tanh")
    assert len({activations.ReLU(), activations.ReLU()}) == 1
    assert activations.Activation.from_config({}).get_config() == {}


def test_metric_functions_and_wrappers_by_value():
    y_true = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    y_pred = np.array([[0.3, 0.7], [0.6, 0.4], [0.8, 0.2]])
    np.testing.assert_allclose(metrics.binary_accuracy(y_true, y_pred), [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(metrics.top_k_categorical_accuracy(y_true, y_pred, k=1),
                                  [True, True, False])
    m = metrics.get(metrics.mean_squared_error)  # a Keras function names a metric class
    assert m.name == "mean_squared_error"
    m.update_state(y_true, y_pred)
    assert m.result() == pytest.approx(np.mean((y_true - y_pred) ** 2))
    np.testing.assert_allclose(m.values(y_true, y_pred), np.mean((y_true - y_pred) ** 2, 1))
    mae = metrics.MeanAbsoluteError()
    np.testing.assert_allclose(mae.values(y_true, y_pred), np.mean(np.abs(y_true - y_pred), 1))
    wrapped = metrics.get(lambda t, p: float(np.abs(t - p).max()))  # any function: a mean of it
    wrapped.update_state(y_true, y_pred)
    assert wrapped.result() == pytest.approx(0.8)  # the batch's one value, per sample
    mean = metrics.Mean()
    mean.update_state([1.0, 2.0, 6.0], sample_weight=[1.0, 1.0, 2.0])
    assert mean.result() == pytest.approx(15.0 / 4.0)
    assert "mean" in repr(mean)


def test_initializer_shapes_and_fans():
    assert initializers.Constant(2.5)((2, 3)).tolist() == [[2.5] * 3] * 2
    u = initializers.RandomUniform(-1.0, 2.0, seed=0)((1000,))
    assert u.min() >= -1.0 and u.max() < 2.0 and u.min() < -0.9 and u.max() > 1.9
    q = initializers.Orthogonal(seed=0)((3, 5), dtype="float64")  # rows < cols: q.T
    np.testing.assert_allclose(q @ q.T, np.eye(3), atol=1e-12)
    q = initializers.Orthogonal(gain=2.0, seed=0)((5, 3), dtype="float64")
    np.testing.assert_allclose(q.T @ q, 4 * np.eye(3), atol=1e-12)
    with pytest.raises(ValueError, match="at least 2 dims"):
        initializers.Orthogonal()((4,))
    # fans of 0-d and 1-d shapes: fan_in = fan_out = 1 and = n (Keras' compute_fans)
    assert np.abs(initializers.LecunUniform(seed=0)(())).max() <= np.sqrt(3.0)
    assert np.abs(initializers.LecunUniform(seed=0)((12,))).max() <= np.sqrt(3.0 / 12)
    with pytest.raises(ValueError, match="must not be None"):
        initializers.get(None)
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        initializers.GlorotUniform(seed=-1)
    cfg = {"class_name": "GlorotUniform", "config": {"seed": 3, "input_axes": None}}
    assert initializers.deserialize(cfg).seed == 3  # Keras 3.12+'s default fan axes


class SquaredError(losses.Loss):
    """The documented extension point: call and gradient per sample."""

    def call(self, y_true, y_pred):
        return np.mean((y_pred - y_true) ** 2, axis=-1)

    def gradient(self, y_true, y_pred):
        return 2 * (y_pred - y_true) / y_pred.shape[-1]


def test_a_custom_loss_trains_as_the_builtin_one():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 5)), rng.normal(size=(40, 2))
    runs = []
    for loss in (SquaredError(), "mse"):
        model = models.Sequential([layers.Dense(4, activation="tanh", input_shape=(5,)),
                                   layers.Dense(2)], seed=2)
        model.compile(optimizer="sgd", loss=loss)
        h = model.fit(x, y, batch_size=16, epochs=2, verbose=0, sample_weight=np.linspace(0, 2, 40))
        runs.append((model.get_weights(), h.history["loss"]))
    for a, b in zip(runs[0][0], runs[1][0]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(runs[0][1], runs[1][1], rtol=1e-5)
    unreduced = SquaredError(reduction="none")(y, y + 1, sample_weight=np.full(40, 2.0))
    np.testing.assert_allclose(unreduced, np.full(40, 2.0), rtol=1e-12)


def test_a_loss_without_call_or_gradient_says_so():
    class Half(losses.Loss):
        def call(self, y_true, y_pred):
            return np.zeros(len(y_pred))

        def gradient(self, y_true, y_pred):
            return np.zeros((len(y_pred), 1))  # wrong shape

    with pytest.raises(NotImplementedError, match="implement call"):
        losses.Loss()(np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(NotImplementedError, match="no autodiff"):
        losses.Loss().gradient(None, None)
    with pytest.raises(NotImplementedError, match="no fused form"):
        losses.Loss().logits_value_and_gradient(None, None)
    with pytest.raises(ValueError, match="gradient returned shape"):
        Half().value_and_gradient(np.ones((3, 2)), np.ones((3, 2)))
    with pytest.raises(NotImplementedError):
        metrics.Metric().values(None, None)

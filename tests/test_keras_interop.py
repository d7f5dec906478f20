"""Interop with the real Keras 3, both ways: '.keras' files and '.weights.h5' written by one
load in the other and predict the same (max abs difference <= 1e-6 in float32)."""
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")
keras = pytest.importorskip("keras", reason="keras 3 (with jax) is not installed: "
                            "pip install keras 'jax[cpu]' to run the interop tests")
if not keras.__version__.startswith("3."):
    pytest.skip(f"interop is with Keras 3, found keras {keras.__version__}", allow_module_level=True)

import fastops  # noqa: E402
from fastops import layers, losses, models, regularizers  # noqa: E402


def data(n=64, d=12, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)).astype(np.float32), rng.integers(0, 3, n)


def test_fastops_model_loads_in_keras_and_predicts_the_same(tmp_path):
    x, y = data()
    m = fastops.Sequential([fastops.Input(shape=(12,)),
                            layers.Dense(16, activation="relu", kernel_regularizer=regularizers.l2(1e-3),
                                         kernel_initializer="he_normal"),
                            layers.Dropout(0.3), layers.Dense(8, activation="tanh"),
                            layers.Dense(3, activation="softmax")], seed=0)
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    m.fit(x, y, epochs=2, verbose=0)
    path = tmp_path / "m.keras"
    m.save(path)
    k = keras.saving.load_model(path)
    assert [type(l).__name__ for l in k.layers] == ["Dense", "Dropout", "Dense", "Dense"]
    assert k.layers[0].kernel_regularizer.l2 == pytest.approx(1e-3)
    np.testing.assert_allclose(np.asarray(k.predict(x, verbose=0)), m.predict(x, verbose=0),
                               rtol=0, atol=1e-6)
    assert type(k.optimizer).__name__ == "Adam" and int(k.optimizer.iterations) == 4
    k.fit(x, y, epochs=1, verbose=0)  # Keras can train on it further
    m.save_weights(tmp_path / "w.weights.h5")
    k2 = keras.Sequential([keras.Input(shape=(12,)), keras.layers.Dense(16, activation="relu"),
                           keras.layers.Dropout(0.3), keras.layers.Dense(8, activation="tanh"),
                           keras.layers.Dense(3, activation="softmax")])
    k2.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_allclose(np.asarray(k2.predict(x, verbose=0)), m.predict(x, verbose=0),
                               rtol=0, atol=1e-6)


@pytest.mark.parametrize("loss, head, units", [("binary_crossentropy", "sigmoid", 1),
                                               ("categorical_crossentropy", "softmax", 3),
                                               ("mse", None, 2)])
def test_keras_model_loads_in_fastops_and_predicts_the_same(tmp_path, loss, head, units):
    x, y = data()
    kl = keras.layers
    k = keras.Sequential([keras.Input(shape=(12,)),
                          kl.Dense(16, activation="relu", kernel_initializer="random_normal",
                                   kernel_regularizer=keras.regularizers.l1_l2(1e-4, 1e-3),
                                   bias_initializer="ones"),
                          kl.Dropout(0.5, seed=1),
                          kl.Dense(units, activation=head, bias_regularizer="l2")])
    k.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.01), loss=loss,
              metrics=["mae", "accuracy"] if units == 1 else ["mae"])
    target = {1: (y == 1).astype(np.float32), 3: np.eye(3, dtype=np.float32)[y],
              2: np.random.default_rng(1).normal(size=(64, 2)).astype(np.float32)}[units]
    k.fit(x, target, epochs=1, verbose=0)
    path = tmp_path / "k.keras"
    k.save(path)
    m = models.load_model(path)
    np.testing.assert_allclose(m.predict(x, verbose=0), np.asarray(k.predict(x, verbose=0)),
                               rtol=0, atol=1e-6)
    dense = m.layers[0]
    assert isinstance(m.layers[1], layers.Dropout) and m.layers[1].rate == 0.5
    assert dense.kernel_regularizer.l1 == pytest.approx(1e-4) and dense.kernel_regularizer.l2 == pytest.approx(1e-3)
    assert type(dense.kernel_initializer).__name__ == "RandomNormal"
    assert type(m.optimizer).__name__ == "RMSprop" and m.optimizer.learning_rate == pytest.approx(0.01)
    assert isinstance(m.loss, losses.get(loss).__class__)
    assert m.optimizer.iterations == 2
    h = m.fit(x, target, epochs=1, verbose=0)  # resumes with Keras' optimizer state
    assert "mae" in h.history and np.isfinite(h.history["loss"][0])
    k.save_weights(tmp_path / "k.weights.h5")
    again = models.Sequential([layers.Dense(16, activation="relu"), layers.Dropout(0.5),
                               layers.Dense(units, activation=head)])
    again.load_weights(tmp_path / "k.weights.h5")
    np.testing.assert_allclose(again.predict(x, verbose=0), np.asarray(k.predict(x, verbose=0)),
                               rtol=0, atol=1e-6)


def test_model_json_goes_both_ways():
    m = fastops.Sequential([fastops.Input(shape=(12,)), layers.Dense(16, activation="relu"),
                            layers.Dropout(0.3), layers.Dense(3, activation="softmax")], seed=0)
    k = keras.models.model_from_json(m.to_json())
    assert [type(l).__name__ for l in k.layers] == ["Dense", "Dropout", "Dense"]
    assert k.output_shape == (None, 3) and k.layers[0].activation.__name__ == "relu"
    back = models.model_from_json(k.to_json())
    assert [type(l).__name__ for l in back.layers] == ["Dense", "Dropout", "Dense"]
    assert back.output_shape == (None, 3) and back.layers[1].rate == 0.3


def test_keras_saves_metric_functions_fastops_loads_them_with_custom_objects(tmp_path):
    def mean_pred(y_true, y_pred):
        return keras.ops.mean(y_pred, axis=-1)

    x, y = data()
    k = keras.Sequential([keras.Input((12,)), keras.layers.Dense(3, activation="softmax")])
    k.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=[mean_pred])
    path = tmp_path / "k.keras"
    k.save(path)

    def numpy_version():
        def mean_pred(y_true, y_pred):  # the same function in NumPy, under the same name
            return np.mean(y_pred, axis=-1)
        return mean_pred

    m = models.load_model(path, custom_objects={"mean_pred": numpy_version()})
    logs = m.evaluate(x, y, verbose=0, return_dict=True)
    assert logs["mean_pred"] == pytest.approx(1 / 3, rel=1e-5)  # softmax rows sum to 1

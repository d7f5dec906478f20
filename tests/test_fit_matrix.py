"""Issue 8's crash as a matrix: every loss x (rows divisible by the batch size or not) x
shuffle on/off x fit/evaluate/predict, checked by value against whole-array computations."""
import numpy as np
import pytest

from fastops import layers, losses, metrics, models

HEADS = {"categorical_crossentropy": ("softmax", 3), "sparse_categorical_crossentropy": ("softmax", 3),
         "binary_crossentropy": ("sigmoid", 1), "mean_squared_error": ("linear", 2),
         "mean_absolute_error": ("linear", 1)}


def targets(loss, n, k, rng):
    if loss == "sparse_categorical_crossentropy":
        return rng.integers(0, k, n).astype(np.uint8)  # uint8, as MNIST's labels
    if loss == "categorical_crossentropy":
        return np.eye(k, dtype=np.float32)[rng.integers(0, k, n)]
    if loss == "binary_crossentropy":
        return rng.integers(0, 2, n).astype(np.float32)  # 1-D targets for an (n, 1) output
    return rng.normal(size=(n, k) if k > 1 else n).astype(np.float32)


@pytest.mark.parametrize("loss", list(HEADS))
@pytest.mark.parametrize("n", [96, 100], ids=["divisible", "partial"])
@pytest.mark.parametrize("shuffle", [True, False], ids=["shuffle", "ordered"])
def test_fit_evaluate_predict(loss, n, shuffle):
    head, k = HEADS[loss]
    rng = np.random.default_rng(n)
    x = rng.normal(size=(n, 7))
    y = targets(loss, n, k, rng)
    model = models.Sequential([layers.Dense(6, activation="relu"), layers.Dense(k, activation=head)],
                              seed=1)
    model.compile(optimizer="adam", loss=loss, metrics=["mae"] if k == 1 else None)
    for _ in range(2):  # a second fit on the same model: the issue-8 model stayed broken
        h = model.fit(x, y, batch_size=32, epochs=2, shuffle=shuffle, verbose=0)
        assert len(h.history["loss"]) == 2 and np.isfinite(h.history["loss"]).all()
    p = model.predict(x, batch_size=32, verbose=0)
    assert p.shape == (n, k) and p.dtype == np.float32
    np.testing.assert_allclose(p[-5:], model.predict(x[-5:], verbose=0), rtol=1e-5, atol=1e-6)
    expected = float(np.mean(getattr(losses, loss)(y, p)))
    result = model.evaluate(x, y, batch_size=32, verbose=0)
    got = result[0] if isinstance(result, list) else result
    assert got == pytest.approx(expected, rel=2e-5, abs=1e-6)
    if k == 1:
        mae = float(np.mean(np.abs(p[:, 0] - y)))
        assert result[1] == pytest.approx(mae, rel=1e-5)


def test_metric_functions_and_classes_agree_with_numpy():
    rng = np.random.default_rng(0)
    p = rng.random((40, 5)).astype(np.float32)
    labels = rng.integers(0, 5, 40)
    onehot = np.eye(5, dtype=np.float32)[labels]
    np.testing.assert_array_equal(metrics.sparse_categorical_accuracy(labels, p), p.argmax(1) == labels)
    np.testing.assert_array_equal(metrics.categorical_accuracy(onehot, p), p.argmax(1) == labels)
    top2 = (np.argsort(-p, 1)[:, :2] == labels[:, None]).any(1)
    np.testing.assert_array_equal(metrics.sparse_top_k_categorical_accuracy(labels, p, k=2), top2)
    m = metrics.TopKCategoricalAccuracy(k=2)
    m.update_state(onehot[:25], p[:25])
    m.update_state(onehot[25:], p[25:])
    assert m.result() == pytest.approx(top2.mean())
    w = rng.random(40)
    b = metrics.BinaryAccuracy(threshold=0.3)
    b.update_state(onehot, p, sample_weight=w)
    assert b.result() == pytest.approx(np.sum(((p > 0.3) == onehot).mean(1) * w) / w.sum())
    mse = metrics.get("mse")
    mse.update_state(onehot, p)
    assert mse.result() == pytest.approx(np.mean((p - onehot) ** 2), rel=1e-6)
    custom = metrics.get(lambda t, q: np.abs(t - q).max(axis=1))
    custom.update_state(onehot, p)
    assert custom.result() == pytest.approx(np.abs(onehot - p).max(1).mean(), rel=1e-6)
    custom.reset_state()
    assert custom.result() == 0.0
    with pytest.raises(ValueError, match="Unknown metric"):
        metrics.get("auc")


def test_loss_functions_and_classes_agree_with_numpy():
    rng = np.random.default_rng(1)
    p = rng.uniform(0.01, 0.99, (10, 1)).astype(np.float64)
    y = rng.integers(0, 2, 10).astype(np.float64)
    bce = -(y * np.log(p[:, 0]) + (1 - y) * np.log(1 - p[:, 0]))
    np.testing.assert_allclose(losses.binary_crossentropy(y[:, None], p), bce, rtol=1e-12)
    assert losses.BinaryCrossentropy()(y, p) == pytest.approx(bce.mean())
    w = rng.random(10)
    assert losses.get("bce")(y, p, sample_weight=w) == pytest.approx((bce * w).sum() / 10)
    z = rng.normal(size=(10, 1))
    np.testing.assert_allclose(losses.binary_crossentropy(y[:, None], z, from_logits=True),
                               losses.binary_crossentropy(y[:, None], 1 / (1 + np.exp(-z))), rtol=1e-9)
    q = rng.random((10, 4))
    np.testing.assert_allclose(losses.mse(q[:, :1] * 0 + y[:, None], q[:, :1]), (q[:, 0] - y) ** 2)
    labels = rng.integers(0, 4, 10)
    sm = np.exp(q) / np.exp(q).sum(1, keepdims=True)
    np.testing.assert_allclose(losses.sparse_categorical_crossentropy(labels, q, from_logits=True),
                               -np.log(sm[np.arange(10), labels]), rtol=1e-9)
    assert losses.MeanAbsoluteError().get_config() == {"name": "mean_absolute_error",
                                                       "reduction": "sum_over_batch_size"}
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.CategoricalCrossentropy(label_smoothing=0.1)


def test_a_custom_loss_subclass_trains_by_its_gradient():
    class Squared(losses.Loss):
        def call(self, y_true, y_pred):
            return ((y_pred - y_true.reshape(y_pred.shape)) ** 2).sum(axis=1)

        def gradient(self, y_true, y_pred):
            return 2 * (y_pred - y_true.reshape(y_pred.shape))

    rng = np.random.default_rng(2)
    x = rng.normal(size=(64, 3))
    y = x @ np.array([1.0, -2.0, 0.5])
    a = models.Sequential([layers.Dense(1, input_shape=(3,))], seed=0)
    a.compile(optimizer="sgd", loss=Squared())
    b = models.Sequential([layers.Dense(1, input_shape=(3,))], seed=0)
    b.compile(optimizer="sgd", loss="mse")
    ha = a.fit(x, y, epochs=3, verbose=0, shuffle=False)
    hb = b.fit(x, y, epochs=3, verbose=0, shuffle=False)
    np.testing.assert_allclose(ha.history["loss"], hb.history["loss"], rtol=1e-5)  # k = 1
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-5)

"""Keras 3 behaviours a review found fastops missing (each checked against Keras 3.15 on JAX
by hand; the values here follow from Keras' definitions or NumPy, not from running Keras):
class weights that stay off the validation rows, the logs' names and order, custom objects
in load_model and a saved metric function, 1-D inputs to a loss object, logs in every hook
as Keras passes them, a History passed in, l1_l2's defaults, thresholds of 0, the batch
methods (train/test/predict_on_batch, model(x)), get_layer, to_json and LambdaCallback."""
import numpy as np
import pytest

from fastops import callbacks, layers, losses, metrics, models, regularizers


def _model(units=2, activation=None, seed=0):
    m = models.Sequential([layers.Input((4,)), layers.Dense(units, activation=activation)],
                          seed=seed)
    return m


def _data(n=50, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    return x, y


def test_class_weight_leaves_the_validation_rows_unweighted():
    x, y = _data()
    m = _model(activation="softmax")
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h = m.fit(x, y, epochs=1, verbose=0, validation_split=0.2, class_weight={0: 0.2, 1: 5.0},
              shuffle=False)
    loss, acc = m.evaluate(x[40:], y[40:], verbose=0)  # the last 20%, unweighted
    assert h.history["val_loss"][-1] == pytest.approx(loss, rel=1e-6)
    assert h.history["val_accuracy"][-1] == pytest.approx(acc)


def test_classes_the_class_weight_does_not_name_weigh_one():
    x, y = _data()
    m = _model(activation="softmax")
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    w0 = m.get_weights()
    m.fit(x, y, epochs=1, verbose=0, shuffle=False, class_weight={1: 5.0})
    named = m.get_weights()
    m.set_weights(w0)
    m.fit(x, y, epochs=1, verbose=0, shuffle=False, class_weight={0: 1.0, 1: 5.0})
    for a, b in zip(named, m.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="class_weight keys"):
        m.fit(x, y, epochs=1, verbose=0, class_weight={"1": 2.0})
    # no table as long as the largest label: a stray huge label weighs 1.0, in no memory
    from fastops._data import class_weights
    w = class_weights({0: 0.5, 2: 3.0}, np.array([0, 1, 2, 10**12, -1]),
                      losses.SparseCategoricalCrossentropy())
    np.testing.assert_array_equal(w, [0.5, 1.0, 3.0, 1.0, 1.0])


def test_repeated_metric_names_are_made_unique_as_keras_does():
    x, y = _data()
    w = np.linspace(0.1, 2.0, len(x))
    m = _model(activation="softmax")
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
              metrics=["accuracy", "accuracy"], weighted_metrics=["accuracy"])
    h = m.fit(x, y, epochs=1, verbose=0, sample_weight=w)
    assert list(h.history) == ["accuracy", "accuracy_1", "loss", "weighted_accuracy"]
    assert m.metrics_names == ["loss", "accuracy", "accuracy_1", "weighted_accuracy"]
    logs = m.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    pred = m.predict(x, verbose=0).argmax(axis=1)
    assert logs["accuracy"] == pytest.approx(np.mean(pred == y))
    assert logs["accuracy_1"] == logs["accuracy"]
    assert logs["weighted_accuracy"] == pytest.approx(np.sum(w * (pred == y)) / np.sum(w))
    # evaluate's list: the loss, then each metric once in compile order (Keras 3.15 lists
    # values by name here, repeating 'accuracy'; README's Deviations)
    assert m.evaluate(x, y, sample_weight=w, verbose=0) == pytest.approx(
        [logs["loss"], logs["accuracy"], logs["accuracy_1"], logs["weighted_accuracy"]])


class HalfMSE(losses.Loss):
    def call(self, y_true, y_pred):
        return 0.5 * np.mean((y_pred - y_true) ** 2, axis=-1)

    def gradient(self, y_true, y_pred):
        return (y_pred - y_true) / y_pred.shape[-1]


def mean_error(y_true, y_pred):
    return np.mean(np.abs(y_pred - y_true), axis=-1)


def test_custom_objects_and_metric_functions_survive_save_and_load(tmp_path):
    x, _ = _data()
    y = x[:, :2].copy()
    m = _model()
    m.compile(optimizer="sgd", loss=HalfMSE(), metrics=[mean_error, "mae"])
    m.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "m.keras"
    m.save(path)
    with pytest.raises(ValueError, match="Unknown"):
        models.load_model(path)
    back = models.load_model(path, custom_objects={"HalfMSE": HalfMSE,
                                                    "mean_error": mean_error})
    assert isinstance(back.loss, HalfMSE)
    assert back.evaluate(x, y, verbose=0) == pytest.approx(m.evaluate(x, y, verbose=0))
    # saved again by the loaded model, the file still names the function and the loss
    custom = {"HalfMSE": HalfMSE, "mean_error": mean_error}
    back.save(tmp_path / "again.keras")
    again = models.load_model(tmp_path / "again.keras", custom_objects=custom)
    assert again.evaluate(x, y, verbose=0) == pytest.approx(m.evaluate(x, y, verbose=0))
    with pytest.raises(ValueError, match="lambda"):
        m.compile(optimizer="sgd", loss="mse", metrics=[lambda t, p: p.mean(axis=-1)])
        m.save(tmp_path / "lambda.keras")
    assert not (tmp_path / "lambda.keras").exists()


@pytest.mark.parametrize("cls", [losses.MeanSquaredError, losses.MeanAbsoluteError,
                                 losses.BinaryCrossentropy])
def test_a_loss_object_takes_one_sample_as_a_1d_array(cls):
    y, p = np.array([0.0, 1.0, 1.0]), np.array([0.2, 0.4, 0.9])
    expected = cls()(y[None], p[None])  # Keras: a 1-D pair is one sample
    assert cls()(y, p) == pytest.approx(expected)


def test_every_hook_gets_a_dict_and_a_history_passed_in_is_returned():
    seen = []

    class Recorder(callbacks.Callback):
        def __getattribute__(self, name):
            if name.startswith("on_"):
                def hook(*args, **kwargs):
                    logs = kwargs.get("logs", args[-1] if args else None)
                    seen.append((name, type(logs)))
                return hook
            return super().__getattribute__(name)

    x, y = _data()
    m = _model(activation="softmax")
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    history = callbacks.History()
    returned = m.fit(x, y, epochs=1, verbose=0, callbacks=[Recorder(), history],
                     validation_split=0.2)
    m.predict(x, verbose=0, callbacks=[Recorder()])
    assert returned is history and m.history is history and history.history["loss"]
    assert {t for _, t in seen} == {dict}
    assert {"on_train_begin", "on_epoch_begin", "on_predict_end"} <= {n for n, _ in seen}


def test_hooks_get_their_logs_as_keras_passes_them():
    """Keras 3 passes the train/test/predict begin-end and epoch hooks' logs by position,
    the batch hooks' by keyword: a callback whose parameter has another name works."""
    got = []

    class OtherName(callbacks.Callback):
        def on_epoch_begin(self, epoch, log=None):
            got.append(("epoch", log))

        def on_train_begin(self, lg=None):
            got.append(("train", lg))

    x, y = _data()
    m = _model(activation="softmax")
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
              weighted_metrics=["accuracy"])
    h = m.fit(x, y, epochs=1, verbose=0, validation_split=0.2, callbacks=[
        OtherName(), callbacks.LambdaCallback(on_train_begin=lambda lg: got.append(lg),
                                              on_epoch_end=lambda e, lg: got.append(e))])
    assert got == [("train", {}), {}, ("epoch", {}), 0]
    # the epoch's keys sorted as Keras 3 sorts them, validation keys included
    assert list(h.history) == ["accuracy", "loss", "val_accuracy", "val_loss",
                               "val_weighted_accuracy", "weighted_accuracy"]


def test_l1_l2_defaults_to_no_penalty_and_thresholds_may_be_zero():
    assert regularizers.l1_l2(l1=0.001).l2 == 0.0
    x, y = _data()
    m = _model(units=1)  # logits: from_logits=True and threshold 0, as the book's IMDB
    m.compile(optimizer="sgd", loss=losses.BinaryCrossentropy(from_logits=True),
              metrics=[metrics.BinaryAccuracy(threshold=0.0)])
    m.fit(x, y.astype(np.float32), epochs=1, verbose=0)
    acc = m.evaluate(x, y.astype(np.float32), verbose=0)[1]
    assert acc == pytest.approx(np.mean((m.predict(x, verbose=0)[:, 0] > 0) == y))


def _forward(m, x):
    """The model's softmax outputs, computed by NumPy in float64 from its weights."""
    w, b = m.get_weights()
    z = x.astype(np.float64) @ w + b
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_the_batch_methods_run_the_steps_of_fit_evaluate_and_predict():
    x, y = _data(n=40)
    a, b = _model(activation="softmax", seed=3), _model(activation="softmax", seed=3)
    for m in (a, b):
        m.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    # one step of fit on the same rows, bit for bit; each call reports its own batch (Keras
    # 3 keeps no running mean across train_on_batch calls)
    for rows in (slice(0, 40), slice(0, 16)):
        loss, acc = a.train_on_batch(x[rows], y[rows])
        h = b.fit(x[rows], y[rows], batch_size=40, epochs=1, verbose=0, shuffle=False)
        assert (loss, acc) == (h.history["loss"][0], h.history["accuracy"][0])
        for wa, wb in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_array_equal(wa, wb)
    assert a.train_on_batch(x, y, return_dict=True).keys() == {"accuracy", "loss"}
    p = _forward(a, x[:8])
    loss, acc = a.test_on_batch(x[:8], y[:8])
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(8), y[:8]])), rel=1e-5)
    assert acc == np.mean(p.argmax(axis=1) == y[:8])
    for out in (a.predict_on_batch(x), a(x), a.layers[0](x)):
        assert isinstance(out, np.ndarray) and out.dtype == np.float32
        np.testing.assert_allclose(out, _forward(a, x), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="training=True"):
        a(x, training=True)

    class StepInside(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.train_on_batch(x, y)

    with pytest.raises(RuntimeError, match="train_on_batch: fit is running on this model"):
        a.fit(x, y, epochs=1, verbose=0, callbacks=[StepInside()])


def test_get_layer_to_json_and_lambda_callback():
    x, y = _data()
    m = _model(activation="softmax")
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    assert m.get_layer(m.layers[0].name) is m.layers[0] is m.get_layer(index=-1)
    with pytest.raises(ValueError, match="No such layer"):
        m.get_layer("nope")
    with pytest.raises(ValueError, match="index"):
        m.get_layer(index=5)
    clone = models.model_from_json(m.to_json())
    assert clone.get_config() == m.get_config() and clone.built
    seen = []
    h = m.fit(x, y, epochs=2, batch_size=25, verbose=0, validation_split=0.2,
              callbacks=[callbacks.LambdaCallback(on_epoch_end=lambda e, logs: seen.append(e),
                                                  on_batch_end=lambda b, logs: seen.append("b"))])
    assert seen == ["b", "b", 0, "b", "b", 1]
    assert list(h.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]  # Keras 3 order
    with pytest.raises(TypeError, match="unexpected argument"):
        callbacks.LambdaCallback(on_epoch=print)

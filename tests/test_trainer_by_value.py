"""fastops' trainer against the NumPy reference trainer (tests/reference_trainer.py), step by
step: the weights after every step and the history, for every loss, optimizer and option.

Both compute in float64 here, so they agree to rounding (rtol 1e-9); a dropped sample, a
wrong mask, scale, weight or penalty moves them apart by far more.
"""
import numpy as np
import pytest

import reference_trainer as ref
from fastops import callbacks, config, layers, models, optimizers, regularizers


@pytest.fixture(autouse=True)
def float64_models():
    config.set_floatx("float64")
    yield
    config.set_floatx("float32")


def data(n=50, d=6, k=3, seed=0, loss="categorical_crossentropy"):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    labels = rng.integers(0, k, n)
    if loss == "sparse_categorical_crossentropy":
        y = labels
    elif loss == "binary_crossentropy":
        y = rng.integers(0, 2, (n, k)).astype(np.float32)
    elif loss in ("mean_squared_error", "mean_absolute_error"):
        y = rng.normal(size=(n, k)).astype(np.float32)
    else:
        y = np.eye(k, dtype=np.float32)[labels]
    return x, y


def build(spec, d, seed):
    model = models.Sequential([layers.Input(shape=(d,))], seed=seed)
    for layer in spec:
        if layer[0] == "dense":
            reg = layer[3]
            kr = regularizers.l1_l2(reg.get("l1", 0.0), reg.get("l2", 0.0)) if reg else None
            model.add(layers.Dense(layer[1], activation=layer[2], kernel_regularizer=kr))
        else:
            model.add(layers.Dropout(layer[1], seed=layer[2]))
    return model


class Trace(callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.steps = []

    def on_train_batch_end(self, batch, logs=None):
        self.steps.append(self.model.get_weights())


def run_both(spec, loss, optimizer="rmsprop", opt_hyper=None, epochs=2, batch_size=16, n=50,
             seed=3, shuffle=True, weights=None, validation=False, class_weight=None,
             options=None, callbacks_=(), x_view=None):
    """Train the reference and fastops on the same data; `options` are fit keywords that the
    reference takes too (initial_epoch, steps_per_epoch, validation_freq,
    validation_batch_size), `x_view(x)` gives fastops another layout or dtype of the same x."""
    opt_hyper = opt_hyper or {}
    options = options or {}
    x, y = data(n=n, k=spec[-1][1], loss=loss)
    if x_view is not None:
        x_fit = x_view(x)
        x = np.asarray(x_fit, dtype=np.float64)  # the reference gets the same values
    else:
        x_fit = x
    metrics = ["accuracy"]
    fit_kwargs = {}
    sw = None
    if weights == "sample":
        sw = np.random.default_rng(9).uniform(0, 2, n)
        fit_kwargs["sample_weight"] = sw
    elif class_weight is not None:
        labels = y if y.ndim == 1 else y.argmax(1)
        sw = np.array([class_weight[c] for c in labels], dtype=np.float64)
        fit_kwargs["class_weight"] = class_weight
    val = None
    if validation:
        xv, yv = data(n=23, k=spec[-1][1], loss=loss, seed=5)
        fit_kwargs["validation_data"] = (xv, yv)
        yv_ref = yv if loss == "sparse_categorical_crossentropy" else yv.astype(np.float64)
        val = (xv.astype(np.float64), yv_ref, None)
    schedule = next((c.schedule for c in callbacks_
                     if isinstance(c, callbacks.LearningRateScheduler)), None)
    steps, history = ref.train(spec, x, y, loss, optimizer, epochs, batch_size, seed, shuffle,
                               sw, val, lr_schedule=schedule, **options, **opt_hyper)
    model = build(spec, x.shape[1], seed)
    ref_opt_lr = opt_hyper.get("lr")
    opt_args = {k: v for k, v in opt_hyper.items() if k != "lr"}
    if ref_opt_lr is not None:
        opt_args["learning_rate"] = ref_opt_lr
    model.compile(optimizer=optimizers.get(optimizer).__class__(**opt_args), loss=loss,
                  metrics=metrics)
    trace = Trace()
    h = model.fit(x_fit, y, batch_size=batch_size, epochs=epochs, verbose=0, shuffle=shuffle,
                  callbacks=[trace, *callbacks_], **fit_kwargs, **options)
    assert len(trace.steps) == len(steps)
    for i, (got, want) in enumerate(zip(trace.steps, steps)):
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=f"step {i}")
    for key, values in history.items():
        np.testing.assert_allclose(h.history[key], values, rtol=1e-9, atol=1e-12, err_msg=key)
    assert set(h.history) == set(history)
    return model, h


HEADS = {
    "categorical_crossentropy": [("softmax", 3), ("sigmoid", 3)],   # fused, and from probs
    "sparse_categorical_crossentropy": [("softmax", 3)],
    "binary_crossentropy": [("sigmoid", 1), ("sigmoid", 3)],
    "mean_squared_error": [("linear", 3), ("softmax", 3)],          # softmax: non-fused backward
    "mean_absolute_error": [("linear", 1)],
}
CASES = [(loss, head, k) for loss, heads in HEADS.items() for head, k in heads]


@pytest.mark.parametrize("loss, head, k", CASES)
@pytest.mark.parametrize("shuffle", [True, False], ids=["shuffle", "ordered"])
@pytest.mark.parametrize("n", [48, 50], ids=["full-batches", "partial-last-batch"])
def test_every_loss_matches_the_reference(loss, head, k, shuffle, n):
    if k == 1 and loss == "binary_crossentropy":
        pass
    spec = [("dense", 5, "relu", {}), ("dense", k, head, {})]
    run_both(spec, loss, shuffle=shuffle, n=n)


@pytest.mark.parametrize("optimizer, hyper", [
    ("sgd", {}), ("sgd", {"momentum": 0.9}), ("sgd", {"momentum": 0.9, "nesterov": True}),
    ("rmsprop", {}), ("adagrad", {"lr": 0.05}), ("adam", {"lr": 0.01}),
])
def test_every_optimizer_matches_the_reference(optimizer, hyper):
    spec = [("dense", 5, "tanh", {}), ("dense", 3, "softmax", {})]
    run_both(spec, "categorical_crossentropy", optimizer, hyper)


def test_dropout_and_regularizers_match_the_reference():
    spec = [("dense", 8, "relu", {"l2": 1e-2}), ("dropout", 0.5, None),
            ("dense", 6, "relu", {"l1": 1e-3, "l2": 1e-3}), ("dropout", 0.25, 42),
            ("dense", 3, "softmax", {"l1": 1e-2})]
    run_both(spec, "sparse_categorical_crossentropy", validation=True)


def test_sample_and_class_weights_match_the_reference():
    spec = [("dense", 5, "relu", {}), ("dense", 3, "softmax", {})]
    run_both(spec, "categorical_crossentropy", weights="sample", validation=True)
    run_both(spec, "sparse_categorical_crossentropy", class_weight={0: 1.0, 1: 3.0, 2: 0.5})
    run_both([("dense", 4, "relu", {}), ("dense", 1, "sigmoid", {})], "binary_crossentropy",
             weights="sample")


def test_same_seed_gives_identical_weights_and_history_bit_for_bit():
    config.set_floatx("float32")
    x, y = data(n=70, loss="sparse_categorical_crossentropy")
    runs = []
    for _ in range(2):
        model = models.Sequential([layers.Dense(16, activation="relu", input_shape=(6,)),
                                   layers.Dropout(0.5), layers.Dense(3, activation="softmax",
                                   kernel_regularizer="l2")], seed=11)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        h = model.fit(x, y, batch_size=16, epochs=3, verbose=0, validation_split=0.2)
        runs.append((model.get_weights(), h.history))
    for a, b in zip(runs[0][0], runs[1][0]):
        np.testing.assert_array_equal(a, b)
    assert runs[0][1] == runs[1][1]
    other = models.Sequential([layers.Dense(16, activation="relu", input_shape=(6,)),
                               layers.Dropout(0.5), layers.Dense(3, activation="softmax")],
                              seed=12)
    assert not np.array_equal(other.get_weights()[0], runs[0][0][0])


def test_float32_model_tracks_the_float64_reference():
    """floatx float32 (the default) with float64 data: within float32 rounding of the reference."""
    config.set_floatx("float32")
    spec = [("dense", 5, "relu", {}), ("dense", 3, "softmax", {})]
    x, y = data(n=50)
    steps, history = ref.train(spec, x.astype(np.float64), y, "categorical_crossentropy",
                               epochs=1, batch_size=16, seed=3, dtype=np.float32)
    model = build(spec, 6, 3)
    assert model.dtype == "float32"
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    h = model.fit(x.astype(np.float64), y, batch_size=16, epochs=1, verbose=0)
    for a, b in zip(model.get_weights(), steps[-1]):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(h.history["loss"], history["loss"], rtol=1e-5)


@pytest.mark.parametrize("optimizer, hyper", [
    ("rmsprop", {"lr": 0.01, "momentum": 0.5}), ("rmsprop", {"lr": 0.01, "centered": True}),
    ("rmsprop", {"lr": 0.01, "rho": 0.8, "epsilon": 1e-3, "momentum": 0.9, "centered": True}),
    ("adam", {"lr": 0.01, "amsgrad": True}),
    ("adam", {"lr": 0.01, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-4, "amsgrad": True}),
    ("adagrad", {"lr": 0.05, "initial_accumulator_value": 0.5, "epsilon": 1e-3}),
    ("sgd", {"lr": 0.05, "momentum": 0.5, "nesterov": True}),
])
def test_every_optimizer_option_through_the_classes_matches_the_reference(optimizer, hyper):
    """RMSprop momentum/centered, Adam amsgrad and every other hyper-parameter, through the
    optimizer classes in fit, with an l1/l2 penalty folded into the updates."""
    spec = [("dense", 5, "tanh", {"l1": 1e-3, "l2": 1e-3}), ("dense", 3, "softmax", {})]
    run_both(spec, "categorical_crossentropy", optimizer, hyper, epochs=3)


@pytest.mark.parametrize("options", [
    {"initial_epoch": 1}, {"steps_per_epoch": 2}, {"validation_freq": 2},
    {"validation_batch_size": 5}, {"steps_per_epoch": 3, "initial_epoch": 2},
], ids=lambda o: "-".join(o))
def test_fit_options_match_the_reference(options):
    spec = [("dense", 5, "relu", {}), ("dense", 3, "softmax", {})]
    run_both(spec, "sparse_categorical_crossentropy", epochs=4, validation=True, options=options)


@pytest.mark.parametrize("view", [
    lambda x: np.clip(np.round(x * 40 + 128), 0, 255).astype(np.uint8),   # MNIST's dtype
    lambda x: np.asfortranarray(x),
    lambda x: np.repeat(x, 2, axis=1)[:, ::2],                          # strided columns
    lambda x: x[::-1][::-1],
    lambda x: x.astype(np.float64),
], ids=["uint8", "fortran", "strided", "negative-steps", "float64"])
def test_any_dtype_or_layout_of_x_trains_as_its_float64_values(view):
    spec = [("dense", 5, "relu", {}), ("dense", 3, "softmax", {})]
    run_both(spec, "categorical_crossentropy", x_view=view, n=50)


def test_learning_rate_scheduler_matches_the_reference():
    spec = [("dense", 5, "relu", {}), ("dense", 3, "softmax", {})]
    schedule = callbacks.LearningRateScheduler(lambda epoch, lr: 0.01 / (1 + epoch))
    _, h = run_both(spec, "categorical_crossentropy", epochs=3, callbacks_=[schedule])
    assert h.history["learning_rate"] == [0.01, 0.005, 0.01 / 3]


def test_early_stopping_stops_where_the_reference_stops_improving():
    """EarlyStopping(monitor='val_loss', patience=1) stops after the first epoch whose
    val_loss does not improve on the best so far, as the reference's val_loss says; fastops'
    weights and history are the reference's over exactly those epochs."""
    spec = [("dense", 5, "relu", {}), ("dense", 3, "softmax", {})]
    x, y = data(n=50)
    xv, yv = data(n=23, seed=5)
    _, history = ref.train(spec, x, y, "categorical_crossentropy", "sgd", 30, 16, 3, True,
                           validation_data=(xv.astype(np.float64), yv.astype(np.float64), None),
                           lr=0.5)
    vl = history["val_loss"]
    stop = next(e for e in range(1, len(vl)) if vl[e] >= min(vl[:e]))  # first non-improvement
    steps, want = ref.train(spec, x, y, "categorical_crossentropy", "sgd", stop + 1, 16, 3, True,
                            validation_data=(xv.astype(np.float64), yv.astype(np.float64), None),
                            lr=0.5)
    model = build(spec, 6, 3)
    model.compile(optimizer=optimizers.SGD(learning_rate=0.5), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    h = model.fit(x, y, batch_size=16, epochs=30, verbose=0, validation_data=(xv, yv),
                  callbacks=[callbacks.EarlyStopping(monitor="val_loss", patience=1)])
    assert stop + 1 < 30 and len(h.history["loss"]) == stop + 1
    for key, values in want.items():
        np.testing.assert_allclose(h.history[key], values, rtol=1e-9, atol=1e-12, err_msg=key)
    for a, b in zip(model.get_weights(), steps[-1]):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def _twin(spec, d, seed=3, loss="categorical_crossentropy"):
    model = build(spec, d, seed)
    model.compile(optimizer="rmsprop", loss=loss, metrics=["accuracy"])
    return model


def test_validation_split_holds_out_the_last_rows_taken_before_shuffling():
    """Keras: the last fraction of the rows, before shuffling.  The same as training on the
    first rows with those last rows as validation_data, bit for bit."""
    x, y = data(n=40)
    spec = [("dense", 5, "relu", {}), ("dense", 3, "softmax", {})]
    a, b = _twin(spec, 6), _twin(spec, 6)
    ha = a.fit(x, y, epochs=2, batch_size=8, validation_split=0.25, verbose=0)
    hb = b.fit(x[:30], y[:30], epochs=2, batch_size=8, validation_data=(x[30:], y[30:]),
               verbose=0)
    assert ha.history == hb.history
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_class_weight_of_one_hot_targets_weights_each_row_by_its_class():
    """Keras reads a one-hot row's class as its argmax: class_weight equals the sample weights
    cw[argmax(y)], bit for bit."""
    x, y = data(n=40)
    cw = {0: 1.0, 1: 3.0, 2: 0.5}
    spec = [("dense", 5, "relu", {}), ("dense", 3, "softmax", {})]
    a, b = _twin(spec, 6), _twin(spec, 6)
    a.fit(x, y, epochs=2, batch_size=8, class_weight=cw, verbose=0)
    b.fit(x, y, epochs=2, batch_size=8, sample_weight=np.array([cw[c] for c in y.argmax(1)]),
          verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_binary_accuracy_of_a_logit_of_exactly_zero_is_class_zero():
    """sigmoid(0) = 0.5 is not above Keras' threshold 0.5: with zero weights every prediction
    is class 0, so the accuracy is the share of zero labels."""
    model = models.Sequential([layers.Input(shape=(3,)),
                               layers.Dense(1, activation="sigmoid",
                                            kernel_initializer="zeros")], seed=0)
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    x = np.ones((4, 3), np.float32)
    y = np.array([0.0, 1.0, 1.0, 1.0], np.float32)
    assert model.evaluate(x, y, verbose=0)[1] == pytest.approx(0.25)

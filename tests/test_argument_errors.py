"""Bad arguments of the model layer: each raises a TypeError or ValueError that names the
argument (the project's rule), before any work is done.  One row per check, so a check that
is dropped or mis-worded fails its own row."""
import numpy as np
import pytest

import fastops
from fastops import (callbacks, config, initializers, layers, losses, metrics, models,
                     optimizers, regularizers)
from fastops._data import check_sample_weight, check_x, check_y, class_weights, split_validation


def built(units=3, d=4, **compile_kwargs):
    m = models.Sequential([layers.Dense(units, activation="softmax", input_shape=(d,))], seed=0)
    m.compile(**({"loss": "categorical_crossentropy"} | compile_kwargs))
    return m


X = np.ones((6, 4), np.float32)
Y = np.eye(3, dtype=np.float32)[[0, 1, 2, 0, 1, 2]]
CCE = losses.get("categorical_crossentropy")
SPARSE = losses.get("sparse_categorical_crossentropy")

CASES = [
    # Sequential and layers
    (lambda: models.Sequential(name=""), ValueError, "name must be a non-empty string"),
    (lambda: models.Sequential(seed=-3), ValueError, "seed must be a non-negative int"),
    (lambda: models.Sequential(layers.Dense(2)), TypeError, "layers must be a list"),
    (lambda: models.Sequential().pop(), TypeError, "no layers"),
    (lambda: models.Sequential().output_shape, ValueError, "no defined outputs"),
    (lambda: models.Sequential().build((None, 3)), ValueError, "has no layers"),
    (lambda: models.Sequential([layers.Dense(2)]).build(), ValueError, "give input_shape"),
    (lambda: models.Sequential([layers.Dense(2)]).build((None, 0)), ValueError,
     r"input_shape must be \(None, features\)"),
    (lambda: models.Sequential([layers.Dense(2, dtype="float64"), layers.Dense(2)]).build(
        (None, 3)), ValueError, "share one dtype"),
    (lambda: models.Sequential([layers.Dense(2)]).set_weights([]), ValueError, "not been built"),
    (lambda: models.Sequential([layers.Dense(2)]).count_params(), ValueError, "isn't built"),
    (lambda: models.Sequential.from_config([]), ValueError, "must be a dictionary"),
    (lambda: built().set_weights(np.ones(3)), TypeError, "expected a list of arrays"),
    (lambda: built().set_weights([np.ones((4, 3)), np.array(["a", "b", "c"])]), TypeError,
     "has dtype"),
    (lambda: layers.Dense(2, name=""), ValueError, "name must be a non-empty string"),
    (lambda: layers.Dense(2, input_shape=5), TypeError, "input_shape must be a tuple"),
    (lambda: layers.Dense(2).build((None, 3, 4)), ValueError, "takes 2-D inputs"),
    (lambda: layers.Dropout(0.5, noise_shape=(1, 2)), ValueError, "noise_shape"),
    (lambda: layers.Dropout(0.5, seed=-1), ValueError, "seed must be a non-negative int"),
    (lambda: layers.InputLayer(shape=(3,), sparse=True), ValueError, "sparse, ragged"),
    (lambda: layers.InputLayer(shape=(3,), batch_shape=(None, 3)), ValueError, "not both"),
    # losses, metrics, activations, registry
    (lambda: losses.MeanSquaredError(reduction="average"), ValueError, "reduction must be one of"),
    (lambda: losses.CategoricalCrossentropy(axis=0), ValueError, "only axis=-1"),
    (lambda: losses.CategoricalCrossentropy(ignore_class=0), ValueError, "ignore_class"),
    (lambda: losses.sparse_categorical_crossentropy([0], [[1.0]], axis=0), ValueError,
     "ignore_class and axis"),
    (lambda: losses.mean_squared_error(np.ones((2, 3)), np.ones((2, 2))), ValueError,
     r"y_true has shape \(2, 3\)"),
    (lambda: losses.get(None), ValueError, "a loss is required"),
    (lambda: losses.get(losses.MeanSquaredError(reduction="sum")), ValueError,
     "sum_over_batch_size"),
    (lambda: losses.get("hinge"), ValueError, "Unknown loss"),
    (lambda: losses.deserialize({"class_name": "Hinge", "config": {}}), ValueError,
     "Unknown loss class"),
    (lambda: optimizers.deserialize({"config": {}}), ValueError, "Cannot deserialize optimizer"),
    (lambda: losses.get(3.5), TypeError, "loss must be a name, a config dict"),
    (lambda: metrics.BinaryAccuracy(threshold=float("nan")), ValueError, "threshold must be a finite"),
    (lambda: metrics.TopKCategoricalAccuracy(k=0), ValueError, "k must be a positive int"),
    (lambda: metrics.MeanSquaredError().update_state(np.ones((2, 3)), np.ones((2, 2))),
     ValueError, "does not match"),
    (lambda: fastops.activations.get("swish"), ValueError, "Unknown activation"),
    # optimizers and regularizers
    (lambda: optimizers.SGD(clipnorm=1.0), ValueError, "clipnorm"),
    (lambda: optimizers.Adam.from_config({"learning_rate": {"class_name": "ExponentialDecay"}}),
     ValueError, "schedules are not supported"),
    (lambda: regularizers.get("l3"), ValueError, "Unknown regularizer"),
    # callbacks
    (lambda: callbacks.CallbackList(callbacks.History()), TypeError, "must be a list"),
    (lambda: callbacks.CallbackList([object()]), TypeError, "Callback instances"),
    (lambda: callbacks.CallbackList([]).on_no_such_hook, AttributeError, "on_no_such_hook"),
    (lambda: callbacks.EarlyStopping(patience=-1), ValueError, "patience must be an int"),
    (lambda: callbacks.EarlyStopping(mode="up"), ValueError, "mode must be"),
    (lambda: callbacks.LearningRateScheduler(0.1), TypeError, "schedule must be callable"),
    (lambda: callbacks.ReduceLROnPlateau(epsilon=1e-3), TypeError, "unexpected arguments"),
    (lambda: callbacks.ModelCheckpoint("m.keras", save_freq=10), ValueError, "save_freq"),
    (lambda: callbacks.ModelCheckpoint("m.h5"), ValueError, r"must end in `\.keras`"),
    # config
    (lambda: config.set_epsilon(0.7), ValueError, r"set_epsilon: value must be a float"),
    (lambda: config.set_floatx(object()), ValueError, "set_floatx"),
    (lambda: fastops.set_simd("avx1024"), ValueError, "set_simd"),
    # fit, evaluate, predict
    (lambda: built().fit(X, Y, validation_steps=2, verbose=0), ValueError, "validation_steps"),
    (lambda: built().evaluate(X, Y, steps=2, verbose=0), ValueError, "steps is not supported"),
    (lambda: built().predict(X, steps=2, verbose=0), ValueError, "steps is not supported"),
    (lambda: built().fit(X, Y, validation_split=True, verbose=0), ValueError,
     "validation_split must be a float"),
    (lambda: built().fit(X, Y, validation_data=[X], verbose=0), ValueError,
     "validation_data must be a tuple"),
    (lambda: built().fit(X, Y, steps_per_epoch=5, batch_size=4, verbose=0), ValueError,
     "more than the 2 batches"),
    (lambda: check_x(None, "x", 4), ValueError, "x is required"),
    (lambda: check_x(np.ones((0, 4)), "x", 4), ValueError, "x is empty"),
    (lambda: check_y(None, 6, "y", "x", CCE, 3, np.float32), ValueError, "y is required to train"),
    (lambda: check_y(np.array(["a"] * 6), 6, "y", "x", CCE, 3, np.float32), TypeError,
     "y must be numeric"),
    (lambda: check_y(np.zeros((6, 2)), 6, "y", "x", SPARSE, 3, np.float32), ValueError,
     r"needs integer labels of shape \(6,\)"),
    (lambda: check_y(np.full(6, 0.5), 6, "y", "x", SPARSE, 3, np.float32), TypeError,
     "needs integer labels"),
    (lambda: check_y(np.full((6, 3), np.nan), 6, "y", "x", CCE, 3, np.float32), ValueError,
     "y contains NaN or Inf"),
    (lambda: check_sample_weight(np.array(["a"] * 6), 6, "sample_weight"), TypeError,
     "sample_weight must be numeric"),
    (lambda: class_weights([1.0], Y, CCE), TypeError, "class_weight must be a non-empty dict"),
    (lambda: class_weights({0: -1.0, 1: 1.0, 2: 1.0}, Y, CCE), ValueError, "finite numbers >= 0"),
    (lambda: class_weights({"0": 1.0, 1: 1.0}, Y, CCE), ValueError, "class_weight keys must be"),
    (lambda: split_validation([X[:1]], 0.5), ValueError, "leaves an empty"),
]


@pytest.mark.parametrize("call, exc, match", CASES, ids=[f"{i}-{c[2][:30]}" for i, c in
                                                         enumerate(CASES)])
def test_bad_argument_is_refused_naming_it(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_inputs_convert_and_single_columns_flatten():
    """The accepting side of the same checks: lists become arrays, an (n, 1) target or weight
    is flattened, a one-column class_weight target is rounded (Keras 3)."""
    m = built()
    m.fit(X.tolist(), Y.tolist(), epochs=1, verbose=0)
    assert check_y(np.arange(6).reshape(6, 1) % 3, 6, "y", "x", SPARSE, 3, np.float32).shape == (6,)
    assert check_sample_weight(np.ones((6, 1)), 6, "w").shape == (6,)
    single = np.array([[0.9], [0.2], [1.1]])
    np.testing.assert_array_equal(class_weights({0: 2.0, 1: 5.0}, single, CCE), [5.0, 2.0, 5.0])
    assert m.metrics_names == ["loss"]
    with pytest.raises(ValueError, match="empty training or validation"):
        m.fit(X[:1], Y[:1], validation_split=0.5, verbose=0)
    np.testing.assert_array_equal(initializers.get("zeros")((2,)), [0.0, 0.0])

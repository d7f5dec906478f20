"""Sequential: whole-model gradients, determinism, API contract and bad input (generated data)."""
import io
import re

import numpy as np
import pytest
from helpers import numeric_grad

import fastops
from fastops import layers, losses, models, optimizers


def blobs(n=600, d=20, k=4, seed=0, dtype=np.float32):
    """k separable Gaussian clusters: a task the MLP learns in a few epochs."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, (k, d))
    labels = rng.integers(0, k, n)
    x = (centers[labels] + rng.normal(size=(n, d))).astype(dtype)
    return x, labels, np.eye(k, dtype=dtype)[labels]


def mlp(d=20, k=4, seed=0, hidden=32, optimizer="rmsprop", loss="categorical_crossentropy", metrics=("accuracy",)):
    m = models.Sequential(seed=seed)
    m.add(layers.Dense(hidden, activation="relu", input_shape=(d,)))
    m.add(layers.Dense(k, activation="softmax"))
    m.compile(optimizer=optimizer, loss=loss, metrics=list(metrics) if metrics else None)
    return m


# ---- gradients of the whole two-layer model ----

@pytest.mark.parametrize("loss", ["categorical_crossentropy", "sparse_categorical_crossentropy"])
def test_two_layer_model_gradient_by_finite_differences(loss):
    x, labels, onehot = blobs(n=9, d=5, k=3, dtype=np.float64)
    y = labels if loss.startswith("sparse") else onehot
    m = mlp(d=5, k=3, hidden=7, loss=loss)
    m.build((None, 5), np.float64)
    bufs = m._get_buffers(9, train=True)

    def value():
        logits = m._forward(x, m._get_buffers(9, train=False)["acts"], last_activate=False)
        return m.loss(logits, y, grad=False)[0]

    m._backprop(x, y, bufs["acts"], bufs["grads"])
    analytic = [g.copy() for g in m._gradients]
    for w, g in zip(m.weights, analytic):
        np.testing.assert_allclose(g, numeric_grad(value, w), rtol=1e-5, atol=1e-8)


# ---- training behaviour ----

def test_fit_learns_and_history_has_keras_shape():
    x, _, y = blobs()
    m = mlp()
    h = m.fit(x, y, batch_size=64, epochs=4, verbose=0, validation_split=0.25)
    assert set(h.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 4 for v in h.history.values())
    assert h.params == {"verbose": 0, "epochs": 4, "steps": 8}  # 450 samples / 64 -> 8 steps (last partial)
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert h.history["val_accuracy"][-1] > 0.9
    loss, acc = m.evaluate(x, y, verbose=0)
    assert acc > 0.9 and 0 < loss < h.history["loss"][0]


def test_same_seed_same_weights_and_history():
    x, _, y = blobs()
    runs = []
    for _ in range(2):
        m = mlp(seed=7)
        h = m.fit(x, y, batch_size=32, epochs=2, verbose=0)
        runs.append((m.get_weights(), h.history))
    for a, b in zip(runs[0][0], runs[1][0]):
        np.testing.assert_array_equal(a, b)
    assert runs[0][1] == runs[1][1]
    other = mlp(seed=8)
    other.fit(x, y, batch_size=32, epochs=2, verbose=0)
    assert not np.array_equal(other.get_weights()[0], runs[0][0][0])


def test_global_numpy_seed_makes_unseeded_models_repeatable():
    np.random.seed(123)
    a = models.Sequential([layers.Dense(3, input_shape=(2,))]).seed
    np.random.seed(123)
    assert models.Sequential([layers.Dense(3, input_shape=(2,))]).seed == a


def test_sparse_loss_trains_and_matches_categorical_from_same_start():
    x, labels, y = blobs()
    a = mlp(seed=3)
    b = mlp(seed=3, loss="sparse_categorical_crossentropy")
    ha = a.fit(x, y, batch_size=50, epochs=2, verbose=0)
    hb = b.fit(x, labels, batch_size=50, epochs=2, verbose=0)
    np.testing.assert_allclose(ha.history["loss"], hb.history["loss"], rtol=1e-5)
    assert ha.history["accuracy"] == hb.history["accuracy"]


def test_recompile_with_the_other_loss_then_fit_again():
    """The gathered-batch buffers follow y's shape when compile() switches the loss."""
    x, labels, y = blobs()
    m = mlp(seed=4)
    m.fit(x, y, batch_size=50, epochs=1, verbose=0)
    m.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h = m.fit(x, labels, batch_size=50, epochs=1, verbose=0)
    m.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    h2 = m.fit(x, y, batch_size=50, epochs=1, verbose=0)
    assert h2.history["loss"][0] <= h.history["loss"][0] * 1.5


@pytest.mark.parametrize("opt", ["sgd", "adam", "adagrad", optimizers.SGD(0.05, momentum=0.9, nesterov=True)])
def test_every_optimizer_reduces_the_loss(opt):
    x, _, y = blobs()
    h = mlp(optimizer=opt).fit(x, y, batch_size=32, epochs=3, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]


def test_float64_data_trains_in_float64():
    x, _, y = blobs(dtype=np.float64)
    m = mlp()
    m.fit(x, y, epochs=1, verbose=0)
    assert all(w.dtype == np.float64 for w in m.get_weights())


def test_nan_loss_stops_training_naming_epoch_and_step():
    x, _, y = blobs()
    m = mlp(optimizer=optimizers.SGD(learning_rate=1e30))
    with pytest.warns(RuntimeWarning, match=r"epoch 1, step \d+/"):
        h = m.fit(x, y, batch_size=32, epochs=3, verbose=0)
    assert len(h.history["loss"]) == 1 and not np.isfinite(h.history["loss"][0])
    assert m.stop_training


def test_fit_does_not_modify_inputs_and_predict_gives_probabilities():
    x, _, y = blobs()
    xc, yc = x.copy(), y.copy()
    m = mlp()
    m.fit(x, y, epochs=1, verbose=0)
    np.testing.assert_array_equal(x, xc)
    np.testing.assert_array_equal(y, yc)
    p = m.predict(x, verbose=0)
    assert p.shape == (600, 4) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(1), 1, rtol=1e-5)
    assert (p.argmax(1) == y.argmax(1)).mean() == pytest.approx(m.evaluate(x, y, verbose=0)[1])


def test_evaluate_without_metrics_returns_scalar_and_shuffle_false_is_deterministic():
    x, _, y = blobs()
    m = mlp(metrics=None)
    m.fit(x, y, epochs=1, verbose=0, shuffle=False)
    assert isinstance(m.evaluate(x, y, verbose=0), float)
    assert set(m.evaluate(x, y, verbose=0, return_dict=True)) == {"loss"}


def test_weights_roundtrip(tmp_path):
    x, _, y = blobs()
    m = mlp()
    m.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "w.npz"
    m.save_weights(path)
    fresh = mlp(seed=99)
    fresh.load_weights(path)
    for a, b in zip(m.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(m.predict(x, verbose=0), fresh.predict(x, verbose=0))
    with pytest.raises(ValueError, match=r"\.npz"):
        m.save_weights(tmp_path / "w.weights.h5")
    with pytest.raises(ValueError, match="expected 4 arrays"):
        m.set_weights(m.get_weights()[:2])
    with pytest.raises(ValueError, match="shape"):
        m.set_weights([w.T for w in m.get_weights()])


def test_summary():
    m = mlp(d=784, k=10, hidden=512)
    out = []
    m.summary(print_fn=out.append)
    text = "\n".join(out)
    assert "(None, 512)" in text and "401920" in text and "Total params: 407,050" in text


# ---- progress output ----

def test_verbose_levels(capsys):
    x, _, y = blobs()
    mlp().fit(x, y, batch_size=100, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""
    mlp().fit(x, y, batch_size=100, epochs=2, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and re.fullmatch(r"6/6 - \d+s \d+[mu]?s/step - loss: \d\.\d{4} - accuracy: \d\.\d{4}", lines[1])
    # verbose=1 off a terminal (pytest's capture): one final bar line per epoch, no '\r'
    mlp().fit(x, y, batch_size=100, epochs=2, verbose=1)
    out = capsys.readouterr().out
    assert "\r" not in out
    assert re.fullmatch(r"Epoch 1/2\n6/6 \[=+\] - \d+s \d+[mu]?s/step - loss: \S+ - accuracy: \S+\n"
                        r"Epoch 2/2\n6/6 \[=+\] - .*\n", out)


def test_progbar_on_a_terminal_redraws_in_place():
    from fastops.progbar import Progbar

    class Tty(io.StringIO):
        def isatty(self):
            return True

    s = Tty()
    bar = Progbar(4, verbose=1, stream=s, interval=0)
    for i in range(1, 5):
        bar.update(i, [("loss", 0.5)])
    out = s.getvalue()
    assert out.count("\r") == 4 and out.endswith("\n") and "ETA" in out
    assert "4/4 [==============================] - " in out


# ---- bad input: a clear error before any training step ----

def _unchanged(m, before):
    return all(np.array_equal(a, b) for a, b in zip(m.get_weights(), before))


@pytest.mark.parametrize("case, exc, match", [
    ("length", ValueError, "different lengths"),
    ("features", ValueError, r"input_shape=\(20,\)"),
    ("width", ValueError, r"one-hot targets of shape \(600, 4\)"),
    ("int-labels", ValueError, "to_categorical"),
    ("nan", ValueError, "NaN or Inf"),
    ("inf", ValueError, "NaN or Inf"),
    ("3d", ValueError, "2-D"),
    ("strings", TypeError, "numeric"),
])
def test_bad_fit_input(case, exc, match):
    x, labels, y = blobs()
    m = mlp()
    m.build((None, 20), np.float32)
    before = m.get_weights()
    if case == "length":
        x = x[:-1]
    elif case == "features":
        x = x[:, :10]
    elif case == "width":
        y = y[:, :3]
    elif case == "int-labels":
        y = labels
    elif case == "nan":
        x = x.copy()
        x[17, 3] = np.nan
    elif case == "inf":
        x = x.copy()
        x[-1, -1] = -np.inf
    elif case == "3d":
        x = x.reshape(600, 4, 5)
    elif case == "strings":
        x = x.astype(str)
    with pytest.raises(exc, match=match):
        m.fit(x, y, epochs=1, verbose=0)
    assert _unchanged(m, before) and m.optimizer.iterations == 0


@pytest.mark.parametrize("bad", [4, -1])
def test_sparse_labels_out_of_range(bad):
    x, labels, _ = blobs()
    labels = labels.copy()
    labels[5] = bad
    m = mlp(loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        m.fit(x, labels, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        m.evaluate(x, labels, verbose=0)


def test_fit_or_evaluate_before_compile():
    x, _, y = blobs()
    m = models.Sequential([layers.Dense(4, activation="softmax", input_shape=(20,))])
    with pytest.raises(ValueError, match="compile"):
        m.fit(x, y)
    with pytest.raises(ValueError, match="compile"):
        m.evaluate(x, y)


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"optimizer": "adamax", "loss": "categorical_crossentropy"}, ValueError, "Unknown optimizer"),
    ({"optimizer": "rmsprop", "loss": "mse"}, ValueError, "Unknown loss"),
    ({"optimizer": "rmsprop", "loss": "categorical_crossentropy", "metrics": ["auc"]}, ValueError, "Unknown metric"),
    ({"optimizer": "rmsprop", "loss": "categorical_crossentropy", "metrics": "accuracy"}, TypeError, "list"),
    ({"optimizer": "rmsprop"}, ValueError, "loss is required"),
])
def test_bad_compile_arguments(kwargs, exc, match):
    m = models.Sequential([layers.Dense(4, activation="softmax", input_shape=(20,))])
    with pytest.raises(exc, match=match):
        m.compile(**kwargs)


def test_crossentropy_needs_softmax_or_from_logits():
    m = models.Sequential([layers.Dense(4, input_shape=(20,))])
    with pytest.raises(ValueError, match="activation='softmax'"):
        m.compile(loss="categorical_crossentropy")
    m.compile(loss=losses.CategoricalCrossentropy(from_logits=True))
    x, _, y = blobs()
    assert np.isfinite(m.fit(x, y, epochs=1, verbose=0).history["loss"][0])


def test_bad_fit_arguments():
    x, _, y = blobs()
    m = mlp()
    for kwargs, match in [({"batch_size": 0}, "batch_size"), ({"epochs": -1}, "epochs"),
                          ({"validation_split": 1.0}, "validation_split"), ({"verbose": 3}, "verbose")]:
        with pytest.raises(ValueError, match=match):
            m.fit(x, y, **kwargs)


def test_backend_setting_is_followed():
    x, _, y = blobs()
    for backend in ("fastops", "naive"):
        with fastops.config_context(backend=backend):
            m = mlp(seed=5, hidden=8)
            h = m.fit(x[:64], y[:64], batch_size=32, epochs=1, verbose=0)
            assert np.isfinite(h.history["loss"][0])


def test_blas_backend_runs_fastops_kernels_on_one_thread_during_fit():
    """Two spinning thread teams (OpenBLAS, OpenMP) on the same cores starve each other."""
    from fastops import activations

    seen = []

    class Probe(activations.ReLU):
        def forward(self, z, bias):
            seen.append(fastops.get_num_threads())
            return super().forward(z, bias)

    x, _, y = blobs()
    with fastops.config_context(num_threads=2):
        for backend, expected in (("blas", 1), ("fastops", 2)):
            seen.clear()
            with fastops.config_context(backend=backend):
                m = models.Sequential([layers.Dense(8, activation=Probe(), input_shape=(20,)),
                                       layers.Dense(4, activation="softmax")], seed=0)
                m.compile(loss="categorical_crossentropy")
                m.fit(x[:64], y[:64], batch_size=32, verbose=0)
                m.predict(x[:8], verbose=0)
            assert set(seen) == {expected}
            assert fastops.get_num_threads() == 2

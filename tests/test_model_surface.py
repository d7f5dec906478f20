"""The rest of the model API's surface, by value: pop and clone, frozen models, reprs, layers
used on their own, the naive rung's bias_add, optimizer slot names, show_config's BLAS lines,
epsilon, and the atomic writer's housekeeping when the OS says no."""
import io
import os

import numpy as np
import pytest

import fastops
from fastops import _atomic, _info, config, layers, models, naive, optimizers, regularizers


def mlp(seed=0):
    m = models.Sequential([layers.Dense(5, activation="relu", input_shape=(4,)),
                           layers.Dense(3, activation="softmax")], seed=seed)
    m.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    return m


X = np.random.default_rng(0).normal(size=(12, 4)).astype(np.float32)
Y = np.eye(3, dtype=np.float32)[np.arange(12) % 3]


def test_pop_clone_and_repr():
    m = mlp()
    last = m.pop()
    assert isinstance(last, layers.Dense) and len(m.layers) == 1 and m.input_dim == 4
    clone = models.clone_model(mlp(seed=1))
    assert [w.shape for w in clone.get_weights()] == [(4, 5), (5,), (5, 3), (3,)]
    assert "built=True" in repr(clone) and "Dense(5, activation='relu'" in repr(clone.layers[0])
    unbuilt = models.Sequential([layers.Dense(2)])
    assert unbuilt.input_dim is None and unbuilt.input_shape is None


def test_a_frozen_model_reports_every_weight_as_non_trainable_and_does_not_move():
    m = mlp()
    m.trainable = False
    assert m.trainable_weights == [] and len(m.non_trainable_weights) == 4
    before = m.get_weights()
    m.fit(X, Y, epochs=1, verbose=0)
    for a, b in zip(m.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_predict_builds_an_unbuilt_model_and_metrics_names_follow_compile():
    m = models.Sequential([layers.Dense(3, activation="softmax")], seed=2)
    m.compile(loss="categorical_crossentropy", metrics=["accuracy"])
    p = m.predict(X, verbose=0)
    assert m.built and p.shape == (12, 3)
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-6)
    m.evaluate(X, Y, verbose=0)
    assert m.metrics_names == ["loss", "accuracy"]


def test_layers_on_their_own():
    d = layers.Dense(2, activation="linear", kernel_initializer="ones")
    np.testing.assert_allclose(d(np.array([[1.0, 2.0]])), [[3.0, 3.0]])
    inp = layers.InputLayer(input_shape=(3,))
    assert inp.shape == (None, 3)
    assert inp.forward(X) is X and inp.backward(X) is X and inp.backward(X, input_grad=False) is None
    drop = layers.Dropout(0.5)  # no seed and no model: a fresh seed of its own
    out = drop(np.ones((100, 10), np.float32), training=True)
    assert set(np.unique(out)) <= {0.0, 2.0} and 0.3 < (out == 0).mean() < 0.7
    assert drop.backward(np.ones((100, 10), np.float32), input_grad=False) is None
    assert layers.get(d) is d


def test_the_naive_rung_bias_add_and_its_shape_check():
    x, b = np.arange(6.0).reshape(2, 3), np.array([1.0, -1.0, 0.5])
    np.testing.assert_array_equal(naive.bias_add(x, b), x + b)
    with pytest.raises(ValueError, match=r"naive.matmul: needs \(m, k\) and \(k, n\)"):
        naive.matmul(np.ones((2, 3)), np.ones((2, 3)))
    np.testing.assert_allclose(naive.sum(x, axis=0, keepdims=True), x.sum(0, keepdims=True))


def test_optimizer_and_regularizer_reprs_and_slot_names():
    assert optimizers.Adam(amsgrad=True).slot_names() == ["momentum", "velocity", "velocity_hat"]
    assert optimizers.SGD().slot_names() == []
    assert repr(optimizers.SGD(0.5, momentum=0.9)) == \
        "SGD(learning_rate=0.5, momentum=0.9, nesterov=False)"
    assert repr(regularizers.L1(0.5)) == "L1({'l1': 0.5})"
    assert optimizers.deserialize(optimizers.serialize(optimizers.Adagrad(0.2))).learning_rate == 0.2


def test_show_config_names_the_blas_situation(monkeypatch):
    for blas, line in ((None, "BLAS: (pip install threadpoolctl"), ([], "BLAS: none loaded yet")):
        monkeypatch.setattr(_info, "_blas_libraries", lambda b=blas: b)
        out = io.StringIO()
        fastops.show_config(file=out)
        assert line in out.getvalue()
    assert _info.config_line().startswith("backend ")


def test_epsilon_and_floatx_settings():
    assert config.epsilon() == 1e-7
    config.set_epsilon(1e-5)
    try:
        assert config.epsilon() == 1e-5
    finally:
        config.set_epsilon(1e-7)
    with pytest.raises(ValueError, match="set_floatx"):
        config.set_floatx(np.int32)


def test_atomic_housekeeping_when_the_os_refuses(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="must be a write mode"):
        with _atomic.atomic_open(tmp_path / "f", "r"):
            pass
    # a temporary whose pid part is not a number is not ours: left alone
    odd = tmp_path / f".f{_atomic._MARK}abc-1"
    odd.write_text("?")
    assert _atomic.remove_stale_temps(tmp_path) == 0 and odd.exists()
    assert _atomic.remove_stale_temps(tmp_path / "missing") == 0
    # a live process we may not signal (EPERM) counts as alive: its file is kept
    monkeypatch.setattr(_atomic.os, "kill", lambda pid, sig: (_ for _ in ()).throw(PermissionError()))
    assert _atomic._pid_alive(os.getpid() + 1)
    # a folder that cannot be opened for its fsync: the write still lands
    real_open = os.open
    monkeypatch.setattr(_atomic.os, "open", lambda path, flags, *a: (_ for _ in ()).throw(
        OSError("no")) if os.path.isdir(path) else real_open(path, flags, *a))
    with _atomic.atomic_open(tmp_path / "g", "w") as f:
        f.write("data")
    assert (tmp_path / "g").read_text() == "data"

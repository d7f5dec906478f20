"""Saving without Keras installed: the .keras zip layout, round trips with compile config and
optimizer state, atomic writes (a save killed mid-write keeps the previous file), errors."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

from fastops import layers, models, saving


def trained(seed=0, optimizer="adam", dropout=0.2):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(60, 6)).astype(np.float32)
    y = rng.integers(0, 3, 60)
    m = models.Sequential([layers.Input(shape=(6,)), layers.Dense(8, activation="relu", kernel_regularizer="l2"),
                           layers.Dropout(dropout), layers.Dense(3, activation="softmax")], seed=seed)
    m.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy", "mae"])
    m.fit(x, y, epochs=2, verbose=0)
    return m, x, y


def test_keras_file_layout(tmp_path):
    m, x, y = trained()
    path = tmp_path / "m.keras"
    m.save(path)
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
        config = json.loads(z.read("config.json"))
    assert config["class_name"] == "Sequential" and config["module"] == "keras"
    assert config["compile_config"]["loss"] == "sparse_categorical_crossentropy"
    assert config["compile_config"]["metrics"] == ["accuracy", "mae"]
    assert config["compile_config"]["optimizer"]["class_name"] == "Adam"
    assert [l["class_name"] for l in config["config"]["layers"]] == ["InputLayer", "Dense", "Dropout", "Dense"]


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop", "sgd", "adagrad"])
def test_round_trip_resumes_training_identically(tmp_path, optimizer):
    """Loaded model + optimizer state: the next epoch (unshuffled) matches the original's
    (dropout off: its mask stream restarts in a loaded model, as in Keras)."""
    m, x, y = trained(optimizer=optimizer, dropout=0.0)
    m.save(tmp_path / "m.keras")
    loaded = models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), m.predict(x, verbose=0))
    assert loaded.optimizer.iterations == m.optimizer.iterations
    a = m.fit(x, y, epochs=1, shuffle=False, verbose=0).history
    b = loaded.fit(x, y, epochs=1, shuffle=False, verbose=0).history
    assert a.keys() == b.keys()
    for wa, wb in zip(m.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-6, atol=1e-7)


def test_load_without_compile_and_bad_files(tmp_path):
    m, x, y = trained()
    m.save(tmp_path / "m.keras")
    bare = saving.load_model(tmp_path / "m.keras", compile=False)
    assert bare.optimizer is None
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="bad.keras"):
        models.load_model(bad)
    with pytest.raises(ValueError, match=r"\.keras"):
        m.save(tmp_path / "m.h5")
    with pytest.raises(FileExistsError):
        m.save(tmp_path / "m.keras", overwrite=False)
    unbuilt = models.Sequential([layers.Dense(3)])
    with pytest.raises(ValueError, match="not been built"):
        unbuilt.save(tmp_path / "u.keras")


WRITER = textwrap.dedent("""
    import sys, numpy as np
    from fastops import layers, models
    m = models.Sequential([layers.Dense(2048, input_shape=(2048,)), layers.Dense(2048)], seed=1)
    print("ready", flush=True)
    while True:
        m.save_weights(sys.argv[1])
""")


@pytest.mark.parametrize("suffix", [".weights.h5", ".npz"])
def test_a_save_killed_mid_write_keeps_the_previous_file(tmp_path, suffix):
    path = tmp_path / f"w{suffix}"
    m = models.Sequential([layers.Dense(2048, input_shape=(2048,)), layers.Dense(2048)], seed=0)
    m.save_weights(path)
    want = m.get_weights()
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    rng = np.random.default_rng(0)
    for _ in range(5):
        p = subprocess.Popen([sys.executable, str(script), str(path)], stdout=subprocess.PIPE,
                             cwd=tmp_path)
        assert p.stdout.readline().strip() == b"ready"
        import time
        time.sleep(float(rng.uniform(0.0, 0.3)))
        p.send_signal(signal.SIGKILL)
        p.wait()
        fresh = models.Sequential([layers.Dense(2048, input_shape=(2048,)), layers.Dense(2048)], seed=5)
        fresh.load_weights(path)  # always a complete file: the old weights or the writer's
        got = fresh.get_weights()
        assert all(np.array_equal(a, b) for a, b in zip(got, want)) or \
            not np.array_equal(got[0], want[0])
    leftovers = [f for f in os.listdir(tmp_path) if ".tmp-" in f]
    m.save_weights(path)  # the next save cleans up the dead writers' temporaries
    assert not [f for f in os.listdir(tmp_path) if ".tmp-" in f] or not leftovers

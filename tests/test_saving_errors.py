"""Saving and loading when the file or the model is not what it should be: every refusal
names the file and leaves the model as it was; and the loads that infer the input shape."""
import json
import zipfile

import h5py
import numpy as np
import pytest

from fastops import layers, metrics, models, saving


def model(units=3, d=4, seed=0, compiled=True):
    m = models.Sequential([layers.Dense(units, activation="softmax", input_shape=(d,))], seed=seed)
    if compiled:
        m.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return m


def unbuilt():
    return models.Sequential([layers.Dense(3, activation="softmax")], seed=1)


@pytest.mark.parametrize("suffix", [".weights.h5", ".npz"])
def test_an_unbuilt_model_learns_its_input_shape_from_the_file(tmp_path, suffix):
    path = tmp_path / f"w{suffix}"
    m = model()
    m.save_weights(path)
    fresh = unbuilt()
    fresh.load_weights(path)
    for a, b in zip(fresh.get_weights(), m.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_weight_files_that_cannot_serve(tmp_path):
    m = model()
    before = m.get_weights()
    with pytest.raises(TypeError, match="filepath must be a str or os.PathLike"):
        m.save_weights(3)
    with pytest.raises(ValueError, match="has not been built"):
        unbuilt().save_weights(tmp_path / "u.npz")
    m.save_weights(tmp_path / "w.npz")
    with pytest.raises(FileExistsError, match="overwrite=False"):
        m.save_weights(tmp_path / "w.npz", overwrite=False)
    with pytest.raises(FileNotFoundError, match="no such file"):
        m.load_weights(tmp_path / "missing.npz")
    np.save(tmp_path / "one.npy", np.ones(3))
    (tmp_path / "one.npy").rename(tmp_path / "one.npz")
    with pytest.raises(ValueError, match="single array, not an archive"):
        m.load_weights(tmp_path / "one.npz")
    np.savez(tmp_path / "keys.npz", a=np.ones(3))
    with pytest.raises(ValueError, match="are not weight_0"):
        m.load_weights(tmp_path / "keys.npz")
    np.savez(tmp_path / "empty.npz")
    with pytest.raises(ValueError, match="holds no weights"):
        m.load_weights(tmp_path / "empty.npz")
    np.savez(tmp_path / "flat.npz", weight_0=np.ones(3), weight_1=np.ones(3))
    with pytest.raises(ValueError, match="not a Dense kernel"):
        unbuilt().load_weights(tmp_path / "flat.npz")
    with pytest.raises(ValueError, match="flat.npz: set_weights"):
        m.load_weights(tmp_path / "flat.npz")
    with h5py.File(tmp_path / "bare.weights.h5", "w") as h5:
        h5.create_group("vars")
    with pytest.raises(ValueError, match="no 'layers' group"):
        m.load_weights(tmp_path / "bare.weights.h5")
    with pytest.raises(ValueError, match="cannot infer the input shape"):
        unbuilt().load_weights(tmp_path / "bare.weights.h5")
    with h5py.File(tmp_path / "other.weights.h5", "w") as h5:
        h5.create_group("layers/conv2d")
    with pytest.raises(ValueError, match="no weights for layer"):
        m.load_weights(tmp_path / "other.weights.h5")
    for a, b in zip(m.get_weights(), before):  # nothing was half-loaded
        np.testing.assert_array_equal(a, b)


def test_keras_files_that_cannot_serve(tmp_path):
    m = model()
    with pytest.raises(ValueError, match="reads Keras 3 '.keras' files"):
        saving.load_model(tmp_path / "m.h5")
    m.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as z:
        config = json.loads(z.read("config.json"))
        weights = z.read("model.weights.h5")

    def write(name, cfg):
        with zipfile.ZipFile(tmp_path / name, "w") as z:
            z.writestr("config.json", json.dumps(cfg))
            z.writestr("model.weights.h5", weights)
        return tmp_path / name

    with pytest.raises(ValueError, match="holds a 'Functional'"):
        saving.load_model(write("f.keras", {**config, "class_name": "Functional"}))
    # a config without the input layer: the shape comes from build_config
    inner = dict(config["config"])
    inner["layers"] = [entry for entry in inner["layers"] if entry["class_name"] != "InputLayer"]
    inner["layers"] = [{**e, "config": {k: v for k, v in e["config"].items()
                                        if k not in ("input_shape", "batch_input_shape")}}
                       for e in inner["layers"]]
    inner.pop("build_input_shape", None)
    for e in inner["layers"]:
        e.pop("build_config", None)
    loaded = saving.load_model(write("b.keras", {**config, "config": inner,
                                                 "build_config": {"input_shape": [None, 4]}}))
    for a, b in zip(loaded.get_weights(), m.get_weights()):
        np.testing.assert_array_equal(a, b)
    other = model(units=2)
    other.save(tmp_path / "o.keras")
    with zipfile.ZipFile(tmp_path / "o.keras") as z:
        other_config = json.loads(z.read("config.json"))
    with pytest.raises(ValueError, match="w.keras: set_weights"):
        saving.load_model(write("w.keras", other_config))  # 3-unit weights for a 2-unit model
    uncompiled = model(compiled=False)
    uncompiled.save(tmp_path / "u.keras")
    assert saving.load_model(tmp_path / "u.keras").optimizer is None


def test_a_python_function_in_the_compile_config_cannot_be_saved(tmp_path):
    m = model(compiled=False)
    m.compile(optimizer="sgd", loss="categorical_crossentropy",
              metrics=[lambda t, p: np.zeros(len(p))])
    with pytest.raises(ValueError, match="cannot serialize"):
        m.save(tmp_path / "m.keras")
    assert not (tmp_path / "m.keras").exists()
    m.compile(optimizer="sgd", loss="categorical_crossentropy",
              metrics=[metrics.categorical_accuracy])  # Keras' own functions save by name
    m.save(tmp_path / "m.keras")
    assert saving.load_model(tmp_path / "m.keras").compile_config["metrics"] == [
        "categorical_accuracy"]


def test_optimizer_state_that_does_not_fit_is_not_restored(tmp_path):
    """A '.keras' file whose optimizer slots belong to another optimizer loads the weights
    and leaves the new optimizer fresh (Keras 3 warns and does the same)."""
    from fastops.saving import _h5
    m = model()
    rng = np.random.default_rng(0)
    m.fit(rng.normal(size=(8, 4)), np.eye(3)[rng.integers(0, 3, 8)], epochs=1, verbose=0)
    path = tmp_path / "m.weights.h5"
    m.save_weights(path)
    sgd = model(compiled=False)
    sgd.compile(optimizer="sgd", loss="categorical_crossentropy")
    with h5py.File(path, "r") as h5:
        assert not _h5.read_optimizer(h5, sgd.optimizer, sgd.trainable_weights)
    with h5py.File(tmp_path / "none.h5", "w") as h5:
        assert not _h5.read_optimizer(h5, sgd.optimizer, sgd.trainable_weights)
    assert sgd.optimizer.iterations == 0

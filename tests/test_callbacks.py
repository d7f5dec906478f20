"""Callbacks: hook order and logs, stop_training, EarlyStopping, ModelCheckpoint (atomic, file
names from the logs), LearningRateScheduler, ReduceLROnPlateau, CSVLogger, TerminateOnNaN."""
import csv

import numpy as np
import pytest

from fastops import callbacks, layers, models, optimizers


def setup(n=120, seed=0, optimizer="rmsprop"):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    m = models.Sequential([layers.Dense(8, activation="relu", input_shape=(5,)),
                           layers.Dense(2, activation="softmax")], seed=seed)
    m.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["acc"])
    return m, x, y


class Recorder(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def __getattribute__(self, name):
        if name.startswith("on_"):
            calls = object.__getattribute__(self, "calls")
            return lambda *a, **k: calls.append((name,) + a)
        return object.__getattribute__(self, name)


def test_hooks_run_in_keras_order_with_logs():
    m, x, y = setup(n=50)
    rec = Recorder()
    m.fit(x, y, batch_size=20, epochs=2, validation_data=(x[:30], y[:30]), verbose=0, callbacks=[rec])
    names = [c[0] for c in rec.calls]
    assert names[0] == "on_train_begin" and names[-1] == "on_train_end"
    epoch = ["on_epoch_begin"] + ["on_train_batch_begin", "on_train_batch_end"] * 3 + \
        ["on_test_begin"] + ["on_test_batch_begin", "on_test_batch_end"] * 2 + ["on_test_end", "on_epoch_end"]
    assert names[1:-1] == epoch * 2
    end = [c for c in rec.calls if c[0] == "on_epoch_end"][-1]
    assert end[1] == 1 and set(end[2]) == {"loss", "acc", "val_loss", "val_acc"}
    assert rec.model is m and rec.params["steps"] == 3 and rec.params["epochs"] == 2
    rec.calls.clear()
    m.predict(x, batch_size=20, verbose=0, callbacks=[rec])
    assert [c[0] for c in rec.calls][:2] == ["on_predict_begin", "on_predict_batch_begin"]


def test_stop_training_from_a_callback_and_initial_epoch():
    m, x, y = setup()

    class StopAt(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.stop_training = True

    h = m.fit(x, y, batch_size=10, epochs=5, verbose=0, callbacks=[StopAt()])
    assert h.epoch == [0] and m.optimizer.iterations == 2
    h = m.fit(x, y, epochs=4, initial_epoch=2, verbose=0)
    assert h.epoch == [2, 3]


def test_early_stopping_patience_and_restore_best_weights():
    m, x, y = setup()
    seen = []

    class Fake(callbacks.Callback):  # a monitored value that improves, then stalls
        def on_epoch_end(self, epoch, logs=None):
            logs["val_score"] = [3.0, 2.0, 2.5, 2.2, 2.1, 1.0][epoch]
            seen.append(self.model.get_weights())

    es = callbacks.EarlyStopping(monitor="val_score", patience=2, restore_best_weights=True)
    h = m.fit(x, y, epochs=6, verbose=0, callbacks=[Fake(), es])
    assert h.epoch == [0, 1, 2, 3] and es.stopped_epoch == 3 and es.best_epoch == 1
    for a, b in zip(m.get_weights(), seen[1]):
        np.testing.assert_array_equal(a, b)
    acc = callbacks.EarlyStopping(monitor="val_accuracy")
    assert acc.mode == "max" and callbacks.EarlyStopping().mode == "min"
    with pytest.raises(ValueError, match="mode"):
        callbacks.EarlyStopping(mode="up")


def test_early_stopping_baseline_and_min_delta():
    m, x, y = setup()

    class Fake(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = 1.0 - 0.001 * epoch

    es = callbacks.EarlyStopping(min_delta=0.01, patience=1)
    assert m.fit(x, y, epochs=5, verbose=0, callbacks=[Fake(), es]).epoch == [0, 1]
    class Flat(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = 1.0

    es = callbacks.EarlyStopping(baseline=0.5, patience=2)  # never beaten: counts from epoch 0
    assert m.fit(x, y, epochs=6, verbose=0, callbacks=[Flat(), es]).epoch == [0, 1]


def test_model_checkpoint_names_best_only_and_loadable(tmp_path):
    m, x, y = setup()
    pattern = str(tmp_path / "w-{epoch:02d}-{val_loss:.2f}.weights.h5")
    cb = callbacks.ModelCheckpoint(pattern, save_weights_only=True)
    m.fit(x, y, epochs=2, validation_split=0.25, verbose=0, callbacks=[cb])
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 2 and files[0].startswith("w-01-") and files[1].startswith("w-02-")
    fresh = models.Sequential([layers.Dense(8, activation="relu"), layers.Dense(2, activation="softmax")])
    fresh.load_weights(tmp_path / files[1])
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), m.predict(x, verbose=0))
    best = tmp_path / "best.keras"
    scores = iter([0.5, 0.7, 0.4])

    class Fake(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = next(scores)
            self.snapshot = self.model.get_weights() if epoch == 2 else getattr(self, "snapshot", None)

    fake = Fake()
    m.fit(x, y, epochs=3, verbose=0, callbacks=[fake, callbacks.ModelCheckpoint(best, save_best_only=True)])
    loaded = models.load_model(best)
    for a, b in zip(loaded.get_weights(), fake.snapshot):
        np.testing.assert_array_equal(a, b)
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]
    with pytest.raises(ValueError, match="weights.h5"):
        callbacks.ModelCheckpoint(tmp_path / "x.keras", save_weights_only=True)


def test_learning_rate_scheduler_and_history_key():
    m, x, y = setup(optimizer=optimizers.SGD(0.1))
    lrs = []

    class Spy(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            lrs.append(self.model.optimizer.learning_rate)

    sched = callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch else lr)
    h = m.fit(x, y, epochs=3, verbose=0, callbacks=[sched, Spy()])
    assert lrs == [0.1, 0.05, 0.025] and h.history["learning_rate"] == [0.1, 0.05, 0.025]
    one_arg = callbacks.LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))
    m.fit(x, y, epochs=2, verbose=0, callbacks=[one_arg])
    assert m.optimizer.learning_rate == 0.02


def test_reduce_lr_on_plateau():
    m, x, y = setup(optimizer=optimizers.SGD(0.1))
    values = iter([1.0] * 8)

    class Fake(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = next(values)

    cb = callbacks.ReduceLROnPlateau(factor=0.5, patience=2, min_lr=0.03)
    h = m.fit(x, y, epochs=8, verbose=0, callbacks=[Fake(), cb])
    assert h.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.03, 0.03, 0.03])
    assert m.optimizer.learning_rate == 0.03
    with pytest.raises(ValueError, match="factor"):
        callbacks.ReduceLROnPlateau(factor=1.5)


def test_csv_logger_rows_and_append(tmp_path):
    m, x, y = setup()
    path = tmp_path / "log.csv"
    m.fit(x, y, epochs=2, validation_split=0.2, verbose=0, callbacks=[callbacks.CSVLogger(path)])
    m.fit(x, y, epochs=1, validation_split=0.2, verbose=0,
          callbacks=[callbacks.CSVLogger(path, append=True)])
    rows = list(csv.DictReader(path.open()))
    assert [r["epoch"] for r in rows] == ["0", "1", "0"]
    assert list(rows[0]) == ["epoch", "acc", "loss", "val_acc", "val_loss"]
    assert float(rows[1]["loss"]) > 0


def test_terminate_on_nan():
    m, x, y = setup(optimizer=optimizers.SGD(learning_rate=1e30))
    x = x * 1e10
    h = m.fit(x, y, batch_size=10, epochs=3, verbose=0, callbacks=[callbacks.TerminateOnNaN()])
    assert len(h.epoch) == 1 and m.optimizer.iterations < 12

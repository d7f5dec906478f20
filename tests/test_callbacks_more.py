"""Callbacks beyond the defaults (tests/test_callbacks.py has the main behaviour): the lines
they print with verbose=1, as Keras 3 prints them; a monitored key missing from the logs;
ReduceLROnPlateau's cooldown, minimum and 'max' mode; one-argument schedules; ModelCheckpoint
file names that need a missing key; CSVLogger's columns when there is no validation."""
import csv

import numpy as np
import pytest

from fastops import callbacks, layers, models


def fitted(epochs, cbs, validation=True, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(32, 4))
    y = np.eye(2)[rng.integers(0, 2, 32)]
    m = models.Sequential([layers.Dense(2, activation="softmax", input_shape=(4,))], seed=seed)
    m.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    h = m.fit(x, y, epochs=epochs, batch_size=16, verbose=0, callbacks=cbs,
              validation_data=(x[:8], y[:8]) if validation else None)
    return m, h


class Feed(callbacks.Callback):
    """Replaces the monitored value of each epoch by the next of `values`."""

    def __init__(self, key, values):
        super().__init__()
        self.key, self.values = key, list(values)

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


def test_early_stopping_prints_and_restores_the_best_weights(capsys):
    best = []

    class Keep(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                best.append(self.model.get_weights())

    stop = callbacks.EarlyStopping(monitor="val_loss", patience=1, verbose=1,
                                   restore_best_weights=True)
    m, h = fitted(10, [Feed("val_loss", [3.0, 1.0, 2.0, 2.5] + [9.0] * 6), Keep(), stop])
    out = capsys.readouterr().out
    assert len(h.history["loss"]) == 3 and "Epoch 3: early stopping" in out
    assert "Restoring model weights from the end of the best epoch: 2." in out
    for a, b in zip(m.get_weights(), best[0]):
        np.testing.assert_array_equal(a, b)


def test_a_monitored_key_missing_from_the_logs_warns_and_changes_nothing():
    stop = callbacks.EarlyStopping(monitor="val_auc", patience=0)
    with pytest.warns(RuntimeWarning, match="'val_auc' is not in the logs"):
        _, h = fitted(3, [stop])
    assert len(h.history["loss"]) == 3
    plateau = callbacks.ReduceLROnPlateau(monitor="val_auc", patience=0)
    with pytest.warns(RuntimeWarning, match="val_auc"):
        m, h = fitted(2, [plateau])
    assert h.history["learning_rate"] == [0.01, 0.01]


def test_reduce_lr_on_plateau_cooldown_minimum_and_max_mode(capsys):
    plateau = callbacks.ReduceLROnPlateau(monitor="val_accuracy", factor=0.5, patience=1,
                                          cooldown=2, min_lr=0.003, verbose=1)
    assert plateau.mode == "max"
    accs = [0.5, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4]
    _, h = fitted(7, [Feed("val_accuracy", accs), plateau])
    # (each epoch logs the rate it trained with) epoch 2 stalls -> 0.005; cooldown 2: epoch 3
    # does not count, epoch 4 counts again (Keras decrements first) -> 0.003, the minimum
    assert h.history["learning_rate"] == [0.01, 0.01, 0.005, 0.005, 0.003, 0.003, 0.003]
    out = capsys.readouterr().out
    assert "Epoch 2: ReduceLROnPlateau reducing learning rate to 0.005." in out
    assert out.count("reducing learning rate") == 2  # not below min_lr


def test_schedules_with_one_argument_verbose_and_bad_values(capsys):
    sched = callbacks.LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1), verbose=1)
    _, h = fitted(2, [sched], validation=False)
    assert h.history["learning_rate"] == [0.1, 0.05]
    assert "Epoch 2: LearningRateScheduler setting learning rate to 0.05." in capsys.readouterr().out
    with pytest.raises(ValueError, match="not a number"):
        fitted(1, [callbacks.LearningRateScheduler(lambda epoch, lr: "fast")])


def test_model_checkpoint_prints_and_names_missing_keys(tmp_path, capsys):
    path = str(tmp_path / "m-{epoch}.keras")
    ckpt = callbacks.ModelCheckpoint(path, monitor="val_loss", save_best_only=True, verbose=1)
    fitted(3, [Feed("val_loss", [2.0, 3.0, 1.0]), ckpt])
    out = capsys.readouterr().out
    assert "Epoch 1: val_loss improved from None to 2.0" in out
    assert "Epoch 2: val_loss did not improve from 2.0" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m-1.keras", "m-3.keras"]
    every = callbacks.ModelCheckpoint(str(tmp_path / "all.keras"), verbose=1)
    fitted(1, [every])
    assert "saving model to" in capsys.readouterr().out
    bad = callbacks.ModelCheckpoint(str(tmp_path / "m-{val_auc}.keras"))
    with pytest.raises(KeyError, match="val_auc"):
        fitted(1, [bad])


def test_csv_logger_adds_validation_columns_without_validation(tmp_path):
    path = tmp_path / "log.csv"
    fitted(2, [Feed("count", [np.int64(3), np.int64(4)]), callbacks.CSVLogger(str(path))],
           validation=False)
    rows = list(csv.DictReader(path.open()))
    assert list(rows[0]) == ["epoch", "accuracy", "count", "loss", "val_accuracy", "val_count",
                             "val_loss"]
    assert [r["count"] for r in rows] == ["3", "4"] and rows[0]["val_loss"] == "NA"

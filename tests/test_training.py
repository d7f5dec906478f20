"""Training on real data through the loaders: the chapter-2 notebook as a test.

The fast tests use a slice of MNIST; the notebook itself (5 epochs on all of
MNIST) is marked slow: `pytest -m slow tests/test_training.py`.
"""
import re
import subprocess
import sys

import numpy as np
import pytest

import fastops
from fastops import layers, models
from fastops.datasets import mnist
from fastops.utils import to_categorical


@pytest.fixture(scope="module")
def mnist_data():
    (train_images, train_labels), (test_images, test_labels) = mnist.load_data()
    train_images = train_images.reshape((60000, 28 * 28)).astype("float32") / 255
    test_images = test_images.reshape((10000, 28 * 28)).astype("float32") / 255
    return train_images, to_categorical(train_labels), test_images, to_categorical(test_labels)


def chapter2_network(seed=None):
    network = models.Sequential(seed=seed)
    network.add(layers.Dense(512, activation="relu", input_shape=(28 * 28,)))
    network.add(layers.Dense(10, activation="softmax"))
    network.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return network


@pytest.mark.parametrize("backend", ["blas"])
def test_backends_reach_the_same_accuracy_on_a_slice(mnist_data, backend):
    """fastops' own GEMM and BLAS: same training, same accuracy within noise.

    Measured (scripts/seed_margins.py slice, seeds 0-9): the lower of the two accuracies
    0.855-0.890, median 0.882; the two backends gave the same accuracy on every seed (the
    float32 rounding differences never flip a test image here).  Seed 1 reaches 0.8755, a
    margin of 0.0255 over the 0.85 line; the 0.015 allowance for the difference is slack."""
    xtr, ytr, xte, yte = mnist_data
    acc = {}
    for b in ("fastops", backend):
        with fastops.config_context(backend=b):
            net = chapter2_network(seed=1)
            net.fit(xtr[:6000], ytr[:6000], epochs=2, batch_size=128, verbose=0)
            acc[b] = net.evaluate(xte[:2000], yte[:2000], verbose=0)[1]
    assert acc["fastops"] > 0.85 and acc[backend] > 0.85
    assert abs(acc["fastops"] - acc[backend]) < 0.015  # 30 of 2000 test images


@pytest.mark.slow
def test_chapter2_notebook_reaches_keras_accuracy(mnist_data):
    """Exactly the notebook: Dense(512, relu) -> Dense(10, softmax), rmsprop, 5 epochs, batch 128.

    Seeded (seed 0).  Measured (scripts/seed_margins.py notebook, seeds 0-9): test accuracy
    0.9782-0.9809, median 0.9793 (seed 0: 0.9802, a margin of 0.0032 over 0.977); test loss
    0.0599-0.0727 (line 0.09); last-epoch training accuracy 0.9878-0.9893 (line 0.985).
    GEMM changes move the rounding, and the accuracies with it by about 0.001: after the
    AVX2 sgemm tuning seeds 0, 1, 2 gave 0.9796, 0.9776, 0.9792 (2026-12-01).  With the
    rsqrt RMSprop step (2026-12-02), seeds 0-19: 0.9750-0.9812, mean 0.9789, seed 0 0.9792
    (margin 0.0022); the build before it, the same seeds: 0.9762-0.9813, mean 0.9789.
    One-hot and sparse labels train identically.  Unseeded, the issue-15 audit saw 1 of 40
    seeds below 0.977 (0.9756), so the seed is fixed rather than drawn."""
    train_images, train_labels, test_images, test_labels = mnist_data
    network = chapter2_network(seed=0)
    history = network.fit(train_images, train_labels, epochs=5, batch_size=128, verbose=0)
    test_loss, test_acc = network.evaluate(test_images, test_labels, verbose=0)
    assert history.params["steps"] == 469
    assert history.history["accuracy"][-1] > 0.985
    assert test_acc >= 0.977, f"test accuracy {test_acc:.4f} (seed {network.seed})"
    assert test_loss < 0.09


@pytest.mark.slow
def test_train_cli_prints_progress_and_test_metrics(tmp_path):
    # cwd outside the checkout: `python -m` puts the cwd first on sys.path, and the
    # source tree's fastops/ (no compiled modules) must not shadow the installed one
    r = subprocess.run([sys.executable, "-m", "fastops.train", "--epochs", "1", "--seed", "0",
                        "--verbose", "2"], capture_output=True, text=True, timeout=600,
                       cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    # Keras' own units: a step under 1 ms prints as e.g. 948us/step (fast CPUs)
    assert re.search(r"^469/469 - \d+s \d+(us|ms|s)/step - accuracy: 0\.9\d{3} - loss: \S+$",
                     r.stdout, re.M), r.stdout
    m = re.search(r"^test loss: (\S+) test accuracy: (\S+)$", r.stdout, re.M)
    assert m and float(m.group(2)) > 0.95

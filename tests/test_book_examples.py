"""The book's Dense-chapter examples (examples/*.py), run as written.

IMDB's and Reuters' files are not reachable here and have no offline source, and Boston's
depend on an optional one, so their dataset modules are replaced by generators of the real
shapes and dtypes (Keras' formats: object arrays of word-index lists, int64 labels, float64
features).  The runs over 10000-wide float64 inputs are marked slow.
"""
import runpy
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import fastops.datasets

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _sequences(rng, n, num_words, mean_len):
    return np.array([list(rng.integers(1, num_words, rng.integers(mean_len // 2, mean_len * 2)))
                     for _ in range(n)], dtype=object)


def fake_imdb(n_train, n_test):
    def load_data(num_words=None, **kwargs):
        rng = np.random.default_rng(0)
        labels = rng.integers(0, 2, n_train + n_test)
        seqs = _sequences(rng, n_train + n_test, num_words, 120)
        for s, lab in zip(seqs, labels):  # a learnable signal: words 1-3 only in positives
            s[:] = [w for w in s if w > 3] + ([1, 2, 3] if lab else [])
        return (seqs[:n_train], labels[:n_train]), (seqs[n_train:], labels[n_train:])
    return types.SimpleNamespace(load_data=load_data)


def fake_reuters(n_train, n_test):
    def load_data(num_words=None, test_split=0.2, **kwargs):
        rng = np.random.default_rng(1)
        labels = np.concatenate([np.arange(46), rng.integers(0, 46, n_train + n_test - 92),
                                 np.arange(46)])
        seqs = _sequences(rng, n_train + n_test, num_words, 8)
        for s, lab in zip(seqs, labels):  # a learnable signal: a topic word per class
            s.extend([100 + lab, 200 + lab, 300 + lab])
        return (seqs[:n_train], labels[:n_train]), (seqs[n_train:], labels[n_train:])
    return types.SimpleNamespace(load_data=load_data)


def fake_boston():
    def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
        rng = np.random.default_rng(2)
        x = rng.gamma(2.0, 3.0, (506, 13))
        y = x @ rng.uniform(0, 1, 13) + rng.normal(0, 1, 506)
        return (x[:404], y[:404]), (x[404:], y[404:])
    return types.SimpleNamespace(load_data=load_data)


@pytest.fixture
def datasets(monkeypatch):
    def install(name, module):
        monkeypatch.setattr(fastops.datasets, name, module, raising=False)
        monkeypatch.setitem(sys.modules, f"fastops.datasets.{name}", module)
    return install


def run(name, capsys):
    ns = runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    return ns, capsys.readouterr().out


@pytest.mark.slow
def test_reuters_one_hot_and_sparse(datasets, capsys):
    datasets("reuters", fake_reuters(1512, 300))
    ns, out = run("reuters.py", capsys)
    assert ns["x_train"].dtype == np.float64 and ns["x_train"].shape == (1512, 10000)
    assert ns["history"].history.keys() == {"loss", "accuracy", "val_loss", "val_accuracy"}
    loss, acc = ns["results"]
    sparse_loss, sparse_acc = ns["sparse_results"]
    assert sparse_loss == pytest.approx(loss, rel=1e-5) and sparse_acc == acc
    # 46 classes: chance is 0.02; the topic words make them learnable.  The model's seed comes
    # from np.random, seeded 0 for every test (conftest): measured over np.random seeds 0-9
    # (scripts/seed_margins.py reuters) 0.69-0.93, median 0.875; seed 0 gives 0.91
    assert acc > 0.2
    assert ns["predictions"].shape == (300, 46) and ns["predictions"].dtype == np.float32


@pytest.mark.slow
def test_boston_k_fold(datasets, capsys):
    datasets("boston_housing", fake_boston())
    ns, out = run("boston_housing.py", capsys)
    assert len(ns["all_scores"]) == 4 and len(ns["average_mae_history"]) == 500
    assert np.isfinite(ns["test_mae_score"]) and ns["test_mae_score"] < ns["average_mae_history"][0]
    assert ns["predictions"].shape == (102, 1)
    assert "Processing fold #3" in out


@pytest.mark.slow
def test_imdb(datasets, capsys):
    datasets("imdb", fake_imdb(10512, 1000))
    ns, out = run("imdb.py", capsys)
    assert ns["x_train"].dtype == np.float64
    # Keras 3 sorts the logs' keys: the book prints dict_keys([accuracy, loss, val_accuracy, ...])
    assert list(ns["history_dict"]) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert len(ns["val_acc"]) == 20
    assert ns["model"].get_weights()[0].dtype == np.float32  # floatx, not the data's float64
    # measured over np.random seeds 0-9 (scripts/seed_margins.py imdb): 0.861-0.895, median
    # 0.885; seed 0 (conftest's, for every test) gives 0.861, a margin of 0.061
    assert ns["results"][1] > 0.8


@pytest.mark.slow
def test_overfitting_tools(datasets, capsys):
    datasets("imdb", fake_imdb(3000, 1000))
    ns, out = run("overfitting.py", capsys)
    for hist in ("original_hist", "l2_model_hist", "dpt_model_hist"):
        assert set(ns[hist].history) == {"loss", "acc", "val_loss", "val_acc"}
    # the l2 penalty is part of the reported loss, as Keras reports it
    l2 = ns["l2_model"]
    penalty = sum(0.001 * float((w ** 2).sum()) for w in (l2.layers[0].kernel, l2.layers[1].kernel))
    assert l2.evaluate(ns["x_test"], ns["y_test"], verbose=0)[0] > penalty > 0


@pytest.mark.slow
def test_chapter2_second_edition_on_real_mnist(capsys):
    """Sparse labels: test accuracy >= 0.975.  The model is unseeded here, as in the book:
    its seed comes from np.random, seeded 0 (so the model seed is 209652396; 0.9769 on the
    build with the rsqrt optimizer step).  The same network trains identically with one-hot
    labels, so the distribution is test_training.py's (scripts/seed_margins.py notebook,
    seeds 0-19): 0.9750-0.9812, mean 0.9789, 3 of 20 below the notebook's 0.977; the build
    before the rsqrt step gave 0.9762-0.9813, mean 0.9789, 2 of 20 below.  The line is the
    lowest of those 40 runs: that rounding change moved single seeds by up to 0.0015."""
    np.random.seed(0)
    ns, out = run("chapter2_mnist_2nd_edition.py", capsys)
    assert ns["test_acc"] >= 0.975
    assert ns["predictions"].shape == (10, 10)

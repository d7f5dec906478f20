"""fastops-train's options, in process, on a tiny MNIST-shaped data set (the real MNIST run
is test_training.py's subprocess test): each option reaches what it sets, bad values stop
with a message, and the process-wide settings it changes are the asked ones."""
import re

import numpy as np
import pytest
import threadpoolctl

import fastops
from fastops import optimizers, train
from fastops.datasets import fashion_mnist, mnist


def tiny_mnist(seed=0, n_train=256, n_test=64):
    """Images whose class is drawn as a bright row (row `label`) over noise: learnable in
    a couple of epochs."""
    rng = np.random.default_rng(seed)

    def split(n):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
        images[np.arange(n), labels, :] = 255
        return images, labels
    return split(n_train), split(n_test)


@pytest.fixture
def cli(monkeypatch, capsys):
    """train.main on tiny data; returns (stdout, the compiled optimizer); settings restored."""
    saved = fastops.get_num_threads(), fastops.get_backend()
    limits = []
    monkeypatch.setattr(threadpoolctl, "threadpool_limits", lambda n: limits.append(n))
    monkeypatch.setattr(mnist, "load_data", lambda: tiny_mnist(0))
    monkeypatch.setattr(fashion_mnist, "load_data", lambda: tiny_mnist(1))
    compiled = []
    real_get = optimizers.get

    def run(*argv):
        monkeypatch.setattr(optimizers, "get", lambda name: compiled.append(real_get(name))
                            or compiled[-1])
        assert train.main(list(argv)) == 0
        return capsys.readouterr().out

    run.limits, run.compiled = limits, compiled
    yield run
    fastops.set_num_threads(saved[0])
    fastops.set_backend(saved[1])


def test_defaults_print_the_header_progress_and_test_metrics(cli):
    out = cli("--epochs", "2", "--seed", "3")
    chosen = fastops._info.config()["auto_backend"]["float32"]  # what 'auto' runs here
    assert re.search(rf"^fastops \S+: mnist, backend auto \({chosen}\), \d+ threads, simd \w+, "
                     rf"seed 3$", out, re.M)
    assert out.count("Epoch ") == 2 and re.search(r"^fit: \S+ s \(\S+ s/epoch\)$", out, re.M)
    acc = float(re.search(r"^test loss: \S+ test accuracy: (\S+)$", out, re.M).group(1))
    assert acc > 0.9  # chance is 0.1; measured over seeds 0-9: 1.0 for every seed


def test_the_seed_fixes_the_run(cli):
    results = [re.search(r"^test loss: .*$", cli("--epochs", "1", "--seed", "5", "--verbose", "0"),
                         re.M).group(0) for _ in range(2)]
    assert results[0] == results[1]


@pytest.mark.parametrize("name", ["adagrad", "adam", "rmsprop", "sgd"])
def test_optimizer_and_learning_rate(cli, name):
    cli("--epochs", "1", "--optimizer", name, "--learning-rate", "0.0125", "--verbose", "0")
    opt = cli.compiled[-1]
    assert type(opt) is type(optimizers.get(name)) and opt.learning_rate == 0.0125
    assert opt.iterations == 2  # 256 rows, batch 128


def test_backend_threads_and_batch_size(cli):
    out = cli("--epochs", "1", "--backend", "cython", "--threads", "1", "--batch-size", "64",
              "--verbose", "2")
    assert fastops.get_backend() == "cython" and fastops.get_num_threads() == 1
    assert cli.limits == [1]  # BLAS pinned to the same thread count
    assert ", backend cython, 1 threads," in out
    assert re.search(r"^4/4 - \d+s \d+(us|ms|s)/step - accuracy: \S+ - loss: \S+$", out, re.M)
    assert cli.compiled[-1].iterations == 4


def test_validation_split_dataset_and_plot(cli, tmp_path):
    pytest.importorskip("matplotlib", reason="the 'plot' extra (matplotlib) is not installed")
    png = tmp_path / "h.png"
    out = cli("--epochs", "2", "--dataset", "fashion_mnist", "--validation-split", "0.25",
              "--plot", str(png), "--verbose", "1")
    assert ": fashion_mnist, " in out and "val_loss" in out and f"plot: {png}" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert cli.compiled[-1].iterations == 4  # 192 training rows: 2 batches x 2 epochs


def test_zero_epochs_trains_nothing_and_prints_only_the_test_metrics(cli):
    out = cli("--epochs", "0", "--verbose", "1")
    assert "Epoch" not in out and "fit:" not in out and "test accuracy" in out
    assert cli.compiled[-1].iterations == 0


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "-1"], "--epochs must be >= 0"),
    (["--batch-size", "0"], "--batch-size >= 1"),
    (["--threads", "0"], "--threads must be >= 1"),
])
def test_bad_values_stop_with_a_message(cli, argv, message):
    with pytest.raises(SystemExit, match=re.escape(message)):
        train.main(argv)


@pytest.mark.parametrize("argv", [["--optimizer", "lbfgs"], ["--backend", "cuda"],
                                  ["--dataset", "cifar10"], ["--verbose", "3"]])
def test_unknown_choices_are_argparse_errors(cli, argv, capsys):
    with pytest.raises(SystemExit) as exc:
        train.main(argv)
    assert exc.value.code == 2 and "invalid choice" in capsys.readouterr().err

"""Measure the seed distribution behind each accuracy test's threshold (docs/testing.md).

Each experiment reruns the body of one accuracy test with other seeds and prints the metric
per seed, then min / median / max and how many seeds miss the test's line.  The thresholds
and seeds in the tests were chosen from these figures; rerun this after a change that can
move them (initialisation, an optimizer, the loss):

    python scripts/seed_margins.py                  # every experiment, 10 seeds each
    python scripts/seed_margins.py slice --seeds 20 # one experiment

Run it from outside the source tree's import path issues: it imports the installed fastops
and the tests' helpers (tests/ is put on sys.path here).
"""
import argparse
import runpy
import statistics
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))


def _mnist():
    from test_training import mnist_data
    return mnist_data.__wrapped__()


def slice_backends(seed, cache={}):
    """test_training.test_backends_reach_the_same_accuracy_on_a_slice: accuracy of each
    backend, and their difference."""
    import fastops
    from test_training import chapter2_network
    if "d" not in cache:
        cache["d"] = _mnist()
    xtr, ytr, xte, yte = cache["d"]
    acc = {}
    for b in ("fastops", "blas"):
        with fastops.config_context(backend=b):
            net = chapter2_network(seed=seed)
            net.fit(xtr[:6000], ytr[:6000], epochs=2, batch_size=128, verbose=0)
            acc[b] = net.evaluate(xte[:2000], yte[:2000], verbose=0)[1]
    return {"min accuracy": min(acc.values()), "|difference|": abs(acc["fastops"] - acc["blas"])}


def notebook(seed, cache={}):
    """test_training.test_chapter2_notebook_reaches_keras_accuracy (and the 2nd edition's
    example, which trains the same network with sparse labels)."""
    from test_training import chapter2_network
    if "d" not in cache:
        cache["d"] = _mnist()
    xtr, ytr, xte, yte = cache["d"]
    net = chapter2_network(seed=seed)
    h = net.fit(xtr, ytr, epochs=5, batch_size=128, verbose=0)
    loss, acc = net.evaluate(xte, yte, verbose=0)
    return {"test accuracy": acc, "test loss": loss, "train accuracy": h.history["accuracy"][-1]}


def cli_epoch(seed, cache={}):
    """test_training.test_train_cli_prints_progress_and_test_metrics: fastops-train
    --epochs 1 (batch 128, rmsprop): the epoch's training accuracy and the test accuracy."""
    from test_training import chapter2_network
    if "d" not in cache:
        cache["d"] = _mnist()
    xtr, ytr, xte, yte = cache["d"]
    net = chapter2_network(seed=seed)
    h = net.fit(xtr, ytr, epochs=1, batch_size=128, verbose=0)
    return {"train accuracy": h.history["accuracy"][0],
            "test accuracy": net.evaluate(xte, yte, verbose=0)[1]}


def _example(name, fake, seed):
    import fastops.datasets
    dataset, module = fake
    saved = sys.modules.get(f"fastops.datasets.{dataset}"), getattr(fastops.datasets, dataset, None)
    sys.modules[f"fastops.datasets.{dataset}"] = module
    setattr(fastops.datasets, dataset, module)
    try:
        np.random.seed(seed)
        return runpy.run_path(str(REPO / "examples" / name), run_name="__main__")
    finally:
        sys.modules[f"fastops.datasets.{dataset}"], _ = saved
        setattr(fastops.datasets, dataset, saved[1])


def imdb(seed):
    """test_book_examples.test_imdb: test accuracy of examples/imdb.py."""
    import test_book_examples as t
    ns = _example("imdb.py", ("imdb", t.fake_imdb(10512, 1000)), seed)
    return {"test accuracy": ns["results"][1]}


def reuters(seed):
    """test_book_examples.test_reuters_one_hot_and_sparse: test accuracy of examples/reuters.py."""
    import test_book_examples as t
    ns = _example("reuters.py", ("reuters", t.fake_reuters(1512, 300)), seed)
    return {"test accuracy": ns["results"][1]}


def boston(seed):
    """test_book_examples.test_boston_k_fold: final test MAE over the first epoch's MAE."""
    import test_book_examples as t
    ns = _example("boston_housing.py", ("boston_housing", t.fake_boston()), seed)
    return {"test mae / first epoch mae": ns["test_mae_score"] / ns["average_mae_history"][0]}


def blobs(seed):
    """test_models.test_from_logits_with_a_linear_head: accuracy and loss ratio."""
    from fastops import layers, losses, models
    from test_models import blobs as data
    m = models.Sequential([layers.Dense(4, input_shape=(20,))], seed=seed)
    m.compile(loss=losses.CategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    x, _, y = data()
    h = m.fit(x, y, epochs=10, verbose=0)
    return {"accuracy": h.history["accuracy"][-1],
            "last / first loss": h.history["loss"][-1] / h.history["loss"][0]}


EXPERIMENTS = {"slice": slice_backends, "notebook": notebook, "cli_epoch": cli_epoch, "imdb": imdb, "reuters": reuters,
               "boston": boston, "blobs": blobs}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", default=list(EXPERIMENTS), choices=list(EXPERIMENTS) + [[]])
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--first-seed", type=int, default=0)
    args = p.parse_args(argv)
    for name in args.names or EXPERIMENTS:
        runs = {}
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            runs[seed] = EXPERIMENTS[name](seed)
            print(f"{name} seed {seed}: " + ", ".join(f"{k} {v:.4f}" for k, v in runs[seed].items()),
                  flush=True)
        for key in runs[args.first_seed]:
            values = [r[key] for r in runs.values()]
            print(f"{name}: {key} over seeds {args.first_seed}..{args.first_seed + args.seeds - 1}: "
                  f"min {min(values):.4f} median {statistics.median(values):.4f} "
                  f"max {max(values):.4f}", flush=True)


if __name__ == "__main__":
    main()

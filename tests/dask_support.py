"""Shared by the Dask tests: the optional modules (a skip with the reason outside CI, an
error under CI=1, where fastops[dask] is installed), a 2-process LocalCluster, a small
seeded classification task."""
import importlib
import os

import numpy as np
import pytest


def need(module):
    """Import `module`, or skip the calling test module saying what to install; under CI
    the extra is part of the test environment, so its absence is a failure."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if os.environ.get("CI"):
            raise ImportError(f"{module} is required in CI (pip install 'fastops[dask]'): "
                              f"{exc}") from exc
        pytest.skip(f"{module} is not installed: pip install 'fastops[dask]'",
                    allow_module_level=True)


def local_cluster():
    """A LocalCluster of 2 worker processes with 1 thread each, and a Client on it."""
    from dask.distributed import Client, LocalCluster
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=40)
    client = Client(cluster)
    # LocalCluster can return before its second worker process has registered (seen on a
    # loaded machine): wait for both, so no test depends on how fast processes start
    client.wait_for_workers(2, timeout=300)
    return cluster, client


def separable(n, features=20, seed=0, classes=3):
    """x float32 (n, features) and integer labels that a small MLP separates well: the
    class is the argmax of three fixed projections."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype(np.float32)
    proj = np.random.default_rng(1000 + seed).standard_normal((features, classes))
    return x, np.argmax(x @ proj, axis=1).astype(np.int64)


def mlp(features, classes, seed=0, hidden=32, loss="sparse_categorical_crossentropy"):
    import fastops
    from fastops import layers
    model = fastops.Sequential([layers.Input(shape=(features,)),
                                layers.Dense(hidden, activation="relu"),
                                layers.Dense(classes, activation="softmax")], seed=seed)
    model.compile(optimizer="rmsprop", loss=loss, metrics=["accuracy"])
    return model

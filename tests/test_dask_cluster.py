"""On a real cluster: dask.distributed.LocalCluster with 2 worker processes (1 thread each).
Kernels on dask arrays equal NumPy on the same data; a model's predict on the cluster equals
its in-memory predict (the weights in one graph key); dask-ml's Incremental trains a
fastops model block by block to the accuracy of an in-memory fit of the same epochs; the
workers' kernels run on one thread."""
import numpy as np
import pytest
from dask_support import local_cluster, mlp, need, separable

import fastops

da = need("dask.array")
need("dask.distributed")
need("sklearn")
dask_ml_wrappers = need("dask_ml.wrappers")


@pytest.fixture(scope="module")
def client():
    cluster, client = local_cluster()
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def test_the_cluster_has_two_worker_processes(client):
    info = client.scheduler_info(n_workers=-1)["workers"]
    assert len(info) == 2
    pids = client.run(lambda: __import__("os").getpid())
    assert len(set(pids.values())) == 2 and __import__("os").getpid() not in pids.values()


def test_kernels_on_the_cluster_equal_numpy(client):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((4000, 300)).astype(np.float32)
    w = rng.standard_normal((300, 64)).astype(np.float32)
    b = rng.standard_normal(300).astype(np.float32)
    dx = da.from_array(x, chunks=(500, 150))
    dw = da.from_array(w, chunks=(100, 64))
    relu, total, hb, prod = client.compute([fastops.relu(dx), fastops.sum(fastops.relu(dx)),
                                            fastops.bias_add_relu(dx, b),
                                            fastops.matmul(dx, dw)], sync=True)
    np.testing.assert_array_equal(relu, np.maximum(x, 0))
    assert total == pytest.approx(np.maximum(x, 0).astype(np.float64).sum(), rel=1e-6)
    np.testing.assert_array_equal(hb, np.maximum(x + b, 0))
    np.testing.assert_allclose(prod, x.astype(np.float64) @ w, rtol=1e-4, atol=1e-3)


def test_tasks_on_workers_run_fastops_on_one_thread(client):
    import dask
    from fastops import _dask_threads

    def observed(_):
        return fastops.get_num_threads(), _dask_threads.task_threads()
    got = client.gather(client.map(observed, range(4), pure=False))
    # the nanny sets OMP_NUM_THREADS=1 before the worker starts; fastops reads it
    assert got == [(1, 1)] * 4
    # and the rule itself: a setting of 2 on a worker with 1 thread keeps 2
    with fastops.config_context(num_threads=2):
        assert dask.delayed(_dask_threads.task_threads)().compute(scheduler="sync") == 2


def test_cluster_predict_equals_in_memory_predict(client):
    x, y = separable(6000, seed=3)
    model = mlp(20, 3, seed=3)
    model.fit(x, y, epochs=2, batch_size=64, verbose=0)
    dx = da.from_array(x, chunks=(1000, 20))
    lazy = model.predict(dx, batch_size=128)
    assert isinstance(lazy, da.Array) and lazy.shape == (6000, 3) and lazy.dtype == np.float32
    keys = [k for k in dict(lazy.__dask_graph__()) if "fastops-model-" in str(k)]
    assert len(keys) == 1  # the weights are one key, shared by every block
    np.testing.assert_array_equal(client.compute(lazy, sync=True),
                                  model.predict(x, batch_size=128, verbose=0))


def test_incremental_matches_in_memory_fit(client):
    from fastops.wrappers import SKLearnClassifier
    x, y = separable(12000, seed=5)
    xt, yt = separable(3000, seed=6)
    yt = np.argmax(xt @ np.random.default_rng(1005).standard_normal((20, 3)), axis=1)
    epochs = 5

    def build(X, y, seed=0):
        return mlp(X.shape[1], y.shape[1], seed=seed, loss="categorical_crossentropy")
    reference = SKLearnClassifier(build, fit_kwargs={"batch_size": 128, "epochs": epochs})
    ref_acc = reference.fit(x, y).score(xt, yt)
    inc = dask_ml_wrappers.Incremental(SKLearnClassifier(build, fit_kwargs={"batch_size": 128}),
                                       scoring="accuracy", random_state=0)
    dx, dy = da.from_array(x, chunks=(2000, 20)), da.from_array(y, chunks=2000)  # 6 blocks
    inc.fit(dx, dy, classes=[0, 1, 2])
    for _ in range(epochs - 1):
        inc.partial_fit(dx, dy, classes=[0, 1, 2])
    est = inc.estimator_
    assert len(est.history_["loss"]) == 6 * epochs  # one partial_fit per block and pass
    acc = est.score(xt, yt)
    assert ref_acc > 0.9
    assert abs(acc - ref_acc) <= 0.01, (acc, ref_acc)

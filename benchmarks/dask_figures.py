"""Issue 10's figures: fastops on dask arrays against Dask's own, on the threaded scheduler and
on a LocalCluster of 2 worker processes.  Run from outside the checkout (it imports the
installed fastops), serialised with the other benchmarks and with OpenBLAS at its best kernel:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE flock /tmp/fastops-bench.lock \\
        python benchmarks/dask_figures.py kernels   # or outofcore, mnist

Each figure is the median of `--rounds` runs, fastops and Dask interleaved in one process;
ratios are fastops time / Dask time (below 1: fastops faster).  Not collected by pytest.
"""
import argparse
import statistics
import time

import numpy as np


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def interleaved(cases, rounds):
    """{name: median seconds}, the cases run in turn, `rounds` times."""
    times = {name: [] for name in cases}
    for _ in range(rounds):
        for name, fn in cases.items():
            times[name].append(timed(fn))
    return {name: statistics.median(ts) for name, ts in times.items()}


def report(title, medians, pairs):
    print(f"\n{title}")
    for name, sec in medians.items():
        print(f"  {name:44s} {sec * 1e3:9.1f} ms")
    for mine, theirs in pairs:
        print(f"  ratio {mine} / {theirs}: {medians[mine] / medians[theirs]:.2f}")


def kernel_cases(x, dw, finish):
    import dask.array as da
    import fastops
    from threadpoolctl import threadpool_limits

    def dask_matmul_1blas():
        with threadpool_limits(1, user_api="blas"):
            finish(x @ dw)
    return {
        "fastops relu then sum": lambda: finish(fastops.sum(fastops.relu(x))),
        "dask da.maximum(x, 0).sum()": lambda: finish(da.maximum(x, 0).sum()),
        "fastops matmul": lambda: finish(fastops.matmul(x, dw)),
        "fastops matmul, backend='blas'": lambda: finish(fastops.matmul(x, dw, backend="blas")),
        "dask x @ w (OpenBLAS threads: default)": lambda: finish(x @ dw),
        "dask x @ w (OpenBLAS 1 thread per task)": dask_matmul_1blas,
    }


PAIRS = [("fastops relu then sum", "dask da.maximum(x, 0).sum()"),
         ("fastops matmul", "dask x @ w (OpenBLAS threads: default)"),
         ("fastops matmul", "dask x @ w (OpenBLAS 1 thread per task)"),
         ("fastops matmul, backend='blas'", "dask x @ w (OpenBLAS threads: default)")]


def data():
    import dask.array as da
    rng = da.random.default_rng(0)
    x = rng.standard_normal((20000, 10000), chunks=(1000, 10000), dtype=np.float32)
    w = np.random.default_rng(1).standard_normal((10000, 512)).astype(np.float32)
    return x, da.from_array(w, chunks=(10000, 512))


def kernels(rounds):
    import dask
    import fastops
    from threadpoolctl import threadpool_info
    blas = [(i["internal_api"], i["architecture"], i["num_threads"]) for i in threadpool_info()]
    print(f"fastops {fastops.__version__}, threads {fastops.get_num_threads()}, simd "
          f"{fastops.get_simd()}, dask {dask.__version__}, BLAS {blas}")
    x, dw = data()
    x = x.persist(scheduler="threads")  # 800 MB in memory, chunks of 1e7 elements
    cases = kernel_cases(x, dw, lambda a: a.compute(scheduler="threads"))
    report("threaded scheduler (2 threads), x (20000, 10000) float32 in chunks (1000, 10000)",
           interleaved(cases, rounds), PAIRS)
    del x

    from dask.distributed import Client, LocalCluster, wait
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=40) as cluster, \
            Client(cluster) as client:
        x, dw = data()
        x = client.persist(x)
        wait(x)

        def finish(a):
            if a.ndim == 0:
                return a.compute()
            done = client.persist(a)  # the product stays on the workers, as a real job's would
            wait(done)
            del done
        cases = kernel_cases(x, dw, finish)
        report("LocalCluster, 2 worker processes x 1 thread, the same data persisted on them",
               interleaved(cases, rounds), PAIRS)


class AnonPeak:
    """Peak RssAnon (anonymous memory, MB) of this process, sampled every 2 ms in a thread;
    a memmap's file pages are page cache and count in RSS, not here."""

    def __init__(self):
        import threading
        self.peak = self.now()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def now():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) / 1024
        raise OSError("no RssAnon in /proc/self/status")

    def _run(self):
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, self.now())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.now())


def write_memmap(path, rows, features, seed=0):
    """rows x features float32 in [0, 1) (MNIST's scale), written 100 MB at a time."""
    from fastops._atomic import atomic_path
    rng = np.random.default_rng(seed)
    step = max(1, (100 << 20) // (4 * features))
    with atomic_path(path) as tmp:
        mm = np.memmap(tmp, dtype=np.float32, mode="w+", shape=(rows, features))
        for s in range(0, rows, step):
            e = min(s + step, rows)
            mm[s:e] = rng.random((e - s, features), dtype=np.float32)
        mm.flush()
        del mm
    return np.memmap(path, dtype=np.float32, mode="r", shape=(rows, features))


def chapter2_mlp():
    import fastops
    from fastops import layers
    model = fastops.Sequential([layers.Input(shape=(784,)), layers.Dense(512, activation="relu"),
                                layers.Dense(10, activation="softmax")], seed=0)
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def outofcore(gigabytes, rounds):
    import os
    import shutil
    import tempfile
    import fastops
    folder = tempfile.mkdtemp(prefix="fastops-outofcore-")
    try:
        rows = int(gigabytes * 1e9) // (784 * 4)
        mm = write_memmap(os.path.join(folder, "x.f32"), rows, 784)
        labels = np.random.default_rng(1).integers(0, 10, rows)
        model = chapter2_mlp()
        print(f"fastops {fastops.__version__}, threads {fastops.get_num_threads()}, simd "
              f"{fastops.get_simd()}; memmap {mm.shape} float32 = {mm.nbytes / 1e9:.2f} GB; "
              f"RssAnon before: {AnonPeak.now():.0f} MB")
        with AnonPeak() as peak:
            t = timed(lambda: model.predict(mm, batch_size=128, verbose=0))
        print(f"predict over the memmap (page cache warm): {t:.2f} s, {rows / t:,.0f} rows/s, "
              f"peak RssAnon {peak.peak:.0f} MB")
        with AnonPeak() as peak:
            t = timed(lambda: model.fit(mm, labels, epochs=1, batch_size=128, verbose=0))
        print(f"fit, 1 epoch from the memmap: {t:.2f} s, peak RssAnon {peak.peak:.0f} MB")
        part = int(400e6) // (784 * 4)
        in_memory = np.array(mm[:part])
        fd = os.open(mm.filename, os.O_RDONLY)
        cases = {"in-memory predict, 400 MB slice": lambda: model.predict(
                     in_memory, batch_size=128, verbose=0),
                 "memmap predict, same 400 MB": lambda: model.predict(
                     mm[:part], batch_size=128, verbose=0),
                 "memmap predict, same 400 MB, evicted first": lambda: (
                     os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED),
                     model.predict(mm[:part], batch_size=128, verbose=0))}
        medians = interleaved(cases, rounds)
        os.close(fd)
        report("predict throughput on the same 400 MB (rows/s = rows / median time)", medians,
               [("memmap predict, same 400 MB", "in-memory predict, 400 MB slice"),
                ("memmap predict, same 400 MB, evicted first",
                 "in-memory predict, 400 MB slice")])
    finally:
        shutil.rmtree(folder)


def mnist_incremental(seeds):
    """dask-ml's Incremental over MNIST in 6 chunks, 5 passes, on a 2-process LocalCluster,
    against the in-memory fit of 5 epochs; the same chapter-2 network and seed for both."""
    import dask.array as da
    from dask.distributed import Client, LocalCluster
    from dask_ml.wrappers import Incremental
    from fastops.datasets import mnist
    from fastops.wrappers import SKLearnClassifier
    (x, y), (xt, yt) = mnist.load_data()
    x = x.reshape(len(x), 784).astype(np.float32) / 255
    xt = xt.reshape(len(xt), 784).astype(np.float32) / 255
    rows = []
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=40) as cluster, \
            Client(cluster):
        for seed in range(seeds):
            fit_kwargs = {"batch_size": 128}
            ref = SKLearnClassifier(_chapter2_for_wrapper, model_kwargs={"seed": seed},
                                    fit_kwargs=dict(fit_kwargs, epochs=5))
            t0 = time.perf_counter()
            ref_acc = ref.fit(x, y).score(xt, yt)
            t_ref = time.perf_counter() - t0
            inc = Incremental(SKLearnClassifier(_chapter2_for_wrapper,
                                                model_kwargs={"seed": seed},
                                                fit_kwargs=fit_kwargs),
                              scoring="accuracy", random_state=seed)
            dx = da.from_array(x, chunks=(10000, 784))  # 6 chunks
            dy = da.from_array(y, chunks=10000)
            t0 = time.perf_counter()
            inc.fit(dx, dy, classes=list(range(10)))
            for _ in range(4):
                inc.partial_fit(dx, dy, classes=list(range(10)))
            t_inc = time.perf_counter() - t0
            acc = inc.estimator_.score(xt, yt)
            rows.append((seed, ref_acc, acc))
            print(f"seed {seed}: in-memory fit 5 epochs {ref_acc:.4f} ({t_ref:.1f} s); "
                  f"Incremental 6 chunks x 5 passes on the cluster {acc:.4f} ({t_inc:.1f} s); "
                  f"difference {acc - ref_acc:+.4f}")
    diffs = [abs(a - r) for _, r, a in rows]
    print(f"largest |difference| over {len(rows)} seeds: {max(diffs):.4f}")


def _chapter2_for_wrapper(X, y, seed=0):
    import fastops
    from fastops import layers
    model = fastops.Sequential([layers.Input(shape=(X.shape[1],)),
                                layers.Dense(512, activation="relu"),
                                layers.Dense(y.shape[1], activation="softmax")], seed=seed)
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["kernels", "outofcore", "mnist"])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--gigabytes", type=float, default=4.0)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    if args.what == "kernels":
        kernels(args.rounds)
    elif args.what == "mnist":
        mnist_incremental(args.seeds)
    else:
        outofcore(args.gigabytes, args.rounds)


if __name__ == "__main__":
    main()

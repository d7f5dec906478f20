"""Out of core (slow; not in the default run, whose files are test_*.py): a 3 GB np.memmap
under the temp folder goes through predict and one epoch of fit while this process's
anonymous memory (RssAnon, sampled) stays bounded; the file is removed afterwards.

    pytest tests/slow_outofcore.py
"""
import threading

import numpy as np
import pytest

import fastops
from fastops import layers
from fastops._atomic import atomic_path

pytestmark = pytest.mark.slow
GIGABYTES = 3.0
# A copy (or a cast) of x would add 3000 MB; the model, its buffers, the outputs (n x 10
# float32: 38 MB), the labels and a few prefetched slabs stay far below this.
BOUND_MB = 400


def rss_anon_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    pytest.fail("/proc/self/status has no RssAnon (Linux only)")


class Sampler:
    def __enter__(self):
        self.peak = rss_anon_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, rss_anon_mb())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


@pytest.fixture
def big_memmap(tmp_path):
    rows = int(GIGABYTES * 1e9) // (784 * 4)
    path = tmp_path / "x.f32"
    rng = np.random.default_rng(0)
    with atomic_path(path) as tmp:
        mm = np.memmap(tmp, dtype=np.float32, mode="w+", shape=(rows, 784))
        for s in range(0, rows, 30000):
            mm[s:s + 30000] = rng.random((min(30000, rows - s), 784), dtype=np.float32)
        mm.flush()
        del mm
    yield np.memmap(path, dtype=np.float32, mode="r", shape=(rows, 784))
    path.unlink()
    assert not path.exists()


def test_predict_and_fit_from_a_memmap_in_bounded_memory(big_memmap):
    rows = big_memmap.shape[0]
    labels = np.random.default_rng(1).integers(0, 10, rows)
    model = fastops.Sequential([layers.Input(shape=(784,)), layers.Dense(512, activation="relu"),
                                layers.Dense(10, activation="softmax")], seed=0)
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    base = rss_anon_mb()
    with Sampler() as during_predict:
        out = model.predict(big_memmap, batch_size=128, verbose=0)
    assert out.shape == (rows, 10)
    np.testing.assert_array_equal(out[-50:], model.predict(np.array(big_memmap[-50:]),
                                                           verbose=0))
    del out
    with Sampler() as during_fit:
        hist = model.fit(big_memmap, labels, epochs=1, batch_size=128, verbose=0)
    assert np.isfinite(hist.history["loss"][0])
    assert during_predict.peak - base < BOUND_MB, (base, during_predict.peak)
    assert during_fit.peak - base < BOUND_MB, (base, during_fit.peak)

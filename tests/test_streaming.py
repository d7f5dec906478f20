"""fit / evaluate / predict on streamed data: np.memmap (the same batches and results as the
same rows in memory), dask arrays, fastops.utils.PyDataset and generators (Keras 3's rules),
checks per batch, bounded read-ahead."""
import threading

import numpy as np
import pytest
from dask_support import mlp, separable

import fastops
from fastops._atomic import atomic_open
from fastops.utils import PyDataset, to_categorical


@pytest.fixture
def task():
    return separable(1000, seed=11)


def weights_equal(a, b):
    return all(np.array_equal(u, v) for u, v in zip(a.get_weights(), b.get_weights()))


@pytest.fixture
def memmap_of(tmp_path):
    def make(x, name="x.dat"):
        path = tmp_path / name
        with atomic_open(path, "wb") as f:
            f.write(np.ascontiguousarray(x).tobytes())
        return np.memmap(path, dtype=x.dtype, mode="r", shape=x.shape)
    return make


def assert_same_history(got, ref):
    """Training logs bit for bit; validation losses to rounding: an in-memory validation or
    evaluate pass runs in 1024-row blocks when no callback watches its batches, a streamed
    one batch by batch, so it sums the same row losses in another order."""
    assert got.keys() == ref.keys()
    for key in ref:
        if key == "val_loss":
            np.testing.assert_allclose(got[key], ref[key], rtol=1e-12)
        else:
            assert got[key] == ref[key], key


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_memmap_fit_equals_in_memory_fit(task, memmap_of, dtype):
    x, y = task
    x = (x * 40 + 120).clip(0, 255).astype(dtype) if dtype == np.uint8 else x.astype(dtype)
    mm = memmap_of(x)
    ref, got = mlp(20, 3, seed=2), mlp(20, 3, seed=2)
    h_ref = ref.fit(x, y, epochs=2, batch_size=48, validation_split=0.2, verbose=0)
    h_got = got.fit(mm, y, epochs=2, batch_size=48, validation_split=0.2, verbose=0)
    assert_same_history(h_got.history, h_ref.history)  # same shuffled batches and arithmetic
    assert weights_equal(ref, got)
    np.testing.assert_array_equal(got.predict(mm, batch_size=70, verbose=0),
                                  ref.predict(x, batch_size=70, verbose=0))
    np.testing.assert_allclose(got.evaluate(mm, y, verbose=0), ref.evaluate(x, y, verbose=0),
                               rtol=1e-12)


def test_memmap_steps_per_epoch_and_class_weight(task, memmap_of):
    x, y = task
    mm = memmap_of(x)
    ref, got = mlp(20, 3, seed=4), mlp(20, 3, seed=4)
    kw = dict(epochs=2, batch_size=32, steps_per_epoch=7, class_weight={0: 1., 1: 2., 2: .5},
              verbose=0)
    assert got.fit(mm, y, **kw).history == ref.fit(x, y, **kw).history
    assert weights_equal(ref, got)


def test_nan_in_a_streamed_batch_is_named(task, memmap_of):
    x, y = task
    x = x.copy()
    x[700, 3] = np.nan
    model = mlp(20, 3)
    with pytest.raises(ValueError, match=r"x \(slab \d+ of the epoch\) contains NaN"):
        model.fit(memmap_of(x), y, epochs=1, batch_size=50, shuffle=False, verbose=0)


def test_dask_fit_unshuffled_equals_in_memory(task):
    da = pytest.importorskip("dask.array", reason="dask is optional (fastops[dask])")
    x, y = task
    ref, got = mlp(20, 3, seed=3), mlp(20, 3, seed=3)
    kw = dict(epochs=2, batch_size=40, shuffle=False, verbose=0)
    dx = da.from_array(x, chunks=(130, 7))  # batches span blocks; features rechunked
    h_ref = ref.fit(x, y, **kw)
    h_got = got.fit(dx, da.from_array(y, chunks=300), **kw)
    assert_same_history(h_got.history, h_ref.history)
    assert weights_equal(ref, got)
    np.testing.assert_allclose(got.evaluate(dx, y, verbose=0), ref.evaluate(x, y, verbose=0),
                               rtol=1e-12)


def test_dask_fit_shuffles_blocks_and_rows(task):
    da = pytest.importorskip("dask.array", reason="dask is optional (fastops[dask])")
    x, y = task
    dx, dy = da.from_array(x, chunks=250), da.from_array(y, chunks=250)
    seen = []

    class Record(fastops.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(batch)
    model = mlp(20, 3, seed=5)
    model.fit(dx, dy, epochs=8, batch_size=32, verbose=0, callbacks=[Record()])
    assert seen == list(range(32)) * 8  # ceil(1000 / 32) batches per epoch
    acc = model.evaluate(x, y, verbose=0)[1]
    unshuffled = mlp(20, 3, seed=5)
    unshuffled.fit(dx, dy, epochs=8, batch_size=32, verbose=0, shuffle=False)
    assert not weights_equal(model, unshuffled)
    in_memory = mlp(20, 3, seed=5)
    in_memory.fit(x, y, epochs=8, batch_size=32, verbose=0)
    assert abs(acc - in_memory.evaluate(x, y, verbose=0)[1]) < 0.03, acc


def test_dask_predict_returns_dask_array(task):
    da = pytest.importorskip("dask.array", reason="dask is optional (fastops[dask])")
    x, y = task
    model = mlp(20, 3, seed=6)
    model.fit(x, y, epochs=1, verbose=0)
    lazy = model.predict(da.from_array(x, chunks=(300, 10)), batch_size=64)
    assert isinstance(lazy, da.Array) and lazy.chunks[0] == (300, 300, 300, 100)
    before = model.predict(x, batch_size=64, verbose=0)
    model.fit(x, y, epochs=1, verbose=0)  # the lazy result keeps the weights of its call
    np.testing.assert_array_equal(lazy.compute(), before)
    with pytest.raises(ValueError, match="expects input_shape"):
        model.predict(da.from_array(x[:, :5]))


class Batches(PyDataset):
    def __init__(self, x, y, batch_size, with_y=True, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size, self.with_y = x, y, batch_size, with_y
        self.ends = self.begins = 0
        self.fetched = []
        self.lock = threading.Lock()

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, i):
        with self.lock:
            self.fetched.append(i)
        s = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return (self.x[s], self.y[s]) if self.with_y else self.x[s]

    def on_epoch_begin(self):
        self.begins += 1

    def on_epoch_end(self):
        self.ends += 1


@pytest.mark.parametrize("workers", [1, 3])
def test_pydataset_fit_equals_in_memory_unshuffled(task, workers):
    x, y = task
    ds = Batches(x, y, 64, workers=workers, max_queue_size=2)
    ref, got = mlp(20, 3, seed=7), mlp(20, 3, seed=7)
    h_ref = ref.fit(x, y, epochs=2, batch_size=64, shuffle=False, verbose=0)
    h_got = got.fit(ds, epochs=2, shuffle=False, verbose=0)
    assert h_got.history == h_ref.history
    assert weights_equal(ref, got)
    assert (ds.begins, ds.ends) == (2, 2)
    np.testing.assert_array_equal(got.predict(Batches(x, y, 64, with_y=False), verbose=0),
                                  ref.predict(x, batch_size=64, verbose=0))
    np.testing.assert_allclose(got.evaluate(ds, verbose=0),
                               ref.evaluate(x, y, batch_size=64, verbose=0), rtol=1e-12)


def test_pydataset_shuffle_permutes_batches(task):
    x, y = task
    ds = Batches(x, y, 100)
    mlp(20, 3, seed=8).fit(ds, epochs=2, verbose=0)
    epochs = [ds.fetched[1:11], ds.fetched[11:21]]  # fetched[0]: the first batch, peeked
    assert all(sorted(e) == list(range(10)) for e in epochs)
    assert epochs[0] != list(range(10)) and epochs[0] != epochs[1]


def test_pydataset_reads_ahead_boundedly(task):
    x, y = task
    ds = Batches(x, y, 10, max_queue_size=3)
    ahead = []

    class Watch(fastops.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            ahead.append(len(ds.fetched) - 1 - batch)  # fetched beyond this batch
    mlp(20, 3).fit(ds, epochs=1, shuffle=False, verbose=0, callbacks=[Watch()])
    assert max(ahead) <= 3 + 2  # the queue, the item being put, the one being handed over


def test_generator_with_steps_per_epoch(task):
    x, y = task

    def batches():
        while True:
            for s in range(0, 1000, 50):
                yield x[s:s + 50], y[s:s + 50]
    ref, got = mlp(20, 3, seed=9), mlp(20, 3, seed=9)
    h_ref = ref.fit(x, y, epochs=3, batch_size=50, shuffle=False, verbose=0)
    h_got = got.fit(batches(), steps_per_epoch=20, epochs=3, verbose=0)
    assert h_got.history == h_ref.history
    assert weights_equal(ref, got)


def test_generator_that_runs_out_stops_training(task):
    x, y = task
    gen = ((x[s:s + 100], y[s:s + 100]) for s in range(0, 1000, 100))
    model = mlp(20, 3)
    with pytest.warns(UserWarning, match="ran out of data"):
        hist = model.fit(gen, epochs=3, verbose=0)
    assert len(hist.history["loss"]) == 1  # the first epoch read all 10 batches


def test_stream_argument_errors(task):
    x, y = task
    model = mlp(20, 3)
    ds = Batches(x, y, 100)
    with pytest.raises(ValueError, match="`y` is not supported when x is a PyDataset"):
        model.fit(ds, y)
    with pytest.raises(ValueError, match="validation_split is only supported for arrays"):
        model.fit(ds, validation_split=0.1)
    with pytest.raises(ValueError, match="gave no targets"):
        model.fit(Batches(x, y, 100, with_y=False))
    with pytest.raises(ValueError, match="steps_per_epoch=11 is more than the 10 batches"):
        model.fit(ds, steps_per_epoch=11)
    with pytest.raises(ValueError, match="must be 2-D"):
        model.predict(iter([np.ones(20)]))


def test_validation_data_as_pydataset(task):
    x, y = task
    model = mlp(20, 3, seed=1)
    hist = model.fit(x[:800], y[:800], epochs=1, verbose=0,
                     validation_data=Batches(x[800:], y[800:], 64))
    ref = mlp(20, 3, seed=1)
    href = ref.fit(x[:800], y[:800], epochs=1, verbose=0, validation_data=(x[800:], y[800:]),
                   validation_batch_size=64)
    assert_same_history(hist.history, href.history)


def test_pydataset_without_super_init_warns():
    class Bare(PyDataset):
        def __init__(self):
            pass

        def __len__(self):
            return 1

    with pytest.warns(UserWarning, match="super"):
        assert Bare().workers == 1


def test_to_categorical_is_still_in_utils():
    np.testing.assert_array_equal(to_categorical([0, 2]), [[1, 0, 0], [0, 0, 1]])

"""fastops' kernels on dask arrays (threaded scheduler, in this process): lazy, dask arrays
out, the same values and dtypes as the NumPy-array kernels; errors before any graph work;
the thread rule observed inside the tasks."""
import subprocess
import sys

import numpy as np
import pytest
from dask_support import need

import fastops
from fastops import nn

da = need("dask.array")
dask = need("dask")


@pytest.fixture
def data(rng):
    x = rng.standard_normal((301, 97)).astype(np.float32)
    return x, da.from_array(x, chunks=(64, 40))  # uneven chunks on both axes


def test_import_fastops_does_not_import_dask():
    code = "import sys, fastops, fastops.utils; print('dask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd="/")
    assert out.stdout.strip() == "False"


def test_results_are_lazy_dask_arrays():
    calls = []

    def load():
        calls.append(1)
        return np.ones((10, 4), np.float32)
    x = da.from_delayed(dask.delayed(load)(), shape=(10, 4), dtype=np.float32)
    graph = [fastops.relu(x), fastops.add(x, 1.0), fastops.sum(x, axis=0),
             fastops.matmul(x, x.T), nn.softmax(x)]
    assert all(isinstance(g, da.Array) for g in graph)
    assert calls == []
    assert fastops.sum(fastops.relu(x)).compute() == 40.0
    assert calls == [1]


@pytest.mark.parametrize("fn", ["add", "subtract", "multiply", "divide", "maximum", "minimum"])
def test_binary_ops_equal_numpy(fn, data, rng):
    x, dx = data
    other = rng.standard_normal((301, 97)).astype(np.float32)
    dother = da.from_array(other, chunks=(100, 50))  # chunks that differ from x's
    row = rng.standard_normal(97).astype(np.float32)
    for a, b, ref in ((dx, dother, getattr(np, fn)(x, other)),
                      (dx, row, getattr(np, fn)(x, row)),           # NumPy operand, broadcast
                      (dx, 2.5, getattr(np, fn)(x, np.float32(2.5))),  # weak Python scalar
                      (row, dx, getattr(np, fn)(row, x))):
        res = getattr(fastops, fn)(a, b)
        assert isinstance(res, da.Array)
        got = res.compute()
        assert got.dtype == ref.dtype == res.dtype
        np.testing.assert_array_equal(got, ref)


def test_dtypes_follow_fastops(data):
    x, dx = data
    assert fastops.add(dx, dx.astype(np.float64)).dtype == np.float64
    ints = da.arange(12, chunks=5).reshape(3, 4)
    assert fastops.relu(ints - 5).dtype == np.maximum(np.arange(12) - 5, 0).dtype
    np.testing.assert_array_equal(fastops.relu(ints - 5).compute(),
                                  np.maximum(np.arange(12).reshape(3, 4) - 5, 0))
    with pytest.raises(TypeError, match="complex"):
        fastops.add(dx, np.ones(97, np.complex64))


def test_relu_family_equal_numpy(data, rng):
    x, dx = data
    b = rng.standard_normal(97).astype(np.float32)
    grad = rng.standard_normal(x.shape).astype(np.float32)
    np.testing.assert_array_equal(fastops.relu(dx).compute(), np.maximum(x, 0))
    np.testing.assert_array_equal(fastops.bias_add(dx, b).compute(), x + b)
    np.testing.assert_array_equal(fastops.bias_add_relu(dx, b).compute(), np.maximum(x + b, 0))
    np.testing.assert_array_equal(fastops.relu_backward(da.from_array(grad, chunks=50), dx)
                                  .compute(), np.where(x > 0, grad, 0))
    with pytest.raises(ValueError, match="b must be 1-D"):
        fastops.bias_add(dx, b[:5])


@pytest.mark.parametrize("axis,keepdims", [(None, False), (0, False), (1, True), ((0, 1), True),
                                           (-1, False)])
def test_sum_equals_float64_sum(data, axis, keepdims):
    x, dx = data
    res = fastops.sum(dx, axis=axis, keepdims=keepdims)
    ref = np.sum(x.astype(np.float64), axis=axis, keepdims=keepdims)
    got = res.compute()
    assert res.dtype == got.dtype == np.float32
    assert got.shape == ref.shape == res.shape
    # each chunk is rounded to float32 once, then chunks add in float64
    np.testing.assert_allclose(got, ref, rtol=2e-7 * 8, atol=1e-6)


def test_sum_of_relu_is_fused_with_the_same_values(data):
    x, dx = data
    r = fastops.relu(dx)
    fused = fastops.sum(r, axis=1)
    plain = fastops.sum(r.persist(), axis=1)  # persisted: no longer recognised as a relu
    assert not any("fastops-relu" in str(k) for k in dict(fused.__dask_graph__()))
    assert any("fastops-relu" in str(k) for k in dict(plain.__dask_graph__()))
    np.testing.assert_array_equal(fused.compute(), plain.compute())
    assert fastops.sum(r).compute() == fastops.sum(r.persist()).compute()


def test_sum_of_float64_and_ints(rng):
    x = rng.standard_normal((500, 30))
    assert fastops.sum(da.from_array(x, chunks=77)).compute() == pytest.approx(x.sum(),
                                                                                rel=1e-14)
    ints = np.arange(1000, dtype=np.int32).reshape(100, 10)
    res = fastops.sum(da.from_array(ints, chunks=30), axis=0)
    assert res.dtype == np.sum(ints, axis=0).dtype
    np.testing.assert_array_equal(res.compute(), np.sum(ints, axis=0))
    with pytest.raises(ValueError):
        fastops.sum(da.from_array(x, chunks=77), axis=2)


@pytest.mark.parametrize("backend", [None, "fastops", "blas"])
def test_matmul_equals_numpy(rng, backend):
    a = rng.standard_normal((130, 90)).astype(np.float32)
    b = rng.standard_normal((90, 70)).astype(np.float32)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    for ca, cb in (((40, 90), (90, 70)), ((40, 25), (25, 30)), ((130, 30), (45, 70))):
        res = fastops.matmul(da.from_array(a, chunks=ca), da.from_array(b, chunks=cb),
                             backend=backend)
        got = res.compute()
        assert got.dtype == res.dtype == np.float32 and got.shape == (130, 70)
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)
    got = fastops.matmul(da.from_array(a, chunks=50), b).compute()  # NumPy right operand
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


def test_matmul_vectors_and_stacks(rng):
    a = rng.standard_normal((4, 30, 20))
    b = rng.standard_normal((20, 6))
    v = rng.standard_normal(20)
    da_ = da.from_array(a, chunks=(2, 16, 7))
    for left, right, ref in ((da_, b, np.matmul(a, b)), (da_, v, np.matmul(a, v)),
                             (da.from_array(v, chunks=7), b, v @ b)):
        got = fastops.matmul(left, right).compute()
        assert got.shape == ref.shape
        np.testing.assert_allclose(got, ref, rtol=1e-12)
    with pytest.raises(ValueError, match="inner dimensions differ"):
        fastops.matmul(da_, rng.standard_normal((21, 3)))
    with pytest.raises(ValueError, match="0-d"):
        fastops.matmul(da_, 2.0)
    half = fastops.matmul(da_.astype(np.float16), b.astype(np.float16))
    assert half.dtype == fastops.matmul(a.astype(np.float16), b.astype(np.float16)).dtype


def test_dot_equals_numpy(rng):
    a = rng.standard_normal((3, 5, 8))
    b = rng.standard_normal((2, 8, 4))
    v = rng.standard_normal(8)
    da_ = da.from_array(a, chunks=(2, 3, 3))
    for right, ref in ((da.from_array(b, chunks=(1, 5, 2)), np.dot(a, b)), (v, np.dot(a, v)),
                       (2.0, np.dot(a, 2.0))):
        got = fastops.dot(da_, right).compute()
        assert got.shape == ref.shape
        np.testing.assert_allclose(got, ref, rtol=1e-12)
    m = rng.standard_normal((6, 8))
    assert fastops.dot(da.from_array(v, chunks=3), da.from_array(v, chunks=5)).compute() \
        == pytest.approx(v @ v)
    np.testing.assert_allclose(fastops.dot(da.from_array(m, chunks=4), v).compute(), m @ v)


def test_out_is_refused_before_any_work(data):
    x, dx = data
    for call in (lambda: fastops.relu(dx, out=np.empty_like(x)),
                 lambda: fastops.add(dx, 1.0, out=dx),
                 lambda: fastops.sum(dx, out=np.empty((), np.float32)),
                 lambda: fastops.matmul(dx, dx.T, out=np.empty((301, 301), np.float32)),
                 lambda: nn.softmax(dx.rechunk({1: -1}), out=np.empty_like(x))):
        with pytest.raises(TypeError, match="out= is not supported with dask arrays"):
            call()


def test_nn_row_kernels_equal_numpy_kernels(rng):
    z = rng.standard_normal((200, 10)).astype(np.float32)
    labels = rng.integers(0, 10, 200)
    onehot = np.eye(10, dtype=np.float32)[labels]
    dz = da.from_array(z, chunks=(64, 10))
    dl = da.from_array(labels, chunks=50)  # aligned to z's rows by Dask
    np.testing.assert_array_equal(nn.softmax(dz).compute(), nn.softmax(z))
    np.testing.assert_array_equal(nn.argmax(dz).compute(), nn.argmax(z))
    probs = nn.softmax(z)
    np.testing.assert_array_equal(nn.softmax_backward(da.from_array(onehot, chunks=64),
                                                      da.from_array(probs, chunks=64)).compute(),
                                  nn.softmax_backward(onehot, probs))
    for fn, other, kw in (("sparse_categorical_crossentropy_rows", dl, {"from_logits": True}),
                          ("categorical_crossentropy_rows", onehot, {"from_logits": True}),
                          ("sparse_categorical_accuracy_rows", labels, {}),
                          ("categorical_accuracy_rows", onehot, {}),
                          ("top_k_accuracy_rows", dl, {"k": 3}),
                          ("mean_squared_error_rows", onehot, {}),
                          ("mean_absolute_error_rows", onehot, {})):
        res = getattr(nn, fn)(dz, other, **kw)
        ref = getattr(nn, fn)(z, np.asarray(other), **kw)
        got = res.compute()
        assert got.dtype == ref.dtype == res.dtype and got.shape == (200,)
        np.testing.assert_array_equal(got, ref)
    sig = 1 / (1 + np.exp(-z))
    for fn in ("binary_crossentropy_rows", "binary_accuracy_rows"):
        np.testing.assert_array_equal(getattr(nn, fn)(da.from_array(sig, chunks=64),
                                                      (onehot > 0).astype(np.float32)).compute(),
                                      getattr(nn, fn)(sig, (onehot > 0).astype(np.float32)))


def test_row_kernels_need_rows_in_one_chunk(rng):
    dz = da.from_array(rng.standard_normal((20, 10)), chunks=(5, 4))
    with pytest.raises(ValueError, match=r"rechunk\(\{1: -1\}\)"):
        nn.softmax(dz)
    with pytest.raises(ValueError, match="labels must have shape"):
        nn.sparse_categorical_crossentropy_rows(dz.rechunk({1: -1}), np.zeros(19, np.int64))
    with pytest.raises(TypeError, match="labels must be integers"):
        nn.sparse_categorical_accuracy_rows(dz.rechunk({1: -1}), np.zeros(20))


def test_module_sigmoid_tanh_equal_numpy_kernels(rng):
    # not reachable through fastops.nn.sigmoid yet (its hook belongs in elementwise.pxi)
    from fastops import _dask
    z = rng.standard_normal((50, 7))
    dz = da.from_array(z, chunks=13)
    np.testing.assert_array_equal(_dask.sigmoid(dz).compute(), nn.sigmoid(z))
    np.testing.assert_array_equal(_dask.tanh_backward(dz, dz).compute(), nn.tanh_backward(z, z))


# ---- the thread rule inside tasks ----

@pytest.fixture
def observed_threads(monkeypatch):
    """Replace the compiled relu by a spy that records the thread setting inside the task."""
    seen = []
    real = fastops._kernels.relu

    def spy(x, out=None):
        if np.shape(x) == (100, 10):  # a block, not the one-element dtype probe
            seen.append(fastops.get_num_threads())
        return real(x, out=out)
    monkeypatch.setattr(fastops._kernels, "relu", spy)
    return seen


@pytest.mark.parametrize("scheduler,workers,setting,expected", [
    ("threads", 2, 2, 1),        # two tasks at once on 2 cores: one fastops thread each
    ("threads", 1, 2, 2),        # one task at a time: the whole setting
    ("threads", 2, 4, 2),
    ("synchronous", None, 2, 2),
])
def test_tasks_use_setting_divided_by_parallel_tasks(observed_threads, scheduler, workers,
                                                     setting, expected):
    x = da.ones((400, 10), chunks=(100, 10), dtype=np.float32)
    with fastops.config_context(num_threads=setting):
        kw = {} if workers is None else {"num_workers": workers}
        fastops.relu(x).compute(scheduler=scheduler, **kw)
    assert len(observed_threads) >= 4
    assert set(observed_threads) == {expected}
    assert fastops.get_num_threads() != 0  # the caller's own setting is untouched

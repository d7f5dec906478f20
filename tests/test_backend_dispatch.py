"""Every backend and rung proves it ran: each test wraps the entries of the dispatch tables
(fastops._kernels.BACKENDS for matmul and dot, fastops._cython_kernels.build_for for the
Cython rung) with spies and checks which one handled each call.

A spy records the call, runs the real entry, and can instead write a sentinel into the
output: a result equal to the sentinel shows that the named entry produced it and that no
other implementation ran after it.  Nothing here depends on timing or on rounding.
"""
import types

import numpy as np
import pytest
from helpers import SIMD_PATHS

import fastops
from fastops import _cython_kernels as ck
from fastops import _kernels, layers, models

NAMES = ("fastops", "blas", "naive", "cython")  # every concrete entry of the table
LEVELS = {name: i for i, name in enumerate(fastops._config.SIMD_LEVELS)}
SENTINEL = 42.0


@pytest.fixture
def gemm_calls(monkeypatch):
    """Wrap every BACKENDS entry; returns the list of (backend, isa) per 2-d product, and a
    set `fake` of backends whose spy writes SENTINEL instead of computing."""
    calls = []
    fake = set()
    for name in NAMES:
        def spy(a, b, c, isa, nthreads, *extra, _name=name, _real=_kernels.BACKENDS[name]):
            calls.append((_name, isa))
            if _name in fake:
                c[...] = SENTINEL
            else:
                _real(a, b, c, isa, nthreads, *extra)
        monkeypatch.setitem(_kernels.BACKENDS, name, spy)
    return types.SimpleNamespace(calls=calls, fake=fake)


def operands(dtype=np.float32, m=5, k=4, n=3, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype))


def auto_for(simd, dtype=np.float32):
    return _kernels.auto_backend(LEVELS[simd], np.dtype(dtype))


# ---- matmul and dot: the argument, config_context and set_backend ----

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
def test_the_backend_argument_runs_that_entry(gemm_calls, name, dtype):
    a, b = operands(dtype)
    np.testing.assert_allclose(fastops.matmul(a, b, backend=name), a @ b, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(fastops.dot(a, b, backend=name), a @ b, rtol=1e-5, atol=1e-5)
    assert [c[0] for c in gemm_calls.calls] == [name, name]
    gemm_calls.fake.add(name)
    assert (fastops.matmul(a, b, backend=name) == SENTINEL).all()
    assert (fastops.dot(a, b, backend=name) == SENTINEL).all()


@pytest.mark.parametrize("name", NAMES)
def test_every_matrix_of_a_stack_runs_on_the_backend(gemm_calls, name):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 2, 4, 5)).astype(np.float32)
    b = rng.standard_normal((2, 5, 3)).astype(np.float32)
    np.testing.assert_allclose(fastops.matmul(a, b, backend=name), np.matmul(a, b), rtol=1e-5, atol=1e-5)
    assert [c[0] for c in gemm_calls.calls] == [name] * 6
    gemm_calls.calls.clear()
    x = rng.standard_normal((2, 3, 5)).astype(np.float32)  # np.dot of an n-d array: one product
    np.testing.assert_allclose(fastops.dot(x, b[0], backend=name), np.dot(x, b[0]), rtol=1e-5, atol=1e-5)
    assert [c[0] for c in gemm_calls.calls] == [name]


@pytest.mark.parametrize("name", NAMES)
def test_config_context_and_set_backend_choose_the_entry(gemm_calls, name):
    a, b = operands()
    with fastops.config_context(backend=name):
        fastops.matmul(a, b)
        with fastops.config_context(num_threads=1):  # an inner context inherits the backend
            fastops.dot(a, b)
    before = fastops.get_backend()
    fastops.set_backend(name)
    try:
        fastops.matmul(a, b)
        with fastops.config_context(backend="fastops"):  # the context wins over the default
            fastops.matmul(a, b)
        fastops.matmul(a, b, backend="blas")  # and the argument over both
    finally:
        fastops.set_backend(before)
    assert [c[0] for c in gemm_calls.calls] == [name, name, name, "fastops", "blas"]


@pytest.mark.parametrize("simd", SIMD_PATHS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_auto_runs_what_auto_backend_names_for_the_simd_level(gemm_calls, simd, dtype):
    a, b = operands(dtype)
    with fastops.config_context(simd=simd):
        fastops.matmul(a, b, backend="auto")
        with fastops.config_context(backend="auto"):
            fastops.dot(a, b)
    expected = auto_for(simd, dtype)
    assert gemm_calls.calls == [(expected, LEVELS[simd])] * 2
    # fastops' own GEMM where it has a tuned kernel (AVX2, AVX-512), BLAS on the portable path
    assert expected == ("blas" if simd == "portable" else "fastops")


def test_the_default_backend_is_auto(gemm_calls):
    """With no setting at all, the process default 'auto' (README) decides."""
    assert fastops.get_backend() == "auto"
    a, b = operands()
    fastops.matmul(a, b)
    assert gemm_calls.calls == [(auto_for(fastops.get_simd()), LEVELS[fastops.get_simd()])]


def test_products_numpy_computes_touch_no_backend(gemm_calls):
    """Integer and bool products are NumPy's (the module docstring): no entry runs."""
    a = np.arange(6).reshape(2, 3)
    for name in NAMES:
        np.testing.assert_array_equal(fastops.matmul(a, a.T, backend=name), a @ a.T)
    assert gemm_calls.calls == []


def test_each_name_holds_its_own_implementation(monkeypatch):
    """The table itself: each name maps to its documented entry, and the entries behind
    'naive' and 'cython' call into fastops.naive and the Cython rung (observed there)."""
    assert {name: _kernels.BACKENDS[name].__name__ for name in NAMES} == {
        name: f"_gemm_{name}" for name in NAMES}
    assert len({id(_kernels.BACKENDS[name]) for name in NAMES}) == len(NAMES)
    seen = []
    real_naive = fastops.naive.matmul
    monkeypatch.setattr(fastops.naive, "matmul", lambda a, b: seen.append("naive") or real_naive(a, b))
    real_build = ck.build_for
    monkeypatch.setattr(ck, "build_for", lambda isa: seen.append("cython") or real_build(isa))
    a, b = operands()
    for name in NAMES:
        np.testing.assert_allclose(fastops.matmul(a, b, backend=name), a @ b, rtol=1e-5, atol=1e-5)
    assert seen == ["naive", "cython"]


# ---- the trainer ----

def tiny_fit(backend):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((10, 4)).astype(np.float32)
    y = rng.integers(0, 2, 10)
    model = models.Sequential([layers.Dense(3, activation="relu", input_shape=(4,)),
                               layers.Dense(2, activation="softmax")], seed=0)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with fastops.config_context(backend=backend):
        model.fit(x, y, batch_size=4, epochs=1, verbose=0)
        model.evaluate(x, y, verbose=0, batch_size=8)
        out = model.predict(x, verbose=0, batch_size=8)
    return model, out


def products_per_fit(backend):
    """Per training step: 2 forward products, 2 weight gradients, 1 input gradient (the first
    layer needs none); 3 steps (10 rows, batch 4).  On fastops' GEMM the weight gradients run
    inside the optimizer's update (fo_gemm_rows), not through the table.  Then evaluate and
    predict: 2 forward products each, their two batches of 8 rows merged into one block (no
    callback watches them)."""
    per_step = 3 if backend == "fastops" else 5
    return 3 * per_step + 2 + 2


@pytest.mark.parametrize("backend", NAMES + ("auto",))
def test_fit_evaluate_predict_run_every_product_on_the_backend(gemm_calls, backend):
    tiny_fit(backend)
    expected = auto_for(fastops.get_simd()) if backend == "auto" else backend
    assert len(gemm_calls.calls) == products_per_fit(expected)
    assert {c[0] for c in gemm_calls.calls} == {expected}


@pytest.mark.parametrize("backend", NAMES)
def test_predict_returns_what_the_backend_computed(gemm_calls, backend):
    """The sentinel of the last layer's product reaches predict's output: the softmax of
    SENTINEL + bias in every row."""
    model, _ = tiny_fit(backend)
    gemm_calls.fake.add(backend)
    with fastops.config_context(backend=backend):
        got = model.predict(np.ones((3, 4), np.float32), verbose=0)
    z = SENTINEL + model.get_weights()[-1].astype(np.float64)
    expected = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    np.testing.assert_allclose(got, np.tile(expected, (3, 1)), rtol=1e-6)


@pytest.mark.parametrize("simd", SIMD_PATHS)
def test_the_cython_backend_runs_the_build_of_the_simd_level(monkeypatch, simd):
    builds = []
    real = ck.build_for
    monkeypatch.setattr(ck, "build_for", lambda isa: builds.append(isa) or real(isa))
    a, b = operands()
    with fastops.config_context(simd=simd, backend="cython"):
        np.testing.assert_allclose(fastops.matmul(a, b), a @ b, rtol=1e-5, atol=1e-5)
    assert builds == [LEVELS[simd]]


# ---- the Cython rung: fastops.cython.* ----

@pytest.fixture
def cython_calls(monkeypatch):
    """Replace build_for with one returning spies of the real build's entries; each call is
    recorded as (entry, isa, op or axes) and answers SENTINEL instead of computing."""
    calls = []

    def build_for(isa):
        real = RUNG_BUILD_FOR(isa)

        def binary(op, a, b, out, nthreads):
            calls.append(("binary", real, op))
            out[...] = SENTINEL

        def sum_(x, axes, nthreads):
            calls.append(("sum", real, axes))
            kept = [n for d, n in enumerate(x.shape) if d not in axes]
            return SENTINEL if not kept else np.full(kept, SENTINEL)

        def gemm(a, b, c, alpha, beta, nthreads):
            calls.append(("gemm", real, None))
            c[...] = SENTINEL
        return types.SimpleNamespace(binary=binary, sum=sum_, gemm=gemm)
    monkeypatch.setattr(ck, "build_for", build_for)
    return calls


RUNG_BUILD_FOR = ck.build_for
BINARY_OPS = ("add", "subtract", "multiply", "divide", "maximum", "minimum", "bias_add_relu",
              "relu_backward")


@pytest.mark.parametrize("simd", SIMD_PATHS)
@pytest.mark.parametrize("fn", BINARY_OPS + ("bias_add",))
def test_every_binary_op_of_the_rung_runs_its_cython_entry(cython_calls, simd, fn):
    x = np.linspace(-1, 1, 12).reshape(3, 4)
    b = np.linspace(2, 3, 4)
    with fastops.config_context(simd=simd):
        got = getattr(fastops.cython, fn)(x, b)
    np.testing.assert_array_equal(got, np.full((3, 4), SENTINEL))
    op = BINARY_OPS.index("add" if fn == "bias_add" else fn)
    assert cython_calls == [("binary", RUNG_BUILD_FOR(LEVELS[simd]), op)]


@pytest.mark.parametrize("simd", SIMD_PATHS)
def test_relu_sum_and_matmul_of_the_rung_run_their_cython_entries(cython_calls, simd):
    x = np.linspace(-1, 1, 12).reshape(3, 4).astype(np.float32)
    build = RUNG_BUILD_FOR(LEVELS[simd])
    with fastops.config_context(simd=simd):
        np.testing.assert_array_equal(fastops.cython.relu(x), np.full((3, 4), SENTINEL))
        assert fastops.cython.sum(x) == SENTINEL
        np.testing.assert_array_equal(fastops.cython.sum(x, axis=0), np.full(4, SENTINEL))
        np.testing.assert_array_equal(fastops.cython.matmul(x, x.T), np.full((3, 3), SENTINEL))
    assert cython_calls == [("binary", build, BINARY_OPS.index("maximum")),
                            ("sum", build, (0, 1)), ("sum", build, (0,)), ("gemm", build, None)]


def test_fastops_own_kernels_never_reach_the_rung(cython_calls):
    """The C kernels (fastops.add, sum, matmul on 'fastops') do not go through the rung."""
    x = np.linspace(-1, 1, 12).reshape(3, 4)
    np.testing.assert_array_equal(fastops.add(x, x), 2 * x)
    assert fastops.sum(x) == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(fastops.matmul(x, x.T, backend="fastops"), x @ x.T)
    assert cython_calls == []

"""Optimizer updates whose gradient is given as a product (a, b): fastops.nn.*_update
multiply it block by block inside the update (fo_gemm_rows) and must give what the same
update gives with the stored gradient a @ b, on every SIMD path and thread count, for every
layout of the factors and for shapes on both sides of the GEMM's blocking (the blocked path
that never stores the gradient, and the whole-product fallback)."""
import numpy as np
import pytest

import fastops
from fastops import _kernels, layers, models
from fastops import nn as nnops

DTYPES = [np.float32, np.float64]


def blocking(dtype):
    """(MC, KC, NC) of the kernels this CPU runs, the tightest of them."""
    isd = np.dtype(dtype) == np.float64
    blocks = [_kernels.gemm_blocking(i, isd) for i in range(3)]
    return min(b[2] for b in blocks), min(b[3] for b in blocks), min(b[4] for b in blocks)


def shapes(dtype):
    """(m, k, n): the chapter-2 kernel gradient, tiny, threaded, several MC blocks with an
    edge, k past KC and n past NC (the whole-product path)."""
    mc, kc, nc = blocking(dtype)
    return [(784, 128, 512), (7, 3, 5), (300, 64, 200), (2 * mc + 5, 23, 33),
            (150, kc + 1, 40), (20, 10, nc + 3)]


# (update, its slots, keyword arguments): every optimizer and option the trainer can use
UPDATES = [
    ("rmsprop", ("velocity",), {}),
    ("rmsprop", ("velocity", "momentum_buffer", "average_gradient"),
     {"momentum": 0.5}),
    ("sgd", (), {"learning_rate": 0.1}),
    ("sgd", ("momentum_buffer",), {"momentum": 0.9, "nesterov": True}),
    ("adagrad", ("accumulator",), {}),
    ("adam", ("m", "v", "vhat"), {"step": 3}),
]


def run_update(name, w, gradient, slots, kwargs, **extra):
    fn = getattr(nnops, f"{name}_update")
    if name == "adam":
        kw = dict(kwargs)
        step = kw.pop("step")
        return fn(w, gradient, slots["m"], slots["v"], step, vhat=slots["vhat"], **kw, **extra)
    if name == "rmsprop":
        return fn(w, gradient, slots["velocity"], momentum_buffer=slots.get("momentum_buffer"),
                  average_gradient=slots.get("average_gradient"), **kwargs, **extra)
    if name == "sgd":
        return fn(w, gradient, slots.get("momentum_buffer"), **kwargs, **extra)
    return fn(w, gradient, slots["accumulator"], **kwargs, **extra)


def state(rng, m, n, dtype, slot_names):
    w = rng.standard_normal((m, n)).astype(dtype)
    slots = {s: (rng.random((m, n)) + 0.5).astype(dtype) for s in slot_names}
    return w, slots


def factors(rng, m, k, n, dtype, layout):
    """a (m, k) and b (k, n) as the trainer passes them (x.T, dz) or in other layouts."""
    if layout == "x.T, dz":
        return rng.standard_normal((k, m)).astype(dtype).T, rng.standard_normal((k, n)).astype(dtype)
    if layout == "c, b.T":
        return rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((n, k)).astype(dtype).T
    # reversed rows of a and every other column of a wider b
    return (rng.standard_normal((m, k)).astype(dtype)[::-1],
            rng.standard_normal((k, 2 * n)).astype(dtype)[:, ::2])


def expect_same_update(name, slot_names, kwargs, m, k, n, dtype, layout, **extra):
    rng = np.random.default_rng(m * 1000 + k + n)
    a, b = factors(rng, m, k, n, dtype, layout)
    a0, b0 = a.copy(), b.copy()
    w, slots = state(rng, m, n, dtype, slot_names)
    w_ref, slots_ref = w.copy(), {s: v.copy() for s, v in slots.items()}
    # the product as matmul computes it with the same backend ('auto' is BLAS on the portable
    # path, fastops' GEMM on AVX2 and AVX-512)
    backend = extra.get("backend")
    penalty_ref = run_update(name, w_ref, fastops.matmul(a, b, backend=backend), slots_ref,
                             kwargs, l2=0.01)
    penalty = run_update(name, w, (a, b), slots, kwargs, l2=0.01, **extra)
    np.testing.assert_array_equal(a, a0)  # the factors are read only
    np.testing.assert_array_equal(b, b0)
    np.testing.assert_allclose(penalty, penalty_ref, rtol=1e-10)
    return (w, slots), (w_ref, slots_ref)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("update", UPDATES, ids=lambda u: f"{u[0]}-{'-'.join(u[1]) or 'plain'}")
def test_product_gradient_gives_the_stored_gradients_update(update, dtype, simd, threads):
    name, slot_names, kwargs = update
    for m, k, n in shapes(dtype):
        # fastops' GEMM on every path ('auto' would take BLAS on the portable one)
        got, ref = expect_same_update(name, slot_names, kwargs, m, k, n, dtype, "x.T, dz",
                                      backend="fastops")
        tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(got[0], ref[0], **tol, err_msg=f"{(m, k, n)}")
        for s in slot_names:
            np.testing.assert_allclose(got[1][s], ref[1][s], **tol, err_msg=f"{s} {(m, k, n)}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["x.T, dz", "c, b.T", "reversed, strided"])
def test_chapter_2_gradient_is_bitwise_the_stored_ones(dtype, layout, threads):
    """The same GEMM tiles and the same update loop: the same bits, whatever the layout."""
    got, ref = expect_same_update("rmsprop", ("velocity",), {}, 784, 128, 512, dtype, layout)
    np.testing.assert_array_equal(got[0], ref[0])
    np.testing.assert_array_equal(got[1]["velocity"], ref[1]["velocity"])


@pytest.mark.parametrize("backend", ["blas", "naive", "cython", "auto", None])
def test_other_backends_compute_the_product_then_update(backend):
    got, ref = expect_same_update("rmsprop", ("velocity",), {}, 40, 12, 30, np.float64, "x.T, dz",
                                  backend=backend)
    np.testing.assert_allclose(got[0], ref[0], rtol=1e-12, atol=1e-14)


def test_a_factor_sharing_the_variable_is_read_as_given():
    rng = np.random.default_rng(5)
    w = rng.standard_normal((6, 8)).astype(np.float32)
    v = np.ones_like(w)
    a, b = w[:, :3], rng.standard_normal((3, 8)).astype(np.float32)
    w_ref, v_ref = w.copy(), v.copy()
    nnops.rmsprop_update(w_ref, w[:, :3].copy() @ b, v_ref)
    nnops.rmsprop_update(w, (a, b), v)
    np.testing.assert_allclose(w, w_ref, rtol=1e-6)
    np.testing.assert_allclose(v, v_ref, rtol=1e-6)


def test_empty_and_k_zero_products():
    w, v = np.ones((3, 0), np.float32), np.ones((3, 0), np.float32)
    assert nnops.rmsprop_update(w, (np.ones((3, 2), np.float32), np.ones((2, 0), np.float32)), v) == 0
    w, v = np.ones((3, 4)), np.ones((3, 4))
    nnops.rmsprop_update(w, (np.ones((3, 0)), np.ones((0, 4))), v)  # a zero gradient
    np.testing.assert_array_equal(w, 1.0)
    np.testing.assert_allclose(v, 0.9)


@pytest.mark.parametrize("gradient, exc, match", [
    (lambda f: (f((4, 3)),), TypeError, "pair"),
    (lambda f: (f((4, 3)), f((3, 5)), f((5, 5))), TypeError, "pair"),
    (lambda f: (f((4, 3)).astype(np.float64), f((3, 5))), TypeError, r"gradient\[0\] has dtype"),
    (lambda f: (f((4, 3)), f(3)), ValueError, r"2-d a and b.*gradient\[1\]"),
    (lambda f: (f((4, 3)), f((2, 5))), ValueError, "inner dimensions differ"),
    (lambda f: (f((4, 3)), f((3, 6))), ValueError, r"shape \(4, 6\) but the variable has shape"),
    (lambda f: ("x", f((3, 5))), TypeError, r"gradient\[0\]"),
])
def test_bad_product_gradients(gradient, exc, match):
    w, v = np.zeros((4, 5), np.float32), np.zeros((4, 5), np.float32)
    w0 = w.copy()
    with pytest.raises(exc, match=match):
        nnops.rmsprop_update(w, gradient(lambda s: np.ones(s, np.float32)), v)
    np.testing.assert_array_equal(w, w0)


def test_backend_applies_to_product_gradients_only():
    w, v = np.zeros((4, 5), np.float32), np.zeros((4, 5), np.float32)
    with pytest.raises(ValueError, match="backend"):
        nnops.rmsprop_update(w, np.ones((4, 5), np.float32), v, backend="fastops")
    with pytest.raises(ValueError, match="backend must be"):
        nnops.rmsprop_update(w, (np.ones((4, 3), np.float32), np.ones((3, 5), np.float32)), v,
                             backend="gpu")


# ---- the trainer ----

def mlp(optimizer, seed=0):
    net = models.Sequential(seed=seed)
    net.add(layers.Dense(64, activation="relu", input_shape=(30,), kernel_regularizer="l2"))
    net.add(layers.Dense(32, activation="relu"))
    net.add(layers.Dense(10, activation="softmax"))
    net.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                metrics=["accuracy"])
    return net


@pytest.mark.parametrize("optimizer", ["rmsprop", "adam", "sgd", "adagrad"])
def test_fit_with_product_gradients_gives_the_same_weights(optimizer, monkeypatch, threads):
    """fit leaves the Dense kernels' gradients as products for the optimizer (no stored
    gradient); the weights must be bit for bit those of the stored-gradient path."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((700, 30)).astype(np.float32)
    y = rng.integers(0, 10, 700)
    fused = mlp(optimizer)
    h_fused = fused.fit(x, y, epochs=2, batch_size=64, verbose=0)
    monkeypatch.setattr(layers.Dense, "product_gradients", False)
    stored = mlp(optimizer)
    h_stored = stored.fit(x, y, epochs=2, batch_size=64, verbose=0)
    for p, q in zip(fused.get_weights(), stored.get_weights()):
        np.testing.assert_array_equal(p, q)
    # the l2 penalty in the loss is summed in another order
    np.testing.assert_allclose(h_fused.history["loss"], h_stored.history["loss"], rtol=1e-9)


def test_dense_backward_fills_the_gradient_or_leaves_the_product():
    rng = np.random.default_rng(2)
    layer = layers.Dense(4, activation="relu", dtype="float64")
    layer.build((None, 3))
    x = rng.standard_normal((5, 3))
    layer.forward(x, training=True, out=np.empty((5, 4)))
    layer.backward(rng.standard_normal((5, 4)), input_grad=False)
    stored = [g.copy() for g in layer.gradients]
    assert all(s is g for s, g in zip(layer.gradient_sources(), layer.gradients))
    layer.forward(x, training=True, out=np.empty((5, 4)))
    grad = rng.standard_normal((5, 4))
    layer.backward(grad, input_grad=False, products=True)
    kernel_source, bias_source = layer.gradient_sources()
    assert layer.gradient_sources()[0] is layer.gradients[0]  # handed over once
    a, b = kernel_source
    assert a.base is x and b is grad  # views of the batch and of dL/dz, no copies
    np.testing.assert_allclose(a @ b, x.T @ grad)
    np.testing.assert_array_equal(layer.gradients[0], stored[0])  # the buffer is not written
    assert bias_source is layer.gradients[1]


def test_a_dense_subclass_with_its_own_backward_gets_no_products():
    calls = []

    class Traced(layers.Dense):
        def backward(self, grad, out=None, input_grad=True):
            calls.append(len(grad))
            return super().backward(grad, out, input_grad)

    net = models.Sequential([Traced(8, activation="relu", input_shape=(5,)),
                             layers.Dense(3, activation="softmax")], seed=0)
    net.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(1)
    net.fit(rng.standard_normal((40, 5)).astype(np.float32), rng.integers(0, 3, 40),
            batch_size=20, epochs=1, verbose=0)
    assert calls == [20, 20]
    assert not net.layers[0].product_gradients and net.layers[1].product_gradients

"""The fused losses, metric counts, dropout and regularised updates of fastops.nn against
NumPy references written from the formulas (Keras' own where Keras defines them)."""
import numpy as np
import pytest

from fastops import nn

DTYPES = [np.float32, np.float64]
RTOL = {np.float32: 2e-6, np.float64: 1e-13}


def rows_reference(elem, w, n):
    """sum_i w_i * mean_j elem_ij / n, as float."""
    rows = elem.mean(axis=-1).reshape(-1)
    return float((rows if w is None else rows * w).sum() / n)


def weights(rng, n, weighted):
    return rng.uniform(0, 2, n) if weighted else None


# ---- binary cross-entropy from logits ----

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(7, 1), (64, 3), (5, 2, 4)], ids=str)
@pytest.mark.parametrize("weighted", [False, True])
def test_sigmoid_crossentropy(dtype, shape, weighted, threads):
    rng = np.random.default_rng(sum(shape))
    z = rng.normal(0, 4, shape).astype(dtype)
    y = (rng.random(shape) > 0.5).astype(dtype)
    n = int(np.prod(shape[:-1]))
    k = shape[-1]
    w = weights(rng, n, weighted)
    loss, grad, correct = nn.sigmoid_crossentropy(z, y, sample_weight=w)
    z64, y64 = z.astype(np.float64), y.astype(np.float64)
    elem = np.maximum(z64, 0) - z64 * y64 + np.log1p(np.exp(-np.abs(z64)))
    assert loss == pytest.approx(rows_reference(elem, w, n), rel=1e-12)
    scale = 1.0 / (n * k) * (1 if w is None else w.reshape(shape[:-1] + (1,)))
    np.testing.assert_allclose(grad, (1 / (1 + np.exp(-z64)) - y64) * scale, rtol=RTOL[dtype],
                               atol=1e-12)
    hits = ((z > 0) == y).mean(axis=-1).reshape(-1)
    assert correct == pytest.approx(float((hits if w is None else hits * w).sum()), rel=1e-12)


def test_sigmoid_crossentropy_saturated_logits_are_finite():
    z = np.array([[-np.inf], [np.inf], [1e4], [-1e4]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    loss, grad, correct = nn.sigmoid_crossentropy(z, y)
    assert loss == 0.0 and np.all(grad == 0) and correct == 4
    loss, _, _ = nn.sigmoid_crossentropy(np.array([[np.inf]]), np.array([[0.0]]))
    assert loss == np.inf


# ---- categorical cross-entropy: weights and -inf logits (issue 9) ----

def test_minus_inf_non_target_logit_gives_a_finite_loss():
    z = np.array([[2.0, -np.inf, 0.5], [-np.inf, 1.0, 0.0]])
    y = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    loss, grad, _ = nn.softmax_crossentropy(z, y)
    zs = z - z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(zs).sum(axis=1))
    expected = np.mean(lse - zs[np.arange(2), [0, 1]])
    assert loss == pytest.approx(expected, rel=1e-14)
    assert np.isfinite(grad).all()
    sparse = nn.sparse_softmax_crossentropy(z, [0, 1])
    assert sparse[0] == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sample_weights_scale_rows(dtype):
    rng = np.random.default_rng(7)
    z = rng.normal(size=(6, 4)).astype(dtype)
    labels = rng.integers(0, 4, 6)
    y = np.eye(4, dtype=dtype)[labels]
    w = rng.uniform(0, 3, 6)
    loss, grad, correct = nn.softmax_crossentropy(z, y, sample_weight=w)
    base_rows = [nn.softmax_crossentropy(z[i:i + 1], y[i:i + 1])[0] for i in range(6)]
    assert loss == pytest.approx(float(np.dot(w, base_rows) / 6), rel=RTOL[dtype] * 10)
    unweighted = nn.softmax_crossentropy(z, y)[1]
    np.testing.assert_allclose(grad, unweighted * w[:, None].astype(dtype), rtol=RTOL[dtype] * 10)
    assert correct == pytest.approx(float(w[z.argmax(1) == labels].sum()))
    sparse = nn.sparse_softmax_crossentropy(z, labels, sample_weight=w)
    assert sparse[0] == pytest.approx(loss, rel=RTOL[dtype] * 10)
    np.testing.assert_allclose(sparse[1], grad, rtol=RTOL[dtype] * 10, atol=1e-12)


def test_sample_weight_shape_is_checked():
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(3,\)"):
        nn.softmax_crossentropy(np.zeros((3, 2)), np.zeros((3, 2)), sample_weight=np.ones(4))


# ---- regression losses ----

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("kind", ["mse", "mae"])
def test_regression_losses(dtype, weighted, kind, threads):
    rng = np.random.default_rng(11)
    p = rng.normal(size=(40, 3)).astype(dtype)
    y = rng.normal(size=(40, 3)).astype(dtype)
    p[0, 0] = y[0, 0]  # sign(0) = 0 for mae
    w = weights(rng, 40, weighted)
    fn = nn.mean_squared_error if kind == "mse" else nn.mean_absolute_error
    loss, grad = fn(p, y, sample_weight=w)
    d = p.astype(np.float64) - y
    elem = d * d if kind == "mse" else np.abs(d)
    assert loss == pytest.approx(rows_reference(elem, w, 40), rel=1e-12)
    dg = 2 * d if kind == "mse" else np.sign(d)
    scale = (1 if w is None else w[:, None]) / (40 * 3)
    np.testing.assert_allclose(grad, dg * scale, rtol=RTOL[dtype], atol=1e-12)
    assert fn(p, y, grad=False)[1] is None


# ---- metric counts ----

def test_binary_correct_compares_y_true_exactly():
    p = np.array([[0.9, 0.2], [0.5, 0.7]])
    y = np.array([[1.0, 0.0], [1.0, 0.7]])  # 0.7 is never equal to a 0/1 prediction
    assert nn.binary_correct(p, y) == pytest.approx(1.0 + 0.0)
    assert nn.binary_correct(p, y, threshold=0.4) == pytest.approx(1.0 + 0.5)


def test_top_k_ties_count_as_in_and_labels_are_checked():
    p = np.array([[0.1, 0.5, 0.5, 0.2], [0.4, 0.3, 0.2, 0.1], [np.nan, 0.1, 0.2, 0.3]])
    assert nn.top_k_correct(p, [2, 2, 0], k=1) == 1  # row 0: tied with the top; row 2: NaN
    assert nn.top_k_correct(p, [2, 2, 3], k=3) == 3
    with pytest.raises(ValueError, match=r"\[0, 4\).*found 9 at row 1"):
        nn.top_k_correct(p, [0, 9, 0])
    with pytest.raises(ValueError, match="k must be a positive int"):
        nn.top_k_correct(p, [0, 1, 2], k=0)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32, np.uint64, np.ulonglong,
                                   np.int8, np.int64])
def test_labels_of_every_integer_type(dtype):
    z = np.array([[0.0, 2.0, 1.0], [3.0, 0.0, 1.0]], np.float32)
    expected = nn.sparse_softmax_crossentropy(z, np.array([1, 2]))
    loss, grad, correct = nn.sparse_softmax_crossentropy(z, np.array([1, 2], dtype))
    assert loss == expected[0] and correct == expected[2] == 1
    np.testing.assert_array_equal(grad, expected[1])
    with pytest.raises(ValueError, match=r"\[0, 3\).*found 7 at row 1"):
        nn.sparse_softmax_crossentropy(z, np.array([0, 7], dtype))


@pytest.mark.parametrize("dtype", [np.uint64, np.ulonglong])
def test_labels_past_int64_are_refused_not_wrapped(dtype):
    z = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match="beyond any index"):
        nn.sparse_softmax_crossentropy(z, np.array([0, 2**63 + 1], dtype))


# ---- dropout ----

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rate", [0.0, 0.25, 0.5, 0.9, 1.0])
def test_dropout_draws_the_documented_mask(dtype, rate, threads):
    x = np.random.default_rng(3).normal(size=(300, 257)).astype(dtype)
    keep = nn.dropout_keep(x.shape, rate, 12345)
    expected = np.where(keep, x / dtype(1 - rate), dtype(0)) if rate < 1 else np.zeros_like(x)
    got = nn.dropout(x, rate, 12345)
    np.testing.assert_array_equal(got, expected)
    assert abs(keep.mean() - (1 - rate)) < 0.01
    g = np.random.default_rng(4).normal(size=x.shape).astype(dtype)
    np.testing.assert_array_equal(nn.dropout_backward(g, rate, 12345),
                                  np.where(keep, g / dtype(1 - rate), dtype(0))
                                  if rate < 1 else np.zeros_like(g))


def test_dropout_masks_differ_by_seed_and_follow_c_order():
    x = np.ones((50, 40), np.float32)
    assert not np.array_equal(nn.dropout(x, 0.5, 1), nn.dropout(x, 0.5, 2))
    xt = np.asfortranarray(x)
    np.testing.assert_array_equal(nn.dropout(xt, 0.5, 1), nn.dropout(x, 0.5, 1))
    assert nn.dropout(x, 0.5, 1, out=x) is x  # in place


@pytest.mark.parametrize("rate, seed, exc", [(-0.1, 0, ValueError), (1.5, 0, ValueError),
                                             (np.nan, 0, ValueError), ("a", 0, TypeError),
                                             (0.5, -1, ValueError), (0.5, 2**64, ValueError),
                                             (0.5, 1.5, ValueError)])
def test_dropout_bad_arguments(rate, seed, exc):
    with pytest.raises(exc, match="rate|seed"):
        nn.dropout(np.ones(3), rate, seed)


# ---- regularised updates ----

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("l1, l2", [(0.0, 0.01), (0.003, 0.0), (0.002, 0.005)])
@pytest.mark.parametrize("update", ["sgd", "rmsprop", "adagrad", "adam"])
def test_regularisation_folds_into_the_gradient(dtype, l1, l2, update, simd, threads):
    rng = np.random.default_rng(9)
    n = 70_001
    w = rng.normal(size=n).astype(dtype)
    w[:3] = 0.0
    g = rng.normal(size=n).astype(dtype)
    g_reg = g.copy()
    if l1:
        g_reg = g_reg + dtype(l1) * np.sign(w)
    if l2:
        g_reg = g_reg + dtype(2 * l2) * w
    w_ref, w_got = w.copy(), w.copy()
    slots_ref = [np.zeros_like(w), np.zeros_like(w)]
    slots_got = [np.zeros_like(w), np.zeros_like(w)]
    call = {"sgd": lambda ww, gg, s, **kw: nn.sgd_update(ww, gg, s[0], 0.1, 0.5, **kw),
            "rmsprop": lambda ww, gg, s, **kw: nn.rmsprop_update(ww, gg, s[0], **kw),
            "adagrad": lambda ww, gg, s, **kw: nn.adagrad_update(ww, gg, s[0], **kw),
            "adam": lambda ww, gg, s, **kw: nn.adam_update(ww, gg, s[0], s[1], 2, **kw)}[update]
    assert call(w_ref, g_reg, slots_ref) == 0.0
    penalty = call(w_got, g, slots_got, l1=l1, l2=l2)
    w64 = w.astype(np.float64)
    assert penalty == pytest.approx(l1 * np.abs(w64).sum() + l2 * (w64 * w64).sum(), rel=1e-10)
    np.testing.assert_allclose(w_got, w_ref, rtol=RTOL[dtype] * 10, atol=1e-7)


@pytest.mark.parametrize("name, value", [("l1", -1.0), ("l2", np.inf), ("learning_rate", -0.1),
                                         ("rho", 1.5), ("epsilon", np.nan)])
def test_update_hyper_parameters_are_checked(name, value):
    w = np.ones(4, np.float32)
    before = w.copy()
    with pytest.raises(ValueError, match=name):
        nn.rmsprop_update(w, np.ones(4, np.float32), np.zeros(4, np.float32), **{name: value})
    np.testing.assert_array_equal(w, before)


@pytest.mark.parametrize("name,value,message", [
    ("learning_rate", -1.0, r"learning_rate must be a finite number in \[0.0, inf\], got -1.0"),
    ("rho", 2, r"rho must be a finite number in \[0.0, 1.0\], got 2"),
    ("epsilon", np.float32(np.nan),
     r"epsilon must be a finite number in \[0.0, inf\], got np.float32\(nan\)"),
    ("rho", True, r"rho must be a number, got True"),
    ("rho", "x", r"rho must be a number, got 'x'"),
])
def test_update_hyper_parameter_messages(name, value, message):
    # a Python float takes hyper()'s C path, anything else float(): both word errors alike
    w = np.ones(4, np.float32)
    with pytest.raises((TypeError, ValueError), match=message):
        nn.rmsprop_update(w, np.ones(4, np.float32), np.zeros(4, np.float32), **{name: value})


@pytest.mark.parametrize("slot", ["velocity", "gradient"])
def test_update_refuses_a_byte_swapped_slot_or_gradient(slot):
    # the type-number check alone would take '>f4' for float32 and update it as native
    w = np.ones(4, np.float32)
    args = {"gradient": np.ones(4, np.float32), "velocity": np.zeros(4, np.float32)}
    args[slot] = args[slot].astype(">f4")
    if slot == "velocity":
        with pytest.raises(ValueError, match="velocity must match the variable"):
            nn.rmsprop_update(w, args["gradient"], args["velocity"])
        np.testing.assert_array_equal(w, np.ones(4, np.float32))
    else:  # a swapped gradient is read through a native copy, not refused
        expected = w.copy()
        nn.rmsprop_update(expected, np.ones(4, np.float32), np.zeros(4, np.float32))
        nn.rmsprop_update(w, args["gradient"], args["velocity"])
        np.testing.assert_array_equal(w, expected)


def test_labels_as_a_column_and_of_the_wrong_shape():
    z = np.array([[0.0, 2.0, 1.0], [3.0, 0.0, 1.0]], np.float32)
    flat = nn.sparse_softmax_crossentropy(z, np.array([1, 2]))
    column = nn.sparse_softmax_crossentropy(z, np.array([[1], [2]]))
    assert column[0] == flat[0] and column[2] == flat[2]
    np.testing.assert_array_equal(column[1], flat[1])
    for bad in (np.array([[1, 2], [0, 1]]), np.array([1, 2, 0]), np.array([[[1]], [[2]]])):
        with pytest.raises(ValueError, match=r"labels must have shape \(2,\) to match the 2 rows"):
            nn.sparse_softmax_crossentropy(z, bad)


@pytest.mark.parametrize("fn, second", [
    (nn.mean_squared_error, "dense"), (nn.softmax_crossentropy, "dense"),
    (nn.sigmoid_crossentropy, "dense"), (nn.sparse_softmax_crossentropy, "labels")])
def test_sample_weight_sharing_memory_with_out_is_read_as_before_the_call(fn, second):
    """Weights that live in the gradient's out are read as they were before the call (the
    kernels read them more than once, and the loss came out 0.104 instead of 3.876)."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal((4, 4))
    y = np.eye(4) if second == "dense" else np.array([0, 3, 1, 2])
    g = np.empty((4, 4))
    g[0] = [1.0, 2.0, 3.0, 4.0]
    w = g[0]
    expected_loss, expected_grad = fn(z, y, sample_weight=w.copy())[:2]
    loss, grad = fn(z, y, out=g, sample_weight=w)[:2]
    assert loss == expected_loss
    np.testing.assert_array_equal(grad, expected_grad)


def test_probability_clip_bounds_are_in_the_operands_type():
    """Keras clips probabilities to [eps, 1 - eps] in the model's dtype: float32's 1 - 1e-7
    is 1 - 2^-23, so a float32 prediction of 1 where the target is 0 loses 23 ln 2 = 15.942
    (Keras 3 on JAX reads the same), a float64 one -ln(1e-7) = 16.118."""
    y = np.array([[0.0, 1.0]])
    p = np.array([[1.0, 1.0]])
    loss32 = nn.binary_crossentropy_probs(p.astype(np.float32), y.astype(np.float32),
                                          grad=False)[0]
    loss64 = nn.binary_crossentropy_probs(p, y, grad=False)[0]
    # the row's mean: the target-0 term, and the target-1 term -ln(hi) of the clipped 1
    hi32 = 1 - 2.0**-23
    assert loss32 == pytest.approx((23 * np.log(2) - np.log(hi32)) / 2, rel=1e-9)
    assert loss64 == pytest.approx((-np.log(1e-7) - np.log(1 - 1e-7)) / 2, rel=1e-9)

"""One test matrix for every kernel family: the same errors, overlap rule and dtype rule
(bottleneck's unit_maker idea).  Each public kernel is described once below; every check
runs over all of them.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fastops
from fastops import nn

RNG = np.random.default_rng(2026)


def _f(*shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)


# name -> (call(args, out), args maker(dtype), {argument index: its name in errors})
KERNELS = {
    "add": (lambda a, out=None: fastops.add(*a, out=out), lambda dt: [_f(4, 5, dtype=dt), _f(5, dtype=dt)]),
    "maximum": (lambda a, out=None: fastops.maximum(*a, out=out), lambda dt: [_f(4, 5, dtype=dt), _f(4, 5, dtype=dt)]),
    "bias_add_relu": (lambda a, out=None: fastops.bias_add_relu(*a, out=out), lambda dt: [_f(4, 5, dtype=dt), _f(5, dtype=dt)]),
    "relu_backward": (lambda a, out=None: fastops.relu_backward(*a, out=out), lambda dt: [_f(4, 5, dtype=dt), _f(4, 5, dtype=dt)]),
    "relu": (lambda a, out=None: fastops.relu(*a, out=out), lambda dt: [_f(4, 5, dtype=dt)]),
    "sum": (lambda a, out=None: fastops.sum(a[0], axis=0, out=out), lambda dt: [_f(4, 5, dtype=dt)]),
    "matmul": (lambda a, out=None: fastops.matmul(*a, out=out), lambda dt: [_f(4, 6, dtype=dt), _f(6, 5, dtype=dt)]),
    "dot": (lambda a, out=None: fastops.dot(*a, out=out), lambda dt: [_f(4, 6, dtype=dt), _f(6, 5, dtype=dt)]),
    "softmax": (lambda a, out=None: nn.softmax(*a, out=out), lambda dt: [_f(4, 5, dtype=dt)]),
    "sigmoid": (lambda a, out=None: nn.sigmoid(*a, out=out), lambda dt: [_f(4, 5, dtype=dt)]),
    "softmax_backward": (lambda a, out=None: nn.softmax_backward(*a, out=out), lambda dt: [_f(4, 5, dtype=dt), _f(4, 5, dtype=dt)]),
    "softmax_crossentropy": (lambda a, out=None: nn.softmax_crossentropy(*a, out=out)[1],
                             lambda dt: [_f(4, 5, dtype=dt), np.eye(5, dtype=dt)[[0, 1, 2, 3]]]),
    "sigmoid_crossentropy": (lambda a, out=None: nn.sigmoid_crossentropy(*a, out=out)[1],
                             lambda dt: [_f(4, 5, dtype=dt), (_f(4, 5, dtype=dt) > 0).astype(dt)]),
    "mean_squared_error": (lambda a, out=None: nn.mean_squared_error(*a, out=out)[1],
                           lambda dt: [_f(4, 5, dtype=dt), _f(4, 5, dtype=dt)]),
    "dropout": (lambda a, out=None: nn.dropout(a[0], 0.5, 7, out=out), lambda dt: [_f(4, 5, dtype=dt)]),
}
NAMES = sorted(KERNELS)


def run(name, args, out=None):
    return KERNELS[name][0](args, out=out)


def fresh(name, dtype=np.float64):
    return [a.copy() for a in KERNELS[name][1](dtype)]


# ---- the same errors ----

@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("bad, exc, match", [
    (None, TypeError, "is None"),
    ([[1.0, 2.0], [3.0]], TypeError, "cannot be converted"),
    (np.ones((4, 5), np.complex128), TypeError, "complex"),
    (np.array([["a"] * 5] * 4), TypeError, "string"),
], ids=["None", "ragged", "complex", "str"])
def test_bad_operands_raise_typeerror_naming_the_problem(name, bad, exc, match):
    args = fresh(name)
    before = [a.copy() for a in args]
    args[0] = bad
    with pytest.raises(exc, match=match):
        run(name, args)
    for a, b in zip(args[1:], before[1:]):
        np.testing.assert_array_equal(a, b)  # inputs untouched


@pytest.mark.parametrize("name", NAMES)
def test_bad_out_is_refused_the_same_way(name):
    args = fresh(name)
    good = np.asarray(run(name, args))
    with pytest.raises(TypeError, match="out must be a numpy.ndarray"):
        run(name, args, out=good.tolist())
    with pytest.raises(ValueError, match="out has shape"):
        run(name, args, out=np.empty(good.shape + (2,), good.dtype))
    with pytest.raises(TypeError, match="out has dtype.*fastops does not cast"):
        run(name, args, out=np.empty(good.shape, np.float32))
    ro = np.zeros(good.shape, good.dtype)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        run(name, args, out=ro)
    np.testing.assert_array_equal(ro, 0)


# ---- one overlap rule: as if every input were read before out is written ----

def _overlap_views(buf, shape, pattern):
    n = int(np.prod(shape))
    if pattern == "exact":
        return buf[:n].reshape(shape)
    if pattern == "shifted":
        return buf[1:n + 1].reshape(shape)
    if pattern == "reversed":
        return buf[:n][::-1].reshape(shape)
    return buf[n // 2:n // 2 + n].reshape(shape)  # partial


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("pattern", ["exact", "shifted", "reversed", "partial"])
def test_out_overlapping_an_input_gives_the_as_if_copied_result(name, pattern):
    args = fresh(name)
    expected = np.array(run(name, [a.copy() for a in args]))
    for i, a in enumerate(args):
        if a.shape != expected.shape and not (pattern != "exact" and a.size >= expected.size):
            continue
        buf = np.zeros(2 * (a.size + expected.size) + 2)
        trial = [x.copy() for x in args]
        view = buf[:a.size].reshape(a.shape)
        view[...] = a
        trial[i] = view
        out = _overlap_views(buf, expected.shape, pattern)
        if not np.shares_memory(out, view):
            continue
        got = run(name, trial, out=out)
        assert got is out
        np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-15,
                                   err_msg=f"{name}: out {pattern}-overlapping argument {i}")


# ---- one dtype rule ----

@pytest.mark.parametrize("name", NAMES)
def test_float32_and_float64_stay_themselves(name):
    for dt in (np.float32, np.float64):
        assert np.asarray(run(name, fresh(name, dt))).dtype == dt


@pytest.mark.parametrize("name", NAMES)
def test_mixed_floats_promote_as_numpy(name):
    args = fresh(name, np.float32)
    args[-1] = args[-1].astype(np.float64)
    expected = np.result_type(*args)
    assert np.asarray(run(name, args)).dtype == expected


# ---- fuzz: random layouts and aliasing, every kernel, against its own copy-in result ----

@settings(max_examples=200, deadline=None, derandomize=True)
@given(name=st.sampled_from(NAMES), data=st.data())
def test_fuzz_layouts_and_aliasing(name, data):
    args = fresh(name)
    expected = np.array(run(name, [a.copy() for a in args]))
    trial = []
    for a in args:  # each input as a strided view: reversed, stepped or transposed twice
        kind = data.draw(st.sampled_from(["plain", "reversed", "stepped", "fortran"]))
        if kind == "reversed":
            a = a[::-1][::-1] if a.ndim else a
            b = np.empty_like(a)[::-1]
            b[...] = a[::-1]
            a = b[::-1]
        elif kind == "stepped":
            big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],) if a.ndim else (), a.dtype)
            v = big[..., ::2] if a.ndim else big
            v[...] = a
            a = v
        elif kind == "fortran" and a.ndim > 1:
            a = np.asfortranarray(a)
        trial.append(a)
    in_place = data.draw(st.integers(-1, len(trial) - 1))
    out = None
    if in_place >= 0 and trial[in_place].shape == expected.shape:
        out = trial[in_place]
    got = run(name, trial, out=out)
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-12, atol=1e-15)

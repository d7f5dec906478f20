"""Bad input gets a clear error; nothing is written where it should not be."""
import numpy as np
import pytest

import fastops

BINARY = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "bias_add", "bias_add_relu",
          "relu_backward"]


@pytest.mark.parametrize("name", ["bias_add", "bias_add_relu"])
def test_bias_must_match_the_last_axis(name):
    fn = getattr(fastops, name)
    for b in (np.ones((1, 3), np.float32), np.ones(4, np.float32), np.float32(1.0)):
        with pytest.raises(ValueError, match=r"x\.shape\[-1\] = 3"):
            fn(np.ones((2, 3), np.float32), b)


@pytest.mark.parametrize("name", [n for n in BINARY if not n.startswith("bias")])
def test_shape_mismatch_names_both_shapes(name):
    a, b = np.ones((2, 3), np.float32), np.ones((4,), np.float32)
    with pytest.raises(ValueError, match=r"\(2, 3\) \(4,\)"):
        getattr(fastops, name)(a, b)
    with pytest.raises(ValueError, match=r"\(2, 3\) \(4,\)"):  # general path too
        getattr(fastops, name)(a, b.astype(np.float64))


@pytest.mark.parametrize("name", BINARY)
def test_wrong_out(name):
    fn = getattr(fastops, name)
    a = np.ones((2, 3), np.float32)
    b = a[0] if name.startswith("bias") else a
    with pytest.raises(ValueError, match=r"out has shape \(3, 2\).*\(2, 3\)"):
        fn(a, b, out=np.empty((3, 2), np.float32))
    with pytest.raises(TypeError, match="out has dtype float64.*float32"):
        fn(a, b, out=np.empty((2, 3), np.float64))
    with pytest.raises(TypeError, match="out must be a numpy.ndarray, got list"):
        fn(a, b, out=[[0.0] * 3] * 2)
    ro = np.zeros((2, 3), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        fn(a, b, out=ro)
    np.testing.assert_array_equal(ro, 0)


def test_relu_wrong_out():
    with pytest.raises(ValueError, match="out has shape"):
        fastops.relu(np.ones(3, np.float32), out=np.empty(4, np.float32))
    with pytest.raises(TypeError, match="dtype"):
        fastops.relu(np.ones(3, np.float32), out=np.empty(3, np.int32))


def test_none_and_unconvertible_inputs():
    with pytest.raises(TypeError, match="argument b is None"):
        fastops.add(np.ones(3), None)
    with pytest.raises(TypeError, match="argument x"):
        fastops.relu(None)
    with pytest.raises(TypeError, match="argument a"):
        fastops.add([[1.0, 2.0], [3.0]], 1.0)  # ragged


def test_lists_and_scalars_accepted_like_numpy():
    np.testing.assert_array_equal(fastops.add([1.0, 2.0], [3.0, 4.0]), np.add([1.0, 2.0], [3.0, 4.0]))
    assert fastops.add(1.0, 2.0) == 3.0
    np.testing.assert_array_equal(fastops.relu([-1.0, 2.0]), np.maximum([-1.0, 2.0], 0))
    assert fastops.sum([1.0, 2.0, 3.5]) == 6.5


def test_inputs_never_modified_on_error():
    a = np.ones((2, 3), np.float32)
    b = np.full((4,), 2.0, np.float32)
    with pytest.raises(ValueError):
        fastops.add(a, b, out=a)
    np.testing.assert_array_equal(a, 1.0)
    np.testing.assert_array_equal(b, 2.0)


def test_settings_validate():
    with pytest.raises(ValueError, match="positive int"):
        fastops.set_num_threads(0)
    with pytest.raises(ValueError, match="positive int"):
        fastops.set_num_threads(1.5)
    with pytest.raises(ValueError, match="set_simd"):
        fastops.set_simd("sse9")
    with pytest.raises(ValueError, match="set_backend"):
        fastops.set_backend("cuda")


def test_simd_paths_are_switchable_and_restored():
    before = fastops.get_simd()
    with fastops.config_context(simd="portable", num_threads=1):
        assert fastops.get_simd() == "portable"
        assert fastops.get_simd("elementwise") == "portable"
        assert fastops.get_num_threads() == 1
    assert fastops.get_simd() == before
    if fastops.cpu_simd() != "portable":
        assert fastops.get_simd("elementwise") == "avx2"


def test_errors_name_the_parameter_they_are_about():
    with pytest.raises(TypeError, match="relu_backward: argument grad is None"):
        fastops.relu_backward(None, np.ones(2))
    with pytest.raises(TypeError, match="relu_backward: argument x has unsupported complex"):
        fastops.relu_backward(np.ones(2), 1j)
    with pytest.raises(ValueError, match="adam_update: step must be a positive int below"):
        fastops.nn.adam_update(np.ones(2), np.ones(2), np.zeros(2), np.zeros(2), 2**63)
    with pytest.raises(ValueError, match="get_simd: family must be"):
        fastops.get_simd("bad")
    with pytest.raises(ValueError, match="config_context: simd must be"):
        with fastops.config_context(simd="AVX2"):
            pass
    with pytest.raises(ValueError, match="config_context: backend must be"):
        with fastops.config_context(backend="numpy"):
            pass
    # float() parses strings: a hyperparameter given as text is refused, not converted
    with pytest.raises(TypeError, match="learning_rate must be a number, got '0.5'"):
        fastops.nn.sgd_update(np.ones(2), np.ones(2), learning_rate="0.5")


@pytest.mark.parametrize("impl", [fastops.sum, fastops.cython.sum])
def test_sum_takes_what_np_sum_takes(impl):
    m = np.asmatrix(np.arange(6.0).reshape(2, 3))  # handed to NumPy, without a keepdims
    np.testing.assert_array_equal(impl(m, axis=0), np.sum(m, axis=0))
    assert impl(m) == 15.0
    x0 = np.array(5.0)
    for kw in ({"keepdims": True}, {"axis": 0}, {"axis": -1}, {"axis": ()}):
        res, ref = impl(x0, **kw), np.sum(x0, **kw)
        assert type(res) is type(ref) and res == ref, kw
    for axis in (1, (0,)):  # NumPy's 0-d exception takes a bare 0 or -1 only
        with pytest.raises(np.exceptions.AxisError):
            impl(x0, axis=axis)
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(impl(x, axis=np.array(1)), np.sum(x, axis=np.array(1)))
    np.testing.assert_array_equal(impl(x, axis=(np.int8(0),)), np.sum(x, axis=(0,)))
    with pytest.raises(TypeError, match="axis must be"):
        impl(x, axis=True)
    with pytest.raises(TypeError, match="axis must be"):
        impl(x, axis=1.0)

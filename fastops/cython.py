"""The pure-Cython rung: the kernel API computed by typed Cython loops alone (no intrinsics,
no hand-written C), through the same checking layer as fastops' SIMD kernels, so every rung
follows the same NumPy semantics.  The middle of the ladder naive → Cython → SIMD C → BLAS;
`fastops.set_backend('cython')` makes it the matmul of the trainer.
"""
from . import _kernels

_TIER = 1  # TIER_CYTHON of src/elementwise.pxi


def relu(x, out=None):
    """out := max(x, 0), as fastops.relu."""
    return _kernels.relu_on_tier(x, out, _TIER)


def add(a, b, out=None):
    """out := a + b with broadcasting, as fastops.add."""
    return _kernels.binary_tier("add", a, b, out, _TIER)


def subtract(a, b, out=None):
    return _kernels.binary_tier("subtract", a, b, out, _TIER)


def multiply(a, b, out=None):
    return _kernels.binary_tier("multiply", a, b, out, _TIER)


def divide(a, b, out=None):
    return _kernels.binary_tier("divide", a, b, out, _TIER)


def maximum(a, b, out=None):
    """out := max(a, b) with broadcasting, as fastops.maximum."""
    return _kernels.binary_tier("maximum", a, b, out, _TIER)


def minimum(a, b, out=None):
    return _kernels.binary_tier("minimum", a, b, out, _TIER)


def relu_backward(grad, x, out=None):
    return _kernels.binary_tier("relu_backward", grad, x, out, _TIER)


def bias_add(x, b, out=None):
    return _kernels.binary_tier("bias_add", x, b, out, _TIER)


def bias_add_relu(x, b, out=None):
    """out := max(x + b, 0), as fastops.bias_add_relu."""
    return _kernels.binary_tier("bias_add_relu", x, b, out, _TIER)


def sum(x, axis=None, keepdims=False, out=None):
    """Sum over axes, accumulated in float64, as fastops.sum."""
    return _kernels.sum_on_tier(x, axis, keepdims, out, _TIER)


def matmul(a, b, out=None):
    """Matrix product with np.matmul's semantics on the Cython rung's blocked GEMM."""
    return _kernels.matmul(a, b, out=out, backend="cython")

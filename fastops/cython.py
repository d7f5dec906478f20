"""The pure-Cython rung: the kernel API computed by typed Cython loops alone (no intrinsics,
no hand-written C), through the same checking layer as fastops' SIMD kernels, so every rung
follows the same NumPy semantics.  The middle of the ladder naive -> Cython -> SIMD C -> BLAS;
`fastops.set_backend('cython')` makes it the matmul of the trainer.

The functions have the signatures of their fastops namesakes (fastops.add, ...).
"""
from . import _kernels

_TIER = 1  # TIER_CYTHON of src/elementwise.pxi
BINARY = ("add", "subtract", "multiply", "divide", "maximum", "minimum", "relu_backward",
          "bias_add", "bias_add_relu")


def _binary(name):
    def op(a, b, out=None):
        return _kernels.binary_tier(name, a, b, out, _TIER)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"fastops.{name} computed by the Cython rung."
    return op


(add, subtract, multiply, divide, maximum, minimum, relu_backward, bias_add,
 bias_add_relu) = (_binary(name) for name in BINARY)


def relu(x, out=None):
    """fastops.relu computed by the Cython rung."""
    return _kernels.relu_on_tier(x, out, _TIER)


def sum(x, axis=None, keepdims=False, out=None):
    """fastops.sum computed by the Cython rung (pairwise, in float64)."""
    return _kernels.sum_on_tier(x, axis, keepdims, out, _TIER)


def matmul(a, b, out=None):
    """fastops.matmul on the Cython rung's blocked GEMM (backend='cython')."""
    return _kernels.matmul(a, b, out=out, backend="cython")

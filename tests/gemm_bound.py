"""The error bound every GEMM of fastops is checked against (fastops.matmul on every SIMD path
and thread count, BLAS, the pure-Cython rung).

Each element must satisfy |C - C_exact| <= c * terms * u * (|alpha| |A| @ |B| + |beta| |C0|)
+ k * (smallest subnormal), u the unit roundoff of the dtype:
- terms = max(k, 1) for C = A @ B, the standard bound of a length-k dot product
  (gamma_k = k*u/(1 - k*u), with FMA or not, in any summation order); alpha and beta each add
  a rounding, so C = alpha A @ B + beta C0 has k + 2;
- c = C_BOUND = 2: a factor for gamma_k's denominator and the reference's own rounding (4
  where float64 data has no extended long double to compute the reference in);
- k * (smallest subnormal): the absolute error gradual underflow adds.
A fixed rtol would be wrong for large k.  C_exact is computed in float64 for float32 data and
in long double (x87 extended, where available) for float64 data.
"""
import numpy as np

C_BOUND = 2
UNIT_ROUNDOFF = {np.dtype(np.float32): 2.0**-24, np.dtype(np.float64): 2.0**-53}
EXTENDED = np.finfo(np.longdouble).eps < 2.0**-60


def reference(a, b, alpha=1.0, beta=0.0, c=None):
    """(C_exact, elementwise bound) of alpha * a @ b + beta * c (2-d, finite)."""
    dt = np.result_type(a, b)
    k = a.shape[-1]
    hi = np.longdouble if dt == np.float64 else np.float64
    exact = hi(alpha) * np.matmul(a.astype(hi), b.astype(hi))
    magnitude = abs(hi(alpha)) * np.matmul(np.abs(a).astype(hi), np.abs(b).astype(hi))
    if beta != 0:
        exact = exact + hi(beta) * c.astype(hi)
        magnitude = magnitude + abs(hi(beta)) * np.abs(c).astype(hi)
    factor = C_BOUND if (dt == np.float32 or EXTENDED) else 2 * C_BOUND
    terms = max(k, 1) if (alpha == 1 and beta == 0) else k + 2
    bound = factor * terms * UNIT_ROUNDOFF[dt] * magnitude
    return exact, bound + max(k, 1) * np.finfo(dt).smallest_subnormal


def assert_within(got, exact, bound):
    """AssertionError naming the worst element when any of `got` is beyond `bound`."""
    err = np.abs(got.astype(exact.dtype) - exact)
    bad = ~(err <= bound)
    if bad.any():
        i = np.unravel_index(np.argmax(np.where(bad, err, -1)), err.shape)
        raise AssertionError(f"{bad.sum()} elements beyond the bound; worst at {i}: "
                             f"got {got[i]}, exact {exact[i]}, bound {bound[i]}")

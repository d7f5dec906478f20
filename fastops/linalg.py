"""Matrix products with NumPy's semantics: `matmul` (np.matmul) and `dot` (np.dot).

Backends (argument `backend`, or the process default fastops.set_backend / config_context):
  'fastops'  fastops' own blocked GEMM (src/gemm_kernels.c): packed panels, an AVX2/AVX-512
             or portable micro-kernel picked at run time, OpenMP over fastops.get_num_threads();
  'blas'     ?gemm from scipy.linalg.cython_blas (scipy's OpenBLAS), no copy for transposed or
             Fortran-ordered operands (a copy only when neither stride of an operand is 1);
             dimensions beyond 2**31 - 1, which 32-bit BLAS cannot take, run on 'fastops';
  'naive'    the textbook triple loop of fastops.naive (pure Python; small inputs only).

Dtypes: float32 and float64 run on the backends; mixed inputs promote as NumPy does
(float32 with int64 gives float64).  Integer and bool products have no fastops kernel:
they are passed to np.matmul / np.dot as they are, whatever the backend.  Other dtypes
(complex, float16, longdouble, object, str, ...) raise TypeError.

Differences from NumPy: `out` must have exactly the result's dtype (NumPy would cast into
a wider one); a stack of matrices is multiplied one matrix at a time, each a separate kernel
call (about 1.5 us of overhead each).  The kernels run without the GIL.

Thread pools: the 'fastops' backend runs on libgomp (OpenMP) and the 'blas' backend on
scipy's OpenBLAS pthread pool; numpy has a third (its own OpenBLAS).  Each pool spins for a
while after a call, so alternating two multithreaded pools on the same cores makes both slow
(2.3x measured on 2 cores).  Pick one backend for a workload; if you must mix, cap the pool you
are not using, e.g.
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1, user_api="blas"):   # BLAS single-threaded
        ... fastops.matmul(...) ...
or fastops.set_num_threads(1) while BLAS runs threaded.  threadpoolctl also sees fastops'
libgomp (user_api="openmp").
"""
import numpy as np

from . import _config, _matmul, naive

_SUPPORTED = "float32, float64 (integer and bool inputs are passed to NumPy)"
_BLAS_INT_MAX = 2**31 - 1


def _as_array(x, fname, name):
    if isinstance(x, np.ndarray):
        return x
    try:
        return np.asarray(x)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{fname}: {name} cannot be converted to an array: {e}") from None


def _result_dtype(a, b, fname):
    """The float dtype of the product, or None for integer/bool products (NumPy's job)."""
    for x, name in ((a, "a"), (b, "b")):
        if x.dtype.kind not in "biuf":
            raise TypeError(f"{fname}: {name} has dtype {x.dtype}; supported: {_SUPPORTED}")
    dt = np.result_type(a.dtype, b.dtype)
    if dt.kind in "biu":
        return None
    if dt.type not in (np.float32, np.float64):
        raise TypeError(f"{fname}: the product would have dtype {dt}; supported: {_SUPPORTED}")
    return np.dtype(dt.type)  # native byte order


def _resolve_backend(backend, fname):
    if backend is None:
        return _config.get_backend()
    if backend not in _config.BACKENDS:
        raise ValueError(f"{fname}: backend must be None or one of {_config.BACKENDS}, "
                         f"got {backend!r}")
    return backend


def _kernel_ready(x, dt):
    """x as dtype dt with strides the kernels can index (copies only when needed)."""
    if x.dtype != dt:
        x = x.astype(dt)
    if not x.flags.aligned or any(s % x.itemsize for s in x.strides):
        x = np.ascontiguousarray(x)
    return x


def _check_out(out, shape, dt, fname):
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{fname}: out must be a numpy.ndarray, got {type(out).__name__}")
    if out.shape != shape:
        raise ValueError(f"{fname}: out has shape {out.shape}, the result has shape {shape}")
    if out.dtype != dt:
        raise TypeError(f"{fname}: out has dtype {out.dtype}, the result has dtype {dt}")
    if not out.flags.writeable:
        raise ValueError(f"{fname}: out is read-only")


def _blas_c_ok(c):
    return _matmul.blas_layout_ok(c) and (c.shape[1] == 1 or c.strides[1] == c.itemsize)


def _blas_2d(a, b, c):
    """c := a @ b through BLAS, reading a, b (and writing c) in place whenever BLAS can."""
    m, k = a.shape
    n = b.shape[1]
    if m == 0 or n == 0:
        return
    if k == 0:
        c[...] = 0
        return
    if max(m, n, k) > _BLAS_INT_MAX:  # scipy's BLAS takes 32-bit dimensions
        _matmul.gemm(a, b, c)
        return
    if not _blas_c_ok(c):
        if _blas_c_ok(c.T):
            _blas_2d(b.T, a.T, c.T)  # column-major c: C^T = B^T A^T
        else:
            tmp = np.empty((m, n), c.dtype)
            _blas_2d(a, b, tmp)
            c[...] = tmp
        return
    if not _matmul.blas_layout_ok(a):
        a = np.ascontiguousarray(a)
    if not _matmul.blas_layout_ok(b):
        b = np.ascontiguousarray(b)
    _matmul.blas_gemm(a, b, c)


def _naive_2d(a, b, c):
    c[...] = naive.matmul(a, b)


def _product(a, b, out, backend, fname):
    """matmul's core for >= 1-d float operands; fname names the caller in errors."""
    backend = _resolve_backend(backend, fname)
    dt = _result_dtype(a, b, fname)
    a2 = a[np.newaxis, :] if a.ndim == 1 else a
    b2 = b[:, np.newaxis] if b.ndim == 1 else b
    if a2.shape[-1] != b2.shape[-2]:
        raise ValueError(f"{fname}: inner dimensions differ: a has shape {a.shape} and b has "
                         f"shape {b.shape} ({a2.shape[-1]} != {b2.shape[-2]})")
    try:
        batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    except ValueError:
        raise ValueError(f"{fname}: stack dimensions of a {a.shape} and b {b.shape} do not "
                         f"broadcast") from None
    m, n = a2.shape[-2], b2.shape[-1]
    shape = batch + ((m,) if a.ndim > 1 else ()) + ((n,) if b.ndim > 1 else ())
    if dt is None:  # integer or bool product: NumPy (see module docstring)
        return np.matmul(a, b, out=out)
    a2, b2 = _kernel_ready(a2, dt), _kernel_ready(b2, dt)
    if out is None:
        c = result = np.empty(shape, dt)
    else:
        _check_out(out, shape, dt, fname)
        result = out
        if (np.may_share_memory(out, a2) or np.may_share_memory(out, b2)
                or not out.flags.aligned or any(s % out.itemsize for s in out.strides)):
            c = np.empty(shape, dt)  # the product must see the inputs as they were
        else:
            c = out
    c2 = c
    if a.ndim == 1:
        c2 = c2[..., np.newaxis, :] if b.ndim > 1 else c2[..., np.newaxis]
    if b.ndim == 1:
        c2 = c2[..., np.newaxis]
    gemm2d = {"fastops": _matmul.gemm, "blas": _blas_2d, "naive": _naive_2d}[backend]
    if not batch:
        gemm2d(a2, b2, c2)
    else:
        a3 = np.broadcast_to(a2, batch + a2.shape[-2:])
        b3 = np.broadcast_to(b2, batch + b2.shape[-2:])
        for idx in np.ndindex(*batch):
            gemm2d(a3[idx], b3[idx], c2[idx])
    if c is not result:
        result[...] = c
    if out is None and result.ndim == 0:
        return result[()]  # vector . vector is a scalar, as in NumPy
    return result


def matmul(a, b, out=None, backend=None):
    """Matrix product with np.matmul's semantics.

    Args:
        a, b: arrays of at least 1 dimension.  1-d operands are vectors (a row on the
            left, a column on the right, dropped from the result); more than 2 dimensions
            are stacks of matrices broadcast against each other.
        out: optional array for the result, with exactly its shape and dtype; it may
            overlap a or b (the result is then as if it did not).
        backend: None (the process default, fastops.get_backend()), 'fastops', 'blas'
            or 'naive'.

    Returns:
        The product (a scalar for vector . vector), or `out`.

    Example:
        >>> fastops.matmul(np.ones((2, 3), np.float32), np.ones(3, np.float32))
        array([3., 3.], dtype=float32)
    """
    if backend is None:
        backend = _config.get_backend()
    if backend == "fastops" or backend == "blas":
        result = _matmul.fast_matmul(a, b, out, backend == "blas")
        if result is not None:
            return result
    a = _as_array(a, "matmul", "a")
    b = _as_array(b, "matmul", "b")
    for x, name in ((a, "a"), (b, "b")):
        if x.ndim == 0:
            raise ValueError(f"matmul: {name} is 0-d (shape ()); matmul needs at least 1 "
                             f"dimension (use multiply for scalars)")
    return _product(a, b, out, backend, "matmul")


def dot(a, b, out=None):
    """Dot product with np.dot's semantics, on the process default backend.

    0-d operand: elementwise product.  1-d . 1-d: inner product (a scalar).  2-d and
    1-d operands: matrix products as matmul.  N-d: sum over the last axis of a and the
    second-to-last of b, result shape a.shape[:-1] + b.shape[:-2] + b.shape[-1:].
    """
    a = _as_array(a, "dot", "a")
    b = _as_array(b, "dot", "b")
    if a.ndim == 0 or b.ndim == 0:
        _result_dtype(a, b, "dot")
        return np.multiply(a, b, out=out)
    if a.ndim <= 2 and b.ndim <= 2:
        return _product(a, b, out, None, "dot")
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if a.shape[-1] != k_b:
        raise ValueError(f"dot: inner dimensions differ: a has shape {a.shape} and b has "
                         f"shape {b.shape} ({a.shape[-1]} != {k_b})")
    shape = a.shape[:-1] + (b.shape[:-2] + b.shape[-1:] if b.ndim > 1 else ())
    b2 = b if b.ndim == 1 else np.moveaxis(b, -2, 0).reshape(k_b, -1)
    res = _product(a.reshape(-1, a.shape[-1]), b2, None, None, "dot").reshape(shape)
    if out is None:
        return res
    _check_out(out, shape, res.dtype, "dot")
    out[...] = res
    return out

# Matrix products with NumPy's semantics (matmul as np.matmul, dot as np.dot) on a choice of
# backends.  Included by _kernels.pyx.
#
# BACKENDS maps each name to the typed entry that multiplies one 2-d pair:
#   entry(a, b, c, isa, nthreads)  c := a @ b
# with a (m, k), b (k, n), c (m, n) native aligned arrays of one float dtype, strides in whole
# elements, c writeable and not overlapping a or b, m, n, k >= 0.  The checking layer below
# guarantees that, resolves 'auto', walks stacks of matrices, and handles out and overlap.
# Tests observe which backend ran by wrapping an entry of this table.
from cpython.pycapsule cimport PyCapsule_GetName, PyCapsule_GetPointer

BACKEND_NAMES = ("fastops", "blas", "naive", "cython", "auto")
_BLAS_INT_MAX = 2**31 - 1


def _gemm_fastops(cnp.ndarray a, cnp.ndarray b, cnp.ndarray c, int isa, int nthreads,
                  double alpha=1.0, double beta=0.0):
    """fastops' packed GEMM (src/fo_gemm.c): c := alpha * a @ b + beta * c."""
    cdef fo_idx m = cnp.PyArray_DIM(a, 0), k = cnp.PyArray_DIM(a, 1), n = cnp.PyArray_DIM(b, 1)
    cdef fo_idx isz = cnp.PyArray_ITEMSIZE(c)
    cdef fo_idx rsa = cnp.PyArray_STRIDE(a, 0) // isz, csa = cnp.PyArray_STRIDE(a, 1) // isz
    cdef fo_idx rsb = cnp.PyArray_STRIDE(b, 0) // isz, csb = cnp.PyArray_STRIDE(b, 1) // isz
    cdef fo_idx rsc = cnp.PyArray_STRIDE(c, 0) // isz, csc = cnp.PyArray_STRIDE(c, 1) // isz
    cdef int rc
    if cnp.PyArray_TYPE(c) == cnp.NPY_FLOAT32:
        with nogil:
            rc = fo_gemm_f32(isa, nthreads, m, n, k, <float>alpha,
                             <const float *>cnp.PyArray_DATA(a), rsa, csa,
                             <const float *>cnp.PyArray_DATA(b), rsb, csb, <float>beta,
                             <float *>cnp.PyArray_DATA(c), rsc, csc)
    else:
        with nogil:
            rc = fo_gemm_f64(isa, nthreads, m, n, k, alpha, <const double *>cnp.PyArray_DATA(a),
                             rsa, csa, <const double *>cnp.PyArray_DATA(b), rsb, csb, beta,
                             <double *>cnp.PyArray_DATA(c), rsc, csc)
    if rc != 0:
        raise MemoryError(f"matmul: cannot allocate packing buffers for ({m},{k}) x ({k},{n})")


def gemm_blocking(int isa, bint is_double):
    """(MR, NR, MC, KC, NC, SUP_MAX, SUP_MR, SUP_NR) of fastops' GEMM at `isa`."""
    cdef fo_idx out[8]
    fo_gemm_blocking(isa, is_double, out)
    return tuple([out[i] for i in range(8)])


# ---- BLAS: scipy's ?gemm through cython_blas' exported capsules (scipy needed at run time,
# not to build).  BLAS is column-major: a row-major C = A.B is the column-major C^T = B^T.A^T,
# so ?gemm gets (B, A).  A row-major matrix with unit column stride read as column-major is
# its own transpose ('N'); one with unit row stride is read as-is and needs 'T'.  No copies.

ctypedef void (*sgemm_fn)(char *transa, char *transb, int *m, int *n, int *k, float *alpha,
                          float *a, int *lda, float *b, int *ldb, float *beta, float *c,
                          int *ldc) noexcept nogil
ctypedef void (*dgemm_fn)(char *transa, char *transb, int *m, int *n, int *k, double *alpha,
                          double *a, int *lda, double *b, int *ldb, double *beta, double *c,
                          int *ldc) noexcept nogil
cdef sgemm_fn blas_sgemm = NULL
cdef dgemm_fn blas_dgemm = NULL


cdef int load_blas() except -1:
    global blas_sgemm, blas_dgemm
    if blas_sgemm != NULL:
        return 0
    from scipy.linalg import cython_blas
    from fastops import _blas_threads
    _blas_threads.install()  # SciPy's OpenBLAS, loaded just now: its jobs on fastops' pool
    for name in ("sgemm", "dgemm"):
        capsule = cython_blas.__pyx_capi__[name]
        ptr = PyCapsule_GetPointer(capsule, PyCapsule_GetName(capsule))
        if name == "sgemm":
            blas_sgemm = <sgemm_fn>ptr
        else:
            blas_dgemm = <dgemm_fn>ptr
    return 0


cdef bint blas_layout(fo_idx rows, fo_idx cols, fo_idx rs, fo_idx cs, char *trans,
                      int *ld) noexcept:
    """Set trans/ld so that op(X as column-major, ld) is X^T; False if BLAS cannot."""
    if rs > _BLAS_INT_MAX or cs > _BLAS_INT_MAX or rows > _BLAS_INT_MAX or cols > _BLAS_INT_MAX:
        return False  # BLAS (LP64) takes 32-bit ints
    if (cs == 1 or cols == 1) and (rows == 1 or rs >= cols) and rs >= 0:
        trans[0] = b'N'
        ld[0] = <int>(rs if rows > 1 else (cols if cols > 1 else 1))
        return ld[0] >= (cols if cols > 1 else 1)
    if (rs == 1 or rows == 1) and (cols == 1 or cs >= rows) and cs >= 0:
        trans[0] = b'T'
        ld[0] = <int>(cs if cols > 1 else (rows if rows > 1 else 1))
        return ld[0] >= (rows if rows > 1 else 1)
    return False


cdef bint blas_readable(cnp.ndarray x, char *trans, int *ld) noexcept:
    cdef fo_idx isz = cnp.PyArray_ITEMSIZE(x)
    return blas_layout(cnp.PyArray_DIM(x, 0), cnp.PyArray_DIM(x, 1),
                       cnp.PyArray_STRIDE(x, 0) // isz, cnp.PyArray_STRIDE(x, 1) // isz, trans, ld)


def _gemm_blas(cnp.ndarray a, cnp.ndarray b, cnp.ndarray c, int isa, int nthreads):
    """?gemm of scipy's BLAS (its own thread count, set by threadpoolctl); operands BLAS
    cannot read in place are copied, and sizes beyond 32-bit BLAS run on fastops."""
    cdef int m = <int>min(cnp.PyArray_DIM(a, 0), _BLAS_INT_MAX)
    cdef int k = <int>min(cnp.PyArray_DIM(a, 1), _BLAS_INT_MAX)
    cdef int n = <int>min(cnp.PyArray_DIM(b, 1), _BLAS_INT_MAX)
    cdef char ta, tb, tc
    cdef int lda, ldb, ldc
    cdef float salpha = 1.0, sbeta = 0.0
    cdef double dalpha = 1.0, dbeta = 0.0
    if cnp.PyArray_DIM(c, 0) == 0 or cnp.PyArray_DIM(c, 1) == 0:
        return
    if cnp.PyArray_DIM(a, 1) == 0:
        c[...] = 0
        return
    if max(cnp.PyArray_DIM(a, 0), cnp.PyArray_DIM(a, 1), cnp.PyArray_DIM(b, 1)) > _BLAS_INT_MAX:
        _gemm_fastops(a, b, c, isa, nthreads)
        return
    if not (blas_readable(c, &tc, &ldc) and tc == b'N'):
        if blas_readable(c.T, &tc, &ldc) and tc == b'N':
            _gemm_blas(b.T, a.T, c.T, isa, nthreads)  # column-major c: C^T = B^T A^T
        else:
            tmp = np.empty((m, n), c.dtype)
            _gemm_blas(a, b, tmp, isa, nthreads)
            c[...] = tmp
        return
    if not blas_readable(a, &ta, &lda):
        a = np.ascontiguousarray(a)
        blas_readable(a, &ta, &lda)
    if not blas_readable(b, &tb, &ldb):
        b = np.ascontiguousarray(b)
        blas_readable(b, &tb, &ldb)
    load_blas()
    if cnp.PyArray_TYPE(c) == cnp.NPY_FLOAT32:
        with nogil:
            blas_sgemm(&tb, &ta, &n, &m, &k, &salpha, <float *>cnp.PyArray_DATA(b), &ldb,
                       <float *>cnp.PyArray_DATA(a), &lda, &sbeta,
                       <float *>cnp.PyArray_DATA(c), &ldc)
    else:
        with nogil:
            blas_dgemm(&tb, &ta, &n, &m, &k, &dalpha, <double *>cnp.PyArray_DATA(b), &ldb,
                       <double *>cnp.PyArray_DATA(a), &lda, &dbeta,
                       <double *>cnp.PyArray_DATA(c), &ldc)


def _gemm_naive(a, b, c, int isa, int nthreads):
    """The textbook triple loop of fastops.naive (pure Python; small inputs only)."""
    from fastops import naive
    c[...] = naive.matmul(a, b)


def _gemm_cython(a, b, c, int isa, int nthreads):
    """The pure-Cython rung's blocked GEMM."""
    cython_rung(isa).gemm(a, b, c, 1.0, 0.0, cython_threads(nthreads))


BACKENDS = {"fastops": _gemm_fastops, "blas": _gemm_blas, "naive": _gemm_naive,
            "cython": _gemm_cython}


def auto_backend(int isa, object dtype):
    """The backend 'auto' runs: fastops' GEMM where its kernel for this ISA was measured at
    least as fast as BLAS (AVX2, AVX-512), BLAS elsewhere (the portable kernel reaches a third
    of OpenBLAS; NEON is not measured yet, docs/aarch64.md)."""
    return "fastops" if fo_gemm_beats_blas(isa, np.dtype(dtype) == np.float64) else "blas"


cdef str resolve_backend(object backend, int isa, object dtype, str fn):
    cdef Config cfg
    if backend is None:
        cfg = current_config()
        name = BACKEND_NAMES[cfg.backend]
    elif backend in BACKEND_NAMES:
        name = backend
    else:
        raise ValueError(f"{fn}: backend must be None or one of {BACKEND_NAMES}, got {backend!r}")
    if name == "auto":
        name = auto_backend(isa, dtype)
    return name


# ---- the checking layer's part for products ----

cdef object product_dtype(object a, object b, str fn):
    """The float dtype of the product, or None when NumPy computes it (bool, integers,
    float16, longdouble)."""
    dt = np.result_type(a.dtype, b.dtype)
    if dt.type in (np.float32, np.float64):
        return np.dtype(dt.type)  # native byte order
    return None


cdef cnp.ndarray gemm_ready(cnp.ndarray x, object dt):
    """x as dtype dt with strides the kernels can index (copies only when needed)."""
    x = kernel_ready(x, dt)
    cdef int d
    cdef fo_idx isz = cnp.PyArray_ITEMSIZE(x)
    for d in range(cnp.PyArray_NDIM(x)):
        if cnp.PyArray_STRIDE(x, d) % isz:
            return np.ascontiguousarray(x)
    return x


cdef object product(object a, object b, object out, object backend, str fn):
    """matmul's core for >= 1-d operands."""
    cdef Config cfg = current_config()
    cdef int status = 0
    dt = product_dtype(a, b, fn)
    if dt is None:  # NumPy's dtypes (see the module docstring): NumPy computes
        return np.matmul(a, b, out=out) if out is not None else np.matmul(a, b)
    name = resolve_backend(backend, cfg.isa, dt, fn)
    entry = BACKENDS[name]
    a2 = a[np.newaxis, :] if a.ndim == 1 else a
    b2 = b[:, np.newaxis] if b.ndim == 1 else b
    if a2.shape[-1] != b2.shape[-2]:
        raise ValueError(f"{fn}: inner dimensions differ: a has shape {a.shape} and b has "
                         f"shape {b.shape} ({a2.shape[-1]} != {b2.shape[-2]})")
    batch = stack_shape(a2.shape[:-2], b2.shape[:-2])
    if batch is None:
        raise ValueError(f"{fn}: stack dimensions of a {a.shape} and b {b.shape} do not "
                         f"broadcast")
    m, n = a2.shape[-2], b2.shape[-1]
    shape = batch + ((m,) if a.ndim > 1 else ()) + ((n,) if b.ndim > 1 else ())
    a2, b2 = gemm_ready(a2, dt), gemm_ready(b2, dt)
    if out is None:
        c = result = np.empty(shape, dt)
    else:
        result = check_out_shape(out, shape, dt, fn)
        if (overlaps(result, a2) or overlaps(result, b2) or not result.flags.aligned
                or any(s % result.itemsize for s in result.strides)):
            c = np.empty(shape, dt)  # the product must see the inputs as they were
        else:
            c = result
    c2 = c
    if a.ndim == 1:
        c2 = c2[..., np.newaxis, :] if b.ndim > 1 else c2[..., np.newaxis]
    if b.ndim == 1:
        c2 = c2[..., np.newaxis]
    fo_fp_clear()
    if not batch:
        entry(a2, b2, c2, cfg.isa, cfg.nthreads)
    else:
        for idx in _stack_indices(batch):
            entry(a2[stack_index(idx, a2.shape)], b2[stack_index(idx, b2.shape)], c2[idx],
                  cfg.isa, cfg.nthreads)
    status = fo_fp_status() & (FO_FE_OVERFLOW | FO_FE_INVALID | FO_FE_DIVBYZERO)
    # Zero-padded edge tiles can raise a flag for products that are then discarded: a real
    # overflow or invalid operation always leaves a non-finite value in the result.
    if status and not all_finite(c):
        check_fp(status, fn)
    if c is not result:
        result[...] = c
    if out is None and result.ndim == 0:
        return result[()]  # vector . vector is a scalar, as in NumPy
    return result


cdef object stack_shape(tuple sa, tuple sb):
    """The broadcast of two stack shapes, or None (np.broadcast_shapes stops at 32 dims)."""
    nd = max(len(sa), len(sb))
    sa = (1,) * (nd - len(sa)) + sa
    sb = (1,) * (nd - len(sb)) + sb
    out = []
    for x, y in zip(sa, sb):
        if x != y and x != 1 and y != 1:
            return None
        out.append(y if x == 1 else x)
    return tuple(out)


cdef tuple stack_index(tuple idx, tuple shape):
    """The matrix of an operand of `shape` at stack index idx (broadcast axes read 0)."""
    nd = len(shape) - 2
    return tuple([0 if n == 1 else i for i, n in zip(idx[len(idx) - nd:], shape[:nd])])


def _stack_indices(batch):
    """Every index of a stack shape, C order (np.ndindex is limited to 32 dimensions)."""
    if 0 in batch:
        return
    idx = [0] * len(batch)
    while True:
        yield tuple(idx)
        d = len(batch) - 1
        while d >= 0:
            idx[d] += 1
            if idx[d] < batch[d]:
                break
            idx[d] = 0
            d -= 1
        if d < 0:
            return


cdef cnp.ndarray check_out_shape(object out, tuple shape, object dt, str fn):
    cdef cnp.npy_intp dims[FO_MAX_NDIM]
    cdef int d
    for d in range(len(shape)):
        dims[d] = shape[d]
    return check_out(out, len(shape), dims, np.dtype(dt).num, fn)


cdef object product_operand(object x, str fn, str arg):
    arr = as_operand(x, fn, arg)
    if type(arr) is float or type(arr) is int:
        arr = np.asarray(arr)
    return arr


def matmul(a, b, out=None, backend=None):
    """Matrix product with np.matmul's semantics.

    Args:
        a, b: arrays of at least 1 dimension.  1-d operands are vectors (a row on the left,
            a column on the right, dropped from the result); more than 2 dimensions are
            stacks of matrices broadcast against each other.
        out: optional array for the result, with exactly its shape and dtype; it may overlap
            a or b (the result is then as if it did not).
        backend: None (the setting: fastops.get_backend()), 'auto', 'fastops', 'blas',
            'naive' or 'cython'.

    Returns:
        The product (a scalar for vector . vector), or `out`.

    Example:
        >>> fastops.matmul(np.ones((2, 3), np.float32), np.ones(3, np.float32))
        array([3., 3.], dtype=float32)
    """
    cdef int code
    if cnp.PyArray_CheckExact(a) and cnp.PyArray_CheckExact(b) and out is None \
            and cnp.PyArray_NDIM(a) == 2 and cnp.PyArray_NDIM(b) == 2:
        code = dtype_code(a)
        if code >= 0 and dtype_code(b) == code and cnp.PyArray_TYPE(a) == cnp.PyArray_TYPE(b):
            return product(a, b, None, backend, "matmul")
    if is_dask(a) or is_dask(b):
        return dask_dispatch("matmul", a, b, out=out, backend=backend)
    if is_foreign(a) or is_foreign(b):
        return np.matmul(a, b, out=out) if out is not None else np.matmul(a, b)
    xa = product_operand(a, "matmul", "a")
    xb = product_operand(b, "matmul", "b")
    for x, name in ((xa, "a"), (xb, "b")):
        if x.ndim == 0:
            raise ValueError(f"matmul: {name} is 0-d (shape ()); matmul needs at least 1 "
                             f"dimension (use multiply for scalars)")
    return product(xa, xb, out, backend, "matmul")


def dot(a, b, out=None, backend=None):
    """Dot product with np.dot's semantics.

    0-d operand: elementwise product.  1-d . 1-d: inner product (a scalar).  2-d and 1-d
    operands: matrix products as matmul.  N-d: sum over the last axis of a and the
    second-to-last of b, result shape a.shape[:-1] + b.shape[:-2] + b.shape[-1:].
    `backend` as for matmul.
    """
    if is_dask(a) or is_dask(b):
        return dask_dispatch("dot", a, b, out=out, backend=backend)
    if is_foreign(a) or is_foreign(b):
        return np.dot(a, b, out=out) if out is not None else np.dot(a, b)
    xa = product_operand(a, "dot", "a")
    xb = product_operand(b, "dot", "b")
    if xa.ndim == 0 or xb.ndim == 0:
        return binary(FO_MULTIPLY, xa, xb, out, "dot", TIER_FASTOPS)
    if xa.ndim <= 2 and xb.ndim <= 2:
        return product(xa, xb, out, backend, "dot")
    k_b = xb.shape[0] if xb.ndim == 1 else xb.shape[-2]
    if xa.shape[-1] != k_b:
        raise ValueError(f"dot: inner dimensions differ: a has shape {xa.shape} and b has "
                         f"shape {xb.shape} ({xa.shape[-1]} != {k_b})")
    shape = xa.shape[:-1] + (xb.shape[:-2] + xb.shape[-1:] if xb.ndim > 1 else ())
    # N-d as one 2-d product; reshape with explicit sizes (-1 is ambiguous for empty axes)
    rows = int(np.prod(xa.shape[:-1]))
    cols = int(np.prod(xb.shape[:-2] + xb.shape[-1:])) if xb.ndim > 1 else None
    b2 = xb if xb.ndim == 1 else np.moveaxis(xb, -2, 0).reshape(k_b, cols)
    res = np.asarray(product(xa.reshape(rows, xa.shape[-1]), b2, None, backend, "dot"))
    res = res.reshape(shape)
    if out is None:
        return res if shape else res[()]
    result = check_out_shape(out, shape, res.dtype, "dot")
    result[...] = res
    return result

# The backends of the matrix products (linalg.pxi) and the choice among them.  Included by
# _kernels.pyx before linalg.pxi.
#
# BACKENDS maps each name to the typed entry that multiplies one 2-d pair:
#   entry(a, b, c, isa, nthreads)  c := a @ b
# with a (m, k), b (k, n), c (m, n) native aligned arrays of one float dtype, strides in whole
# elements, c writeable and not overlapping a or b, m, n, k >= 0.  The checking layer
# (linalg.pxi) guarantees that, walks stacks of matrices, and handles out and overlap;
# resolve_backend below resolves 'auto'.
# Tests observe which backend ran by wrapping an entry of this table.
from cpython.pycapsule cimport PyCapsule_GetName, PyCapsule_GetPointer

BACKEND_NAMES = ("fastops", "blas", "naive", "cython", "auto")
_BLAS_INT_MAX = 2**31 - 1


cdef struct GemmOperands:
    fo_idx m, n, k, rsa, csa, rsb, csb, rsc, csc


cdef GemmOperands gemm_operands(cnp.ndarray a, cnp.ndarray b, cnp.ndarray c):
    """The sizes and element strides of c := a @ b, as fo_gemm takes them."""
    cdef fo_idx isz = cnp.PyArray_ITEMSIZE(c)
    return GemmOperands(
        cnp.PyArray_DIM(a, 0), cnp.PyArray_DIM(b, 1), cnp.PyArray_DIM(a, 1),
        cnp.PyArray_STRIDE(a, 0) // isz, cnp.PyArray_STRIDE(a, 1) // isz,
        cnp.PyArray_STRIDE(b, 0) // isz, cnp.PyArray_STRIDE(b, 1) // isz,
        cnp.PyArray_STRIDE(c, 0) // isz, cnp.PyArray_STRIDE(c, 1) // isz)


def _gemm_fastops(cnp.ndarray a, cnp.ndarray b, cnp.ndarray c, int isa, int nthreads,
                  double alpha=1.0, double beta=0.0):
    """fastops' packed GEMM (src/fo_gemm.c): c := alpha * a @ b + beta * c."""
    cdef GemmOperands g = gemm_operands(a, b, c)
    cdef int rc
    if cnp.PyArray_TYPE(c) == cnp.NPY_FLOAT32:
        with nogil:
            rc = fo_gemm_f32(isa, nthreads, g.m, g.n, g.k, <float>alpha,
                             <const float *>cnp.PyArray_DATA(a), g.rsa, g.csa,
                             <const float *>cnp.PyArray_DATA(b), g.rsb, g.csb, <float>beta,
                             <float *>cnp.PyArray_DATA(c), g.rsc, g.csc)
    else:
        with nogil:
            rc = fo_gemm_f64(isa, nthreads, g.m, g.n, g.k, alpha,
                             <const double *>cnp.PyArray_DATA(a), g.rsa, g.csa,
                             <const double *>cnp.PyArray_DATA(b), g.rsb, g.csb, beta,
                             <double *>cnp.PyArray_DATA(c), g.rsc, g.csc)
    if rc != 0:
        raise MemoryError(f"matmul: cannot allocate packing buffers for ({g.m},{g.k}) x "
                          f"({g.k},{g.n})")


def gemm_blocking(int isa, bint is_double):
    """(MR, NR, MC, KC, NC, SUP_MAX, SUP_MR, SUP_NR) of fastops' GEMM at `isa`."""
    cdef fo_idx out[8]
    fo_gemm_blocking(isa, is_double, out)
    return tuple([out[i] for i in range(8)])


GEMM_PATHS = {FO_PATH_BLOCKED: "blocked", FO_PATH_SUP: "sup", FO_PATH_SUPM: "supm",
              FO_PATH_DOT: "dot", FO_PATH_SMALL: "small", FO_PATH_GEMV: "gemv"}


def gemm_path(cnp.ndarray a, cnp.ndarray b, cnp.ndarray c, int isa, int nthreads):
    """(path, threads) that BACKENDS["fastops"](a, b, c, isa, nthreads) takes: path one of
    GEMM_PATHS' names, or None when there is nothing to multiply.  Tests check the choice
    with it: every path sums in the same order, so results cannot tell them apart."""
    cdef GemmOperands g = gemm_operands(a, b, c)
    cdef int threads = 0
    cdef int path = fo_gemm_path(isa, cnp.PyArray_TYPE(c) == cnp.NPY_FLOAT64, nthreads, g.m,
                                 g.n, g.k, g.rsa, g.csa, g.rsb, g.csb, g.rsc, g.csc, &threads)
    return (GEMM_PATHS[path] if path >= 0 else None), threads


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
    return auto_name(isa, np.dtype(dtype) == np.float64)


cdef inline str auto_name(int isa, bint is_double):
    return "fastops" if fo_gemm_beats_blas(isa, is_double) else "blas"


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
        return auto_name(isa, (<cnp.dtype>dtype).type_num == cnp.NPY_FLOAT64)
    return name

# cython: language_level=3
"""Typed GEMM entry points: fastops' own kernels (src/gemm_kernels.c) and BLAS.

The callers (fastops/linalg.py) validate shapes and dtypes and allocate; these
functions only read data pointers and strides from 2-d ndarrays of one float dtype
and run C := alpha * A.B + beta * C without the GIL.
"""
import sys

import numpy as np

cimport numpy as cnp
from cpython.pycapsule cimport PyCapsule_GetName, PyCapsule_GetPointer

from fo_arrays cimport arrays_overlap

cnp.import_array()

# BLAS ?gemm from scipy.linalg.cython_blas, looked up at import through the module's
# exported C API (its __pyx_capi__ capsules) rather than cimported: the same function
# pointers, but scipy is then needed at run time only, not in the build environment.
ctypedef void (*sgemm_fn)(char *transa, char *transb, int *m, int *n, int *k, float *alpha,
                          float *a, int *lda, float *b, int *ldb, float *beta, float *c,
                          int *ldc) noexcept nogil
ctypedef void (*dgemm_fn)(char *transa, char *transb, int *m, int *n, int *k, double *alpha,
                          double *a, int *lda, double *b, int *ldb, double *beta, double *c,
                          int *ldc) noexcept nogil
cdef sgemm_fn blas_sgemm
cdef dgemm_fn blas_dgemm


cdef void *_scipy_blas_function(str name) except NULL:
    from scipy.linalg import cython_blas
    capsule = cython_blas.__pyx_capi__[name]
    return PyCapsule_GetPointer(capsule, PyCapsule_GetName(capsule))


blas_sgemm = <sgemm_fn>_scipy_blas_function("sgemm")
blas_dgemm = <dgemm_fn>_scipy_blas_function("dgemm")


cdef extern from "fo_cpu.h":
    int fo_cpu_level() noexcept nogil


cdef extern from "gemm_kernels.h":
    int fo_sgemm(int isa, int nthreads, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                 float alpha, const float *a, Py_ssize_t rsa, Py_ssize_t csa,
                 const float *b, Py_ssize_t rsb, Py_ssize_t csb,
                 float beta, float *c, Py_ssize_t rsc, Py_ssize_t csc) noexcept nogil
    int fo_dgemm(int isa, int nthreads, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                 double alpha, const double *a, Py_ssize_t rsa, Py_ssize_t csa,
                 const double *b, Py_ssize_t rsb, Py_ssize_t csb,
                 double beta, double *c, Py_ssize_t rsc, Py_ssize_t csc) noexcept nogil
    void fo_gemm_blocking(int isa, int is_double, Py_ssize_t out[8]) noexcept nogil
    void fo_gemm_set_flops_per_thread(double flops) noexcept nogil


# Settings pushed in by fastops._config; kernels read these C ints, never Python.
cdef int _isa = 0
cdef int _nthreads = 1


def _set_num_threads(int n):
    global _nthreads
    _nthreads = n if n > 0 else 1


def _set_isa(int level):
    global _isa
    _isa = level


def _cpu_level():
    return fo_cpu_level()


def _settings():
    """(isa, nthreads) as the kernels see them (for tests)."""
    return _isa, _nthreads


def _set_flops_per_thread(double flops):
    """Tests only: the work per thread below which GEMM stays on fewer threads (0: default)."""
    fo_gemm_set_flops_per_thread(flops)


def _blocking(int isa, bint is_double):
    """(MR, NR, MC, KC, NC, SUP_MAX, SUP_MR, SUP_NR) of the kernels used at `isa`."""
    cdef Py_ssize_t out[8]
    fo_gemm_blocking(isa, is_double, out)
    return tuple(out[i] for i in range(8))


cdef inline Py_ssize_t _stride(cnp.ndarray x, int axis, Py_ssize_t itemsize):
    return cnp.PyArray_STRIDE(x, axis) // itemsize


def gemm(cnp.ndarray a, cnp.ndarray b, cnp.ndarray c, double alpha=1.0, double beta=0.0):
    """c := alpha * a @ b + beta * c with fastops' kernels.

    a (m, k), b (k, n), c (m, n): 2-d, one dtype (float32 or float64), strides
    multiples of the item size, c writeable and not overlapping a or b (checked
    by the caller).  beta == 0 never reads c.
    """
    cdef Py_ssize_t m = cnp.PyArray_DIM(a, 0), k = cnp.PyArray_DIM(a, 1)
    cdef Py_ssize_t n = cnp.PyArray_DIM(b, 1)
    cdef Py_ssize_t isz = cnp.PyArray_ITEMSIZE(c)
    cdef Py_ssize_t rsa = _stride(a, 0, isz), csa = _stride(a, 1, isz)
    cdef Py_ssize_t rsb = _stride(b, 0, isz), csb = _stride(b, 1, isz)
    cdef Py_ssize_t rsc = _stride(c, 0, isz), csc = _stride(c, 1, isz)
    cdef int rc
    cdef int typenum = cnp.PyArray_TYPE(c)
    if typenum == cnp.NPY_FLOAT32:
        with nogil:
            rc = fo_sgemm(_isa, _nthreads, m, n, k, <float>alpha,
                          <const float *>cnp.PyArray_DATA(a), rsa, csa,
                          <const float *>cnp.PyArray_DATA(b), rsb, csb,
                          <float>beta, <float *>cnp.PyArray_DATA(c), rsc, csc)
    elif typenum == cnp.NPY_FLOAT64:
        with nogil:
            rc = fo_dgemm(_isa, _nthreads, m, n, k, alpha,
                          <const double *>cnp.PyArray_DATA(a), rsa, csa,
                          <const double *>cnp.PyArray_DATA(b), rsb, csb,
                          beta, <double *>cnp.PyArray_DATA(c), rsc, csc)
    else:
        raise TypeError(f"gemm: float32 or float64 only, got {c.dtype}")
    if rc != 0:
        raise MemoryError(f"gemm: cannot allocate packing buffers for ({m},{k}) x ({k},{n})")


# ---- BLAS (scipy's OpenBLAS through cython_blas) ---------------------------------
#
# BLAS is column-major.  A row-major C = A.B is the column-major C^T = B^T.A^T, so
# sgemm gets (B, A) in that order.  A row-major matrix with unit column stride read
# as column-major is its own transpose ('N' gives X^T); one with unit row stride
# is read as-is and needs 'T'.  Either way no copy.

cdef bint _blas_layout(Py_ssize_t rows, Py_ssize_t cols, Py_ssize_t rs, Py_ssize_t cs,
                       char *trans, int *ld) noexcept:
    """Set trans/ld so that op(X as column-major, ld) is X^T; False if impossible."""
    if rs > 2147483647 or cs > 2147483647 or rows > 2147483647 or cols > 2147483647:
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


def blas_layout_ok(cnp.ndarray x):
    """True if BLAS can read the 2-d array x through its strides (no copy needed)."""
    cdef char t
    cdef int ld
    cdef Py_ssize_t isz = cnp.PyArray_ITEMSIZE(x)
    if cnp.PyArray_DIM(x, 0) > 2**31 - 1 or cnp.PyArray_DIM(x, 1) > 2**31 - 1:
        return False
    if cnp.PyArray_STRIDE(x, 0) % isz or cnp.PyArray_STRIDE(x, 1) % isz:
        return False
    return _blas_layout(cnp.PyArray_DIM(x, 0), cnp.PyArray_DIM(x, 1),
                        _stride(x, 0, isz), _stride(x, 1, isz), &t, &ld)


def blas_gemm(cnp.ndarray a, cnp.ndarray b, cnp.ndarray c, double alpha=1.0, double beta=0.0):
    """c := alpha * a @ b + beta * c with BLAS ?gemm; the caller guarantees that
    blas_layout_ok holds for a, b and c (c with unit column stride), m, n, k > 0,
    and no overlap of c with a or b."""
    cdef int m = <int>cnp.PyArray_DIM(a, 0), k = <int>cnp.PyArray_DIM(a, 1)
    cdef int n = <int>cnp.PyArray_DIM(b, 1)
    cdef Py_ssize_t isz = cnp.PyArray_ITEMSIZE(c)
    cdef char ta, tb, tc
    cdef int lda, ldb, ldc
    cdef float salpha = <float>alpha, sbeta = <float>beta
    if not (_blas_layout(m, k, _stride(a, 0, isz), _stride(a, 1, isz), &ta, &lda)
            and _blas_layout(k, n, _stride(b, 0, isz), _stride(b, 1, isz), &tb, &ldb)
            and _blas_layout(m, n, _stride(c, 0, isz), _stride(c, 1, isz), &tc, &ldc)
            and tc == b'N'):
        raise ValueError("blas_gemm: an operand's strides are not BLAS-compatible")
    if cnp.PyArray_TYPE(c) == cnp.NPY_FLOAT32:
        with nogil:
            blas_sgemm(&tb, &ta, &n, &m, &k, &salpha, <float *>cnp.PyArray_DATA(b), &ldb,
                       <float *>cnp.PyArray_DATA(a), &lda, &sbeta,
                       <float *>cnp.PyArray_DATA(c), &ldc)
    elif cnp.PyArray_TYPE(c) == cnp.NPY_FLOAT64:
        with nogil:
            blas_dgemm(&tb, &ta, &n, &m, &k, &alpha, <double *>cnp.PyArray_DATA(b), &ldb,
                       <double *>cnp.PyArray_DATA(a), &lda, &beta,
                       <double *>cnp.PyArray_DATA(c), &ldc)
    else:
        raise TypeError(f"blas_gemm: float32 or float64 only, got {c.dtype}")


# ---- fast path for the common call ------------------------------------------------

cdef bint _plain(cnp.ndarray x, int typenum) noexcept:
    """2-d, native float of `typenum`, aligned, strides in whole items."""
    cdef Py_ssize_t isz
    if cnp.PyArray_NDIM(x) != 2 or cnp.PyArray_TYPE(x) != typenum:
        return False
    if not (cnp.PyArray_ISALIGNED(x) and cnp.PyArray_ISNOTSWAPPED(x)):
        return False
    isz = cnp.PyArray_ITEMSIZE(x)
    return cnp.PyArray_STRIDE(x, 0) % isz == 0 and cnp.PyArray_STRIDE(x, 1) % isz == 0


def fast_matmul(object a, object b, object out, bint use_blas):
    """a @ b for the common case, or None to send the call down the general path.

    The common case: exact ndarrays, both 2-d with the same native float dtype and
    matching inner dimension; out None or a matching array not overlapping a or b
    (and, for BLAS, every operand readable by BLAS in place).  Everything else,
    errors included, is the general path's job (fastops/linalg.py).
    """
    cdef cnp.ndarray x, y, c
    cdef int typenum
    cdef cnp.npy_intp dims[2]
    if type(a) is not np.ndarray or type(b) is not np.ndarray:
        return None
    x = <cnp.ndarray>a
    y = <cnp.ndarray>b
    typenum = cnp.PyArray_TYPE(x)
    if typenum != cnp.NPY_FLOAT32 and typenum != cnp.NPY_FLOAT64:
        return None
    if not (_plain(x, typenum) and _plain(y, typenum)):
        return None
    if cnp.PyArray_DIM(x, 1) != cnp.PyArray_DIM(y, 0):
        return None
    dims[0] = cnp.PyArray_DIM(x, 0)
    dims[1] = cnp.PyArray_DIM(y, 1)
    if out is None:
        c = cnp.PyArray_EMPTY(2, dims, typenum, 0)
    else:
        if type(out) is not np.ndarray:
            return None
        c = <cnp.ndarray>out
        if not _plain(c, typenum) or not cnp.PyArray_ISWRITEABLE(c):
            return None
        if cnp.PyArray_DIM(c, 0) != dims[0] or cnp.PyArray_DIM(c, 1) != dims[1]:
            return None
        if arrays_overlap(c, x) or arrays_overlap(c, y):
            return None
    if use_blas:
        if dims[0] == 0 or dims[1] == 0 or cnp.PyArray_DIM(x, 1) == 0:
            return None
        if not (blas_layout_ok(x) and blas_layout_ok(y) and blas_layout_ok(c)):
            return None
        if dims[1] > 1 and cnp.PyArray_STRIDE(c, 1) != cnp.PyArray_ITEMSIZE(c):
            return None
        blas_gemm(x, y, c)
    else:
        gemm(x, y, c)
    return c


from fastops import _config  # noqa: E402  (after the module's functions exist)

_config._register(sys.modules[__name__])

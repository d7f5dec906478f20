# Inline helpers on ndarrays shared by the typed entry modules (compile time only:
# cimported, never imported, so no runtime module stands behind this file).
cimport numpy as cnp


cdef inline void array_extent(cnp.ndarray x, char **lo, char **hi) noexcept:
    """Byte range [lo, hi) the array's elements occupy (lo == hi when it is empty)."""
    cdef int d
    cdef char *base = <char *>cnp.PyArray_DATA(x)
    cdef cnp.npy_intp n, s
    lo[0] = base
    hi[0] = base + cnp.PyArray_ITEMSIZE(x)
    for d in range(cnp.PyArray_NDIM(x)):
        n = cnp.PyArray_DIM(x, d)
        s = cnp.PyArray_STRIDE(x, d)
        if n == 0:
            hi[0] = lo[0]
            return
        if s < 0:
            lo[0] += (n - 1) * s
        else:
            hi[0] += (n - 1) * s


cdef inline bint arrays_overlap(cnp.ndarray x, cnp.ndarray y) noexcept:
    """True when the byte ranges of x and y intersect (a bounds check, like
    np.may_share_memory: no false negatives, possible false positives)."""
    cdef char *xl
    cdef char *xh
    cdef char *yl
    cdef char *yh
    array_extent(x, &xl, &xh)
    array_extent(y, &yl, &yh)
    return xl < xh and yl < yh and xl < yh and yl < xh

# The iteration space of an elementwise loop or a reduction, put in a canonical order
# (included by the _cython_kernels*.pyx modules).
#
# NumPy arrays of any shape and strides come in; what the loops want is as few axes as
# possible, the innermost one unit-stride wherever memory allows.  Four rewrites give
# that without changing any result, since each element is still paired with the same
# elements of the other operands:
#   1. axes of length 1 are dropped;
#   2. an axis the key operand walks backwards is walked forwards, by every operand;
#   3. axes are sorted so that the key operand's strides decrease (innermost smallest);
#   4. neighbouring axes that every operand steps through uniformly are merged.
# A C- or Fortran-contiguous array of any shape becomes one axis; (n, d) + (d,) becomes
# an outer axis of n and an inner run of d.

cdef enum:
    MAX_DIMS = 64      # NPY_MAXDIMS of NumPy 2 (NumPy 1 allows 32)
    MAX_OPERANDS = 3


cdef struct Layout:
    int ndim
    int nops
    Py_ssize_t shape[MAX_DIMS]
    Py_ssize_t stride[MAX_OPERANDS][MAX_DIMS]   # in elements, not bytes
    Py_ssize_t offset[MAX_OPERANDS]             # elements from each data pointer to the start


cdef Py_ssize_t canonicalize(Layout* it, int key) noexcept nogil:
    """Rewrites `it` in place; returns the number of elements (0: nothing to do)."""
    cdef Py_ssize_t total = 1, t
    cdef int d, e, i, nd = 0, m = 0
    cdef bint mergeable
    for i in range(it.nops):
        it.offset[i] = 0
    for d in range(it.ndim):
        total *= it.shape[d]
        if it.shape[d] != 1:
            it.shape[nd] = it.shape[d]
            for i in range(it.nops):
                it.stride[i][nd] = it.stride[i][d]
            nd += 1
    if total == 0:
        it.ndim = 0
        return 0
    for d in range(nd):
        if it.stride[key][d] < 0:
            for i in range(it.nops):
                it.offset[i] += (it.shape[d] - 1) * it.stride[i][d]
                it.stride[i][d] = -it.stride[i][d]
    # insertion sort, largest key stride first; stable, so ties keep NumPy's C order
    for d in range(1, nd):
        e = d
        while e > 0 and it.stride[key][e - 1] < it.stride[key][e]:
            t = it.shape[e]
            it.shape[e] = it.shape[e - 1]
            it.shape[e - 1] = t
            for i in range(it.nops):
                t = it.stride[i][e]
                it.stride[i][e] = it.stride[i][e - 1]
                it.stride[i][e - 1] = t
            e -= 1
    for d in range(nd):
        mergeable = m > 0
        for i in range(it.nops):
            if mergeable and it.stride[i][m - 1] != it.stride[i][d] * it.shape[d]:
                mergeable = False
        if mergeable:
            it.shape[m - 1] *= it.shape[d]
            for i in range(it.nops):
                it.stride[i][m - 1] = it.stride[i][d]
        else:
            it.shape[m] = it.shape[d]
            for i in range(it.nops):
                it.stride[i][m] = it.stride[i][d]
            m += 1
    if m == 0:  # a 0-d array, or all axes of length 1: one run of one element
        it.shape[0] = 1
        for i in range(it.nops):
            it.stride[i][0] = 0
        m = 1
    it.ndim = m
    return total


cdef void set_operand(Layout* it, int i, cnp.ndarray x) noexcept:
    """Operand i's strides, in elements, broadcast to it.shape (right-aligned: a missing
    or length-1 axis gets stride 0, so every index reads the same element)."""
    cdef int d, skip = it.ndim - cnp.PyArray_NDIM(x)
    cdef Py_ssize_t itemsize = cnp.PyArray_ITEMSIZE(x)
    for d in range(it.ndim):
        if d < skip or cnp.PyArray_DIM(x, d - skip) == 1:
            it.stride[i][d] = 0
        else:
            it.stride[i][d] = cnp.PyArray_STRIDE(x, d - skip) // itemsize

# Sums over any set of axes, in double, with pairwise summation (included by
# _cython_kernels*.pyx).
#
# Adding n numbers one after another lets rounding errors grow like n; adding them in
# pairs, then pairs of pairs, lets them grow like log2(n).  NumPy does the second along
# the innermost axis: blocks of 128 elements go into 8 accumulators, longer runs are
# halved recursively.  Here the halving also runs across rows, so a sum over several
# axes, or over the outer axis of a C array (the bias gradient), keeps the log(n) bound.
#
# After canonicalize() (cython_layout.pxi, with x as key) the axes are ordered by x's
# strides, and each one is either reduced or kept.  Two cases:
#   A. the innermost axis is reduced: every output is a pairwise sum of runs (rows of
#      x along that axis), itself pairwise over the runs;
#   B. the innermost axis is kept: a tile of up to ROW_TILE neighbouring outputs is the
#      pairwise sum of partial rows, added as vectors.

cdef enum:
    PAIRWISE_BLOCK = 128   # NumPy's PW_BLOCKSIZE
    LEAF_ROWS = 8          # rows (or runs) added one after another before halving
    ROW_TILE = 512         # outputs summed together in case B: 4 KiB of doubles


cdef struct Reduction:
    int nr, nk                        # reduced and kept axes, outermost first
    Py_ssize_t rshape[MAX_DIMS]
    Py_ssize_t rstride[MAX_DIMS]      # x's strides along the reduced axes
    Py_ssize_t kshape[MAX_DIMS]
    Py_ssize_t kstride[MAX_DIMS]      # x's strides along the kept axes
    Py_ssize_t kresult[MAX_DIMS]      # the result's strides along the kept axes


cdef inline Py_ssize_t position(Py_ssize_t index, int ndim, const Py_ssize_t* shape,
                                const Py_ssize_t* stride) noexcept nogil:
    """Offset of the index-th element (C order) of an ndim-axis block."""
    cdef Py_ssize_t offset = 0
    cdef int d
    for d in range(ndim - 1, -1, -1):
        offset += (index % shape[d]) * stride[d]
        index //= shape[d]
    return offset


cdef double run_sum(const floating* x, Py_ssize_t n, Py_ssize_t s) noexcept nogil:
    """x[0] + x[s] + ... + x[(n-1)s], pairwise, as NumPy's pairwise_sum."""
    cdef double r[8]
    cdef double total = 0
    cdef Py_ssize_t i, half
    cdef int j
    if n < 8:
        for i in range(n):
            total += x[i * s]
        return total
    if n <= PAIRWISE_BLOCK:
        for j in range(8):
            r[j] = x[j * s]
        if s == 1:  # the same loop with a unit stride the compiler can see: vectorised
            for i in range(8, n - n % 8, 8):
                for j in range(8):
                    r[j] += x[i + j]
        else:
            for i in range(8, n - n % 8, 8):
                for j in range(8):
                    r[j] += x[(i + j) * s]
        total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for i in range(n - n % 8, n):
            total += x[i * s]
        return total
    half = n // 2
    half -= half % 8
    return run_sum(x, half, s) + run_sum(x + half * s, n - half, s)


cdef double runs_sum(const floating* x, const Reduction* red, Py_ssize_t r0, Py_ssize_t r1,
                     Py_ssize_t lo, Py_ssize_t hi) noexcept nogil:
    """Case A: elements [lo, hi) of the runs r0 .. r1-1 (the runs are the innermost
    reduced axis; r numbers the positions along the outer reduced axes)."""
    cdef Py_ssize_t r, mid, s = red.rstride[red.nr - 1]
    cdef double total = 0
    if r1 - r0 <= LEAF_ROWS:
        for r in range(r0, r1):
            total += run_sum(x + position(r, red.nr - 1, red.rshape, red.rstride) + lo * s,
                             hi - lo, s)
        return total
    mid = r0 + (r1 - r0) // 2
    return runs_sum(x, red, r0, mid, lo, hi) + runs_sum(x, red, mid, r1, lo, hi)


cdef void rows_sum(const floating* x, const Reduction* red, Py_ssize_t r0, Py_ssize_t r1,
                   Py_ssize_t n, Py_ssize_t s, double* dst, double* scratch) noexcept nogil:
    """Case B: dst[j] = sum over reduced positions r0 .. r1-1 of row r's x[j*s], j < n.
    scratch holds n doubles for each level of halving still to come."""
    cdef const floating* row
    cdef Py_ssize_t r, j, mid
    if r1 - r0 <= LEAF_ROWS:
        row = x + position(r0, red.nr, red.rshape, red.rstride)
        for j in range(n):
            dst[j] = row[j * s]
        for r in range(r0 + 1, r1):
            row = x + position(r, red.nr, red.rshape, red.rstride)
            if s == 1:
                for j in range(n):
                    dst[j] += row[j]
            else:
                for j in range(n):
                    dst[j] += row[j * s]
        return
    mid = r0 + (r1 - r0) // 2
    rows_sum(x, red, r0, mid, n, s, dst, scratch)
    rows_sum(x, red, mid, r1, n, s, scratch, scratch + n)
    for j in range(n):
        dst[j] += scratch[j]


cdef void sum_tile(const floating* x, const Reduction* red, Py_ssize_t rows, Py_ssize_t tiles,
                   Py_ssize_t unit, double* result, double* scratch) noexcept nogil:
    """Case B, one unit: tile (unit % tiles) of the outputs at outer kept position
    (unit // tiles).  scratch: ROW_TILE doubles, then the levels of rows_sum."""
    cdef int last = red.nk - 1
    cdef Py_ssize_t q = unit // tiles, j0 = (unit % tiles) * ROW_TILE, j
    cdef Py_ssize_t n = min(<Py_ssize_t>ROW_TILE, red.kshape[last] - j0)
    cdef Py_ssize_t sr = red.kresult[last]
    x += position(q, last, red.kshape, red.kstride) + j0 * red.kstride[last]
    result += position(q, last, red.kshape, red.kresult) + j0 * sr
    rows_sum(x, red, 0, rows, n, red.kstride[last], scratch, scratch + ROW_TILE)
    for j in range(n):
        result[j * sr] = scratch[j]


cdef void sum_loops(const floating* x, const Reduction* red, Py_ssize_t total, double* result,
                    double* scratch, Py_ssize_t scratch_per_thread, int nthreads) noexcept nogil:
    cdef Py_ssize_t rows = 1, outputs = 1, runs, n, q, tiles, unit
    cdef int d, t
    cdef bint threaded = nthreads > 1 and total >= PARALLEL_MIN_ELEMENTS
    for d in range(red.nr):
        rows *= red.rshape[d]
    for d in range(red.nk):
        outputs *= red.kshape[d]
    if red.nk > 0 and red.kstride[red.nk - 1] < red.rstride[red.nr - 1]:
        tiles = (red.kshape[red.nk - 1] + ROW_TILE - 1) // ROW_TILE
        outputs = outputs // red.kshape[red.nk - 1] * tiles
        if threaded and outputs >= nthreads:
            for unit in prange(outputs, num_threads=nthreads, schedule="static"):
                sum_tile(x, red, rows, tiles, unit, result,
                         scratch + threadid() * scratch_per_thread)
        else:
            for unit in range(outputs):
                sum_tile(x, red, rows, tiles, unit, result, scratch)
        return
    n = red.rshape[red.nr - 1]
    runs = rows // n
    if threaded and outputs >= nthreads:
        for q in prange(outputs, num_threads=nthreads, schedule="static"):
            result[position(q, red.nk, red.kshape, red.kresult)] = runs_sum(
                x + position(q, red.nk, red.kshape, red.kstride), red, 0, runs, 0, n)
    elif threaded and red.nk == 0:
        # one output: each thread sums a share of the runs, or of every run when there
        # are fewer runs than threads; the shares meet in scratch
        for t in prange(nthreads, num_threads=nthreads, schedule="static", chunksize=1):
            if runs >= nthreads:
                scratch[t] = runs_sum(x, red, runs * t // nthreads, runs * (t + 1) // nthreads, 0, n)
            else:
                scratch[t] = runs_sum(x, red, 0, runs, n * t // nthreads, n * (t + 1) // nthreads)
        result[0] = 0
        for t in range(nthreads):
            result[0] += scratch[t]
    else:
        for q in range(outputs):
            result[position(q, red.nk, red.kshape, red.kresult)] = runs_sum(
                x + position(q, red.nk, red.kshape, red.kstride), red, 0, runs, 0, n)


def sum(cnp.ndarray x, tuple axes, int nthreads):
    """The sum of x over `axes`, accumulated in double, pairwise (error ~ log n).

    Args:
        x: a float32 or float64 array, native byte order, aligned, any strides.
        axes: sorted, distinct, non-negative axes of x to reduce (all of them, or none).
        nthreads: threads to use at most (arrays under 2**17 elements use one).

    Returns:
        A float64 array of x's kept axes in C order, or a Python float when every axis
        is reduced.  Casting, keepdims and out= are the caller's.

    Example:
        >>> sum(dz, (0,), 1)          # bias gradient of a (batch, units) array
    """
    cdef Layout it
    cdef Reduction red
    cdef cnp.ndarray result
    cdef Py_ssize_t total, rows = 1, per_thread, itemsize = cnp.PyArray_ITEMSIZE(x)
    cdef int d, k = 0, levels = 0, nd = cnp.PyArray_NDIM(x)
    cdef double* scratch
    cdef bint reduced[MAX_DIMS]
    for d in range(nd):
        reduced[d] = False
    for d in axes:
        reduced[d] = True
    kept = [cnp.PyArray_DIM(x, d) for d in range(nd) if not reduced[d]]
    result = np.zeros(kept, np.float64)
    it.ndim = nd
    it.nops = 2
    for d in range(nd):
        it.shape[d] = cnp.PyArray_DIM(x, d)
        it.stride[0][d] = cnp.PyArray_STRIDE(x, d) // itemsize
        if reduced[d]:
            it.stride[1][d] = 0
        else:
            it.stride[1][d] = cnp.PyArray_STRIDE(result, k) // 8
            k += 1
    total = canonicalize(&it, 0)
    if total > 0:
        red.nr = red.nk = 0
        for d in range(it.ndim):
            if it.stride[1][d] == 0:
                red.rshape[red.nr] = it.shape[d]
                red.rstride[red.nr] = it.stride[0][d]
                rows *= it.shape[d]
                red.nr += 1
            else:
                red.kshape[red.nk] = it.shape[d]
                red.kstride[red.nk] = it.stride[0][d]
                red.kresult[red.nk] = it.stride[1][d]
                red.nk += 1
        if red.nr == 0:  # nothing to add up: a copy (x keeps only axes of length 1 to reduce)
            red.rshape[0] = 1
            red.rstride[0] = 0
            red.nr = 1
        while (rows >> levels) > LEAF_ROWS:
            levels += 1
        per_thread = ROW_TILE * (levels + 2)
        nthreads = max(nthreads, 1)
        scratch = <double*>malloc(per_thread * nthreads * sizeof(double))
        if scratch == NULL:
            raise MemoryError("sum: no memory for the partial sums")
        if cnp.PyArray_TYPE(x) == cnp.NPY_FLOAT32:
            with nogil:
                sum_loops(<const float*>cnp.PyArray_DATA(x) + it.offset[0], &red, total,
                          <double*>cnp.PyArray_DATA(result) + it.offset[1], scratch,
                          per_thread, nthreads)
        else:
            with nogil:
                sum_loops(<const double*>cnp.PyArray_DATA(x) + it.offset[0], &red, total,
                          <double*>cnp.PyArray_DATA(result) + it.offset[1], scratch,
                          per_thread, nthreads)
        free(scratch)
    if not kept:
        return float(result[()])
    return result

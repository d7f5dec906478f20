# out := op(a, b) elementwise, with NumPy broadcasting (included by _cython_kernels*.pyx).
#
# Three layers:
#   binary()      reads shapes and strides, canonicalizes the iteration space
#                 (cython_layout.pxi) and splits it among threads;
#   run_units()   walks the outer axes with an odometer, one inner run at a time;
#   *_run()       one loop per operation over a run.  When out is contiguous and each
#                 input is contiguous or a single broadcast value, the loop is so plain
#                 that gcc vectorises it; anything else takes a strided loop.

cdef enum:
    ADD = 0
    SUBTRACT = 1
    MULTIPLY = 2
    DIVIDE = 3
    MAXIMUM = 4
    MINIMUM = 5
    BIAS_ADD_RELU = 6
    RELU_BACKWARD = 7

cdef enum:
    # below this many elements a second thread costs more than it brings
    PARALLEL_MIN_ELEMENTS = 1 << 17
    # and no thread gets a piece of a run shorter than this
    MIN_CHUNK = 8192


# NumPy's results, bit for bit.  np.maximum returns x when x > y or x is NaN, else y:
# a NaN in either operand propagates, and maximum(-0.0, 0.0) is y.  `|` rather than
# `or` keeps the condition branch-free, so the vectoriser turns it into a blend.
cdef inline floating maximum(floating x, floating y) noexcept nogil:
    return x if (x > y) | (x != x) else y


cdef inline floating minimum(floating x, floating y) noexcept nogil:
    return x if (x < y) | (x != x) else y


cdef inline floating bias_add_relu(floating x, floating y) noexcept nogil:
    return maximum(x + y, <floating>0)


cdef inline floating relu_backward(floating grad, floating x) noexcept nogil:
    return grad if x > 0 else 0


cdef void contiguous_run(int op, Py_ssize_t n, const floating* a, const floating* b,
                         floating* o) noexcept nogil:
    """o[i] = op(a[i], b[i]) for unit-stride a, b and o."""
    cdef Py_ssize_t i
    if op == ADD:
        for i in range(n):
            o[i] = a[i] + b[i]
    elif op == SUBTRACT:
        for i in range(n):
            o[i] = a[i] - b[i]
    elif op == MULTIPLY:
        for i in range(n):
            o[i] = a[i] * b[i]
    elif op == DIVIDE:
        for i in range(n):
            o[i] = a[i] / b[i]
    elif op == MAXIMUM:
        for i in range(n):
            o[i] = maximum(a[i], b[i])
    elif op == MINIMUM:
        for i in range(n):
            o[i] = minimum(a[i], b[i])
    elif op == BIAS_ADD_RELU:
        for i in range(n):
            o[i] = bias_add_relu(a[i], b[i])
    else:
        for i in range(n):
            o[i] = relu_backward(a[i], b[i])


cdef void scalar_b_run(int op, Py_ssize_t n, const floating* a, floating b,
                       floating* o) noexcept nogil:
    """o[i] = op(a[i], b): b is one broadcast value (relu is maximum(x, 0) this way)."""
    cdef Py_ssize_t i
    if op == ADD:
        for i in range(n):
            o[i] = a[i] + b
    elif op == SUBTRACT:
        for i in range(n):
            o[i] = a[i] - b
    elif op == MULTIPLY:
        for i in range(n):
            o[i] = a[i] * b
    elif op == DIVIDE:
        for i in range(n):
            o[i] = a[i] / b
    elif op == MAXIMUM:
        for i in range(n):
            o[i] = maximum(a[i], b)
    elif op == MINIMUM:
        for i in range(n):
            o[i] = minimum(a[i], b)
    elif op == BIAS_ADD_RELU:
        for i in range(n):
            o[i] = bias_add_relu(a[i], b)
    else:
        for i in range(n):
            o[i] = relu_backward(a[i], b)


cdef void scalar_a_run(int op, Py_ssize_t n, floating a, const floating* b,
                       floating* o) noexcept nogil:
    """o[i] = op(a, b[i]): a is one broadcast value."""
    cdef Py_ssize_t i
    if op == ADD:
        for i in range(n):
            o[i] = a + b[i]
    elif op == SUBTRACT:
        for i in range(n):
            o[i] = a - b[i]
    elif op == MULTIPLY:
        for i in range(n):
            o[i] = a * b[i]
    elif op == DIVIDE:
        for i in range(n):
            o[i] = a / b[i]
    elif op == MAXIMUM:
        for i in range(n):
            o[i] = maximum(a, b[i])
    elif op == MINIMUM:
        for i in range(n):
            o[i] = minimum(a, b[i])
    elif op == BIAS_ADD_RELU:
        for i in range(n):
            o[i] = bias_add_relu(a, b[i])
    else:
        for i in range(n):
            o[i] = relu_backward(a, b[i])


cdef inline floating apply(int op, floating x, floating y) noexcept nogil:
    if op == ADD:
        return x + y
    if op == SUBTRACT:
        return x - y
    if op == MULTIPLY:
        return x * y
    if op == DIVIDE:
        return x / y
    if op == MAXIMUM:
        return maximum(x, y)
    if op == MINIMUM:
        return minimum(x, y)
    if op == BIAS_ADD_RELU:
        return bias_add_relu(x, y)
    return relu_backward(x, y)


cdef void strided_run(int op, Py_ssize_t n, const floating* a, Py_ssize_t sa,
                      const floating* b, Py_ssize_t sb, floating* o, Py_ssize_t so) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        o[i * so] = apply(op, a[i * sa], b[i * sb])


cdef void run(int op, Py_ssize_t n, const floating* a, Py_ssize_t sa,
              const floating* b, Py_ssize_t sb, floating* o, Py_ssize_t so) noexcept nogil:
    if so == 1 and sa == 1 and sb == 1:
        contiguous_run(op, n, a, b, o)
    elif so == 1 and sa == 1 and sb == 0:
        scalar_b_run(op, n, a, b[0], o)
    elif so == 1 and sa == 0 and sb == 1:
        scalar_a_run(op, n, a[0], b, o)
    else:
        strided_run(op, n, a, sa, b, sb, o, so)


cdef void run_units(int op, const Layout* it, const floating* a, const floating* b,
                    floating* o, Py_ssize_t chunks, Py_ssize_t chunk,
                    Py_ssize_t u0, Py_ssize_t u1) noexcept nogil:
    """Units [u0, u1) of the iteration; unit u is piece u % chunks of inner run u // chunks."""
    cdef int d, nd = it.ndim
    cdef Py_ssize_t inner = it.shape[nd - 1], start, n, u, rest
    cdef Py_ssize_t sa = it.stride[0][nd - 1], sb = it.stride[1][nd - 1], so = it.stride[2][nd - 1]
    cdef Py_ssize_t c = u0 % chunks
    cdef Py_ssize_t coord[MAX_DIMS]
    if u0 >= u1:
        return
    rest = u0 // chunks
    for d in range(nd - 2, -1, -1):  # the odometer's starting position
        coord[d] = rest % it.shape[d]
        rest //= it.shape[d]
        a += coord[d] * it.stride[0][d]
        b += coord[d] * it.stride[1][d]
        o += coord[d] * it.stride[2][d]
    for u in range(u0, u1):
        start = c * chunk
        n = min(chunk, inner - start)
        run(op, n, a + start * sa, sa, b + start * sb, sb, o + start * so, so)
        c += 1
        if c < chunks:
            continue
        c = 0
        for d in range(nd - 2, -1, -1):  # advance the odometer by one run
            a += it.stride[0][d]
            b += it.stride[1][d]
            o += it.stride[2][d]
            coord[d] += 1
            if coord[d] < it.shape[d]:
                break
            a -= it.shape[d] * it.stride[0][d]
            b -= it.shape[d] * it.stride[1][d]
            o -= it.shape[d] * it.stride[2][d]
            coord[d] = 0


cdef void binary_loops(int op, const Layout* it, Py_ssize_t total, const floating* a,
                       const floating* b, floating* o, int nthreads) noexcept nogil:
    cdef Py_ssize_t inner = it.shape[it.ndim - 1], runs = total // inner
    cdef Py_ssize_t chunks = 1, chunk = inner, units
    cdef int t
    if nthreads <= 1 or total < PARALLEL_MIN_ELEMENTS:
        run_units(op, it, a, b, o, 1, inner, 0, runs)
        return
    if runs < 4 * nthreads:  # too few runs to share evenly: cut each into pieces
        chunks = min((4 * nthreads + runs - 1) // runs, max(inner // MIN_CHUNK, 1))
        chunk = (inner + chunks - 1) // chunks
        chunk = (chunk + 15) // 16 * 16  # whole cache lines per thread
        chunks = (inner + chunk - 1) // chunk
    units = runs * chunks
    for t in prange(nthreads, num_threads=nthreads, schedule="static", chunksize=1):
        run_units(op, it, a, b, o, chunks, chunk, units * t // nthreads, units * (t + 1) // nthreads)


def binary(int op, cnp.ndarray a, cnp.ndarray b, cnp.ndarray out, int nthreads):
    """out := op(a, b) elementwise, bit for bit the NumPy ufunc's result.

    Args:
        op: 0 add, 1 subtract, 2 multiply, 3 divide, 4 maximum, 5 minimum,
            6 bias_add_relu (max(a + b, 0)), 7 relu_backward (a where b > 0, else 0).
        a, b: float32 or float64 arrays of out's dtype, native byte order, aligned,
            broadcastable to out.shape; any strides.
        out: the result, of the broadcast shape; may be a or b itself (same data and
            strides) but must not partially overlap them.
        nthreads: threads to use at most (arrays under 2**17 elements use one).

    The caller has checked all of that; nothing is checked here.

    Example:
        >>> binary(4, x, np.zeros((), x.dtype), out, 1)    # out := relu(x)
    """
    cdef Layout it
    cdef Py_ssize_t total
    cdef int d
    it.ndim = cnp.PyArray_NDIM(out)
    it.nops = 3
    for d in range(it.ndim):
        it.shape[d] = cnp.PyArray_DIM(out, d)
    set_operand(&it, 0, a)
    set_operand(&it, 1, b)
    set_operand(&it, 2, out)
    total = canonicalize(&it, 2)
    if total == 0:
        return
    if cnp.PyArray_TYPE(out) == cnp.NPY_FLOAT32:
        with nogil:
            binary_loops(op, &it, total, <const float*>cnp.PyArray_DATA(a) + it.offset[0],
                         <const float*>cnp.PyArray_DATA(b) + it.offset[1],
                         <float*>cnp.PyArray_DATA(out) + it.offset[2], nthreads)
    else:
        with nogil:
            binary_loops(op, &it, total, <const double*>cnp.PyArray_DATA(a) + it.offset[0],
                         <const double*>cnp.PyArray_DATA(b) + it.offset[1],
                         <double*>cnp.PyArray_DATA(out) + it.offset[2], nthreads)

# C := alpha * A.B + beta * C, blocked as BLIS does (included by _cython_kernels*.pyx).
#
# A triple loop runs at memory speed: each multiply-add loads its operands.  GEMM does
# 2mnk flops on mn + mk + kn numbers, so it can run at arithmetic speed if every number
# brought into a register, or a cache, is used many times before it leaves.  Hence:
#   jc over NC columns:  a KC x NC block of B is packed once (it stays in L3);
#   pc over KC:          rank-KC updates, the first one scaling C by beta;
#   ic over MC rows:     an MC x KC block of A is packed (it stays in L2);
#   tiles (prange):      an MR x NR tile of C, from an MR-row sliver of packed A and an
#                        NR-column sliver of packed B (that one stays in L1).
# Packing copies the blocks into the order the micro-kernel reads them, contiguous and
# zero-padded to whole tiles, whatever the strides of A and B.
#
# The micro-kernel keeps the MR x NR tile of C in registers for KC steps.  It is written
# as a plain 2-d array with constant bounds: gcc unrolls the loops, vectorises the NR
# axis and, since the array never escapes, keeps it in vector registers.  Each step
# then loads NR values of B once and broadcasts each of the MR values of A against them:
# MR * NR multiply-adds for MR + NR loads.  MR and NR are the build's (cython_tile_*.pxi,
# included by each _cython_kernels*.pyx before this file): the tile is sized to the
# build's vector registers.

cdef enum:
    KC = 256          # KC x NR of B: 24 KiB of floats (48 KiB at AVX-512), L1
    MC = 128          # MC x KC of A: 128 KiB of floats, L2
    NC = 4080         # KC x NC of B: 4 MiB of floats, L3; a multiple of every build's NR
    FLOPS_PER_THREAD = 1 << 21   # about 20 us of arithmetic: less is not worth a thread


cdef inline void micro_kernel_f32(Py_ssize_t kc, const float* a, const float* b,
                                  float* ab) noexcept nogil:
    """ab[MR x NR_F32] := (packed A sliver) . (packed B sliver), kc steps."""
    cdef float c[MR][NR_F32]
    cdef Py_ssize_t p
    cdef int i, j
    for i in range(MR):
        for j in range(NR_F32):
            c[i][j] = 0
    for p in range(kc):
        for i in range(MR):
            for j in range(NR_F32):
                c[i][j] += a[i] * b[j]
        a += MR
        b += NR_F32
    for i in range(MR):
        for j in range(NR_F32):
            ab[i * NR_F32 + j] = c[i][j]


# A deliberate type twin of micro_kernel_f32: the tile width is a constant per type, which a
# fused type cannot give the register array c (its size must be known to Cython).
cdef inline void micro_kernel_f64(Py_ssize_t kc, const double* a, const double* b,
                                  double* ab) noexcept nogil:
    """ab[MR x NR_F64] := (packed A sliver) . (packed B sliver), kc steps."""
    cdef double c[MR][NR_F64]
    cdef Py_ssize_t p
    cdef int i, j
    for i in range(MR):
        for j in range(NR_F64):
            c[i][j] = 0
    for p in range(kc):
        for i in range(MR):
            for j in range(NR_F64):
                c[i][j] += a[i] * b[j]
        a += MR
        b += NR_F64
    for i in range(MR):
        for j in range(NR_F64):
            ab[i * NR_F64 + j] = c[i][j]


cdef void pack_a(Py_ssize_t rows, Py_ssize_t kc, const floating* a, Py_ssize_t rsa,
                 Py_ssize_t csa, floating* dst) noexcept nogil:
    """One MR-row sliver: A[r, p] goes to dst[p*MR + r]; rows past `rows` are zeros."""
    cdef Py_ssize_t p, r
    for p in range(kc):
        for r in range(rows):
            dst[p * MR + r] = a[r * rsa + p * csa]
        for r in range(rows, MR):
            dst[p * MR + r] = 0


cdef void pack_b(Py_ssize_t kc, Py_ssize_t cols, const floating* b, Py_ssize_t rsb,
                 Py_ssize_t csb, floating* dst) noexcept nogil:
    """One NR-column sliver: B[p, j] goes to dst[p*NR + j]; columns past `cols` are zeros."""
    cdef Py_ssize_t p, j, nr = NR_F32 if floating is float else NR_F64
    for p in range(kc):
        for j in range(cols):
            dst[p * nr + j] = b[p * rsb + j * csb]
        for j in range(cols, nr):
            dst[p * nr + j] = 0


cdef void tile(Py_ssize_t kc, const floating* pa, const floating* pb, floating* c,
               Py_ssize_t rsc, Py_ssize_t csc, Py_ssize_t rows, Py_ssize_t cols,
               floating alpha, floating beta) noexcept nogil:
    """C[:rows, :cols] := alpha * tile + beta * C; beta == 0 never reads C."""
    cdef floating ab[MR * NR_F32]
    cdef Py_ssize_t i, j, nr = NR_F32 if floating is float else NR_F64
    if floating is float:
        micro_kernel_f32(kc, pa, pb, ab)
    else:
        micro_kernel_f64(kc, pa, pb, ab)
    for i in range(rows):
        if beta == 0:
            for j in range(cols):
                c[i * rsc + j * csc] = alpha * ab[i * nr + j]
        else:
            for j in range(cols):
                c[i * rsc + j * csc] = alpha * ab[i * nr + j] + beta * c[i * rsc + j * csc]


cdef inline Py_ssize_t balanced(Py_ssize_t n, Py_ssize_t most, Py_ssize_t multiple) noexcept nogil:
    """Equal blocks of at most `most` (rounded up to a multiple): k = 784 runs as 4 x 196,
    not 3 x 256 + 16, whose thin last block would cost a whole pass over C."""
    cdef Py_ssize_t count = (n + most - 1) // most, size = (n + count - 1) // count
    return (size + multiple - 1) // multiple * multiple


cdef void gemm_loops(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, floating alpha,
                     const floating* a, Py_ssize_t rsa, Py_ssize_t csa,
                     const floating* b, Py_ssize_t rsb, Py_ssize_t csb, floating beta,
                     floating* c, Py_ssize_t rsc, Py_ssize_t csc,
                     floating* pa, floating* pb, int nthreads) noexcept nogil:
    cdef Py_ssize_t nr = NR_F32 if floating is float else NR_F64
    cdef Py_ssize_t nc_block = balanced(n, NC, nr), kc_block = balanced(k, KC, 1)
    cdef Py_ssize_t mc_block = balanced(m, MC, MR)
    cdef Py_ssize_t jc, pc, ic, nc, kc, mc, slivers_a, slivers_b, t, jr, ir
    cdef floating beta_p
    jc = 0
    while jc < n:
        nc = min(nc_block, n - jc)
        slivers_b = (nc + nr - 1) // nr
        pc = 0
        while pc < k:
            kc = min(kc_block, k - pc)
            beta_p = beta if pc == 0 else 1
            for t in prange(slivers_b, num_threads=nthreads, schedule="static"):
                pack_b(kc, min(nr, nc - t * nr), b + pc * rsb + (jc + t * nr) * csb,
                       rsb, csb, pb + t * nr * kc)
            ic = 0
            while ic < m:
                mc = min(mc_block, m - ic)
                slivers_a = (mc + MR - 1) // MR
                for t in prange(slivers_a, num_threads=nthreads, schedule="static"):
                    pack_a(min(<Py_ssize_t>MR, mc - t * MR), kc,
                           a + (ic + t * MR) * rsa + pc * csa, rsa, csa, pa + t * MR * kc)
                # tiles numbered column sliver first: a static split hands each thread
                # whole slivers of B when there are enough of them
                for t in prange(slivers_a * slivers_b, num_threads=nthreads, schedule="static"):
                    jr = t // slivers_a
                    ir = t % slivers_a
                    tile(kc, pa + ir * MR * kc, pb + jr * nr * kc,
                         c + (ic + ir * MR) * rsc + (jc + jr * nr) * csc, rsc, csc,
                         min(<Py_ssize_t>MR, mc - ir * MR), min(nr, nc - jr * nr), alpha, beta_p)
                ic += mc_block
            pc += kc_block
        jc += nc_block


cdef void scale(Py_ssize_t m, Py_ssize_t n, floating beta, floating* c, Py_ssize_t rsc,
                Py_ssize_t csc) noexcept nogil:
    """C := beta * C, or zeros when beta == 0 (C is not read: it may hold NaN)."""
    cdef Py_ssize_t i, j
    for i in range(m):
        for j in range(n):
            c[i * rsc + j * csc] = 0 if beta == 0 else beta * c[i * rsc + j * csc]


cdef void* aligned(void* raw) noexcept nogil:
    """The first 64-byte boundary in raw (allocated 64 bytes too long): slivers then
    start on cache lines and vector loads never straddle two."""
    return <void*>((<size_t>raw + 63) & ~(<size_t>63))


def gemm(cnp.ndarray a, cnp.ndarray b, cnp.ndarray c, double alpha, double beta, int nthreads):
    """c := alpha * a @ b + beta * c.

    Args:
        a, b, c: 2-d arrays (m, k), (k, n), (m, n) of one dtype, float32 or float64,
            any strides in whole elements (negative too); c does not overlap a or b.
        alpha, beta: scalars; beta == 0 never reads c (it may hold NaN), and k == 0
            or alpha == 0 only scales c.
        nthreads: threads to use at most (small products use one).

    Example:
        >>> gemm(x, w, h, 1.0, 0.0, 1)       # h := x @ w
    """
    cdef Py_ssize_t m = cnp.PyArray_DIM(a, 0), k = cnp.PyArray_DIM(a, 1), n = cnp.PyArray_DIM(b, 1)
    cdef Py_ssize_t w = cnp.PyArray_ITEMSIZE(c)
    cdef Py_ssize_t rsa = cnp.PyArray_STRIDE(a, 0) // w, csa = cnp.PyArray_STRIDE(a, 1) // w
    cdef Py_ssize_t rsb = cnp.PyArray_STRIDE(b, 0) // w, csb = cnp.PyArray_STRIDE(b, 1) // w
    cdef Py_ssize_t rsc = cnp.PyArray_STRIDE(c, 0) // w, csc = cnp.PyArray_STRIDE(c, 1) // w
    cdef Py_ssize_t size_a, size_b, nr = NR_F32 if w == 4 else NR_F64
    cdef const char* pa_ = <const char*>cnp.PyArray_DATA(a)
    cdef const char* pb_ = <const char*>cnp.PyArray_DATA(b)
    cdef double flops = 2.0 * m * n * k
    cdef void* raw_a
    cdef void* raw_b
    if m == 0 or n == 0:
        return
    if k == 0 or alpha == 0:
        with nogil:
            if w == 4:
                scale(m, n, <float>beta, <float*>cnp.PyArray_DATA(c), rsc, csc)
            else:
                scale(m, n, beta, <double*>cnp.PyArray_DATA(c), rsc, csc)
        return
    if csc != 1 and rsc == 1:
        # C^T = B^T . A^T: with the roles of A and B swapped, C's unit stride runs along
        # the tiles' rows, so the tile stores are contiguous
        m, n = n, m
        pa_, pb_ = pb_, pa_
        rsa, csa, rsb, csb = csb, rsb, csa, rsa
        rsc, csc = csc, rsc
    nthreads = max(nthreads, 1)
    if flops < <double>nthreads * FLOPS_PER_THREAD:
        nthreads = max(1, <int>(flops / FLOPS_PER_THREAD))
    size_a = balanced(m, MC, MR) * min(k, <Py_ssize_t>KC) * w
    size_b = balanced(n, NC, nr) * min(k, <Py_ssize_t>KC) * w
    raw_a = malloc(size_a + 64)
    raw_b = malloc(size_b + 64)
    if raw_a == NULL or raw_b == NULL:
        free(raw_a)
        free(raw_b)
        raise MemoryError("gemm: no memory for the packed blocks of A and B")
    with nogil:
        if w == 4:
            gemm_loops(m, n, k, <float>alpha, <const float*>pa_, rsa, csa, <const float*>pb_,
                       rsb, csb, <float>beta, <float*>cnp.PyArray_DATA(c), rsc, csc,
                       <float*>aligned(raw_a), <float*>aligned(raw_b), nthreads)
        else:
            gemm_loops(m, n, k, alpha, <const double*>pa_, rsa, csa, <const double*>pb_,
                       rsb, csb, beta, <double*>cnp.PyArray_DATA(c), rsc, csc,
                       <double*>aligned(raw_a), <double*>aligned(raw_b), nthreads)
    free(raw_a)
    free(raw_b)

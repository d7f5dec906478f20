/* Elementwise and reduction kernels (see elementwise_kernels.h).
 *
 * Layout of the work:
 *   1. fo_prepare() puts the iteration space in a canonical order: size-1 axes
 *      dropped, axes where the key operand runs backwards flipped, axes sorted
 *      so the key operand's smallest stride is innermost, and adjacent axes
 *      merged wherever every operand allows.  A contiguous array of any shape
 *      becomes one run; (n, d) + (d,) becomes n runs of d.
 *   2. fo_iterate() walks the outer axes with an odometer and hands each
 *      innermost run to a callback; with several threads the runs (split into
 *      chunks when there are too few of them) are divided statically.
 *   3. The run callbacks call a contiguous kernel when the inner strides allow
 *      (out contiguous, inputs contiguous or broadcast scalars), else a plain
 *      strided loop.  Contiguous kernels exist twice: portable C and the same
 *      C compiled for AVX2 through a target attribute, chosen at run time.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "elementwise_kernels.h"
#include "fo_cpu.h"

#if FO_HAVE_X86_SIMD
#include <immintrin.h>
#endif

/* Below this many elements a second thread costs more than it gains (fork/join
 * and cache traffic), measured on the MLP's (128, 512) arrays. */
#define FO_PARALLEL_MIN_ELEMS (1 << 17)
/* Threads never get runs shorter than this when a run is split. */
#define FO_MIN_CHUNK 8192
/* An output this large cannot stay in cache for its next reader anyway, so it is
 * written with non-temporal stores: that skips the read-for-ownership of every
 * destination line, about a third of the traffic of a binary op.  16 MiB is
 * half the L3 of the largest desktop/server parts this targets.  Not for a
 * freshly allocated output: the kernel has just zeroed each page through the
 * cache on first touch, and streaming over those cached lines costs more
 * (measured: 10.0 ms against 7.8 for a new 40 MB result, 1.8 against 2.2 ms
 * into a reused one). */
#define FO_STREAM_MIN_BYTES ((fo_idx)16 << 20)
/* Streamed runs are computed into an L1-resident block, then copied out.  Only
 * runs of FO_STREAM_MIN_RUN bytes or more stream: for short runs (the 2 KiB rows
 * of (60000, 512) + (512,)) the unaligned head and tail of every run cost more
 * than the saved read-for-ownership (measured 37 ms against 19 ms, with a fence
 * per run then). */
#define FO_STREAM_BLOCK_BYTES 1024
#define FO_STREAM_MIN_RUN ((fo_idx)8 << 10)

/* ---- iteration space ---------------------------------------------------- */

typedef struct {
    int ndim;
    int nops;
    fo_idx shape[FO_MAX_NDIM];
    fo_idx stride[3][FO_MAX_NDIM];
    char *ptr[3];
} fo_iter;

/* Returns the number of elements (0: nothing to do). */
static fo_idx fo_prepare(fo_iter *it, int nops, int key, int ndim, const fo_idx *shape,
                         char *const *ptr, const fo_idx *const *stride)
{
    fo_idx total = 1;
    int nd = 0;
    it->nops = nops;
    for (int i = 0; i < nops; i++)
        it->ptr[i] = ptr[i];
    for (int d = 0; d < ndim; d++) {
        total *= shape[d];
        if (shape[d] == 1)
            continue;
        it->shape[nd] = shape[d];
        for (int i = 0; i < nops; i++)
            it->stride[i][nd] = stride[i][d];
        nd++;
    }
    if (total == 0) {
        it->ndim = 0;
        return 0;
    }
    /* Walking an axis backwards for every operand at once keeps each element's
     * inputs and output together, so the result is unchanged. */
    for (int d = 0; d < nd; d++) {
        if (it->stride[key][d] < 0) {
            for (int i = 0; i < nops; i++) {
                it->ptr[i] += (it->shape[d] - 1) * it->stride[i][d];
                it->stride[i][d] = -it->stride[i][d];
            }
        }
    }
    /* Insertion sort, outermost = largest key stride; stable for equal strides. */
    for (int d = 1; d < nd; d++) {
        for (int e = d; e > 0 && it->stride[key][e - 1] < it->stride[key][e]; e--) {
            fo_idx t = it->shape[e];
            it->shape[e] = it->shape[e - 1];
            it->shape[e - 1] = t;
            for (int i = 0; i < nops; i++) {
                t = it->stride[i][e];
                it->stride[i][e] = it->stride[i][e - 1];
                it->stride[i][e - 1] = t;
            }
        }
    }
    /* Merge axis d-1 into d where every operand steps uniformly across both. */
    int m = 0;
    for (int d = 0; d < nd; d++) {
        if (m > 0) {
            int ok = 1;
            for (int i = 0; i < nops; i++)
                ok &= it->stride[i][m - 1] == it->stride[i][d] * it->shape[d];
            if (ok) {
                it->shape[m - 1] *= it->shape[d];
                for (int i = 0; i < nops; i++)
                    it->stride[i][m - 1] = it->stride[i][d];
                continue;
            }
        }
        it->shape[m] = it->shape[d];
        for (int i = 0; i < nops; i++)
            it->stride[i][m] = it->stride[i][d];
        m++;
    }
    if (m == 0) { /* 0-d or all-ones shape: one run of one element */
        it->shape[0] = 1;
        for (int i = 0; i < nops; i++)
            it->stride[i][0] = 0;
        m = 1;
    }
    it->ndim = m;
    return total;
}

typedef void (*fo_run_fn)(void *ctx, fo_idx n, char *const *ptr, const fo_idx *stride);

/* Runs units [u0, u1); unit u is chunk (u % chunks) of outer position (u / chunks). */
static void fo_iterate_range(const fo_iter *it, fo_idx chunks, fo_idx chunk,
                             fo_idx u0, fo_idx u1, fo_run_fn run, void *ctx)
{
    const int nd = it->ndim, nops = it->nops;
    const fo_idx inner = it->shape[nd - 1];
    fo_idx coord[FO_MAX_NDIM];
    fo_idx inner_stride[3];
    char *base[3], *p[3];
    if (u0 >= u1)
        return;
    for (int i = 0; i < nops; i++) {
        base[i] = it->ptr[i];
        inner_stride[i] = it->stride[i][nd - 1];
    }
    fo_idx rem = u0 / chunks, c = u0 % chunks;
    for (int d = nd - 2; d >= 0; d--) {
        coord[d] = rem % it->shape[d];
        rem /= it->shape[d];
        for (int i = 0; i < nops; i++)
            base[i] += coord[d] * it->stride[i][d];
    }
    for (fo_idx u = u0; u < u1; u++) {
        fo_idx start = c * chunk;
        fo_idx len = inner - start < chunk ? inner - start : chunk;
        for (int i = 0; i < nops; i++)
            p[i] = base[i] + start * inner_stride[i];
        run(ctx, len, p, inner_stride);
        if (++c == chunks) {
            c = 0;
            for (int d = nd - 2; d >= 0; d--) {
                for (int i = 0; i < nops; i++)
                    base[i] += it->stride[i][d];
                if (++coord[d] < it->shape[d])
                    break;
                for (int i = 0; i < nops; i++)
                    base[i] -= it->shape[d] * it->stride[i][d];
                coord[d] = 0;
            }
        }
    }
}

/* Orders a thread's non-temporal stores before whatever it does next (the end of
 * the parallel region, the return to Python): once per thread, not per run. */
static inline void fo_store_fence(int streamed)
{
#if FO_HAVE_X86_SIMD
    if (streamed)
        _mm_sfence();
#else
    (void)streamed;
#endif
}

/* Splits the work statically over threads; ctx_stride > 0 gives each thread
 * its own context (ctx + t * ctx_stride) for private accumulators; `streamed`:
 * the runs may use non-temporal stores. */
static int fo_iterate(const fo_iter *it, fo_idx total, int nthreads, fo_run_fn run,
                      void *ctx, size_t ctx_stride, int streamed)
{
    const fo_idx inner = it->shape[it->ndim - 1];
    const fo_idx outer = total / inner;
    if (nthreads > 1 && total >= FO_PARALLEL_MIN_ELEMS) {
        /* Too few runs to share evenly: cut each run into chunks. */
        fo_idx chunks = 1;
        if (outer < 4 * (fo_idx)nthreads) {
            chunks = (4 * (fo_idx)nthreads + outer - 1) / outer;
            fo_idx max_chunks = inner / FO_MIN_CHUNK > 1 ? inner / FO_MIN_CHUNK : 1;
            if (chunks > max_chunks)
                chunks = max_chunks;
        }
        fo_idx chunk = (inner + chunks - 1) / chunks;
        chunk = (chunk + 15) & ~(fo_idx)15;  /* whole vectors and cache lines per thread */
        chunks = (inner + chunk - 1) / chunk;
        const fo_idx units = outer * chunks;
        int used = nthreads;
#ifdef _OPENMP
        if ((fo_idx)used > units)
            used = (int)units;
        #pragma omp parallel num_threads(used)
        {
            int t = omp_get_thread_num(), nt = omp_get_num_threads();
            fo_idx u0 = units * t / nt, u1 = units * (t + 1) / nt;
            fo_iterate_range(it, chunks, chunk, u0, u1, run,
                             (char *)ctx + (size_t)t * ctx_stride);
            fo_store_fence(streamed);
        }
        return used;
#else
        (void)used;
        fo_iterate_range(it, chunks, chunk, 0, units, run, ctx);
        fo_store_fence(streamed);
        return 1;
#endif
    }
    fo_iterate_range(it, 1, inner, 0, outer, run, ctx);
    fo_store_fence(streamed);
    return 1;
}

/* ---- scalar operations, exactly NumPy's results -------------------------- */

/* np.maximum returns a when a > b or a is NaN, else b: so NaN in either operand
 * propagates, and max(-0.0, 0.0) is 0.0 (b), as NumPy's SIMD and scalar loops do.
 * The bitwise | keeps one select, which the vectoriser turns into blends. */
#define FO_DEFINE_SCALAR_OPS(T, SUF)                                                  \
    static inline T fo_add_##SUF(T a, T b) { return a + b; }                          \
    static inline T fo_subtract_##SUF(T a, T b) { return a - b; }                     \
    static inline T fo_multiply_##SUF(T a, T b) { return a * b; }                     \
    static inline T fo_divide_##SUF(T a, T b) { return a / b; }                       \
    static inline T fo_maximum_##SUF(T a, T b) { return ((a > b) | (a != a)) ? a : b; } \
    static inline T fo_minimum_##SUF(T a, T b) { return ((a < b) | (a != a)) ? a : b; } \
    static inline T fo_add_relu_##SUF(T a, T b)                                       \
    {                                                                                 \
        T s = a + b;                                                                  \
        return ((s > (T)0) | (s != s)) ? s : (T)0;                                    \
    }                                                                                 \
    static inline T fo_relu_grad_##SUF(T g, T x) { return x > (T)0 ? g : (T)0; }

FO_DEFINE_SCALAR_OPS(float, f32)
FO_DEFINE_SCALAR_OPS(double, f64)

/* ---- contiguous kernels -------------------------------------------------- */

/* Three shapes of run: both inputs contiguous (vv), b broadcast (vs), a
 * broadcast (sv).  One loop each, so every one vectorises. */
typedef void (*fo_contig_fn)(fo_idx n, const void *a, const void *b, void *out);

#define FO_DEFINE_CONTIG(ISA, ATTR, OP, T, SUF)                                       \
    ATTR static void OP##_vv_##SUF##_##ISA(fo_idx n, const void *pa, const void *pb,  \
                                            void *po)                                 \
    {                                                                                 \
        const T *a = (const T *)pa, *b = (const T *)pb;                               \
        T *o = (T *)po;                                                               \
        FO_IVDEP                                                                      \
        for (fo_idx i = 0; i < n; i++)                                                \
            o[i] = fo_##OP##_##SUF(a[i], b[i]);                                       \
    }                                                                                 \
    ATTR static void OP##_vs_##SUF##_##ISA(fo_idx n, const void *pa, const void *pb,  \
                                            void *po)                                 \
    {                                                                                 \
        const T *a = (const T *)pa;                                                   \
        const T b = *(const T *)pb;                                                   \
        T *o = (T *)po;                                                               \
        FO_IVDEP                                                                      \
        for (fo_idx i = 0; i < n; i++)                                                \
            o[i] = fo_##OP##_##SUF(a[i], b);                                          \
    }                                                                                 \
    ATTR static void OP##_sv_##SUF##_##ISA(fo_idx n, const void *pa, const void *pb,  \
                                            void *po)                                 \
    {                                                                                 \
        const T a = *(const T *)pa;                                                   \
        const T *b = (const T *)pb;                                                   \
        T *o = (T *)po;                                                               \
        FO_IVDEP                                                                      \
        for (fo_idx i = 0; i < n; i++)                                                \
            o[i] = fo_##OP##_##SUF(a, b[i]);                                          \
    }

#define FO_DEFINE_ALL_CONTIG(ISA, ATTR)                                               \
    FO_DEFINE_CONTIG(ISA, ATTR, add, float, f32)                                      \
    FO_DEFINE_CONTIG(ISA, ATTR, subtract, float, f32)                                 \
    FO_DEFINE_CONTIG(ISA, ATTR, multiply, float, f32)                                 \
    FO_DEFINE_CONTIG(ISA, ATTR, divide, float, f32)                                   \
    FO_DEFINE_CONTIG(ISA, ATTR, maximum, float, f32)                                  \
    FO_DEFINE_CONTIG(ISA, ATTR, minimum, float, f32)                                  \
    FO_DEFINE_CONTIG(ISA, ATTR, add_relu, float, f32)                                 \
    FO_DEFINE_CONTIG(ISA, ATTR, relu_grad, float, f32)                                \
    FO_DEFINE_CONTIG(ISA, ATTR, add, double, f64)                                     \
    FO_DEFINE_CONTIG(ISA, ATTR, subtract, double, f64)                                \
    FO_DEFINE_CONTIG(ISA, ATTR, multiply, double, f64)                                \
    FO_DEFINE_CONTIG(ISA, ATTR, divide, double, f64)                                  \
    FO_DEFINE_CONTIG(ISA, ATTR, maximum, double, f64)                                 \
    FO_DEFINE_CONTIG(ISA, ATTR, minimum, double, f64)                                 \
    FO_DEFINE_CONTIG(ISA, ATTR, add_relu, double, f64)                                \
    FO_DEFINE_CONTIG(ISA, ATTR, relu_grad, double, f64)

#define FO_ROW(ISA, OP, SUF) {OP##_vv_##SUF##_##ISA, OP##_vs_##SUF##_##ISA, OP##_sv_##SUF##_##ISA}
#define FO_TABLE(ISA)                                                                 \
    {{FO_ROW(ISA, add, f32), FO_ROW(ISA, subtract, f32), FO_ROW(ISA, multiply, f32),   \
      FO_ROW(ISA, divide, f32), FO_ROW(ISA, maximum, f32), FO_ROW(ISA, minimum, f32),  \
      FO_ROW(ISA, add_relu, f32), FO_ROW(ISA, relu_grad, f32)},                        \
     {FO_ROW(ISA, add, f64), FO_ROW(ISA, subtract, f64), FO_ROW(ISA, multiply, f64),   \
      FO_ROW(ISA, divide, f64), FO_ROW(ISA, maximum, f64), FO_ROW(ISA, minimum, f64),  \
      FO_ROW(ISA, add_relu, f64), FO_ROW(ISA, relu_grad, f64)}}

typedef fo_contig_fn fo_table[2][FO_NUM_BINARY_OPS][3];

FO_DEFINE_ALL_CONTIG(portable, )
static const fo_table fo_table_portable = FO_TABLE(portable);

#if FO_HAVE_X86_SIMD
FO_DEFINE_ALL_CONTIG(avx2, FO_TARGET_AVX2)
static const fo_table fo_table_avx2 = FO_TABLE(avx2);
#endif

static const fo_table *fo_active = &fo_table_portable;
static int fo_active_level = FO_ISA_PORTABLE;

void fo_elementwise_set_isa(int level)
{
#if FO_HAVE_X86_SIMD
    /* Memory-bound loops gain nothing from 512-bit vectors: AVX-512 CPUs run the AVX2 table. */
    if (level >= FO_ISA_AVX2 && fo_cpu_level() >= FO_ISA_AVX2) {
        fo_active = &fo_table_avx2;
        fo_active_level = FO_ISA_AVX2;
        return;
    }
#endif
    (void)level;
    fo_active = &fo_table_portable;
    fo_active_level = FO_ISA_PORTABLE;
}

int fo_elementwise_get_isa(void) { return fo_active_level; }

/* ---- binary runs ---------------------------------------------------------- */

#define FO_STRIDED_CASE(OPC, OP, T, SUF)                                              \
    case OPC:                                                                         \
        for (fo_idx i = 0; i < n; i++)                                                \
            *(T *)(o + i * so) = fo_##OP##_##SUF(*(const T *)(a + i * sa),            \
                                                 *(const T *)(b + i * sb));           \
        break;

#define FO_DEFINE_STRIDED(T, SUF)                                                     \
    static void fo_strided_##SUF(int op, fo_idx n, const char *a, fo_idx sa,          \
                                 const char *b, fo_idx sb, char *o, fo_idx so)        \
    {                                                                                 \
        switch (op) {                                                                 \
            FO_STRIDED_CASE(FO_ADD, add, T, SUF)                                      \
            FO_STRIDED_CASE(FO_SUBTRACT, subtract, T, SUF)                            \
            FO_STRIDED_CASE(FO_MULTIPLY, multiply, T, SUF)                            \
            FO_STRIDED_CASE(FO_DIVIDE, divide, T, SUF)                                \
            FO_STRIDED_CASE(FO_MAXIMUM, maximum, T, SUF)                              \
            FO_STRIDED_CASE(FO_MINIMUM, minimum, T, SUF)                              \
            FO_STRIDED_CASE(FO_ADD_RELU, add_relu, T, SUF)                            \
            FO_STRIDED_CASE(FO_RELU_GRAD, relu_grad, T, SUF)                          \
        }                                                                             \
    }

FO_DEFINE_STRIDED(float, f32)
FO_DEFINE_STRIDED(double, f64)

typedef struct {
    int op, dtype;
    fo_idx itemsize;
    const fo_table *table;
    int stream;
} fo_binary_ctx;

#if FO_HAVE_X86_SIMD
FO_TARGET_AVX2 static void fo_stream_copy(char *dst, const char *src, fo_idx nbytes)
{
    for (fo_idx i = 0; i < nbytes; i += 32)
        _mm256_stream_ps((float *)(dst + i), _mm256_load_ps((const float *)(src + i)));
}

/* fn over a long contiguous run, with the output written by streaming stores.
 * shape: 0 both inputs advance, 1 b is a scalar, 2 a is a scalar. */
static void fo_contig_streamed(fo_contig_fn fn, int shape, fo_idx n, const char *a,
                               const char *b, char *o, fo_idx w)
{
    _Alignas(32) char block[FO_STREAM_BLOCK_BYTES];
    const fo_idx wa = shape == 2 ? 0 : w, wb = shape == 1 ? 0 : w;
    const fo_idx per_block = FO_STREAM_BLOCK_BYTES / w;
    fo_idx head = (fo_idx)(((32 - ((uintptr_t)o & 31)) & 31) / w);
    if ((uintptr_t)o % w != 0 || head > n)
        head = n;
    fn(head, a, b, o);
    fo_idx i = head;
    for (; i + per_block <= n; i += per_block) {
        fn(per_block, a + i * wa, b + i * wb, block);
        fo_stream_copy(o + i * w, block, FO_STREAM_BLOCK_BYTES);
    }
    fn(n - i, a + i * wa, b + i * wb, o + i * w);
}
#endif

static void fo_binary_run(void *vctx, fo_idx n, char *const *p, const fo_idx *s)
{
    const fo_binary_ctx *ctx = (const fo_binary_ctx *)vctx;
    const fo_idx w = ctx->itemsize;
    if (s[2] == w && (s[0] == w || s[0] == 0) && (s[1] == w || s[1] == 0)
            && (s[0] | s[1]) != 0) {
        int shape = s[0] == 0 ? 2 : (s[1] == 0 ? 1 : 0);
        fo_contig_fn fn = (*ctx->table)[ctx->dtype][ctx->op][shape];
#if FO_HAVE_X86_SIMD
        if (ctx->stream && n * w >= FO_STREAM_MIN_RUN) {
            fo_contig_streamed(fn, shape, n, p[0], p[1], p[2], w);
            return;
        }
#endif
        fn(n, p[0], p[1], p[2]);
    } else if (ctx->dtype == FO_FLOAT32) {
        fo_strided_f32(ctx->op, n, p[0], s[0], p[1], s[1], p[2], s[2]);
    } else {
        fo_strided_f64(ctx->op, n, p[0], s[0], p[1], s[1], p[2], s[2]);
    }
}

void fo_binary(int op, int dtype, int ndim, const fo_idx *shape,
               const char *a, const fo_idx *stride_a,
               const char *b, const fo_idx *stride_b,
               char *out, const fo_idx *stride_out, int nthreads, int out_is_fresh)
{
    fo_iter it;
    char *ptr[3] = {(char *)a, (char *)b, out};
    const fo_idx *stride[3] = {stride_a, stride_b, stride_out};
    fo_idx total = fo_prepare(&it, 3, 2, ndim, shape, ptr, stride);
    if (total == 0)
        return;
    const fo_idx w = dtype == FO_FLOAT32 ? 4 : 8;
    fo_binary_ctx ctx = {op, dtype, w, fo_active,
                         !out_is_fresh && fo_active_level >= FO_ISA_AVX2
                             && total * w >= FO_STREAM_MIN_BYTES};
    fo_iterate(&it, total, nthreads, fo_binary_run, &ctx, 0, ctx.stream);
}

/* ---- sums ------------------------------------------------------------------ */

/* Sums accumulate in double.  Strided runs use NumPy's pairwise blocking (8
 * accumulators, blocks of 128, halves above that), so error grows like log(n).
 * Contiguous runs use 16 double lanes, which the vectoriser keeps in registers:
 * with a 53-bit accumulator a float32 sum of 1e7 values loses nothing visible,
 * and float64 keeps the pairwise blocking on top of the lanes. */
#define FO_PAIRWISE_BLOCK 128
#define FO_LANES 16
#define FO_DEFINE_PAIRWISE(T, SUF)                                                    \
    static double fo_pairwise_##SUF(const char *x, fo_idx n, fo_idx s)                \
    {                                                                                 \
        if (n < 8) {                                                                  \
            double r = 0.0;                                                           \
            for (fo_idx i = 0; i < n; i++)                                            \
                r += *(const T *)(x + i * s);                                         \
            return r;                                                                 \
        }                                                                             \
        if (n <= FO_PAIRWISE_BLOCK) {                                                 \
            double r[8];                                                              \
            for (int j = 0; j < 8; j++)                                               \
                r[j] = *(const T *)(x + j * s);                                       \
            fo_idx i;                                                                 \
            for (i = 8; i < n - (n % 8); i += 8)                                      \
                for (int j = 0; j < 8; j++)                                           \
                    r[j] += *(const T *)(x + (i + j) * s);                            \
            double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7])); \
            for (; i < n; i++)                                                        \
                res += *(const T *)(x + i * s);                                       \
            return res;                                                               \
        }                                                                             \
        fo_idx n2 = n / 2;                                                            \
        n2 -= n2 % 8;                                                                 \
        return fo_pairwise_##SUF(x, n2, s) + fo_pairwise_##SUF(x + n2 * s, n - n2, s); \
    }

FO_DEFINE_PAIRWISE(float, f32)
FO_DEFINE_PAIRWISE(double, f64)

#define FO_DEFINE_LANES(ISA, ATTR, T, SUF)                                            \
    ATTR static double fo_lanes_##SUF##_##ISA(const T *x, fo_idx n)                   \
    {                                                                                 \
        double r[FO_LANES] = {0};                                                     \
        fo_idx i = 0;                                                                 \
        for (; i + FO_LANES <= n; i += FO_LANES)                                      \
            for (int j = 0; j < FO_LANES; j++)                                        \
                r[j] += (double)x[i + j];                                             \
        double tail = 0.0;                                                            \
        for (; i < n; i++)                                                            \
            tail += x[i];                                                             \
        for (int w = FO_LANES / 2; w > 0; w /= 2)                                     \
            for (int j = 0; j < w; j++)                                               \
                r[j] += r[j + w];                                                     \
        return r[0] + tail;                                                           \
    }

FO_DEFINE_LANES(portable, , float, f32)
FO_DEFINE_LANES(portable, , double, f64)
#if FO_HAVE_X86_SIMD
FO_DEFINE_LANES(avx2, FO_TARGET_AVX2, float, f32)
FO_DEFINE_LANES(avx2, FO_TARGET_AVX2, double, f64)
#endif

/* Block of at most 4096 elements per lane pass, combined pairwise above that:
 * float64 data keeps NumPy-like log(n) error growth. */
#define FO_LANE_BLOCK 4096
static double fo_sum_run(int dtype, const char *x, fo_idx n, fo_idx s)
{
    const fo_idx w = dtype == FO_FLOAT32 ? 4 : 8;
    if (s != w)
        return dtype == FO_FLOAT32 ? fo_pairwise_f32(x, n, s) : fo_pairwise_f64(x, n, s);
    if (n > FO_LANE_BLOCK) {
        fo_idx n2 = (n / 2) & ~(fo_idx)(FO_LANES - 1);
        return fo_sum_run(dtype, x, n2, s) + fo_sum_run(dtype, x + n2 * s, n - n2, s);
    }
#if FO_HAVE_X86_SIMD
    if (fo_active_level >= FO_ISA_AVX2)
        return dtype == FO_FLOAT32 ? fo_lanes_f32_avx2((const float *)x, n)
                                   : fo_lanes_f64_avx2((const double *)x, n);
#endif
    return dtype == FO_FLOAT32 ? fo_lanes_f32_portable((const float *)x, n)
                               : fo_lanes_f64_portable((const double *)x, n);
}

typedef struct {
    double total;
    int dtype;
    char pad[64 - sizeof(double) - sizeof(int)]; /* one cache line per thread */
} fo_sum_ctx;

static void fo_sum_all_run(void *vctx, fo_idx n, char *const *p, const fo_idx *s)
{
    fo_sum_ctx *ctx = (fo_sum_ctx *)vctx;
    ctx->total += fo_sum_run(ctx->dtype, p[0], n, s[0]);
}

double fo_sum_all(int dtype, int ndim, const fo_idx *shape,
                  const char *x, const fo_idx *stride_x, int nthreads)
{
    fo_iter it;
    char *ptr[1] = {(char *)x};
    const fo_idx *stride[1] = {stride_x};
    fo_idx total = fo_prepare(&it, 1, 0, ndim, shape, ptr, stride);
    if (total == 0)
        return 0.0;
    fo_sum_ctx ctx[FO_MAX_NDIM];  /* per-thread partial sums */
    int nt = nthreads < FO_MAX_NDIM ? nthreads : FO_MAX_NDIM;
    for (int t = 0; t < nt; t++) {
        ctx[t].total = 0.0;
        ctx[t].dtype = dtype;
    }
    int used = fo_iterate(&it, total, nt, fo_sum_all_run, ctx, sizeof(fo_sum_ctx), 0);
    double r = 0.0;
    for (int t = 0; t < used; t++)
        r += ctx[t].total;
    return r;
}

/* acc[i] += x[i]: the row-by-row step of a sum over a leading axis. */
#define FO_DEFINE_ACCUMULATE(ISA, ATTR, T, SUF)                                       \
    ATTR static void fo_accumulate_##SUF##_##ISA(fo_idx n, const T *x, double *acc)   \
    {                                                                                 \
        FO_IVDEP                                                                      \
        for (fo_idx i = 0; i < n; i++)                                                \
            acc[i] += (double)x[i];                                                   \
    }

FO_DEFINE_ACCUMULATE(portable, , float, f32)
FO_DEFINE_ACCUMULATE(portable, , double, f64)
#if FO_HAVE_X86_SIMD
FO_DEFINE_ACCUMULATE(avx2, FO_TARGET_AVX2, float, f32)
FO_DEFINE_ACCUMULATE(avx2, FO_TARGET_AVX2, double, f64)
#endif

static void fo_sum_into_run(void *vctx, fo_idx n, char *const *p, const fo_idx *s)
{
    const int dtype = *(const int *)vctx;
    double *acc = (double *)p[1];
    if (s[1] == 0) {
        *acc += fo_sum_run(dtype, p[0], n, s[0]);
    } else if (dtype == FO_FLOAT32 && s[0] == 4 && s[1] == 8) {
#if FO_HAVE_X86_SIMD
        if (fo_active_level >= FO_ISA_AVX2) {
            fo_accumulate_f32_avx2(n, (const float *)p[0], acc);
            return;
        }
#endif
        fo_accumulate_f32_portable(n, (const float *)p[0], acc);
    } else if (dtype == FO_FLOAT64 && s[0] == 8 && s[1] == 8) {
#if FO_HAVE_X86_SIMD
        if (fo_active_level >= FO_ISA_AVX2) {
            fo_accumulate_f64_avx2(n, (const double *)p[0], acc);
            return;
        }
#endif
        fo_accumulate_f64_portable(n, (const double *)p[0], acc);
    } else if (dtype == FO_FLOAT32) {
        for (fo_idx i = 0; i < n; i++)
            *(double *)((char *)acc + i * s[1]) += *(const float *)(p[0] + i * s[0]);
    } else {
        for (fo_idx i = 0; i < n; i++)
            *(double *)((char *)acc + i * s[1]) += *(const double *)(p[0] + i * s[0]);
    }
}

void fo_sum_into(int dtype, int ndim, const fo_idx *shape,
                 const char *x, const fo_idx *stride_x,
                 double *acc, const fo_idx *stride_acc)
{
    fo_iter it;
    char *ptr[2] = {(char *)x, (char *)acc};
    const fo_idx *stride[2] = {stride_x, stride_acc};
    fo_idx total = fo_prepare(&it, 2, 0, ndim, shape, ptr, stride);
    if (total == 0)
        return;
    /* Serial: two threads could add into the same accumulator. */
    fo_iterate(&it, total, 1, fo_sum_into_run, &dtype, 0, 0);
}

/* Elementwise kernels and reductions (see fo_elementwise.h); the reductions' drivers are in
 * fo_reductions.inc, included at the end.
 *
 * The iterator (fo_iter.h) turns any layout into runs; each run goes to a contiguous loop
 * when the inner strides allow (out contiguous, inputs contiguous or broadcast scalars),
 * else to a plain strided loop.  The loops come from fo_elementwise_body.inc, compiled per
 * element type and per ISA (portable C, and the same C under the AVX2 target attribute);
 * each call picks its table from its `isa` argument.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fo_elementwise.h"
#include "fo_iter.h"

#if FO_HAVE_X86_SIMD
#include <immintrin.h>
#endif

/* An output this large cannot stay in cache for its next reader anyway, so it is written
 * with non-temporal stores: that skips the read-for-ownership of every destination line,
 * about a third of the traffic of a binary op.  16 MiB is half the L3 of the largest
 * desktop/server parts this targets.  Not for a freshly allocated output: the kernel has
 * just zeroed each page through the cache on first touch, and streaming over those cached
 * lines costs more (measured: 10.0 ms against 7.8 for a new 40 MB result, 1.8 against 2.2
 * ms into a reused one). */
#define FO_STREAM_MIN_BYTES ((fo_idx)16 << 20)
/* Streamed runs are computed into an L1-resident block, then copied out.  Only runs of
 * FO_STREAM_MIN_RUN bytes or more stream: for short runs (the 2 KiB rows of (60000, 512) +
 * (512,)) the unaligned head and tail of every run cost more than the saved
 * read-for-ownership (measured 37 ms against 19 ms). */
#define FO_STREAM_BLOCK_BYTES 1024
#define FO_STREAM_MIN_RUN ((fo_idx)8 << 10)
#define FO_SUM_LANES 16
#define FO_PAIRWISE_BLOCK 128

typedef void (*fo_contig_fn)(fo_idx n, const void *a, const void *b, void *out);
typedef void (*fo_strided_fn)(fo_idx n, const char *a, fo_idx sa, const char *b, fo_idx sb,
                              char *out, fo_idx so);

typedef struct {
    fo_contig_fn binary[FO_NUM_BINARY][3]; /* vv, vs (b scalar), sv (a scalar) */
    fo_strided_fn binary_strided[FO_NUM_BINARY];
    double (*sum_lanes)(const void *x, fo_idx n);
    double (*sum_pairwise)(const char *x, fo_idx n, fo_idx s);
    void (*accumulate)(fo_idx n, const void *x, double *acc);
    int (*finite_run)(const void *x, fo_idx n, fo_idx s);
} fo_ew_kernels;

/* No FMA contraction in the loops: the AVX2 build would fuse tanh_backward's 1 - y*y on its
 * contiguous loops only, so the same call would give other bits for another layout or SIMD
 * path, and other bits than NumPy's g * (1 - y*y). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#endif

#define FO_T float
#define FO_NAME(x) x##_f32_portable
#define FO_TARGET
#include "fo_elementwise_body.inc"
#undef FO_T
#undef FO_NAME
#undef FO_TARGET

#define FO_T double
#define FO_NAME(x) x##_f64_portable
#define FO_TARGET
#include "fo_elementwise_body.inc"
#undef FO_T
#undef FO_NAME
#undef FO_TARGET

#if FO_HAVE_X86_SIMD
#define FO_T float
#define FO_NAME(x) x##_f32_avx2
#define FO_TARGET FO_TARGET_AVX2
#include "fo_elementwise_body.inc"
#undef FO_T
#undef FO_NAME
#undef FO_TARGET

#define FO_T double
#define FO_NAME(x) x##_f64_avx2
#define FO_TARGET FO_TARGET_AVX2
#include "fo_elementwise_body.inc"
#undef FO_T
#undef FO_NAME
#undef FO_TARGET
#endif
#if defined(__clang__)
#pragma STDC FP_CONTRACT ON
#elif defined(__GNUC__)
#pragma GCC pop_options
#endif

int fo_elementwise_isa(int isa)
{
    return fo_family_isa(isa, FO_HAVE_X86_SIMD ? FO_ISA_AVX2 : FO_ISA_PORTABLE);
}

static const fo_ew_kernels *fo_ew_pick(int dtype, int isa)
{
#if FO_HAVE_X86_SIMD
    if (fo_elementwise_isa(isa) == FO_ISA_AVX2)
        return dtype == FO_F32 ? &kernels_f32_avx2 : &kernels_f64_avx2;
#endif
    (void)isa;
    return dtype == FO_F32 ? &kernels_f32_portable : &kernels_f64_portable;
}

/* ---- binary runs ---- */

typedef struct {
    int op;
    fo_idx itemsize;
    const fo_ew_kernels *k;
    int stream;
} fo_ew_ctx;

#if FO_HAVE_X86_SIMD
FO_TARGET_AVX2 static void fo_stream_copy(char *dst, const char *src, fo_idx nbytes)
{
    for (fo_idx i = 0; i < nbytes; i += 32)
        _mm256_stream_ps((float *)(dst + i), _mm256_load_ps((const float *)(src + i)));
}

/* fn over a long contiguous run, the output written by streaming stores.
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

/* Orders a thread's non-temporal stores before whatever it does next (the end of the
 * region, the return to Python): once per thread, not per run. */
static void fo_store_fence(void *ctx)
{
    (void)ctx;
    _mm_sfence();
}
#endif

static void fo_binary_run(void *vctx, fo_idx n, char *const *p, const fo_idx *s)
{
    const fo_ew_ctx *ctx = (const fo_ew_ctx *)vctx;
    const fo_idx w = ctx->itemsize;
    if (s[2] == w && (s[0] == w || s[0] == 0) && (s[1] == w || s[1] == 0) && (s[0] | s[1]) != 0) {
        int shape = s[0] == 0 ? 2 : (s[1] == 0 ? 1 : 0);
        fo_contig_fn fn = ctx->k->binary[ctx->op][shape];
#if FO_HAVE_X86_SIMD
        if (ctx->stream && n * w >= FO_STREAM_MIN_RUN) {
            fo_contig_streamed(fn, shape, n, p[0], p[1], p[2], w);
            return;
        }
#endif
        fn(n, p[0], p[1], p[2]);
    } else {
        ctx->k->binary_strided[ctx->op](n, p[0], s[0], p[1], s[1], p[2], s[2]);
    }
}

void fo_binary(int op, int dtype, int isa, int nthreads, int ndim, const fo_idx *shape,
               const char *a, const fo_idx *stride_a, const char *b, const fo_idx *stride_b,
               char *out, const fo_idx *stride_out, int out_is_fresh)
{
    fo_iter it;
    char *ptr[3] = {(char *)a, (char *)b, out};
    const fo_idx *stride[3] = {stride_a, stride_b, stride_out};
    fo_idx total = fo_iter_prepare(&it, 3, 2, ndim, shape, ptr, stride);
    if (total == 0)
        return;
    const fo_idx w = dtype == FO_F32 ? 4 : 8;
    fo_ew_ctx ctx = {op, w, fo_ew_pick(dtype, isa), 0};
#if FO_HAVE_X86_SIMD
    ctx.stream = !out_is_fresh && fo_elementwise_isa(isa) >= FO_ISA_AVX2
                 && total * w >= FO_STREAM_MIN_BYTES;
    fo_iter_run(&it, total, nthreads, fo_binary_run, &ctx, 0, ctx.stream ? fo_store_fence : NULL);
#else
    (void)out_is_fresh;
    fo_iter_run(&it, total, nthreads, fo_binary_run, &ctx, 0, NULL);
#endif
}

#include "fo_reductions.inc" /* sum, sum_into, all_finite over the same tables */

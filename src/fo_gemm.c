/* GEMM micro-kernels (portable C here; AVX2+FMA, AVX-512 and NEON in fo_gemm_*.inc),
 * their blocking, and the driver instantiations (fo_gemm_driver.inc) for float and double.
 *
 * A micro-kernel computes one MR x NR tile of C from packed panels:
 *   ukr(kc, pa, pb, ldb, c, rsc, alpha, beta):  C := alpha * PA.PB + beta * C
 * with PA an MR x kc panel stored column by column (pa[p*MR + r]) and PB kc rows
 * of NR contiguous values, ldb apart (a packed panel: ldb = NR; B itself when its
 * columns are contiguous: ldb = its row stride); C has unit column stride.
 * The skinny ("sup") kernels read A in place through (rsa, csa) instead, and
 * store only the first `cols` columns.  beta == 0 never reads C.
 *
 * The driver (fo_gemm_driver.inc) is shared by all kernels.  Blocksizes live in the
 * kernel tables at the end of this file, with the cache level each one targets.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fo_gemm.h"
#include "fo_pool.h"

#if FO_HAVE_X86_SIMD
#include <immintrin.h>
#endif

#define FO_CEIL_DIV(x, y) (((x) + (y) - 1) / (y))
#define FO_ROUND_UP(x, y) (FO_CEIL_DIV(x, y) * (y))
/* Block size for a loop of length x with blocks of at most `bmax` (a multiple of q):
 * equal blocks, multiples of q, so k = 784 runs as 4 x 196 rather than 3 x 256 + 16
 * (a thin last block pays a whole pass over C for little arithmetic). */
#define FO_BALANCE(x, bmax, q) \
    ((x) <= (bmax) ? (x) : FO_ROUND_UP(FO_CEIL_DIV(x, FO_CEIL_DIV(x, bmax)), q))
#define FO_MAX_TILE (16 * 64) /* largest MR * NR of any kernel */
#define FO_DOT_R 4             /* rows of A per dot-product kernel call */

/* AVX-512 tiles (MR rows of A per micro-kernel, NV vectors wide) and blocks; -D overrides
 * are for tuning sweeps only */
#ifndef FO_S512_MR
#define FO_S512_MR 6
#endif
#ifndef FO_D512_MR
#define FO_D512_MR 6
#endif
#ifndef FO_S512_NV
#define FO_S512_NV 4 /* vectors per row: NR = 16 * NV floats */
#endif
#ifndef FO_D512_NV
#define FO_D512_NV 4 /* NR = 8 * NV doubles */
#endif
#ifndef FO_S512_NC
#define FO_S512_NC 4096
#endif
#ifndef FO_S512_KC
#define FO_S512_KC 512
#endif
#ifndef FO_S512_MC
#define FO_S512_MC 144
#endif
#ifndef FO_D512_KC
#define FO_D512_KC 256
#endif
#ifndef FO_D512_MC
#define FO_D512_MC 72
#endif

/* Column tiles of B from which the blocked path looks for all-zero steps in A's panels
 * (fo_gemm_panels.inc: skip_zero_steps): on sparse rows the scan costs about as much as
 * two tiles' arithmetic per step, so fewer tiles would not pay for it. */
#define FO_SKIP_MIN_TILES 4

/* N or M at or below this takes a skinny path (gemm_driver.inc) instead of the
 * fully packed one: SUP reads A in place (small N), SUPM reads B in place (small M). */
#define FO_SUP_MAX 16
/* The skinny paths pack one operand whole along k, its rows padded to the tile's (a (1, k)
 * row of A to MR rows), so a long k costs a multiple of that operand in memory: 384 MB for
 * a float32 (1, 2^24) times (2^24, 1).  Past this many bytes a product takes the blocked
 * path instead, whose buffers are KC x NC at most. */
#define FO_SKINNY_PACK_MAX ((size_t)64 << 20)
/* Products of at most this many rows (a row-major B) take the few-row path
 * (fo_gemm_gemv.inc), in column chunks whose accumulators fill at most FO_GEMV_ACC_BYTES
 * (on the stack; L1 or L2).  Wide chunks matter: each chunk walks all of B's rows, and
 * (1, 4096) x (4096, 4096) took 2.9x NumPy's time in chunks of 512 floats, 1.1-1.4x in
 * chunks of 2048-4096 (Zen 3, 1 thread). */
#define FO_GEMV_MAX_M 4
#define FO_GEMV_ACC_BYTES 32768
/* ... and so do the small-M path's products (up to FO_SUP_MAX rows) whose B is past this
 * many bytes: read by strips from memory, such a B cost the small-M path 2-4x the few-row
 * path's time ((8, 4096) x (4096, 4096) 39-44 ms against 12, (8, 1e5) x (1e5, 64) 16-18
 * against 4; Zen 3, 1 thread), while a B that stays in cache runs as fast or faster there
 * ((16, 784) x (784, 512), (16, 128) x (128, 128)). */
#define FO_GEMV_WIDE_B_BYTES ((double)(4 << 20))
/* Products with B and C in unit-stride rows run the kernel's unpacked small kernel
 * (fo_gemm_small.inc; AVX2 and AVX-512) when B is at most FO_SMALL_B_BYTES, so that it
 * stays in L2 while A's rows stream past once per tile width, and 2mnk is at most
 * FO_SMALL_FLOPS per thread.  On the Xeon, 1 thread, against the packed path: AVX-512 32^3
 * 2.9x, 48^3 2.4x, 64^3 1.4x, 96^3 1.5x, 160^3 1.2x (OpenBLAS's SkylakeX kernel: from
 * 0.29-0.72x to 0.84-1.3x); AVX2 1.0-1.35x; 2000x200x200 and 4000x64x64 the same;
 * 200x200x2000, with 1.6 MB of B, 0.86x.  On 2 threads the threads share its row tiles:
 * against OpenBLAS, 96^3 went from 0.79x to 1.25-1.40x, 128^3 1.02 to 1.87, 160^3 0.81 to
 * 1.55, 200^3 0.87 to 1.22, 256^3 1.09 to 1.28 (with the cap per thread; 1.09 with 16
 * MFLOP in all), 1000x100x100 0.83 to 1.19, 128x10x512 0.65 to 1.06; AVX2 against Haswell
 * 0.78-0.90 to 1.06-1.50.  A forced thread count (nthreads < 0, the tests' way to reach
 * the packed paths' code) keeps them packed. */
#ifndef FO_SMALL_B_BYTES
#define FO_SMALL_B_BYTES (256 << 10)
#endif
#ifndef FO_SMALL_FLOPS
#define FO_SMALL_FLOPS (1 << 24)
#endif
/* rows of the small kernel's tile, and of a thread's share of its row tiles */
#define FO_SMALL_MR 6
/* What a call runs (fo_gemm_driver.inc: plan): its path (FO_PATH_*, fo_gemm.h), whether A
 * and B trade places (C^T = B^T A^T), and its thread count. */
typedef struct {
    int path, swap, nt;
} fo_plan;
/* The dot-product path needs k long enough to pay for its horizontal sums. */
#define FO_DOT_MIN_K 64

/* Work (2*m*n*k flops) each thread must get before a second one is woken: about 5 us of
 * arithmetic per core, OpenBLAS's threshold too.  The MLP's 1.3 MFLOP products run
 * 1.2-1.8x faster on 2 threads than on one.  With static shares and barriers they took
 * milliseconds instead of 40 us when another process held a core, so this was 2 MFLOP;
 * with work sharing a late worker is skipped (fo_parallel_shared), and under that load
 * they take what they take on one thread. */
#define FO_FLOPS_PER_THREAD (1 << 19)

/* Bytes of packed B that the blocked path on several threads (shared_body) keeps for all
 * the row blocks to stream past: well inside the L3 cache, and a block of B deep enough in
 * k (784 x 512 floats is 1.6 MB) that most products pack it in one go. */
#ifndef FO_SHARED_B_BYTES
#define FO_SHARED_B_BYTES (4 << 20)
#endif
/* ... and of packed A, which it packs once for all its units (else each unit packs its
 * rows) when FO_SHARED_A_BYTES holds a KC-deep slab of all of A's rows, B blocks then only
 * as deep as those bytes allow; or when the slab is at most FO_SHARED_A_SLAB_MAX and B
 * needs several blocks anyway.  On 2 threads: 2048^3 ran 5-8% faster with its 2.1 MB slab
 * shared; 1024^3 9% slower with 4 MB of A per B block than with 2; 3000x784x512 10% slower
 * when sharing its 2.4 MB slab cut its one B block into four. */
#ifndef FO_SHARED_A_BYTES
#define FO_SHARED_A_BYTES (2 << 20)
#endif
#ifndef FO_SHARED_A_SLAB_MAX
#define FO_SHARED_A_SLAB_MAX (4 << 20)
#endif
/* Bytes of packed B up to which shared_body's units are row blocks, never column groups.
 * Products with a small k store far more than they compute, and C's rows from np.empty
 * start 16 bytes past a cache line: split by columns, two threads stored into the same line
 * of every row.  Xeon (model 207), 2 threads, B read transposed: rows / columns took 0.41-
 * 0.81 of the time at k = 4 and 10 (128 and 512 rows, C aligned or not), but 1.09-1.10 with
 * C aligned at k = 16-24 (32-48 KB of B), where the B panels are reused less. */
#ifndef FO_SHARED_ROWS_B_BYTES
#define FO_SHARED_ROWS_B_BYTES (24 << 10)
#endif
/* Units of C per thread in shared_body's last phase: the more, the less a thread idles
 * while another finishes its last, but each unit reads its A and B blocks again. */
#ifndef FO_SHARED_UNITS
#define FO_SHARED_UNITS 4
#endif

/* Elements of C from which fo_gemm_rows hands a whole product to fn on several threads. */
#define FO_ROWS_PAR_MIN 32768

static int fo_gemm_threads(int nthreads, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k)
{
    double per = 2.0 * (double)m * (double)n * (double)k / FO_FLOPS_PER_THREAD;
    if (nthreads < 0) /* exactly -nthreads: how tests reach the parallel code of small shapes */
        return -nthreads;
    if (nthreads == 0)
        return 1;
    if (per < nthreads)
        return per < 2 ? 1 : (int)per;
    return nthreads;
}

/* Split `total` units statically over the region's threads: this thread's [lo, hi). */
#define FO_SHARE(total, lo, hi) \
    ((lo) = (total) * tid / nt, (hi) = (total) * (tid + 1) / nt)
/* The GEMM's phases (fo_pool.h: fo_phases; every path on several threads runs its task with
 * fo_parallel_shared).  fo_phase_begin_items starts a phase over `items` things in
 * FO_SHARED_UNITS ranges per thread (one range on one thread), and fo_phase_next_range
 * hands them out as [lo, hi). */
static void fo_phase_begin_items(fo_phases *p, ptrdiff_t items)
{
    fo_phase_begin(p, p->nt <= 1 ? (items > 0) : (long)FO_MIN(items, FO_SHARED_UNITS * p->nt));
}

/* The next unit as a range [lo, hi) of the phase's items (fo_phase_begin_items). */
static int fo_phase_next_range(fo_phases *p, ptrdiff_t items, ptrdiff_t *lo, ptrdiff_t *hi)
{
    const long u = fo_phase_next(p);
    if (u < 0)
        return 0;
    *lo = items * u / p->units;
    *hi = items * (u + 1) / p->units;
    return 1;
}

/* 64-byte aligned buffers (cache line; an AVX-512 register) without relying on
 * aligned_alloc/posix_memalign, which MSVC lacks. */
static void *fo_alloc(size_t bytes)
{
    unsigned char *raw = (unsigned char *)malloc(bytes + 64 + sizeof(void *));
    uintptr_t p;
    if (raw == NULL)
        return NULL;
    p = ((uintptr_t)(raw + sizeof(void *)) + 63) & ~(uintptr_t)63;
    ((void **)p)[-1] = raw;
    return (void *)p;
}

static void fo_free(void *p)
{
    if (p != NULL)
        free(((void **)p)[-1]);
}

/* The buffers of a call (packed A and B, the rows of fo_gemm_rows, the zero-step lists)
 * come from one block, and one block is kept for the next call.  Allocated and freed per
 * call, they faulted in fresh pages on every call once they passed glibc's trim threshold:
 * the fused optimizer update's product (784 x 128 x 512, 1.2 MB of buffers) took 260 page
 * faults a call, 25% of its time on 2 threads.  A call that finds the kept block in use
 * (another thread's GEMM) allocates its own; blocks past FO_WORKSPACE_KEEP_MAX are never
 * kept.  A child forked while the block was in use allocates its own forever. */
#define FO_WORKSPACE_KEEP_MAX ((size_t)32 << 20)
static atomic_int fo_ws_busy; /* 1 while a call holds the kept block */
static void *fo_ws_block;     /* guarded by fo_ws_busy */
static size_t fo_ws_size;

typedef struct {
    unsigned char *base;
    int kept;
} fo_workspace;

/* `bytes` of 64-byte aligned memory, or NULL. */
static void *fo_workspace_take(fo_workspace *w, size_t bytes)
{
    int idle = 0;
    w->kept = 0;
    if (bytes <= FO_WORKSPACE_KEEP_MAX
            && atomic_compare_exchange_strong_explicit(&fo_ws_busy, &idle, 1,
                                                       memory_order_acquire,
                                                       memory_order_relaxed)) {
        if (fo_ws_size < bytes) {
            fo_free(fo_ws_block);
            fo_ws_block = fo_alloc(bytes);
            fo_ws_size = fo_ws_block != NULL ? bytes : 0;
        }
        if (fo_ws_block != NULL) {
            w->kept = 1;
            return w->base = (unsigned char *)fo_ws_block;
        }
        atomic_store_explicit(&fo_ws_busy, 0, memory_order_release);
        return w->base = NULL;
    }
    return w->base = (unsigned char *)fo_alloc(bytes);
}

static void fo_workspace_give_back(fo_workspace *w)
{
    if (w->kept)
        atomic_store_explicit(&fo_ws_busy, 0, memory_order_release);
    else
        fo_free(w->base);
    w->base = NULL;
    w->kept = 0;
}

/* Carves `bytes` (rounded up to 64) off *cursor. */
static void *fo_carve(unsigned char **cursor, size_t bytes)
{
    void *p = *cursor;
    *cursor += (bytes + 63) & ~(size_t)63;
    return p;
}

/* ------------------------------------------------------------------------------
 * Portable kernels: plain C, correct on any CPU.  A 4 x 8 tile of scalar
 * accumulators, a shape compilers keep in (vector) registers.
 */
#define FO_REF_MR 4
#define FO_REF_NR 8

#define FO_DEFINE_REF_KERNELS(T, SUF)                                                          \
    /* kidx NULL: every step p meets B row p; else step p meets B row kidx[p] */              \
    static inline void ukr_rows_##SUF##_ref(ptrdiff_t kc, const T *pa, const T *pb,            \
                                            ptrdiff_t ldb, const int32_t *kidx, T *c,          \
                                            ptrdiff_t rsc, T alpha, T beta)                    \
    {                                                                                          \
        T acc[FO_REF_MR][FO_REF_NR] = {{0}};                                                   \
        ptrdiff_t p;                                                                           \
        int i, j;                                                                              \
        for (p = 0; p < kc; ++p) {                                                             \
            const T *brow = pb + (kidx != NULL ? (ptrdiff_t)kidx[p] : p) * ldb;                \
            for (i = 0; i < FO_REF_MR; ++i)                                                    \
                for (j = 0; j < FO_REF_NR; ++j)                                                \
                    acc[i][j] += pa[p * FO_REF_MR + i] * brow[j];                              \
        }                                                                                      \
        for (i = 0; i < FO_REF_MR; ++i)                                                        \
            for (j = 0; j < FO_REF_NR; ++j)                                                    \
                c[i * rsc + j] = beta == 0 ? alpha * acc[i][j]                                 \
                                           : alpha * acc[i][j] + beta * c[i * rsc + j];        \
    }                                                                                          \
    static void ukr_##SUF##_ref(ptrdiff_t kc, const T *pa, const T *pb, ptrdiff_t ldb, T *c,  \
                                ptrdiff_t rsc, T alpha, T beta)                                \
    {                                                                                          \
        ukr_rows_##SUF##_ref(kc, pa, pb, ldb, NULL, c, rsc, alpha, beta);                      \
    }                                                                                          \
    static void ukr_skip_##SUF##_ref(ptrdiff_t kc, const T *pa, const T *pb, ptrdiff_t ldb,     \
                                     const int32_t *kidx, T *c, ptrdiff_t rsc, T alpha, T beta) \
    {                                                                                          \
        ukr_rows_##SUF##_ref(kc, pa, pb, ldb, kidx, c, rsc, alpha, beta);                      \
    }                                                                                          \
    static void sup_##SUF##_ref(ptrdiff_t kc, const T *a, ptrdiff_t rsa, ptrdiff_t csa,        \
                                const T *pb, T *c, ptrdiff_t rsc, int cols, T alpha, T beta)   \
    {                                                                                          \
        T acc[FO_REF_MR][FO_REF_NR] = {{0}};                                                   \
        ptrdiff_t p;                                                                           \
        int i, j;                                                                              \
        for (p = 0; p < kc; ++p)                                                               \
            for (i = 0; i < FO_REF_MR; ++i) {                                                  \
                const T av = a[i * rsa + p * csa];                                             \
                for (j = 0; j < FO_REF_NR; ++j)                                                \
                    acc[i][j] += av * pb[p * FO_REF_NR + j];                                   \
            }                                                                                  \
        for (i = 0; i < FO_REF_MR; ++i)                                                        \
            for (j = 0; j < cols; ++j)                                                         \
                c[i * rsc + j] = beta == 0 ? alpha * acc[i][j]                                 \
                                           : alpha * acc[i][j] + beta * c[i * rsc + j];        \
    }

FO_DEFINE_REF_KERNELS(float, s)
FO_DEFINE_REF_KERNELS(double, d)

/* The few-row accumulation (fo_gemm_gemv.inc): portable, then AVX2 + FMA (which AVX-512
 * shares: it streams B, and wider vectors buy nothing there). */
#define FO_GEMV_TARGET
#define FO_GEMV_FMA(a, b, c) ((a) * (b) + (c))
#define FO_T float
#define FO_NAME(x) x##_s_ref
#include "fo_gemm_gemv.inc"
#undef FO_T
#undef FO_NAME
#define FO_T double
#define FO_NAME(x) x##_d_ref
#include "fo_gemm_gemv.inc"
#undef FO_T
#undef FO_NAME
#undef FO_GEMV_TARGET
#undef FO_GEMV_FMA
#if FO_HAVE_X86_SIMD
#define FO_GEMV_TARGET FO_TARGET_AVX2
#define FO_T float
#define FO_NAME(x) x##_s_avx2
#define FO_GEMV_FMA(a, b, c) __builtin_fmaf(a, b, c)
#include "fo_gemm_gemv.inc"
#undef FO_T
#undef FO_NAME
#undef FO_GEMV_FMA
#define FO_T double
#define FO_NAME(x) x##_d_avx2
#define FO_GEMV_FMA(a, b, c) __builtin_fma(a, b, c)
#include "fo_gemm_gemv.inc"
#undef FO_T
#undef FO_NAME
#undef FO_GEMV_FMA
#undef FO_GEMV_TARGET
#endif

#if FO_HAVE_X86_SIMD
/* ------------------------------------------------------------------------------
 * AVX2 + FMA: 6 x 16 float and 6 x 8 double tiles, one body (fo_gemm_avx2.inc, which
 * undefines its parameters) for both; with the same parameters, the unpacked
 * small-product kernels of the same tiles (fo_gemm_small.inc, included first).
 */
#define FO_SMALL_TARGET FO_TARGET_AVX2
#define FO_SMALL_NV 2
#define FO_MASK __m256i
#define FO_LOADM(msk, p) FO_VOP(maskload)(p, msk)
#define FO_STOREM(p, msk, x) FO_VOP(maskstore)(p, msk, x)

#define FO_T float
#define FO_NAME(x) x##_s_avx2
#define FO_VEC __m256
#define FO_VL 8
#define FO_VOP(op) _mm256_##op##_ps
#define FO_VBROADCAST _mm256_broadcast_ss
#define FO_VMASK(cols) \
    _mm256_cmpgt_epi32(_mm256_set1_epi32(cols), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define FO_PREFETCH_C 1
#include "fo_gemm_small.inc"
#include "fo_gemm_avx2.inc"

#define FO_T double
#define FO_NAME(x) x##_d_avx2
#define FO_VEC __m256d
#define FO_VL 4
#define FO_VOP(op) _mm256_##op##_pd
#define FO_VBROADCAST _mm256_broadcast_sd
#define FO_VMASK(cols) _mm256_cmpgt_epi64(_mm256_set1_epi64x(cols), _mm256_setr_epi64x(0, 1, 2, 3))
#define FO_PREFETCH_C 0
#include "fo_gemm_small.inc"
#include "fo_gemm_avx2.inc"

#undef FO_SMALL_TARGET
#undef FO_SMALL_NV
#undef FO_MASK
#undef FO_LOADM
#undef FO_STOREM

#include "fo_gemm_pack_avx2.inc"
#include "fo_gemm_dot_avx2.inc"
#include "fo_gemm_avx512.inc"

/* The unpacked small-product kernels (fo_gemm_small.inc) at AVX-512: 6 x 64 float and
 * 6 x 32 double tiles (the AVX2 ones are instantiated with the AVX2 kernels above). */
#define FO_SMALL_TARGET FO_TARGET_AVX512
#define FO_SMALL_NV 4
#define FO_LOADM(msk, p) FO_VOP(maskz_loadu)(msk, p)
#define FO_STOREM(p, msk, x) FO_VOP(mask_storeu)(p, msk, x)
#define FO_VMASK(cols) ((FO_MASK)((1u << (cols)) - 1u))

#define FO_T float
#define FO_NAME(x) x##_s_avx512
#define FO_VEC __m512
#define FO_MASK __mmask16
#define FO_VL 16
#define FO_VOP(op) _mm512_##op##_ps
#include "fo_gemm_small.inc"
#undef FO_T
#undef FO_NAME
#undef FO_VEC
#undef FO_MASK
#undef FO_VL
#undef FO_VOP

#define FO_T double
#define FO_NAME(x) x##_d_avx512
#define FO_VEC __m512d
#define FO_MASK __mmask8
#define FO_VL 8
#define FO_VOP(op) _mm512_##op##_pd
#include "fo_gemm_small.inc"
#undef FO_T
#undef FO_NAME
#undef FO_VEC
#undef FO_MASK
#undef FO_VL
#undef FO_VOP

#undef FO_SMALL_TARGET
#undef FO_SMALL_NV
#undef FO_LOADM
#undef FO_STOREM
#undef FO_VMASK
#endif /* FO_HAVE_X86_SIMD */

/* ------------------------------------------------------------------------------
 * Kernel tables and the driver instantiations.
 */
/* The kernel descriptor of element type T, read by the driver template as FO_KERNEL
 * (C has no generic struct, hence one typedef per type).
 * mr x nr: the packed micro-kernel's tile; smr x snr: the skinny kernel's (it may
 * come from a lower ISA level: for N <= 16 wider vectors buy nothing).
 * pack_a / pack_b: this kernel's packing of consecutive full mr-row panels of A /
 * nr-column panels of B (kc, panels, source, its row and column strides, destination);
 * 0 when the layout is not handled (the driver's generic loop runs), NULL: always generic.
 * pack_bt: B^T for the dot kernel: columns of B (k, cols, source, strides) as rows kp
 * apart, zero-padded to kp; 0 when not handled, NULL: always generic. */
#define FO_DEFINE_KERNEL_TYPE(T, NAME)                                                         \
    typedef struct {                                                                           \
        int mr, nr;                                                                            \
        ptrdiff_t mc, kc, nc;                                                                  \
        int smr, snr;                                                                          \
        void (*ukr)(ptrdiff_t, const T *, const T *, ptrdiff_t, T *, ptrdiff_t, T, T);         \
        void (*sup)(ptrdiff_t, const T *, ptrdiff_t, ptrdiff_t, const T *, T *, ptrdiff_t, int, \
                    T, T);                                                                     \
        int dot_vl; /* 0: no dot-product kernel */                                             \
        void (*dot)(ptrdiff_t, const T *const *, const T *, ptrdiff_t, int, T *);              \
        int (*pack_a)(ptrdiff_t, ptrdiff_t, const T *, ptrdiff_t, ptrdiff_t, T *, int *);      \
        int (*pack_b)(ptrdiff_t, ptrdiff_t, const T *, ptrdiff_t, ptrdiff_t, T *, int *);      \
        int (*pack_bt)(ptrdiff_t, int, const T *, ptrdiff_t, ptrdiff_t, ptrdiff_t, T *);       \
        int dot_max_n, dot_min_k; /* the dot path's limits; 0: FO_SUP_MAX, FO_DOT_MIN_K */     \
        /* ukr over the steps kidx[0..kc) of B, A packed without its all-zero steps; NULL:    \
         * the kernel skips nothing */                                                         \
        void (*ukr_skip)(ptrdiff_t, const T *, const T *, ptrdiff_t, const int32_t *, T *,     \
                         ptrdiff_t, T, T);                                                     \
        /* the unpacked kernel of small products (m, n, k, the k block, alpha, A and its      \
         * strides, B and its row stride, beta, C and its row stride); NULL: they run packed */\
        void (*small)(ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, T, const T *, ptrdiff_t,    \
                      ptrdiff_t, const T *, ptrdiff_t, T, T *, ptrdiff_t);                     \
        /* one KC step of the few-row path (fo_gemm_gemv.inc: m, kc, w, A and its strides, B  \
         * and its row stride, scratch, C and its strides, alpha, beta, whether the product  \
         * is a dot); NULL: such products take the small-M path */                            \
        void (*gemv)(ptrdiff_t, ptrdiff_t, ptrdiff_t, const T *, ptrdiff_t, ptrdiff_t,         \
                     const T *, ptrdiff_t, T *, T *, ptrdiff_t, ptrdiff_t, T, T, int);         \
    } NAME;

FO_DEFINE_KERNEL_TYPE(float, fo_skernel)
FO_DEFINE_KERNEL_TYPE(double, fo_dkernel)

#if FO_HAVE_NEON
#include "fo_gemm_neon.inc" /* aarch64: ukr/sup_{s,d}_neon and the tables kernel_neon_{s,d} */
#endif

/* Blocksizes (Zen 4: L1d 32 KiB, L2 1 MiB per core, L3 32 MiB shared):
 *   KC: the KC x NR sliver of B fills about half of L1d (KC*NR*size = 16 KiB), so it
 *       stays there while A slivers stream past;
 *   MC: the MC x KC block of A (144 KiB for float) sits well inside L2 and leaves room
 *       for the B slivers and C tiles passing through;
 *   NC: the KC x NC panel of B (4 MiB for float) stays in L3.
 * MC is a multiple of MR and NC of NR so only the matrix edges make partial tiles.
 * The portable kernel keeps the same cache targets with its smaller tile. */
static const fo_skernel kernel_ref_s = {FO_REF_MR, FO_REF_NR, 128, 256, 4096, FO_REF_MR,
                                        FO_REF_NR, ukr_s_ref, sup_s_ref, 0, NULL, NULL, NULL,
                                        NULL, 0, 0, ukr_skip_s_ref, NULL, gemv_s_ref};
static const fo_dkernel kernel_ref_d = {FO_REF_MR, FO_REF_NR, 64, 256, 4096, FO_REF_MR,
                                        FO_REF_NR, ukr_d_ref, sup_d_ref, 0, NULL, NULL, NULL,
                                        NULL, 0, 0, ukr_skip_d_ref, NULL, gemv_d_ref};
#if FO_HAVE_X86_SIMD
static const fo_skernel kernel_avx2_s = {6, 16, 144, 256, 4080, 6, 16, ukr_s_avx2, sup_s_avx2,
                                         8, dot_s_avx2, pack_a_s_avx2, pack_b_s_avx2,
                                         pack_bt_s_avx2, 15, 96, ukr_skip_s_avx2,
                                         small_s_avx2, gemv_s_avx2};
static const fo_dkernel kernel_avx2_d = {6, 8, 72, 256, 4080, 6, 8, ukr_d_avx2, sup_d_avx2,
                                         0, NULL, NULL, NULL, NULL, 0, 0, ukr_skip_d_avx2,
                                         small_d_avx2, gemv_d_avx2};
/* AVX-512: on Zen 4 a sweep of KC 128..512 x MC 96..288 (1024^3, 2048^3, 128x784x512,
 * 1 thread) was flat within the +-5% noise of that shared machine.  On an Emerald Rapids
 * Xeon (2 MiB L2) KC = 512 ran 2048^3 8-12% faster than 256 (half the passes over a C that
 * lives in L3) and the rest within noise, so KC is 512.  The KC x 64 float sliver of B
 * (128 KiB) is larger than L1d and streams from L2 along with the broadcasts; KC = 128
 * (sliver in L1) measured 5-10% slower at 2048^3 on Zen 4.  Prefetching the C tile at
 * the start of the micro-kernel (to L1 or L2), or the next B sliver into L2 between
 * tiles, measured 3-10% slower on the Xeon. */
/* The AVX2 packers serve the AVX-512 tile where its shape is theirs (a sweep's -D tile
 * falls back to the generic loops). */
#if FO_S512_MR == 6
#define FO_S512_PACK_A pack_a_s_avx2
#else
#define FO_S512_PACK_A NULL
#endif
#if FO_S512_NV == 4
#define FO_S512_PACK_B pack_b64_s_avx2
#else
#define FO_S512_PACK_B NULL
#endif
static const fo_skernel kernel_avx512_s = {FO_S512_MR, 16 * FO_S512_NV, FO_S512_MC, FO_S512_KC,
                                           FO_S512_NC, 6, 16, ukr_s_avx512, sup_s_avx2, 16,
                                           dot_s_avx512, FO_S512_PACK_A, FO_S512_PACK_B,
                                           pack_bt_s_avx2, 0, 0, ukr_skip_s_avx512,
                                           small_s_avx512, gemv_s_avx2};
static const fo_dkernel kernel_avx512_d = {FO_D512_MR, 8 * FO_D512_NV, FO_D512_MC, FO_D512_KC,
                                           4096, 6, 8, ukr_d_avx512, sup_d_avx2, 8,
                                           dot_d_avx512, NULL, NULL, NULL, 0, 0, ukr_skip_d_avx512,
                                           small_d_avx512, gemv_d_avx2};
#endif

/* The driver, with its pick, blocking and public entry, once per element type. */
#define FO_T float
#define FO_UINT uint32_t /* an unsigned integer of FO_T's size, and its exponent bits */
#define FO_EXP_MASK 0x7f800000u
#define FO_NAME(x) x##_s
#define FO_KERNEL fo_skernel
#define FO_ENTRY fo_gemm_f32
#define FO_ROWS_ENTRY fo_gemm_rows_f32
#include "fo_gemm_driver.inc"
#undef FO_T
#undef FO_NAME
#undef FO_KERNEL
#undef FO_ENTRY
#undef FO_ROWS_ENTRY
#undef FO_UINT
#undef FO_EXP_MASK

#define FO_T double
#define FO_UINT uint64_t
#define FO_EXP_MASK 0x7ff0000000000000ull
#define FO_NAME(x) x##_d
#define FO_KERNEL fo_dkernel
#define FO_ENTRY fo_gemm_f64
#define FO_ROWS_ENTRY fo_gemm_rows_f64
#include "fo_gemm_driver.inc"
#undef FO_T
#undef FO_NAME
#undef FO_KERNEL
#undef FO_ENTRY
#undef FO_ROWS_ENTRY
#undef FO_UINT
#undef FO_EXP_MASK

int fo_gemm_path(int isa, int is_double, int nthreads, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                 ptrdiff_t rsa, ptrdiff_t csa, ptrdiff_t rsb, ptrdiff_t csb, ptrdiff_t rsc,
                 ptrdiff_t csc, int *threads)
{
    fo_plan p;
    if (m <= 0 || n <= 0 || k <= 0) {
        *threads = 0;
        return -1;
    }
    p = is_double ? plan_d(pick_d(isa), nthreads, m, n, k, rsa, csa, rsb, csb, rsc, csc)
                  : plan_s(pick_s(isa), nthreads, m, n, k, rsa, csa, rsb, csb, rsc, csc);
    *threads = p.nt;
    return p.path;
}

void fo_gemm_blocking(int isa, int is_double, ptrdiff_t out[8])
{
    if (is_double)
        blocking_d(isa, out);
    else
        blocking_s(isa, out);
}

int fo_gemm_isa(int isa)
{
    return fo_family_isa(isa, FO_ISA_TOP); /* kernels at every level */
}

int fo_gemm_beats_blas(int isa, int is_double)
{
    (void)is_double;
#if FO_HAVE_X86_SIMD
    return isa >= FO_ISA_AVX2;
#else
    (void)isa; /* NEON: not measured on aarch64 hardware yet (docs/aarch64.md) */
    return 0;
#endif
}

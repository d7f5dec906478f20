/* Fused nn kernels (see fo_nn.h).  Row kernels come from fo_nn_rows.inc, compiled once per
 * element type; the update loops from fo_nn_updates.inc, compiled per type and per ISA
 * (portable, AVX2, AVX-512 target attributes) and picked per call from `isa` by the
 * public entries of fo_nn_optimizers.inc.
 *
 * Row kernels work in double internally: rows are short (10 classes for MNIST), so this
 * costs little, and it keeps log-sum-exp accurate for float32 logits.  Sums over rows go
 * through per-thread partials combined in thread order, so a result depends on the thread
 * count but never on timing.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fo_gemm.h"
#include "fo_nn.h"
#include "fo_pool.h"

/* Below these sizes a pass stays on one thread: waking a worker costs a few microseconds,
 * more than the pass itself. */
#define FO_NN_PAR_MIN 32768       /* elements of an update pass */
#define FO_NN_ROWS_PAR_MIN 65536  /* n * k of a row pass */

/* ---- rows over threads ---- */

typedef struct {
    double a, b;
    char pad[64 - 2 * sizeof(double)]; /* one cache line per thread */
} fo_partial;

/* task on nt threads (inline when nt is 1), each adding into its slot of parts; the
 * slots' sums, added in thread order. */
static inline fo_partial fo_partials_sum(int nt, fo_task task, void *region, fo_partial *parts)
{
    fo_partial total = {0.0, 0.0, {0}};
    for (int t = 0; t < nt; t++)
        parts[t].a = parts[t].b = 0.0;
    nt = nt > 1 ? fo_parallel(nt, task, region) : (task(region, 0, 1, NULL), 1);
    for (int t = 0; t < nt; t++) {
        total.a += parts[t].a;
        total.b += parts[t].b;
    }
    return total;
}

#include "fo_nn_exp.inc"

/* Everything a row kernel reads; each kernel uses the fields its comment names. */
typedef struct {
    fo_idx n, k;
    fo_mat x, y, out;
    const double *w;
    const int64_t *labels;
    int64_t *indices;
    double *rows;
    double scale, threshold, keep;
    fo_idx top;
    uint64_t key, cut;
    const void *run; /* the call ISA's dropout loop (contiguous runs) or softmax row passes */
} fo_rows_job;

typedef void (*fo_rows_fn)(const fo_rows_job *job, fo_idx r0, fo_idx r1, fo_partial *acc);

typedef struct {
    fo_rows_fn fn;
    const fo_rows_job *job;
    fo_partial *parts;
} fo_rows_region;

static void fo_rows_task(void *v, int t, int nt, fo_team *team)
{
    const fo_rows_region *r = (const fo_rows_region *)v;
    const fo_idx n = r->job->n;
    (void)team;
    r->fn(r->job, n * t / nt, n * (t + 1) / nt, &r->parts[t]);
}

/* fn over all rows, split over up to nthreads threads; the partial sums, added in order. */
static fo_partial fo_rows(int nthreads, fo_rows_fn fn, const fo_rows_job *job)
{
    fo_partial parts[FO_POOL_MAX_THREADS];
    fo_rows_region r = {fn, job, parts};
    int nt = (nthreads > 1 && job->n * job->k >= FO_NN_ROWS_PAR_MIN) ? nthreads : 1;
    if (nt > job->n)
        nt = (int)job->n;
    if (nt > FO_POOL_MAX_THREADS)
        nt = FO_POOL_MAX_THREADS;
    return fo_partials_sum(nt, fo_rows_task, &r, parts);
}

/* ---- element ranges over threads (updates) ---- */

typedef void (*fo_range_fn)(const void *job, fo_idx lo, fo_idx hi, fo_partial *acc);

typedef struct {
    fo_range_fn fn;
    const void *job;
    fo_idx n;
    fo_partial *parts;
} fo_range_region;

static void fo_range_task(void *v, int t, int nt, fo_team *team)
{
    const fo_range_region *r = (const fo_range_region *)v;
    /* 64-element blocks: whole vectors and cache lines, so no two threads share a line */
    const fo_idx blocks = (r->n + 63) / 64;
    const fo_idx lo = FO_MIN(blocks * t / nt * 64, r->n), hi = FO_MIN(blocks * (t + 1) / nt * 64, r->n);
    (void)team;
    if (hi > lo)
        r->fn(r->job, lo, hi, &r->parts[t]);
}

static fo_partial fo_ranges(int nthreads, fo_idx n, fo_range_fn fn, const void *job)
{
    fo_partial parts[FO_POOL_MAX_THREADS];
    fo_range_region r = {fn, job, n, parts};
    int nt = (nthreads > 1 && n >= FO_NN_PAR_MIN) ? FO_MIN(nthreads, FO_POOL_MAX_THREADS) : 1;
    return fo_partials_sum(nt, fo_range_task, &r, parts);
}

/* first i with labels[i] outside [0, k), or -1 */
static fo_idx fo_bad_label(fo_idx n, fo_idx k, const int64_t *labels)
{
    for (fo_idx i = 0; i < n; i++)
        if ((uint64_t)labels[i] >= (uint64_t)k)
            return i;
    return -1;
}

/* A loss entry's result: the mean of fn's weighted row losses (partial sum a) over the n
 * rows; *correct, when asked for, gets the weighted correct count (partial sum b). */
static double fo_mean_loss(int nthreads, fo_rows_fn fn, const fo_rows_job *job,
                           double *correct)
{
    const fo_partial t = fo_rows(nthreads, fn, job);
    if (correct)
        *correct = t.b;
    return t.a / (double)job->n;
}

/* fo_mean_loss for the sparse losses: 0 without computing when a label is outside [0, k),
 * *bad_row then its row (else -1). */
static double fo_sparse_mean_loss(int nthreads, fo_rows_fn fn, const fo_rows_job *job,
                                  double *correct, fo_idx *bad_row)
{
    *bad_row = fo_bad_label(job->n, job->k, job->labels);
    return *bad_row >= 0 ? 0.0 : fo_mean_loss(nthreads, fn, job, correct);
}

/* ---- dropout's random bits: splitmix64's finaliser over (key, element index) ---- */

#define FO_GOLDEN 0x9E3779B97F4A7C15ull

static inline uint64_t fo_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* ---- per-type, per-ISA bodies ---- */

typedef struct {
    fo_idx n;
    void *w, *m, *v, *vhat, *mg;
    const void *g;
    double lr, rho, eps, momentum, beta1, beta2, l1, l2;
    int nesterov;
} fo_update_job;

typedef struct {
    fo_range_fn sgd, rmsprop, adagrad, adam;
} fo_nn_updates;

#define FO_T float
#define FO_BITS uint32_t /* an unsigned integer of FO_T's size */
#define FO_NAME(x) x##_f32_portable
#define FO_TARGET
#include "fo_nn_updates.inc"
#include "fo_nn_dropout.inc"
#define FO_VEC_BYTES 0
#include "fo_nn_softmax_row.inc"
#undef FO_VEC_BYTES
#undef FO_NAME
#undef FO_TARGET
#if FO_HAVE_X86_SIMD
#include "fo_nn_rsqrt.inc"
#define FO_NAME(x) x##_f32_avx2
#define FO_TARGET FO_TARGET_AVX2
#define FO_RMSPROP_PLAIN fo_rmsprop_plain_f32_avx2
#define FO_ADAGRAD_PLAIN fo_adagrad_plain_f32_avx2
#include "fo_nn_updates.inc"
#include "fo_nn_dropout.inc"
#define FO_VEC_BYTES 32
#include "fo_nn_softmax_row.inc"
#undef FO_VEC_BYTES
#undef FO_NAME
#undef FO_TARGET
#undef FO_RMSPROP_PLAIN
#undef FO_ADAGRAD_PLAIN
#define FO_NAME(x) x##_f32_avx512
#define FO_TARGET FO_TARGET_AVX512
#define FO_RMSPROP_PLAIN fo_rmsprop_plain_f32_avx512
#define FO_ADAGRAD_PLAIN fo_adagrad_plain_f32_avx512
#include "fo_nn_updates.inc"
#include "fo_nn_dropout.inc"
#define FO_VEC_BYTES 64
#include "fo_nn_softmax_row.inc"
#undef FO_VEC_BYTES
#undef FO_NAME
#undef FO_TARGET
#undef FO_RMSPROP_PLAIN
#undef FO_ADAGRAD_PLAIN
#endif
#define FO_NAME(x) x##_f32
#define FO_UPDATES(isa) updates_f32_##isa
#define FO_DROPOUT_RUN(isa) dropout_run_f32_##isa
#define FO_PER_ISA(x, isa) x##_f32_##isa
#include "fo_nn_rows.inc"
#include "fo_nn_losses.inc"
#include "fo_nn_optimizers.inc"
#undef FO_NAME
#undef FO_UPDATES
#undef FO_DROPOUT_RUN
#undef FO_PER_ISA
#undef FO_T
#undef FO_BITS

#define FO_T double
#define FO_BITS uint64_t
#define FO_NAME(x) x##_f64_portable
#define FO_TARGET
#include "fo_nn_updates.inc"
#include "fo_nn_dropout.inc"
#define FO_VEC_BYTES 0
#include "fo_nn_softmax_row.inc"
#undef FO_VEC_BYTES
#undef FO_NAME
#undef FO_TARGET
#if FO_HAVE_X86_SIMD
#define FO_NAME(x) x##_f64_avx2
#define FO_TARGET FO_TARGET_AVX2
#include "fo_nn_updates.inc"
#include "fo_nn_dropout.inc"
#define FO_VEC_BYTES 32
#include "fo_nn_softmax_row.inc"
#undef FO_VEC_BYTES
#undef FO_NAME
#undef FO_TARGET
#define FO_NAME(x) x##_f64_avx512
#define FO_TARGET FO_TARGET_AVX512
#include "fo_nn_updates.inc"
#include "fo_nn_dropout.inc"
#define FO_VEC_BYTES 64
#include "fo_nn_softmax_row.inc"
#undef FO_VEC_BYTES
#undef FO_NAME
#undef FO_TARGET
#endif
#define FO_NAME(x) x##_f64
#define FO_UPDATES(isa) updates_f64_##isa
#define FO_DROPOUT_RUN(isa) dropout_run_f64_##isa
#define FO_PER_ISA(x, isa) x##_f64_##isa
#include "fo_nn_rows.inc"
#include "fo_nn_losses.inc"
#include "fo_nn_optimizers.inc"
#undef FO_NAME
#undef FO_UPDATES
#undef FO_DROPOUT_RUN
#undef FO_PER_ISA
#undef FO_T
#undef FO_BITS

int fo_nn_isa(int isa)
{
    return fo_family_isa(isa, FO_HAVE_X86_SIMD ? FO_ISA_AVX512 : FO_ISA_PORTABLE);
}

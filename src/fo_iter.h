/* The strided N-d iterator shared by every kernel that walks arrays of any layout.
 *
 *   1. fo_iter_prepare() puts the iteration space in a canonical order: size-1 axes dropped,
 *      axes where the key operand runs backwards flipped, axes sorted so the key operand's
 *      smallest stride is innermost, and adjacent axes merged wherever every operand allows.
 *      A contiguous array of any shape becomes one run; (n, d) + (d,) becomes n runs of d.
 *   2. fo_iter_run() hands each innermost run to a callback; with several threads the runs
 *      (cut into chunks when there are too few of them) are divided statically over the
 *      threads of one fo_parallel region.
 * Strides are in bytes; a stride of 0 is a broadcast operand.  Static functions: each kernel
 * family includes this header and gets its own copy.
 */
#ifndef FO_ITER_H
#define FO_ITER_H

#include "fo_base.h"
#include "fo_pool.h"

#define FO_ITER_MAX_OPS 3
/* Below this many elements a second thread costs more than it gains (fork/join and cache
 * traffic), measured on the MLP's (128, 512) arrays. */
#define FO_ITER_PARALLEL_MIN (1 << 17)
/* Threads never get runs shorter than this when a run is split. */
#define FO_ITER_MIN_CHUNK 8192

typedef struct {
    int ndim;
    int nops;
    fo_idx shape[FO_MAX_NDIM];
    fo_idx stride[FO_ITER_MAX_OPS][FO_MAX_NDIM];
    char *ptr[FO_ITER_MAX_OPS];
} fo_iter;

/* Returns the number of elements (0: nothing to do). */
static fo_idx fo_iter_prepare(fo_iter *it, int nops, int key, int ndim, const fo_idx *shape,
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
    /* Walking an axis backwards for every operand at once keeps each element's inputs and
     * output together, so the result is unchanged. */
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
static void fo_iter_range(const fo_iter *it, fo_idx chunks, fo_idx chunk, fo_idx u0, fo_idx u1,
                          fo_run_fn run, void *ctx)
{
    const int nd = it->ndim, nops = it->nops;
    const fo_idx inner = it->shape[nd - 1];
    fo_idx coord[FO_MAX_NDIM];
    fo_idx inner_stride[FO_ITER_MAX_OPS];
    char *base[FO_ITER_MAX_OPS], *p[FO_ITER_MAX_OPS];
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

/* One parallel walk: the runs of `it`, split into `units`, shared statically. */
typedef struct {
    const fo_iter *it;
    fo_idx chunks, chunk, units;
    fo_run_fn run;
    char *ctx;            /* thread t gets ctx + t * ctx_stride */
    size_t ctx_stride;
    void (*finish)(void *ctx);  /* per thread, after its runs (store fences); may be NULL */
} fo_iter_job;

static void fo_iter_task(void *vjob, int t, int nt, fo_team *team)
{
    const fo_iter_job *job = (const fo_iter_job *)vjob;
    void *ctx = job->ctx + (size_t)t * job->ctx_stride;
    (void)team;
    fo_iter_range(job->it, job->chunks, job->chunk, job->units * t / nt,
                  job->units * (t + 1) / nt, job->run, ctx);
    if (job->finish)
        job->finish(ctx);
}

/* Walks every run of `it` (total elements) on up to `nthreads` threads; returns the number of
 * threads used.  ctx_stride > 0 gives each thread its own context (private accumulators). */
static int fo_iter_run(const fo_iter *it, fo_idx total, int nthreads, fo_run_fn run, void *ctx,
                       size_t ctx_stride, void (*finish)(void *ctx))
{
    const fo_idx inner = it->shape[it->ndim - 1];
    const fo_idx outer = total / inner;
    fo_iter_job job = {it, 1, inner, outer, run, (char *)ctx, ctx_stride, finish};
    if (nthreads > 1 && total >= FO_ITER_PARALLEL_MIN) {
        /* Too few runs to share evenly: cut each run into chunks. */
        fo_idx chunks = 1;
        if (outer < 4 * (fo_idx)nthreads) {
            chunks = (4 * (fo_idx)nthreads + outer - 1) / outer;
            fo_idx max_chunks = inner / FO_ITER_MIN_CHUNK > 1 ? inner / FO_ITER_MIN_CHUNK : 1;
            if (chunks > max_chunks)
                chunks = max_chunks;
        }
        fo_idx chunk = (inner + chunks - 1) / chunks;
        chunk = (chunk + 15) & ~(fo_idx)15; /* whole vectors and cache lines per thread */
        job.chunks = (inner + chunk - 1) / chunk;
        job.chunk = chunk;
        job.units = outer * job.chunks;
        if ((fo_idx)nthreads > job.units)
            nthreads = (int)job.units;
        return fo_parallel(nthreads, fo_iter_task, &job);
    }
    fo_iter_task(&job, 0, 1, NULL);
    return 1;
}

#endif

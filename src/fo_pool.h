/* fastops' thread pool: the one way kernels use several threads.
 * (Interim implementation on OpenMP; the pthread pool with fork handlers replaces it.) */
#ifndef FO_POOL_H
#define FO_POOL_H

typedef struct fo_team fo_team;
typedef void (*fo_task)(void *ctx, int tid, int nthreads, fo_team *team);

#define FO_POOL_MAX_THREADS 256

/* Run task(ctx, t, n, team) for t = 0..n-1 concurrently, the caller being t = 0; returns n
 * (1 when nthreads <= 1, when nested, or when the pool is busy). */
int fo_parallel(int nthreads, fo_task task, void *ctx);

/* All threads of the region wait here for each other (full memory fence). */
void fo_barrier(fo_team *team);

#endif

/* Interim fo_pool on OpenMP (see fo_pool.h). */
#include "fo_pool.h"
#include "fo_base.h"

#ifdef _OPENMP
#include <omp.h>
#endif

struct fo_team {
    int n;
};

int fo_parallel(int nthreads, fo_task task, void *ctx)
{
    int used = 1;
#ifdef _OPENMP
    if (nthreads > 1 && !omp_in_parallel()) {
        if (nthreads > FO_POOL_MAX_THREADS)
            nthreads = FO_POOL_MAX_THREADS;
        int flags = 0;
#pragma omp parallel num_threads(nthreads) reduction(| : flags)
        {
            fo_team team;
            team.n = omp_get_num_threads();
#pragma omp master
            used = team.n;
            if (omp_get_thread_num() != 0)
                fo_fp_clear();
            task(ctx, omp_get_thread_num(), team.n, &team);
            if (omp_get_thread_num() != 0)
                flags |= fo_fp_status();
        }
        fo_fp_raise(flags); /* the workers' flags become the caller's */
        return used;
    }
#endif
    (void)nthreads;
    {
        fo_team team;
        team.n = 1;
        task(ctx, 0, 1, &team);
    }
    return used;
}

void fo_barrier(fo_team *team)
{
#ifdef _OPENMP
    if (team->n > 1) {
#pragma omp barrier
    }
#else
    (void)team;
#endif
}

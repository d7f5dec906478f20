/* OpenBLAS's parallel jobs on fastops' thread pool (issue 13).
 *
 * OpenBLAS (0.3.27 and newer) lets a program run its parallel jobs through
 * openblas_set_threads_callback_function().  fastops installs fo_blas_threads_callback there
 * (fastops/_blas_threads.py), so NumPy's and SciPy's BLAS run on the same workers as fastops'
 * kernels.  Nothing then spins against the next call of either library: OpenBLAS's own
 * workers busy-wait for about 0.1 s after each call, which made the next fastops call 1.5-2.3x
 * slower on 2 cores.  docs/thread_pool.md has the rules. */
#ifndef FO_BLAS_THREADS_H
#define FO_BLAS_THREADS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* OpenBLAS's types (cblas.h: openblas_dojob_callback, openblas_threads_callback). */
typedef void (*fo_blas_dojob)(int thread_num, void *jobdata, int dojob_data);
typedef void (*fo_blas_threads_fn)(int sync, fo_blas_dojob dojob, int numjobs,
                                   size_t jobdata_elsize, void *jobdata, int dojob_data);

/* Runs dojob(i, jobdata + i * jobdata_elsize, dojob_data) for i = 0..numjobs-1, all at the
 * same time (OpenBLAS's level-3 jobs wait on each other), and returns when all are done.  Job
 * 0 runs on the caller; the others on the pool's workers, or on threads started for this call
 * when the pool is busy with another thread's region.  One call at a time: OpenBLAS's jobs
 * address per-job-index scratch buffers.  Aborts the process (with a message) only if a
 * needed thread cannot be started, since the started jobs would wait for it forever. */
void fo_blas_threads_callback(int sync, fo_blas_dojob dojob, int numjobs,
                              size_t jobdata_elsize, void *jobdata, int dojob_data);

/* The callback to install, or NULL where fastops has no thread pool (Windows, serial build). */
fo_blas_threads_fn fo_blas_threads_entry(void);

/* For tests: calls of the callback so far, how many of them started threads of their own
 * because the pool was busy, and how many jobs moved off a CPU another job started on. */
long long fo_blas_threads_calls(void);
long long fo_blas_threads_spawning_calls(void);
long long fo_blas_threads_moves(void);

#ifdef __cplusplus
}
#endif

#endif

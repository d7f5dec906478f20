/* OpenBLAS's parallel jobs on fastops' thread pool (see fo_blas_threads.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "fo_blas_threads.h"

#include "fo_pool.h"

#if defined(_WIN32) || defined(FO_POOL_SERIAL)
/* No pool: fo_blas_threads_entry() returns NULL, so this callback is never installed. */

void fo_blas_threads_callback(int sync, fo_blas_dojob dojob, int numjobs,
                              size_t jobdata_elsize, void *jobdata, int dojob_data)
{
    (void)sync, (void)dojob, (void)numjobs, (void)jobdata_elsize, (void)jobdata;
    (void)dojob_data;
}
fo_blas_threads_fn fo_blas_threads_entry(void) { return NULL; }
long long fo_blas_threads_calls(void) { return 0; }
long long fo_blas_threads_spawning_calls(void) { return 0; }
long long fo_blas_threads_moves(void) { return 0; }

#else

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    fo_blas_dojob dojob;
    int numjobs;
    size_t elsize;
    char *jobdata;
    int dojob_data;
    int cpus[FO_POOL_MAX_THREADS]; /* the CPU each team thread runs on at the start */
} fo_blas_call;

typedef struct {
    fo_blas_call *call;
    int job;
} fo_blas_extra;

static pthread_mutex_t fo_blas_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t fo_blas_once = PTHREAD_ONCE_INIT;
static atomic_llong fo_blas_ncalls, fo_blas_nspawning, fo_blas_nmoves;

static void fo_blas_run(fo_blas_call *call, int job)
{
    call->dojob(job, call->jobdata + (size_t)job * call->elsize, call->dojob_data);
}

static void *fo_blas_extra_main(void *arg)
{
    fo_blas_extra *extra = (fo_blas_extra *)arg;
    fo_blas_run(extra->call, extra->job);
    return NULL;
}

/* Jobs [first, numjobs) on threads of their own, started before job `mine` runs here: the
 * jobs wait on each other, so every one must be running before any can finish. */
static void fo_blas_run_with_extras(fo_blas_call *call, int mine, int first)
{
    int count = call->numjobs - first, i;
    pthread_t *threads = malloc(sizeof *threads * (size_t)count);
    fo_blas_extra *extras = malloc(sizeof *extras * (size_t)count);
    sigset_t all, old;
    if (threads == NULL || extras == NULL) {
        fputs("fastops: out of memory starting threads for an OpenBLAS call\n", stderr);
        abort();
    }
    atomic_fetch_add(&fo_blas_nspawning, 1);
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (i = 0; i < count; ++i) {
        extras[i].call = call;
        extras[i].job = first + i;
        if (pthread_create(&threads[i], NULL, fo_blas_extra_main, &extras[i]) != 0) {
            fputs("fastops: cannot start a thread for an OpenBLAS call\n", stderr);
            abort();
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    fo_blas_run(call, mine);
    for (i = 0; i < count; ++i)
        pthread_join(threads[i], NULL);
    free(threads);
    free(extras);
}

#ifdef __linux__
/* OpenBLAS's jobs wait on each other by spinning with sched_yield, and never sleep.  Two
 * jobs that the scheduler has put on one CPU then share it for whole time slices while
 * another CPU idles: a 1 ms call took 10-25 ms after a pause (measured on 2 cores; fastops'
 * own waits sleep after the spin time, which lets the scheduler spread the threads).  So a job whose
 * thread shares a CPU with a lower-numbered job moves itself off those CPUs for the job,
 * and back after. */
static int fo_blas_spread(fo_blas_call *call, int tid, fo_team *team, cpu_set_t *saved)
{
    cpu_set_t others;
    int j, mine, shared = 0;
    call->cpus[tid] = mine = sched_getcpu();
    fo_barrier(team);
    if (tid == 0 || mine < 0 || pthread_getaffinity_np(pthread_self(), sizeof *saved, saved))
        return 0;
    others = *saved;
    for (j = 0; j < tid; ++j)
        if (call->cpus[j] >= 0 && call->cpus[j] < CPU_SETSIZE) {
            shared |= call->cpus[j] == mine;
            CPU_CLR(call->cpus[j], &others);
        }
    if (!shared || CPU_COUNT(&others) == 0)
        return 0;
    if (pthread_setaffinity_np(pthread_self(), sizeof others, &others) != 0)
        return 0;
    atomic_fetch_add(&fo_blas_nmoves, 1);
    return 1;
}
#endif

static void fo_blas_task(void *ctx, int tid, int nthreads, fo_team *team)
{
    fo_blas_call *call = (fo_blas_call *)ctx;
#ifdef __linux__
    cpu_set_t saved;
    int moved = fo_blas_spread(call, tid, team, &saved);
#else
    (void)team;
#endif
    if (tid == 0 && nthreads < call->numjobs)
        fo_blas_run_with_extras(call, 0, nthreads);
    else if (tid < call->numjobs)
        fo_blas_run(call, tid);
#ifdef __linux__
    if (moved)
        pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
#endif
}

/* A fork while another thread was inside a call leaves the lock held in the child, by a
 * thread the child does not have. */
static void fo_blas_after_fork_child(void)
{
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    fo_blas_lock = fresh;
}

static void fo_blas_init(void) { pthread_atfork(NULL, NULL, fo_blas_after_fork_child); }

void fo_blas_threads_callback(int sync, fo_blas_dojob dojob, int numjobs,
                              size_t jobdata_elsize, void *jobdata, int dojob_data)
{
    fo_blas_call call = {.dojob = dojob, .numjobs = numjobs, .elsize = jobdata_elsize,
                         .jobdata = (char *)jobdata, .dojob_data = dojob_data};
    (void)sync; /* OpenBLAS always asks for a synchronous call */
    if (numjobs <= 0)
        return;
    pthread_mutex_lock(&fo_blas_lock);
    atomic_fetch_add(&fo_blas_ncalls, 1);
    if (numjobs == 1)
        dojob(0, jobdata, dojob_data);
    else
        fo_parallel(numjobs, fo_blas_task, &call);
    pthread_mutex_unlock(&fo_blas_lock);
}

fo_blas_threads_fn fo_blas_threads_entry(void)
{
    pthread_once(&fo_blas_once, fo_blas_init);
    return fo_blas_threads_callback;
}

long long fo_blas_threads_calls(void) { return atomic_load(&fo_blas_ncalls); }
long long fo_blas_threads_spawning_calls(void) { return atomic_load(&fo_blas_nspawning); }
long long fo_blas_threads_moves(void) { return atomic_load(&fo_blas_nmoves); }

#endif

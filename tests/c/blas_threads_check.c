/* Checks of src/fo_blas_threads.c: OpenBLAS's jobs on fastops' pool.
 *
 *   gcc -O2 -pthread -Isrc tests/c/blas_threads_check.c src/fo_blas_threads.c src/fo_pool.c -lm
 *   ./a.out [check ...]        (no argument: all)
 *
 * The jobs stand in for OpenBLAS's level-3 jobs, which busy-wait on each other: each job
 * waits at a spin barrier for all jobs of its call, so a job that is not running at the same
 * time as the others makes the call time out (reported as FAIL, never a hang).  Prints
 * "PASS name: ..." or "FAIL name: ..." per check; exits 1 if any failed. */
#define _GNU_SOURCE
#include "fo_blas_threads.h"
#include "fo_pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_JOBS 16
#define BARRIER_TIMEOUT_NS 10000000000LL

typedef struct {
    atomic_int arrived;
    atomic_int runs[MAX_JOBS];
    atomic_int timed_out;
    long hold_us; /* each job sleeps this long after the barrier */
} call_state;

typedef struct {
    call_state *call;
    int job;
} job_data;

static atomic_int index_busy[MAX_JOBS]; /* stands for OpenBLAS's per-job-index buffers */
static atomic_int index_overlaps;

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void dojob(int thread_num, void *jobdata, int dojob_data)
{
    job_data *d = (job_data *)jobdata;
    call_state *call = d->call;
    long long deadline = now_ns() + BARRIER_TIMEOUT_NS;
    (void)dojob_data;
    if (atomic_fetch_add(&index_busy[thread_num], 1) != 0)
        atomic_fetch_add(&index_overlaps, 1);
    atomic_fetch_add(&call->runs[d->job], 1);
    atomic_fetch_add(&call->arrived, 1);
    while (atomic_load(&call->arrived) < dojob_data) {
        sched_yield(); /* as OpenBLAS's YIELDING: more jobs than CPUs must still progress */
        if (now_ns() > deadline) {
            atomic_store(&call->timed_out, 1);
            break;
        }
    }
    if (call->hold_us)
        usleep((useconds_t)call->hold_us);
    atomic_fetch_sub(&index_busy[thread_num], 1);
}

/* One call of `numjobs` jobs; 1 if every job ran once, together with all the others. */
static int one_call(int numjobs, long hold_us, char *msg)
{
    call_state call;
    job_data data[MAX_JOBS];
    int i;
    memset(&call, 0, sizeof call);
    call.hold_us = hold_us;
    for (i = 0; i < numjobs; ++i) {
        data[i].call = &call;
        data[i].job = i;
    }
    /* dojob_data carries numjobs to the jobs, as OpenBLAS passes its buffer index */
    fo_blas_threads_callback(1, dojob, numjobs, sizeof data[0], data, numjobs);
    if (atomic_load(&call.timed_out)) {
        sprintf(msg, "%d jobs did not all run at once", numjobs);
        return 0;
    }
    for (i = 0; i < numjobs; ++i)
        if (atomic_load(&call.runs[i]) != 1) {
            sprintf(msg, "job %d of %d ran %d times", i, numjobs, atomic_load(&call.runs[i]));
            return 0;
        }
    return 1;
}

static int check_every_job_once(char *msg)
{
    int n, round;
    for (round = 0; round < 20; ++round)
        for (n = 1; n <= MAX_JOBS; ++n)
            if (!one_call(n, 0, msg))
                return 0;
    sprintf(msg, "1..%d jobs, 20 rounds; pool has %d workers", MAX_JOBS, fo_pool_size());
    return 1;
}

static atomic_int region_entered, region_release;

static void holding_task(void *ctx, int tid, int nthreads, fo_team *team)
{
    (void)ctx, (void)nthreads, (void)team;
    if (tid == 0) {
        atomic_store(&region_entered, 1);
        while (!atomic_load(&region_release))
            usleep(100);
    }
}

static void *hold_pool(void *arg)
{
    (void)arg;
    fo_parallel(2, holding_task, NULL);
    return NULL;
}

/* Another thread's region owns the pool: the jobs run on threads started for the call. */
static int check_pool_busy(char *msg)
{
    pthread_t holder;
    long long spawning = fo_blas_threads_spawning_calls();
    int ok;
    atomic_store(&region_entered, 0);
    atomic_store(&region_release, 0);
    pthread_create(&holder, NULL, hold_pool, NULL);
    while (!atomic_load(&region_entered))
        usleep(100);
    ok = one_call(4, 0, msg) && one_call(2, 0, msg);
    atomic_store(&region_release, 1);
    pthread_join(holder, NULL);
    if (ok && fo_blas_threads_spawning_calls() - spawning != 2) {
        sprintf(msg, "%lld calls started threads, expected 2",
                fo_blas_threads_spawning_calls() - spawning);
        return 0;
    }
    if (ok)
        sprintf(msg, "4 and 2 jobs beside another thread's region");
    return ok;
}

static atomic_int nested_ok;

static void nesting_task(void *ctx, int tid, int nthreads, fo_team *team)
{
    char msg[256];
    (void)ctx, (void)tid, (void)nthreads, (void)team;
    if (one_call(3, 0, msg))
        atomic_fetch_add(&nested_ok, 1);
}

/* BLAS called from inside a fastops task, on every thread of the region. */
static int check_nested(char *msg)
{
    int n;
    atomic_store(&nested_ok, 0);
    n = fo_parallel(2, nesting_task, NULL);
    if (atomic_load(&nested_ok) != n) {
        sprintf(msg, "%d of %d nested calls passed", atomic_load(&nested_ok), n);
        return 0;
    }
    sprintf(msg, "3 jobs from each of %d threads of a region", n);
    return 1;
}

static atomic_int caller_failures;

static void *caller_main(void *arg)
{
    char msg[256];
    int i, seed = (int)(long)arg;
    for (i = 0; i < 500; ++i)
        if (!one_call(2 + (i + seed) % 3, 0, msg))
            atomic_fetch_add(&caller_failures, 1);
    return NULL;
}

/* Calls from four threads at once never run the same job index together. */
static int check_concurrent_callers(char *msg)
{
    pthread_t callers[4];
    long i;
    atomic_store(&caller_failures, 0);
    atomic_store(&index_overlaps, 0);
    for (i = 0; i < 4; ++i)
        pthread_create(&callers[i], NULL, caller_main, (void *)i);
    for (i = 0; i < 4; ++i)
        pthread_join(callers[i], NULL);
    if (atomic_load(&caller_failures) || atomic_load(&index_overlaps)) {
        sprintf(msg, "%d failed calls, %d job-index overlaps", atomic_load(&caller_failures),
                atomic_load(&index_overlaps));
        return 0;
    }
    sprintf(msg, "4 threads x 500 calls of 2-4 jobs");
    return 1;
}

static void *long_call(void *arg)
{
    char msg[256];
    (void)arg;
    one_call(2, 200000, msg);
    return NULL;
}

/* A fork while another thread is inside a call: the child's calls still run. */
static int check_fork_during_call(char *msg)
{
    pthread_t other;
    pid_t child;
    int status;
    one_call(2, 0, msg);
    pthread_create(&other, NULL, long_call, NULL);
    usleep(50000);
    child = fork();
    if (child == 0) {
        char child_msg[256];
        alarm(20);
        _exit(one_call(2, 0, child_msg) && one_call(4, 0, child_msg) ? 0 : 1);
    }
    pthread_join(other, NULL);
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        sprintf(msg, "child status %d", status);
        return 0;
    }
    sprintf(msg, "child ran 2 and 4 jobs");
    return 1;
}

typedef struct {
    const char *name;
    int (*fn)(char *msg);
} named_check;

static const named_check checks[] = {
    {"every_job_once", check_every_job_once},
    {"pool_busy", check_pool_busy},
    {"nested", check_nested},
    {"concurrent_callers", check_concurrent_callers},
    {"fork_during_call", check_fork_during_call},
};
#define NCHECKS (int)(sizeof checks / sizeof checks[0])

int main(int argc, char **argv)
{
    int i, j, failed = 0;
    if (fo_blas_threads_entry() != fo_blas_threads_callback) {
        puts("FAIL entry: fo_blas_threads_entry() is not the callback");
        return 1;
    }
    for (i = 0; i < NCHECKS; ++i) {
        char msg[1024] = "";
        int ok, wanted = argc == 1;
        for (j = 1; j < argc; ++j)
            wanted |= strcmp(argv[j], checks[i].name) == 0;
        if (!wanted)
            continue;
        ok = checks[i].fn(msg);
        printf("%s %s: %s\n", ok ? "PASS" : "FAIL", checks[i].name, msg);
        fflush(stdout);
        failed |= !ok;
    }
    return failed;
}

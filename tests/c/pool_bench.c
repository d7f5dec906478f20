/* Latency of fastops' pool (src/fo_pool.c): empty 2-thread regions with the worker spinning or
 * asleep, wake-up latency, barrier round trip.  Not a test: tests/test_pool.py only builds it
 * and runs it at a tiny scale.  For figures:
 *   gcc -O2 -pthread -Isrc tests/c/pool_bench.c src/fo_pool.c -o pool_bench && ./pool_bench 1
 * Built with -fopenmp, `pool_bench 1 omp` measures libgomp's empty region and barrier the same
 * way, in its own process (libgomp's spinning team would disturb the pool's figures). */
#include "fo_pool.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* CPU time of the whole process: the idle workers' spinning, while the caller sleeps. */
static long long process_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void idle_cost(const char *what, void (*one_region)(void))
{
    long long cpu0;
    int i;
    for (i = 0; i < 3; ++i) {
        sleep_us(200000);
        one_region();
        cpu0 = process_cpu_ns();
        sleep_us(100000);
        printf("%-62s %8.1f us of CPU\n", what, (process_cpu_ns() - cpu0) / 1e3);
    }
}

static int by_value(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static void report(const char *what, long long *ns, int count)
{
    qsort(ns, (size_t)count, sizeof *ns, by_value);
    printf("%-62s median %8.2f us  p10 %8.2f  p90 %8.2f  (%d runs)\n", what, ns[count / 2] / 1e3,
           ns[count / 10] / 1e3, ns[count * 9 / 10] / 1e3, count);
}

typedef struct {
    atomic_llong worker_start, caller_start;
    int barriers;
} bench_job;

static void empty_task(void *ctx, int tid, int n, fo_team *team)
{
    (void)ctx, (void)tid, (void)n, (void)team;
}

static void stamp_task(void *ctx, int tid, int n, fo_team *team)
{
    (void)n, (void)team;
    atomic_store(tid == 0 ? &((bench_job *)ctx)->caller_start : &((bench_job *)ctx)->worker_start,
                 now_ns());
}

static void barrier_task(void *ctx, int tid, int n, fo_team *team)
{
    int i, rounds = ((bench_job *)ctx)->barriers;
    (void)tid, (void)n;
    for (i = 0; i < rounds; ++i)
        fo_barrier(team);
}

/* Regions of 2 threads, `pause_us` apart: round trip, the caller's cost of waking the worker
 * (entry to its own task), and the wake-up latency (entry to the worker's task). */
static void regions(const char *what, int count, long pause_us, long long *trip, long long *wake,
                    long long *post)
{
    bench_job job;
    char label[128];
    int i;
    long long t0;
    for (i = 0; i < count; ++i) {
        if (pause_us)
            sleep_us(pause_us);
        t0 = now_ns();
        fo_parallel(2, stamp_task, &job);
        trip[i] = now_ns() - t0;
        wake[i] = atomic_load(&job.worker_start) - t0;
        post[i] = atomic_load(&job.caller_start) - t0;
    }
    snprintf(label, sizeof label, "empty region, %s: round trip", what);
    report(label, trip, count);
    snprintf(label, sizeof label, "empty region, %s: entry -> caller's task", what);
    report(label, post, count);
    snprintf(label, sizeof label, "empty region, %s: entry -> worker's task", what);
    report(label, wake, count);
}

static void empty_pool_region(void)
{
    fo_parallel(2, empty_task, NULL);
}

static void pool_figures(double scale)
{
    int many = (int)(200000 * scale) + 10, few = (int)(1000 * scale) + 10, i;
    long long *trip = malloc(sizeof *trip * (size_t)many), *wake = malloc(sizeof *wake * (size_t)many);
    long long *post = malloc(sizeof *post * (size_t)many);
    long long t0, cpu0;
    bench_job job;
    printf("spin %d us\n", fo_pool_get_spin_us());
    fo_parallel(2, empty_task, NULL); /* creates the worker */
    t0 = now_ns();
    cpu0 = fo_pool_worker_cpu_ns();
    for (i = 0; i < many; ++i)
        fo_parallel(2, empty_task, NULL);
    printf("%-62s mean   %8.3f us  (worker CPU %.3f us per region)\n",
           "empty region back to back, worker spinning", (now_ns() - t0) / 1e3 / many,
           (fo_pool_worker_cpu_ns() - cpu0) / 1e3 / many);
    regions("worker spinning", many / 10, 0, trip, wake, post);
    regions("worker asleep (1 ms pause)", few, 1000, trip, wake, post);
    job.barriers = many;
    t0 = now_ns();
    fo_parallel(2, barrier_task, &job);
    printf("%-62s mean   %8.3f us\n", "barrier round trip, 2 threads spinning",
           (now_ns() - t0) / 1e3 / many);
    fo_pool_set_spin_us(0);
    job.barriers = few;
    t0 = now_ns();
    fo_parallel(2, barrier_task, &job);
    printf("%-62s mean   %8.3f us\n", "barrier round trip, 2 threads, spin 0 (futex every time)",
           (now_ns() - t0) / 1e3 / few);
    regions("spin 0: worker and caller sleep", few, 0, trip, wake, post);
    fo_pool_set_spin_us(FO_POOL_DEFAULT_SPIN_US);
    idle_cost("after one region, the next 100 ms idle cost", empty_pool_region);
    free(trip);
    free(wake);
    free(post);
}

#ifdef _OPENMP
static volatile int omp_sink; /* an empty region would be compiled away */

static void empty_omp_region(void)
{
#pragma omp parallel num_threads(2)
    omp_sink = omp_get_thread_num();
}

static void omp_figures(double scale)
{
    int many = (int)(200000 * scale) + 10, few = (int)(1000 * scale) + 10, i, j;
    long long *trip = malloc(sizeof *trip * (size_t)many), t0;
#pragma omp parallel num_threads(2)
    omp_sink = omp_get_thread_num();
    t0 = now_ns();
    for (i = 0; i < many; ++i) {
#pragma omp parallel num_threads(2)
        omp_sink = omp_get_thread_num();
    }
    printf("%-62s mean   %8.3f us\n", "OpenMP empty region back to back", (now_ns() - t0) / 1e3 / many);
    for (i = 0; i < few; ++i) {
        sleep_us(1000);
        t0 = now_ns();
#pragma omp parallel num_threads(2)
        omp_sink = omp_get_thread_num();
        trip[i] = now_ns() - t0;
    }
    report("OpenMP empty region after a 1 ms pause: round trip", trip, few);
    t0 = now_ns();
#pragma omp parallel num_threads(2) private(j)
    for (j = 0; j < many; ++j) {
#pragma omp barrier
    }
    printf("%-62s mean   %8.3f us\n", "OpenMP barrier round trip, 2 threads", (now_ns() - t0) / 1e3 / many);
    idle_cost("OpenMP: after one region, the next 100 ms idle cost", empty_omp_region);
    free(trip);
}
#endif

int main(int argc, char **argv)
{
    double scale = argc > 1 ? atof(argv[1]) : 1.0;
    if (scale <= 0 || scale > 10) {
        fprintf(stderr, "usage: pool_bench [scale in (0, 10]] [omp]\n");
        return 2;
    }
#ifdef _OPENMP
    if (argc > 2 && strcmp(argv[2], "omp") == 0) {
        omp_figures(scale);
        return 0;
    }
#endif
    pool_figures(scale);
    return 0;
}

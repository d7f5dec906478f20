/* Shared by the pool checks: pool_check.c (main, regions, barrier, nesting, concurrent
 * callers), pool_check_fork.c, pool_check_state.c (FP state, idle policy, limits). */
#ifndef POOL_CHECK_H
#define POOL_CHECK_H

#include "fo_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

typedef struct {
    const char *name;
    int (*fn)(char *msg); /* returns 1 on pass; writes what it saw into msg (< 1 KiB) */
} named_check;

typedef struct {
    const double *data;
    long long len;
    double total;
    struct {
        _Alignas(64) double value;
    } partial[FO_POOL_MAX_THREADS];
    int seen_n[FO_POOL_MAX_THREADS];
} sum_job;

extern int quick; /* --quick: a tenth of the work, for sanitizer builds */
int expected_team(int requested);
void sleep_us(long us);
double *make_data(long long len, double *sum);
int parallel_sum(const double *data, long long len, int nthreads, double expect);

int check_fp_flags(char *msg);
int check_worker_fp_env(char *msg);
int check_rounding(char *msg);
int check_idle(char *msg);
int check_wake_only_needed(char *msg);
int check_max_threads(char *msg);
int check_fork_after_region(char *msg);
int check_fork_during_regions(char *msg);
int check_fork_in_task(char *msg);

#endif

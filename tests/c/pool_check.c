/* Checks of src/fo_pool.c, run by tests/test_pool.py.
 *
 *   pool_check --list        names of the checks, one a line
 *   pool_check all           every check, in one process (first use of the pool included)
 *   pool_check NAME...       the named checks
 *   pool_check --quick ...   a tenth of the elements, rounds and calls (sanitizer builds)
 *   pool_check spin_env US   fo_pool_get_spin_us() == US (the test sets FASTOPS_SPIN_US)
 *
 * Prints "PASS name: ..." or "FAIL name: ..." per check; exits 1 if any failed.  Built with
 * -DFO_POOL_SERIAL (the Windows build) every region has one thread, and the checks expect so. */
#include "pool_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int quick = 0;

int expected_team(int requested)
{
#ifdef FO_POOL_SERIAL
    (void)requested;
    return 1;
#else
    return requested < 1 ? 1 : requested > FO_POOL_MAX_THREADS ? FO_POOL_MAX_THREADS : requested;
#endif
}

void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* ---- sum: the region computes per-thread partials, barrier, thread 0 reduces ---- */

static void sum_task(void *ctx, int tid, int n, fo_team *team)
{
    sum_job *job = (sum_job *)ctx;
    const long long lo = job->len * tid / n, hi = job->len * (tid + 1) / n;
    double s = 0;
    long long i;
    for (i = lo; i < hi; ++i)
        s += job->data[i];
    job->partial[tid].value = s;
    job->seen_n[tid] = n;
    fo_barrier(team);
    if (tid == 0) {
        double total = 0;
        for (i = 0; i < n; ++i)
            total += job->partial[i].value;
        job->total = total;
    }
}

/* Returns the team size, or -1 if the sum or the n seen by a thread is wrong. */
int parallel_sum(const double *data, long long len, int nthreads, double expect)
{
    sum_job job;
    int n, t;
    memset(&job, 0, sizeof job);
    job.data = data;
    job.len = len;
    job.total = -1;
    n = fo_parallel(nthreads, sum_task, &job);
    for (t = 0; t < n; ++t)
        if (job.seen_n[t] != n)
            return -1;
    return job.total == expect ? n : -1;
}

/* Small integers, so every order of summation gives the same double exactly. */
double *make_data(long long len, double *sum)
{
    double *data = (double *)malloc((size_t)len * sizeof *data);
    unsigned long long state = 12345;
    long long i;
    *sum = 0;
    for (i = 0; i < len; ++i) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        data[i] = (double)((state >> 33) % 1000);
        *sum += data[i];
    }
    return data;
}

static int check_lazy(char *msg)
{
    int size0 = fo_pool_size(), n3, size3, n2, size2;
    double expect, *data = make_data(1000, &expect);
    n3 = parallel_sum(data, 1000, 3, expect);
    size3 = fo_pool_size();
    n2 = parallel_sum(data, 1000, 2, expect);
    size2 = fo_pool_size();
    free(data);
    sprintf(msg, "workers before any region %d, after 3-thread region %d (n=%d), after 2-thread "
                 "region %d (n=%d)", size0, size3, n3, size2, n2);
    return size0 == 0 && n3 == expected_team(3) && size3 == n3 - 1 && n2 == expected_team(2) &&
           size2 == size3;
}

static int check_sum(char *msg)
{
    const long long len = quick ? 1000000 : 10000000;
    double expect, *data = make_data(len, &expect);
    int nthreads, n, ok = 1;
    char *p = msg + sprintf(msg, "%lld elements, serial sum %.0f; team sizes", len, expect);
    for (nthreads = 1; nthreads <= 8; ++nthreads) {
        n = parallel_sum(data, len, nthreads, expect);
        p += sprintf(p, " %d", n);
        ok &= n == expected_team(nthreads);
    }
    free(data);
    return ok;
}

typedef struct {
    int rounds;
    atomic_int errors;
    volatile long long slot[FO_POOL_MAX_THREADS];
} barrier_job;

static void barrier_task(void *ctx, int tid, int n, fo_team *team)
{
    barrier_job *job = (barrier_job *)ctx;
    int r, j, errors = 0;
    for (r = 0; r < job->rounds; ++r) {
        job->slot[tid] = (long long)r * 1000 + tid;
        fo_barrier(team);
        for (j = 0; j < n; ++j)
            errors += job->slot[j] != (long long)r * 1000 + j;
        fo_barrier(team); /* nobody writes round r+1 before all have read round r */
    }
    atomic_fetch_add(&job->errors, errors);
}

/* Team sizes up to the CPU count spin then sleep in the barrier; larger teams only sleep. */
static int check_barrier(char *msg)
{
    static const int sizes[] = {2, 3, 8, 2, 2}, spins[] = {-1, -1, -1, 0, 100000};
    static barrier_job job;
    int i, n, ok = 1, spin_default = fo_pool_get_spin_us();
    char *p = msg + sprintf(msg, "%d rounds of write, barrier, read all, barrier:",
                            quick ? 1000 : 10000);
    for (i = 0; i < 5; ++i) {
        fo_pool_set_spin_us(spins[i] < 0 ? spin_default : spins[i]);
        job.rounds = quick ? 1000 : 10000;
        atomic_store(&job.errors, 0);
        n = fo_parallel(sizes[i], barrier_task, &job);
        p += sprintf(p, " n=%d spin %d us: errors=%d;", n, fo_pool_get_spin_us(),
                     atomic_load(&job.errors));
        ok &= n == expected_team(sizes[i]) && atomic_load(&job.errors) == 0;
    }
    fo_pool_set_spin_us(spin_default);
    return ok;
}

/* ---- work sharing: phases of units, shares taken first, then stolen (fo_phases) ---- */

#define CLAIM_PHASES 40
#define CLAIM_UNITS 64

typedef struct {
    atomic_int runs[CLAIM_PHASES][CLAIM_UNITS]; /* times each unit ran */
    atomic_int early;  /* units started before the previous phase was done */
    atomic_int stolen; /* units run by a thread other than their share's owner */
} claim_job;

static void claim_task(void *ctx, int tid, int n, fo_team *team)
{
    claim_job *job = (claim_job *)ctx;
    fo_phases ph;
    long u;
    int phase, owner, i;
    fo_phases_start(&ph, team, tid, n);
    for (phase = 0; phase < CLAIM_PHASES; ++phase) {
        const long units = 1 + phase % CLAIM_UNITS; /* shares of 0 units included */
        if (tid == 1 && phase % 8 == 0)
            sleep_us(3000); /* a thread that lost its CPU: the others must not wait for it */
        fo_phase_begin(&ph, units);
        while ((u = fo_phase_next(&ph)) >= 0) {
            if (phase > 0)
                for (i = 0; i < phase % CLAIM_UNITS; ++i)
                    if (atomic_load(&job->runs[phase - 1][i]) != 1)
                        atomic_fetch_add(&job->early, 1);
            atomic_fetch_add(&job->runs[phase][u], 1);
            for (owner = 0; u >= units * (owner + 1) / n; ++owner) /* whose share u is */
                ;
            if (owner != tid)
                atomic_fetch_add(&job->stolen, 1);
        }
        fo_phase_end(&ph);
    }
}

static int check_claims(char *msg)
{
    static const int sizes[] = {2, 3, 8};
    static claim_job job;
    int s, phase, u, n, ok = 1, wrong = 0;
    char *p = msg + sprintf(msg, "%d phases, every unit run once:", CLAIM_PHASES);
    for (s = 0; s < 3; ++s) {
        memset(&job, 0, sizeof job);
        n = fo_parallel(sizes[s], claim_task, &job);
        for (phase = 0; phase < CLAIM_PHASES; ++phase)
            for (u = 0; u < CLAIM_UNITS; ++u)
                wrong += atomic_load(&job.runs[phase][u]) != (u < 1 + phase % CLAIM_UNITS);
        p += sprintf(p, " n=%d wrong %d early %d stolen %d;", n, wrong,
                     atomic_load(&job.early), atomic_load(&job.stolen));
        /* thread 1 sleeps at the start of every 8th phase: the others take its share */
        ok &= n == expected_team(sizes[s]) && wrong == 0 && atomic_load(&job.early) == 0
              && (n == 1 || atomic_load(&job.stolen) > 0);
    }
    return ok;
}

/* ---- fo_parallel_shared: workers late for a region skip it, and run the next ---- */

typedef struct {
    atomic_int ran[FO_POOL_MAX_THREADS]; /* per tid: times it ran the current region */
    atomic_int wrong;                    /* a task with a bad tid or n, or run twice */
} late_job;

static void late_task(void *ctx, int tid, int n, fo_team *team)
{
    late_job *job = (late_job *)ctx;
    (void)team;
    if (tid < 0 || tid >= n || atomic_fetch_add(&job->ran[tid], 1) != 0)
        atomic_fetch_add(&job->wrong, 1);
}

static int check_shared_regions(char *msg)
{
    static late_job job;
    const int rounds = quick ? 300 : 3000, spin_default = fo_pool_get_spin_us();
    int r, t, n, skipped = 0, missed = 0;
    /* spin 0: workers sleep between regions, so they are often late for a region whose
     * caller's task takes no time; every plain region after one must still run every tid */
    fo_pool_set_spin_us(0);
    memset(&job, 0, sizeof job);
    for (r = 0; r < rounds; ++r) {
        const int size = 2 + r % 3;
        const int shared = r % 2 == 0;
        for (t = 0; t < FO_POOL_MAX_THREADS; ++t)
            atomic_store(&job.ran[t], 0);
        n = shared ? fo_parallel_shared(size, late_task, &job)
                   : fo_parallel(size, late_task, &job);
        if (n != expected_team(size))
            atomic_fetch_add(&job.wrong, 1);
        for (t = 0; t < n; ++t)
            if (atomic_load(&job.ran[t]) == 0)
                ++*(shared && t > 0 ? &skipped : &missed);
        for (t = n; t < FO_POOL_MAX_THREADS; ++t)
            if (atomic_load(&job.ran[t]) != 0)
                atomic_fetch_add(&job.wrong, 1);
    }
    fo_pool_set_spin_us(spin_default);
    sprintf(msg, "%d regions, shared and plain alternating: wrong %d, plain or caller missed %d, "
            "shared regions' late workers skipped %d", rounds, atomic_load(&job.wrong), missed,
            skipped);
    /* no region may lose a thread that fo_parallel must wait for; late workers of shared
     * regions must have been seen to skip at least once (with sleeping workers and empty
     * tasks they are late almost every time) */
    return atomic_load(&job.wrong) == 0 && missed == 0 && (expected_team(2) == 1 || skipped > 0);
}

typedef struct {
    atomic_int inner_calls, bad;
} nest_job;

static void inner_task(void *ctx, int tid, int n, fo_team *team)
{
    nest_job *job = (nest_job *)ctx;
    fo_barrier(team); /* a 1-thread team: must not wait */
    atomic_fetch_add(&job->inner_calls, 1);
    if (tid != 0 || n != 1)
        atomic_fetch_add(&job->bad, 1);
}

static void outer_task(void *ctx, int tid, int n, fo_team *team)
{
    nest_job *job = (nest_job *)ctx;
    (void)tid;
    (void)n;
    if (fo_parallel(4, inner_task, ctx) != 1)
        atomic_fetch_add(&job->bad, 1);
    fo_barrier(team);
}

static int check_nesting(char *msg)
{
    nest_job job;
    int n;
    atomic_init(&job.inner_calls, 0);
    atomic_init(&job.bad, 0);
    n = fo_parallel(3, outer_task, &job);
    sprintf(msg, "outer n=%d, inner regions run %d (one per outer thread), wrong inner teams %d",
            n, atomic_load(&job.inner_calls), atomic_load(&job.bad));
    return n == expected_team(3) && atomic_load(&job.inner_calls) == n &&
           atomic_load(&job.bad) == 0;
}

typedef struct {
    const double *data;
    double expect;
    int calls, wrong, pooled;
} caller_job;

static void *concurrent_caller(void *arg)
{
    caller_job *job = (caller_job *)arg;
    int i, requested, n;
    for (i = 0; i < job->calls; ++i) {
        requested = 2 + i % 3;
        n = parallel_sum(job->data, 4096, requested, job->expect);
        if (n == -1 || (n != 1 && n != expected_team(requested)))
            ++job->wrong;
        job->pooled += n > 1;
    }
    return NULL;
}

static int check_concurrent(char *msg)
{
    pthread_t threads[4];
    caller_job jobs[4];
    double expect, *data = make_data(4096, &expect);
    int i, wrong = 0, pooled = 0, calls = quick ? 1000 : 10000;
    for (i = 0; i < 4; ++i) {
        jobs[i] = (caller_job){data, expect, calls, 0, 0};
        pthread_create(&threads[i], NULL, concurrent_caller, &jobs[i]);
    }
    for (i = 0; i < 4; ++i) {
        pthread_join(threads[i], NULL);
        wrong += jobs[i].wrong;
        pooled += jobs[i].pooled;
    }
    free(data);
    sprintf(msg, "4 threads x %d regions: %d wrong results or team sizes; %d ran on the pool, "
                 "%d alone", calls, wrong, pooled, 4 * calls - pooled);
    return wrong == 0;
}

static int check_spin_setting(char *msg)
{
    int initial = fo_pool_get_spin_us(), low, high, mid;
    fo_pool_set_spin_us(-5);
    low = fo_pool_get_spin_us();
    fo_pool_set_spin_us(1000000);
    high = fo_pool_get_spin_us();
    fo_pool_set_spin_us(123);
    mid = fo_pool_get_spin_us();
    fo_pool_set_spin_us(initial);
    sprintf(msg, "default %d; set -5 -> %d, 10^6 -> %d, 123 -> %d", initial, low, high, mid);
    return initial == FO_POOL_DEFAULT_SPIN_US && low == 0 && high == FO_POOL_MAX_SPIN_US &&
           mid == 123;
}

static const named_check checks[] = {
    {"lazy", check_lazy},           {"worker_fp_env", check_worker_fp_env},
    {"sum", check_sum},
    {"barrier", check_barrier},     {"claims", check_claims},
    {"shared_regions", check_shared_regions},
    {"nesting", check_nesting},
    {"concurrent", check_concurrent}, {"spin_setting", check_spin_setting},
    {"fp_flags", check_fp_flags},   {"rounding", check_rounding},
    {"idle", check_idle},           {"wake_only_needed", check_wake_only_needed},
    {"fork_after_region", check_fork_after_region},
    {"fork_during_regions", check_fork_during_regions},
    {"fork_in_task", check_fork_in_task}, {"max_threads", check_max_threads},
};
#define NCHECKS ((int)(sizeof checks / sizeof checks[0]))

static int run(const named_check *c)
{
    char msg[1024] = "";
    int ok = c->fn(msg);
    printf("%s %s: %s\n", ok ? "PASS" : "FAIL", c->name, msg);
    fflush(stdout);
    return ok;
}

int main(int argc, char **argv)
{
    int i, j, failed = 0;
    if (argc > 1 && strcmp(argv[1], "--quick") == 0) {
        quick = 1;
        --argc;
        ++argv;
    }
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (i = 0; i < NCHECKS; ++i)
            printf("%s\n", checks[i].name);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "spin_env") == 0) {
        int got = fo_pool_get_spin_us(), want = atoi(argv[2]);
        printf("%s spin_env: FASTOPS_SPIN_US=%s gives %d, expected %d\n",
               got == want ? "PASS" : "FAIL", getenv("FASTOPS_SPIN_US"), got, want);
        return got != want;
    }
    if (argc == 2 && strcmp(argv[1], "all") == 0) {
        for (i = 0; i < NCHECKS; ++i)
            failed += !run(&checks[i]);
        return failed != 0;
    }
    for (j = 1; j < argc; ++j) {
        for (i = 0; i < NCHECKS && strcmp(checks[i].name, argv[j]) != 0; ++i)
            ;
        if (i == NCHECKS) {
            printf("FAIL %s: no such check\n", argv[j]);
            return 2;
        }
        failed += !run(&checks[i]);
    }
    return failed != 0;
}

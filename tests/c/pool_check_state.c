/* Pool checks of per-thread state and idleness: floating-point flags and rounding mode carried
 * between caller and workers, workers that go to sleep and stay asleep, the thread limit. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* feenableexcept */
#endif
#include "pool_check.h"

#include <fenv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALL_FLAGS (FE_DIVBYZERO | FE_OVERFLOW | FE_INVALID | FE_UNDERFLOW | FE_INEXACT)

typedef struct {
    int raise[FO_POOL_MAX_THREADS]; /* flags thread t raises */
    int at_start[FO_POOL_MAX_THREADS];
} fp_job;

static void raise_flags(int flags)
{
    volatile double zero = 0, one = 1, three = 3, big = 1e300, tiny = 1e-300, r;
    if (flags & FE_DIVBYZERO)
        r = one / zero;
    if (flags & FE_OVERFLOW)
        r = big * big;
    if (flags & FE_INVALID)
        r = zero / zero;
    if (flags & FE_UNDERFLOW)
        r = tiny * tiny;
    if (flags & FE_INEXACT)
        r = one / three;
    (void)r;
}

static void fp_task(void *ctx, int tid, int n, fo_team *team)
{
    fp_job *job = (fp_job *)ctx;
    (void)n;
    job->at_start[tid] = fetestexcept(ALL_FLAGS);
    raise_flags(job->raise[tid]);
    fo_barrier(team);
}

/* Runs a region; returns the caller's flags after it (cleared before it, plus `preset`). */
static int flags_after(fp_job *job, int nthreads, int preset, int *n)
{
    feclearexcept(ALL_FLAGS);
    raise_flags(preset);
    *n = fo_parallel(nthreads, fp_task, job);
    return fetestexcept(ALL_FLAGS);
}

int check_fp_flags(char *msg)
{
    static fp_job job;
    static const int one_each[5] = {FE_DIVBYZERO, FE_OVERFLOW, FE_INVALID, FE_UNDERFLOW, FE_INEXACT};
    int n1, n2, n3, n6, f_div, f_clean, f_preset, start_clean, start_preset, f_all, t, want_all = 0;
    memset(&job, 0, sizeof job);
    job.raise[expected_team(2) - 1] = FE_DIVBYZERO; /* the worker, in threaded builds */
    f_div = flags_after(&job, 2, 0, &n1);
    memset(&job, 0, sizeof job);
    f_clean = flags_after(&job, 2, 0, &n2);
    start_clean = job.at_start[n2 - 1];
    f_preset = flags_after(&job, 2, FE_INEXACT, &n3);
    start_preset = job.at_start[n3 - 1];
    memset(&job, 0, sizeof job);
    for (t = 1; t < 6; ++t)
        job.raise[t] = one_each[t - 1];
    f_all = flags_after(&job, 6, 0, &n6);
    for (t = 1; t < n6; ++t)
        want_all |= one_each[t - 1];
    feclearexcept(ALL_FLAGS);
    sprintf(msg, "teams %d %d %d %d; after a worker's 1/0 the caller has %#x (FE_DIVBYZERO=%#x); "
                 "after a clean region %#x, the worker started with %#x; caller preset INEXACT: "
                 "after %#x, worker started with %#x; five workers one flag each: %#x of %#x",
            n1, n2, n3, n6, f_div, FE_DIVBYZERO, f_clean, start_clean, f_preset, start_preset,
            f_all, want_all);
    return n1 == expected_team(2) && n6 == expected_team(6) && f_div == FE_DIVBYZERO &&
           f_clean == 0 && start_clean == 0 && f_preset == FE_INEXACT &&
           start_preset == (n3 > 1 ? 0 : FE_INEXACT) && f_all == want_all;
}

/* Workers created while the caller traps division by zero must not inherit the trap: with
 * it, the worker's 1/0 would kill the process with SIGFPE. */
int check_worker_fp_env(char *msg)
{
    static fp_job job;
    int n_create, n, flags;
    memset(&job, 0, sizeof job);
    feenableexcept(FE_DIVBYZERO);
    n_create = fo_parallel(4, fp_task, &job); /* lazy: the workers not yet alive start here */
    fedisableexcept(FE_DIVBYZERO);
    job.raise[expected_team(4) - 1] = FE_DIVBYZERO;
    flags = flags_after(&job, 4, 0, &n);
    feclearexcept(ALL_FLAGS);
    sprintf(msg, "workers created under a divide-by-zero trap (n=%d), then the last one divided "
                 "by zero (n=%d): no SIGFPE, caller's flags %#x", n_create, n, flags);
    return n_create == expected_team(4) && n == n_create && flags == FE_DIVBYZERO;
}

typedef struct {
    int mode[FO_POOL_MAX_THREADS];
    double third[FO_POOL_MAX_THREADS];
} round_job;

static double one_third(void)
{
    volatile double one = 1, three = 3;
    return one / three;
}

static void round_task(void *ctx, int tid, int n, fo_team *team)
{
    round_job *job = (round_job *)ctx;
    (void)n;
    (void)team;
    job->mode[tid] = fegetround();
    job->third[tid] = one_third();
}

/* Every thread of a region run in `mode` saw that mode and computed `expect`. */
static int region_in_mode(int mode, double expect, int *n)
{
    round_job job;
    int t, ok = 1;
    memset(&job, 0, sizeof job);
    fesetround(mode);
    *n = fo_parallel(4, round_task, &job);
    fesetround(FE_TONEAREST);
    for (t = 0; t < *n; ++t)
        ok &= job.mode[t] == mode && job.third[t] == expect;
    return ok && *n == expected_team(4);
}

int check_rounding(char *msg)
{
    double up, down, near;
    int ok_up, ok_near, ok_down, n;
    fesetround(FE_UPWARD);
    up = one_third();
    fesetround(FE_DOWNWARD);
    down = one_third();
    fesetround(FE_TONEAREST);
    near = one_third();
    ok_up = region_in_mode(FE_UPWARD, up, &n);
    ok_near = region_in_mode(FE_TONEAREST, near, &n);
    ok_down = region_in_mode(FE_DOWNWARD, down, &n);
    feclearexcept(ALL_FLAGS);
    sprintf(msg, "4 threads saw the caller's mode and its 1/3: upward %d, to-nearest %d "
                 "(after upward), downward %d; 1/3 up %a, down %a", ok_up, ok_near, ok_down, up,
            down);
    return ok_up && ok_near && ok_down && up != down;
}

/* Largest fo_pool_spinning() seen over `ms` milliseconds. */
static int max_spinning(int ms)
{
    int i, most = 0, now;
    for (i = 0; i < ms * 10; ++i) {
        now = fo_pool_spinning();
        most = now > most ? now : most;
        sleep_us(100);
    }
    return most;
}

static int wait_no_spinning(void)
{
    int i;
    for (i = 0; i < 2000 && fo_pool_spinning() != 0; ++i)
        sleep_us(1000);
    return fo_pool_spinning();
}

int check_idle(char *msg)
{
    double expect, *data = make_data(4096, &expect);
    int n_long, n, spinning_long, spinning_after;
    long long cpu_a, cpu_b, cpu_0, cpu_1;
    int attempt;
    /* the observables can fail: a 100 ms spin shows spinning workers burning CPU.  Read
     * right after the region, and tried a few times: on a loaded machine the workers may not
     * run at all within one 100 ms window (a positive control, not a timing assertion) */
    fo_pool_set_spin_us(100000);
    for (attempt = 0; attempt < 5; ++attempt) {
        n_long = parallel_sum(data, 4096, 4, expect);
        cpu_a = fo_pool_worker_cpu_ns();
        spinning_long = max_spinning(5);
        sleep_us(10000);
        cpu_b = fo_pool_worker_cpu_ns();
        if (n_long == 1 || (spinning_long == n_long - 1 && cpu_b > cpu_a))
            break;
    }
    fo_pool_set_spin_us(FO_POOL_DEFAULT_SPIN_US);
    wait_no_spinning();
    n = parallel_sum(data, 4096, 4, expect);
    /* the default spin (1 ms) has ended long before this returns, however loaded the machine: a
     * spin that never ends keeps a worker counted for the whole 2 s */
    spinning_after = wait_no_spinning();
    /* a worker leaves the spinner count just before its futex wait: let it get there */
    sleep_us(20000);
    cpu_0 = fo_pool_worker_cpu_ns();
    sleep_us(100000);
    cpu_1 = fo_pool_worker_cpu_ns();
    free(data);
    sprintf(msg, "spin 100 ms: %d of %d workers seen spinning, worker CPU +%lld ns in 10 ms; "
                 "spin %d us: after it %d spinning, worker CPU +%lld ns over 100 ms idle",
            spinning_long, n_long - 1, cpu_b - cpu_a, FO_POOL_DEFAULT_SPIN_US, spinning_after,
            cpu_1 - cpu_0);
    return n_long == expected_team(4) && n == n_long &&
           (n == 1 || (spinning_long == n - 1 && cpu_b > cpu_a)) && spinning_after == 0 &&
           cpu_1 == cpu_0;
}

int check_wake_only_needed(char *msg)
{
    double expect, *data = make_data(4096, &expect);
    int n4, n2, n3, size, asleep, after2, after3;
    fo_pool_set_spin_us(0);
    n4 = parallel_sum(data, 4096, 4, expect);
    size = fo_pool_size();
    sleep_us(20000);
    asleep = fo_pool_spinning();
    fo_pool_set_spin_us(100000); /* a worker woken now stays visible, spinning, for 100 ms */
    n2 = parallel_sum(data, 4096, 2, expect);
    after2 = max_spinning(60);
    fo_pool_set_spin_us(0);
    wait_no_spinning();
    fo_pool_set_spin_us(100000);
    n3 = parallel_sum(data, 4096, 3, expect);
    after3 = max_spinning(60);
    fo_pool_set_spin_us(FO_POOL_DEFAULT_SPIN_US);
    wait_no_spinning();
    free(data);
    sprintf(msg, "%d workers asleep (%d spinning); a 2-thread region left at most %d spinning, a "
                 "3-thread region %d", size, asleep, after2, after3);
    if (expected_team(4) == 1)
        return n4 == 1 && n2 == 1 && n3 == 1 && size == 0 && after2 == 0 && after3 == 0;
    return n4 == 4 && n2 == 2 && n3 == 3 && size >= 3 && asleep == 0 && after2 == 1 &&
           after3 == 2;
}

typedef struct {
    atomic_int seen[FO_POOL_MAX_THREADS];
    atomic_int bad_n, arrived;
    int arrived_after_barrier[FO_POOL_MAX_THREADS];
} max_job;

static void max_task(void *ctx, int tid, int n, fo_team *team)
{
    max_job *job = (max_job *)ctx;
    atomic_fetch_add(&job->seen[tid], 1);
    if (n != FO_POOL_MAX_THREADS && n != 1)
        atomic_fetch_add(&job->bad_n, 1);
    atomic_fetch_add(&job->arrived, 1);
    fo_barrier(team);
    job->arrived_after_barrier[tid] = atomic_load(&job->arrived);
}

int check_max_threads(char *msg)
{
    static max_job job;
    int n, t, once = 0, full = 0;
    memset(&job, 0, sizeof job);
    n = fo_parallel(300, max_task, &job);
    for (t = 0; t < FO_POOL_MAX_THREADS; ++t) {
        once += atomic_load(&job.seen[t]) == (t < n);
        full += t < n && job.arrived_after_barrier[t] == n;
    }
    sprintf(msg, "300 requested: n=%d, %d workers; %d of %d thread slots right, %d threads saw "
                 "all arrivals after the barrier", n, fo_pool_size(), once, FO_POOL_MAX_THREADS,
            full);
    return n == expected_team(300) && fo_pool_size() == n - 1 && once == FO_POOL_MAX_THREADS &&
           full == n && atomic_load(&job.bad_n) == 0;
}

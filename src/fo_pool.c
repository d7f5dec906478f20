/* fastops' thread pool (see fo_pool.h and docs/thread_pool.md).
 *
 * One pool per process: a caller that wins the `owner` flag runs its region on the pool's
 * workers; any other caller meanwhile runs its task alone.  Every wait (a worker between
 * regions, the barrier, the caller joining) spins for at most the spin time, then sleeps on a
 * futex (Linux) or a condition variable (elsewhere), so idle workers leave the cores to
 * OpenBLAS, other processes and Dask's threads. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* syscall(), pthread_getcpuclockid() under -std=c99 */
#endif
#include "fo_pool.h"

#if defined(__x86_64__) || (defined(__i386__) && defined(__SSE__))
#include <xmmintrin.h>
/* glibc's feraiseexcept raises overflow and underflow on the x87 unit, and the callers read
 * only the SSE status (fo_fp_status in fo_base.h): the workers' flags go into MXCSR, whose
 * low bits are the FE_* values on x86 */
static inline void fo_raise_flags(int flags)
{
    _mm_setcsr(_mm_getcsr() | ((unsigned)flags & 0x3fu));
}
#else
#include <fenv.h>
static inline void fo_raise_flags(int flags) { feraiseexcept(flags); }
#endif

#include <errno.h>
#include <stdlib.h>

/* Spin time from FASTOPS_SPIN_US, or the default when it is unset or not an integer in range. */
static int fo_spin_from_env(void)
{
    const char *text = getenv("FASTOPS_SPIN_US");
    char *end;
    long value;
    int saved_errno = errno;
    if (text == NULL || *text == '\0')
        return FO_POOL_DEFAULT_SPIN_US;
    errno = 0;
    value = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || value < 0 || value > FO_POOL_MAX_SPIN_US)
        value = FO_POOL_DEFAULT_SPIN_US;
    errno = saved_errno;
    return (int)value;
}

static int fo_clamp_spin(int us)
{
    return us < 0 ? 0 : us > FO_POOL_MAX_SPIN_US ? FO_POOL_MAX_SPIN_US : us;
}

#if defined(_WIN32) || defined(FO_POOL_SERIAL)
#include "fo_pool_serial.inc"
#else /* threads */

#include "fo_pool_wait.h"

#include <fenv.h>
#include <signal.h>
#include <unistd.h>

/* 128: two lines, since x86 prefetches cache lines in pairs */
#define FO_LINE 128
#define FO_FP_FLAGS (FE_DIVBYZERO | FE_OVERFLOW | FE_INVALID | FE_UNDERFLOW | FE_INEXACT)

typedef struct {
    _Alignas(FO_LINE) atomic_long taken; /* a line of its own: its owner bumps it per unit */
} fo_share;

struct fo_team {
    _Alignas(FO_LINE) fo_task task; /* the job: written by the owner before it posts */
    void *ctx;
    int n;
    int round;
    int spin_us; /* of the barrier and the join: 0 when the team outnumbers the CPUs */
    _Alignas(FO_LINE) atomic_uint bar_count;
    fo_event bar; /* word: barrier generation */
    /* Workers enter a region by bumping `entry` (fo_enter): the region's number, its size,
     * whether it is closed to latecomers (fo_parallel_shared), and how many entered */
    _Alignas(FO_LINE) _Atomic unsigned long long entry;
    unsigned number; /* the owner's: regions so far */
    atomic_int fp_flags;
    fo_event left; /* word: bumped by every worker that leaves the task */
    _Alignas(FO_LINE) fo_event finished; /* word: units finished (fo_finish) */
    fo_share shares[FO_POOL_MAX_THREADS];  /* per thread: units taken from its shares */
};

typedef struct {
    _Alignas(FO_LINE) fo_event go; /* word: regions posted to this worker */
    unsigned seen;                 /* go.word at creation */
    int tid;
    pthread_t thread;
} fo_worker;

static fo_worker fo_workers[FO_POOL_MAX_THREADS]; /* [0] unused: the caller is tid 0 */
static fo_team fo_the_team;
static fo_team fo_solo_team = {.n = 1};
static atomic_int fo_owner;      /* 1 while a region owns the pool */
static atomic_int fo_nworkers;   /* fo_workers[1..fo_nworkers] are alive */
static _Alignas(FO_LINE) atomic_int fo_spinners; /* workers busy-waiting between regions;
                                                  its own line: every worker writes it */
static atomic_int fo_spin_us;
static atomic_uint fo_fork_epoch; /* bumped in every forked child */
static int fo_ncpus = 1;          /* CPUs this process may run on, at first use */
static pthread_once_t fo_init_once = PTHREAD_ONCE_INIT;
static _Thread_local int fo_in_task; /* nesting: a task's fo_parallel runs serially */

/* The longest fo_await busy-waits before it sleeps.  It waits only for units another thread
 * has claimed and is computing; when that thread has lost its CPU to another process, spinning
 * on would only hold this CPU (and sched_yield, under EEVDF, gives it away for a whole slice),
 * so it spins briefly and without yielding. */
#ifndef FO_AWAIT_SPIN_US
#define FO_AWAIT_SPIN_US 50
#endif

/* The next unit of `owner`'s shares (numbered over all phases) if below `end`, else -1. */
static long fo_claim(fo_team *team, int owner, long end)
{
    atomic_long *taken = &team->shares[owner].taken;
    long unit = atomic_load_explicit(taken, memory_order_relaxed);
    /* relaxed: a unit's inputs were published by the fo_await that ended the previous phase */
    while (unit < end)
        if (atomic_compare_exchange_weak_explicit(taken, &unit, unit + 1, memory_order_relaxed,
                                                  memory_order_relaxed))
            return unit;
    return -1;
}

static void fo_finish(fo_team *team)
{
    fo_event_post(&team->finished); /* seq_cst: publishes the unit's results */
}

/* Returns once `end` units (counted over all phases) are done. */
static void fo_await(fo_team *team, long end)
{
    const int spin = team->spin_us < FO_AWAIT_SPIN_US ? team->spin_us : FO_AWAIT_SPIN_US;
    for (;;) {
        unsigned seen = atomic_load_explicit(&team->finished.word, memory_order_acquire);
        if ((int)(seen - (unsigned)end) >= 0) /* modulo 2^32: the futex word is 32 bits */
            return;
        if (!fo_spin_while(&team->finished, seen, spin, (long long)spin * 1000))
            fo_sleep_while(&team->finished, seen);
    }
}

void fo_barrier(fo_team *team)
{
    unsigned gen;
    if (team->n <= 1)
        return;
    /* read before arriving: the generation cannot move until this thread has arrived */
    gen = atomic_load(&team->bar.word);
    if (atomic_fetch_add(&team->bar_count, 1) == (unsigned)team->n - 1) {
        atomic_store_explicit(&team->bar_count, 0, memory_order_relaxed);
        fo_event_post(&team->bar);
    } else {
        fo_wait_while(&team->bar, gen, team->spin_us);
    }
}

#define FO_ENTRY_COUNT 0xffffull /* workers that entered */
#define FO_ENTRY_CLOSED (1ull << 16)
#define FO_ENTRY_N_SHIFT 17 /* the team size, 9 bits */
#define FO_ENTRY_NUMBER_SHIFT 32

/* A worker woken for a region enters the one now posted, if it is open, counts the worker
 * in, and is not the one it entered last (*last): a worker late for a region of
 * fo_parallel_shared can find the next region's entry word before that region's post, and
 * wakes once more for the post.  Otherwise (a shared region that finished without it, or one
 * of fewer threads) it must not touch the team's task.  A region's fields were written
 * before its entry word, and do not change while an entered worker runs. */
static int fo_enter(fo_team *team, int tid, unsigned *last)
{
    unsigned long long e = atomic_load_explicit(&team->entry, memory_order_acquire);
    for (;;) {
        const unsigned number = (unsigned)(e >> FO_ENTRY_NUMBER_SHIFT);
        if ((e & FO_ENTRY_CLOSED) || tid >= (int)((e >> FO_ENTRY_N_SHIFT) & 0x1ff)
                || number == *last)
            return 0;
        if (atomic_compare_exchange_weak_explicit(&team->entry, &e, e + 1, memory_order_acquire,
                                                  memory_order_acquire)) {
            *last = number;
            return 1;
        }
    }
}

static void *fo_worker_main(void *arg)
{
    fo_worker *self = (fo_worker *)arg;
    fo_team *team = &fo_the_team;
    unsigned seen = self->seen, entered = 0; /* the number of the last region entered */
    int posted, flags;
    fo_in_task = 1; /* workers only ever run tasks */
    /* a thread starts with its creator's FP environment: no traps or flush-to-zero from it */
    fesetenv(FE_DFL_ENV);
    for (;;) {
        atomic_fetch_add(&fo_spinners, 1);
        posted = fo_spin_while(&self->go, seen,
                               atomic_load_explicit(&fo_spin_us, memory_order_relaxed),
                               FO_PURE_SPIN_NS);
        atomic_fetch_sub(&fo_spinners, 1);
        if (!posted)
            fo_sleep_while(&self->go, seen);
        /* every post so far: a worker late for a region of fo_parallel_shared may find the
         * next one already posted, and must run it once */
        seen = atomic_load_explicit(&self->go.word, memory_order_acquire);
        if (!fo_enter(team, self->tid, &entered))
            continue;
        if (fegetround() != team->round)
            fesetround(team->round);
        flags = fetestexcept(FO_FP_FLAGS);
        if (flags)
            feclearexcept(flags);
        team->task(team->ctx, self->tid, team->n, team);
        flags = fetestexcept(FO_FP_FLAGS);
        if (flags)
            atomic_fetch_or(&team->fp_flags, flags);
        fo_event_post(&team->left);
    }
    return NULL;
}

/* Fork.  The pool has no mutex held across a region: ownership is the atomic `fo_owner`,
 * and on Linux every wait is a futex on an atomic word.  So the prepare handler takes no lock
 * (taking one held for a whole region would stall fork() for the region's length, and a fork
 * from inside a task would deadlock on it).  The child, which has only the forking thread,
 * instead resets all pool state: no workers, owner free, counters zero, and (condition-variable
 * build) every mutex and condvar re-initialised as fresh memory.  Whatever thread held the
 * owner flag or a mutex at the fork does not exist in the child, so nothing waits for it;
 * re-initialising is formally unspecified by POSIX for an initialised object, but glibc, musl
 * and macOS implement init as plain stores, which is what a fresh object needs.  The next
 * fo_parallel in the child creates workers again.  A fork from inside a task on the calling
 * thread: the child's copy of fo_parallel sees the new epoch and returns without joining the
 * workers it no longer has.  The parent's pool is untouched. */
static void fo_pool_reset(void)
{
    int i;
    for (i = 0; i < FO_POOL_MAX_THREADS; ++i)
        fo_event_reset(&fo_workers[i].go);
    fo_the_team.n = 1; /* barriers of a task interrupted by the fork no longer wait */
    atomic_store(&fo_the_team.bar_count, 0);
    atomic_store(&fo_the_team.entry, FO_ENTRY_CLOSED); /* no worker enters a parent's region */
    fo_event_reset(&fo_the_team.bar);
    fo_event_reset(&fo_the_team.left);
    fo_event_reset(&fo_the_team.finished);
    atomic_store(&fo_nworkers, 0);
    atomic_store(&fo_spinners, 0);
    atomic_store(&fo_owner, 0);
}

static void fo_after_fork_child(void)
{
    fo_pool_reset();
    atomic_fetch_add(&fo_fork_epoch, 1);
}

static int fo_count_cpus(void)
{
    long n;
#if defined(__linux__) && defined(CPU_COUNT)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
#endif
    n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static void fo_pool_init(void)
{
    fo_pool_reset();
    fo_ncpus = fo_count_cpus();
    atomic_store(&fo_spin_us, fo_spin_from_env());
    pthread_atfork(NULL, NULL, fo_after_fork_child);
}

/* Owner only.  Returns how many of the `want` workers exist. */
static int fo_ensure_workers(int want)
{
    int have = atomic_load_explicit(&fo_nworkers, memory_order_relaxed);
    sigset_t all, old;
    if (have >= want)
        return want;
    /* workers inherit a full mask: signals go to the application's own threads */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    while (have < want) {
        fo_worker *w = &fo_workers[have + 1];
        w->tid = have + 1;
        w->seen = atomic_load(&w->go.word);
        if (pthread_create(&w->thread, NULL, fo_worker_main, w) != 0)
            break;
        ++have;
        atomic_store_explicit(&fo_nworkers, have, memory_order_release);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return have;
}

static int fo_run_alone(fo_task task, void *ctx)
{
    int outer = fo_in_task;
    fo_in_task = 1;
    task(ctx, 0, 1, &fo_solo_team);
    fo_in_task = outer;
    return 1;
}

/* fo_parallel and fo_parallel_shared: `shared` closes the region to workers that have not
 * entered it by the time the caller's task returns. */
static int fo_region(int nthreads, fo_task task, void *ctx, int shared)
{
    fo_team *team = &fo_the_team;
    int n, i, flags, free_flag = 0;
    unsigned epoch, left_before, workers;
    if (nthreads <= 1 || fo_in_task)
        return fo_run_alone(task, ctx);
    pthread_once(&fo_init_once, fo_pool_init);
    if (!atomic_compare_exchange_strong(&fo_owner, &free_flag, 1))
        return fo_run_alone(task, ctx);
    n = 1 + fo_ensure_workers((nthreads < FO_POOL_MAX_THREADS ? nthreads : FO_POOL_MAX_THREADS) - 1);
    if (n == 1) {
        atomic_store(&fo_owner, 0);
        return fo_run_alone(task, ctx);
    }
    epoch = atomic_load(&fo_fork_epoch);
    team->task = task;
    team->ctx = ctx;
    team->n = n;
    team->round = fegetround();
    /* more threads than CPUs: a spinner would hold the CPU a thread it waits for needs */
    team->spin_us = n > fo_ncpus ? 0 : atomic_load_explicit(&fo_spin_us, memory_order_relaxed);
    atomic_store_explicit(&team->fp_flags, 0, memory_order_relaxed);
    /* no thread waits on these between regions */
    atomic_store_explicit(&team->finished.word, 0, memory_order_relaxed);
    for (i = 0; i < n; ++i)
        atomic_store_explicit(&team->shares[i].taken, 0, memory_order_relaxed);
    left_before = atomic_load_explicit(&team->left.word, memory_order_relaxed);
    if (++team->number == 0) /* 0 is a new worker's "entered none yet" */
        team->number = 1;
    /* release: a worker that sees this word sees the fields above */
    atomic_store_explicit(&team->entry,
                          (unsigned long long)team->number << FO_ENTRY_NUMBER_SHIFT
                              | (unsigned long long)n << FO_ENTRY_N_SHIFT,
                          memory_order_release);
    for (i = 1; i < n; ++i) /* only the workers this region needs */
        fo_event_post(&fo_workers[i].go);
    fo_in_task = 1;
    task(ctx, 0, n, team);
    fo_in_task = 0;
    if (atomic_load(&fo_fork_epoch) != epoch)
        return n; /* we are a child forked inside the task: its workers are gone */
    workers = (unsigned)n - 1;
    if (shared) /* the work is done: wait only for the workers inside the task */
        workers = (unsigned)(atomic_fetch_or(&team->entry, FO_ENTRY_CLOSED) & FO_ENTRY_COUNT);
    for (;;) {
        const unsigned seen = atomic_load(&team->left.word);
        if (seen - left_before >= workers)
            break;
        fo_wait_while(&team->left, seen, team->spin_us);
    }
    flags = atomic_load_explicit(&team->fp_flags, memory_order_relaxed);
    atomic_store_explicit(&fo_owner, 0, memory_order_release);
    if (flags)
        fo_raise_flags(flags);
    return n;
}

int fo_parallel(int nthreads, fo_task task, void *ctx)
{
    return fo_region(nthreads, task, ctx, 0);
}

int fo_parallel_shared(int nthreads, fo_task task, void *ctx)
{
    return fo_region(nthreads, task, ctx, 1);
}

int fo_pool_size(void)
{
    return atomic_load_explicit(&fo_nworkers, memory_order_acquire);
}

void fo_pool_set_spin_us(int us)
{
    pthread_once(&fo_init_once, fo_pool_init);
    atomic_store(&fo_spin_us, fo_clamp_spin(us));
}

int fo_pool_get_spin_us(void)
{
    pthread_once(&fo_init_once, fo_pool_init);
    return atomic_load(&fo_spin_us);
}

int fo_pool_spinning(void)
{
    return atomic_load(&fo_spinners);
}

#include "fo_pool_cputime.inc"

#endif /* threads */

#include <string.h>

void fo_phases_start(fo_phases *p, fo_team *team, int tid, int nt)
{
    p->team = team;
    p->tid = tid;
    p->nt = nt;
    p->holding = 0;
    p->units = 0;
    p->next = 0;
    p->finished = 0;
    memset(p->taken, 0, (size_t)nt * sizeof(long));
}

void fo_phase_begin(fo_phases *p, long units)
{
    p->units = units;
    p->next = 0;
}

long fo_phase_next(fo_phases *p)
{
    int i;
    if (p->nt <= 1)
        return p->next < p->units ? p->next++ : -1;
    if (p->holding)
        fo_finish(p->team);
    p->holding = 0;
    for (i = 0; i < p->nt; ++i) {
        const int owner = (p->tid + i) % p->nt;
        const long lo = p->units * owner / p->nt, size = p->units * (owner + 1) / p->nt - lo;
        const long got = fo_claim(p->team, owner, p->taken[owner] + size);
        if (got >= 0) {
            p->holding = 1;
            return lo + got - p->taken[owner];
        }
    }
    return -1;
}

void fo_phase_end(fo_phases *p)
{
    int owner;
    p->finished += p->units;
    if (p->nt <= 1)
        return;
    for (owner = 0; owner < p->nt; ++owner)
        p->taken[owner] += p->units * (owner + 1) / p->nt - p->units * owner / p->nt;
    fo_await(p->team, p->finished);
}

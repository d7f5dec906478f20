/* fastops' own thread pool: fork-safe, short bounded spin, then sleep.
 *
 * Replaces OpenMP in the kernels: libgomp's team hangs a fork()ed child and spins long after
 * each region, which halves the speed of the next OpenBLAS call (issues 9 and 13).
 * docs/thread_pool.md explains the design and the rules for callers. */
#ifndef FO_POOL_H
#define FO_POOL_H

#ifdef __cplusplus
extern "C" {
#endif

#define FO_POOL_MAX_THREADS 256
#define FO_POOL_DEFAULT_SPIN_US 1000
#define FO_POOL_MAX_SPIN_US 100000

typedef struct fo_team fo_team; /* opaque: the threads of one region */
typedef void (*fo_task)(void *ctx, int tid, int nthreads, fo_team *team);

/* Run task(ctx, t, n, team) for t = 0..n-1 concurrently and return n.  The calling thread is
 * t = 0.  n = min(nthreads, FO_POOL_MAX_THREADS), except n = 1 (task runs on the caller alone,
 * team works as a 1-thread team) when nthreads <= 1, when called from inside a task
 * (nesting), or when another thread currently owns the pool.  Never fails: if worker
 * threads cannot be created, it runs with the workers it has (possibly n = 1). */
int fo_parallel(int nthreads, fo_task task, void *ctx);

/* fo_parallel for a task whose threads share its work with fo_phases (below), and whose
 * calling thread returns from it only once every unit is done: a worker that has not entered
 * the task by then (it has not had a CPU since the region began) is not waited for, and skips
 * it.  Such a task must not use fo_barrier, since a thread may never arrive. */
int fo_parallel_shared(int nthreads, fo_task task, void *ctx);

/* All n threads of the region wait here until all have arrived (no-op for n = 1).  Memory
 * written before the barrier by any thread is visible after it to all (full fence). */
void fo_barrier(fo_team *team);

/* Work sharing, for tasks whose threads must never wait for another's static share (a thread
 * that has lost its CPU to another process would hold up the others for a scheduler slice).
 * Every thread of the task walks the same phases of units with its own fo_phases:
 *
 *     fo_phases ph;
 *     fo_phases_start(&ph, team, tid, nt);
 *     fo_phase_begin(&ph, units);
 *     while ((u = fo_phase_next(&ph)) >= 0)
 *         run(u);
 *     fo_phase_end(&ph);   // then the next phase
 *
 * A phase's units are split into static shares, as [units*t/nt, units*(t+1)/nt); a thread
 * takes its own share first, then what is left of the others'.  fo_phase_next reports the
 * unit the thread held before as done.  fo_phase_end returns once every unit of the phase is
 * done (only units other threads are computing remain), and what they wrote is then
 * visible.  A thread that lags behind finds its phases taken and catches up without waiting.
 * On one thread (nt = 1, any team) it just counts. */
typedef struct {
    fo_team *team;
    int tid, nt;
    int holding;   /* a claimed unit not yet reported done */
    long units;    /* of the current phase */
    long next;     /* one thread: the next unit */
    long finished; /* units of all the phases before */
    long taken[FO_POOL_MAX_THREADS]; /* per owner: units of its shares in those phases */
} fo_phases;

void fo_phases_start(fo_phases *p, fo_team *team, int tid, int nt);
void fo_phase_begin(fo_phases *p, long units);
long fo_phase_next(fo_phases *p);
void fo_phase_end(fo_phases *p);

/* Floating-point exception flags (FE_DIVBYZERO, FE_OVERFLOW, FE_INVALID, FE_UNDERFLOW,
 * FE_INEXACT of <fenv.h>) raised by the workers during a region are raised in the calling
 * thread before fo_parallel returns, so the caller can test its own flags after a
 * multi-threaded kernel exactly as after a serial one.  Workers start every task with
 * cleared flags and the caller's rounding mode. */

/* Worker threads currently alive (not counting callers). */
int fo_pool_size(void);

/* Idle policy: after a region a worker busy-waits (with a pause/yield instruction) for at most
 * the spin time, then sleeps (Linux futex, elsewhere a pthread condition variable) until the
 * next region.  Default spin: 1000 microseconds (see docs/thread_pool.md for why), overridable at first use by the environment
 * variable FASTOPS_SPIN_US (0..100000; invalid values ignored with the default kept) and at
 * run time by fo_pool_set_spin_us(), which clamps its argument to 0..100000. */
void fo_pool_set_spin_us(int us);
int fo_pool_get_spin_us(void);

/* Observability for tests: workers currently busy-waiting (not sleeping, not running a task),
 * and the total CPU time (ns) consumed by all worker threads so far. */
int fo_pool_spinning(void);
long long fo_pool_worker_cpu_ns(void);

#ifdef __cplusplus
}
#endif

#endif

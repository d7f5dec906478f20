/* The waits of fo_pool.c: an event (a counter threads wait on to change), waited for by a
 * bounded spin and then a sleep on a futex (Linux) or a condition variable (elsewhere, or with
 * -DFO_POOL_USE_CONDVAR, which the tests use to run that path on Linux).  Only fo_pool.c
 * includes this. */
#ifndef FO_POOL_WAIT_H
#define FO_POOL_WAIT_H

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#if defined(__linux__) && !defined(FO_POOL_USE_CONDVAR)
#define FO_POOL_FUTEX 1
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

/* A counter that threads wait on to change.  `sleepers` lets the changer skip the wake-up
 * syscall while nobody sleeps; both sides use seq_cst (Dekker): a waiter either sees the new
 * word before it sleeps, or the changer sees it among the sleepers and wakes it. */
typedef struct {
    atomic_uint word; /* also the futex word */
    atomic_int sleepers;
#ifndef FO_POOL_FUTEX
    pthread_mutex_t mutex;
    pthread_cond_t cond;
#endif
} fo_event;

_Static_assert(sizeof(atomic_uint) == 4, "a futex word is 32 bits");

static inline void fo_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

static long long fo_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Overwrites whatever state the event had: used at start-up and in a forked child, where a
 * waiter or mutex owner recorded in it may be a thread that does not exist any more. */
static void fo_event_reset(fo_event *ev)
{
    atomic_store(&ev->word, 0);
    atomic_store(&ev->sleepers, 0);
#ifndef FO_POOL_FUTEX
    memset(&ev->mutex, 0, sizeof ev->mutex);
    memset(&ev->cond, 0, sizeof ev->cond);
    pthread_mutex_init(&ev->mutex, NULL);
    pthread_cond_init(&ev->cond, NULL);
#endif
}

/* Busy-wait at most `us` microseconds for ev->word to leave `old`; returns whether it did.
 * After the first `pure_ns` the loop also yields the CPU: when the thread it waits for
 * (or another process) is runnable on this CPU, pure spinning would make every hand-over cost
 * the whole spin time; with the CPU to itself, sched_yield returns at once. */
#define FO_PURE_SPIN_NS 2000
static int fo_spin_while(fo_event *ev, unsigned old, int us, long long pure_ns)
{
    long long start, now, deadline;
    int i;
    if (atomic_load_explicit(&ev->word, memory_order_acquire) != old)
        return 1;
    if (us <= 0)
        return 0;
    start = fo_now_ns();
    deadline = start + us * 1000LL;
    do {
        for (i = 0; i < 32; ++i) {
            fo_cpu_relax();
            if (atomic_load_explicit(&ev->word, memory_order_acquire) != old)
                return 1;
        }
        now = fo_now_ns();
        if (now - start > pure_ns)
            sched_yield();
    } while (now < deadline);
    return 0;
}

static void fo_sleep_while(fo_event *ev, unsigned old)
{
#ifdef FO_POOL_FUTEX
    atomic_fetch_add(&ev->sleepers, 1);
    while (atomic_load(&ev->word) == old) /* EINTR and spurious returns loop */
        syscall(SYS_futex, &ev->word, FUTEX_WAIT_PRIVATE, old, NULL, NULL, 0);
    atomic_fetch_sub(&ev->sleepers, 1);
#else
    pthread_mutex_lock(&ev->mutex);
    atomic_fetch_add(&ev->sleepers, 1);
    while (atomic_load(&ev->word) == old)
        pthread_cond_wait(&ev->cond, &ev->mutex);
    atomic_fetch_sub(&ev->sleepers, 1);
    pthread_mutex_unlock(&ev->mutex);
#endif
}

/* Bump ev->word and wake everyone sleeping on it. */
static void fo_event_post(fo_event *ev)
{
    atomic_fetch_add(&ev->word, 1);
    if (atomic_load(&ev->sleepers) == 0)
        return;
#ifdef FO_POOL_FUTEX
    syscall(SYS_futex, &ev->word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#else
    /* taking the mutex orders us after a waiter between its check and pthread_cond_wait */
    pthread_mutex_lock(&ev->mutex);
    pthread_cond_broadcast(&ev->cond);
    pthread_mutex_unlock(&ev->mutex);
#endif
}

static void fo_wait_while(fo_event *ev, unsigned old, int spin_us)
{
    if (!fo_spin_while(ev, old, spin_us, FO_PURE_SPIN_NS))
        fo_sleep_while(ev, old);
}

#endif

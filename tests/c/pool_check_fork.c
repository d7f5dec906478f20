/* Pool checks of fork(): a child computes right with threads of its own, whatever the parent's
 * pool was doing at the fork, and the parent's pool goes on working. */
#include "pool_check.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define LEN 100000
#define CHILD_ROUNDS 20

/* In a child: regions on `nthreads` threads, each checked; the exit code says what failed. */
static void child_regions(const double *data, double expect, int nthreads)
{
    int r, n;
    alarm(30); /* a hang ends as SIGALRM, which the parent reports */
    for (r = 0; r < CHILD_ROUNDS; ++r) {
        n = parallel_sum(data, LEN, nthreads, expect);
        if (n == -1)
            _exit(2); /* wrong sum */
        if (n != expected_team(nthreads))
            _exit(3); /* fewer threads than asked */
    }
    _exit(fo_pool_size() >= expected_team(nthreads) - 1 ? 0 : 4);
}

/* Exit status of the child (128 + signal if killed), or -1 if it ran past timeout_ms. */
static int wait_child(pid_t pid, int timeout_ms)
{
    int status, i;
    pid_t r;
    for (i = 0; i < timeout_ms; ++i) {
        r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (r < 0 && errno != EINTR)
            return -2;
        sleep_us(1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static int fork_and_check(const double *data, double expect, int nthreads)
{
    pid_t pid = fork();
    if (pid == 0)
        child_regions(data, expect, nthreads);
    return pid < 0 ? -3 : wait_child(pid, 30000);
}

int check_fork_after_region(char *msg)
{
    double expect, *data = make_data(LEN, &expect);
    int n_before = parallel_sum(data, LEN, 4, expect);
    int code = fork_and_check(data, expect, 4);
    int n_after = parallel_sum(data, LEN, 4, expect);
    free(data);
    sprintf(msg, "parent region n=%d; child of fork ran %d 4-thread regions: exit %d (0 ok, -1 "
                 "hung); parent afterwards n=%d", n_before, CHILD_ROUNDS, code, n_after);
    return n_before == expected_team(4) && code == 0 && n_after == expected_team(4);
}

typedef struct {
    atomic_int paused, forked, stop, wrong, regions;
    const double *data;
    double expect;
    int n;
} busy_job;

static void paused_task(void *ctx, int tid, int n, fo_team *team)
{
    busy_job *job = (busy_job *)ctx;
    (void)n;
    if (tid == 0) {
        atomic_store(&job->paused, 1);
        while (!atomic_load(&job->forked))
            sleep_us(100);
    }
    fo_barrier(team); /* the worker waits here, asleep, through the fork */
}

static void *owner_paused(void *arg)
{
    busy_job *job = (busy_job *)arg;
    job->n = fo_parallel(2, paused_task, job);
    return NULL;
}

static void *owner_looping(void *arg)
{
    busy_job *job = (busy_job *)arg;
    while (!atomic_load(&job->stop)) {
        if (parallel_sum(job->data, LEN, 2, job->expect) != expected_team(2))
            atomic_fetch_add(&job->wrong, 1);
        atomic_fetch_add(&job->regions, 1);
    }
    return NULL;
}

int check_fork_during_regions(char *msg)
{
    static busy_job paused, looping;
    pthread_t owner;
    double expect, *data = make_data(LEN, &expect);
    int code_paused, bad_children = 0, hung_children = 0, i, code, n_after;
    /* 1: fork while another thread owns the pool, its worker asleep in a barrier */
    pthread_create(&owner, NULL, owner_paused, &paused);
    while (!atomic_load(&paused.paused))
        sleep_us(100);
    code_paused = fork_and_check(data, expect, 2);
    atomic_store(&paused.forked, 1);
    pthread_join(owner, NULL);
    /* 2: forks at arbitrary moments of another thread's stream of regions */
    looping.data = data;
    looping.expect = expect;
    pthread_create(&owner, NULL, owner_looping, &looping);
    for (i = 0; i < 20; ++i) {
        code = fork_and_check(data, expect, 2);
        bad_children += code != 0;
        hung_children += code == -1;
        sleep_us(500);
    }
    atomic_store(&looping.stop, 1);
    pthread_join(owner, NULL);
    n_after = parallel_sum(data, LEN, 2, expect);
    free(data);
    sprintf(msg, "fork mid-region of another thread: child exit %d, owner's region n=%d; 20 forks "
                 "during another thread's %d regions: %d children failed (%d hung), %d wrong "
                 "regions in the parent; parent afterwards n=%d", code_paused, paused.n,
            atomic_load(&looping.regions), bad_children, hung_children,
            atomic_load(&looping.wrong), n_after);
    return code_paused == 0 && paused.n == expected_team(2) && bad_children == 0 &&
           atomic_load(&looping.wrong) == 0 && n_after == expected_team(2);
}

typedef struct {
    pid_t child;
    int in_child;
} fork_in_task_job;

static void forking_task(void *ctx, int tid, int n, fo_team *team)
{
    fork_in_task_job *job = (fork_in_task_job *)ctx;
    (void)n;
    if (tid == 0) {
        pid_t pid = fork();
        job->in_child = pid == 0;
        job->child = pid;
    }
    fo_barrier(team); /* in the child, the worker it would wait for is gone */
}

int check_fork_in_task(char *msg)
{
    double expect, *data = make_data(LEN, &expect);
    fork_in_task_job job = {0, 0};
    int n = fo_parallel(2, forking_task, &job), code, n_after;
    if (job.in_child) {
        alarm(30);
        child_regions(data, expect, 2);
    }
    code = job.child < 0 ? -3 : wait_child(job.child, 30000);
    n_after = parallel_sum(data, LEN, 2, expect);
    free(data);
    sprintf(msg, "fork inside a task of thread 0 (n=%d): the child left the region and ran "
                 "2-thread regions, exit %d; parent afterwards n=%d", n, code, n_after);
    return n == expected_team(2) && code == 0 && n_after == expected_team(2);
}

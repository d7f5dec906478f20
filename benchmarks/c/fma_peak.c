/* FMA peak probe (bench-only, never part of the package): independent chains of
 * 256-bit FMAs, so throughput rather than latency bounds the loop.  Prints the
 * float32 GFLOP/s of each of `threads` threads running at once, and their sum.
 *
 *   fma_peak [threads] [chains] [seconds]      (defaults 1 12 0.3)
 *
 * Compiled without -march: the loop carries its own target attribute, as the
 * package's SIMD kernels do.  Run it only on a CPU with AVX2 and FMA. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <immintrin.h>

#define REPS 1000000L

/* CPU time of the calling thread: on a shared machine the time slices other processes
 * take from this thread do not count against the core's throughput */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* 12 accumulators: enough to hide a 4-5 cycle latency on 2 pipes (>= 10 needed) */
#define FMA12(x, y)                                                                            \
    c0 = _mm256_fmadd_ps(x, y, c0); c1 = _mm256_fmadd_ps(x, y, c1);                         \
    c2 = _mm256_fmadd_ps(x, y, c2); c3 = _mm256_fmadd_ps(x, y, c3);                         \
    c4 = _mm256_fmadd_ps(x, y, c4); c5 = _mm256_fmadd_ps(x, y, c5);                         \
    c6 = _mm256_fmadd_ps(x, y, c6); c7 = _mm256_fmadd_ps(x, y, c7);                         \
    c8 = _mm256_fmadd_ps(x, y, c8); c9 = _mm256_fmadd_ps(x, y, c9);                         \
    c10 = _mm256_fmadd_ps(x, y, c10); c11 = _mm256_fmadd_ps(x, y, c11);

__attribute__((target("avx2,fma"), noinline)) static float chains12(long reps, float seed)
{
    __m256 x = _mm256_set1_ps(1.0f + 1e-7f * seed), y = _mm256_set1_ps(0.999999f);
    /* distinct starting values, or the compiler merges the identical chains */
    __m256 c0 = _mm256_set1_ps(seed), c1 = _mm256_set1_ps(seed + 1), c2 = _mm256_set1_ps(seed + 2),
           c3 = _mm256_set1_ps(seed + 3), c4 = _mm256_set1_ps(seed + 4),
           c5 = _mm256_set1_ps(seed + 5), c6 = _mm256_set1_ps(seed + 6),
           c7 = _mm256_set1_ps(seed + 7), c8 = _mm256_set1_ps(seed + 8),
           c9 = _mm256_set1_ps(seed + 9), c10 = _mm256_set1_ps(seed + 10),
           c11 = _mm256_set1_ps(seed + 11);
    long i;
    for (i = 0; i < reps; ++i) {
        FMA12(x, y)
        FMA12(x, y)
        __asm__ volatile("" : "+x"(x), "+x"(y)); /* keep the loop: nothing is hoisted */
    }
    c0 = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)),
                       _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7)));
    c0 = _mm256_add_ps(c0, _mm256_add_ps(_mm256_add_ps(c8, c9), _mm256_add_ps(c10, c11)));
    return _mm256_cvtss_f32(c0);
}

/* one dependent chain: the FMA latency, for the report */
__attribute__((target("avx2,fma"), noinline)) static float chain1(long reps, float seed)
{
    __m256 x = _mm256_set1_ps(1.0f), y = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(seed);
    long i;
    for (i = 0; i < reps; ++i) {
        c = _mm256_fmadd_ps(x, y, c); c = _mm256_fmadd_ps(x, y, c);
        c = _mm256_fmadd_ps(x, y, c); c = _mm256_fmadd_ps(x, y, c);
    }
    return _mm256_cvtss_f32(c);
}

typedef struct {
    double seconds, gflops;
    float sink;
} job;

static void *run(void *arg)
{
    job *j = (job *)arg;
    long reps = REPS / 20;
    double t, best = 0;
    int round;
    chains12(reps, 1.0f); /* warm up: clocks ramp, AVX units wake */
    for (round = 0; round < 5; ++round) {
        double t0 = now(), elapsed;
        long done = 0;
        do {
            j->sink += chains12(reps, (float)round);
            done += reps;
            elapsed = now() - t0;
        } while (elapsed < j->seconds / 5);
        t = 24.0 * 8 * 2 * (double)done / elapsed / 1e9; /* 24 FMAs x 8 lanes x 2 flops */
        if (t > best)
            best = t;
    }
    j->gflops = best;
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1, i;
    double seconds = argc > 3 ? atof(argv[3]) : 0.3, sum = 0, t0, lat;
    pthread_t tid[64];
    job jobs[64] = {{0}};
    if (threads < 1 || threads > 64)
        return 2;
    for (i = 0; i < threads; ++i) {
        jobs[i].seconds = seconds;
        pthread_create(&tid[i], NULL, run, &jobs[i]);
    }
    for (i = 0; i < threads; ++i) {
        pthread_join(tid[i], NULL);
        printf("thread %d: %.1f GFLOP/s\n", i, jobs[i].gflops);
        sum += jobs[i].gflops;
    }
    t0 = now();
    jobs[0].sink += chain1(REPS, 1.0f);
    lat = (now() - t0) / (4.0 * REPS);
    printf("total: %.1f GFLOP/s\n", sum);
    printf("fma latency: %.3f ns\n", lat * 1e9);
    return jobs[0].sink == 12345.f; /* use the sums */
}

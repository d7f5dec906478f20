/* FMA peak probe (bench-only, never part of the package): independent chains of
 * 256-bit FMAs, so throughput rather than latency bounds the loop.  Prints the
 * float32 GFLOP/s of each of `threads` threads running at once, and their sum.
 *
 *   fma_peak [threads] [chains] [seconds] [bits]      (defaults 1 12 0.3 256)
 *
 * bits = 512 measures AVX-512 FMAs: the peak of fastops' AVX-512 path, which on a core
 * with two 512-bit FMA pipes is twice the 256-bit figure.  Compiled without -march: the
 * loops carry their own target attributes, as the package's SIMD kernels do.  Run it only
 * on a CPU with AVX2 and FMA (and AVX-512F for bits = 512). */
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

/* 12 accumulators: enough to hide a 4-5 cycle latency on 2 pipes (>= 10 needed).  One
 * definition per vector width, so the 256- and 512-bit probes run the same loop. */
#define FMA12(fma, x, y)                                                                       \
    c0 = fma(x, y, c0); c1 = fma(x, y, c1); c2 = fma(x, y, c2); c3 = fma(x, y, c3);         \
    c4 = fma(x, y, c4); c5 = fma(x, y, c5); c6 = fma(x, y, c6); c7 = fma(x, y, c7);         \
    c8 = fma(x, y, c8); c9 = fma(x, y, c9); c10 = fma(x, y, c10); c11 = fma(x, y, c11);

#define DEFINE_CHAINS12(name, isa, vec, set1, fma, add, first)                               \
    __attribute__((target(isa), noinline)) static float name(long reps, float seed)       \
    {                                                                                          \
        vec x = set1(1.0f + 1e-7f * seed), y = set1(0.999999f);                                \
        /* distinct starting values, or the compiler merges the identical chains */            \
        vec c0 = set1(seed), c1 = set1(seed + 1), c2 = set1(seed + 2), c3 = set1(seed + 3),    \
            c4 = set1(seed + 4), c5 = set1(seed + 5), c6 = set1(seed + 6),                     \
            c7 = set1(seed + 7), c8 = set1(seed + 8), c9 = set1(seed + 9),                     \
            c10 = set1(seed + 10), c11 = set1(seed + 11);                                      \
        long i;                                                                                \
        for (i = 0; i < reps; ++i) {                                                           \
            FMA12(fma, x, y)                                                                   \
            FMA12(fma, x, y)                                                                   \
            __asm__ volatile("" : "+v"(x), "+v"(y)); /* keep the loop: nothing is hoisted */   \
        }                                                                                      \
        c0 = add(add(add(c0, c1), add(c2, c3)), add(add(c4, c5), add(c6, c7)));                \
        c0 = add(c0, add(add(c8, c9), add(c10, c11)));                                         \
        return first(c0);                                                                      \
    }

DEFINE_CHAINS12(chains12_256, "avx2,fma", __m256, _mm256_set1_ps, _mm256_fmadd_ps,
                _mm256_add_ps, _mm256_cvtss_f32)
DEFINE_CHAINS12(chains12_512, "avx512f", __m512, _mm512_set1_ps, _mm512_fmadd_ps,
                _mm512_add_ps, _mm512_cvtss_f32)

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
    int lanes; /* 8: 256-bit FMAs, 16: 512-bit */
    float sink;
} job;

static void *run(void *arg)
{
    job *j = (job *)arg;
    long reps = REPS / 20;
    double t, best = 0;
    int round;
    float (*chains12)(long, float) = j->lanes == 16 ? chains12_512 : chains12_256;
    chains12(reps, 1.0f); /* warm up: clocks ramp, AVX units wake */
    for (round = 0; round < 5; ++round) {
        double t0 = now(), elapsed;
        long done = 0;
        do {
            j->sink += chains12(reps, (float)round);
            done += reps;
            elapsed = now() - t0;
        } while (elapsed < j->seconds / 5);
        t = 24.0 * j->lanes * 2 * (double)done / elapsed / 1e9; /* 24 FMAs x lanes x 2 flops */
        if (t > best)
            best = t;
    }
    j->gflops = best;
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1, i;
    int bits = argc > 4 ? atoi(argv[4]) : 256;
    double seconds = argc > 3 ? atof(argv[3]) : 0.3, sum = 0, t0, lat;
    pthread_t tid[64];
    job jobs[64] = {{0}};
    if (threads < 1 || threads > 64 || (bits != 256 && bits != 512))
        return 2;
    if (bits == 512 && !__builtin_cpu_supports("avx512f")) {
        fprintf(stderr, "fma_peak: this CPU has no AVX-512F\n");
        return 2;
    }
    for (i = 0; i < threads; ++i) {
        jobs[i].seconds = seconds;
        jobs[i].lanes = bits / 32;
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

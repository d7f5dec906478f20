/* fastops' GEMM at every edge of its blocking, on every kernel this build has (on aarch64:
 * the portable C kernel and the NEON one), against the error bound of tests/gemm_bound.py,
 * computed exactly enough (float data in double, double data in long double: IEEE quad on
 * aarch64 Linux).  Cross-compiled and run under qemu-user by tests/test_portable_arm.py.
 *
 *   gemm_edges_check                  the check; prints "N gemm calls, F failures"
 *   gemm_edges_check count ISA T M K N REPS
 *                                     REPS products of one shape (T: f32 or f64) on one
 *                                     thread, for counting instructions under qemu
 *
 * Each shape runs with 8 layout combinations of A, B and C (row-major, column-major,
 * sliced, reversed, reversed-transposed views) and alpha/beta in {(1, 0), (-0.5, 0) with C
 * all NaN, (1.5, 0.75)} on one thread, and with 4 of the combinations on exactly 2 threads
 * for the best kernel. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fo_gemm.h"

enum { L_C, L_F, L_SLICED, L_NEGATIVE, L_NEG_T };
#define N_COMBOS 8
static const int COMBOS[N_COMBOS][3] = {
    {L_C, L_C, L_C},           {L_F, L_C, L_C},        {L_C, L_F, L_C},
    {L_F, L_F, L_C},           {L_C, L_C, L_F},        {L_SLICED, L_SLICED, L_SLICED},
    {L_NEGATIVE, L_NEG_T, L_NEGATIVE}, {L_NEG_T, L_NEGATIVE, L_F}};
/* Two threads split packing and tiles after the layout is normalised, so they run the
 * combinations that reach different paths (and the sliced C whose gaps they must not
 * touch), on the best kernel only (the driver is the same C for every kernel): under qemu
 * on a shared machine every barrier can cost a scheduler time slice. */
static const int COMBO_THREADED[N_COMBOS] = {1, 1, 0, 0, 0, 1, 1, 0};

static double uniform(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return ((*s >> 8) & 0xffff) / 32768.0 - 1.0;
}

#define T float
#define R double
#define SUF(x) x##_s
#define GEMM fo_gemm_f32
#define U 0x1p-24
#define TINY 0x1p-149
#include "gemm_edges_body.inc"
#undef T
#undef R
#undef SUF
#undef GEMM
#undef U
#undef TINY

#define T double
#define R long double
#define SUF(x) x##_d
#define GEMM fo_gemm_f64
#define U 0x1p-53
#define TINY 0x1p-1074
#include "gemm_edges_body.inc"

/* REPS products of one shape on one thread (row-major operands, beta = 0). */
static int count_mode(int isa, const char *dtype, long m, long k, long n, long reps)
{
    const int dbl = strcmp(dtype, "f64") == 0;
    const size_t sz = dbl ? sizeof(double) : sizeof(float);
    void *a = calloc((size_t)(m * k), sz), *b = calloc((size_t)(k * n), sz);
    void *c = calloc((size_t)(m * n), sz);
    long r, i;
    /* nonzero operands: the portable kernel skips the all-zero k steps of A */
    for (i = 0; i < m * k; ++i) {
        if (dbl)
            ((double *)a)[i] = 1.0 + (double)(i % 7);
        else
            ((float *)a)[i] = 1.0f + (float)(i % 7);
    }
    for (i = 0; i < k * n; ++i) {
        if (dbl)
            ((double *)b)[i] = 0.5;
        else
            ((float *)b)[i] = 0.5f;
    }
    for (r = 0; r < reps; ++r) {
        int rc = dbl ? fo_gemm_f64(isa, 1, m, n, k, 1.0, (double *)a, k, 1, (double *)b, n, 1,
                                   0.0, (double *)c, n, 1)
                     : fo_gemm_f32(isa, 1, m, n, k, 1.0f, (float *)a, k, 1, (float *)b, n, 1,
                                   0.0f, (float *)c, n, 1);
        if (rc != 0)
            return 1;
    }
    printf("counted %ld x %s %ldx%ldx%ld at isa %d (gemm isa %d)\n", reps, dtype, m, k, n, isa,
           fo_gemm_isa(isa));
    free(a); free(b); free(c);
    return 0;
}

int main(int argc, char **argv)
{
    int calls = 0, fails;
    const int top = fo_gemm_isa(fo_cpu_level());
    if (argc == 8 && strcmp(argv[1], "count") == 0)
        return count_mode(atoi(argv[2]), argv[3], atol(argv[4]), atol(argv[5]), atol(argv[6]),
                          atol(argv[7]));
    if (argc != 1) {
        fprintf(stderr, "usage: %s [count ISA f32|f64 M K N REPS]\n", argv[0]);
        return 2;
    }
    printf("kernels checked: isa 0..%d (cpu level %d)\n", top, fo_cpu_level());
    /* the 'auto' matmul backend's choice at this CPU's level (fastops.show_config prints it) */
    printf("auto backend: float32 %s, float64 %s\n",
           fo_gemm_beats_blas(fo_cpu_level(), 0) ? "fastops" : "blas",
           fo_gemm_beats_blas(fo_cpu_level(), 1) ? "fastops" : "blas");
    fails = check_all_s(top, &calls) + check_all_d(top, &calls);
    printf("%d gemm calls, %d failures\n", calls, fails);
    return fails != 0;
}

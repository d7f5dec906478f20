/* fastops' GEMM on 2 threads against the same product on one, on every path of the
 * work-shared code (fo_gemm_driver.inc: shared_body; fo_gemm_skinny.inc), with sparse A
 * (zero-skipping) and with an Inf in B (skipping must then stay off).  Run by
 * tests/test_gemm_threads.py, plainly and under ThreadSanitizer.  Prints "mismatches N" and
 * exits 1 if any product differs in a bit (the threads change no summation order). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "fo_gemm.h"

int main(void)
{
    /* m, n, k: shared A with column groups; A packed per unit; B in two blocks along k;
     * A once per B block; the small-N, small-M and blocked small paths; zero-skipping */
    static const int shapes[][3] = {{128, 512, 784}, {2100, 40, 256}, {20, 4080, 300},
                                    {1100, 40, 600}, {128, 10, 512}, {5, 40, 300},
                                    {90, 7, 300},    {60, 70, 203}};
    const int count = (int)(sizeof shapes / sizeof shapes[0]);
    int s, inf, rep, mismatches = 0;
    for (s = 0; s < count; ++s)
        for (inf = 0; inf < 2; ++inf) {
            const int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
            float *a = malloc(sizeof(float) * (size_t)m * k);
            float *b = malloc(sizeof(float) * (size_t)k * n);
            float *one = malloc(sizeof(float) * (size_t)m * n);
            float *two = malloc(sizeof(float) * (size_t)m * n);
            long i;
            if (a == NULL || b == NULL || one == NULL || two == NULL)
                return 2;
            for (i = 0; i < (long)m * k; ++i) /* every 7th value and every 9th row zero */
                a[i] = (i % 7 == 0 || (i / k) % 9 == 0) ? 0.f : (float)(i % 13) - 6;
            for (i = 0; i < (long)k * n; ++i)
                b[i] = (float)(i % 11) - 5;
            if (inf)
                b[3L * n + n / 2] = INFINITY;
            fo_gemm_f32(1, 1, m, n, k, 1.f, a, k, 1, b, n, 1, 0.f, one, n, 1);
            for (rep = 0; rep < 3; ++rep) {
                /* -2: exactly 2 threads, however small the product */
                fo_gemm_f32(1, -2, m, n, k, 1.f, a, k, 1, b, n, 1, 0.f, two, n, 1);
                for (i = 0; i < (long)m * n; ++i)
                    if (!(one[i] == two[i] || (isnan(one[i]) && isnan(two[i])))) {
                        printf("%dx%dx%d inf=%d: [%ld] %g != %g\n", m, n, k, inf, i,
                               (double)one[i], (double)two[i]);
                        ++mismatches;
                        break;
                    }
            }
            free(a);
            free(b);
            free(one);
            free(two);
        }
    printf("mismatches %d\n", mismatches);
    return mismatches != 0;
}

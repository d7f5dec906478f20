/* The softmax and cross-entropy rows when their exp buffer cannot be allocated
 * (tests/test_nn_exp_buffer.py).  Rows longer than FO_EXP_CHUNK take a heap buffer of a whole
 * row; when malloc refuses it, the rows go chunk by chunk and compute each exp twice.  Both
 * ways must give the same result up to the order of the sum, on every ISA the CPU has.
 *
 * malloc is interposed (glibc): while `refuse` is set it returns NULL and counts the refusal,
 * so the check can tell that the fallback really ran. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fo_nn.h"

extern void *__libc_malloc(size_t size);
static int refuse, refused;

void *malloc(size_t size)
{
    if (refuse) {
        refused++;
        return NULL;
    }
    return __libc_malloc(size);
}

static int mismatches;

static void expect_close(const char *what, int isa, int k, const double *a, const double *b,
                         int count, double rtol)
{
    for (int i = 0; i < count; i++) {
        const double tol = rtol * fabs(a[i]) + 1e-300;
        if (!(fabs(a[i] - b[i]) <= tol) && !(isnan(a[i]) && isnan(b[i]))) {
            printf("MISMATCH %s isa %d k %d at %d: %.17g vs %.17g\n", what, isa, k, i, a[i],
                   b[i]);
            mismatches++;
            return;
        }
    }
}

int main(void)
{
    const int ks[] = {257, 600, 1000}, rows = 3;
    for (int isa = 0; isa <= fo_cpu_level(); isa++) {
        for (size_t t = 0; t < sizeof ks / sizeof ks[0]; t++) {
            const int k = ks[t];
            double *x = __libc_malloc(sizeof(double) * rows * k);
            double *heap = __libc_malloc(sizeof(double) * rows * k);
            double *chunked = __libc_malloc(sizeof(double) * rows * k);
            double *gh = __libc_malloc(sizeof(double) * rows * k);
            double *gc = __libc_malloc(sizeof(double) * rows * k);
            int64_t labels[3] = {0, k / 2, k - 1};
            double correct, loss_heap, loss_chunked;
            fo_idx bad;
            unsigned seed = 12345u + (unsigned)k;
            for (int i = 0; i < rows * k; i++) {
                seed = seed * 1103515245u + 12345u;
                x[i] = ((seed >> 8) % 20000) / 1000.0 - 10.0;
            }
            x[k + 7] = -1000.0; /* a lane past the fast range, in the second row */
            {
                fo_mat mx = {(char *)x, k, 1};
                fo_mat mh = {(char *)heap, k, 1}, mc = {(char *)chunked, k, 1};
                fo_mat mgh = {(char *)gh, k, 1}, mgc = {(char *)gc, k, 1};
                fo_softmax_f64(isa, 1, rows, k, mx, mh);
                loss_heap = fo_sparse_softmax_crossentropy_f64(isa, 1, rows, k, mx, labels, NULL,
                                                               mgh, &correct, NULL, &bad);
                refuse = 1;
                refused = 0;
                fo_softmax_f64(isa, 1, rows, k, mx, mc);
                loss_chunked = fo_sparse_softmax_crossentropy_f64(isa, 1, rows, k, mx, labels,
                                                                  NULL, mgc, &correct, NULL,
                                                                  &bad);
                refuse = 0;
            }
            if (refused != 2) {
                printf("MISMATCH isa %d k %d: %d allocations refused, not 2\n", isa, k, refused);
                mismatches++;
            }
            expect_close("softmax", isa, k, heap, chunked, rows * k, 1e-14);
            expect_close("gradient", isa, k, gh, gc, rows * k, 1e-14);
            expect_close("loss", isa, k, &loss_heap, &loss_chunked, 1, 1e-14);
            free(x);
            free(heap);
            free(chunked);
            free(gh);
            free(gc);
        }
    }
    printf("isa 0..%d checked\n%d mismatches\n", fo_cpu_level(), mismatches);
    return mismatches != 0;
}

/* General matrix multiply for fastops: C := alpha * A.B + beta * C.
 *
 * Row-major thinking, any strides: element (i, j) of X lives at x[i*rsx + j*csx],
 * strides in elements and of any sign (transposed, sliced and reversed views need
 * no copy; packing reads them).  beta == 0 never reads C, so C may hold garbage or
 * NaN, as in BLAS.  alpha == 0 or k == 0 only scales C (A and B are not read).
 *
 * `isa` is an FO_ISA_* level (src/fo_cpu.h) no higher than fo_cpu_level(); the
 * caller picks it once.  `nthreads` is an upper bound: small problems run on one.
 *
 * Return 0, or -1 when the packing buffers cannot be allocated (C untouched).
 */
#ifndef FO_GEMM_KERNELS_H
#define FO_GEMM_KERNELS_H

#include <stddef.h>

int fo_sgemm(int isa, int nthreads, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
             float alpha, const float *a, ptrdiff_t rsa, ptrdiff_t csa,
             const float *b, ptrdiff_t rsb, ptrdiff_t csb,
             float beta, float *c, ptrdiff_t rsc, ptrdiff_t csc);

int fo_dgemm(int isa, int nthreads, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
             double alpha, const double *a, ptrdiff_t rsa, ptrdiff_t csa,
             const double *b, ptrdiff_t rsb, ptrdiff_t csb,
             double beta, double *c, ptrdiff_t rsc, ptrdiff_t csc);

/* Blocking actually used at `isa` for float32 (is_double = 0) or float64:
 * out = {MR, NR, MC, KC, NC, SUP_MAX, SUP_MR, SUP_NR}: the packed tile, the cache
 * blocks, the largest N of the skinny path and its tile.  Tests size shapes by them. */
void fo_gemm_blocking(int isa, int is_double, ptrdiff_t out[8]);

/* Tests only: let every problem with at least `flops` of work per thread use
 * several threads (0 restores the default), so small shapes exercise the
 * parallel code paths too.  Not thread-safe against concurrent GEMM calls. */
void fo_gemm_set_flops_per_thread(double flops);

#endif

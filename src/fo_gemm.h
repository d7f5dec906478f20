/* General matrix multiply: C := alpha * A.B + beta * C.
 *
 * Row-major thinking, any strides: element (i, j) of X lives at x[i*rsx + j*csx], strides
 * in elements and of any sign (transposed, sliced and reversed views need no copy; packing
 * reads them).  beta == 0 never reads C, so C may hold garbage or NaN, as in BLAS.
 * alpha == 0 or k == 0 only scales C (A and B are not read).  C must not overlap A or B.
 *
 * `isa` is an FO_ISA_* level no higher than fo_cpu_level(); `nthreads` is an upper bound:
 * small problems run on fewer threads (nthreads < 0 asks for exactly -nthreads, whatever the
 * size: the tests use it to run the parallel code on small shapes).
 *
 * Return 0, or -1 when the packing buffers cannot be allocated (C untouched).
 */
#ifndef FO_GEMM_H
#define FO_GEMM_H

#include "fo_base.h"

int fo_gemm_f32(int isa, int nthreads, fo_idx m, fo_idx n, fo_idx k,
                float alpha, const float *a, fo_idx rsa, fo_idx csa,
                const float *b, fo_idx rsb, fo_idx csb,
                float beta, float *c, fo_idx rsc, fo_idx csc);

int fo_gemm_f64(int isa, int nthreads, fo_idx m, fo_idx n, fo_idx k,
                double alpha, const double *a, fo_idx rsa, fo_idx csa,
                const double *b, fo_idx rsb, fo_idx csb,
                double beta, double *c, fo_idx rsc, fo_idx csc);

/* C := A.B (m x k times k x n, strides as above) handed to fn in blocks of whole rows
 * instead of stored: fn(ctx, tid, row0, rows, c) gets rows [row0, row0 + rows) of C at c,
 * contiguous with row stride n, and each row comes exactly once.  fn runs on the call's
 * threads (tid < FO_POOL_MAX_THREADS, which identifies the thread), concurrently for
 * disjoint rows, and must not write A or B.  When k <= KC and n <= NC the product is never
 * whole in memory: each MC-row block is handed over from the L2-sized buffer its tiles were
 * computed in (an optimizer step then reads the gradient while it is hot); otherwise C is
 * computed whole into a temporary first.  Returns 0, or -1 when a buffer cannot be allocated
 * (fn never called). */
typedef void (*fo_gemm_rows_fn)(void *ctx, int tid, fo_idx row0, fo_idx rows, const void *c);

int fo_gemm_rows_f32(int isa, int nthreads, fo_idx m, fo_idx n, fo_idx k, const float *a,
                     fo_idx rsa, fo_idx csa, const float *b, fo_idx rsb, fo_idx csb,
                     fo_gemm_rows_fn fn, void *ctx);

int fo_gemm_rows_f64(int isa, int nthreads, fo_idx m, fo_idx n, fo_idx k, const double *a,
                     fo_idx rsa, fo_idx csa, const double *b, fo_idx rsb, fo_idx csb,
                     fo_gemm_rows_fn fn, void *ctx);

/* Blocking actually used at `isa` for float32 (is_double = 0) or float64:
 * out = {MR, NR, MC, KC, NC, SUP_MAX, SUP_MR, SUP_NR}: the packed tile, the cache blocks,
 * the largest N of the skinny path and its tile.  Tests size shapes by them. */
void fo_gemm_blocking(int isa, int is_double, fo_idx out[8]);

/* The paths a product can take (fo_gemm.c and fo_gemm_driver.inc describe each). */
enum { FO_PATH_BLOCKED, FO_PATH_SUP, FO_PATH_SUPM, FO_PATH_DOT, FO_PATH_SMALL, FO_PATH_GEMV };

/* The path fo_gemm_f32 (is_double = 0) or fo_gemm_f64 takes for these arguments, and in
 * *threads the threads it runs on; -1 for a product with nothing to multiply (m, n or k
 * at most 0).  Tests check the choice with it: results alone cannot tell the paths apart,
 * since every path sums in the same order. */
int fo_gemm_path(int isa, int is_double, int nthreads, fo_idx m, fo_idx n, fo_idx k,
                 fo_idx rsa, fo_idx csa, fo_idx rsb, fo_idx csb, fo_idx rsc, fo_idx csc,
                 int *threads);

/* The ISA the GEMM family runs for a requested level (every level has its kernels). */
int fo_gemm_isa(int isa);

/* 1 where the kernel run at `isa` for float32 (is_double = 0) or float64 was measured at
 * least as fast as BLAS (OpenBLAS through scipy), so that the 'auto' matmul backend runs it:
 * AVX2 and AVX-512.  0 for the portable kernel (a third of OpenBLAS) and for NEON until it
 * is measured on aarch64 hardware. */
int fo_gemm_beats_blas(int isa, int is_double);

#endif

/* Elementwise kernels and reductions over strided N-d arrays (the iterator of fo_iter.h).
 *
 * The typed entry (src/elementwise.pxi) has validated, broadcast and allocated: these
 * functions only walk memory.  Strides are in bytes; a stride of 0 is a broadcast operand.
 * `out` may be an input with identical strides (in place); partial overlap never reaches here.
 */
#ifndef FO_ELEMENTWISE_H
#define FO_ELEMENTWISE_H

#include "fo_base.h"

/* Binary operations: out := op(a, b).  The order is part of the interface with
 * src/fo_kernels.pxd; each name is the Python function's. */
enum {
    FO_ADD = 0,
    FO_SUBTRACT,
    FO_MULTIPLY,
    FO_DIVIDE,
    FO_MAXIMUM,          /* NaN in either operand propagates, as np.maximum */
    FO_MINIMUM,
    FO_BIAS_ADD_RELU,    /* max(a + b, 0) in one pass */
    FO_RELU_BACKWARD,    /* b > 0 ? a : 0, a = upstream gradient, b = relu input or output */
    FO_SIGMOID_BACKWARD, /* a * b * (1 - b), b = sigmoid output */
    FO_TANH_BACKWARD,    /* a * (1 - b * b), b = tanh output */
    FO_NUM_BINARY
};

/* Unary operations: out := op(x).  Compute-bound, so they live in fo_unary.c and run the nn
 * family's levels (AVX-512 included). */
enum { FO_SIGMOID = 0, FO_TANH, FO_NUM_UNARY };

/* The ISA the elementwise family runs for a requested level: memory-bound loops gain
 * nothing from 512-bit vectors, so AVX-512 CPUs run the AVX2 loops. */
int fo_elementwise_isa(int isa);

/* out_is_fresh: out was just allocated (never written), so it is not streamed. */
void fo_binary(int op, int dtype, int isa, int nthreads, int ndim, const fo_idx *shape,
               const char *a, const fo_idx *stride_a, const char *b, const fo_idx *stride_b,
               char *out, const fo_idx *stride_out, int out_is_fresh);

void fo_unary(int op, int dtype, int isa, int nthreads, int ndim, const fo_idx *shape,
              const char *x, const fo_idx *stride_x, char *out, const fo_idx *stride_out);

/* Sum of every element of x, accumulated in double (pairwise blocks). */
double fo_sum_all(int dtype, int isa, int nthreads, int ndim, const fo_idx *shape,
                  const char *x, const fo_idx *stride_x);

/* acc += x, where acc (double) has stride 0 along the reduced axes. */
void fo_sum_into(int dtype, int isa, int ndim, const fo_idx *shape, const char *x,
                 const fo_idx *stride_x, double *acc, const fo_idx *stride_acc);

/* 1 if x holds no NaN and no +-Inf. */
int fo_all_finite(int dtype, int isa, int nthreads, int ndim, const fo_idx *shape,
                  const char *x, const fo_idx *stride_x);

#endif

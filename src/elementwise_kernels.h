/* Elementwise and reduction kernels: strided N-d iteration, contiguous SIMD runs.
 *
 * The Cython entry (src/_elementwise.pyx) validates, broadcasts and allocates; these
 * functions only walk memory.  Strides are in bytes; a stride of 0 is a broadcast
 * operand.  Nothing here allocates, raises or touches Python objects.
 */
#ifndef FO_ELEMENTWISE_KERNELS_H
#define FO_ELEMENTWISE_KERNELS_H

#include <stddef.h>

typedef ptrdiff_t fo_idx;

/* Binary operations; the order is part of the interface with _elementwise.pyx. */
enum {
    FO_ADD = 0,
    FO_SUBTRACT,
    FO_MULTIPLY,
    FO_DIVIDE,
    FO_MAXIMUM,      /* NaN in either operand propagates, as np.maximum */
    FO_MINIMUM,
    FO_ADD_RELU,     /* max(a + b, 0): bias_add_relu in one pass */
    FO_RELU_GRAD,    /* b > 0 ? a : 0 with a = upstream gradient, b = relu input */
    FO_NUM_BINARY_OPS
};

enum { FO_FLOAT32 = 0, FO_FLOAT64 = 1 };

#define FO_MAX_NDIM 64

void fo_elementwise_set_isa(int level);
int fo_elementwise_get_isa(void);

/* out := op(a, b) for every index of `shape`.  a, b and out may be the same
 * array with identical strides (in place); partial overlap must be removed by
 * the caller.  out_is_fresh: out was just allocated (never written). */
void fo_binary(int op, int dtype, int ndim, const fo_idx *shape,
               const char *a, const fo_idx *stride_a,
               const char *b, const fo_idx *stride_b,
               char *out, const fo_idx *stride_out, int nthreads, int out_is_fresh);

/* Sum of every element of x, accumulated in double (pairwise blocks). */
double fo_sum_all(int dtype, int ndim, const fo_idx *shape,
                  const char *x, const fo_idx *stride_x, int nthreads);

/* acc += x, where acc (double) has stride 0 along the reduced axes. */
void fo_sum_into(int dtype, int ndim, const fo_idx *shape,
                 const char *x, const fo_idx *stride_x,
                 double *acc, const fo_idx *stride_acc);

#endif

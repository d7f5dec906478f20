/* Fused kernels of the nn layer: row softmax, softmax + cross-entropy forward
 * and backward in one pass, optimizer updates in place, row argmax, sigmoid/tanh.
 *
 * All arrays are C-contiguous; the Python layer (fastops/nnops.py) checks shapes,
 * dtypes and label ranges, so nothing here raises or allocates.  `isa` is an
 * FO_ISA_* level (src/fo_cpu.h), `nthreads` the OpenMP team size the caller may use.
 */
#ifndef FO_NN_KERNELS_H
#define FO_NN_KERNELS_H

#include <stdint.h>

#define FO_NN_DECLARE(T, SUF)                                                                   \
    void fo_softmax_##SUF(int nthreads, int64_t n, int64_t k, const T *x, T *out);             \
    void fo_softmax_backward_##SUF(int nthreads, int64_t n, int64_t k, const T *grad,          \
                                   const T *y, T *out);                                          \
    double fo_softmax_xent_##SUF(int nthreads, int64_t n, int64_t k, const T *z, const T *y,  \
                                 T *grad, int64_t *ncorrect);                                    \
    double fo_sparse_softmax_xent_##SUF(int nthreads, int64_t n, int64_t k, const T *z,        \
                                        const int64_t *labels, T *grad, int64_t *ncorrect);     \
    void fo_argmax_##SUF(int64_t n, int64_t k, const T *x, int64_t *out);                      \
    void fo_sigmoid_##SUF(int nthreads, int64_t n, const T *x, T *out);                        \
    void fo_sigmoid_backward_##SUF(int isa, int nthreads, int64_t n, const T *grad,            \
                                   const T *y, T *out);                                          \
    void fo_tanh_##SUF(int nthreads, int64_t n, const T *x, T *out);                           \
    void fo_tanh_backward_##SUF(int isa, int nthreads, int64_t n, const T *grad, const T *y,   \
                                T *out);                                                         \
    int fo_all_finite_##SUF(int nthreads, int64_t n, const T *x);                              \
    void fo_sgd_update_##SUF(int isa, int nthreads, int64_t n, T *w, const T *g, T *m,         \
                             T lr, T momentum, int nesterov);                                    \
    void fo_rmsprop_update_##SUF(int isa, int nthreads, int64_t n, T *w, const T *g, T *v,     \
                                 T *m, T *mg, T lr, T rho, T eps, T momentum);                 \
    void fo_adagrad_update_##SUF(int isa, int nthreads, int64_t n, T *w, const T *g, T *acc,   \
                                 T lr, T eps);                                                   \
    void fo_adam_update_##SUF(int isa, int nthreads, int64_t n, T *w, const T *g, T *m, T *v,  \
                              T *vhat, T alpha, T beta1, T beta2, T eps);

FO_NN_DECLARE(float, f32)
FO_NN_DECLARE(double, f64)

void fo_label_range(int64_t n, const int64_t *labels, int64_t *lo, int64_t *hi);
int64_t fo_count_equal(int64_t n, const int64_t *a, const int64_t *b);

#endif

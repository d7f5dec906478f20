/* Fused kernels of neural-network training: row softmax, the losses with their gradient in
 * one pass, metric counts, dropout, and the optimizer updates.
 *
 * The typed entry (src/nn.pxi) has checked shapes, dtypes and overlap: nothing here raises
 * or allocates.  Row kernels see 2-d operands of n rows and k columns through fo_mat, any
 * strides in elements; update kernels see contiguous arrays of n elements.
 * `w` is an optional row weight array (sample weights, n doubles) or NULL.
 * Losses reduce as Keras' 'sum_over_batch_size': sum_i w_i * loss_i / n.
 * `grad.data == NULL` means forward only.
 * Each function exists as _f32 and _f64 (FO_NN_DECLARE below).
 */
#ifndef FO_NN_H
#define FO_NN_H

#include "fo_base.h"

typedef struct {
    char *data;
    fo_idx rs, cs; /* element (i, j) at data + (i * rs + j * cs) * itemsize */
} fo_mat;

/* The gradient of an update given as the product A.B (m x k times k x n; element (i, j) of
 * A at a[i * rsa + j * csa], of B likewise), the variable being m x n.  The updates then
 * run on each block of rows of it as fo_gemm_rows (fo_gemm.h) computes them, so the
 * gradient is never stored whole: g is ignored, and the result is -1 when the product's
 * buffers cannot be allocated (nothing updated). */
typedef struct {
    const void *a, *b;
    fo_idx m, n, k, rsa, csa, rsb, csb;
} fo_product;

/* `rows`, when not NULL, receives the per-row value before weighting (loss_i, or correct_i
 * of a count), n doubles. */
#define FO_NN_DECLARE(T, SFX)                                                                   \
    void fo_softmax_##SFX(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat x, fo_mat out);    \
    void fo_softmax_backward_##SFX(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat grad,     \
                                   fo_mat y, fo_mat out);                                        \
    double fo_softmax_crossentropy_##SFX(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat z,  \
                                         fo_mat y, const double *w, fo_mat grad,               \
                                         double *correct, double *rows);                         \
    /* returns the loss, or sets *bad_row to the first row whose label is outside [0, k) and   \
     * writes nothing */                                                                         \
    double fo_sparse_softmax_crossentropy_##SFX(int isa, int nthreads, fo_idx n, fo_idx k,     \
                                                fo_mat z, const int64_t *labels,               \
                                                const double *w, fo_mat grad, double *correct, \
                                                double *rows, fo_idx *bad_row);                  \
    double fo_sigmoid_crossentropy_##SFX(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat z,  \
                                         fo_mat y, const double *w, fo_mat grad,               \
                                         double *correct, double *rows);                         \
    double fo_mean_squared_error_##SFX(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat p,    \
                                       fo_mat y, const double *w, fo_mat grad, double *rows);  \
    double fo_mean_absolute_error_##SFX(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat p,   \
                                        fo_mat y, const double *w, fo_mat grad, double *rows); \
    /* Keras 3's cross-entropies on probabilities: clipped to [eps, 1 - eps] (categorical after  \
     * dividing by the row sum); the gradient is 0 where the clip is active */                  \
    double fo_categorical_crossentropy_probs_##SFX(int isa, int nthreads, fo_idx n, fo_idx k,  \
                                                   fo_mat p, fo_mat y, const double *w,        \
                                                   fo_mat grad, double *rows);                  \
    double fo_sparse_categorical_crossentropy_probs_##SFX(int isa, int nthreads, fo_idx n,     \
                                                          fo_idx k, fo_mat p,                  \
                                                          const int64_t *labels,               \
                                                          const double *w, fo_mat grad,        \
                                                          double *rows, fo_idx *bad_row);       \
    double fo_binary_crossentropy_probs_##SFX(int isa, int nthreads, fo_idx n, fo_idx k,       \
                                              fo_mat p, fo_mat y, const double *w, fo_mat grad, \
                                              double *rows);                                     \
    void fo_argmax_##SFX(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat x, int64_t *out);   \
    double fo_categorical_correct_##SFX(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat p,   \
                                        fo_mat y, const double *w, double *rows);              \
    double fo_sparse_categorical_correct_##SFX(int isa, int nthreads, fo_idx n, fo_idx k,      \
                                               fo_mat p, const int64_t *labels,                \
                                               const double *w, double *rows);                  \
    double fo_binary_correct_##SFX(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat p,        \
                                   fo_mat y, double threshold, const double *w, double *rows); \
    double fo_top_k_correct_##SFX(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat p,         \
                                  const int64_t *labels, fo_idx top, const double *w,         \
                                  double *rows, fo_idx *bad_row);                                \
    /* out := keep ? x / keep_prob : 0, keep from (seed, i * k + j): see fastops.nn.dropout */  \
    void fo_dropout_##SFX(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat x,                 \
                          uint64_t threshold, double keep_prob, uint64_t seed, fo_mat out);    \
    /* out[i, :] := src[idx[i], :] converted to T (src is float32 or float64, src_dtype);       \
     * or *bad_row := the first i with idx[i] outside [0, n_src), nothing written */             \
    void fo_take_rows_##SFX(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat src,             \
                            int src_dtype, fo_idx n_src, const int64_t *idx, fo_mat out,       \
                            fo_idx *bad_row);                                                    \
    /* In place on w and the slots; g (or the product gp, when not NULL) first regularised   \
     * with l1 * sign(w) + 2 * l2 * w.  Returns l1 * sum|w| + l2 * sum w^2 of w before the     \
     * step, or -1 (see fo_product). */                                                          \
    double fo_sgd_update_##SFX(int isa, int nthreads, fo_idx n, T *w, const T *g,              \
                               const fo_product *gp, T *m, double lr, double momentum,         \
                               int nesterov, double l1, double l2);                            \
    double fo_rmsprop_update_##SFX(int isa, int nthreads, fo_idx n, T *w, const T *g,          \
                                   const fo_product *gp, T *v, T *m, T *mg, double lr,         \
                                   double rho, double eps, double momentum, double l1,         \
                                   double l2);                                                 \
    double fo_adagrad_update_##SFX(int isa, int nthreads, fo_idx n, T *w, const T *g,          \
                                   const fo_product *gp, T *acc, double lr, double eps,        \
                                   double l1, double l2);                                      \
    double fo_adam_update_##SFX(int isa, int nthreads, fo_idx n, T *w, const T *g,             \
                                const fo_product *gp, T *m, T *v, T *vhat, double alpha,       \
                                double beta1, double beta2, double eps, double l1, double l2); \
    /* l1 * sum|w| + l2 * sum w^2 of n contiguous values */                                      \
    double fo_l1_l2_penalty_##SFX(int isa, int nthreads, fo_idx n, const T *w, double l1,     \
                                  double l2);

FO_NN_DECLARE(float, f32)
FO_NN_DECLARE(double, f64)
#undef FO_NN_DECLARE

/* The ISA the nn family runs for a requested level (every level has update loops). */
int fo_nn_isa(int isa);

#endif

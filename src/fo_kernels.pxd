# Every C prototype of fastops' kernels, declared once (compile time only: cimported by
# src/_kernels.pyx, never imported).  The C headers document the contracts.  A typed kernel
# is two C symbols, _f32 and _f64, declared here as deliberate type twins: Cython cannot
# template an extern declaration, and kernels of the same family share one signature shape.
cimport numpy as cnp
from libc.stdint cimport int64_t, uint64_t

cdef extern from "fo_base.h" nogil:
    ctypedef cnp.npy_intp fo_idx  # ptrdiff_t in C, the same type as npy_intp
    enum:
        FO_F32
        FO_F64
        FO_MAX_NDIM
        FO_ISA_PORTABLE
        FO_ISA_AVX2
        FO_ISA_AVX512
        FO_FE_INVALID
        FO_FE_DIVBYZERO
        FO_FE_OVERFLOW
        FO_FE_UNDERFLOW
    int fo_cpu_level()
    void fo_fp_clear()
    int fo_fp_status()

cdef extern from "fo_pool.h" nogil:
    enum:
        FO_POOL_MAX_THREADS
        FO_POOL_MAX_SPIN_US
    int fo_pool_size()
    void fo_pool_set_spin_us(int us)
    int fo_pool_get_spin_us()
    int fo_pool_spinning()
    long long fo_pool_worker_cpu_ns()

cdef extern from "fo_blas_threads.h" nogil:
    # a function pointer in C; only its address crosses into Python
    void *fo_blas_threads_entry()
    long long fo_blas_threads_calls()
    long long fo_blas_threads_spawning_calls()
    long long fo_blas_threads_moves()

cdef extern from "fo_elementwise.h" nogil:
    enum:
        FO_ADD
        FO_SUBTRACT
        FO_MULTIPLY
        FO_DIVIDE
        FO_MAXIMUM
        FO_MINIMUM
        FO_BIAS_ADD_RELU
        FO_RELU_BACKWARD
        FO_SIGMOID_BACKWARD
        FO_TANH_BACKWARD
        FO_SIGMOID
        FO_TANH
    int fo_elementwise_isa(int isa)
    void fo_binary(int op, int dtype, int isa, int nthreads, int ndim, const fo_idx *shape,
                   const char *a, const fo_idx *stride_a, const char *b, const fo_idx *stride_b,
                   char *out, const fo_idx *stride_out, int out_is_fresh)
    void fo_unary(int op, int dtype, int isa, int nthreads, int ndim, const fo_idx *shape,
                  const char *x, const fo_idx *stride_x, char *out, const fo_idx *stride_out)
    double fo_sum_all(int dtype, int isa, int nthreads, int ndim, const fo_idx *shape,
                      const char *x, const fo_idx *stride_x)
    void fo_sum_into(int dtype, int isa, int ndim, const fo_idx *shape, const char *x,
                     const fo_idx *stride_x, double *acc, const fo_idx *stride_acc)
    int fo_all_finite(int dtype, int isa, int nthreads, int ndim, const fo_idx *shape,
                      const char *x, const fo_idx *stride_x)

cdef extern from "fo_gemm.h" nogil:
    int fo_gemm_isa(int isa)
    int fo_gemm_beats_blas(int isa, int is_double)
    int fo_gemm_f32(int isa, int nthreads, fo_idx m, fo_idx n, fo_idx k,
                    float alpha, const float *a, fo_idx rsa, fo_idx csa,
                    const float *b, fo_idx rsb, fo_idx csb,
                    float beta, float *c, fo_idx rsc, fo_idx csc)
    int fo_gemm_f64(int isa, int nthreads, fo_idx m, fo_idx n, fo_idx k,
                    double alpha, const double *a, fo_idx rsa, fo_idx csa,
                    const double *b, fo_idx rsb, fo_idx csb,
                    double beta, double *c, fo_idx rsc, fo_idx csc)
    void fo_gemm_blocking(int isa, int is_double, fo_idx out[8])
    enum:
        FO_PATH_BLOCKED
        FO_PATH_SUP
        FO_PATH_SUPM
        FO_PATH_DOT
        FO_PATH_SMALL
        FO_PATH_GEMV
    int fo_gemm_path(int isa, int is_double, int nthreads, fo_idx m, fo_idx n, fo_idx k,
                     fo_idx rsa, fo_idx csa, fo_idx rsb, fo_idx csb, fo_idx rsc, fo_idx csc,
                     int *threads)

cdef extern from "fo_nn.h" nogil:
    ctypedef struct fo_product:
        const void *a
        const void *b
        fo_idx m, n, k, rsa, csa, rsb, csb
    ctypedef struct fo_mat:
        char *data
        fo_idx rs
        fo_idx cs
    int fo_nn_isa(int isa)

    void fo_softmax_f32(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat x, fo_mat out)
    void fo_softmax_f64(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat x, fo_mat out)
    void fo_softmax_backward_f32(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat grad,
                                 fo_mat y, fo_mat out)
    void fo_softmax_backward_f64(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat grad,
                                 fo_mat y, fo_mat out)
    double fo_softmax_crossentropy_f32(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat z,
                                       fo_mat y, const double *w, fo_mat grad, double *correct,
                                       double *rows)
    double fo_softmax_crossentropy_f64(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat z,
                                       fo_mat y, const double *w, fo_mat grad, double *correct,
                                       double *rows)
    double fo_sparse_softmax_crossentropy_f32(int isa, int nthreads, fo_idx n, fo_idx k,
                                              fo_mat z, const int64_t *labels, const double *w,
                                              fo_mat grad, double *correct, double *rows,
                                              fo_idx *bad_row)
    double fo_sparse_softmax_crossentropy_f64(int isa, int nthreads, fo_idx n, fo_idx k,
                                              fo_mat z, const int64_t *labels, const double *w,
                                              fo_mat grad, double *correct, double *rows,
                                              fo_idx *bad_row)
    double fo_sigmoid_crossentropy_f32(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat z,
                                       fo_mat y, const double *w, fo_mat grad, double *correct,
                                       double *rows)
    double fo_sigmoid_crossentropy_f64(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat z,
                                       fo_mat y, const double *w, fo_mat grad, double *correct,
                                       double *rows)
    double fo_mean_squared_error_f32(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat p,
                                     fo_mat y, const double *w, fo_mat grad, double *rows)
    double fo_mean_squared_error_f64(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat p,
                                     fo_mat y, const double *w, fo_mat grad, double *rows)
    double fo_mean_absolute_error_f32(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat p,
                                      fo_mat y, const double *w, fo_mat grad, double *rows)
    double fo_mean_absolute_error_f64(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat p,
                                      fo_mat y, const double *w, fo_mat grad, double *rows)
    double fo_categorical_crossentropy_probs_f32(int isa, int nthreads, fo_idx n, fo_idx k,
                                                 fo_mat p, fo_mat y, const double *w,
                                                 fo_mat grad, double *rows)
    double fo_categorical_crossentropy_probs_f64(int isa, int nthreads, fo_idx n, fo_idx k,
                                                 fo_mat p, fo_mat y, const double *w,
                                                 fo_mat grad, double *rows)
    double fo_sparse_categorical_crossentropy_probs_f32(int isa, int nthreads, fo_idx n,
                                                        fo_idx k, fo_mat p,
                                                        const int64_t *labels, const double *w,
                                                        fo_mat grad, double *rows,
                                                        fo_idx *bad_row)
    double fo_sparse_categorical_crossentropy_probs_f64(int isa, int nthreads, fo_idx n,
                                                        fo_idx k, fo_mat p,
                                                        const int64_t *labels, const double *w,
                                                        fo_mat grad, double *rows,
                                                        fo_idx *bad_row)
    double fo_binary_crossentropy_probs_f32(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat p,
                                            fo_mat y, const double *w, fo_mat grad,
                                            double *rows)
    double fo_binary_crossentropy_probs_f64(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat p,
                                            fo_mat y, const double *w, fo_mat grad,
                                            double *rows)
    void fo_argmax_f32(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat x, int64_t *out)
    void fo_argmax_f64(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat x, int64_t *out)
    double fo_categorical_correct_f32(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat p,
                                      fo_mat y, const double *w, double *rows)
    double fo_categorical_correct_f64(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat p,
                                      fo_mat y, const double *w, double *rows)
    double fo_sparse_categorical_correct_f32(int isa, int nthreads, fo_idx n, fo_idx k,
                                             fo_mat p, const int64_t *labels, const double *w,
                                             double *rows)
    double fo_sparse_categorical_correct_f64(int isa, int nthreads, fo_idx n, fo_idx k,
                                             fo_mat p, const int64_t *labels, const double *w,
                                             double *rows)
    double fo_binary_correct_f32(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat p, fo_mat y,
                                 double threshold, const double *w, double *rows)
    double fo_binary_correct_f64(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat p, fo_mat y,
                                 double threshold, const double *w, double *rows)
    double fo_top_k_correct_f32(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat p,
                                const int64_t *labels, fo_idx top, const double *w,
                                double *rows, fo_idx *bad_row)
    double fo_top_k_correct_f64(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat p,
                                const int64_t *labels, fo_idx top, const double *w,
                                double *rows, fo_idx *bad_row)
    void fo_take_rows_f32(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat src, int src_dtype,
                          fo_idx n_src, const int64_t *idx, fo_mat out, fo_idx *bad_row)
    void fo_take_rows_f64(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat src, int src_dtype,
                          fo_idx n_src, const int64_t *idx, fo_mat out, fo_idx *bad_row)
    double fo_l1_l2_penalty_f32(int isa, int nthreads, fo_idx n, const float *w, double l1,
                                double l2)
    double fo_l1_l2_penalty_f64(int isa, int nthreads, fo_idx n, const double *w, double l1,
                                double l2)
    void fo_dropout_f32(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat x, uint64_t threshold,
                        double keep_prob, uint64_t seed, fo_mat out)
    void fo_dropout_f64(int isa, int nthreads, fo_idx n, fo_idx k, fo_mat x, uint64_t threshold,
                        double keep_prob, uint64_t seed, fo_mat out)
    double fo_sgd_update_f32(int isa, int nthreads, fo_idx n, float *w, const float *g,
                             const fo_product *gp, float *m, double lr, double momentum,
                             int nesterov, double l1, double l2)
    double fo_sgd_update_f64(int isa, int nthreads, fo_idx n, double *w, const double *g,
                             const fo_product *gp, double *m, double lr, double momentum,
                             int nesterov, double l1, double l2)
    double fo_rmsprop_update_f32(int isa, int nthreads, fo_idx n, float *w, const float *g,
                                 const fo_product *gp, float *v, float *m, float *mg, double lr,
                                 double rho, double eps, double momentum, double l1, double l2)
    double fo_rmsprop_update_f64(int isa, int nthreads, fo_idx n, double *w, const double *g,
                                 const fo_product *gp, double *v, double *m, double *mg,
                                 double lr, double rho, double eps, double momentum, double l1,
                                 double l2)
    double fo_adagrad_update_f32(int isa, int nthreads, fo_idx n, float *w, const float *g,
                                 const fo_product *gp, float *acc, double lr, double eps,
                                 double l1, double l2)
    double fo_adagrad_update_f64(int isa, int nthreads, fo_idx n, double *w, const double *g,
                                 const fo_product *gp, double *acc, double lr, double eps,
                                 double l1, double l2)
    double fo_adam_update_f32(int isa, int nthreads, fo_idx n, float *w, const float *g,
                              const fo_product *gp, float *m, float *v, float *vhat,
                              double alpha, double beta1, double beta2, double eps, double l1,
                              double l2)
    double fo_adam_update_f64(int isa, int nthreads, fo_idx n, double *w, const double *g,
                              const fo_product *gp, double *m, double *v, double *vhat,
                              double alpha, double beta1, double beta2, double eps, double l1,
                              double l2)

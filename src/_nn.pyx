# Typed entry points of the nn kernels (src/nn_kernels.c).
#
# Layering: fastops/nnops.py checks shapes, dtypes, contiguity and label ranges
# and allocates `out`; this module only turns arrays into pointers, picks the
# float/double kernel and releases the GIL; the C loops do the arithmetic.
# Arrays arrive here as ndarrays and are read through PyArray_DATA rather than
# typed memoryviews: a training step makes about a dozen of these calls, and a
# fused-type memoryview signature costs several microseconds of dispatch each.
import sys

cimport numpy as cnp
from libc.stdint cimport int64_t

cnp.import_array()

cdef extern from "fo_cpu.h":
    int fo_cpu_level() nogil

cdef extern from "nn_kernels.h" nogil:
    void fo_softmax_f32(int nthreads, int64_t n, int64_t k, const float *x, float *out)
    void fo_softmax_f64(int nthreads, int64_t n, int64_t k, const double *x, double *out)
    void fo_softmax_backward_f32(int nthreads, int64_t n, int64_t k, const float *grad,
                                 const float *y, float *out)
    void fo_softmax_backward_f64(int nthreads, int64_t n, int64_t k, const double *grad,
                                 const double *y, double *out)
    double fo_softmax_xent_f32(int nthreads, int64_t n, int64_t k, const float *z, const float *y,
                               float *grad, int64_t *ncorrect)
    double fo_softmax_xent_f64(int nthreads, int64_t n, int64_t k, const double *z, const double *y,
                               double *grad, int64_t *ncorrect)
    double fo_sparse_softmax_xent_f32(int nthreads, int64_t n, int64_t k, const float *z,
                                      const int64_t *labels, float *grad, int64_t *ncorrect)
    double fo_sparse_softmax_xent_f64(int nthreads, int64_t n, int64_t k, const double *z,
                                      const int64_t *labels, double *grad, int64_t *ncorrect)
    void fo_argmax_f32(int64_t n, int64_t k, const float *x, int64_t *out)
    void fo_argmax_f64(int64_t n, int64_t k, const double *x, int64_t *out)
    void fo_sigmoid_f32(int nthreads, int64_t n, const float *x, float *out)
    void fo_sigmoid_f64(int nthreads, int64_t n, const double *x, double *out)
    void fo_sigmoid_backward_f32(int isa, int nthreads, int64_t n, const float *g, const float *y,
                                 float *out)
    void fo_sigmoid_backward_f64(int isa, int nthreads, int64_t n, const double *g,
                                 const double *y, double *out)
    void fo_tanh_f32(int nthreads, int64_t n, const float *x, float *out)
    void fo_tanh_f64(int nthreads, int64_t n, const double *x, double *out)
    void fo_tanh_backward_f32(int isa, int nthreads, int64_t n, const float *g, const float *y,
                              float *out)
    void fo_tanh_backward_f64(int isa, int nthreads, int64_t n, const double *g, const double *y,
                              double *out)
    int fo_all_finite_f32(int nthreads, int64_t n, const float *x)
    int fo_all_finite_f64(int nthreads, int64_t n, const double *x)
    void fo_sgd_update_f32(int isa, int nthreads, int64_t n, float *w, const float *g, float *m,
                           float lr, float momentum, int nesterov)
    void fo_sgd_update_f64(int isa, int nthreads, int64_t n, double *w, const double *g, double *m,
                           double lr, double momentum, int nesterov)
    void fo_rmsprop_update_f32(int isa, int nthreads, int64_t n, float *w, const float *g, float *v,
                               float *m, float *mg, float lr, float rho, float eps, float momentum)
    void fo_rmsprop_update_f64(int isa, int nthreads, int64_t n, double *w, const double *g,
                               double *v, double *m, double *mg, double lr, double rho, double eps,
                               double momentum)
    void fo_adagrad_update_f32(int isa, int nthreads, int64_t n, float *w, const float *g,
                               float *acc, float lr, float eps)
    void fo_adagrad_update_f64(int isa, int nthreads, int64_t n, double *w, const double *g,
                               double *acc, double lr, double eps)
    void fo_adam_update_f32(int isa, int nthreads, int64_t n, float *w, const float *g, float *m,
                            float *v, float *vhat, float alpha, float beta1, float beta2, float eps)
    void fo_adam_update_f64(int isa, int nthreads, int64_t n, double *w, const double *g, double *m,
                            double *v, double *vhat, double alpha, double beta1, double beta2,
                            double eps)
    void fo_label_range(int64_t n, const int64_t *labels, int64_t *lo, int64_t *hi)
    int64_t fo_count_equal(int64_t n, const int64_t *a, const int64_t *b)

# Settings pushed in by fastops._config; kernels read these C ints, never Python.
cdef int _nthreads = 1
cdef int _isa = 0


def _set_num_threads(int n):
    global _nthreads
    _nthreads = n


def _set_isa(int level):
    global _isa
    _isa = level


def _cpu_level():
    return fo_cpu_level()


cdef inline bint _is_f32(cnp.ndarray a):
    return cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT32


cdef inline void *_ptr(a):
    """Data pointer of an ndarray, NULL for None (optional optimizer slots)."""
    if a is None:
        return NULL
    return cnp.PyArray_DATA(<cnp.ndarray>a)


# ---- softmax ----

def softmax(cnp.ndarray x, cnp.ndarray out):  # x: IN (n, k); out: OUT (n, k), may be x
    """out := softmax(x) along rows"""
    cdef int64_t n = x.shape[0], k = x.shape[1]
    cdef void *px = _ptr(x)
    cdef void *po = _ptr(out)
    cdef bint f32 = _is_f32(x)
    with nogil:
        if f32:
            fo_softmax_f32(_nthreads, n, k, <float *>px, <float *>po)
        else:
            fo_softmax_f64(_nthreads, n, k, <double *>px, <double *>po)


def softmax_backward(cnp.ndarray grad, cnp.ndarray y, cnp.ndarray out):  # IN, IN, OUT
    """out := y * (grad - rowsum(grad * y))"""
    cdef int64_t n = y.shape[0], k = y.shape[1]
    cdef void *pg = _ptr(grad)
    cdef void *py = _ptr(y)
    cdef void *po = _ptr(out)
    cdef bint f32 = _is_f32(y)
    with nogil:
        if f32:
            fo_softmax_backward_f32(_nthreads, n, k, <float *>pg, <float *>py, <float *>po)
        else:
            fo_softmax_backward_f64(_nthreads, n, k, <double *>pg, <double *>py, <double *>po)


# ---- softmax + cross-entropy ----

def softmax_xent(cnp.ndarray z, cnp.ndarray y, grad):  # z, y: IN (n, k); grad: OUT or None
    """loss := mean(-sum(y * log_softmax(z))); grad := (softmax(z) * sum(y) - y) / n.

    Returns (loss, ncorrect)."""
    cdef int64_t n = z.shape[0], k = z.shape[1], correct = 0
    cdef double loss
    cdef void *pz = _ptr(z)
    cdef void *py = _ptr(y)
    cdef void *pg = _ptr(grad)
    cdef bint f32 = _is_f32(z)
    with nogil:
        if f32:
            loss = fo_softmax_xent_f32(_nthreads, n, k, <float *>pz, <float *>py, <float *>pg,
                                       &correct)
        else:
            loss = fo_softmax_xent_f64(_nthreads, n, k, <double *>pz, <double *>py, <double *>pg,
                                       &correct)
    return loss, correct


def sparse_softmax_xent(cnp.ndarray z, cnp.ndarray labels, grad):  # labels: IN int64, in range
    """As softmax_xent with y = one_hot(labels).  Returns (loss, ncorrect)."""
    cdef int64_t n = z.shape[0], k = z.shape[1], correct = 0
    cdef double loss
    cdef void *pz = _ptr(z)
    cdef int64_t *pl = <int64_t *>_ptr(labels)
    cdef void *pg = _ptr(grad)
    cdef bint f32 = _is_f32(z)
    with nogil:
        if f32:
            loss = fo_sparse_softmax_xent_f32(_nthreads, n, k, <float *>pz, pl, <float *>pg,
                                              &correct)
        else:
            loss = fo_sparse_softmax_xent_f64(_nthreads, n, k, <double *>pz, pl, <double *>pg,
                                              &correct)
    return loss, correct


# ---- argmax, labels ----

def argmax(cnp.ndarray x, cnp.ndarray out):  # x: IN (n, k); out: OUT int64 (n,)
    """out[i] := argmax(x[i, :]) (first maximum)"""
    cdef int64_t n = x.shape[0], k = x.shape[1]
    cdef void *px = _ptr(x)
    cdef int64_t *po = <int64_t *>_ptr(out)
    cdef bint f32 = _is_f32(x)
    with nogil:
        if f32:
            fo_argmax_f32(n, k, <float *>px, po)
        else:
            fo_argmax_f64(n, k, <double *>px, po)


def label_range(cnp.ndarray labels):  # IN int64 (n,), n >= 1
    """(min(labels), max(labels))"""
    cdef int64_t lo = 0, hi = 0
    cdef int64_t *pl = <int64_t *>_ptr(labels)
    with nogil:
        fo_label_range(labels.shape[0], pl, &lo, &hi)
    return lo, hi


def count_equal(cnp.ndarray a, cnp.ndarray b):  # IN int64 (n,), IN int64 (n,)
    """sum(a == b)"""
    cdef int64_t c
    cdef int64_t *pa = <int64_t *>_ptr(a)
    cdef int64_t *pb = <int64_t *>_ptr(b)
    with nogil:
        c = fo_count_equal(a.shape[0], pa, pb)
    return c


def all_finite(cnp.ndarray x):  # IN, contiguous, any shape
    """True if x has no NaN or Inf"""
    cdef int64_t n = cnp.PyArray_SIZE(x)
    cdef int r
    cdef void *px = _ptr(x)
    cdef bint f32 = _is_f32(x)
    with nogil:
        if f32:
            r = fo_all_finite_f32(_nthreads, n, <float *>px)
        else:
            r = fo_all_finite_f64(_nthreads, n, <double *>px)
    return bool(r)


# ---- sigmoid / tanh ----

def sigmoid(cnp.ndarray x, cnp.ndarray out):  # IN, OUT (may be x)
    """out := 1 / (1 + exp(-x))"""
    cdef int64_t n = cnp.PyArray_SIZE(x)
    cdef void *px = _ptr(x)
    cdef void *po = _ptr(out)
    cdef bint f32 = _is_f32(x)
    with nogil:
        if f32:
            fo_sigmoid_f32(_nthreads, n, <float *>px, <float *>po)
        else:
            fo_sigmoid_f64(_nthreads, n, <double *>px, <double *>po)


def sigmoid_backward(cnp.ndarray grad, cnp.ndarray y, cnp.ndarray out):  # IN, IN, OUT
    """out := grad * y * (1 - y)"""
    cdef int64_t n = cnp.PyArray_SIZE(y)
    cdef void *pg = _ptr(grad)
    cdef void *py = _ptr(y)
    cdef void *po = _ptr(out)
    cdef bint f32 = _is_f32(y)
    with nogil:
        if f32:
            fo_sigmoid_backward_f32(_isa, _nthreads, n, <float *>pg, <float *>py, <float *>po)
        else:
            fo_sigmoid_backward_f64(_isa, _nthreads, n, <double *>pg, <double *>py, <double *>po)


def tanh(cnp.ndarray x, cnp.ndarray out):  # IN, OUT (may be x)
    """out := tanh(x)"""
    cdef int64_t n = cnp.PyArray_SIZE(x)
    cdef void *px = _ptr(x)
    cdef void *po = _ptr(out)
    cdef bint f32 = _is_f32(x)
    with nogil:
        if f32:
            fo_tanh_f32(_nthreads, n, <float *>px, <float *>po)
        else:
            fo_tanh_f64(_nthreads, n, <double *>px, <double *>po)


def tanh_backward(cnp.ndarray grad, cnp.ndarray y, cnp.ndarray out):  # IN, IN, OUT
    """out := grad * (1 - y^2)"""
    cdef int64_t n = cnp.PyArray_SIZE(y)
    cdef void *pg = _ptr(grad)
    cdef void *py = _ptr(y)
    cdef void *po = _ptr(out)
    cdef bint f32 = _is_f32(y)
    with nogil:
        if f32:
            fo_tanh_backward_f32(_isa, _nthreads, n, <float *>pg, <float *>py, <float *>po)
        else:
            fo_tanh_backward_f64(_isa, _nthreads, n, <double *>pg, <double *>py, <double *>po)


# ---- optimizer updates (in place on w and the slots) ----

def sgd_update(cnp.ndarray w, cnp.ndarray g, m, double lr, double momentum, bint nesterov):
    """m := momentum*m - lr*g; w += m (nesterov: w += momentum*m - lr*g); no m: w -= lr*g"""
    cdef int64_t n = cnp.PyArray_SIZE(w)
    cdef void *pw = _ptr(w)
    cdef void *pg = _ptr(g)
    cdef void *pm = _ptr(m)
    cdef bint f32 = _is_f32(w)
    with nogil:
        if f32:
            fo_sgd_update_f32(_isa, _nthreads, n, <float *>pw, <float *>pg, <float *>pm,
                              <float>lr, <float>momentum, nesterov)
        else:
            fo_sgd_update_f64(_isa, _nthreads, n, <double *>pw, <double *>pg, <double *>pm,
                              lr, momentum, nesterov)


def rmsprop_update(cnp.ndarray w, cnp.ndarray g, cnp.ndarray v, m, mg, double lr, double rho,
                   double eps, double momentum):
    """v := rho*v + (1-rho)*g^2; w -= lr*g / sqrt(v + eps) (centered: mg, momentum: m)"""
    cdef int64_t n = cnp.PyArray_SIZE(w)
    cdef void *pw = _ptr(w)
    cdef void *pg = _ptr(g)
    cdef void *pv = _ptr(v)
    cdef void *pm = _ptr(m)
    cdef void *pmg = _ptr(mg)
    cdef bint f32 = _is_f32(w)
    with nogil:
        if f32:
            fo_rmsprop_update_f32(_isa, _nthreads, n, <float *>pw, <float *>pg, <float *>pv,
                                  <float *>pm, <float *>pmg, <float>lr, <float>rho, <float>eps,
                                  <float>momentum)
        else:
            fo_rmsprop_update_f64(_isa, _nthreads, n, <double *>pw, <double *>pg, <double *>pv,
                                  <double *>pm, <double *>pmg, lr, rho, eps, momentum)


def adagrad_update(cnp.ndarray w, cnp.ndarray g, cnp.ndarray acc, double lr, double eps):
    """acc += g^2; w -= lr*g / sqrt(acc + eps)"""
    cdef int64_t n = cnp.PyArray_SIZE(w)
    cdef void *pw = _ptr(w)
    cdef void *pg = _ptr(g)
    cdef void *pa = _ptr(acc)
    cdef bint f32 = _is_f32(w)
    with nogil:
        if f32:
            fo_adagrad_update_f32(_isa, _nthreads, n, <float *>pw, <float *>pg, <float *>pa,
                                  <float>lr, <float>eps)
        else:
            fo_adagrad_update_f64(_isa, _nthreads, n, <double *>pw, <double *>pg, <double *>pa,
                                  lr, eps)


def adam_update(cnp.ndarray w, cnp.ndarray g, cnp.ndarray m, cnp.ndarray v, vhat, double alpha,
                double beta1, double beta2, double eps):
    """m += (g-m)(1-b1); v += (g^2-v)(1-b2); w -= alpha*m / (sqrt(v) + eps) (amsgrad: vhat)"""
    cdef int64_t n = cnp.PyArray_SIZE(w)
    cdef void *pw = _ptr(w)
    cdef void *pg = _ptr(g)
    cdef void *pm = _ptr(m)
    cdef void *pv = _ptr(v)
    cdef void *pvh = _ptr(vhat)
    cdef bint f32 = _is_f32(w)
    with nogil:
        if f32:
            fo_adam_update_f32(_isa, _nthreads, n, <float *>pw, <float *>pg, <float *>pm,
                               <float *>pv, <float *>pvh, <float>alpha, <float>beta1,
                               <float>beta2, <float>eps)
        else:
            fo_adam_update_f64(_isa, _nthreads, n, <double *>pw, <double *>pg, <double *>pm,
                               <double *>pv, <double *>pvh, alpha, beta1, beta2, eps)


from fastops import _config
_config._register(sys.modules[__name__])

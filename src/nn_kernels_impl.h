/* Body of the nn kernels for one element type; included by nn_kernels.c with
 * T (float/double), SUF (f32/f64) and FO_T_IS_FLOAT defined.  Not a public header. */

#define FO_CAT_(a, b, c) a##_##b##_##c
#define FO_CAT(a, b, c) FO_CAT_(a, b, c)
#define FN(name) FO_CAT(fo, name, SUF)
#define FN_ISA(name, isa) FO_CAT(name, SUF, isa)

/* ---- softmax ---- */

/* out[i, :] := exp(x[i, :] - max) / sum(exp(x[i, :] - max)); out may be x */
void FN(softmax)(int nthreads, int64_t n, int64_t k, const T *x, T *out)
{
    int nt = fo_nn_team(n * k, nthreads, FO_NN_ROWS_PAR_MIN);
    #pragma omp parallel for num_threads(nt) if(nt > 1) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        const T *xi = x + i * k;
        T *oi = out + i * k;
        T m = xi[0];
        for (int64_t j = 1; j < k; j++)
            m = xi[j] > m ? xi[j] : m;
        double s = 0.0;
        for (int64_t j = 0; j < k; j++) {
            double e = exp((double)xi[j] - (double)m);
            oi[j] = (T)e;
            s += e;
        }
        double inv = 1.0 / s;
        for (int64_t j = 0; j < k; j++)
            oi[j] = (T)((double)oi[j] * inv);
    }
}

/* out[i, :] := y[i, :] * (grad[i, :] - <grad[i, :], y[i, :]>), y = softmax output; out may be grad */
void FN(softmax_backward)(int nthreads, int64_t n, int64_t k, const T *grad, const T *y, T *out)
{
    int nt = fo_nn_team(n * k, nthreads, FO_NN_ROWS_PAR_MIN);
    #pragma omp parallel for num_threads(nt) if(nt > 1) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        const T *gi = grad + i * k, *yi = y + i * k;
        T *oi = out + i * k;
        double dot = 0.0;
        for (int64_t j = 0; j < k; j++)
            dot += (double)gi[j] * (double)yi[j];
        for (int64_t j = 0; j < k; j++)
            oi[j] = (T)((double)yi[j] * ((double)gi[j] - dot));
    }
}

/* ---- softmax + cross-entropy ---- */

/* First index of the row maximum, as numpy.argmax (a NaN wins at once). */
static inline int64_t FN(row_argmax)(int64_t k, const T *x)
{
    int64_t a = 0;
    T m = x[0];
    if (m != m)
        return 0;
    for (int64_t j = 1; j < k; j++) {
        if (x[j] > m) {
            m = x[j];
            a = j;
        } else if (x[j] != x[j]) {
            return j;
        }
    }
    return a;
}

/* Row i: lse = log(sum(exp(z))); loss_i = lse * sum(y) - <y, z>, the exact
 * -sum(y * log(softmax(z))) without ever taking log of a probability (no log(0)).
 * grad := (softmax(z) * sum(y) - y) / n, the gradient of mean(loss_i).
 * Returns mean(loss_i), accumulated in double; *ncorrect := #rows with
 * argmax(z) == argmax(y).  grad may be NULL (evaluation). */
double FN(softmax_xent)(int nthreads, int64_t n, int64_t k, const T *z, const T *y, T *grad,
                        int64_t *ncorrect)
{
    double loss = 0.0;
    int64_t correct = 0;
    const double inv_n = 1.0 / (double)n;
    int nt = fo_nn_team(n * k, nthreads, FO_NN_ROWS_PAR_MIN);
    #pragma omp parallel for num_threads(nt) if(nt > 1) schedule(static) reduction(+:loss, correct)
    for (int64_t i = 0; i < n; i++) {
        const T *zi = z + i * k, *yi = y + i * k;
        int64_t am = FN(row_argmax)(k, zi);
        double m = (double)zi[am];
        double s = 0.0, sy = 0.0, syz = 0.0;
        for (int64_t j = 0; j < k; j++) {
            s += exp((double)zi[j] - m);
            sy += (double)yi[j];
            syz += (double)yi[j] * ((double)zi[j] - m);
        }
        /* shifted by m on both sides, so lse - m = log(s) stays small and exact */
        loss += log(s) * sy - syz;
        correct += am == FN(row_argmax)(k, yi);
        if (grad) {
            T *gi = grad + i * k;
            double scale = sy / s;
            for (int64_t j = 0; j < k; j++)
                gi[j] = (T)((exp((double)zi[j] - m) * scale - (double)yi[j]) * inv_n);
        }
    }
    *ncorrect = correct;
    return loss * inv_n;
}

/* As softmax_xent with y = one_hot(labels); every label in [0, k) (checked by the caller). */
double FN(sparse_softmax_xent)(int nthreads, int64_t n, int64_t k, const T *z,
                               const int64_t *labels, T *grad, int64_t *ncorrect)
{
    double loss = 0.0;
    int64_t correct = 0;
    const double inv_n = 1.0 / (double)n;
    int nt = fo_nn_team(n * k, nthreads, FO_NN_ROWS_PAR_MIN);
    #pragma omp parallel for num_threads(nt) if(nt > 1) schedule(static) reduction(+:loss, correct)
    for (int64_t i = 0; i < n; i++) {
        const T *zi = z + i * k;
        int64_t am = FN(row_argmax)(k, zi), label = labels[i];
        double m = (double)zi[am];
        double s = 0.0;
        for (int64_t j = 0; j < k; j++)
            s += exp((double)zi[j] - m);
        loss += log(s) - ((double)zi[label] - m);
        correct += am == label;
        if (grad) {
            T *gi = grad + i * k;
            double inv_s = 1.0 / s;
            for (int64_t j = 0; j < k; j++)
                gi[j] = (T)((exp((double)zi[j] - m) * inv_s - (double)(j == label)) * inv_n);
        }
    }
    *ncorrect = correct;
    return loss * inv_n;
}

/* ---- argmax ---- */

/* out[i] := first index of the maximum of row i (NaN counts as maximum, as numpy) */
void FN(argmax)(int64_t n, int64_t k, const T *x, int64_t *out)
{
    for (int64_t i = 0; i < n; i++)
        out[i] = FN(row_argmax)(k, x + i * k);
}

/* ---- sigmoid / tanh ---- */

/* out := 1 / (1 + exp(-x)), written so exp never overflows */
void FN(sigmoid)(int nthreads, int64_t n, const T *x, T *out)
{
    int nt = fo_nn_team(n, nthreads, FO_NN_PAR_MIN / 4);
    #pragma omp parallel for num_threads(nt) if(nt > 1) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        double v = (double)x[i];
        if (v >= 0) {
            out[i] = (T)(1.0 / (1.0 + exp(-v)));
        } else {
            double e = exp(v);
            out[i] = (T)(e / (1.0 + e));
        }
    }
}

void FN(tanh)(int nthreads, int64_t n, const T *x, T *out)
{
    int nt = fo_nn_team(n, nthreads, FO_NN_PAR_MIN / 4);
    #pragma omp parallel for num_threads(nt) if(nt > 1) schedule(static)
    for (int64_t i = 0; i < n; i++)
        out[i] = (T)tanh((double)x[i]);
}

/* ---- finiteness ---- */

/* 1 if no element is NaN or +-Inf.  x - x is 0 exactly for finite x and NaN
 * otherwise; OR-ing the comparisons blockwise keeps the loop branch-free and
 * vectorisable, and a bad block stops the scan. */
int FN(all_finite)(int nthreads, int64_t n, const T *x)
{
    int bad = 0;
    int nt = fo_nn_team(n, nthreads, 1 << 20);
    #pragma omp parallel num_threads(nt) if(nt > 1) reduction(|:bad)
    {
        int64_t lo, hi;
        fo_nn_chunk(n, &lo, &hi);
        for (int64_t b = lo; b < hi && !bad; b += 4096) {
            int64_t e = b + 4096 < hi ? b + 4096 : hi;
            int blk = 0;
            for (int64_t i = b; i < e; i++)
                blk |= !(x[i] - x[i] == (T)0);
            bad |= blk;
        }
    }
    return !bad;
}

/* ---- elementwise update loops, one variant per ISA ---- */

/* Each *_range function handles a contiguous slice; the public function splits
 * the parameter between threads and calls the variant for the selected ISA.
 * Formulas follow Keras 3 (keras/src/optimizers/<name>.py), in the parameter dtype. */
#define FO_NN_RANGE_LOOPS(ISA, ATTR)                                                             \
    /* out is often g itself (the layer's in-place backward): no restrict, same-index  \
     * aliasing declared to the vectoriser instead */                                          \
    ATTR static void FN_ISA(sigmoid_bwd_range, ISA)(int64_t n, const T *g, const T *y, T *out)   \
    {                                                                                            \
        FO_IVDEP                                                                                 \
        for (int64_t i = 0; i < n; i++)                                                          \
            out[i] = g[i] * (y[i] * ((T)1 - y[i]));                                              \
    }                                                                                            \
    ATTR static void FN_ISA(tanh_bwd_range, ISA)(int64_t n, const T *g, const T *y, T *out)      \
    {                                                                                            \
        FO_IVDEP                                                                                 \
        for (int64_t i = 0; i < n; i++)                                                          \
            out[i] = g[i] * ((T)1 - y[i] * y[i]);                                                \
    }                                                                                            \
    ATTR static void FN_ISA(sgd_range, ISA)(int64_t n, T *restrict w, const T *restrict g,         \
                                            T *restrict m, T lr, T mu, int nesterov)            \
    {                                                                                            \
        if (!m) {                                                                                \
            for (int64_t i = 0; i < n; i++)                                                      \
                w[i] -= lr * g[i];                                                               \
        } else if (!nesterov) {                                                                  \
            for (int64_t i = 0; i < n; i++) {                                                    \
                T mi = mu * m[i] - lr * g[i];                                                    \
                m[i] = mi;                                                                       \
                w[i] += mi;                                                                      \
            }                                                                                    \
        } else {                                                                                 \
            for (int64_t i = 0; i < n; i++) {                                                    \
                T mi = mu * m[i] - lr * g[i];                                                    \
                m[i] = mi;                                                                       \
                w[i] += mu * mi - lr * g[i];                                                     \
            }                                                                                    \
        }                                                                                        \
    }                                                                                            \
    ATTR static void FN_ISA(rmsprop_range, ISA)(int64_t n, T *restrict w, const T *restrict g,     \
                                                T *restrict v, T *restrict m, T *restrict mg,   \
                                                T lr, T rho, T eps, T mu)                        \
    {                                                                                            \
        const T one_rho = (T)1 - rho;                                                            \
        if (!m && !mg) { /* the default: one read of w, g, v and one write of w, v */             \
            for (int64_t i = 0; i < n; i++) {                                                    \
                T vi = rho * v[i] + one_rho * (g[i] * g[i]);                                     \
                v[i] = vi;                                                                       \
                w[i] -= (lr * g[i]) / sqrtf_or_sqrt(vi + eps);                                   \
            }                                                                                    \
            return;                                                                              \
        }                                                                                        \
        for (int64_t i = 0; i < n; i++) {                                                        \
            T vi = rho * v[i] + one_rho * (g[i] * g[i]);                                         \
            v[i] = vi;                                                                           \
            T den;                                                                               \
            if (mg) {                                                                            \
                T a = rho * mg[i] + one_rho * g[i];                                              \
                mg[i] = a;                                                                       \
                den = vi - a * a + eps;                                                          \
            } else {                                                                             \
                den = vi + eps;                                                                  \
            }                                                                                    \
            T inc = (lr * g[i]) / sqrtf_or_sqrt(den);                                            \
            if (m) {                                                                             \
                T mi = mu * m[i] + inc;                                                          \
                m[i] = mi;                                                                       \
                w[i] -= mi;                                                                      \
            } else {                                                                             \
                w[i] -= inc;                                                                     \
            }                                                                                    \
        }                                                                                        \
    }                                                                                            \
    ATTR static void FN_ISA(adagrad_range, ISA)(int64_t n, T *restrict w, const T *restrict g,     \
                                                T *restrict acc, T lr, T eps)                    \
    {                                                                                            \
        for (int64_t i = 0; i < n; i++) {                                                        \
            T a = acc[i] + g[i] * g[i];                                                          \
            acc[i] = a;                                                                          \
            w[i] -= (lr * g[i]) / sqrtf_or_sqrt(a + eps);                                        \
        }                                                                                        \
    }                                                                                            \
    ATTR static void FN_ISA(adam_range, ISA)(int64_t n, T *restrict w, const T *restrict g,        \
                                             T *restrict m, T *restrict v, T *restrict vhat,     \
                                             T alpha, T b1, T b2, T eps)                         \
    {                                                                                            \
        const T one_b1 = (T)1 - b1, one_b2 = (T)1 - b2;                                          \
        for (int64_t i = 0; i < n; i++) {                                                        \
            T mi = m[i] + (g[i] - m[i]) * one_b1;                                                \
            T vi = v[i] + (g[i] * g[i] - v[i]) * one_b2;                                         \
            m[i] = mi;                                                                           \
            v[i] = vi;                                                                           \
            if (vhat) {                                                                          \
                vi = vhat[i] > vi ? vhat[i] : vi;                                                \
                vhat[i] = vi;                                                                    \
            }                                                                                    \
            w[i] -= (alpha * mi) / (sqrtf_or_sqrt(vi) + eps);                                    \
        }                                                                                        \
    }

#if FO_T_IS_FLOAT
#define sqrtf_or_sqrt sqrtf
#else
#define sqrtf_or_sqrt sqrt
#endif

FO_NN_RANGE_LOOPS(portable, )
#if FO_HAVE_X86_SIMD
FO_NN_RANGE_LOOPS(avx2, FO_TARGET_AVX2)
FO_NN_RANGE_LOOPS(avx512, FO_TARGET_AVX512)
#define FO_PICK(name, isa) \
    ((isa) >= FO_ISA_AVX512 ? FN_ISA(name, avx512) : (isa) >= FO_ISA_AVX2 ? FN_ISA(name, avx2) \
                                                                        : FN_ISA(name, portable))
#else
#define FO_PICK(name, isa) FN_ISA(name, portable)
#endif

/* Run CALL (which sees lo, hi) over [0, n) split across the team. */
#define FO_NN_SPLIT(n, nthreads, CALL)                                                           \
    do {                                                                                         \
        int nt_ = fo_nn_team((n), (nthreads), FO_NN_PAR_MIN);                                    \
        _Pragma("omp parallel num_threads(nt_) if(nt_ > 1)")                                     \
        {                                                                                        \
            int64_t lo, hi;                                                                      \
            fo_nn_chunk((n), &lo, &hi);                                                          \
            if (hi > lo)                                                                         \
                CALL;                                                                            \
        }                                                                                        \
    } while (0)

#define OFF(p) ((p) ? (p) + lo : (p))

/* out := grad * y * (1 - y), y = sigmoid output */
void FN(sigmoid_backward)(int isa, int nthreads, int64_t n, const T *grad, const T *y, T *out)
{
    FO_NN_SPLIT(n, nthreads, FO_PICK(sigmoid_bwd_range, isa)(hi - lo, grad + lo, y + lo, out + lo));
}

/* out := grad * (1 - y^2), y = tanh output */
void FN(tanh_backward)(int isa, int nthreads, int64_t n, const T *grad, const T *y, T *out)
{
    FO_NN_SPLIT(n, nthreads, FO_PICK(tanh_bwd_range, isa)(hi - lo, grad + lo, y + lo, out + lo));
}

void FN(sgd_update)(int isa, int nthreads, int64_t n, T *w, const T *g, T *m, T lr, T momentum,
                    int nesterov)
{
    FO_NN_SPLIT(n, nthreads,
                FO_PICK(sgd_range, isa)(hi - lo, w + lo, g + lo, OFF(m), lr, momentum, nesterov));
}

void FN(rmsprop_update)(int isa, int nthreads, int64_t n, T *w, const T *g, T *v, T *m, T *mg,
                        T lr, T rho, T eps, T momentum)
{
    FO_NN_SPLIT(n, nthreads,
                FO_PICK(rmsprop_range, isa)(hi - lo, w + lo, g + lo, v + lo, OFF(m), OFF(mg), lr,
                                            rho, eps, momentum));
}

void FN(adagrad_update)(int isa, int nthreads, int64_t n, T *w, const T *g, T *acc, T lr, T eps)
{
    FO_NN_SPLIT(n, nthreads, FO_PICK(adagrad_range, isa)(hi - lo, w + lo, g + lo, acc + lo, lr, eps));
}

void FN(adam_update)(int isa, int nthreads, int64_t n, T *w, const T *g, T *m, T *v, T *vhat,
                     T alpha, T beta1, T beta2, T eps)
{
    FO_NN_SPLIT(n, nthreads,
                FO_PICK(adam_range, isa)(hi - lo, w + lo, g + lo, m + lo, v + lo, OFF(vhat), alpha,
                                         beta1, beta2, eps));
}

#undef FO_PICK
#undef FO_NN_SPLIT
#undef OFF
#undef sqrtf_or_sqrt
#undef FO_NN_RANGE_LOOPS
#undef FN
#undef FN_ISA
#undef FO_CAT
#undef FO_CAT_

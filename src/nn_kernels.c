/* Fused nn kernels (see nn_kernels.h).  The float and double versions come from
 * one body, nn_kernels_impl.h, included twice; the elementwise update loops in it
 * are compiled three times (portable, AVX2, AVX-512 target attributes) and picked
 * at run time from `isa`, so no -march is needed.
 *
 * Row kernels (softmax, cross-entropy) work in double internally: the rows are
 * short (10 classes for MNIST) so this costs nothing, and it keeps log-sum-exp
 * accurate for float32 logits.
 */
#include <math.h>
#include <stdint.h>

#include "fo_cpu.h"
#include "nn_kernels.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Below these sizes a pass stays on one thread: an OpenMP fork/join costs a few
 * microseconds, more than the pass itself. */
#define FO_NN_PAR_MIN 32768    /* elements of an elementwise pass */
#define FO_NN_ROWS_PAR_MIN 65536 /* n * k of a row pass */

/* This thread's share [lo, hi) of n elements, cut on 64-element (cache-line and
 * vector) boundaries so no two threads write the same line. */
static inline void fo_nn_chunk(int64_t n, int64_t *lo, int64_t *hi)
{
#ifdef _OPENMP
    int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
#else
    int64_t t = 0, nt = 1;
#endif
    int64_t blocks = (n + 63) / 64;
    int64_t b0 = blocks * t / nt, b1 = blocks * (t + 1) / nt;
    *lo = b0 * 64 < n ? b0 * 64 : n;
    *hi = b1 * 64 < n ? b1 * 64 : n;
}

static inline int fo_nn_team(int64_t n, int nthreads, int64_t threshold)
{
    return (nthreads > 1 && n >= threshold) ? nthreads : 1;
}

#define T float
#define SUF f32
#define FO_T_IS_FLOAT 1
#include "nn_kernels_impl.h"
#undef T
#undef SUF
#undef FO_T_IS_FLOAT

#define T double
#define SUF f64
#define FO_T_IS_FLOAT 0
#include "nn_kernels_impl.h"
#undef T
#undef SUF
#undef FO_T_IS_FLOAT

/* ---- labels ---- */

/* lo := min(labels), hi := max(labels); n >= 1 */
void fo_label_range(int64_t n, const int64_t *labels, int64_t *lo, int64_t *hi)
{
    int64_t a = labels[0], b = labels[0];
    for (int64_t i = 1; i < n; i++) {
        a = labels[i] < a ? labels[i] : a;
        b = labels[i] > b ? labels[i] : b;
    }
    *lo = a;
    *hi = b;
}

/* count of i with a[i] == b[i] */
int64_t fo_count_equal(int64_t n, const int64_t *a, const int64_t *b)
{
    int64_t c = 0;
    for (int64_t i = 0; i < n; i++)
        c += a[i] == b[i];
    return c;
}

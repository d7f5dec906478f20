/* sigmoid and tanh over strided N-d arrays (fo_unary, fo_elementwise.h): the compute-bound
 * members of the elementwise family, so they run at the nn family's levels (portable, AVX2,
 * AVX-512) where the memory-bound loops of fo_elementwise.c stop at AVX2.
 *
 * The portable path computes in double through libm, and rounds float32 results once.  The
 * SIMD paths compute a float64 array in double and a float32 array in float32 lanes, as
 * NumPy's loops do: twice the lanes and a shorter polynomial.  Both go through
 * fo_exp_simd.h's exp / expm1, except AVX-512's float32 tanh (interval polynomials); lanes
 * outside the polynomial's range (and NaN, +-inf) take the portable formula.  Accuracy of
 * each path is in README's Deviations.
 *
 * Every value of a call goes through the same W-lane block, whatever its layout, the
 * block it falls in or the thread split: tails and strided runs are copied through a
 * zero-padded buffer of W values. */
#include <math.h>
#include <string.h>

#include "fo_elementwise.h"
#include "fo_iter.h"
#include "fo_nn.h"

#include "fo_exp_simd.h"

typedef void (*fo_unary_contig_fn)(fo_idx n, const char *x, char *o);
typedef void (*fo_unary_strided_fn)(fo_idx n, const char *x, fo_idx sx, char *o, fo_idx so);

typedef struct {
    fo_unary_contig_fn contig[FO_NUM_UNARY];
    fo_unary_strided_fn strided[FO_NUM_UNARY];
} fo_unary_kernels;

/* In double, so that exp never overflows on either branch.  The quiet comparison raises no
 * "invalid" for a NaN, as in NumPy's loops. */
static inline double fo_sigmoid_scalar(double v)
{
    if (isgreaterequal(v, 0.0))
        return 1.0 / (1.0 + exp(-v));
    const double e = exp(v);
    return e / (1.0 + e);
}

static inline double fo_tanh_scalar(double v) { return tanh(v); }

/* ---- the portable path: one value at a time ---- */

#define FO_UNARY_PORTABLE(OP, T, SUFFIX)                                                       \
    static void OP##_v_##SUFFIX(fo_idx n, const char *px, char *po)                            \
    {                                                                                          \
        const T *x = (const T *)px;                                                            \
        T *o = (T *)po;                                                                        \
        for (fo_idx i = 0; i < n; i++)                                                         \
            o[i] = (T)fo_##OP##_scalar((double)x[i]);                                          \
    }                                                                                          \
    static void OP##_strided_##SUFFIX(fo_idx n, const char *x, fo_idx sx, char *o, fo_idx so) \
    {                                                                                          \
        for (fo_idx i = 0; i < n; i++)                                                         \
            *(T *)(o + i * so) = (T)fo_##OP##_scalar((double)*(const T *)(x + i * sx));        \
    }

FO_UNARY_PORTABLE(sigmoid, float, f32_portable)
FO_UNARY_PORTABLE(tanh, float, f32_portable)
FO_UNARY_PORTABLE(sigmoid, double, f64_portable)
FO_UNARY_PORTABLE(tanh, double, f64_portable)
#undef FO_UNARY_PORTABLE

static const fo_unary_kernels kernels_f32_portable = {
    {sigmoid_v_f32_portable, tanh_v_f32_portable},
    {sigmoid_strided_f32_portable, tanh_strided_f32_portable}};
static const fo_unary_kernels kernels_f64_portable = {
    {sigmoid_v_f64_portable, tanh_v_f64_portable},
    {sigmoid_strided_f64_portable, tanh_strided_f64_portable}};

#if FO_HAVE_X86_SIMD
#include "fo_tanhf_table.h"

/* ---- the SIMD paths ----
 * Each block function OP_block_T_ISA(x, o) computes W values (o may be x).  Its vector
 * formula returns the lanes it computed in `fast`; the others are recomputed from the saved
 * input by the scalar formula.
 *   sigmoid(x) = num / (1 + e), e = exp(-|x|), num = 1 for x >= 0, else e;
 *   tanh(x) = sign(x) * -m / (2 + m), m = expm1(-2|x|), which keeps a small x's digits
 *   (AVX-512's float32 tanh: fo_tanh_ps_avx512 below).
 * The divisors lie in [1, 2], so the AVX-512 and float32 paths divide by a reciprocal
 * estimate, Newton steps and one FMA correction of the quotient, exact to about half an
 * ulp: the division instruction was the largest single cost (a 16-lane vdivps, 9-10 cycles
 * here; an 8-lane vdivpd, 14-15).  The divisor's own rounding error dl (1 + e or 2 + m is
 * rounded; dl is exact, Fast2Sum) goes into that correction.  AVX2's float64 path divides
 * with vdivpd and leaves dl out: on Zen 3 the same correction after it cost 25-50% of
 * sigmoid's and tanh's time for 0.4-0.9 ulp (2.42 -> 1.48, 2.67 -> 2.28), and vdivpd's
 * bits are the same on every CPU, where a reciprocal estimate's are not. */

/* n / (d + dl) for d in [1, 2], dl the rounding error of d (or 0): y ~ 1/d to (1 + e),
 * then q0 = n y, and q0 + (n - q0 d - q0 dl) y. */
#define FO_DIV_BY_ESTIMATE(FMADD, FNMADD, MUL, n, d, dl, y, q)                               \
    do {                                                                                       \
        const __typeof__(n) q0 = MUL(n, y);                                                   \
        q = FMADD(FNMADD(q0, dl, FNMADD(q0, d, n)), y, q0);                                   \
    } while (0)
#define FO_NEWTON_STEP(FMADD, FNMADD, ONE, d, y) y = FMADD(y, FNMADD(d, y, ONE), y)

FO_TARGET_AVX2 static inline __m256 fo_div_1to2_ps_avx2(__m256 n, __m256 d, __m256 dl)
{
    const __m256 one = _mm256_set1_ps(1.0f); /* rcp: 12 bits, one step: 23 */
    __m256 y = _mm256_rcp_ps(d), q;
    FO_NEWTON_STEP(_mm256_fmadd_ps, _mm256_fnmadd_ps, one, d, y);
    FO_DIV_BY_ESTIMATE(_mm256_fmadd_ps, _mm256_fnmadd_ps, _mm256_mul_ps, n, d, dl, y, q);
    return q;
}

FO_TARGET_AVX512 static inline __m512 fo_div_1to2_ps_avx512(__m512 n, __m512 d, __m512 dl)
{
    const __m512 y = _mm512_rcp14_ps(d); /* 14 bits: the correction leaves 2^-28 */
    __m512 q;
    FO_DIV_BY_ESTIMATE(_mm512_fmadd_ps, _mm512_fnmadd_ps, _mm512_mul_ps, n, d, dl, y, q);
    return q;
}

FO_TARGET_AVX512 static inline __m512d fo_div_1to2_pd_avx512(__m512d n, __m512d d, __m512d dl)
{
    const __m512d one = _mm512_set1_pd(1.0); /* rcp14: 14 bits, two steps: 53 */
    __m512d y = _mm512_rcp14_pd(d), q;
    FO_NEWTON_STEP(_mm512_fmadd_pd, _mm512_fnmadd_pd, one, d, y);
    FO_NEWTON_STEP(_mm512_fmadd_pd, _mm512_fnmadd_pd, one, d, y);
    FO_DIV_BY_ESTIMATE(_mm512_fmadd_pd, _mm512_fnmadd_pd, _mm512_mul_pd, n, d, dl, y, q);
    return q;
}
#undef FO_NEWTON_STEP
#undef FO_DIV_BY_ESTIMATE

/* The formulas, per lane type.  AVX2 vectors compare into vector masks, AVX-512 vectors
 * into mask registers; each family of four is spelled out once.  tanh checks its range on
 * -|v| before doubling it, so a huge |v| raises no overflow flag. */
FO_TARGET_AVX2 static inline __m256d fo_sigmoid_pd_avx2(__m256d v, int *fast)
{
    const __m256d a = _mm256_or_pd(v, _mm256_set1_pd(-0.0)), one = _mm256_set1_pd(1.0);
    const __m256d ok = _mm256_cmp_pd(a, _mm256_set1_pd(FO_EXP_FAST_MIN), _CMP_GE_OQ);
    const __m256d e = fo_exp_avx2(_mm256_and_pd(a, ok));
    const __m256d num = _mm256_blendv_pd(e, one, _mm256_cmp_pd(v, _mm256_setzero_pd(), _CMP_GE_OQ));
    *fast = _mm256_movemask_pd(ok);
    return _mm256_div_pd(num, _mm256_add_pd(one, e));
}

FO_TARGET_AVX2 static inline __m256d fo_tanh_pd_avx2(__m256d v, int *fast)
{
    const __m256d sign = _mm256_set1_pd(-0.0);
    const __m256d a = _mm256_or_pd(v, sign);
    const __m256d ok = _mm256_cmp_pd(a, _mm256_set1_pd(FO_EXP_FAST_MIN / 2), _CMP_GE_OQ);
    const __m256d a_ok = _mm256_and_pd(a, ok);
    const __m256d m = fo_expm1_avx2(_mm256_add_pd(a_ok, a_ok)); /* of -2|v| */
    const __m256d t = _mm256_div_pd(m, _mm256_add_pd(_mm256_set1_pd(2.0), m)); /* -tanh|v| */
    *fast = _mm256_movemask_pd(ok);
    return _mm256_or_pd(_mm256_andnot_pd(sign, t), _mm256_and_pd(v, sign));
}

FO_TARGET_AVX2 static inline __m256 fo_sigmoid_ps_avx2(__m256 v, int *fast)
{
    const __m256 a = _mm256_or_ps(v, _mm256_set1_ps(-0.0f)), one = _mm256_set1_ps(1.0f);
    const __m256 ok = _mm256_cmp_ps(a, _mm256_set1_ps(FO_EXPF_FAST_MIN), _CMP_GE_OQ);
    const __m256 e = fo_expf_avx2(_mm256_and_ps(a, ok));
    const __m256 num = _mm256_blendv_ps(e, one, _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GE_OQ));
    const __m256 d = _mm256_add_ps(one, e), dl = _mm256_add_ps(_mm256_sub_ps(one, d), e);
    *fast = _mm256_movemask_ps(ok);
    return fo_div_1to2_ps_avx2(num, d, dl);
}

FO_TARGET_AVX2 static inline __m256 fo_tanh_ps_avx2(__m256 v, int *fast)
{
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256 a = _mm256_or_ps(v, sign);
    const __m256 ok = _mm256_cmp_ps(a, _mm256_set1_ps(FO_EXPF_FAST_MIN / 2), _CMP_GE_OQ);
    const __m256 a_ok = _mm256_and_ps(a, ok);
    const __m256 m = fo_expm1f_avx2(_mm256_add_ps(a_ok, a_ok));
    const __m256 two = _mm256_set1_ps(2.0f), d = _mm256_add_ps(two, m);
    const __m256 t = fo_div_1to2_ps_avx2(m, d, _mm256_add_ps(_mm256_sub_ps(two, d), m));
    *fast = _mm256_movemask_ps(ok);
    return _mm256_or_ps(_mm256_andnot_ps(sign, t), _mm256_and_ps(v, sign));
}

FO_TARGET_AVX512 static inline __m512d fo_sigmoid_pd_avx512(__m512d v, int *fast)
{
    const __m512d a = _mm512_or_pd(v, _mm512_set1_pd(-0.0)), one = _mm512_set1_pd(1.0);
    const __mmask8 ok = _mm512_cmp_pd_mask(a, _mm512_set1_pd(FO_EXP_FAST_MIN), _CMP_GE_OQ);
    const __m512d e = fo_exp_avx512(_mm512_maskz_mov_pd(ok, a));
    const __m512d num = _mm512_mask_blend_pd(
        _mm512_cmp_pd_mask(v, _mm512_setzero_pd(), _CMP_GE_OQ), e, one);
    const __m512d d = _mm512_add_pd(one, e), dl = _mm512_add_pd(_mm512_sub_pd(one, d), e);
    *fast = ok;
    return fo_div_1to2_pd_avx512(num, d, dl);
}

FO_TARGET_AVX512 static inline __m512d fo_tanh_pd_avx512(__m512d v, int *fast)
{
    const __m512d sign = _mm512_set1_pd(-0.0);
    const __m512d a = _mm512_or_pd(v, sign);
    const __mmask8 ok = _mm512_cmp_pd_mask(a, _mm512_set1_pd(FO_EXP_FAST_MIN / 2), _CMP_GE_OQ);
    const __m512d a_ok = _mm512_maskz_mov_pd(ok, a);
    const __m512d m = fo_expm1_avx512(_mm512_add_pd(a_ok, a_ok));
    const __m512d two = _mm512_set1_pd(2.0), d = _mm512_add_pd(two, m);
    const __m512d t = fo_div_1to2_pd_avx512(m, d, _mm512_add_pd(_mm512_sub_pd(two, d), m));
    *fast = ok;
    return _mm512_or_pd(_mm512_andnot_pd(sign, t), _mm512_and_pd(v, sign));
}

FO_TARGET_AVX512 static inline __m512 fo_sigmoid_ps_avx512(__m512 v, int *fast)
{
    const __m512 a = _mm512_or_ps(v, _mm512_set1_ps(-0.0f)), one = _mm512_set1_ps(1.0f);
    const __mmask16 ok = _mm512_cmp_ps_mask(a, _mm512_set1_ps(FO_EXPF_FAST_MIN), _CMP_GE_OQ);
    const __m512 e = fo_expf_avx512(_mm512_maskz_mov_ps(ok, a));
    const __m512 num = _mm512_mask_blend_ps(
        _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GE_OQ), e, one);
    const __m512 d = _mm512_add_ps(one, e), dl = _mm512_add_ps(_mm512_sub_ps(one, d), e);
    *fast = ok;
    return fo_div_1to2_ps_avx512(num, d, dl);
}

/* float32 tanh in 16 lanes without exp or division, as NumPy's (from Intel's SVML): on
 * [0.125, 10) one of 25 interval polynomials (fo_tanhf_table.h: a0_hi + (a0_lo + t q(t)),
 * t = |x| - c), its coefficients fetched by a two-register permute indexed by the float's
 * exponent and top two mantissa bits; below, tanh's odd Taylor series to x^7; from 9.1 on,
 * 1 (tanh(9.1) rounds to 1).  Every lane is computed here: NaN propagates through t, and
 * +-inf saturates.  Within 0.73 ulp over every float32 (the script's sweep), against 1.94
 * for the expm1 form, and 1.8x faster (0.45-0.48 against 0.83 ms for 1e6 values on one
 * thread, nn_figures.py; np.tanh 0.48).  AVX2 keeps the expm1 form: its permutes reach 8
 * entries, so each coefficient would take four and three blends. */
FO_TARGET_AVX512 static inline __m512 fo_tanh_ps_avx512(__m512 v, int *fast)
{
    const __m512 sign = _mm512_set1_ps(-0.0f), a = _mm512_andnot_ps(sign, v);
    const __m512i idx = _mm512_srli_epi32(
        _mm512_sub_epi32(_mm512_castps_si512(a), _mm512_set1_epi32(0x3E000000)), 21);
#define FO_TANHF_COEF(row)                                                                     \
    _mm512_permutex2var_ps(_mm512_load_ps(fo_tanhf_table[row]), idx,                           \
                           _mm512_load_ps(fo_tanhf_table[row] + 16))
    const __m512 t = _mm512_sub_ps(a, FO_TANHF_COEF(0)); /* exact: a and c share a binade */
    __m512 q = FO_TANHF_COEF(2 + FO_TANHF_DEGREE);
    for (int k = FO_TANHF_DEGREE - 1; k >= 1; k--)
        q = _mm512_fmadd_ps(q, t, FO_TANHF_COEF(2 + k));
    const __m512 mid = _mm512_add_ps(FO_TANHF_COEF(1), _mm512_fmadd_ps(q, t, FO_TANHF_COEF(2)));
#undef FO_TANHF_COEF
    const __m512 s = _mm512_mul_ps(a, a);
    __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(-17.0f / 315), s, _mm512_set1_ps(2.0f / 15));
    p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(-1.0f / 3));
    const __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(a, s), p, a);
    __m512 r = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, _mm512_set1_ps(0.125f), _CMP_LT_OQ),
                                    mid, small);
    r = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, _mm512_set1_ps(9.1f), _CMP_GE_OQ), r,
                             _mm512_set1_ps(1.0f));
    *fast = 0xFFFF;
    return _mm512_or_ps(r, _mm512_and_ps(v, sign));
}

/* The block and the two drivers of one (operation, lane type, ISA).  VEC is the vector
 * type, W its lanes, LOAD/STORE its unaligned moves, FORMULA one of the functions above. */
#define FO_UNARY_SIMD(OP, T, W, VEC, LOAD, STORE, FORMULA, TARGET, SUFFIX)                    \
    TARGET static inline void OP##_block_##SUFFIX(const T *x, T *o)                           \
    {                                                                                          \
        const VEC v = LOAD(x);                                                                 \
        int fast;                                                                              \
        const VEC r = FORMULA(v, &fast);                                                       \
        unsigned slow = ~(unsigned)fast & ((1u << W) - 1);                                     \
        T in[W];                                                                               \
        if (slow)                                                                              \
            STORE(in, v);                                                                      \
        STORE(o, r);                                                                           \
        for (; slow; slow &= slow - 1)                                                         \
            o[__builtin_ctz(slow)] = (T)fo_##OP##_scalar((double)in[__builtin_ctz(slow)]);     \
    }                                                                                          \
    TARGET static void OP##_v_##SUFFIX(fo_idx n, const char *px, char *po)                    \
    {                                                                                          \
        const T *x = (const T *)px;                                                            \
        T *o = (T *)po;                                                                        \
        fo_idx i = 0;                                                                          \
        for (; i + W <= n; i += W)                                                             \
            OP##_block_##SUFFIX(x + i, o + i);                                                 \
        if (i < n) {                                                                           \
            T buf[W] = {0};                                                                    \
            memcpy(buf, x + i, (size_t)(n - i) * sizeof(T));                                   \
            OP##_block_##SUFFIX(buf, buf);                                                     \
            memcpy(o + i, buf, (size_t)(n - i) * sizeof(T));                                   \
        }                                                                                      \
    }                                                                                          \
    TARGET static void OP##_strided_##SUFFIX(fo_idx n, const char *x, fo_idx sx, char *o,     \
                                             fo_idx so)                                        \
    {                                                                                          \
        for (fo_idx i = 0; i < n; i += W) {                                                    \
            const fo_idx count = FO_MIN(W, n - i);                                             \
            T buf[W] = {0};                                                                    \
            for (fo_idx l = 0; l < count; l++)                                                 \
                buf[l] = *(const T *)(x + (i + l) * sx);                                       \
            OP##_block_##SUFFIX(buf, buf);                                                     \
            for (fo_idx l = 0; l < count; l++)                                                 \
                *(T *)(o + (i + l) * so) = buf[l];                                             \
        }                                                                                      \
    }

FO_UNARY_SIMD(sigmoid, double, 4, __m256d, _mm256_loadu_pd, _mm256_storeu_pd,
              fo_sigmoid_pd_avx2, FO_TARGET_AVX2, f64_avx2)
FO_UNARY_SIMD(tanh, double, 4, __m256d, _mm256_loadu_pd, _mm256_storeu_pd, fo_tanh_pd_avx2,
              FO_TARGET_AVX2, f64_avx2)
FO_UNARY_SIMD(sigmoid, float, 8, __m256, _mm256_loadu_ps, _mm256_storeu_ps,
              fo_sigmoid_ps_avx2, FO_TARGET_AVX2, f32_avx2)
FO_UNARY_SIMD(tanh, float, 8, __m256, _mm256_loadu_ps, _mm256_storeu_ps, fo_tanh_ps_avx2,
              FO_TARGET_AVX2, f32_avx2)
FO_UNARY_SIMD(sigmoid, double, 8, __m512d, _mm512_loadu_pd, _mm512_storeu_pd,
              fo_sigmoid_pd_avx512, FO_TARGET_AVX512, f64_avx512)
FO_UNARY_SIMD(tanh, double, 8, __m512d, _mm512_loadu_pd, _mm512_storeu_pd,
              fo_tanh_pd_avx512, FO_TARGET_AVX512, f64_avx512)
FO_UNARY_SIMD(sigmoid, float, 16, __m512, _mm512_loadu_ps, _mm512_storeu_ps,
              fo_sigmoid_ps_avx512, FO_TARGET_AVX512, f32_avx512)
FO_UNARY_SIMD(tanh, float, 16, __m512, _mm512_loadu_ps, _mm512_storeu_ps,
              fo_tanh_ps_avx512, FO_TARGET_AVX512, f32_avx512)
#undef FO_UNARY_SIMD

#define FO_UNARY_TABLE(SUFFIX)                                                                 \
    static const fo_unary_kernels kernels_##SUFFIX = {                                         \
        {sigmoid_v_##SUFFIX, tanh_v_##SUFFIX}, {sigmoid_strided_##SUFFIX, tanh_strided_##SUFFIX}};
FO_UNARY_TABLE(f32_avx2)
FO_UNARY_TABLE(f64_avx2)
FO_UNARY_TABLE(f32_avx512)
FO_UNARY_TABLE(f64_avx512)
#undef FO_UNARY_TABLE
#endif

/* at the nn family's levels, which get_simd('nn') reports */
static const fo_unary_kernels *fo_unary_pick(int dtype, int isa)
{
    switch (fo_nn_isa(isa)) {
#if FO_HAVE_X86_SIMD
    case FO_ISA_AVX512:
        return dtype == FO_F32 ? &kernels_f32_avx512 : &kernels_f64_avx512;
    case FO_ISA_AVX2:
        return dtype == FO_F32 ? &kernels_f32_avx2 : &kernels_f64_avx2;
#endif
    default:
        return dtype == FO_F32 ? &kernels_f32_portable : &kernels_f64_portable;
    }
}

typedef struct {
    int op;
    fo_idx itemsize;
    const fo_unary_kernels *k;
} fo_unary_ctx;

static void fo_unary_run(void *vctx, fo_idx n, char *const *p, const fo_idx *s)
{
    const fo_unary_ctx *ctx = (const fo_unary_ctx *)vctx;
    if (s[0] == ctx->itemsize && s[1] == ctx->itemsize)
        ctx->k->contig[ctx->op](n, p[0], p[1]);
    else
        ctx->k->strided[ctx->op](n, p[0], s[0], p[1], s[1]);
}

void fo_unary(int op, int dtype, int isa, int nthreads, int ndim, const fo_idx *shape,
              const char *x, const fo_idx *stride_x, char *out, const fo_idx *stride_out)
{
    fo_iter it;
    char *ptr[2] = {(char *)x, out};
    const fo_idx *stride[2] = {stride_x, stride_out};
    fo_idx total = fo_iter_prepare(&it, 2, 1, ndim, shape, ptr, stride);
    if (total == 0)
        return;
    fo_unary_ctx ctx = {op, dtype == FO_F32 ? 4 : 8, fo_unary_pick(dtype, isa)};
    fo_iter_run(&it, total, nthreads, fo_unary_run, &ctx, 0, NULL);
}

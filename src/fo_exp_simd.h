/* exp (and expm1) of double and float vectors on AVX2 and AVX-512, for the kernels that
 * used libm's per element: the softmax and cross-entropy rows (fo_nn_exp.inc: float rows in
 * float lanes, double rows in double lanes) and sigmoid and tanh (fo_unary.c).  Each
 * function takes lanes in [FO_EXP_FAST_MIN, 0] only (FO_EXPF_FAST_MIN for floats); the
 * callers give other lanes (results below the normal range, NaN, +-inf) to libm.
 *
 * exp(x) = 2^n * exp(r), with n = round(x / ln 2) and |r| <= ln(2) / 2: exp(r) - 1 from
 * the degree-13 Taylor polynomial (truncation error below 1e-17 there) in FMAs, 2^n from the
 * exponent bits.  Keeping the polynomial's constant term out lets expm1 share the reduction
 * and keeps a small x's digits; exp adds 2^n back in its last FMA. */
#ifndef FO_EXP_SIMD_H
#define FO_EXP_SIMD_H

#include "fo_base.h"

#if FO_HAVE_X86_SIMD
#include <immintrin.h>

#define FO_EXP_FAST_MIN (-708.0)
#define FO_LN2_HI 6.93147180369123816490e-01 /* ln 2 in its upper 32 bits, and the rest */
#define FO_LN2_LO 1.90821492927058770002e-10
#define FO_LOG2E 1.44269504088896338700e+00

/* q := exp(r) - 1 = r + r^2 Q(r), Q(r) = 1 / 2! + r / 3! + ... + r^11 / 13!, by Estrin's
 * scheme: five levels deep where Horner's steps were thirteen, and the softmax loops run
 * one short row after another, so latency is what they wait for.  r is added in the last
 * FMA, as in the float polynomial below: as r (1 + r / 2 + ...), the rounding of 1 + r / 2
 * reached q whole, and tanh read 4.05 ulp near x = 0.19 (where expm1(-2x) = q / 2 - 1/2
 * cancels); now its worst is below 3 (tested). */
#define FO_EXPM1_POLY(FMADD, MUL, SET1, r, q)                                                 \
    do {                                                                                       \
        const __typeof__(r) r2 = MUL(r, r), r4 = MUL(r2, r2), r8 = MUL(r4, r4);               \
        const __typeof__(r) q0 = FMADD(r, SET1(1.0 / 6), SET1(1.0 / 2));                      \
        const __typeof__(r) q1 = FMADD(r, SET1(1.0 / 120), SET1(1.0 / 24));                   \
        const __typeof__(r) q2 = FMADD(r, SET1(1.0 / 5040), SET1(1.0 / 720));                 \
        const __typeof__(r) q3 = FMADD(r, SET1(1.0 / 362880), SET1(1.0 / 40320));             \
        const __typeof__(r) q4 = FMADD(r, SET1(1.0 / 39916800), SET1(1.0 / 3628800));         \
        const __typeof__(r) q5 = FMADD(r, SET1(1.0 / 6227020800), SET1(1.0 / 479001600));     \
        const __typeof__(r) s0 = FMADD(q1, r2, q0), s1 = FMADD(q3, r2, q2);                   \
        const __typeof__(r) s2 = FMADD(q5, r2, q4);                                           \
        q = FMADD(r2, FMADD(s2, r8, FMADD(s1, r4, s0)), r);                                   \
    } while (0)

/* t = n + FO_EXP_ROUNDER holds n = round(x / ln 2) in its low mantissa bits, so 2^n is one
 * integer add and a shift: the conversions took 7 cycles more of latency, and these loops
 * wait on latency.  AVX-512 rounds x / ln 2 by that addition, its rounding fixed to nearest
 * (2 cycles fewer than a rounding instruction); AVX2 has no such add, so it rounds first,
 * and the add is exact.  Either way the caller's MXCSR mode, which fo_pool hands to its
 * workers, cannot move n (a directed mode would push |r| up to ln 2), and both give the
 * same n, so the two paths agree bit for bit. */
#define FO_EXP_ROUNDER 6755399441055744.0 /* 1.5 * 2^52 */
#define FO_EXP_SCALE_BIAS (1023 - 0x4338000000000000LL)

/* The reduction that exp and expm1 share, x = n ln 2 + r: returns exp(r) - 1, and 2^n in
 * *scale.  exp(x) = 2^n + 2^n (exp(r) - 1) is then one FMA. */
FO_TARGET_AVX2 static inline __m256d fo_exp_reduce_avx2(__m256d x, __m256d *scale)
{
    const __m256d n = _mm256_round_pd(_mm256_mul_pd(x, _mm256_set1_pd(FO_LOG2E)),
                                      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256d t = _mm256_add_pd(n, _mm256_set1_pd(FO_EXP_ROUNDER)); /* exact */
    __m256d r = _mm256_fnmadd_pd(n, _mm256_set1_pd(FO_LN2_HI), x), q;
    r = _mm256_fnmadd_pd(n, _mm256_set1_pd(FO_LN2_LO), r);
    FO_EXPM1_POLY(_mm256_fmadd_pd, _mm256_mul_pd, _mm256_set1_pd, r, q);
    *scale = _mm256_castsi256_pd(_mm256_slli_epi64(
        _mm256_add_epi64(_mm256_castpd_si256(t), _mm256_set1_epi64x(FO_EXP_SCALE_BIAS)), 52));
    return q;
}

/* fo_exp_reduce_avx2's steps on 8 lanes */
FO_TARGET_AVX512 static inline __m512d fo_exp_reduce_avx512(__m512d x, __m512d *scale)
{
    const __m512d t = _mm512_add_round_pd(_mm512_mul_pd(x, _mm512_set1_pd(FO_LOG2E)),
                                          _mm512_set1_pd(FO_EXP_ROUNDER),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512d n = _mm512_sub_pd(t, _mm512_set1_pd(FO_EXP_ROUNDER)); /* exact */
    __m512d r = _mm512_fnmadd_pd(n, _mm512_set1_pd(FO_LN2_HI), x), q;
    r = _mm512_fnmadd_pd(n, _mm512_set1_pd(FO_LN2_LO), r);
    FO_EXPM1_POLY(_mm512_fmadd_pd, _mm512_mul_pd, _mm512_set1_pd, r, q);
    *scale = _mm512_castsi512_pd(_mm512_slli_epi64(
        _mm512_add_epi64(_mm512_castpd_si512(t), _mm512_set1_epi64(FO_EXP_SCALE_BIAS)), 52));
    return q;
}

/* ---- float32 lanes: the same steps in single precision ----
 * For the float32 sigmoid and tanh, which NumPy computes in float32 lanes too: twice the
 * lanes of a double and a polynomial half as long.  Lanes in [FO_EXPF_FAST_MIN, 0] only,
 * where 2^n stays normal.  The degree-8 Taylor polynomial's truncation error is below
 * 0.01 ulp of a float on |r| <= ln(2) / 2; ln 2's split keeps n * FO_LN2F_HI exact.
 * exp(r) - 1 is summed as r + r^2 Q(r) in its last FMA, so the rounding errors of Q, a
 * fifth of the result at most, add little to that FMA's half ulp. */
#define FO_EXPF_FAST_MIN (-87.0f)
#define FO_LN2F_HI 0.693359375f
#define FO_LN2F_LO (-2.12194440e-4f)

#define FO_EXPM1F_POLY(FMADD, MUL, SET1, r, q)                                                \
    do {                                                                                       \
        const __typeof__(r) r2 = MUL(r, r), r4 = MUL(r2, r2);                                 \
        const __typeof__(r) q0 = FMADD(r, SET1(1.0f / 6), SET1(1.0f / 2));                    \
        const __typeof__(r) q1 = FMADD(r, SET1(1.0f / 120), SET1(1.0f / 24));                 \
        const __typeof__(r) q2 = FMADD(r, SET1(1.0f / 5040), SET1(1.0f / 720));               \
        const __typeof__(r) hi = FMADD(r2, SET1(1.0f / 40320), q2);                           \
        q = FMADD(r2, FMADD(r4, hi, FMADD(r2, q1, q0)), r);                                   \
    } while (0)

/* n rounded as in the double reduction */
#define FO_EXPF_ROUNDER 12582912.0f /* 1.5 * 2^23 */
#define FO_EXPF_SCALE_BIAS (127 - 0x4B400000)

/* The reduction of x + lo, where lo is a low part below half an ulp of x (with_lo a
 * constant, so that without it no add is left): an argument that is a rounded difference,
 * the softmax's x - max, keeps the digits its rounding dropped, which would otherwise cost
 * tens of ulp of the result (64 in the softmax test, whose spreads reach 110). */
FO_TARGET_AVX2 static inline __m256 fo_expf_reduce_lo_avx2(__m256 x, __m256 lo, int with_lo,
                                                           __m256 *scale)
{
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps((float)FO_LOG2E)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256 t = _mm256_add_ps(n, _mm256_set1_ps(FO_EXPF_ROUNDER)); /* exact */
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(FO_LN2F_HI), x), q;
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(FO_LN2F_LO), r);
    if (with_lo)
        r = _mm256_add_ps(r, lo);
    FO_EXPM1F_POLY(_mm256_fmadd_ps, _mm256_mul_ps, _mm256_set1_ps, r, q);
    *scale = _mm256_castsi256_ps(_mm256_slli_epi32(
        _mm256_add_epi32(_mm256_castps_si256(t), _mm256_set1_epi32(FO_EXPF_SCALE_BIAS)), 23));
    return q;
}

FO_TARGET_AVX2 static inline __m256 fo_expf_reduce_avx2(__m256 x, __m256 *scale)
{
    return fo_expf_reduce_lo_avx2(x, x, 0, scale);
}

FO_TARGET_AVX512 static inline __m512 fo_expf_reduce_avx512(__m512 x, __m512 *scale)
{
    const __m512 t = _mm512_add_round_ps(_mm512_mul_ps(x, _mm512_set1_ps((float)FO_LOG2E)),
                                         _mm512_set1_ps(FO_EXPF_ROUNDER),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512 n = _mm512_sub_ps(t, _mm512_set1_ps(FO_EXPF_ROUNDER)); /* exact */
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(FO_LN2F_HI), x), q;
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(FO_LN2F_LO), r);
    FO_EXPM1F_POLY(_mm512_fmadd_ps, _mm512_mul_ps, _mm512_set1_ps, r, q);
    *scale = _mm512_castsi512_ps(_mm512_slli_epi32(
        _mm512_add_epi32(_mm512_castps_si512(t), _mm512_set1_epi32(FO_EXPF_SCALE_BIAS)), 23));
    return q;
}

/* exp and expm1 from a reduction (q = exp(r) - 1, scale = 2^n): exp(x) = 2^n q + 2^n and
 * expm1(x) = 2^n q + (2^n - 1), one FMA each, for lanes in [FO_EXP_FAST_MIN, 0]
 * ([FO_EXPF_FAST_MIN, 0] for floats).  The addend 2^n - 1 is exact down to n = -53 (-24
 * for floats) and -1 within half an ulp below; at n = 0 it is 0 and the FMA returns q
 * itself, which keeps a small x's digits (a -0 comes back as +0: tanh, the caller,
 * restores signs). */
#define FO_EXP_FROM(NAME, VEC, TARGET, REDUCE, FMADD)                                          \
    TARGET static inline VEC NAME(VEC x)                                                       \
    {                                                                                          \
        VEC scale;                                                                             \
        const VEC q = REDUCE(x, &scale);                                                       \
        return FMADD(scale, q, scale);                                                         \
    }
#define FO_EXPM1_FROM(NAME, VEC, TARGET, REDUCE, FMADD, SUB, ONE)                              \
    TARGET static inline VEC NAME(VEC x)                                                       \
    {                                                                                          \
        VEC scale;                                                                             \
        const VEC q = REDUCE(x, &scale);                                                       \
        return FMADD(scale, q, SUB(scale, ONE));                                               \
    }

FO_EXP_FROM(fo_exp_avx2, __m256d, FO_TARGET_AVX2, fo_exp_reduce_avx2, _mm256_fmadd_pd)
FO_EXP_FROM(fo_exp_avx512, __m512d, FO_TARGET_AVX512, fo_exp_reduce_avx512, _mm512_fmadd_pd)
FO_EXP_FROM(fo_expf_avx2, __m256, FO_TARGET_AVX2, fo_expf_reduce_avx2, _mm256_fmadd_ps)
FO_EXP_FROM(fo_expf_avx512, __m512, FO_TARGET_AVX512, fo_expf_reduce_avx512, _mm512_fmadd_ps)
FO_EXPM1_FROM(fo_expm1_avx2, __m256d, FO_TARGET_AVX2, fo_exp_reduce_avx2, _mm256_fmadd_pd,
              _mm256_sub_pd, _mm256_set1_pd(1.0))
FO_EXPM1_FROM(fo_expm1_avx512, __m512d, FO_TARGET_AVX512, fo_exp_reduce_avx512,
              _mm512_fmadd_pd, _mm512_sub_pd, _mm512_set1_pd(1.0))
FO_EXPM1_FROM(fo_expm1f_avx2, __m256, FO_TARGET_AVX2, fo_expf_reduce_avx2, _mm256_fmadd_ps,
              _mm256_sub_ps, _mm256_set1_ps(1.0f))
#undef FO_EXP_FROM
#undef FO_EXPM1_FROM

/* exp(hi + lo) for lanes with hi in [FO_EXPF_FAST_MIN, 0] and |lo| <= ulp(hi) / 2 */
FO_TARGET_AVX2 static inline __m256 fo_expf_lo_avx2(__m256 hi, __m256 lo)
{
    __m256 scale;
    const __m256 q = fo_expf_reduce_lo_avx2(hi, lo, 1, &scale);
    return _mm256_fmadd_ps(scale, q, scale);
}

#endif /* FO_HAVE_X86_SIMD */
#endif /* FO_EXP_SIMD_H */

/* exp (and expm1) of double vectors on AVX2 and AVX-512, for the kernels that used libm's
 * per element: the softmax and cross-entropy rows (fo_nn_exp.inc) and sigmoid and tanh
 * (fo_elementwise_body.inc).  Each function takes lanes in [FO_EXP_FAST_MIN, 0] only; the
 * callers give other lanes (results below the normal range, NaN, +-inf) to libm.
 *
 * exp(x) = 2^n * exp(r), with n = round(x / ln 2) and |r| <= ln(2) / 2: exp(r) from its
 * degree-13 Taylor polynomial (truncation error below 1e-17 there) in FMAs, 2^n from the
 * exponent bits; within 2.4 ulp of the exact value (tests/test_nn_kernels.py).  expm1 uses
 * the same reduction with the polynomial's constant term left out, so that a small x loses
 * nothing to cancellation. */
#ifndef FO_EXP_SIMD_H
#define FO_EXP_SIMD_H

#include "fo_base.h"

#if FO_HAVE_X86_SIMD
#include <immintrin.h>

#define FO_EXP_FAST_MIN (-708.0)
#define FO_LN2_HI 6.93147180369123816490e-01 /* ln 2 in its upper 32 bits, and the rest */
#define FO_LN2_LO 1.90821492927058770002e-10
#define FO_LOG2E 1.44269504088896338700e+00

/* p := the degree-13 Taylor polynomial of exp at r, by Estrin's scheme: four FMA levels
 * deep where Horner's steps were thirteen, and these loops run one short row after another,
 * so latency is what they wait for */
#define FO_EXP_POLY(FMADD, MUL, SET1, r, p)                                                   \
    do {                                                                                       \
        const __typeof__(r) r2 = MUL(r, r), r4 = MUL(r2, r2), r8 = MUL(r4, r4);               \
        const __typeof__(r) q0 = FMADD(r, SET1(1.0), SET1(1.0));                              \
        const __typeof__(r) q1 = FMADD(r, SET1(1.0 / 6), SET1(1.0 / 2));                      \
        const __typeof__(r) q2 = FMADD(r, SET1(1.0 / 120), SET1(1.0 / 24));                   \
        const __typeof__(r) q3 = FMADD(r, SET1(1.0 / 5040), SET1(1.0 / 720));                 \
        const __typeof__(r) q4 = FMADD(r, SET1(1.0 / 362880), SET1(1.0 / 40320));             \
        const __typeof__(r) q5 = FMADD(r, SET1(1.0 / 39916800), SET1(1.0 / 3628800));         \
        const __typeof__(r) q6 = FMADD(r, SET1(1.0 / 6227020800), SET1(1.0 / 479001600));     \
        const __typeof__(r) s0 = FMADD(q1, r2, q0), s1 = FMADD(q3, r2, q2);                   \
        const __typeof__(r) s2 = FMADD(q5, r2, q4);                                           \
        p = FMADD(FMADD(q6, r4, s2), r8, FMADD(s1, r4, s0));                                  \
    } while (0)

/* q := exp(r) - 1 = r * (1 + r / 2! + ... + r^12 / 13!), as FO_EXP_POLY without its
 * constant term */
#define FO_EXPM1_POLY(FMADD, MUL, SET1, r, q)                                                 \
    do {                                                                                       \
        const __typeof__(r) r2 = MUL(r, r), r4 = MUL(r2, r2), r8 = MUL(r4, r4);               \
        const __typeof__(r) q0 = FMADD(r, SET1(1.0 / 2), SET1(1.0));                          \
        const __typeof__(r) q1 = FMADD(r, SET1(1.0 / 24), SET1(1.0 / 6));                     \
        const __typeof__(r) q2 = FMADD(r, SET1(1.0 / 720), SET1(1.0 / 120));                  \
        const __typeof__(r) q3 = FMADD(r, SET1(1.0 / 40320), SET1(1.0 / 5040));               \
        const __typeof__(r) q4 = FMADD(r, SET1(1.0 / 3628800), SET1(1.0 / 362880));           \
        const __typeof__(r) q5 = FMADD(r, SET1(1.0 / 479001600), SET1(1.0 / 39916800));       \
        const __typeof__(r) s0 = FMADD(q1, r2, q0), s1 = FMADD(q3, r2, q2);                   \
        const __typeof__(r) s2 = FMADD(q5, r2, q4);                                           \
        q = MUL(r, FMADD(FMADD(SET1(1.0 / 6227020800), r4, s2), r8, FMADD(s1, r4, s0)));      \
    } while (0)

/* exp of 4 lanes in [FO_EXP_FAST_MIN, 0] */
FO_TARGET_AVX2 static inline __m256d fo_exp_avx2(__m256d x)
{
    const __m256d n = _mm256_round_pd(_mm256_mul_pd(x, _mm256_set1_pd(FO_LOG2E)),
                                      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256d r = _mm256_fnmadd_pd(n, _mm256_set1_pd(FO_LN2_HI), x), p;
    r = _mm256_fnmadd_pd(n, _mm256_set1_pd(FO_LN2_LO), r);
    FO_EXP_POLY(_mm256_fmadd_pd, _mm256_mul_pd, _mm256_set1_pd, r, p);
    const __m256i bits = _mm256_slli_epi64(
        _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_cvtpd_epi32(n)), _mm256_set1_epi64x(1023)),
        52);
    return _mm256_mul_pd(p, _mm256_castsi256_pd(bits));
}

/* expm1 of 4 lanes in [FO_EXP_FAST_MIN, 0]: q where n = 0, else 2^n * q + (2^n - 1), both
 * exact operands of one FMA */
FO_TARGET_AVX2 static inline __m256d fo_expm1_avx2(__m256d x)
{
    const __m256d n = _mm256_round_pd(_mm256_mul_pd(x, _mm256_set1_pd(FO_LOG2E)),
                                      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256d r = _mm256_fnmadd_pd(n, _mm256_set1_pd(FO_LN2_HI), x), q;
    r = _mm256_fnmadd_pd(n, _mm256_set1_pd(FO_LN2_LO), r);
    FO_EXPM1_POLY(_mm256_fmadd_pd, _mm256_mul_pd, _mm256_set1_pd, r, q);
    const __m256d scale = _mm256_castsi256_pd(_mm256_slli_epi64(
        _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_cvtpd_epi32(n)), _mm256_set1_epi64x(1023)),
        52));
    const __m256d scaled = _mm256_fmadd_pd(scale, q, _mm256_sub_pd(scale, _mm256_set1_pd(1.0)));
    return _mm256_blendv_pd(scaled, q, _mm256_cmp_pd(n, _mm256_setzero_pd(), _CMP_EQ_OQ));
}

/* exp of 8 lanes in [FO_EXP_FAST_MIN, 0] (AVX-512F only: no DQ conversions) */
FO_TARGET_AVX512 static inline __m512d fo_exp_avx512(__m512d x)
{
    const __m512d n = _mm512_roundscale_pd(_mm512_mul_pd(x, _mm512_set1_pd(FO_LOG2E)),
                                           _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512d r = _mm512_fnmadd_pd(n, _mm512_set1_pd(FO_LN2_HI), x), p;
    r = _mm512_fnmadd_pd(n, _mm512_set1_pd(FO_LN2_LO), r);
    FO_EXP_POLY(_mm512_fmadd_pd, _mm512_mul_pd, _mm512_set1_pd, r, p);
    const __m512i bits = _mm512_slli_epi64(
        _mm512_add_epi64(_mm512_cvtepi32_epi64(_mm512_cvtpd_epi32(n)), _mm512_set1_epi64(1023)),
        52);
    return _mm512_mul_pd(p, _mm512_castsi512_pd(bits));
}

#endif /* FO_HAVE_X86_SIMD */
#endif /* FO_EXP_SIMD_H */

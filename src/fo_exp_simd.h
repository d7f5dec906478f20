/* exp (and expm1) of double vectors on AVX2 and AVX-512, for the kernels that used libm's
 * per element: the softmax and cross-entropy rows (fo_nn_exp.inc) and sigmoid and tanh
 * (fo_elementwise_body.inc).  Each function takes lanes in [FO_EXP_FAST_MIN, 0] only; the
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

/* q := exp(r) - 1 = r * (1 + r / 2! + ... + r^12 / 13!), by Estrin's scheme: five
 * levels deep where Horner's steps were thirteen, and the softmax loops run one short row
 * after another, so latency is what they wait for */
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

/* The reduction that exp and expm1 share, x = n ln 2 + r: returns exp(r) - 1, and 2^n in
 * *scale.  exp(x) = 2^n + 2^n (exp(r) - 1) is then one FMA. */
FO_TARGET_AVX2 static inline __m256d fo_exp_reduce_avx2(__m256d x, __m256d *scale)
{
    const __m256d n = _mm256_round_pd(_mm256_mul_pd(x, _mm256_set1_pd(FO_LOG2E)),
                                      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256d r = _mm256_fnmadd_pd(n, _mm256_set1_pd(FO_LN2_HI), x), q;
    r = _mm256_fnmadd_pd(n, _mm256_set1_pd(FO_LN2_LO), r);
    FO_EXPM1_POLY(_mm256_fmadd_pd, _mm256_mul_pd, _mm256_set1_pd, r, q);
    *scale = _mm256_castsi256_pd(_mm256_slli_epi64(
        _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_cvtpd_epi32(n)), _mm256_set1_epi64x(1023)),
        52));
    return q;
}

/* exp of 4 lanes in [FO_EXP_FAST_MIN, 0] */
FO_TARGET_AVX2 static inline __m256d fo_exp_avx2(__m256d x)
{
    __m256d scale;
    const __m256d q = fo_exp_reduce_avx2(x, &scale);
    return _mm256_fmadd_pd(scale, q, scale);
}

/* expm1 of 4 lanes in [FO_EXP_FAST_MIN, 0]: exp(r) - 1 itself where n = 0, else
 * 2^n (exp(r) - 1) + (2^n - 1), whose addend is exact */
FO_TARGET_AVX2 static inline __m256d fo_expm1_avx2(__m256d x)
{
    __m256d scale;
    const __m256d q = fo_exp_reduce_avx2(x, &scale), one = _mm256_set1_pd(1.0);
    return _mm256_blendv_pd(_mm256_fmadd_pd(scale, q, _mm256_sub_pd(scale, one)), q,
                            _mm256_cmp_pd(scale, one, _CMP_EQ_OQ));
}

/* exp of 8 lanes in [FO_EXP_FAST_MIN, 0]: fo_exp_avx2's steps in AVX-512F (no DQ
 * conversions) */
FO_TARGET_AVX512 static inline __m512d fo_exp_avx512(__m512d x)
{
    const __m512d n = _mm512_roundscale_pd(_mm512_mul_pd(x, _mm512_set1_pd(FO_LOG2E)),
                                           _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512d r = _mm512_fnmadd_pd(n, _mm512_set1_pd(FO_LN2_HI), x), q;
    r = _mm512_fnmadd_pd(n, _mm512_set1_pd(FO_LN2_LO), r);
    FO_EXPM1_POLY(_mm512_fmadd_pd, _mm512_mul_pd, _mm512_set1_pd, r, q);
    const __m512d scale = _mm512_castsi512_pd(_mm512_slli_epi64(
        _mm512_add_epi64(_mm512_cvtepi32_epi64(_mm512_cvtpd_epi32(n)), _mm512_set1_epi64(1023)),
        52));
    return _mm512_fmadd_pd(scale, q, scale);
}

#endif /* FO_HAVE_X86_SIMD */
#endif /* FO_EXP_SIMD_H */

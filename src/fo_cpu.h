/* Run-time CPU feature detection and the target attributes of SIMD code.
 *
 * Nothing here is compiled with -march: each SIMD function carries its own
 * FO_TARGET_* attribute, and callers pick a variant once, from fo_cpu_level(),
 * so the same binary runs on any x86-64 (or ARM, where only the portable code
 * exists).
 */
#ifndef FO_CPU_H
#define FO_CPU_H

/* ISA levels, ordered: a CPU at level L can run every variant <= L. */
#define FO_ISA_PORTABLE 0
#define FO_ISA_AVX2 1    /* AVX2 + FMA (Haswell, Zen 1 and later) */
#define FO_ISA_AVX512 2  /* AVX-512 F + VL + BW + DQ (Skylake-X, Zen 4 and later) */

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define FO_HAVE_X86_SIMD 1
#define FO_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define FO_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")))
#else
#define FO_HAVE_X86_SIMD 0
#define FO_TARGET_AVX2
#define FO_TARGET_AVX512
#endif

/* Tell the vectoriser that out[i] depends only on inputs at index i: exact
 * aliasing (out is an input) stays correct, partial overlap is resolved by the
 * Python layer before any kernel runs. */
#if defined(__clang__)
#define FO_IVDEP _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define FO_IVDEP _Pragma("GCC ivdep")
#else
#define FO_IVDEP
#endif

/* Highest level this CPU (and OS, for the wide registers) supports. */
static inline int fo_cpu_level(void)
{
#if FO_HAVE_X86_SIMD
    __builtin_cpu_init();
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")
            && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
        return FO_ISA_AVX512;
    if (avx2)
        return FO_ISA_AVX2;
#endif
    return FO_ISA_PORTABLE;
}

#endif

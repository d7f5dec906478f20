/* The one header every fastops C file starts from: index and element types, the ISA levels
 * and the target attributes that compile SIMD variants without -march, and the
 * floating-point status the typed entries read to honour np.errstate.
 *
 * Conventions of every kernel (see docs/adding_a_kernel.md):
 *   - a kernel never allocates Python objects, never raises, never reads a global setting:
 *     `isa` (an FO_ISA_* level no higher than fo_cpu_level()) and `nthreads` (an upper bound;
 *     small problems use fewer) arrive with every call;
 *   - sizes and strides are fo_idx; strides are in bytes for the N-d iterator (fo_iter.h)
 *     and in elements for 2-d kernels (GEMM, row kernels), as each header says;
 *   - one body per element type: a `*.inc` file compiled once per type (and per ISA where it
 *     has SIMD variants) with FO_T, FO_NAME(x) and, for ISA variants, FO_TARGET defined.
 */
#ifndef FO_BASE_H
#define FO_BASE_H

#include <stddef.h>
#include <stdint.h>

typedef ptrdiff_t fo_idx;

/* Element type codes, as the typed entries pass them. */
enum { FO_F32 = 0, FO_F64 = 1 };

#define FO_MAX_NDIM 64

/* ISA levels, ordered: a CPU at level L runs every variant <= L.  A build has one
 * architecture's levels: x86's (AVX2, AVX-512) or aarch64's, where level 1 is NEON
 * (Advanced SIMD, baseline on every AArch64 CPU; level 0 still selects the plain C). */
enum { FO_ISA_PORTABLE = 0, FO_ISA_AVX2 = 1, FO_ISA_AVX512 = 2, FO_ISA_NEON = 1 };

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define FO_HAVE_X86_SIMD 1
#define FO_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define FO_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")))
#else
#define FO_HAVE_X86_SIMD 0
#define FO_TARGET_AVX2
#define FO_TARGET_AVX512
#endif

#if defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
#define FO_HAVE_NEON 1
#else
#define FO_HAVE_NEON 0
#endif

/* The highest ISA level of this build's architecture. */
#if FO_HAVE_X86_SIMD
#define FO_ISA_TOP FO_ISA_AVX512
#elif FO_HAVE_NEON
#define FO_ISA_TOP FO_ISA_NEON
#else
#define FO_ISA_TOP FO_ISA_PORTABLE
#endif

/* out[i] depends only on inputs at index i: exact aliasing (out is an input) stays
 * correct, partial overlap is removed by the checking layer before any kernel runs. */
#if defined(__clang__)
#define FO_IVDEP _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define FO_IVDEP _Pragma("GCC ivdep")
#else
#define FO_IVDEP
#endif

#define FO_MIN(x, y) ((x) < (y) ? (x) : (y))
#define FO_MAX(x, y) ((x) > (y) ? (x) : (y))

/* Highest ISA level this CPU (and OS, for the wide registers) supports. */
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
#elif FO_HAVE_NEON
    return FO_ISA_NEON;
#endif
    return FO_ISA_PORTABLE;
}

/* The level a kernel family runs for a requested `isa` (at most fo_cpu_level()): its best
 * variant at or below `isa`, `top` being the highest level it has variants for in this build.
 * Each family's fo_<family>_isa says which, so that get_simd(family) tells the truth. */
static inline int fo_family_isa(int isa, int top)
{
    return isa < top ? isa : top;
}

/* ---- floating-point status (np.errstate) ----------------------------------------------
 * The typed entries clear the status before a kernel and read it after, as NumPy's ufunc
 * loops do.  On x86 only the SSE status (MXCSR) is touched: fastops computes nothing on the
 * x87 unit, and glibc's feclearexcept also rewrites the x87 environment, several times
 * slower.  Worker threads' flags reach the caller through the thread pool (fo_pool.h). */
enum { FO_FE_INVALID = 1, FO_FE_DIVBYZERO = 4, FO_FE_OVERFLOW = 8, FO_FE_UNDERFLOW = 16 };

#if FO_HAVE_X86_SIMD
#include <xmmintrin.h>
static inline void fo_fp_clear(void) { _mm_setcsr(_mm_getcsr() & ~0x3fu); }
static inline int fo_fp_status(void)
{
    return (int)(_mm_getcsr() & (FO_FE_INVALID | FO_FE_DIVBYZERO | FO_FE_OVERFLOW | FO_FE_UNDERFLOW));
}
#else
#include <fenv.h>
static inline void fo_fp_clear(void) { feclearexcept(FE_ALL_EXCEPT); }
static inline int fo_fp_status(void)
{
#if defined(FE_INVALID) && defined(FE_DIVBYZERO) && defined(FE_OVERFLOW) && defined(FE_UNDERFLOW)
    const int e = fetestexcept(FE_INVALID | FE_DIVBYZERO | FE_OVERFLOW | FE_UNDERFLOW);
    return ((e & FE_INVALID) ? FO_FE_INVALID : 0) | ((e & FE_DIVBYZERO) ? FO_FE_DIVBYZERO : 0)
           | ((e & FE_OVERFLOW) ? FO_FE_OVERFLOW : 0) | ((e & FE_UNDERFLOW) ? FO_FE_UNDERFLOW : 0);
#else
    /* C99 defines an FE_ macro only where the FPU raises that exception: every IEEE 754
     * target (aarch64, and x86 built by MSVC) has all four; a C library without them (soft
     * float) has no flags to report. */
    return 0;
#endif
}
#endif

#endif

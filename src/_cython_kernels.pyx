# cython: language_level=3
"""The pure-Cython rung of fastops: elementwise ops, sums and GEMM in Cython alone.

Between the naive Python loops (fastops.naive) and fastops' C kernels with SIMD
intrinsics, this rung shows how far typed loops, threads and cache blocking get when
the compiler does the vectorising.  No hand-written C, no intrinsics: typed pointers
into ndarrays, `nogil` loops, `prange`, and loops written so that gcc vectorises them.

The code is in four .pxi files, included (through cython_rung.pxi) here and in
fastops._cython_kernels_avx2 and fastops._cython_kernels_avx512:
  cython_layout.pxi       the iteration space of a broadcast loop, canonicalized
  cython_elementwise.pxi  binary(): out := op(a, b)
  cython_sum.pxi          sum(): pairwise sums over any axes
  cython_gemm.pxi         gemm(): the BLIS loops around an auto-vectorised micro-kernel

Three builds of the same source.  A portable build targets baseline x86-64, whose SSE2
has 128-bit registers and no fused multiply-add, so at most half the arithmetic rate
of an AVX2 + FMA core: this module.  fastops._cython_kernels_avx2 is the same code built
with -mavx2 -mfma, and fastops._cython_kernels_avx512 with AVX-512 and 512-bit vectors
(and a GEMM tile twice as wide).  build_for(isa) picks one per call, from the SIMD level
of the call's settings, so fastops.set_simd / config_context choose the Cython rung's
build as they choose the C kernels'.

Entries (the caller validates, broadcasts and allocates; nothing is checked here):
  binary(op, a, b, out, nthreads), sum(x, axes, nthreads),
  gemm(a, b, c, alpha, beta, nthreads)
"""
import importlib
import types

include "cython_tile_avx2.pxi"
include "cython_rung.pxi"

# ---- choice of build ----

ENTRIES = ("binary", "sum", "gemm")

# this module's own (portable) entries
PORTABLE = types.SimpleNamespace(**{name: globals()[name] for name in ENTRIES})


cdef dict _found = {}  # build name -> its module, or None: looked up once per process


def _simd_build(int level, str name):
    """The build for SIMD level `level` (1 AVX2, 2 AVX-512), or None where this CPU cannot
    run it or it was not built (x86-64 gcc/clang only)."""
    if name not in _found:
        from fastops import _kernels
        module = None
        if _kernels.cpu_level() >= level:
            try:
                module = importlib.import_module("fastops." + name)
            except ImportError:
                pass
        _found[name] = module
    return _found[name]


def _avx2_build():
    return _simd_build(1, "_cython_kernels_avx2")


def _avx512_build():
    return _simd_build(2, "_cython_kernels_avx512")


def build_for(int isa):
    """The entries to run at ISA level `isa` (the setting fastops.set_simd / config_context
    passes with every call): the best build at most that level that runs here (AVX-512 at
    isa >= 2, AVX2 at isa >= 1), else the portable one."""
    cdef object build
    if isa >= 2:
        build = _avx512_build()
        if build is not None:
            return build
    if isa >= 1:
        build = _avx2_build()
        if build is not None:
            return build
    return PORTABLE

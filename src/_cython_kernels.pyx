# cython: language_level=3
"""The pure-Cython rung of fastops: elementwise ops, sums and GEMM in Cython alone.

Between the naive Python loops (fastops.naive) and fastops' C kernels with SIMD
intrinsics, this rung shows how far typed loops, threads and cache blocking get when
the compiler does the vectorising.  No hand-written C, no intrinsics: typed pointers
into ndarrays, `nogil` loops, `prange`, and loops written so that gcc vectorises them.

The code is in four .pxi files, included here and in fastops._cython_kernels_avx2:
  cython_layout.pxi       the iteration space of a broadcast loop, canonicalized
  cython_elementwise.pxi  binary(): out := op(a, b)
  cython_sum.pxi          sum(): pairwise sums over any axes
  cython_gemm.pxi         gemm(): the BLIS loops around an auto-vectorised micro-kernel

Two builds of the same source.  A portable build targets baseline x86-64, whose SSE2
has 128-bit registers and no fused multiply-add, so at most half the arithmetic rate
of an AVX2 + FMA core: this module.  fastops._cython_kernels_avx2 is the same code built
with -mavx2 -mfma.  At import, when the CPU has AVX2 and FMA (fastops' own CPU check)
and FASTOPS_SIMD does not say 'portable', `binary`, `sum` and `gemm` here are rebound
to that build's; `_set_isa` switches between them (fastops._config's protocol).

Entries (the caller validates, broadcasts and allocates; nothing is checked here):
  binary(op, a, b, out, nthreads), sum(x, axes, nthreads),
  gemm(a, b, c, alpha, beta, nthreads)
"""
cimport numpy as cnp
from cython cimport floating
from cython.parallel cimport prange, threadid
from libc.stdlib cimport free, malloc

import os
import types

import numpy as np

cnp.import_array()

include "cython_layout.pxi"
include "cython_elementwise.pxi"
include "cython_sum.pxi"
include "cython_gemm.pxi"

# ---- choice of build ----

ENTRIES = ("binary", "sum", "gemm")

# this module's own (portable) entries, whichever build is active
PORTABLE = types.SimpleNamespace(**{name: globals()[name] for name in ENTRIES})


def _cpu_level():
    """The CPU's ISA level as fastops' own check sees it (fastops._config's protocol: it
    must not cap the package's level when this module lacks a build for it)."""
    from fastops._elementwise import _cpu_level as fastops_cpu_level
    return fastops_cpu_level()


def _avx2_build():
    """The AVX2 build's module, or None where it cannot run or was not built."""
    if _cpu_level() < 1:
        return None
    try:
        from fastops import _cython_kernels_avx2  # built on x86-64 gcc/clang only
    except ImportError:
        return None
    return _cython_kernels_avx2


def _set_isa(int level):
    """Rebind the entries to the AVX2 build (level >= 1, where it runs) or this one."""
    global ISA
    build = _avx2_build() if level >= 1 else None
    ISA = "avx2" if build is not None else "portable"
    source = build if build is not None else PORTABLE
    for name in ENTRIES:
        globals()[name] = getattr(source, name)


def _active_isa():
    return 1 if ISA == "avx2" else 0


def _set_num_threads(int n):
    """Part of fastops._config's protocol; the entries take their thread count as an argument."""


ISA = "portable"
_set_isa(0 if os.environ.get("FASTOPS_SIMD", "auto") == "portable" else 1)

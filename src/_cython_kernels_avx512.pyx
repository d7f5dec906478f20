# cython: language_level=3
"""fastops' pure-Cython kernels compiled for AVX-512 (x86-64 only).

The same source as fastops._cython_kernels (the .pxi files), built with -mavx512f and
its companions and -mprefer-vector-width=512, so that gcc's auto-vectoriser uses the
32 512-bit registers; the GEMM tile is twice as wide as the other builds'
(cython_tile_avx512.pxi).  Importing it on a CPU without AVX-512 could crash the
interpreter with SIGILL: only fastops._cython_kernels imports it, after checking the CPU.
"""
include "cython_tile_avx512.pxi"
include "cython_rung.pxi"

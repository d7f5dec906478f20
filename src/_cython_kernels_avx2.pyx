# cython: language_level=3
"""fastops' pure-Cython kernels compiled for AVX2 + FMA (x86-64 only).

The same source as fastops._cython_kernels (the .pxi files), built with -mavx2 -mfma
so that gcc's auto-vectoriser can use 256-bit registers and fused multiply-adds.
Importing it on a CPU without AVX2 and FMA could crash the interpreter with SIGILL:
only fastops._cython_kernels imports it, after checking the CPU.
"""
include "cython_tile_avx2.pxi"
include "cython_rung.pxi"

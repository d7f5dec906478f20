# The micro-kernel's tile for 32 512-bit registers (the AVX-512 build of the Cython rung;
# src/cython_gemm.pxi has the kernel).
#
# The AVX2 tile with each row twice as wide: 4 x 48 floats (4 x 24 doubles) is 12 zmm
# accumulators, 3 loads of B and 4 broadcasts of A per step.  Its 256-bit twin ran at
# 0.49x OpenBLAS's SkylakeX kernel on an AVX-512 Xeon (1024^3, 1 thread), this one at
# 0.85x.  Larger tiles for the 32 registers (6 x 48, 8 x 32, 4 x 64) measured within the
# host's noise of it, so the AVX2 tile's shape is kept.

cdef enum:
    MR = 4
    NR_F32 = 48
    NR_F64 = 24

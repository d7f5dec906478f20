# The micro-kernel's tile for 16 vector registers (the portable and AVX2 builds of the
# Cython rung; src/cython_gemm.pxi has the kernel).
#
# 4 x 24 floats is 12 AVX registers of accumulators, the count that hides the latency of
# the two FMA units (4 cycles x 2), plus 3 for B and 1 for A in the 16 registers (BLIS'
# Haswell kernel is 6 x 16 for the same reason); 4 x 12 doubles is the same 12 registers.
# What gcc 12 makes of it (objdump): with -mavx2 -mfma, floats get exactly that loop,
# 3 loads, 4 broadcasts and 12 FMAs per step; doubles get the 12 accumulators but load A
# as one vector and broadcast with cross-lane permutes, two of them spilled, at half the
# float rate.  In the portable SSE2 build the float tile needs 24 of the 16 xmm registers
# and spills; smaller tiles (4 x 8 to 8 x 8) measured no faster there, since SSE2's
# mulps + addps without a broadcast load leave it front-end bound anyway.

cdef enum:
    MR = 4
    NR_F32 = 24
    NR_F64 = 12

# The pure-Cython rung's whole kernel source, included by its three builds:
# src/_cython_kernels.pyx (baseline x86-64), src/_cython_kernels_avx2.pyx (-mavx2 -mfma)
# and src/_cython_kernels_avx512.pyx (-mavx512f ...), each after its GEMM tile's size.
cimport numpy as cnp
from cython cimport floating
from cython.parallel cimport prange, threadid
from libc.stdlib cimport free, malloc

import numpy as np

cnp.import_array()

include "cython_layout.pxi"
include "cython_elementwise.pxi"
include "cython_sum.pxi"
include "cython_gemm.pxi"

# cython: boundscheck=True, wraparound=True
# fastops' compiled kernel API: the one checking layer (contract.pxi) in front of the typed
# entries of each kernel family (elementwise, activations, reductions, linalg, nn, counts,
# rows, losses, updates: one .pxi each), which hand pointers and strides to the C kernels
# (src/fo_*.c) and release the GIL.  One extension module, so the
# families share one set of settings and one policy; each .pxi holds one family.
import operator

import numpy as np

cimport numpy as cnp
from libc.math cimport INFINITY, isfinite

from fo_kernels cimport *

cnp.import_array()


def dask_dispatch(str fn, *args, **kwargs):
    """The dask version of a kernel: lazy, chunk by chunk (fastops._dask, imported only when
    a dask array arrives, so importing fastops never imports dask)."""
    from fastops import _dask
    return getattr(_dask, fn)(*args, **kwargs)


include "settings.pxi"
include "contract.pxi"
include "blas_threads.pxi"
include "cython_tier.pxi"
include "elementwise.pxi"
include "activations.pxi"
include "reductions.pxi"
include "matmul_backends.pxi"
include "linalg.pxi"
include "nn.pxi"
include "counts.pxi"
include "rows.pxi"
include "losses.pxi"
include "updates.pxi"

"""fastops: small compiled tensor kernels and a Keras-compatible trainer built on them.

The kernel API lives here (elementwise, sum, matmul, dot: NumPy's semantics) and in
fastops.nn (the fused kernels of training); the rungs of the ladder are fastops.naive (the
book's Python loops), fastops.cython (pure Cython) and these SIMD C kernels, with BLAS as
a matmul backend.  The model API follows Keras: fastops.models, layers, losses, metrics,
optimizers, callbacks, regularizers, datasets, saving.
"""
from ._config import (config_context, cpu_simd, get_backend, get_num_threads, get_simd,
                      set_backend, set_num_threads, set_simd)
from ._info import show_config
from ._kernels import (add, bias_add, bias_add_relu, divide, dot, matmul, maximum, minimum,
                       multiply, relu, relu_backward, subtract, sum)
from . import cython, naive, nn  # the rungs beside the SIMD kernels, and the nn kernels
from . import _blas_threads

# NumPy's OpenBLAS (and SciPy's, if loaded) run their threaded jobs on fastops' pool, so
# neither library's idle workers spin against the other's next call
_blas_threads.install()

__version__ = "0.2.0"

# Keras' public module map; the model API builds on the kernel API above and nothing else
from . import (activations, callbacks, config, datasets, initializers, layers,  # noqa: E402
               losses, metrics, models, optimizers, regularizers, saving, utils)
from .layers import Input  # noqa: E402
from .models import Sequential  # noqa: E402

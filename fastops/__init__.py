"""fastops: small compiled tensor kernels and a Keras-compatible MLP trainer built on them."""
from ._config import (config_context, cpu_simd, get_backend, get_num_threads, get_simd,
                      set_backend, set_num_threads, set_simd)
from ._elementwise import (add, bias_add, bias_add_relu, divide, maximum, minimum, multiply,
                           relu, relu_backward, subtract, sum)
from .linalg import dot, matmul

from .nnops import *  # noqa: F401,F403  (softmax, softmax_crossentropy, rmsprop_update, ...)

__version__ = "0.1.0"
from . import (activations, callbacks, config, initializers, layers, losses,  # noqa: E402
               metrics, models, optimizers, regularizers, saving, utils)  # (Keras' module map)
from .layers import Input  # noqa: E402
from .models import Sequential  # noqa: E402

"""What Dropout(0.5) and l2 add to a chapter-2 training step, kernel by kernel (issue 8): the
dropout forward and backward passes over the 128x512 hidden activations, and the RMSprop
updates of both kernels with and without l2.  Minimum of many calls, so a loaded machine
disturbs it less than an epoch timing (benchmarks/model_figures.py reg).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/regularization_cost.py
"""

import numpy as np

import fastops
from fastops import nn
from _timing import call_times


def best_us(fn, calls=400):
    return min(call_times(fn, calls=calls)) * 1e6


def main():
    rng = np.random.default_rng(0)
    w1 = rng.standard_normal((784, 512), dtype=np.float32)
    w2 = rng.standard_normal((512, 10), dtype=np.float32)
    grads = [w.copy() for w in (w1, w2)]
    slots = [np.abs(w) for w in (w1, w2)]
    h = rng.standard_normal((128, 512), dtype=np.float32)
    out = np.empty_like(h)

    def updates(l2):
        return sum(best_us(lambda w=w, g=g, v=v: nn.rmsprop_update(w, g, v, learning_rate=1e-9,
                                                                    l2=l2))
                   for w, g, v in zip((w1, w2), grads, slots))

    for threads in (2, 1):
        with fastops.config_context(num_threads=threads):
            plain, with_l2 = updates(0.0), updates(0.001)
            drop = (best_us(lambda: nn.dropout(h, 0.5, 7, out=out))
                    + best_us(lambda: nn.dropout_backward(h, 0.5, 7, out=out)))
            print(f"{threads} thread(s): l2 adds {with_l2 - plain:.1f} us per step (updates "
                  f"{plain:.1f} -> {with_l2:.1f} us); dropout forward + backward {drop:.1f} us")


if __name__ == "__main__":
    main()

"""Weight initializers with Keras 3's names, defaults and configs.

An initializer is called as ``init(shape, dtype, rng=None)``.  Values are drawn in float64
and then cast, so one seed gives the same weights in float32 and float64 models.  A seeded
initializer (``seed=...``) draws from its own generator; an unseeded one draws from `rng`,
which a model passes from its seed (so ``Sequential(seed=...)`` fixes every weight), or from
a fresh generator seeded by NumPy's global RNG when used alone.
"""
import numpy as np

from ._registry import constructor_config, register, resolve, serialize

__all__ = ["Initializer", "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform",
           "TruncatedNormal", "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal",
           "LecunUniform", "LecunNormal", "Orthogonal", "get", "serialize", "deserialize"]


class Initializer:
    """Base class: ``__call__(shape, dtype, rng=None)`` returns a new array."""
    keras_module = "keras.initializers"

    def __init__(self, seed=None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                                 or seed < 0):
            raise ValueError(f"{type(self).__name__}: seed must be a non-negative int or None, "
                             f"got {seed!r}")
        self.seed = None if seed is None else int(seed)

    def _rng(self, rng):
        if self.seed is not None:
            return np.random.default_rng(self.seed)
        return rng if rng is not None else np.random.default_rng(np.random.randint(2**31 - 1))

    def __call__(self, shape, dtype="float32", rng=None):
        return self._draw(tuple(int(s) for s in shape), self._rng(rng)).astype(dtype)

    def get_config(self):
        return constructor_config(self)

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("input_axes", "output_axes"):  # Keras 3.12+ fan axes: only the default
            if config.get(key) is None:
                config.pop(key, None)
        return cls(**config)

    def __repr__(self):
        return f"{type(self).__name__}({self.get_config()})"


def _fans(shape):
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


def _truncated(rng, mean, std, shape):
    """Normal draws redrawn outside mean +- 2 std (Keras' truncated normal)."""
    values = rng.normal(mean, std, size=shape)
    bad = np.abs(values - mean) > 2 * std
    while bad.any():
        values[bad] = rng.normal(mean, std, size=int(bad.sum()))
        bad = np.abs(values - mean) > 2 * std
    return values


class _Constant(Initializer):
    fill = 0.0

    def __init__(self):
        super().__init__(None)

    def _draw(self, shape, rng):
        return np.full(shape, self.fill)


@register("initializer", "zeros", "zero")
class Zeros(_Constant):
    """All zeros."""


@register("initializer", "ones", "one")
class Ones(_Constant):
    """All ones."""
    fill = 1.0


@register("initializer", "constant")
class Constant(Initializer):
    """All `value`."""

    def __init__(self, value=0.0):
        super().__init__(None)
        self.value = float(value)

    def _draw(self, shape, rng):
        return np.full(shape, self.value)


@register("initializer", "random_normal")
class RandomNormal(Initializer):
    """Normal(mean, stddev) draws (Keras default stddev 0.05)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def _draw(self, shape, rng):
        return rng.normal(self.mean, self.stddev, size=shape)


@register("initializer", "truncated_normal")
class TruncatedNormal(RandomNormal):
    """Normal(mean, stddev) draws, redrawn when more than 2 stddev from the mean."""

    def _draw(self, shape, rng):
        return _truncated(rng, self.mean, self.stddev, shape)


@register("initializer", "random_uniform", "uniform")
class RandomUniform(Initializer):
    """Uniform(minval, maxval) draws (Keras default [-0.05, 0.05])."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = float(minval), float(maxval)

    def _draw(self, shape, rng):
        return rng.uniform(self.minval, self.maxval, size=shape)


class _VarianceScaling(Initializer):
    scale_of = None      # fan_in, fan_out -> variance scale
    distribution = None  # 'uniform' or 'truncated_normal'

    def _draw(self, shape, rng):
        scale = type(self).scale_of(*_fans(shape))
        if self.distribution == "uniform":
            limit = np.sqrt(3.0 * scale)
            return rng.uniform(-limit, limit, size=shape)
        # stddev of a unit normal truncated at +-2 stddev is 0.8796...: Keras corrects for it
        return _truncated(rng, 0.0, np.sqrt(scale) / 0.87962566103423978, shape)


def _scaling(name, keras_name, scale_of, distribution, doc):
    cls = type(keras_name, (_VarianceScaling,), {"scale_of": staticmethod(scale_of),
                                                 "distribution": distribution, "__doc__": doc,
                                                 "__module__": __name__})
    return register("initializer", name)(cls)


GlorotUniform = _scaling("glorot_uniform", "GlorotUniform", lambda i, o: 2.0 / (i + o), "uniform",
                         "Uniform in +-sqrt(6 / (fan_in + fan_out)) (Keras' default kernel init).")
GlorotNormal = _scaling("glorot_normal", "GlorotNormal", lambda i, o: 2.0 / (i + o),
                        "truncated_normal", "Truncated normal, stddev sqrt(2 / (fan_in + fan_out)).")
HeUniform = _scaling("he_uniform", "HeUniform", lambda i, o: 2.0 / i, "uniform",
                     "Uniform in +-sqrt(6 / fan_in).")
HeNormal = _scaling("he_normal", "HeNormal", lambda i, o: 2.0 / i, "truncated_normal",
                    "Truncated normal, stddev sqrt(2 / fan_in).")
LecunUniform = _scaling("lecun_uniform", "LecunUniform", lambda i, o: 1.0 / i, "uniform",
                        "Uniform in +-sqrt(3 / fan_in).")
LecunNormal = _scaling("lecun_normal", "LecunNormal", lambda i, o: 1.0 / i, "truncated_normal",
                       "Truncated normal, stddev sqrt(1 / fan_in).")


@register("initializer", "orthogonal")
class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times `gain`, from the QR decomposition of normal draws."""

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = float(gain)

    def _draw(self, shape, rng):
        if len(shape) < 2:
            raise ValueError(f"Orthogonal needs a shape of at least 2 dims, got {shape}")
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        flat = rng.normal(0.0, 1.0, size=(max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(flat)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return self.gain * q.reshape(shape)


def get(identifier):
    """An Initializer from a Keras name ('glorot_uniform', 'random_normal', ...), a config dict,
    or an Initializer (returned as is)."""
    if identifier is None:
        raise ValueError("initializer must not be None")
    return resolve("initializer", identifier, Initializer)


def deserialize(config):
    return get(config)


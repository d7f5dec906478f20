"""Optimizers with Keras 3's names, defaults, formulas and configs; each step is one fused
fastops.nn kernel per variable, with the variable's L1/L2 penalty folded in.

Hyper-parameters are checked in ``__init__`` (and when `learning_rate` is set, e.g. between
epochs by a callback).  Slots (momentum, velocity, ...) are created the first time a variable
is seen and kept for that variable (keyed by the variable, never by position), so adding or
reordering variables never resets another variable's state.
"""
import numpy as np

from fastops import nn

from ._registry import constructor_config, register, resolve, serialize

__all__ = ["Optimizer", "SGD", "RMSprop", "Adagrad", "Adam", "get", "serialize", "deserialize"]

# Keras 3 config keys fastops accepts only at their defaults.
_UNSUPPORTED = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None,
                "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
                "ema_overwrite_frequency": None, "loss_scale_factor": None,
                "gradient_accumulation_steps": None}


def _number(cls, name, value, low=None, high=None, low_open=False):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not np.isfinite(value):
        raise ValueError(f"{cls}: `{name}` must be a finite number, got {value!r}")
    value = float(value)
    if low is not None and (value < low or (low_open and value == low)):
        raise ValueError(f"{cls}: `{name}` must be {'>' if low_open else '>='} {low}, "
                         f"got {value!r}")
    if high is not None and value > high:
        raise ValueError(f"{cls}: `{name}` must be <= {high}, got {value!r}")
    return value


class Optimizer:
    """Base class: hyper-parameters, per-variable slots and `apply`.

    Attributes:
        learning_rate: float, settable (validated) at any time between steps.
        iterations: number of steps applied.
    """
    keras_module = "keras.optimizers"
    default_name = None

    def __init__(self, learning_rate, name=None, **kwargs):
        cls = type(self).__name__
        for key, value in kwargs.items():
            if key not in _UNSUPPORTED:
                raise ValueError(f"Argument(s) not recognized: {kwargs}")
            if value != _UNSUPPORTED[key]:
                raise ValueError(f"{cls}: `{key}` is not supported by fastops (got {value!r})")
        self.name = name or self.default_name
        self.learning_rate = learning_rate
        self.iterations = 0
        self._slots = {}   # id(variable) -> (variable, {slot name: array})

    @property
    def learning_rate(self):
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self._learning_rate = _number(type(self).__name__, "learning_rate", value, 0.0,
                                      low_open=True)

    def slots_for(self, variable):
        """The slots of `variable`, created (zeros, or Adagrad's initial value) on first use."""
        entry = self._slots.get(id(variable))
        if entry is None or entry[0] is not variable:
            entry = (variable, self._make_slots(variable))
            self._slots[id(variable)] = entry
        return entry[1]

    def _make_slots(self, variable):
        return {}

    def apply(self, variables, gradients, regularizers=None):
        """One step: update every variable in place from its gradient (an array, or a pair
        (a, b) whose product a @ b the update kernel computes block by block); returns the
        summed penalty of the regularizers (one per variable, or None) before the step."""
        self.iterations += 1
        penalty = 0.0
        regularizers = regularizers or [None] * len(variables)
        for v, g, reg in zip(variables, gradients, regularizers):
            l1, l2 = (reg.l1, reg.l2) if reg is not None else (0.0, 0.0)
            penalty += self._update(v, g, self.slots_for(v), l1, l2)
        return penalty

    def slot_names(self):
        """Names of the slots one variable gets, in Keras' order of optimizer variables."""
        return list(self._make_slots(np.zeros(1)))

    def _hyper(self):
        return constructor_config(self, skip=("learning_rate",))

    def get_config(self):
        return {"name": self.name, "learning_rate": self.learning_rate, **_UNSUPPORTED,
                **self._hyper()}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key, default in _UNSUPPORTED.items():
            if config.get(key, default) == default:
                config.pop(key, None)
        if isinstance(config.get("learning_rate"), dict):
            raise ValueError("learning-rate schedules are not supported by fastops")
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._hyper().items())
        return f"{type(self).__name__}(learning_rate={self.learning_rate!r}, {args})"


@register("optimizer", "sgd")
class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum.

    Equations::

        m = momentum * m - lr * g
        w += m                        (nesterov: w += momentum * m - lr * g)

    Example:
        >>> SGD(learning_rate=0.01, momentum=0.9)
    """
    default_name = "SGD"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.momentum = _number("SGD", "momentum", momentum, 0.0, 1.0)
        self.nesterov = bool(nesterov)

    def _make_slots(self, v):
        return {"momentum": np.zeros_like(v)} if self.momentum > 0 else {}

    def _update(self, v, g, s, l1, l2):
        return nn.sgd_update(v, g, s.get("momentum"), self.learning_rate, self.momentum,
                             self.nesterov, l1=l1, l2=l2)


@register("optimizer", "rmsprop")
class RMSprop(Optimizer):
    """RMSprop as Keras applies it.

    Equations::

        v = rho * v + (1 - rho) * g**2
        w -= lr * g / sqrt(v + epsilon)     (centered: v - mean_g**2 + epsilon; momentum: via m)
    """
    default_name = "rmsprop"

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = _number("RMSprop", "rho", rho, 0.0, 1.0)
        self.momentum = _number("RMSprop", "momentum", momentum, 0.0, 1.0)
        self.epsilon = _number("RMSprop", "epsilon", epsilon, 0.0)
        self.centered = bool(centered)

    def _make_slots(self, v):
        s = {"velocity": np.zeros_like(v)}
        if self.momentum > 0:
            s["momentum"] = np.zeros_like(v)
        if self.centered:
            s["average_gradient"] = np.zeros_like(v)
        return s

    def _update(self, v, g, s, l1, l2):
        return nn.rmsprop_update(v, g, s["velocity"], self.learning_rate, self.rho, self.epsilon,
                                 self.momentum, s.get("momentum"), s.get("average_gradient"),
                                 l1=l1, l2=l2)


@register("optimizer", "adagrad")
class Adagrad(Optimizer):
    """Adagrad.

    Equations::

        acc += g**2
        w -= lr * g / sqrt(acc + epsilon)
    """
    default_name = "adagrad"

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = _number("Adagrad", "initial_accumulator_value",
                                                 initial_accumulator_value, 0.0)
        self.epsilon = _number("Adagrad", "epsilon", epsilon, 0.0)

    def _make_slots(self, v):
        return {"accumulator": np.full_like(v, self.initial_accumulator_value)}

    def _update(self, v, g, s, l1, l2):
        return nn.adagrad_update(v, g, s["accumulator"], self.learning_rate, self.epsilon,
                                 l1=l1, l2=l2)


@register("optimizer", "adam")
class Adam(Optimizer):
    """Adam (optionally AMSGrad).

    Equations::

        alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        m += (g - m) * (1 - beta_1);  v += (g**2 - v) * (1 - beta_2)
        w -= alpha * m / (sqrt(v) + epsilon)
    """
    default_name = "adam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _number("Adam", "beta_1", beta_1, 0.0, 1.0)
        self.beta_2 = _number("Adam", "beta_2", beta_2, 0.0, 1.0)
        self.epsilon = _number("Adam", "epsilon", epsilon, 0.0)
        self.amsgrad = bool(amsgrad)

    def _make_slots(self, v):
        s = {"momentum": np.zeros_like(v), "velocity": np.zeros_like(v)}
        if self.amsgrad:
            s["velocity_hat"] = np.zeros_like(v)
        return s

    def _update(self, v, g, s, l1, l2):
        return nn.adam_update(v, g, s["momentum"], s["velocity"], self.iterations,
                              self.learning_rate, self.beta_1, self.beta_2, self.epsilon,
                              s.get("velocity_hat"), l1=l1, l2=l2)


def get(identifier):
    """An Optimizer from a name ('sgd', 'rmsprop', 'adagrad', 'adam'; Keras defaults), a config
    dict, or an Optimizer instance (returned as is)."""
    return resolve("optimizer", identifier, Optimizer)


def deserialize(config):
    return get(config)

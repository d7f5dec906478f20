"""Optimizers with Keras names, defaults and formulas, each step one fused kernel pass.

Sorted in order of increasing complexity.  An optimizer is its hyper-parameters,
slots created lazily for each variable (`build`), and `apply(variables, gradients)`.
"""
import numpy as np

from . import nn as nnops
from ._registry import resolve


class Optimizer:
    name = None

    def __init__(self, learning_rate, **kwargs):
        kwargs.pop("name", None)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float, np.floating)) \
                or not learning_rate > 0:
            raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}")
        self.learning_rate = float(learning_rate)
        self.iterations = 0
        self._slots = None

    def build(self, variables):
        """Create the slots (zeros like each variable)."""
        self._slots = [self._make_slots(v) for v in variables]

    def _make_slots(self, v):
        return {}

    def apply(self, variables, gradients):
        """One step: update every variable in place from its gradient."""
        if self._slots is None or len(self._slots) != len(variables):
            self.build(variables)
        self.iterations += 1
        for v, g, s in zip(variables, gradients, self._slots):
            self._update(v, g, s)

    def get_config(self):
        return {k: v for k, v in vars(self).items() if not k.startswith("_") and k != "iterations"}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _fraction(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not 0 <= value <= 1:
        raise ValueError(f"`{name}` must be a float between [0, 1], got {value!r}")
    return float(value)


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum.

    Equations::

        m = momentum * m - lr * g
        w += m                        (nesterov: w += momentum * m - lr * g)
    """
    name = "sgd"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.momentum = _fraction("momentum", momentum)
        self.nesterov = bool(nesterov)

    def _make_slots(self, v):
        return {"momentum": np.zeros_like(v)} if self.momentum > 0 else {}

    def _update(self, v, g, s):
        nnops.sgd_update(v, g, s.get("momentum"), self.learning_rate, self.momentum, self.nesterov)


class RMSprop(Optimizer):
    """RMSprop as Keras applies it.

    Equations::

        v = rho * v + (1 - rho) * g**2
        w -= lr * g / sqrt(v + epsilon)     (centered: v - mean_g**2 + epsilon; momentum: via m)
    """
    name = "rmsprop"

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = _fraction("rho", rho)
        self.momentum = _fraction("momentum", momentum)
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float, np.floating)) or epsilon < 0:
            raise ValueError(f"epsilon must be a non-negative number, got {epsilon!r}")
        self.epsilon = float(epsilon)
        self.centered = bool(centered)

    def _make_slots(self, v):
        s = {"velocity": np.zeros_like(v)}
        if self.momentum > 0:
            s["momentum"] = np.zeros_like(v)
        if self.centered:
            s["average_gradient"] = np.zeros_like(v)
        return s

    def _update(self, v, g, s):
        nnops.rmsprop_update(v, g, s["velocity"], self.learning_rate, self.rho, self.epsilon,
                             self.momentum, s.get("momentum"), s.get("average_gradient"))


class Adagrad(Optimizer):
    """Adagrad.

    Equations::

        acc += g**2
        w -= lr * g / sqrt(acc + epsilon)
    """
    name = "adagrad"

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        if not initial_accumulator_value >= 0:
            raise ValueError(f"initial_accumulator_value must be >= 0, got {initial_accumulator_value!r}")
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = float(epsilon)

    def _make_slots(self, v):
        return {"accumulator": np.full_like(v, self.initial_accumulator_value)}

    def _update(self, v, g, s):
        nnops.adagrad_update(v, g, s["accumulator"], self.learning_rate, self.epsilon)


class Adam(Optimizer):
    """Adam (optionally AMSGrad).

    Equations::

        alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        m += (g - m) * (1 - beta_1);  v += (g**2 - v) * (1 - beta_2)
        w -= alpha * m / (sqrt(v) + epsilon)
    """
    name = "adam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _fraction("beta_1", beta_1)
        self.beta_2 = _fraction("beta_2", beta_2)
        self.epsilon = float(epsilon)
        self.amsgrad = bool(amsgrad)

    def _make_slots(self, v):
        s = {"m": np.zeros_like(v), "v": np.zeros_like(v)}
        if self.amsgrad:
            s["vhat"] = np.zeros_like(v)
        return s

    def _update(self, v, g, s):
        nnops.adam_update(v, g, s["m"], s["v"], self.iterations, self.learning_rate, self.beta_1,
                          self.beta_2, self.epsilon, s.get("vhat"))


_BY_NAME = {cls.name: cls for cls in (SGD, RMSprop, Adagrad, Adam)}


def get(identifier):
    """An Optimizer from a name ('sgd', 'rmsprop', 'adagrad', 'adam', Keras defaults) or an instance."""
    return resolve("optimizer", identifier, Optimizer, _BY_NAME)

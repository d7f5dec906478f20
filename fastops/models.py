"""Sequential: the Keras model API over Dense layers, trained with fused fastops kernels.

One training step is: gather the batch (np.take into a preallocated buffer),
forward through each layer (matmul, then bias + activation in one kernel), the
last layer's logits into the fused softmax + cross-entropy kernel (loss, gradient
and correct count in one pass), backward (two matmuls on transposed views and a
column sum per layer, relu backward in place), then one optimizer kernel per
parameter.  All buffers are allocated once per batch size and reused.

Randomness: `seed` fixes weight initialisation and shuffling, so the same seed
gives the same weights and history on the same machine and thread count.
Without a seed one is drawn from NumPy's global RNG (np.random.seed makes runs
repeatable, as with Keras).
"""
import contextlib
import math
import os
import sys
import warnings

import numpy as np

import fastops

from . import layers as layers_mod
from . import losses as losses_mod
from . import metrics as metrics_mod
from . import nn as nnops
from . import optimizers as optimizers_mod
from .progbar import Progbar


def _thread_policy():
    """With backend 'blas', run fastops' own kernels on one thread during the loop.

    OpenBLAS (pthreads) and fastops (OpenMP) each keep a team that spins after a
    call; alternating between two spinning teams on the same cores starves both
    (measured here: an epoch 3-10x slower, worst under load).  One fastops thread
    beside BLAS' team is what the NumPy loop does too (its ufuncs are serial).
    """
    if fastops.get_backend() == "blas" and fastops.get_num_threads() > 1:
        return fastops.config_context(num_threads=1)
    return contextlib.nullcontext()


class History:
    """What fit returns: `history` maps 'loss', 'accuracy', 'val_loss', ... to per-epoch lists."""

    def __init__(self):
        self.history = {}
        self.epoch = []
        self.params = {}

    def _append(self, epoch, logs):
        self.epoch.append(epoch)
        for k, v in logs.items():
            self.history.setdefault(k, []).append(v)

    def __repr__(self):
        return f"<History epochs={len(self.epoch)} keys={list(self.history)}>"


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _verbose(value):
    if value == "auto":
        return 1
    if value not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto', got {value!r}")
    return int(value)


class Sequential:
    """A linear stack of Dense layers.

    Parameters
    ----------
    layers : list of Dense, optional
    name : str, optional
    seed : int, optional
        Seeds weight initialisation and shuffling (a fastops addition to the Keras API).

    Examples
    --------
    >>> network = models.Sequential()
    >>> network.add(layers.Dense(512, activation='relu', input_shape=(28 * 28,)))
    >>> network.add(layers.Dense(10, activation='softmax'))
    >>> network.compile(optimizer='rmsprop', loss='categorical_crossentropy', metrics=['accuracy'])
    """

    def __init__(self, layers=None, name=None, seed=None):
        self.name = name or "sequential"
        if seed is None:
            seed = int(np.random.randint(0, 2**31 - 1))
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative int or None, got {seed!r}")
        self.seed = int(seed)
        init_seq, shuffle_seq = np.random.SeedSequence(self.seed).spawn(2)
        self._init_rng = np.random.default_rng(init_seq)
        self._shuffle_rng = np.random.default_rng(shuffle_seq)
        self.layers = []
        self.dtype = None
        self.optimizer = self.loss = None
        self.metrics = []
        self.stop_training = False
        self._buffers = {}
        for layer in layers or ():
            self.add(layer)

    # ---- building ----

    def add(self, layer):
        """Append a layer; the first one may carry input_shape."""
        if not isinstance(layer, layers_mod.Dense):
            raise TypeError(f"Sequential.add: expected a fastops.layers.Dense, got {type(layer).__name__}")
        if self.layers and layer.input_shape is not None:
            raise ValueError("Sequential.add: only the first layer may set input_shape")
        if self.built:
            raise ValueError("Sequential.add: the model is already built; create a new model")
        self.layers.append(layer)

    @property
    def built(self):
        return bool(self.layers) and self.layers[0].built

    @property
    def input_dim(self):
        if self.built:
            return self.layers[0].kernel.shape[0]
        shape = self.layers[0].input_shape if self.layers else None
        return shape[0] if shape else None

    def build(self, input_shape=None, dtype=np.float32):
        """Create all weights for inputs of shape (None, features)."""
        if not self.layers:
            raise ValueError("Sequential.build: the model has no layers")
        dim = input_shape[-1] if input_shape is not None else self.input_dim
        if dim is None:
            raise ValueError("Sequential.build: give input_shape to the first layer or to build()")
        self.dtype = np.dtype(dtype)
        for layer in self.layers:
            layer.build(dim, self.dtype, self._init_rng)
            dim = layer.units
        self._buffers.clear()

    @property
    def weights(self):
        return [w for layer in self.layers for w in layer.weights]

    @property
    def _gradients(self):
        return [g for layer in self.layers for g in layer.gradients]

    def compile(self, optimizer="rmsprop", loss=None, metrics=None):
        """Set optimizer (name or object), loss (name or object) and metrics (['accuracy'])."""
        if loss is None:
            raise ValueError("compile: a loss is required, e.g. loss='categorical_crossentropy'")
        self.optimizer = optimizers_mod.get(optimizer)
        self.loss = losses_mod.get(loss)
        if metrics is not None and (isinstance(metrics, str) or not isinstance(metrics, (list, tuple))):
            raise TypeError(f"compile: metrics must be a list of names, got {metrics!r}")
        self.metrics = [metrics_mod.get(m) for m in metrics or ()]
        if not self.layers:
            raise ValueError("compile: the model has no layers")
        self.loss.check_output(self.layers[-1].activation.name)

    # ---- input checks ----

    def _check_compiled(self, what):
        if self.loss is None:
            raise ValueError(f"You must compile the model before calling {what}(): "
                             f"model.compile(optimizer=..., loss=...)")

    def _prepare_x(self, x, name):
        if not isinstance(x, np.ndarray):
            x = np.asarray(x)
        if x.dtype.kind not in "fiub":
            raise TypeError(f"{name} must be a numeric array, got dtype {x.dtype}")
        if x.ndim != 2:
            raise ValueError(f"{name} must be 2-D (samples, features), got shape {x.shape}; "
                             f"flatten it first, e.g. {name}.reshape(len({name}), -1)")
        dim = self.input_dim
        if dim is not None and x.shape[1] != dim:
            raise ValueError(f"{name} has {x.shape[1]} features per sample (shape {x.shape}) but the "
                             f"model expects input_shape=({dim},)")
        dtype = self.dtype or (np.dtype(np.float64) if x.dtype == np.float64 else np.dtype(np.float32))
        if x.dtype != dtype or not x.flags.c_contiguous:
            x = np.ascontiguousarray(x, dtype=dtype)
        if x.shape[0] == 0:
            raise ValueError(f"{name} is empty (shape {x.shape})")
        if not nnops.all_finite(x):
            raise ValueError(f"{name} contains NaN or Inf")
        return x

    def _prepare_y(self, y, n, name, xname):
        if not isinstance(y, np.ndarray):
            y = np.asarray(y)
        if y.shape[:1] != (n,):
            raise ValueError(f"{xname} and {name} have different lengths: {n} samples in {xname}, "
                             f"{y.shape[0] if y.ndim else 'a scalar'} in {name}")
        units = self.layers[-1].units
        if self.loss.sparse:
            if y.dtype.kind not in "iu":
                raise TypeError(f"{name}: sparse_categorical_crossentropy needs integer labels, "
                                f"got dtype {y.dtype}")
            if y.ndim == 2 and y.shape[1] == 1:
                y = y[:, 0]
            if y.ndim != 1:
                raise ValueError(f"{name}: sparse labels must have shape ({n},), got {y.shape}")
            y = np.ascontiguousarray(y, dtype=np.int64)
            lo, hi = (int(y.min()), int(y.max())) if y.size else (0, 0)
            if lo < 0 or hi >= units:
                raise ValueError(f"{name}: labels must lie in [0, {units}) for the last layer's "
                                 f"{units} units, found {lo if lo < 0 else hi}")
            return y
        if y.ndim != 2 or y.shape[1] != units:
            hint = (" (integer labels: use fastops.utils.to_categorical or "
                    "loss='sparse_categorical_crossentropy')" if y.ndim == 1 else "")
            raise ValueError(f"{name}: {self.loss.name} needs one-hot targets of shape ({n}, {units}) "
                             f"for the last layer's {units} units, got shape {y.shape}{hint}")
        if y.dtype.kind not in "fiub":
            raise TypeError(f"{name} must be numeric, got dtype {y.dtype}")
        y = np.ascontiguousarray(y, dtype=self.dtype)
        if not nnops.all_finite(y):
            raise ValueError(f"{name} contains NaN or Inf")
        return y

    def _prepare(self, x, y, xname="x", yname="y"):
        if x is None or y is None:
            raise ValueError(f"{xname} and {yname} are required")
        x = self._prepare_x(x, xname)
        if not self.built:
            self.build((None, x.shape[1]), x.dtype)
        return x, self._prepare_y(y, x.shape[0], yname, xname)

    # ---- per-batch buffers ----

    def _get_buffers(self, batch, train):
        """Activation (and gradient) buffers for `batch` rows, allocated once and reused."""
        key = (batch, train)
        buf = self._buffers.get(key)
        if buf is None:
            buf = {"acts": [np.empty((batch, l.units), self.dtype) for l in self.layers]}
            if train:
                buf["grads"] = [np.empty((batch, l.units), self.dtype) for l in self.layers]
            self._buffers[key] = buf
        return buf

    @staticmethod
    def _rows(buf, m):
        """The first m rows of each buffer (contiguous views), cached for the last, partial batch."""
        views = buf.setdefault("views", {})
        v = views.get(m)
        if v is None:
            v = views[m] = {k: [a[:m] for a in arrays] for k, arrays in buf.items() if k != "views"}
        return v

    # ---- steps ----

    def _forward(self, xb, acts, last_activate):
        h = xb
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            h = layer.forward(h, acts[i], activate=last_activate or i != last)
        return h

    def _backprop(self, xb, yb, acts, grads):
        """Forward and backward on one batch: fills every layer's d_kernel/d_bias."""
        last = len(self.layers) - 1
        logits = self._forward(xb, acts, last_activate=False)
        loss, _, correct = self.loss(logits, yb, grad_out=grads[last])
        for i in range(last, -1, -1):
            self.layers[i].backward(acts[i - 1] if i else xb, acts[i], grads[i],
                                    dx=grads[i - 1] if i else None, activate=i != last)
        return loss, correct

    def _train_step(self, xb, yb, acts, grads):
        loss, correct = self._backprop(xb, yb, acts, grads)
        self.optimizer.apply(self.weights, self._gradients)
        return loss, correct

    def _batches(self, n, batch_size):
        return [(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]

    # ---- public API ----

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", validation_split=0.0,
            validation_data=None, shuffle=True):
        """Train for `epochs` passes over (x, y); returns a History.

        Parameters follow Keras: batch_size None means 32, the last partial batch is kept,
        validation_split takes the last fraction of the data before shuffling and
        validation_data (x_val, y_val) overrides it.
        """
        self._check_compiled("fit")
        batch_size = 32 if batch_size is None else _positive_int("batch_size", batch_size)
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}")
        verbose = _verbose(verbose)
        if not (isinstance(validation_split, (int, float)) and 0 <= validation_split < 1):
            raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
        x, y = self._prepare(x, y)
        val = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ValueError("validation_data must be a tuple (x_val, y_val)")
            val = self._prepare(*validation_data, xname="validation_data[0]", yname="validation_data[1]")
        elif validation_split:
            split = int(x.shape[0] * (1.0 - validation_split))
            if split == 0 or split == x.shape[0]:
                raise ValueError(f"validation_split={validation_split} leaves an empty training or "
                                 f"validation set for {x.shape[0]} samples")
            x, y, val = x[:split], y[:split], (x[split:], y[split:])

        n = x.shape[0]
        batches = self._batches(n, batch_size)
        full = min(batch_size, n)
        buf = self._get_buffers(full, train=True)
        if shuffle:  # gather buffers for the shuffled batches; y's shape follows the loss
            for key, arr in (("x", x), ("y", y)):
                shape = (full,) + arr.shape[1:]
                old = buf.get(key)
                if old is None or old.shape != shape or old.dtype != arr.dtype:
                    buf[key] = np.empty(shape, arr.dtype)
                    buf.pop("views", None)
        history = History()
        history.params = {"verbose": verbose, "epochs": epochs, "steps": len(batches)}
        self.history = history
        self.stop_training = False
        out = sys.stdout
        with _thread_policy():
            self._fit_loop(x, y, val, batch_size, batches, full, buf, shuffle, epochs, verbose,
                           history, out)
        return history

    def _fit_loop(self, x, y, val, batch_size, batches, full, buf, shuffle, epochs, verbose,
                  history, out):
        n = x.shape[0]
        acc_key = self.metrics[0] if self.metrics else None
        if shuffle:
            xb_full, yb_full = buf["x"], buf["y"]
        for epoch in range(epochs):
            if verbose:
                out.write(f"Epoch {epoch + 1}/{epochs}\n")
            bar = Progbar(len(batches), verbose=verbose, stream=out)
            order = self._shuffle_rng.permutation(n) if shuffle else None
            loss_sum, correct_sum, seen = 0.0, 0, 0
            for step, (s, e) in enumerate(batches):
                m = e - s
                rows = buf if m == full else self._rows(buf, m)
                if shuffle:
                    idx = order[s:e]
                    xb = np.take(x, idx, axis=0, out=xb_full[:m] if m != full else xb_full, mode="clip")
                    yb = np.take(y, idx, axis=0, out=yb_full[:m] if m != full else yb_full, mode="clip")
                else:
                    xb, yb = x[s:e], y[s:e]
                loss, correct = self._train_step(xb, yb, rows["acts"], rows["grads"])
                if not math.isfinite(loss):
                    msg = (f"fit: the loss became {loss} at epoch {epoch + 1}, step {step + 1}/"
                           f"{len(batches)}; training stopped (lower the learning rate or check the data)")
                    if verbose:
                        out.write("\n" + msg + "\n")
                    warnings.warn(msg, RuntimeWarning, stacklevel=3)
                    self.stop_training = True
                    loss_sum += loss * m
                    seen += m
                    break
                loss_sum += loss * m
                correct_sum += correct
                seen += m
                if verbose == 1:
                    logs = [("loss", loss_sum / seen)]
                    if acc_key:
                        logs.append((acc_key, correct_sum / seen))
                    bar.update(step + 1, logs, finalize=False)
            logs = {"loss": loss_sum / seen}
            if acc_key:
                logs[acc_key] = correct_sum / seen
            if val is not None and not self.stop_training:
                vl, vc = self._evaluate_arrays(val[0], val[1], batch_size)
                logs["val_loss"] = vl
                if acc_key:
                    logs["val_" + acc_key] = vc
            if verbose:
                bar.update(step + 1, list(logs.items()), finalize=True)
            history._append(epoch, logs)
            if self.stop_training:
                break

    def _evaluate_arrays(self, x, y, batch_size, bar=None):
        loss_sum, correct_sum = 0.0, 0
        batches = self._batches(x.shape[0], batch_size)
        full = min(batch_size, x.shape[0])
        buf = self._get_buffers(full, train=False)
        for step, (s, e) in enumerate(batches):
            m = e - s
            rows = buf if m == full else self._rows(buf, m)
            logits = self._forward(x[s:e], rows["acts"], last_activate=False)
            loss, _, correct = self.loss(logits, y[s:e], grad=False)
            loss_sum += loss * m
            correct_sum += correct
            if bar is not None:
                logs = [("loss", loss_sum / e)]
                if self.metrics:
                    logs.append((self.metrics[0], correct_sum / e))
                bar.update(step + 1, logs, finalize=step + 1 == len(batches))
        return loss_sum / x.shape[0], correct_sum / x.shape[0]

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", return_dict=False):
        """Loss (and accuracy) on (x, y): a scalar without metrics, else [loss, accuracy]."""
        self._check_compiled("evaluate")
        batch_size = 32 if batch_size is None else _positive_int("batch_size", batch_size)
        verbose = _verbose(verbose)
        if not self.built and self.input_dim is None:
            raise ValueError("evaluate: the model has not been built (no input_shape and no fit yet)")
        x, y = self._prepare(x, y)
        bar = Progbar(len(self._batches(x.shape[0], batch_size)), verbose=verbose) if verbose else None
        with _thread_policy():
            loss, acc = self._evaluate_arrays(x, y, batch_size, bar)
        if return_dict:
            return {"loss": loss, **({self.metrics[0]: acc} if self.metrics else {})}
        return [loss, acc] if self.metrics else loss

    def predict(self, x, batch_size=None, verbose="auto"):
        """Outputs of the last layer (softmax probabilities for the chapter-2 model), shape (n, units)."""
        batch_size = 32 if batch_size is None else _positive_int("batch_size", batch_size)
        verbose = _verbose(verbose)
        if not self.built and self.input_dim is None:
            raise ValueError("predict: the model has not been built (no input_shape and no fit yet)")
        x = self._prepare_x(x, "x")
        if not self.built:
            self.build((None, x.shape[1]), x.dtype)
        n = x.shape[0]
        out = np.empty((n, self.layers[-1].units), self.dtype)
        batches = self._batches(n, batch_size)
        full = min(batch_size, n)
        buf = self._get_buffers(full, train=False)
        bar = Progbar(len(batches), verbose=verbose) if verbose else None
        with _thread_policy():
            for step, (s, e) in enumerate(batches):
                acts = list((buf if e - s == full else self._rows(buf, e - s))["acts"])
                acts[-1] = out[s:e]
                self._forward(x[s:e], acts, last_activate=True)
                if bar is not None:
                    bar.update(step + 1, finalize=step + 1 == len(batches))
        return out

    # ---- weights ----

    def get_weights(self):
        """Copies of all weights, [kernel, bias] per layer."""
        if not self.built:
            return []
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        """Copy values into the weights (same count, shapes as get_weights())."""
        if not self.built:
            raise ValueError("set_weights: the model has not been built")
        current = self.weights
        weights = list(weights)
        if len(weights) != len(current):
            raise ValueError(f"set_weights: expected {len(current)} arrays, got {len(weights)}")
        for i, (dst, src) in enumerate(zip(current, weights)):
            src = np.asarray(src)
            if src.shape != dst.shape:
                raise ValueError(f"set_weights: array {i} has shape {src.shape}, expected {dst.shape}")
        for dst, src in zip(current, weights):
            np.copyto(dst, src, casting="same_kind")

    @staticmethod
    def _npz_path(filepath):
        path = os.fspath(filepath)
        if not path.endswith(".npz"):
            raise ValueError(f"The filename must end in .npz (fastops stores weights as a NumPy "
                             f"archive, not HDF5), got {path!r}")
        return path

    def save_weights(self, filepath):
        """Write all weights to a .npz file (keys weight_0, weight_1, ... in get_weights order)."""
        path = self._npz_path(filepath)
        if not self.built:
            raise ValueError("save_weights: the model has not been built")
        np.savez(path, **{f"weight_{i}": w for i, w in enumerate(self.weights)})

    def load_weights(self, filepath):
        """Read weights written by save_weights (builds the model first if it has input_shape)."""
        path = self._npz_path(filepath)
        with np.load(path, allow_pickle=False) as data:
            arrays = [data[f"weight_{i}"] for i in range(len(data.files))]
        if not self.built:
            self.build((None, arrays[0].shape[0]), arrays[0].dtype)
        self.set_weights(arrays)

    def count_params(self):
        return sum(layer.count_params() for layer in self.layers)

    def summary(self, print_fn=print):
        """Print the layer table (Keras 2 layout)."""
        if not self.built:
            if self.input_dim is None:
                raise ValueError("This model has not yet been built. Build the model first by "
                                 "calling build() or fit(), or give input_shape to the first layer.")
            self.build()
        line = "_" * 65
        rows = [f'Model: "{self.name}"', line,
                f" {'Layer (type)':<27}{'Output Shape':<26}{'Param #'}", "=" * 65]
        for i, layer in enumerate(self.layers):
            rows.append(f" {layer.name + ' (Dense)':<27}{str((None, layer.units)):<26}"
                        f"{layer.count_params()}")
            if i + 1 < len(self.layers):
                rows.append("")
        total = self.count_params()
        rows += ["=" * 65, f"Total params: {total:,}", f"Trainable params: {total:,}",
                 "Non-trainable params: 0", line]
        for r in rows:
            print_fn(r)

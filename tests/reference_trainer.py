"""A NumPy reference of fastops' trainer: the same model, seeds, batches, masks and formulas,
written the plain way (np.dot, temporaries per step), to check fastops by value.

Generalises benchmarks/mlp_numpy_reference.py: any stack of Dense / Dropout layers, the five
losses (from the logits of a softmax/sigmoid head, as fastops fuses them, else from the
probabilities with Keras' clipping), SGD / RMSprop / Adagrad / Adam, sample and class
weights, validation data, partial last batches, shuffle on/off, dropout with the mask
formula of fastops.nn.dropout_keep, and l1/l2 penalties.

    spec = [("dense", 16, "relu", {"l2": 1e-3}), ("dropout", 0.5), ("dense", 3, "softmax", {})]
    steps, history = train(spec, x, y, loss="categorical_crossentropy", ...)
"""
import numpy as np

EPS = 1e-7
GOLDEN = 0x9E3779B97F4A7C15
MASK64 = (1 << 64) - 1


# ---- initialisation and seeds, as fastops.models.Sequential(seed) draws them ----

def init_params(spec, n_in, seed, dtype):
    init_seq, shuffle_seq = np.random.SeedSequence(seed).spawn(2)
    rng = np.random.default_rng(init_seq)
    params, fan_in = [], n_in
    for layer in spec:
        if layer[0] == "dense":
            units = layer[1]
            limit = np.sqrt(6.0 / (fan_in + units))
            params.append([rng.uniform(-limit, limit, size=(fan_in, units)).astype(dtype),
                           np.zeros(units, dtype)])
            fan_in = units
        else:
            params.append([])
    return params, np.random.default_rng(shuffle_seq)


def _mix(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def keep_mask(shape, rate, seed):
    """fastops.nn.dropout_keep's documented formula, in Python integers."""
    key = _mix((seed + GOLDEN) & MASK64)
    n = int(np.prod(shape))
    idx = np.arange(1, n + 1, dtype=object)
    h = np.array([_mix((key + int(i) * GOLDEN) & MASK64) >> 40 for i in idx], dtype=np.int64)
    return (h >= int(rate * 2**24)).reshape(shape)


def dropout_base(seed, index):
    seq = np.random.SeedSequence(seed, spawn_key=(2, index))
    return int(seq.generate_state(1, np.uint64)[0])


# ---- the network ----

def act(name, z):
    if name == "relu":
        return np.maximum(z, 0)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "softmax":
        e = np.exp(z - z.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)
    return z


def act_backward(name, grad, y):
    if name == "relu":
        return grad * (y > 0)
    if name == "sigmoid":
        return grad * y * (1 - y)
    if name == "tanh":
        return grad * (1 - y * y)
    if name == "softmax":
        return y * (grad - (grad * y).sum(1, keepdims=True))
    return grad


def fused(loss, head):
    return (loss in ("categorical_crossentropy", "sparse_categorical_crossentropy")
            and head == "softmax") or (loss == "binary_crossentropy" and head == "sigmoid")


def loss_and_grad(loss, head, z, out, y, w):
    """(batch loss, dloss/dz) with w per-sample weights (ones when unweighted)."""
    n, k = out.shape
    if loss == "sparse_categorical_crossentropy":
        y = np.eye(k)[y]
        loss = "categorical_crossentropy"
    if fused(loss, head):
        if loss == "categorical_crossentropy":
            zs = z - z.max(1, keepdims=True)
            logp = zs - np.log(np.exp(zs).sum(1, keepdims=True))
            rows = -(y * logp).sum(1)
            dz = np.exp(logp) * y.sum(1, keepdims=True) - y
        else:
            rows = (np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))).mean(1)
            dz = (1 / (1 + np.exp(-z)) - y) / k
        return (rows * w).sum() / n, dz * (w / n)[:, None]
    if loss == "categorical_crossentropy":
        s = out.sum(1, keepdims=True)
        q = out / s
        qc = np.clip(q, EPS, 1 - EPS)
        rows = -(y * np.log(qc)).sum(1)
        dq = np.where((q > EPS) & (q < 1 - EPS), -y / qc, 0.0)
        dp = (dq - (dq * q).sum(1, keepdims=True)) / s
    elif loss == "binary_crossentropy":
        q = np.clip(out, EPS, 1 - EPS)
        rows = -(y * np.log(q) + (1 - y) * np.log(1 - q)).mean(1)
        dp = np.where((out > EPS) & (out < 1 - EPS), (q - y) / (q * (1 - q)), 0.0) / k
    elif loss == "mean_squared_error":
        rows = ((out - y) ** 2).mean(1)
        dp = 2 * (out - y) / k
    else:
        rows = np.abs(out - y).mean(1)
        dp = np.sign(out - y) / k
    return (rows * w).sum() / n, act_backward(head, dp * (w / n)[:, None], out)


def accuracy(loss, out, y):
    """Correct count per row by Keras 3's 'accuracy' rule (binary / sparse / categorical)."""
    if out.shape[1] == 1:
        return ((out > 0.5) == y).mean(1)
    if loss == "sparse_categorical_crossentropy" or y.ndim == 1:
        return out.argmax(1) == y
    return out.argmax(1) == y.argmax(1)


class Optimizer:
    """Keras 3's update formulas (keras/src/optimizers/*.py), every hyper-parameter."""

    def __init__(self, name, lr=None, **hyper):
        self.name, self.hyper, self.t, self.slots = name, hyper, 0, {}
        self.lr = lr if lr is not None else (0.01 if name == "sgd" else 0.001)

    def step(self, params, grads):
        self.t += 1
        for i, (p, g) in enumerate(zip(params, grads)):
            s = self.slots.setdefault(i, {})
            h = self.hyper
            if self.name == "sgd":
                mom = h.get("momentum", 0.0)
                if mom:
                    m = s.setdefault("m", np.zeros_like(p))
                    m[...] = mom * m - self.lr * g
                    p += mom * m - self.lr * g if h.get("nesterov") else m
                else:
                    p -= self.lr * g
            elif self.name == "rmsprop":
                rho, eps, mom = h.get("rho", 0.9), h.get("epsilon", 1e-7), h.get("momentum", 0.0)
                v = s.setdefault("v", np.zeros_like(p))
                v[...] = rho * v + (1 - rho) * g * g
                if h.get("centered"):
                    a = s.setdefault("a", np.zeros_like(p))
                    a[...] = rho * a + (1 - rho) * g
                    increment = self.lr * g / np.sqrt(v - a * a + eps)
                else:
                    increment = self.lr * g / np.sqrt(v + eps)
                if mom:
                    m = s.setdefault("m", np.zeros_like(p))
                    m[...] = mom * m + increment
                    p -= m
                else:
                    p -= increment
            elif self.name == "adagrad":
                a = s.setdefault("a", np.full_like(p, h.get("initial_accumulator_value", 0.1)))
                a += g * g
                p -= self.lr * g / np.sqrt(a + h.get("epsilon", 1e-7))
            else:
                b1, b2 = h.get("beta_1", 0.9), h.get("beta_2", 0.999)
                m = s.setdefault("m", np.zeros_like(p))
                v = s.setdefault("v", np.zeros_like(p))
                m += (g - m) * (1 - b1)
                v += (g * g - v) * (1 - b2)
                if h.get("amsgrad"):
                    vh = s.setdefault("vh", np.zeros_like(p))
                    np.maximum(vh, v, out=vh)
                    v = vh
                alpha = self.lr * np.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
                p -= alpha * m / (np.sqrt(v) + h.get("epsilon", 1e-7))


def _forward(spec, params, x, training, seeds):
    hs, masks = [x], []
    for i, layer in enumerate(spec):
        h = hs[-1]
        if layer[0] == "dense":
            w, b = params[i]
            z = h @ w + b
            hs.append(z if i == len(spec) - 1 else act(layer[2], z))
            masks.append(None)
        else:
            if training and layer[1] > 0:
                keep = keep_mask(h.shape, layer[1], seeds[i])
                hs.append(np.where(keep, h / (1 - layer[1]), 0))
                masks.append(keep)
            else:
                hs.append(h)
                masks.append(None)
    return hs, masks


def _penalty(spec, params):
    total = 0.0
    for layer, p in zip(spec, params):
        if layer[0] == "dense":
            reg = layer[3]
            total += reg.get("l1", 0) * np.abs(p[0]).sum() + reg.get("l2", 0) * (p[0] ** 2).sum()
    return total


def evaluate(spec, params, loss, x, y, w, batch_size):
    head = spec[-1][2]
    n = len(x)
    loss_sum, correct = 0.0, 0.0
    for s in range(0, n, batch_size):
        xb, yb = x[s:s + batch_size], y[s:s + batch_size]
        wb = np.ones(len(xb)) if w is None else w[s:s + batch_size]
        hs, _ = _forward(spec, params, xb, False, None)
        z = hs[-1]
        out = act(head, z)
        batch_loss, _ = loss_and_grad(loss, head, z, out, yb, wb)
        loss_sum += (batch_loss + _penalty(spec, params)) * len(xb)
        correct += accuracy(loss, out, yb).sum()
    return loss_sum / n, correct / n


def train(spec, x, y, loss, optimizer="rmsprop", epochs=1, batch_size=32, seed=0, shuffle=True,
          sample_weight=None, validation_data=None, dtype=np.float64, initial_epoch=0,
          steps_per_epoch=None, validation_freq=1, validation_batch_size=None,
          lr_schedule=None, **opt_hyper):
    """Returns (weights after each step, history) as fastops would (float64 arithmetic).

    lr_schedule(epoch, lr) -> lr is applied at the start of each epoch, as Keras'
    LearningRateScheduler does; initial_epoch, steps_per_epoch, validation_freq and
    validation_batch_size are fit's."""
    x = x.astype(dtype)
    if loss != "sparse_categorical_crossentropy":
        y = y.astype(dtype).reshape(len(x), -1)
    params, shuffle_rng = init_params(spec, x.shape[1], seed, dtype)
    params = [[p.astype(np.float64) for p in ps] for ps in params]
    opt = Optimizer(optimizer, **opt_hyper)
    seeds = {i: dropout_base(seed, i) if layer[2] is None else layer[2]
             for i, layer in enumerate(spec) if layer[0] == "dropout"}
    steps = {i: 0 for i in seeds}
    head = spec[-1][2]
    n = len(x)
    history = {"loss": [], "accuracy": []}
    trace = []
    starts = list(range(0, n, batch_size))[:steps_per_epoch]
    for epoch in range(initial_epoch, epochs):
        if lr_schedule is not None:
            opt.lr = lr_schedule(epoch, opt.lr)
            history.setdefault("learning_rate", []).append(opt.lr)
        order = shuffle_rng.permutation(n) if shuffle else np.arange(n)
        loss_sum, correct, seen = 0.0, 0.0, 0
        for s in starts:
            idx = order[s:s + batch_size]
            xb, yb = x[idx], y[idx]
            wb = np.ones(len(idx)) if sample_weight is None else sample_weight[idx]
            step_seeds = {i: (seeds[i] + steps[i]) % 2**64 for i in seeds}
            for i in steps:
                steps[i] += 1
            hs, masks = _forward(spec, params, xb, True, step_seeds)
            z = hs[-1]
            out = act(head, z)
            batch_loss, dz = loss_and_grad(loss, head, z, out, yb, wb)
            correct += accuracy(loss, out, yb).sum()
            grads = [None] * len(spec)
            g = dz
            for i in range(len(spec) - 1, -1, -1):
                layer = spec[i]
                if layer[0] == "dense":
                    if i != len(spec) - 1:
                        g = act_backward(layer[2], g, hs[i + 1])
                    w, b = params[i]
                    reg = layer[3]
                    gw = hs[i].T @ g + reg.get("l1", 0) * np.sign(w) + 2 * reg.get("l2", 0) * w
                    gb = g.sum(0)
                    grads[i] = [gw, gb]
                    g = g @ w.T
                elif masks[i] is not None:
                    g = np.where(masks[i], g / (1 - layer[1]), 0)
            penalty = _penalty(spec, params)
            flat_p = [p for ps in params for p in ps]
            flat_g = [gr for gs in grads if gs for gr in gs]
            opt.step(flat_p, flat_g)
            loss_sum += (batch_loss + penalty) * len(idx)
            seen += len(idx)
            trace.append([p.copy() for p in flat_p])
        history["loss"].append(loss_sum / seen)
        history["accuracy"].append(correct / seen)
        if validation_data is not None and (epoch + 1) % validation_freq == 0:
            vl, va = evaluate(spec, params, loss, *validation_data,
                              validation_batch_size or batch_size)
            history.setdefault("val_loss", []).append(vl)
            history.setdefault("val_accuracy", []).append(va)
    return trace, history

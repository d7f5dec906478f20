"""One batch of training, evaluation or prediction, and the buffers it runs in."""
import numpy as np

import fastops

from ._data import cache_aligned_empty


class Buffers:
    """Per-layer output buffers (and, for training, gradient buffers dL/doutput) for `rows`
    rows, allocated once; a partial batch uses cached leading-row views of them."""

    def __init__(self, layers, rows, dtype, train):
        shapes = []
        for layer in layers:
            shapes.append((rows,) + tuple(layer.output_shape[1:]))
        self.acts = [cache_aligned_empty(s, dtype) for s in shapes]
        self.grads = [cache_aligned_empty(s, dtype) for s in shapes] if train else None
        self.rows = rows
        self._views = {rows: (self.acts, self.grads)}

    def views(self, m):
        v = self._views.get(m)
        if v is None:
            v = self._views[m] = ([a[:m] for a in self.acts],
                                  None if self.grads is None else [g[:m] for g in self.grads])
        return v


def logged_metrics(metrics):
    """[(logs key, metric)] in the order Keras 3 reports them (CompileMetrics.result): the
    plain metrics first, a repeated name suffixed _1, _2, ...; then the weighted ones, whose
    name, when a plain metric already took it, becomes weighted_<name>."""
    taken, entries = {}, []
    for weighted in (False, True):
        for m in metrics:
            if bool(getattr(m, "weighted", False)) != weighted:
                continue
            name = m.name
            if name not in taken:
                taken[name] = 1
            else:
                if weighted:
                    name = f"weighted_{m.name}"
                if weighted and name not in taken:
                    taken[name] = 1
                else:
                    index = taken[name]
                    taken[name] += 1
                    name = f"{name}_{index}"
            entries.append((name, m))
    return entries


def with_validation(logs, val_logs):
    """An epoch's logs with the validation pass's, as val_<key>, every key sorted as Keras 3
    sorts them."""
    return dict(sorted({**logs, **{"val_" + k: v for k, v in val_logs.items()}}.items()))


class Step:
    """The loss and metrics of one fit / evaluate call, and its training and test steps."""

    def __init__(self, model, metrics):
        self.model = model
        self.layers = model.layers
        self.loss = model.loss
        self.metrics = metrics
        last = self.layers[-1]
        activation = getattr(last, "activation", None)
        self.head = activation.name if activation is not None else None
        # The loss works from the logits when it can absorb the last layer's activation.
        self.fused = hasattr(last, "logits") and self.loss.fuses_with(self.head)
        on = getattr(model, "trainable", True)  # a frozen model updates nothing
        trainable = [on and l.trainable and bool(l.trainable_weights) for l in self.layers]
        self.needs_input_grad = [any(trainable[:i]) for i in range(len(self.layers))]
        train = [l for l, t in zip(self.layers, trainable) if t]
        self.variables = [w for l in train for w in l.trainable_weights]
        self.trained = train
        # kernel gradients stay products, multiplied inside the optimizer's update
        self.backward_kw = [{"products": True} if l.product_gradients else {}
                            for l in self.layers]
        self.regularizers = [r for l in train for r in l.regularizers]
        self._logged = logged_metrics(metrics)
        self._probs = None
        self.reset()

    def reset(self):
        self.loss_sum = 0.0
        self.seen = 0
        for m in self.metrics:
            m.reset_state()

    def logs(self):
        logs = {"loss": self.loss_sum / self.seen if self.seen else 0.0}
        for name, m in self._logged:
            logs[name] = m.result()
        return dict(sorted(logs.items()))  # Keras 3 sorts the keys (pythonify_logs)

    def _forward(self, xb, acts, training):
        h = xb
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            if i == last and self.fused:
                h = layer.logits(h, training=training, out=acts[i])
            else:
                h = layer.forward(h, training=training, out=acts[i])
        return h

    def _loss(self, yb, out, wb, grad_out):
        if self.fused:
            if grad_out is None:
                return self.loss.logits_value_and_gradient(yb, out, wb, grad=False)
            return self.loss.logits_value_and_gradient(yb, out, wb, out=grad_out)
        loss, _ = self.loss.value_and_gradient(yb, out, wb, out=grad_out) if grad_out is not None \
            else (self.loss.value_and_gradient(yb, out, wb)[0], None)
        return loss, None, None

    def _update_metrics(self, yb, out, wb, correct):
        if not self.metrics:
            return
        weight_total = None
        for m in self.metrics:
            w = wb if m.weighted else None
            if self.fused and m.counts is not None and m.counts == self.loss.counts \
                    and (w is not None or wb is None):
                if weight_total is None:
                    weight_total = len(yb) if wb is None else float(fastops.sum(wb))
                m.add(correct, weight_total if w is not None else len(yb))
            elif self.fused and m.from_logits(self.head):
                if hasattr(m, "correct_from_logits"):
                    m.add(m.correct_from_logits(yb, out, w),
                          len(yb) if w is None else fastops.sum(w))
                else:
                    m.update_state(yb, out, w)
            else:
                m.update_state(yb, self._outputs(out), w)

    def _outputs(self, out):
        """The layer's outputs: `out` itself, or the activation of the fused head's logits."""
        if not self.fused:
            return out
        if self._probs is None or self._probs.shape[0] < out.shape[0]:
            self._probs = np.empty_like(out)
        probs = self._probs[:out.shape[0]]
        np.copyto(probs, out)
        return self.layers[-1].activation.forward(probs, None)

    def train(self, xb, yb, wb, bufs):
        m = xb.shape[0]
        acts, grads = bufs.views(m)
        out = self._forward(xb, acts, training=True)
        loss, _, correct = self._loss(yb, out, wb, grads[-1])
        self._update_metrics(yb, out, wb, correct)
        for i in range(len(self.layers) - 1, -1, -1):
            layer, need = self.layers[i], self.needs_input_grad[i]
            dx = grads[i - 1] if i and need else None
            kw = self.backward_kw[i]
            if i == len(self.layers) - 1 and self.fused:
                layer.logits_backward(grads[i], out=dx, input_grad=need, **kw)
            else:
                back = layer.backward(grads[i], out=dx, input_grad=need, **kw)
                if need and back is not None and back is not dx:  # a pass-through layer
                    np.copyto(dx, back)
        gradients = [g for layer in self.trained for g in layer.gradient_sources()]
        penalty = self.model.optimizer.apply(self.variables, gradients, self.regularizers)
        self.loss_sum += (loss + penalty) * m
        self.seen += m

    def test(self, xb, yb, wb, bufs, penalty):
        m = xb.shape[0]
        acts, _ = bufs.views(m)
        out = self._forward(xb, acts, training=False)
        loss, _, correct = self._loss(yb, out, wb, None)
        self._update_metrics(yb, out, wb, correct)
        self.loss_sum += (loss + penalty) * m
        self.seen += m

    @staticmethod
    def predict(layers, xb, bufs, out):
        acts, _ = bufs.views(xb.shape[0])
        h = xb
        last = len(layers) - 1
        for i, layer in enumerate(layers):
            h = layer.forward(h, training=False, out=out if i == last else acts[i])
        if h is not out:
            np.copyto(out, h)
        return out


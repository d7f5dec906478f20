"""The chapter-2 MLP as a plain NumPy loop: the reference row of the training benchmarks.

784 -> Dense(512, relu) -> Dense(10, softmax), categorical cross-entropy, RMSprop with
Keras' formulas and defaults, float32 throughout.  It is what one writes without a
framework: np.dot forward and backward, NumPy arithmetic for the optimizer, a fresh
temporary for every intermediate.  Weights are a list [w1, b1, w2, b2] in the layout of
Keras' get_weights(), so a model can start from exactly the same point.
"""
import numpy as np


def glorot_uniform(rng, fan_in, fan_out):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32)


def initial_weights(n_in=784, n_hidden=512, n_out=10, seed=0):
    """Keras' defaults: glorot-uniform kernels, zero biases."""
    rng = np.random.default_rng(seed)
    return [glorot_uniform(rng, n_in, n_hidden), np.zeros(n_hidden, np.float32),
            glorot_uniform(rng, n_hidden, n_out), np.zeros(n_out, np.float32)]


class NumpyMLP:
    """Two Dense layers trained with RMSprop.

    Equations (Keras RMSprop, no momentum, not centered)::

        v := rho * v + (1 - rho) * g**2
        w := w - learning_rate * g / sqrt(v + epsilon)
    """

    def __init__(self, weights, learning_rate=0.001, rho=0.9, epsilon=1e-7):
        self.weights = [np.array(w, np.float32) for w in weights]
        self.velocity = [np.zeros_like(w) for w in self.weights]
        self.learning_rate, self.rho, self.epsilon = learning_rate, rho, epsilon

    def predict(self, x):
        return self._forward(x)[1]

    def _forward(self, x):
        w1, b1, w2, b2 = self.weights
        h = np.maximum(np.dot(x, w1) + b1, 0)
        z = np.dot(h, w2) + b2
        e = np.exp(z - z.max(axis=1, keepdims=True))  # stable softmax
        return h, e / e.sum(axis=1, keepdims=True)

    def train_step(self, x, y):
        """One RMSprop step on a batch; returns (loss, number of correct predictions)."""
        w1, b1, w2, b2 = self.weights
        h, p = self._forward(x)
        # Keras clips probabilities to [eps, 1 - eps] before the log
        loss = -np.mean(np.sum(y * np.log(np.clip(p, 1e-7, 1 - 1e-7)), axis=1))
        correct = np.count_nonzero(p.argmax(axis=1) == y.argmax(axis=1))
        dz = (p - y) / np.float32(x.shape[0])  # softmax + cross-entropy, mean over the batch
        dh = np.dot(dz, w2.T) * (h > 0)
        grads = [np.dot(x.T, dh), dh.sum(axis=0), np.dot(h.T, dz), dz.sum(axis=0)]
        for w, g, v in zip(self.weights, grads, self.velocity):
            v[...] = self.rho * v + (1 - self.rho) * np.square(g)
            w -= self.learning_rate * g / np.sqrt(v + self.epsilon)
        return float(loss), correct

    def fit(self, x, y, batch_size=128, epochs=1, shuffle=True, seed=0):
        """Mini-batch training as Keras' fit does it; returns per-epoch loss and accuracy."""
        rng = np.random.default_rng(seed)
        n = x.shape[0]
        history = {"loss": [], "accuracy": []}
        for _ in range(epochs):
            order = rng.permutation(n) if shuffle else np.arange(n)
            total_loss, total_correct = 0.0, 0
            for start in range(0, n, batch_size):
                idx = order[start:start + batch_size]
                loss, correct = self.train_step(x[idx], y[idx])
                total_loss += loss * len(idx)
                total_correct += correct
            history["loss"].append(total_loss / n)
            history["accuracy"].append(total_correct / n)
        return history

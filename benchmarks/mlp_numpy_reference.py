"""The chapter-2 MLP as a plain NumPy loop: the reference row of the training benchmark.

Dense(512, relu) -> Dense(10, softmax), categorical cross-entropy, RMSprop
(Keras defaults), written the way a NumPy user would: np.dot forward and
backward, temporaries allocated per step, RMSprop as NumPy expressions.  The
initialisation and shuffling use the same seeds and draws as
fastops.models.Sequential(seed=...), so both start from identical weights.

    python benchmarks/mlp_numpy_reference.py --epochs 5 --seed 0
"""
import argparse
import time

import numpy as np


def init_params(seed, sizes=(784, 512, 10), dtype=np.float32):
    """glorot_uniform kernels and zero biases, drawn as fastops.models.Sequential(seed) draws them."""
    init_seq, shuffle_seq = np.random.SeedSequence(seed).spawn(2)
    rng = np.random.default_rng(init_seq)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        params.append(rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(dtype))
        params.append(np.zeros(fan_out, dtype))
    return params, np.random.default_rng(shuffle_seq)


def forward(params, x):
    w1, b1, w2, b2 = params
    a1 = np.maximum(np.dot(x, w1) + b1, 0)
    z2 = np.dot(a1, w2) + b2
    return a1, z2


def log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def train(x, y, epochs=5, batch_size=128, seed=0, learning_rate=0.001, rho=0.9, epsilon=1e-7,
          verbose=False):
    """Train on (x float32 (n, 784), y one-hot (n, 10)); returns (params, history, seconds/epoch)."""
    params, shuffle_rng = init_params(seed, (x.shape[1], 512, y.shape[1]), x.dtype)
    velocity = [np.zeros_like(p) for p in params]
    n = x.shape[0]
    history = {"loss": [], "accuracy": []}
    epoch_times = []
    for epoch in range(epochs):
        t0 = time.perf_counter()
        order = shuffle_rng.permutation(n)
        loss_sum = correct = 0.0
        for s in range(0, n, batch_size):
            idx = order[s:s + batch_size]
            xb, yb = x[idx], y[idx]
            m = len(idx)
            a1, z2 = forward(params, xb)
            logp = log_softmax(z2)
            loss_sum += -np.sum(yb * logp)
            correct += np.sum(logp.argmax(axis=1) == yb.argmax(axis=1))
            dz2 = (np.exp(logp) - yb) / m
            dw2 = np.dot(a1.T, dz2)
            db2 = dz2.sum(axis=0)
            da1 = np.dot(dz2, params[2].T)
            da1 *= a1 > 0
            dw1 = np.dot(xb.T, da1)
            db1 = da1.sum(axis=0)
            for p, g, v in zip(params, (dw1, db1, dw2, db2), velocity):
                v[...] = rho * v + (1 - rho) * g ** 2
                p -= learning_rate * g / np.sqrt(v + epsilon)
        epoch_times.append(time.perf_counter() - t0)
        history["loss"].append(loss_sum / n)
        history["accuracy"].append(correct / n)
        if verbose:
            print(f"epoch {epoch + 1}/{epochs} - {epoch_times[-1]:.2f}s - loss: {history['loss'][-1]:.4f}"
                  f" - accuracy: {history['accuracy'][-1]:.4f}")
    return params, history, epoch_times


def evaluate(params, x, y):
    """(mean cross-entropy, accuracy)"""
    _, z2 = forward(params, x)
    logp = log_softmax(z2)
    return float(-np.sum(y * logp) / len(x)), float(np.mean(logp.argmax(1) == y.argmax(1)))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    from fastops.datasets import mnist
    (xtr, ytr), (xte, yte) = mnist.load_data()
    xtr = xtr.reshape(len(xtr), -1).astype(np.float32) / 255
    xte = xte.reshape(len(xte), -1).astype(np.float32) / 255
    ytr, yte = np.eye(10, dtype=np.float32)[ytr], np.eye(10, dtype=np.float32)[yte]
    params, _, times = train(xtr, ytr, args.epochs, args.batch_size, args.seed, verbose=True)
    loss, acc = evaluate(params, xte, yte)
    print(f"{np.mean(times):.2f} s/epoch; test loss: {loss:.4f} test accuracy: {acc:.4f}")


if __name__ == "__main__":
    main()

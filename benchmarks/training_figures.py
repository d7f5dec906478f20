"""The training and inference figures of issues 11, 13 and 14, interleaved in one process:
the chapter-2 fit (5 epochs, batch 128, real MNIST) against its GEMM floor and against the
plain NumPy loop, per backend and SIMD level, and evaluate of the 10k test set against the
NumPy loop at batch 32 and in one batch.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/training_figures.py [--rounds 2]

The GEMM floor is the five products of a step (X.W1, H.W2 forward; H^T.dY, dY.W2^T, X^T.dH
backward) at batch 128 (and the last, partial batch), timed alone with fastops' GEMM on the
same threads, times the steps of the fit; their operands are those of the fit (real MNIST
rows; the hidden activations and gradients of a model after a short fit), since fastops'
GEMM skips all-zero steps of A.  The floor on random dense operands is printed beside it.
Each figure, the floors included, is the best of --rounds, the configurations alternating
within a round.

Beside the floor, the products with the fit's RMSprop updates and nothing else
(products_with_updates: what a step would cost with the gather, the loss and the Python loop
free).  --floor-pairs N times only the two, alternating N pairs, and prints the median and
range of their ratio.
"""
import argparse
import importlib.util
import os
import time

import numpy as np
from threadpoolctl import threadpool_limits

import fastops
from fastops import layers, models
from fastops.datasets import mnist

HERE = os.path.dirname(os.path.abspath(__file__))
EPOCHS, BATCH = 5, 128


def numpy_reference():
    spec = importlib.util.spec_from_file_location(
        "mlp_numpy_reference", os.path.join(HERE, "mlp_numpy_reference.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def data():
    (xtr, ytr), (xte, yte) = mnist.load_data()
    return (xtr.reshape(60000, 784).astype(np.float32) / 255, ytr,
            xte.reshape(10000, 784).astype(np.float32) / 255, yte)


def model(seed=0):
    net = models.Sequential(seed=seed)
    net.add(layers.Dense(512, activation="relu", input_shape=(784,)))
    net.add(layers.Dense(10, activation="softmax"))
    net.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                metrics=["accuracy"])
    return net


def fit_seconds(x, y):
    net = model()
    t0 = time.perf_counter()
    net.fit(x, y, epochs=EPOCHS, batch_size=BATCH, verbose=0)
    return time.perf_counter() - t0, net


def step_operands(x, y, m, rng, net):
    """The five products' operands of one training step on m real rows: X, H = relu(X.W1 +
    b1) and dY = softmax(H.W2 + b2) - onehot, dH = dY.W2^T * (H > 0), with the weights of
    `net`.  MNIST's X is 81% zeros and H about half: fastops' GEMM skips the k steps where a
    6-row panel of A is all zero, so random dense operands would overstate the floor."""
    w1, b1, w2, b2 = net.get_weights()
    rows = rng.choice(len(x), m, replace=False)
    xb = x[rows]
    h = np.maximum(xb @ w1 + b1, 0)
    z = h @ w2 + b2
    p = np.exp(z - z.max(axis=1, keepdims=True))
    dy = (p / p.sum(axis=1, keepdims=True) - np.eye(10, dtype=np.float32)[y[rows]]) / m
    dh = (dy @ w2.T) * (h > 0)
    return xb, w1, h, w2, dy.astype(np.float32), dh.astype(np.float32)


def floor_operands(x, y, dense=False, batches=16):
    """The GEMM floor's operands: per batch size of the fit (full and last), the number of
    its steps and `batches` sets of the five products' operands, the fit's own (real rows,
    the weights after a short fit) or random dense ones of the same shapes (dense=True)."""
    rng = np.random.default_rng(0)
    net = model()
    net.fit(x[:12800], y[:12800], epochs=1, batch_size=BATCH, verbose=0)
    n_full, last = divmod(len(x), BATCH)
    sets = []
    for m, steps in ((BATCH, n_full * EPOCHS), (last, EPOCHS)):
        ops = [step_operands(x, y, m, rng, net) for _ in range(batches)]
        if dense:
            ops = [tuple(rng.random(a.shape, dtype=np.float32) for a in op) for op in ops]
        sets.append((m, steps, ops))
    return sets


def step_seconds(step, ops):
    """Seconds of one step(*op), the best of 5 passes of 10 over the operand sets."""
    for op in ops:
        step(*op)
    best = np.inf
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(10):
            for op in ops:
                step(*op)
        best = min(best, (time.perf_counter() - t0) / (10 * len(ops)))
    return best


def gemm_floor(sets):
    """Seconds of the five GEMMs of every step of the fit, at fastops' own rate, on the
    operands of floor_operands."""
    total = 0.0
    for m, steps, ops in sets:
        out = [np.empty(s, np.float32) for s in ((m, 512), (m, 10), (512, 10), (m, 512),
                                                   (784, 512))]

        def step(xb, w1, h, w2, dy, dh):
            fastops.matmul(xb, w1, out=out[0])
            fastops.matmul(h, w2, out=out[1])
            fastops.matmul(h.T, dy, out=out[2])
            fastops.matmul(dy, w2.T, out=out[3])
            fastops.matmul(xb.T, dh, out=out[4])
        total += step_seconds(step, ops) * steps
    return total


def products_with_updates(sets, net):
    """Seconds of the fit's products and RMSprop updates alone, every step: the GEMM floor's
    forward products and dY.W2^T, then the four updates as fit runs them (W1's and W2's
    gradients multiplied inside the update, fastops.nn.rmsprop_update with a pair), on one
    copy of the weights and their velocities, as in a fit.  What a step would cost with the
    gather, the loss, the bias and activation passes and the loop all free."""
    w1, b1, w2, b2 = (w.copy() for w in net.get_weights())
    slots = [np.zeros_like(w) for w in (w1, b1, w2, b2)]
    total = 0.0
    for m, steps, ops in sets:
        h_out, z_out, dh_out = (np.empty(s, np.float32) for s in ((m, 512), (m, 10), (m, 512)))
        db1, db2 = np.full(512, 1e-4, np.float32), np.full(10, 1e-4, np.float32)

        def step(xb, _w1, h, _w2, dy, dh):
            fastops.matmul(xb, w1, out=h_out)
            fastops.matmul(h, w2, out=z_out)
            fastops.matmul(dy, w2.T, out=dh_out)
            for w, g, s in ((w1, (xb.T, dh), slots[0]), (b1, db1, slots[1]),
                            (w2, (h.T, dy), slots[2]), (b2, db2, slots[3])):
                fastops.nn.rmsprop_update(w, g, s)
        total += step_seconds(step, ops) * steps
    return total


def floor_pairs(x, y, nt, pairs):
    """Print the GEMM floor and products_with_updates, alternating in ABBA order, and the
    median and range of their pairs' ratio: the two are timed seconds apart, so a drift of
    the guest's speed moves both."""
    ops, net = floor_operands(x, y), model()
    floors, updates = [], []
    for r in range(pairs):
        if r % 2 == 0:
            floors.append(gemm_floor(ops))
            updates.append(products_with_updates(ops, net))
        else:
            updates.append(products_with_updates(ops, net))
            floors.append(gemm_floor(ops))
    ratio = np.array(updates) / np.array(floors)
    print(f"{nt} thread(s): GEMM floor median {np.median(floors):.2f} s, with the RMSprop "
          f"updates {np.median(updates):.2f} s; ratio of {pairs} pairs: median "
          f"{np.median(ratio):.3f}, range {ratio.min():.3f}-{ratio.max():.3f}")


def evaluate_figures(net, xte, yte, ref, rounds):
    """(fastops, NumPy) seconds of evaluate on the test set at batch 32 and in one batch."""
    params = [w for layer in net.layers for w in layer.get_weights()]
    onehot = np.eye(10, dtype=np.float32)[yte]
    out = {}
    for bs in (32, 10000):
        f = n = np.inf
        for _ in range(rounds * 3):
            # a pause before each: OpenBLAS' threads spin for 0.1 s after the NumPy loop and
            # would share the cores with the next call (benchmarks/mixed_blas.py)
            time.sleep(0.3)
            t0 = time.perf_counter()
            net.evaluate(xte, yte, batch_size=bs, verbose=0)
            f = min(f, time.perf_counter() - t0)
            time.sleep(0.3)
            t0 = time.perf_counter()
            for s in range(0, 10000, bs):
                ref.evaluate(params, xte[s:s + bs], onehot[s:s + bs])
            n = min(n, time.perf_counter() - t0)
        out[bs] = (f, n)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", default="2,1")
    ap.add_argument("--skip-portable", action="store_true")
    ap.add_argument("--evaluate-only", action="store_true")
    ap.add_argument("--floor-pairs", type=int, default=0,
                    help="only the two floors, alternating this many pairs: the ratio of the "
                         "products with the updates to the products alone")
    args = ap.parse_args()
    ref = numpy_reference()
    xtr, ytr, xte, yte = data()
    onehot = np.eye(10, dtype=np.float32)[ytr]
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo")
                if ln.startswith("model name")), "?")
    print(f"CPU: {cpu}; SIMD {fastops.get_simd()}; fastops {fastops.__version__}")
    for nt in (int(t) for t in args.threads.split(",")):
        with threadpool_limits(nt, user_api="blas"), fastops.config_context(num_threads=nt):
            if args.floor_pairs:
                floor_pairs(xtr, ytr, nt, args.floor_pairs)
                continue
            if args.evaluate_only:
                net = model()
                net.fit(xtr, ytr, epochs=1, batch_size=BATCH, verbose=0)
                print(f"\n{nt} thread(s)")
                for bs, (f, n) in evaluate_figures(net, xte, yte, ref, args.rounds).items():
                    print(f"  evaluate 10k at batch {bs:5d}: fastops {f * 1e3:6.1f} ms, "
                          f"NumPy loop {n * 1e3:6.1f} ms, ratio {f / n:.2f}")
                continue
            own_ops, dense_ops = floor_operands(xtr, ytr), floor_operands(xtr, ytr, dense=True)
            floor = dense_floor = with_updates = np.inf
            floor_net = model()
            configs = {"default (auto)": {}, "backend blas": {"backend": "blas"}}
            if not args.skip_portable:
                configs["simd portable, auto"] = {"simd": "portable"}
            best = {k: np.inf for k in configs}
            best["numpy loop"] = np.inf
            net = None
            for _ in range(args.rounds):
                # the floors in every round too: this VM's speed drifts by 10-30% over
                # minutes, and a floor timed once before the fits made their ratio swing
                floor = min(floor, gemm_floor(own_ops))
                dense_floor = min(dense_floor, gemm_floor(dense_ops))
                with_updates = min(with_updates, products_with_updates(own_ops, floor_net))
                for name, ctx in configs.items():
                    with fastops.config_context(**ctx):
                        t, m = fit_seconds(xtr, ytr)
                    best[name] = min(best[name], t)
                    net = m if name == "default (auto)" else net
                t0 = time.perf_counter()
                ref.train(xtr, onehot, EPOCHS, BATCH, 0)
                best["numpy loop"] = min(best["numpy loop"], time.perf_counter() - t0)
            acc = net.evaluate(xte, yte, verbose=0)[1]
            print(f"\n{nt} thread(s): chapter-2 fit, {EPOCHS} epochs, best of {args.rounds}")
            print(f"  GEMM floor (five GEMMs x {60000 // BATCH + 1} steps x {EPOCHS}, the "
                  f"fit's operands): {floor:.2f} s; on random dense operands: {dense_floor:.2f} s")
            print(f"  the same products and the RMSprop updates, nothing else: "
                  f"{with_updates:.2f} s ({with_updates / floor:.2f}x the floor)")
            for name, t in best.items():
                print(f"  {name:22s} {t:6.2f} s  {t / floor:5.2f}x floor  "
                      f"{t / with_updates:5.2f}x products+updates  "
                      f"{t / best['numpy loop']:5.2f}x NumPy loop")
            print(f"  test accuracy (default): {acc:.4f}")
            for bs, (f, n) in evaluate_figures(net, xte, yte, ref, args.rounds).items():
                print(f"  evaluate 10k at batch {bs:5d}: fastops {f * 1e3:6.1f} ms, "
                      f"NumPy loop {n * 1e3:6.1f} ms, ratio {f / n:.2f}")


if __name__ == "__main__":
    main()

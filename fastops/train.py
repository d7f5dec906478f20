"""Train the chapter-2 MLP (Dense(512, relu) -> Dense(10, softmax), rmsprop) from the shell.

    python -m fastops.train --epochs 5 --batch-size 128 --dataset mnist

prints Keras-style progress per epoch, then `test loss: ... test accuracy: ...`.
"""
import argparse
import importlib
import sys
import time

import fastops

from . import _info, models, layers, optimizers


def _parser():
    p = argparse.ArgumentParser(prog="python -m fastops.train", description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--optimizer", default="rmsprop", choices=["adagrad", "adam", "rmsprop", "sgd"])
    p.add_argument("--learning-rate", type=float, default=None,
                   help="default: the optimizer's Keras default (rmsprop 0.001)")
    p.add_argument("--backend", default=None, choices=fastops._config.BACKENDS,
                   help="matmul backend (default: fastops.get_backend())")
    p.add_argument("--threads", type=int, default=None, help="kernel threads (default: all cores)")
    p.add_argument("--seed", type=int, default=None, help="weights and shuffling (default: random)")
    p.add_argument("--dataset", default="mnist", choices=("mnist", "fashion_mnist"))
    p.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
    p.add_argument("--validation-split", type=float, default=0.0,
                   help="fraction of the training rows held out (Keras' validation_split)")
    p.add_argument("--plot", metavar="PNG", default=None,
                   help="draw the loss/accuracy curves to this PNG (needs the 'plot' extra)")
    return p


def plot_history(history, path):
    """The book's two figures (loss, accuracy per epoch; training and validation) in one PNG,
    written atomically.  Raises RuntimeError naming the extra when matplotlib is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise RuntimeError("--plot needs matplotlib: pip install 'fastops[plot]'") from None
    from ._atomic import atomic_path
    keys = [k for k in history.history if not k.startswith("val_")]
    fig, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 4), squeeze=False)
    epochs = [e + 1 for e in history.epoch]
    for ax, key in zip(axes[0], keys):
        ax.plot(epochs, history.history[key], "bo", label=f"Training {key}")
        if "val_" + key in history.history:
            ax.plot(epochs, history.history["val_" + key], "b", label=f"Validation {key}")
        ax.set_title(f"Training and validation {key}")
        ax.set_xlabel("Epochs")
        ax.set_ylabel(key.capitalize())
        ax.legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.plot is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            sys.exit("error: --plot needs matplotlib: pip install 'fastops[plot]'")
    if args.epochs < 0 or args.batch_size < 1:
        sys.exit("error: --epochs must be >= 0 and --batch-size >= 1")
    if args.threads is not None:
        if args.threads < 1:
            sys.exit("error: --threads must be >= 1")
        fastops.set_num_threads(args.threads)
        try:  # keep BLAS (backend 'blas') on the same thread count
            from threadpoolctl import threadpool_limits
            threadpool_limits(args.threads)
        except ImportError:
            pass
    if args.backend:
        fastops.set_backend(args.backend)

    from .utils import to_categorical
    dataset = importlib.import_module(f"fastops.datasets.{args.dataset}")
    (train_images, train_labels), (test_images, test_labels) = dataset.load_data()
    train_images = train_images.reshape((len(train_images), -1)).astype("float32") / 255
    test_images = test_images.reshape((len(test_images), -1)).astype("float32") / 255
    train_labels = to_categorical(train_labels)
    test_labels = to_categorical(test_labels)

    network = models.Sequential(seed=args.seed)
    network.add(layers.Dense(512, activation="relu", input_shape=(train_images.shape[1],)))
    network.add(layers.Dense(10, activation="softmax"))
    opt = optimizers.get(args.optimizer)
    if args.learning_rate is not None:
        opt = type(opt)(learning_rate=args.learning_rate)
    network.compile(optimizer=opt, loss="categorical_crossentropy", metrics=["accuracy"])
    if args.verbose:
        # the backend actually run: 'auto' names its choice (issue 14)
        print(f"fastops {fastops.__version__}: {args.dataset}, {_info.config_line()}, "
              f"seed {network.seed}")
    t0 = time.perf_counter()
    history = network.fit(train_images, train_labels, epochs=args.epochs,
                          batch_size=args.batch_size, verbose=args.verbose,
                          validation_split=args.validation_split)
    fit_s = time.perf_counter() - t0
    test_loss, test_acc = network.evaluate(test_images, test_labels, verbose=0)
    if args.verbose and args.epochs:
        print(f"fit: {fit_s:.2f} s ({fit_s / args.epochs:.2f} s/epoch)")
    print(f"test loss: {test_loss:.4f} test accuracy: {test_acc:.4f}")
    if args.plot is not None:
        plot_history(history, args.plot)
        print(f"plot: {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

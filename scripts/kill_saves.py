"""Issue 9's file figure: a writer process saves a model over and over and is killed with
SIGKILL at random moments; after every kill the file must load, as the previous save or a
complete new one, never as a torn file.

    python scripts/kill_saves.py [kills] [suffix ...]   (default 50 kills of each of
                                                         .keras, .weights.h5 and .npz)
"""
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

WRITER = """
import sys
from fastops import layers, models
m = models.Sequential([layers.Dense(1024, input_shape=(1024,)), layers.Dense(1024)], seed=1)
m.compile(optimizer="rmsprop", loss="mse")
print("ready", flush=True)
while True:
    (m.save if sys.argv[1].endswith(".keras") else m.save_weights)(sys.argv[1])
"""


def model(seed):
    from fastops import layers, models
    m = models.Sequential([layers.Dense(1024, input_shape=(1024,)), layers.Dense(1024)], seed=seed)
    m.compile(optimizer="rmsprop", loss="mse")
    return m


def load(path):
    from fastops import models
    if path.suffix == ".keras":
        return models.load_model(path).get_weights()
    m = model(5)
    m.load_weights(path)
    return m.get_weights()


def run(kills, suffix, folder):
    path = Path(folder) / f"model{suffix}"
    first = model(0)
    (first.save if suffix == ".keras" else first.save_weights)(path)
    old, new = first.get_weights(), model(1).get_weights()
    script = Path(folder) / "writer.py"
    script.write_text(WRITER)
    rng = np.random.default_rng(0)
    seen = {"previous": 0, "new": 0}
    for _ in range(kills):
        p = subprocess.Popen([sys.executable, str(script), str(path)], stdout=subprocess.PIPE,
                             cwd=folder)
        assert p.stdout.readline().strip() == b"ready"
        time.sleep(float(rng.uniform(0.0, 0.4)))
        p.send_signal(signal.SIGKILL)
        p.wait()
        got = load(path)  # raises on a torn file
        if all(np.array_equal(a, b) for a, b in zip(got, old)):
            seen["previous"] += 1
        elif all(np.array_equal(a, b) for a, b in zip(got, new)):
            seen["new"] += 1
        else:
            raise AssertionError(f"{path} holds neither the previous nor the new weights")
    left = [f for f in os.listdir(folder) if ".tmp-" in f]
    return seen, len(left)


def main(argv):
    kills = int(argv[0]) if argv else 50
    suffixes = argv[1:] or [".keras", ".weights.h5", ".npz"]
    for suffix in suffixes:
        with tempfile.TemporaryDirectory() as folder:
            seen, left = run(kills, suffix, folder)
        print(f"{suffix}: {kills} kills, every file loaded (previous save {seen['previous']}, "
              f"complete new save {seen['new']}); temporaries left by killed writers: {left}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

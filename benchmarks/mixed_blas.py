"""Issue 13's figure: fastops.matmul and np.matmul (OpenBLAS) alternating with no pause, on 2
threads, against each call's time alone (after a 0.3 s pause, so no thread team of either
library is still awake).  Medians of --reps calls.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/mixed_blas.py

A ratio above 1 is the cost of the other library's threads still holding the cores.  Each
figure is measured twice, interleaved: with OpenBLAS's jobs on fastops' pool (the default
since issue 13) and on OpenBLAS's own workers (FASTOPS_BLAS_THREADS=native).
"""
import argparse
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

import fastops
from fastops import _blas_threads
from _timing import timed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    blas = [f"{i['internal_api']} {i['version']} {i.get('architecture')}"
            for i in threadpool_info() if i.get("user_api") == "blas"]
    print(f"fastops SIMD {fastops.get_simd()}, {args.threads} threads; BLAS {blas}")
    rng = np.random.default_rng(0)
    shapes = {"1024^3": (1024, 1024, 1024), "X.W1 128x784.784x512": (128, 784, 512)}
    with threadpool_limits(args.threads, user_api="blas"), \
            fastops.config_context(num_threads=args.threads, backend="fastops"):
        for name, (m, k, n) in shapes.items():
            a = rng.random((m, k), dtype=np.float32)
            b = rng.random((k, n), dtype=np.float32)
            c1, c2 = np.empty((m, n), np.float32), np.empty((m, n), np.float32)
            fo = lambda: fastops.matmul(a, b, out=c1)  # noqa: E731
            nb = lambda: np.matmul(a, b, out=c2)  # noqa: E731
            for f in (fo, nb):
                for _ in range(5):
                    f()
            # both ways of running OpenBLAS's jobs, interleaved rep by rep
            modes = {"pool": _blas_threads.install, "native": _blas_threads.uninstall}
            alone = {(m, lib): [] for m in modes for lib in ("fastops", "numpy")}
            after = {(m, lib): [] for m in modes for lib in ("fastops", "numpy")}
            for _ in range(args.reps):
                for mode, switch in modes.items():
                    switch()
                    time.sleep(0.3)
                    alone[mode, "fastops"].append(timed(fo))
                    time.sleep(0.3)
                    alone[mode, "numpy"].append(timed(nb))
                    # no pause: each call right after the other library's
                    for _ in range(3):
                        after[mode, "numpy"].append(timed(nb))
                        after[mode, "fastops"].append(timed(fo))
            _blas_threads.install()
            print(f"\n{name}")
            for mode, lib in alone:
                a_ms = np.median(alone[mode, lib]) * 1e3
                m_ms = np.median(after[mode, lib]) * 1e3
                print(f"  OpenBLAS jobs on {mode:6s}  {lib:8s} alone {a_ms:7.3f} ms   right "
                      f"after the other {m_ms:7.3f} ms   ratio {m_ms / a_ms:.2f}")

if __name__ == "__main__":
    main()

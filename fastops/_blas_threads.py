"""OpenBLAS's parallel jobs on fastops' thread pool (issue 13; docs/thread_pool.md).

NumPy and SciPy wheels each bundle an OpenBLAS whose workers busy-wait for about 0.1 s after
every threaded call; the next fastops kernel then shares the cores with them and runs up to
2x slower.  OpenBLAS 0.3.27+ exports a setter for a callback that runs its parallel jobs
instead of its own workers.  fastops installs its own (src/fo_blas_threads.c) in every
OpenBLAS the process has loaded: then both libraries run on one set of workers that sleep
1 ms after a call, and a mixed script runs each call at its own speed.

FASTOPS_BLAS_THREADS=native leaves OpenBLAS alone.  Other BLAS libraries (MKL, Accelerate,
an OpenBLAS without the setter) are left alone too.  Only libraries already loaded are
touched: fastops never loads a library the process has not.
"""
import ctypes
import glob
import os
import sys
import threading

from . import _kernels

MODES = ("pool", "native")
# the setter's names: scipy-openblas prefixes its symbols, and its ILP64 build (NumPy's)
# also suffixes them
_SETTERS = tuple(f"{prefix}openblas_set_threads_callback_function{suffix}"
                 for prefix in ("scipy_", "") for suffix in ("64_", ""))

_lock = threading.Lock()
_examined = set()   # library paths looked at (installed or not)
_installed = []     # (path, setter) of the libraries whose jobs run on fastops' pool


def mode():
    """'pool' (default) or 'native', from FASTOPS_BLAS_THREADS; ValueError naming it."""
    text = os.environ.get("FASTOPS_BLAS_THREADS", "").strip().lower()
    if not text:
        return "pool"
    if text not in MODES:
        raise ValueError("the environment variable FASTOPS_BLAS_THREADS must be one of "
                         f"{MODES}, got {os.environ['FASTOPS_BLAS_THREADS']!r}")
    return text


def _loaded_openblas_paths():
    """Paths of the OpenBLAS libraries mapped into this process."""
    paths = []
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.rstrip("\n").split(" ", 5)[-1].strip()
                if "openblas" in os.path.basename(path).lower() and path not in paths:
                    paths.append(path)
        return paths
    except OSError:  # no procfs (macOS): the wheels' bundled copies of imported packages
        pass
    for package in ("numpy", "scipy"):
        module = sys.modules.get(package)
        origin = getattr(getattr(module, "__spec__", None), "origin", None)
        if origin is None:
            continue
        root = os.path.dirname(os.path.dirname(origin))
        for pattern in (f"{package}.libs/*openblas*", f"{package}/.dylibs/*openblas*"):
            paths.extend(glob.glob(os.path.join(root, pattern)))
    return paths


def _setter(path):
    """The callback setter of the library at `path`, or None (not loaded, not OpenBLAS 0.3.27+)."""
    try:
        library = ctypes.CDLL(path, mode=getattr(os, "RTLD_NOLOAD", 0) | os.RTLD_LOCAL)
    except OSError:
        return None
    for name in _SETTERS:
        setter = getattr(library, name, None)
        if setter is not None:
            setter.argtypes = [ctypes.c_void_p]
            setter.restype = None
            return setter
    return None


def install():
    """Run the jobs of every loaded OpenBLAS not yet examined on fastops' pool.  Returns the
    paths of all libraries whose jobs do.  Idempotent; cheap when nothing new is loaded."""
    entry = _kernels.blas_threads_entry()
    if mode() == "native" or not entry:
        return []
    with _lock:
        for path in _loaded_openblas_paths():
            if path in _examined:
                continue
            _examined.add(path)
            setter = _setter(path)
            if setter is not None:
                setter(entry)
                _installed.append((path, setter))
        return [path for path, _ in _installed]


def uninstall():
    """Give every library back its own workers (for tests and benchmarks)."""
    with _lock:
        for _, setter in _installed:
            setter(None)
        _installed.clear()
        _examined.clear()


def installed():
    """Paths of the libraries whose jobs run on fastops' pool."""
    with _lock:
        return [path for path, _ in _installed]


def counts():
    """(OpenBLAS calls run through fastops' pool, those that started threads of their own,
    jobs moved off a CPU another job of their call started on)."""
    return _kernels.blas_threads_counts()

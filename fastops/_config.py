"""Process-wide settings: thread count, SIMD level, matmul backend.

Compiled modules register here at import; a setting changed here is pushed into
each of them as a plain C int, so no kernel call pays a Python lookup for it.
"""
import contextlib
import os

SIMD_LEVELS = ("portable", "avx2", "avx512")  # index == FO_ISA_* in src/fo_cpu.h
BACKENDS = ("fastops", "blas", "naive")

_modules = []
_state = {}


def _env_threads():
    for var in ("FASTOPS_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "").split(",")[0].strip()
        if value:
            try:
                n = int(value)
            except ValueError:
                raise ValueError(f"{var}={os.environ[var]!r} is not a positive integer") from None
            if n < 1:
                raise ValueError(f"{var}={os.environ[var]!r} is not a positive integer")
            return n
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _cpu_level():
    return min((m._cpu_level() for m in _modules), default=0)


def _register(module):
    """Called by each compiled module at import: push the current settings into it."""
    _modules.append(module)
    module._set_num_threads(get_num_threads())
    if "simd" in _state:
        module._set_isa(min(_state["simd"], module._cpu_level()))
    else:
        set_simd(os.environ.get("FASTOPS_SIMD", "auto"))


def get_num_threads():
    """Threads the kernels may use (FASTOPS_NUM_THREADS, else OMP_NUM_THREADS, else all cores)."""
    if "threads" not in _state:
        _state["threads"] = _env_threads()
    return _state["threads"]


def set_num_threads(n):
    """Set the number of threads every fastops kernel may use (small arrays always use one)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive int, got {n!r}")
    _state["threads"] = n
    for m in _modules:
        m._set_num_threads(n)


def get_simd():
    """Name of the SIMD path the kernels run: 'avx512', 'avx2' or 'portable'."""
    return SIMD_LEVELS[_state.get("simd", _cpu_level())]


def cpu_simd():
    """Best SIMD path this CPU supports (what 'auto' selects)."""
    return SIMD_LEVELS[_cpu_level()]


def set_simd(name):
    """Force a SIMD path: 'auto' (best the CPU has), 'avx512', 'avx2' or 'portable'.

    The environment variable FASTOPS_SIMD sets the same at import.  Asking for a
    path the CPU lacks raises ValueError rather than crashing with SIGILL.
    """
    if name == "auto":
        level = _cpu_level()
    elif name in SIMD_LEVELS:
        level = SIMD_LEVELS.index(name)
        if level > _cpu_level():
            raise ValueError(f"set_simd: this CPU supports at most {cpu_simd()!r}, got {name!r}")
    else:
        raise ValueError(f"set_simd: name must be 'auto' or one of {SIMD_LEVELS}, got {name!r}")
    _state["simd"] = level
    for m in _modules:
        m._set_isa(min(level, m._cpu_level()))


def get_backend():
    """The matmul backend used when `backend=None`: 'fastops', 'blas' or 'naive'."""
    return _state.get("backend", "fastops")


def set_backend(name):
    """Set the process-wide matmul backend: 'fastops' (own kernels), 'blas' or 'naive'."""
    if name not in BACKENDS:
        raise ValueError(f"set_backend: name must be one of {BACKENDS}, got {name!r}")
    _state["backend"] = name


@contextlib.contextmanager
def config_context(*, num_threads=None, simd=None, backend=None):
    """Temporarily change settings, restoring them on exit.

    >>> with fastops.config_context(num_threads=1, simd="portable"):
    ...     fastops.relu(x)
    """
    saved = (get_num_threads(), get_simd(), get_backend())
    try:
        if num_threads is not None:
            set_num_threads(num_threads)
        if simd is not None:
            set_simd(simd)
        if backend is not None:
            set_backend(backend)
        yield
    finally:
        set_num_threads(saved[0])
        set_simd(saved[1])
        set_backend(saved[2])

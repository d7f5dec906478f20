"""Settings of the kernels: threads, SIMD level, matmul backend.

Process-wide defaults (`set_num_threads`, `set_simd`, `set_backend`, or the environment at
import) and `config_context`, which overrides them for a block of code in the current thread
or asyncio task only (a contextvars.ContextVar, as NumPy keeps np.errstate).  Every kernel
reads the settings once per call and passes them down; no C global holds a setting.

Validation comes first and state changes last, so a rejected value leaves every setting as
it was.
"""
import contextlib
import os
import platform
import threading

from . import _kernels


def _simd_levels(machine):
    """The names of the ISA levels (index == FO_ISA_* in src/fo_base.h) of the architecture
    the extension was built for (the interpreter's: an extension matches its interpreter).
    On aarch64 level 1 is NEON, which every AArch64 CPU has; 'portable' forces the plain C
    kernels there too."""
    machine = machine.lower()
    if machine in ("x86_64", "amd64", "x86", "i386", "i486", "i586", "i686"):
        return ("portable", "avx2", "avx512")
    if machine in ("aarch64", "arm64", "aarch64_be"):
        return ("portable", "neon")
    return ("portable",)


SIMD_LEVELS = _simd_levels(platform.machine())
BACKENDS = _kernels.BACKEND_NAMES             # ('fastops', 'blas', 'naive', 'cython', 'auto')
# Threads beyond this are clamped: the thread pool's size (src/fo_pool.h).
MAX_THREADS = 256

_lock = threading.Lock()  # set_* read-modify-write the defaults


def _usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _threads(value, what):
    """A thread count: a positive int, clamped to MAX_THREADS; ValueError naming `what`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be a positive int, got {value!r}")
    return min(value, MAX_THREADS)


def _env_threads():
    for var in ("FASTOPS_NUM_THREADS", "OMP_NUM_THREADS"):
        text = os.environ.get(var, "").split(",")[0].strip()
        if text:
            try:
                n = int(text)
            except ValueError:
                n = 0
            return _threads(n if n >= 1 else text, f"the environment variable {var}")
    return min(_usable_cores(), MAX_THREADS)


def _simd_level(name, what="set_simd: name"):
    cpu = _kernels.cpu_level()
    if name == "auto":
        return cpu
    if name not in SIMD_LEVELS:
        raise ValueError(f"{what} must be 'auto' or one of {SIMD_LEVELS}, got {name!r}")
    level = SIMD_LEVELS.index(name)
    if level > cpu:
        raise ValueError(f"{what} must be at most {SIMD_LEVELS[cpu]!r} on this CPU, got {name!r}")
    return level


def _backend_index(name, what="set_backend: name"):
    if name not in BACKENDS:
        raise ValueError(f"{what} must be one of {BACKENDS}, got {name!r}")
    return BACKENDS.index(name)


def _replace_defaults(num_threads=None, isa=None, backend=None):
    with _lock:
        d = _kernels.get_defaults()
        _kernels.set_defaults(_kernels.Settings(
            d.num_threads if num_threads is None else num_threads,
            d.isa if isa is None else isa,
            d.backend if backend is None else backend))


def get_num_threads():
    """Threads the kernels may use here (FASTOPS_NUM_THREADS, else OMP_NUM_THREADS, else all
    usable cores; small arrays always use one)."""
    return _kernels.current_settings()[0]


def set_num_threads(n):
    """Set the process-wide number of threads of fastops' kernels (clamped to 256)."""
    _replace_defaults(num_threads=_threads(n, "set_num_threads: n"))


def cpu_simd():
    """Best SIMD path this CPU supports (what 'auto' selects)."""
    return SIMD_LEVELS[_kernels.cpu_level()]


def get_simd(family=None):
    """The SIMD path in effect: the requested level, or with `family` ('elementwise', 'gemm',
    'nn') the level that family's kernels actually run (the elementwise loops, bound by
    memory, stop at 'avx2'; on aarch64 only the GEMM has NEON kernels, the other families are
    the portable C, which the compiler vectorises for NEON)."""
    isa = _kernels.current_settings()[1]
    if family is None:
        return SIMD_LEVELS[isa]
    if family not in ("elementwise", "gemm", "nn"):
        raise ValueError(f"get_simd: family must be None, 'elementwise', 'gemm' or 'nn', got "
                         f"{family!r}")
    return SIMD_LEVELS[_kernels.family_isa(family, isa)]


def set_simd(name):
    """Force a SIMD path: 'auto' (best the CPU has), 'avx512', 'avx2' or 'portable' (x86);
    'auto', 'neon' or 'portable' (aarch64).

    The environment variable FASTOPS_SIMD sets the same at import.  A path the CPU lacks
    raises ValueError rather than crashing with SIGILL.
    """
    _replace_defaults(isa=_simd_level(name))


def get_backend():
    """The matmul backend used when `backend=None`: 'auto' (the default), 'fastops', 'blas',
    'naive' or 'cython'.  `fastops.show_config()` shows what 'auto' runs."""
    return BACKENDS[_kernels.current_settings()[2]]


def set_backend(name):
    """Set the process-wide matmul backend (see get_backend)."""
    _replace_defaults(backend=_backend_index(name))


@contextlib.contextmanager
def config_context(*, num_threads=None, simd=None, backend=None):
    """Change settings for the block, in this thread or asyncio task only.

    Other threads keep theirs; nested contexts inherit what they do not set.

    Example:
        >>> with fastops.config_context(num_threads=1, simd="portable"):
        ...     fastops.relu(x)
    """
    n = -1 if num_threads is None else _threads(num_threads, "config_context: num_threads")
    isa = -1 if simd is None else _simd_level(simd, "config_context: simd")
    b = -1 if backend is None else _backend_index(backend, "config_context: backend")
    outer = _kernels.settings_var.get(None)
    if outer is not None:
        n = outer.num_threads if n < 0 else n
        isa = outer.isa if isa < 0 else isa
        b = outer.backend if b < 0 else b
    token = _kernels.settings_var.set(_kernels.Settings(n, isa, b))
    try:
        yield
    finally:
        _kernels.settings_var.reset(token)


def _init_from_environment():
    _kernels.set_defaults(_kernels.Settings(
        _env_threads(),
        _simd_level(os.environ.get("FASTOPS_SIMD", "auto"),
                    "the environment variable FASTOPS_SIMD"),
        BACKENDS.index("auto")))


_init_from_environment()

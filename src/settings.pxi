# The kernel settings (threads, SIMD level, matmul backend) as every typed entry reads them,
# once per call, and the run-time facts beside them (thread pool, CPU level, ISA per kernel
# family).  Included by _kernels.pyx before the checking layer (contract.pxi).
#
# A setting comes from fastops.config_context (a context variable: local to the thread or
# asyncio task) or else the process defaults (fastops.set_*, validated by fastops._config).
import contextvars

from cpython.contextvars cimport get_value


cdef class Settings:
    """Kernel settings: threads, ISA level (FO_ISA_*), matmul backend (index into BACKENDS).

    In a config_context, a field of -1 means "the process default"."""
    cdef readonly int num_threads
    cdef readonly int isa
    cdef readonly int backend

    def __cinit__(self, int num_threads=-1, int isa=-1, int backend=-1):
        self.num_threads = num_threads
        self.isa = isa
        self.backend = backend

    def __repr__(self):
        return f"Settings(num_threads={self.num_threads}, isa={self.isa}, backend={self.backend})"


cdef Settings _defaults = Settings(1, FO_ISA_PORTABLE, 0)
settings_var = contextvars.ContextVar("fastops_settings")


def set_defaults(Settings s):
    """The process-wide settings (fastops._config validates before calling this)."""
    global _defaults
    _defaults = s


def get_defaults():
    return _defaults


cdef struct Config:
    int nthreads
    int isa
    int backend


cdef inline Config current_config():
    cdef Config c
    cdef Settings d = _defaults
    cdef object o = get_value(settings_var, None)
    cdef Settings s
    c.nthreads = d.num_threads
    c.isa = d.isa
    c.backend = d.backend
    if o is not None:
        s = <Settings>o
        if s.num_threads >= 0:
            c.nthreads = s.num_threads
        if s.isa >= 0:
            c.isa = s.isa
        if s.backend >= 0:
            c.backend = s.backend
    return c


def current_settings():
    """(num_threads, isa, backend) in effect here."""
    cdef Config c = current_config()
    return c.nthreads, c.isa, c.backend


def pool_state():
    """The thread pool as it is now: workers alive, workers spinning, CPU time (ns) all its
    workers have used, and the spin time (us) before an idle worker sleeps."""
    return fo_pool_size(), fo_pool_spinning(), fo_pool_worker_cpu_ns(), fo_pool_get_spin_us()


def set_spin_us(int us):
    """How long (us, 0..100000) an idle worker spins before it sleeps."""
    if not 0 <= us <= FO_POOL_MAX_SPIN_US:
        raise ValueError(f"spin must be in [0, {FO_POOL_MAX_SPIN_US}] microseconds, got {us}")
    fo_pool_set_spin_us(us)


def cpu_level():
    """Highest ISA level (FO_ISA_*) this CPU supports."""
    return fo_cpu_level()


def family_isa(str family, int isa):
    """The ISA level a kernel family runs when `isa` is requested."""
    if family == "elementwise":
        return fo_elementwise_isa(isa)
    if family == "gemm":
        return fo_gemm_isa(isa)
    if family == "nn":
        return fo_nn_isa(isa)
    raise ValueError(f"family_isa: unknown family {family!r}")


"""What fastops runs on this machine: `fastops.show_config()`, like np.show_config()."""
import platform
import sys

from . import _blas_threads, _config, _kernels

FAMILIES = ("elementwise", "gemm", "nn")


def _cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas_libraries():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return [lib for lib in threadpool_info() if lib.get("user_api") == "blas"]


def config():
    """The facts show_config prints, as a dict."""
    _, isa, _ = _kernels.current_settings()
    backend = _config.get_backend()
    return {
        "fastops": sys.modules["fastops"].__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu": _cpu_model(),
        "cpu_simd": _config.cpu_simd(),
        "simd": _config.get_simd(),
        "simd_by_family": {f: _config.get_simd(f) for f in FAMILIES},
        "num_threads": _config.get_num_threads(),
        "backend": backend,
        "auto_backend": {dt: _kernels.auto_backend(isa, dt) for dt in ("float32", "float64")},
        "blas": _blas_libraries(),
        "blas_on_pool": _blas_threads.installed(),
    }


def config_line():
    """One line: backend actually run, threads and SIMD (what fastops-train prints)."""
    c = config()
    run = c["auto_backend"]["float32"] if c["backend"] == "auto" else c["backend"]
    backend = f"auto ({run})" if c["backend"] == "auto" else run
    return f"backend {backend}, {c['num_threads']} threads, simd {c['simd']}"


def show_config(file=None):
    """Print the CPU, the SIMD level each kernel family runs, threads, the BLAS library and
    its core type (through threadpoolctl, when installed), and the matmul backend that
    'auto' chooses per dtype."""
    c = config()
    out = file or sys.stdout
    w = out.write
    w(f"fastops {c['fastops']} (Python {c['python']}, {c['machine']})\n")
    w(f"CPU: {c['cpu']}; best SIMD: {c['cpu_simd']}; selected: {c['simd']}\n")
    w("kernel families: " + ", ".join(f"{f} {lvl}" for f, lvl in c["simd_by_family"].items())
      + "\n")
    w(f"threads: {c['num_threads']} (fastops' own pool)\n")
    w(f"matmul backend: {c['backend']}; 'auto' runs "
      + ", ".join(f"{dt}: {b}" for dt, b in c["auto_backend"].items()) + "\n")
    if c["blas"] is None:
        w("BLAS: (pip install threadpoolctl to see the BLAS libraries)\n")
    elif not c["blas"]:
        w("BLAS: none loaded yet\n")
    for lib in c["blas"] or ():
        w(f"BLAS: {lib.get('internal_api')} {lib.get('version')}, core "
          f"{lib.get('architecture')}, {lib.get('num_threads')} threads ({lib.get('filepath')})\n")
    w("BLAS jobs on fastops' pool: " + (", ".join(c["blas_on_pool"]) or
                                        "none (FASTOPS_BLAS_THREADS=native or no OpenBLAS "
                                        "0.3.27+ loaded)") + "\n")

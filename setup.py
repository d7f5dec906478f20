"""Build fastops' compiled extensions: every src/_*.pyx becomes fastops._*.

Portable by design: -O3 without -march=native.  SIMD paths are compiled with
per-function target attributes and chosen at run time (src/fo_cpu.h), so a wheel
built here runs on any x86-64 or ARM CPU.  OpenMP is used when the compiler
accepts it and left out cleanly when it does not (Apple clang).

Environment switches:
  FASTOPS_DEBUG_CYTHON=1   bounds checks and wraparound back on (debug builds)
  FASTOPS_NO_OPENMP=1      build without OpenMP even if the compiler has it
"""
import glob
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import tempfile

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

# hand-written C sources each extension links, beside its .pyx
C_SOURCES = {
    "_elementwise": ["src/elementwise_kernels.c"],
    "_matmul": ["src/gemm_kernels.c"],
    "_nn": ["src/nn_kernels.c"],
    "_cython_kernels": [],
    "_cython_kernels_avx2": [],
}

# Extensions compiled with flags of their own.  The AVX2 build of the pure-Cython rung
# gets the target flags on its command line (Cython has no per-function target
# attribute); it is built for x86-64 gcc/clang only and imported only on CPUs with
# AVX2 and FMA (src/_cython_kernels.pyx checks first).
EXTRA_CFLAGS = {"_cython_kernels_avx2": ["-mavx2", "-mfma"]}


def _builds_for_this_target(name):
    if name not in EXTRA_CFLAGS:
        return True
    machine = platform.machine().lower()
    return sys.platform != "win32" and machine in ("x86_64", "amd64")


def _compiler_accepts_openmp():
    if os.environ.get("FASTOPS_NO_OPENMP"):
        return False
    if sys.platform == "win32":
        return True  # MSVC: /openmp (OpenMP 2.0; our C loops follow its rules)
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(cc) is None:
        return False
    src = "#include <omp.h>\nint main(void){return omp_get_max_threads() < 1;}\n"
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "t.c")
        with open(path, "w") as f:
            f.write(src)
        try:
            r = subprocess.run([cc, "-fopenmp", path, "-o", os.path.join(d, "t")],
                               capture_output=True, timeout=60)
        except (OSError, subprocess.SubprocessError):
            return False
        return r.returncode == 0


def _flags():
    openmp = _compiler_accepts_openmp()
    if sys.platform == "win32":
        cflags, ldflags = ["/O2"], []
        if openmp:
            cflags.append("/openmp")
    else:
        # -fno-math-errno: sqrt/exp need not set errno, so they vectorise; no -ffast-math,
        # which would break NaN propagation and IEEE results the tests compare exactly.
        cflags = ["-O3", "-fno-math-errno", "-Wno-unused-function", "-Wno-unreachable-code"]
        ldflags = []
        if openmp:
            cflags.append("-fopenmp")
            ldflags.append("-fopenmp")
    if not openmp:
        print("fastops: building WITHOUT OpenMP (kernels run on one thread)")
    return cflags, ldflags


def _extensions():
    cflags, ldflags = _flags()
    exts = []
    for name in sorted(C_SOURCES):
        pyx = f"src/{name}.pyx"
        if not os.path.exists(pyx) or not _builds_for_this_target(name):
            continue
        exts.append(Extension(
            f"fastops.{name}",
            sources=[pyx] + C_SOURCES[name],
            # headers and the driver included by the C files: an edit rebuilds them
            depends=sorted(glob.glob("src/*.h") + glob.glob("src/*.inc")),
            include_dirs=["src", np.get_include()],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
            extra_compile_args=cflags + EXTRA_CFLAGS.get(name, []),
            extra_link_args=ldflags,
        ))
    debug = bool(os.environ.get("FASTOPS_DEBUG_CYTHON"))
    directives = {
        "language_level": 3,
        "boundscheck": debug,
        "wraparound": debug,
        "initializedcheck": debug,
        "cdivision": True,
        "embedsignature": True,
    }
    return cythonize(exts, compiler_directives=directives, include_path=["src"])


setup(ext_modules=_extensions())

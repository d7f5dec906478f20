"""Build fastops' compiled extensions (EXTENSIONS below).

Portable by design: -O3 without -march=native.  SIMD paths are compiled with
per-function target attributes and chosen at run time (src/fo_base.h), so a wheel
built here runs on any x86-64 or ARM CPU.  The kernels run on fastops' own pthread pool
(src/fo_pool.c); only the pure-Cython rung uses OpenMP (prange), when the compiler
accepts it, and runs on one thread when it does not (Apple clang).

Environment switches:
  FASTOPS_DEBUG_CYTHON=1   bounds checks and wraparound back on (debug builds)
  FASTOPS_NO_OPENMP=1      build without OpenMP even if the compiler has it
"""
import glob
import os
import platform
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

# extension -> its sources (the .pyx first, then the hand-written C it links) and whether it
# uses OpenMP (only the pure-Cython rung does, for prange)
EXTENSIONS = {
    "_kernels": (["src/_kernels.pyx", "src/fo_elementwise.c", "src/fo_unary.c", "src/fo_gemm.c",
                  "src/fo_nn.c", "src/fo_pool.c", "src/fo_blas_threads.c"], False),
    "_cython_kernels": (["src/_cython_kernels.pyx"], True),
    "_cython_kernels_avx2": (["src/_cython_kernels_avx2.pyx"], True),
    "_cython_kernels_avx512": (["src/_cython_kernels_avx512.pyx"], True),
}

# Extensions compiled with flags of their own.  The AVX2 and AVX-512 builds of the
# pure-Cython rung get the target flags on their command line (Cython has no per-function
# target attribute); they are built for x86-64 gcc/clang only and imported only on CPUs
# with those extensions (src/_cython_kernels.pyx checks first).  The AVX-512 flags are
# the set fastops' own AVX-512 kernels require (src/fo_base.h); without
# -mprefer-vector-width=512 gcc may keep to 256-bit vectors.
EXTRA_CFLAGS = {
    "_cython_kernels_avx2": ["-mavx2", "-mfma"],
    "_cython_kernels_avx512": ["-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512dq", "-mavx2",
                               "-mfma", "-mprefer-vector-width=512"],
}


def _builds_for_this_target(name):
    if name not in EXTRA_CFLAGS:
        return True
    machine = platform.machine().lower()
    return sys.platform != "win32" and machine in ("x86_64", "amd64")


def _compiler_command():
    """The C compiler the build will run: $CC when set (as setuptools takes it), else the one
    Python was built with.  Testing Python's own compiler instead let `CC=clang pip install .`
    with a clang lacking OpenMP (Apple's, or Linux clang without libomp) add -fopenmp and fail
    on omp.h, and lose OpenMP with a $CC that has it (Homebrew's LLVM on macOS)."""
    return shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")


def _compiler_accepts_openmp():
    if os.environ.get("FASTOPS_NO_OPENMP"):
        return False
    if sys.platform == "win32":
        return True  # MSVC: /openmp (OpenMP 2.0; our C loops follow its rules)
    cc = _compiler_command()
    if not cc or shutil.which(cc[0]) is None:
        return False
    # the user's flags too: libomp's -I/-L may come through them (docs/macos.md)
    flags = [f for var in ("CPPFLAGS", "CFLAGS") for f in shlex.split(os.environ.get(var, ""))]
    ldflags = shlex.split(os.environ.get("LDFLAGS", ""))
    src = "#include <omp.h>\nint main(void){return omp_get_max_threads() < 1;}\n"
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "t.c")
        with open(path, "w") as f:
            f.write(src)
        try:
            r = subprocess.run([*cc, *flags, "-fopenmp", path, "-o", os.path.join(d, "t"),
                                *ldflags], capture_output=True, timeout=60)
        except (OSError, subprocess.SubprocessError):
            return False
        return r.returncode == 0


def _flags(openmp):
    if sys.platform == "win32":
        cflags, ldflags = ["/O2"], []
        if openmp:
            cflags.append("/openmp")
        return cflags, ldflags
    # -fno-math-errno: sqrt/exp need not set errno, so they vectorise; no -ffast-math,
    # which would break NaN propagation and IEEE results the tests compare exactly.
    # -pthread: fastops' own thread pool (src/fo_pool.c); -lm: <fenv.h> lives in libm
    cflags = ["-O3", "-fno-math-errno", "-pthread", "-fvisibility=hidden",
              "-Wno-unused-function", "-Wno-unreachable-code"]
    ldflags = ["-pthread", "-lm"]
    if openmp:
        cflags.append("-fopenmp")
        ldflags.append("-fopenmp")
    return cflags, ldflags


def _extensions():
    have_openmp = _compiler_accepts_openmp()
    if not have_openmp:
        print("fastops: building WITHOUT OpenMP")
    exts = []
    for name, (sources, wants_openmp) in sorted(EXTENSIONS.items()):
        if not _builds_for_this_target(name):
            continue
        cflags, ldflags = _flags(wants_openmp and have_openmp)
        exts.append(Extension(
            f"fastops.{name}",
            sources=sources,
            # headers, templates and included .pxi files: an edit rebuilds the extension
            depends=sorted(glob.glob("src/*.h") + glob.glob("src/*.inc") + glob.glob("src/*.pxi")
                           + glob.glob("src/*.pxd")),
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

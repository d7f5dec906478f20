"""Test helpers shared by the test modules (tests/ is on pytest's pythonpath)."""
import numpy as np

import fastops

FLOAT_DTYPES = (np.float32, np.float64)

# Every SIMD path this CPU can run, plus the portable one (always).
SIMD_PATHS = list(fastops._config.SIMD_LEVELS[:fastops._config.SIMD_LEVELS.index(fastops.cpu_simd()) + 1])

# The Cython rung's builds this CPU can run: its portable build, and on x86-64 the AVX2 and
# AVX-512 builds of the same source (aarch64's NEON has no build of its own).
CYTHON_BUILD_NAMES = [name for name in ("portable", "avx2", "avx512") if name in SIMD_PATHS]


def cython_build(name):
    """The Cython rung's build `name`, which must exist where this CPU can run it: a build
    missing for a level the CPU has fails (a skip would hide an untested build)."""
    from fastops import _cython_kernels as ck
    build = {"portable": ck.PORTABLE, "avx2": ck._avx2_build(),
             "avx512": ck._avx512_build()}[name]
    assert build is not None, f"this CPU runs {name}, but the Cython rung's {name} build is absent"
    return build


def layouts(rng, shape, dtype, special=True):
    """(name, array) pairs holding the same kind of data in different memory layouts.

    Each array has exactly `shape`; values include NaN, ±inf, ±0.0 when `special`.
    """
    def data(shp):
        a = rng.standard_normal(shp).astype(dtype)
        if special and a.size >= 6:
            flat = a.reshape(-1)
            flat[:6] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0]
            rng.shuffle(flat)
        return a

    out = [("contiguous", data(shape))]
    if len(shape) >= 2:
        out.append(("transposed", data(shape[::-1]).T))
        out.append(("fortran", np.asfortranarray(data(shape))))
    if len(shape) >= 1:
        big = data(tuple(2 * n for n in shape))
        out.append(("step2", big[tuple(slice(None, None, 2) for _ in shape)]))
        out.append(("negative", data(shape)[..., ::-1]))
        swapped = data(shape)
        out.append(("byteswapped", swapped.astype(swapped.dtype.newbyteorder(">"))))
    ro = data(shape)
    ro.flags.writeable = False
    out.append(("readonly", ro))
    if len(shape) >= 1 and np.prod(shape) > 0:
        out.append(("misaligned", misaligned(data(shape))))
    return out


def misaligned(a):
    """A copy of `a` whose data starts one byte off its dtype's alignment."""
    buf = np.zeros(a.nbytes + 1, np.uint8)
    m = np.frombuffer(buf.data, dtype=a.dtype, count=a.size, offset=1).reshape(a.shape)
    m[...] = a
    assert not m.flags.aligned
    return m


def numeric_grad(f, x, h=1e-6):
    """Central differences of the scalar f() with respect to every element of x (in place)."""
    g = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        fp = f()
        x[idx] = old - h
        fm = f()
        x[idx] = old
        g[idx] = (fp - fm) / (2 * h)
    return g

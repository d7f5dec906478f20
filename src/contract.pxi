# The one checking layer of every kernel family (included by _kernels.pyx).
#
# Every public kernel runs these rules before any work, and only these:
#   operands  array_likes become ndarrays (np.asarray); Python int/float stay weak scalars as
#             in NumPy 2; None, ragged lists and complex/object/string/datetime dtypes raise
#             TypeError naming the argument;
#   dtypes    the result dtype is NumPy's promotion of the operands.  float32 and float64 are
#             computed by fastops; every other real dtype (bool, integers, float16, longdouble)
#             by NumPy where NumPy has the operation, with NumPy's exact result; the nn
#             kernels, which NumPy lacks, compute float32/float64 only (integer input becomes
#             float64, as np.exp does) and reject the others;
#   subclass  np.memmap is read as the ndarray it is; other ndarray subclasses (masked
#             arrays, np.matrix) are handed to NumPy, which knows their meaning, or rejected
#             with TypeError where NumPy has no such operation;
#   out       an ndarray of exactly the result's shape and dtype (fastops does not cast into
#             out), writeable; it may overlap any input: the result is as if every input had
#             been read before out was written (NumPy's rule), by copying the overlapping
#             input or computing into a temporary;
#   memory    misaligned or byte-swapped inputs are copied; a misaligned out is computed aside;
#   errors    np.errstate is honoured for the operations NumPy reports: divide, overflow,
#             underflow and invalid, raised by fastops' own threads;
#   settings  threads, SIMD level and matmul backend come from fastops.config_context (local to
#             the thread or asyncio task) or the process defaults (fastops.set_*), read once
#             per call and passed down (settings.pxi).
import os
import sys
import warnings

try:
    from numpy.exceptions import AxisError
except ImportError:  # NumPy < 1.25
    AxisError = np.AxisError

_REJECTED_KINDS = {"c": "complex", "O": "object", "U": "string", "S": "bytes",
                   "V": "structured/void", "M": "datetime", "m": "timedelta"}
_SUPPORTED = ("float32 and float64 are computed by fastops; bool, integer and other real "
              "floating dtypes by NumPy")


# ---- operands ----

cdef inline int dtype_code(cnp.ndarray x):
    """FO_F32/FO_F64 for a native-order, aligned float32/float64 array, else -1."""
    cdef int t = cnp.PyArray_TYPE(x)
    if not cnp.PyArray_ISNOTSWAPPED(x) or not cnp.PyArray_ISALIGNED(x):
        return -1
    if t == cnp.NPY_FLOAT32:
        return FO_F32
    if t == cnp.NPY_FLOAT64:
        return FO_F64
    return -1


cdef inline int typenum_of(int code):
    return cnp.NPY_FLOAT32 if code == FO_F32 else cnp.NPY_FLOAT64


cdef inline bint is_plain(object x):
    """An ndarray fastops computes on as it is: exactly ndarray, or np.memmap."""
    return cnp.PyArray_CheckExact(x) or isinstance(x, np.memmap)


cdef inline bint is_foreign(object x):
    """An ndarray subclass with its own meaning (masked array, np.matrix, ...)."""
    return cnp.PyArray_Check(x) and not is_plain(x)


cdef inline bint is_dask(object x):
    return not cnp.PyArray_Check(x) and hasattr(type(x), "__dask_graph__")


cdef object as_operand(object x, str fn, str arg):
    """x as an ndarray (base class), or a Python int/float left as a weak scalar."""
    if type(x) is float or type(x) is int:
        return x
    if x is None:
        raise TypeError(f"{fn}: argument {arg} is None, expected an array or a number")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like: say which argument
        raise TypeError(f"{fn}: argument {arg} cannot be converted to an array: {exc}") from None
    kind = arr.dtype.kind
    if kind in _REJECTED_KINDS:
        raise TypeError(f"{fn}: argument {arg} has unsupported {_REJECTED_KINDS[kind]} dtype "
                        f"{arr.dtype}; {_SUPPORTED}")
    return arr


cdef inline bint whole_strides(cnp.ndarray x) noexcept:
    """Every stride a whole number of elements (the kernels index typed pointers)."""
    cdef int d
    cdef fo_idx isz = cnp.PyArray_ITEMSIZE(x)
    for d in range(cnp.PyArray_NDIM(x)):
        if cnp.PyArray_STRIDE(x, d) % isz:
            return False
    return True


cdef cnp.ndarray kernel_ready(object x, object dtype):
    """x as a native, aligned ndarray of `dtype` (copied only when it must be)."""
    cdef cnp.ndarray arr = np.asarray(x, dtype=dtype)
    if not cnp.PyArray_ISNOTSWAPPED(arr):
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if not cnp.PyArray_ISALIGNED(arr):
        arr = arr.copy()  # the kernels index typed pointers
    return arr


cdef cnp.ndarray float_operand(object x, str fn, str arg):
    """An nn kernel's float operand: float32/float64 ndarray (integers and bools become
    float64, as np.exp makes them), native and aligned."""
    if cnp.PyArray_CheckExact(x) and dtype_code(<cnp.ndarray>x) >= 0:
        return <cnp.ndarray>x  # what the rest would return unchanged, at a fraction of the cost
    if is_foreign(x) or is_dask(x):
        raise TypeError(f"{fn}: {arg} is a {type(x).__module__}.{type(x).__name__}; this kernel "
                        f"takes numpy.ndarray (convert with np.asarray)")
    arr = as_operand(x, fn, arg)
    if type(arr) is float or type(arr) is int:
        arr = np.asarray(arr)
    kind = arr.dtype.kind
    if kind in "biu":
        return kernel_ready(arr, np.float64)
    if arr.dtype.type not in (np.float32, np.float64):
        raise TypeError(f"{fn}: {arg} has dtype {arr.dtype}; the nn kernels compute float32 "
                        f"and float64")
    return kernel_ready(arr, arr.dtype.newbyteorder("="))


# ---- out ----

cdef cnp.ndarray check_out(object out, int nd, const cnp.npy_intp *shape, int typenum, str fn):
    """out validated against the result: ndarray, exact shape and dtype, writeable."""
    if type(out) is tuple and len(out) == 1:  # the ufunc convention out=(arr,)
        out = out[0]
    if not cnp.PyArray_Check(out):
        raise TypeError(f"{fn}: out must be a numpy.ndarray, got {type(out).__name__}")
    cdef cnp.ndarray o = out
    cdef int d
    if cnp.PyArray_TYPE(o) != typenum or not cnp.PyArray_ISNOTSWAPPED(o):
        want = np.dtype(cnp.PyArray_TypeObjectFromType(typenum))
        raise TypeError(f"{fn}: out has dtype {o.dtype}, the result is {want}; "
                        f"fastops does not cast into out")
    shape_ok = cnp.PyArray_NDIM(o) == nd
    if shape_ok:
        for d in range(nd):
            if cnp.PyArray_DIM(o, d) != shape[d]:
                shape_ok = False
                break
    if not shape_ok:
        shp = tuple([shape[d] for d in range(nd)])
        raise ValueError(f"{fn}: out has shape {(<object>o).shape}, the result has shape {shp}")
    if not cnp.PyArray_ISWRITEABLE(o):
        raise ValueError(f"{fn}: output array is read-only")
    return o


cdef object unwrap_out(object out):
    return out[0] if type(out) is tuple else out


# ---- overlap ----

cdef inline void array_extent(cnp.ndarray x, char **lo, char **hi) noexcept:
    """Byte range [lo, hi) the array's elements occupy (lo == hi when it is empty)."""
    cdef int d
    cdef char *base = <char *>cnp.PyArray_DATA(x)
    cdef cnp.npy_intp n, s
    lo[0] = base
    hi[0] = base + cnp.PyArray_ITEMSIZE(x)
    for d in range(cnp.PyArray_NDIM(x)):
        n = cnp.PyArray_DIM(x, d)
        s = cnp.PyArray_STRIDE(x, d)
        if n == 0:
            hi[0] = lo[0]
            return
        if s < 0:
            lo[0] += (n - 1) * s
        else:
            hi[0] += (n - 1) * s


cdef inline bint overlaps(cnp.ndarray x, cnp.ndarray y) noexcept:
    """True when the byte ranges of x and y intersect (like np.may_share_memory: no false
    negatives, possible false positives, which only cost a copy)."""
    cdef char *xl
    cdef char *xh
    cdef char *yl
    cdef char *yh
    array_extent(x, &xl, &xh)
    array_extent(y, &yl, &yh)
    return xl < xh and yl < yh and xl < yh and yl < xh


cdef inline bint same_elements(cnp.ndarray x, cnp.ndarray y) noexcept:
    """x and y are the very same elements in the same order (an in-place call)."""
    cdef int d
    if cnp.PyArray_DATA(x) != cnp.PyArray_DATA(y) or cnp.PyArray_NDIM(x) != cnp.PyArray_NDIM(y):
        return False
    for d in range(cnp.PyArray_NDIM(x)):
        if cnp.PyArray_DIM(x, d) != cnp.PyArray_DIM(y, d):
            return False
        if cnp.PyArray_DIM(x, d) > 1 and cnp.PyArray_STRIDE(x, d) != cnp.PyArray_STRIDE(y, d):
            return False
    return True


cdef cnp.ndarray unaliased(cnp.ndarray x, cnp.ndarray out):
    """x, or a copy of it when out overlaps it other than as the very same elements: what
    a kernel reads must not change under it (NumPy's as-if-copied rule)."""
    if overlaps(x, out) and not same_elements(x, out):
        return x.copy()
    return x


cdef int disjoint(str fn, dict arrays) except -1:
    """Arrays updated in place (by name; None: absent) must not share memory with each
    other."""
    cdef list items = [(name, a) for name, a in arrays.items() if a is not None]
    cdef Py_ssize_t i, j
    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            if overlaps(items[i][1], items[j][1]):
                raise ValueError(f"{fn}: {items[j][0]} shares memory with {items[i][0]}; the "
                                 f"update needs separate arrays")
    return 0


# ---- np.errstate ----

FP_ARITHMETIC = FO_FE_DIVBYZERO | FO_FE_OVERFLOW | FO_FE_UNDERFLOW | FO_FE_INVALID
_FP_NAMES = ((FO_FE_DIVBYZERO, "divide", "divide by zero"),
             (FO_FE_OVERFLOW, "over", "overflow"),
             (FO_FE_UNDERFLOW, "under", "underflow"),
             (FO_FE_INVALID, "invalid", "invalid value"))


cdef int report_fp(int status, str fn) except -1:
    """Act on raised flags as NumPy's ufuncs do under np.errstate (warn, raise, call, print,
    log, ignore), in NumPy's order and wording."""
    err = np.geterr()
    for bit, key, text in _FP_NAMES:
        if not status & bit:
            continue
        mode = err[key]
        msg = f"{text} encountered in {fn}"
        if mode == "ignore":
            continue
        if mode == "warn":
            warnings.warn(msg, RuntimeWarning, stacklevel=1)
        elif mode == "raise":
            raise FloatingPointError(msg)
        elif mode == "call":
            np.geterrcall()(text, bit)
        elif mode == "print":
            print(f"Warning: {msg}", file=sys.stderr)
        elif mode == "log":
            np.geterrcall().write(f"Warning: {msg}\n")
    return 0


cdef inline int check_fp(int status, str fn) except -1:
    if status:
        report_fp(status, fn)
    return 0

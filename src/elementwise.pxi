# Elementwise kernels: NumPy's broadcasting, then one strided C walk
# (src/fo_elementwise.c) with the GIL released.  Included by _kernels.pyx.

# Rungs of the elementwise family: fastops' SIMD C, or the pure-Cython module.
cdef enum:
    TIER_FASTOPS = 0
    TIER_CYTHON = 1

_BINARY_NAMES = ("add", "subtract", "multiply", "divide", "maximum", "minimum",
                 "bias_add_relu", "relu_backward", "sigmoid_backward", "tanh_backward")
# flags NumPy reports for the equivalent ufunc; comparisons and the nn backward ops report none
cdef int[10] _BINARY_FP = [FP_ARITHMETIC, FP_ARITHMETIC, FP_ARITHMETIC, FP_ARITHMETIC, 0, 0,
                           FO_FE_OVERFLOW | FO_FE_UNDERFLOW, 0, 0, 0]
# relu(x) is maximum(x, 0) with a broadcast 0-d zero
cdef cnp.ndarray _ZERO32 = np.zeros((), np.float32)
cdef cnp.ndarray _ZERO64 = np.zeros((), np.float64)
_ZERO32.flags.writeable = False
_ZERO64.flags.writeable = False

cdef void broadcast_strides(cnp.ndarray x, int nd, const cnp.npy_intp *shape,
                            cnp.npy_intp *sx) noexcept:
    cdef int d, off = nd - cnp.PyArray_NDIM(x)
    for d in range(nd):
        if d < off or cnp.PyArray_DIM(x, d - off) != shape[d]:
            sx[d] = 0
        else:
            sx[d] = cnp.PyArray_STRIDE(x, d - off)


cdef object binary_arrays(int op, cnp.ndarray a, cnp.ndarray b, object out, int code, str fn,
                          int tier):
    """out := op(a, b) for native aligned arrays of one float dtype `code`."""
    cdef int nda = cnp.PyArray_NDIM(a), ndb = cnp.PyArray_NDIM(b)
    cdef int nd = nda if nda > ndb else ndb
    cdef int d, status = 0
    cdef cnp.npy_intp da, db
    cdef cnp.npy_intp shape[FO_MAX_NDIM]
    cdef cnp.npy_intp sa[FO_MAX_NDIM]
    cdef cnp.npy_intp sb[FO_MAX_NDIM]
    cdef cnp.npy_intp so[FO_MAX_NDIM]
    cdef bint fortran = False, fresh = out is None
    cdef cnp.ndarray o, target = None
    cdef Config cfg = current_config()
    for d in range(nd):
        da = cnp.PyArray_DIM(a, d - (nd - nda)) if d >= nd - nda else 1
        db = cnp.PyArray_DIM(b, d - (nd - ndb)) if d >= nd - ndb else 1
        if da == db or db == 1:
            shape[d] = da
        elif da == 1:
            shape[d] = db
        else:
            raise ValueError(f"{fn}: operands could not be broadcast together "
                             f"with shapes {(<object>a).shape} {(<object>b).shape}")
    if out is None:
        # NumPy's K order for the common case: a Fortran-ordered operand of full shape gives
        # a Fortran-ordered result, so no axis is walked across.
        if nd > 1 and nda == nd and not cnp.PyArray_IS_C_CONTIGUOUS(a) \
                and cnp.PyArray_IS_F_CONTIGUOUS(a):
            fortran = True
        o = cnp.PyArray_EMPTY(nd, shape, typenum_of(code), fortran)
    else:
        o = check_out(out, nd, shape, typenum_of(code), fn)
        if not cnp.PyArray_ISALIGNED(o):  # compute aligned, then let NumPy copy it over
            target = o
            o = cnp.PyArray_EMPTY(nd, shape, typenum_of(code), False)
        a = unaliased(a, o)
        b = unaliased(b, o)
    if tier == TIER_CYTHON:
        cython_rung(cfg.isa).binary(op, a, b, o, cython_threads(cfg.nthreads))
    else:
        broadcast_strides(a, nd, shape, sa)
        broadcast_strides(b, nd, shape, sb)
        for d in range(nd):
            so[d] = cnp.PyArray_STRIDE(o, d)
        with nogil:
            if _BINARY_FP[op]:
                fo_fp_clear()
            fo_binary(op, code, cfg.isa, cfg.nthreads, nd, shape, <char *>cnp.PyArray_DATA(a),
                      sa, <char *>cnp.PyArray_DATA(b), sb, <char *>cnp.PyArray_DATA(o), so, fresh)
            if _BINARY_FP[op]:
                status = fo_fp_status() & _BINARY_FP[op]
        check_fp(status, fn)
    if target is not None:
        target[...] = o
    if out is None:
        return o if nd else o[()]  # 0-d results become NumPy scalars, as ufuncs do
    return unwrap_out(out)


cdef object delegate_binary(str fn, object a, object b, object out):
    """NumPy's result where fastops does not compute: other dtypes, ndarray subclasses."""
    kw = {} if out is None else {"out": out}
    if fn == "bias_add_relu":
        return np.maximum(np.add(a, b), 0, **kw)
    if fn == "bias_add":
        return np.add(a, b, **kw)
    if fn == "relu_backward":
        if is_foreign(a) or is_foreign(b):
            raise TypeError(f"relu_backward: ndarray subclasses are not supported (got "
                            f"{type(a).__name__}, {type(b).__name__}); convert with np.asarray")
        grad, x = np.asarray(a), np.asarray(b)
        res = np.where(x > 0, grad, np.zeros((), np.result_type(grad, x)))
        if out is None:
            return res[()] if res.ndim == 0 else res
        np.copyto(unwrap_out(out), res, casting="same_kind")
        return unwrap_out(out)
    if fn in ("sigmoid_backward", "tanh_backward"):
        raise TypeError(f"{fn}: float32 or float64 operands only")
    return getattr(np, fn)(a, b, **kw)


cdef object binary(int op, object a, object b, object out, str fn, int tier, str a_name="a",
                   str b_name="b"):
    """a_name, b_name: the entry's parameter names, for its error messages."""
    cdef int code
    if cnp.PyArray_CheckExact(a) and cnp.PyArray_CheckExact(b):
        code = dtype_code(a)
        if code >= 0 and cnp.PyArray_TYPE(a) == cnp.PyArray_TYPE(b) and dtype_code(b) == code:
            return binary_arrays(op, a, b, out, code, fn, tier)
    if is_dask(a) or is_dask(b):
        return dask_dispatch(fn, a, b, out=out)
    if is_foreign(a) or is_foreign(b):
        return delegate_binary(fn, a, b, out)
    xa = as_operand(a, fn, a_name)
    xb = as_operand(b, fn, b_name)
    dtype = np.result_type(xa, xb)
    if dtype.type not in (np.float32, np.float64):
        return delegate_binary(fn, xa, xb, out)
    xa = kernel_ready(xa, dtype)
    xb = kernel_ready(xb, dtype)
    return binary_arrays(op, xa, xb, out, dtype_code(xa), fn, tier)


cdef object unary_float(object x, str fn):
    """x as an array fastops computes on, or None when NumPy must (other dtypes)."""
    if is_dask(x) or is_foreign(x):
        return None
    arr = as_operand(x, fn, "x")
    if type(arr) is float or type(arr) is int:
        return None
    if arr.dtype.kind == "f" and arr.dtype.itemsize in (4, 8):
        return kernel_ready(arr, arr.dtype.newbyteorder("="))
    return None


cdef object relu_tier(object x, object out, int tier):
    cdef int code
    if cnp.PyArray_CheckExact(x):
        code = dtype_code(x)
        if code >= 0:
            return binary_arrays(FO_MAXIMUM, x, _ZERO32 if code == FO_F32 else _ZERO64, out,
                                 code, "relu", tier)
    if is_dask(x):
        return dask_dispatch("relu", x, out=out)
    xa = unary_float(x, "relu")
    if xa is None:
        return np.maximum(x, 0, out=out) if out is not None else np.maximum(x, 0)
    code = dtype_code(xa)
    return binary_arrays(FO_MAXIMUM, xa, _ZERO32 if code == FO_F32 else _ZERO64, out, code,
                         "relu", tier)


cdef tuple bias_operands(object x, object b, str fn):
    """(x, b) converted as every operand is, then Keras' bias_add contract: b is 1-D with one
    value per entry of x's last axis."""
    if not (is_foreign(x) or is_dask(x)):
        x = as_operand(x, fn, "x")
    if not (is_foreign(b) or is_dask(b)):
        b = as_operand(b, fn, "b")
    # np.shape costs a microsecond (its dispatch); the training step calls this per layer
    xs = x.shape if cnp.PyArray_Check(x) else np.shape(x)
    bs = b.shape if cnp.PyArray_Check(b) else np.shape(b)
    if len(bs) != 1 or len(xs) == 0 or xs[-1] != bs[0]:
        raise ValueError(f"{fn}: b must be 1-D with x.shape[-1] = {xs[-1] if xs else None} "
                         f"elements, got x {tuple(xs)} and b {tuple(bs)}")
    return x, b


def binary_tier(str fn, a, b, out=None, int tier=TIER_FASTOPS):
    """The binary op `fn` on the rung `tier` (fastops.cython uses this)."""
    if fn in ("bias_add", "bias_add_relu"):
        a, b = bias_operands(a, b, fn)
    op = FO_ADD if fn == "bias_add" else _BINARY_NAMES.index(fn)
    if fn == "relu_backward":
        return binary(op, a, b, out, fn, tier, "grad", "x")
    return binary(op, a, b, out, fn, tier)


def relu_on_tier(x, out=None, int tier=TIER_FASTOPS):
    return relu_tier(x, out, tier)


# ---- public kernels ----

def add(a, b, out=None):
    """out := a + b, with NumPy broadcasting.

    Args:
        a, b: array_like.  float32/float64 are computed by fastops; bool, integer and other
            real floating inputs by NumPy (same result and dtype); complex, object and
            string inputs raise TypeError.
        out: optional ndarray of the broadcast shape and exactly the result dtype (fastops
            does not cast); it may be, or overlap, an input.

    Returns:
        ndarray (a NumPy scalar for 0-d inputs without `out`), as np.add.

    Example:
        >>> fastops.add(np.ones((2, 3), np.float32), 1.0)   # float32: Python scalars are weak
        array([[2., 2., 2.],
               [2., 2., 2.]], dtype=float32)
    """
    return binary(FO_ADD, a, b, out, "add", TIER_FASTOPS)


def subtract(a, b, out=None):
    """out := a - b, with NumPy broadcasting (see fastops.add for dtypes and out)."""
    return binary(FO_SUBTRACT, a, b, out, "subtract", TIER_FASTOPS)


def multiply(a, b, out=None):
    """out := a * b, with NumPy broadcasting (see fastops.add for dtypes and out)."""
    return binary(FO_MULTIPLY, a, b, out, "multiply", TIER_FASTOPS)


def divide(a, b, out=None):
    """out := a / b (true division: x/0 is ±inf or nan, reported as np.errstate says)."""
    return binary(FO_DIVIDE, a, b, out, "divide", TIER_FASTOPS)


def maximum(a, b, out=None):
    """out := max(a, b) elementwise; a NaN in either operand propagates, as np.maximum."""
    return binary(FO_MAXIMUM, a, b, out, "maximum", TIER_FASTOPS)


def minimum(a, b, out=None):
    """out := min(a, b) elementwise; a NaN in either operand propagates, as np.minimum."""
    return binary(FO_MINIMUM, a, b, out, "minimum", TIER_FASTOPS)


def relu(x, out=None):
    """out := max(x, 0), bit for bit np.maximum(x, 0): NaN stays NaN, -0.0 gives 0.0.

    Example:
        >>> fastops.relu(a, out=a)   # in place
    """
    return relu_tier(x, out, TIER_FASTOPS)


def relu_backward(grad, x, out=None):
    """out := grad where x > 0, else 0: the gradient of relu at x (NaN in x gives 0).

    np.where(x > 0, grad, 0) in the promoted dtype, with broadcasting.  x may be relu's input
    or its output (they are positive at the same places).
    """
    return binary(FO_RELU_BACKWARD, grad, x, out, "relu_backward", TIER_FASTOPS, "grad", "x")


def bias_add(x, b, out=None):
    """out := x + b for b of shape (x.shape[-1],), as Keras' bias_add."""
    x, b = bias_operands(x, b, "bias_add")
    return binary(FO_ADD, x, b, out, "bias_add", TIER_FASTOPS)


def bias_add_relu(x, b, out=None):
    """out := max(x + b, 0) in one pass over memory, as np.maximum(x + b, 0), for b of shape
    (x.shape[-1],)."""
    x, b = bias_operands(x, b, "bias_add_relu")
    return binary(FO_BIAS_ADD_RELU, x, b, out, "bias_add_relu", TIER_FASTOPS)

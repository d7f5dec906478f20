# Reductions: sum (whole array, or along axes, accumulated in float64) and all_finite.
# Included by _kernels.pyx.

cdef object reduced_axes(object axis, int nd, str fn, char *reduced):
    """Fill reduced[d] (1: axis d is summed); AxisError (a ValueError) when out of range."""
    cdef int d
    if axis is None:
        for d in range(nd):
            reduced[d] = 1
        return None
    axes = axis if isinstance(axis, tuple) else (axis,)
    for d in range(nd):
        reduced[d] = 0
    for ax in axes:
        try:  # np.integer and 0-d integer arrays too, as NumPy takes them; not bools
            if isinstance(ax, (bool, np.bool_)):
                raise TypeError
            ax = operator.index(ax)
        except TypeError:
            raise TypeError(f"{fn}: axis must be None, an int or a tuple of ints, got "
                            f"{axis!r}") from None
        if nd == 0 and ax in (0, -1) and not isinstance(axis, tuple):
            continue  # NumPy's one exception: a 0-d array takes axis=0 or -1 as no axis
        if not -nd <= ax < nd:
            raise AxisError(f"{fn}: axis {ax} is out of bounds for array of dimension {nd}")
        d = ax % nd
        if reduced[d]:
            raise ValueError(f"{fn}: duplicate value in axis {axis!r}")
        reduced[d] = 1
    return None


cdef extern from "numpy/arrayobject.h":
    # NumPy's own C API, left commented out in numpy's Cython declarations
    object PyArray_Scalar(void *data, cnp.dtype descr, object base)


cdef object numpy_scalar(double value, int code):
    """np.float32(value) or np.float64(value), without the Python-level call of the type
    (a third of a 1e3-element sum's cost)."""
    cdef float single = <float>value
    if code == FO_F32:
        return PyArray_Scalar(&single, cnp.PyArray_DescrFromType(cnp.NPY_FLOAT32), None)
    return PyArray_Scalar(&value, cnp.PyArray_DescrFromType(cnp.NPY_FLOAT64), None)


cdef tuple dims_tuple(int nd, cnp.npy_intp *dims):
    """The result's shape as a tuple, built only on the paths that need one (not for the
    scalar of a whole-array sum, the common small call)."""
    return tuple([dims[d] for d in range(nd)])


cdef object numpy_sum(object x, object axis, bint keepdims, object out):
    """np.sum with only the arguments the caller gave: np.matrix.sum and other subclasses'
    sum methods take no keepdims (np.sum passes it on only when it was given)."""
    kw = {}
    if keepdims:
        kw["keepdims"] = True
    if out is not None:
        kw["out"] = out
    return np.sum(x, axis=axis, **kw)


cdef object sum_tier(object x, object axis, bint keepdims, object out, int tier):
    cdef int code, d, nd, k, status
    cdef cnp.npy_intp shape[FO_MAX_NDIM]
    cdef cnp.npy_intp sx[FO_MAX_NDIM]
    cdef cnp.npy_intp sacc[FO_MAX_NDIM]
    cdef cnp.npy_intp kept[FO_MAX_NDIM]
    cdef char reduced[FO_MAX_NDIM]
    cdef cnp.npy_intp res_dims[FO_MAX_NDIM]
    cdef int res_nd
    cdef double total
    cdef cnp.ndarray xa, acc
    cdef Config cfg
    if cnp.PyArray_CheckExact(x) and dtype_code(x) >= 0:
        xa = x
    else:
        if is_dask(x):
            return dask_dispatch("sum", x, axis=axis, keepdims=keepdims, out=out)
        xa_ = unary_float(x, "sum")
        if xa_ is None:
            return numpy_sum(x, axis, keepdims, out)
        xa = xa_
    code = dtype_code(xa)
    nd = cnp.PyArray_NDIM(xa)
    reduced_axes(axis, nd, "sum", reduced)
    k = 0
    for d in range(nd):
        shape[d] = cnp.PyArray_DIM(xa, d)
        sx[d] = cnp.PyArray_STRIDE(xa, d)
        if not reduced[d]:
            kept[k] = shape[d]
            k += 1
    rtype = np.float32 if code == FO_F32 else np.float64
    res_nd = nd if keepdims else k
    for d in range(res_nd):
        res_dims[d] = (1 if reduced[d] else shape[d]) if keepdims else kept[d]
    if out is not None:
        out = check_out(out, res_nd, res_dims, typenum_of(code), "sum")
    cfg = current_config()
    if tier == TIER_CYTHON:
        axes = tuple([d for d in range(nd) if reduced[d]])
        r = cython_rung(cfg.isa).sum(xa, axes, cython_threads(cfg.nthreads))
        if k == 0:
            total = r
        else:
            acc = r
    elif k == 0:
        with nogil:
            fo_fp_clear()
            total = fo_sum_all(code, cfg.isa, cfg.nthreads, nd, shape,
                               <char *>cnp.PyArray_DATA(xa), sx)
    else:
        acc = cnp.PyArray_ZEROS(k, kept, cnp.NPY_FLOAT64, 0)
        k = 0
        for d in range(nd):
            if reduced[d]:
                sacc[d] = 0
            else:
                sacc[d] = cnp.PyArray_STRIDE(acc, k)
                k += 1
        with nogil:
            fo_fp_clear()
            fo_sum_into(code, cfg.isa, nd, shape, <char *>cnp.PyArray_DATA(xa), sx,
                        <double *>cnp.PyArray_DATA(acc), sacc)
        k = 1
    if k == 0:
        with nogil:
            if code == FO_F32:  # the rounding to float32 is where a float32 sum overflows
                total = <double><float>total
            status = fo_fp_status() if tier == TIER_FASTOPS else 0
        check_fp(status, "sum")
        if out is not None:
            out[...] = total
            return out
        if keepdims and res_nd:  # a 0-d input keeps no dims: NumPy returns a scalar
            return np.full(dims_tuple(res_nd, res_dims), total, dtype=rtype)
        return numpy_scalar(total, code)
    if tier == TIER_FASTOPS:
        check_fp(fo_fp_status(), "sum")
    if out is None:
        if code == FO_F64:
            res = acc
        else:
            with np.errstate(over="ignore"):  # reported below, in fastops' words
                res = acc.astype(np.float32)
            if tier == TIER_FASTOPS and not np.isfinite(res).all() and np.isfinite(acc).all():
                check_fp(FO_FE_OVERFLOW, "sum")
        return res.reshape(dims_tuple(res_nd, res_dims)) if keepdims else res
    out[...] = acc.reshape(dims_tuple(res_nd, res_dims))
    return out


def sum(x, axis=None, keepdims=False, out=None):
    """Sum over the given axes, as np.sum, accumulated in float64.

    float32 input gives a float32 result, but every partial sum is kept in float64
    (pairwise within runs), so sums of 1e7 float32 values do not drift.  Integer and bool
    input is summed by NumPy (np.sum's result and dtype).

    Args:
        x: array_like.
        axis: None, int or tuple of ints.
        keepdims: keep the reduced axes with length 1.
        out: optional ndarray of the result shape and x's dtype.

    Example:
        >>> fastops.sum(dz, axis=0)        # bias gradient of a (batch, units) array
    """
    return sum_tier(x, axis, keepdims, out, TIER_FASTOPS)


def sum_on_tier(x, axis=None, keepdims=False, out=None, int tier=TIER_FASTOPS):
    return sum_tier(x, axis, keepdims, out, tier)


def all_finite(x):
    """True if x holds no NaN and no ±Inf (one pass, no temporaries).  Any layout."""
    cdef cnp.ndarray xa = float_operand(x, "all_finite", "x")
    cdef int code = dtype_code(xa), nd = cnp.PyArray_NDIM(xa), d, r
    cdef cnp.npy_intp sx[FO_MAX_NDIM]
    cdef Config cfg = current_config()
    for d in range(nd):
        sx[d] = cnp.PyArray_STRIDE(xa, d)
    with nogil:
        r = fo_all_finite(code, cfg.isa, cfg.nthreads, nd, cnp.PyArray_DIMS(xa),
                          <char *>cnp.PyArray_DATA(xa), sx)
    return bool(r)

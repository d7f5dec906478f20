# Matrix products with NumPy's semantics (matmul as np.matmul, dot as np.dot): the checking
# layer's part for products (dtypes, stacks of matrices, out and overlap) over the backends
# of matmul_backends.pxi.  Included by _kernels.pyx.

cdef object F32 = np.dtype(np.float32), F64 = np.dtype(np.float64)


cdef object product_dtype(object a, object b, str fn):
    """The float dtype of the product, or None when NumPy computes it (bool, integers,
    float16, longdouble)."""
    cdef int ca = dtype_code(a), cb = dtype_code(b)
    if ca >= 0 and cb >= 0:  # the usual case, without np.result_type's microsecond
        return F32 if ca == FO_F32 and cb == FO_F32 else F64
    dt = np.result_type(a.dtype, b.dtype)
    if dt.type in (np.float32, np.float64):
        return np.dtype(dt.type)  # native byte order
    return None


cdef cnp.ndarray gemm_ready(cnp.ndarray x, object dt):
    """x as dtype dt with strides the kernels can index (copies only when needed)."""
    if cnp.PyArray_TYPE(x) != (<cnp.dtype>dt).type_num or dtype_code(x) < 0:
        x = kernel_ready(x, dt)
    return x if whole_strides(x) else np.ascontiguousarray(x)


cdef object product(object a, object b, object out, object backend, str fn):
    """matmul's core for >= 1-d operands."""
    cdef Config cfg = current_config()
    cdef int status = 0
    dt = product_dtype(a, b, fn)
    if dt is None:  # NumPy's dtypes (see the module docstring): NumPy computes
        return np.matmul(a, b, out=out) if out is not None else np.matmul(a, b)
    name = resolve_backend(backend, cfg.isa, dt, fn)
    entry = BACKENDS[name]
    a2 = a[np.newaxis, :] if a.ndim == 1 else a
    b2 = b[:, np.newaxis] if b.ndim == 1 else b
    if a2.shape[-1] != b2.shape[-2]:
        raise ValueError(f"{fn}: inner dimensions differ: a has shape {a.shape} and b has "
                         f"shape {b.shape} ({a2.shape[-1]} != {b2.shape[-2]})")
    batch = () if a2.ndim == 2 and b2.ndim == 2 else stack_shape(a2.shape[:-2], b2.shape[:-2])
    if batch is None:
        raise ValueError(f"{fn}: stack dimensions of a {a.shape} and b {b.shape} do not "
                         f"broadcast")
    m, n = a2.shape[-2], b2.shape[-1]
    shape = batch + ((m,) if a.ndim > 1 else ()) + ((n,) if b.ndim > 1 else ())
    a2, b2 = gemm_ready(a2, dt), gemm_ready(b2, dt)
    if out is None:
        c = result = np.empty(shape, dt)
    else:
        result = check_out_shape(out, shape, dt, fn)
        if (overlaps(result, a2) or overlaps(result, b2) or not cnp.PyArray_ISALIGNED(result)
                or not whole_strides(result)):
            c = np.empty(shape, dt)  # the product must see the inputs as they were
        else:
            c = result
    c2 = c
    if a.ndim == 1:
        c2 = c2[..., np.newaxis, :] if b.ndim > 1 else c2[..., np.newaxis]
    if b.ndim == 1:
        c2 = c2[..., np.newaxis]
    fo_fp_clear()
    if not batch:
        entry(a2, b2, c2, cfg.isa, cfg.nthreads)
    else:
        for idx in _stack_indices(batch):
            entry(a2[stack_index(idx, a2.shape)], b2[stack_index(idx, b2.shape)], c2[idx],
                  cfg.isa, cfg.nthreads)
    status = fo_fp_status() & (FO_FE_OVERFLOW | FO_FE_INVALID | FO_FE_DIVBYZERO)
    # Zero-padded edge tiles can raise a flag for products that are then discarded: a real
    # overflow or invalid operation always leaves a non-finite value in the result.
    if status and not all_finite(c):
        check_fp(status, fn)
    if c is not result:
        result[...] = c
    if out is None and result.ndim == 0:
        return result[()]  # vector . vector is a scalar, as in NumPy
    return result


cdef object stack_shape(tuple sa, tuple sb):
    """The broadcast of two stack shapes, or None (np.broadcast_shapes stops at 32 dims)."""
    nd = max(len(sa), len(sb))
    sa = (1,) * (nd - len(sa)) + sa
    sb = (1,) * (nd - len(sb)) + sb
    out = []
    for x, y in zip(sa, sb):
        if x != y and x != 1 and y != 1:
            return None
        out.append(y if x == 1 else x)
    return tuple(out)


cdef tuple stack_index(tuple idx, tuple shape):
    """The matrix of an operand of `shape` at stack index idx (broadcast axes read 0)."""
    nd = len(shape) - 2
    return tuple([0 if n == 1 else i for i, n in zip(idx[len(idx) - nd:], shape[:nd])])


def _stack_indices(batch):
    """Every index of a stack shape, C order (np.ndindex is limited to 32 dimensions)."""
    if 0 in batch:
        return
    idx = [0] * len(batch)
    while True:
        yield tuple(idx)
        d = len(batch) - 1
        while d >= 0:
            idx[d] += 1
            if idx[d] < batch[d]:
                break
            idx[d] = 0
            d -= 1
        if d < 0:
            return


cdef cnp.ndarray check_out_shape(object out, tuple shape, cnp.dtype dt, str fn):
    cdef cnp.npy_intp dims[FO_MAX_NDIM]
    cdef int d
    for d in range(len(shape)):
        dims[d] = shape[d]
    return check_out(out, len(shape), dims, dt.type_num, fn)


cdef object product_operand(object x, str fn, str arg):
    arr = as_operand(x, fn, arg)
    if type(arr) is float or type(arr) is int:
        arr = np.asarray(arr)
    return arr


ctypedef object (*product_rule)(object, object, object, object)


cdef object product_call(str fn, product_rule rule, object a, object b, object out,
                         object backend):
    """The path matmul and dot share: dask arrays go to fastops' dask products, ndarray
    subclasses to NumPy's function of the same name; the rest become ndarray operands, which
    `rule` (matmul's or dot's) multiplies."""
    if is_dask(a) or is_dask(b):
        return dask_dispatch(fn, a, b, out=out, backend=backend)
    if is_foreign(a) or is_foreign(b):
        numpy_fn = getattr(np, fn)
        return numpy_fn(a, b, out=out) if out is not None else numpy_fn(a, b)
    return rule(product_operand(a, fn, "a"), product_operand(b, fn, "b"), out, backend)


def matmul(a, b, out=None, backend=None):
    """Matrix product with np.matmul's semantics.

    Args:
        a, b: arrays of at least 1 dimension.  1-d operands are vectors (a row on the left,
            a column on the right, dropped from the result); more than 2 dimensions are
            stacks of matrices broadcast against each other.
        out: optional array for the result, with exactly its shape and dtype; it may overlap
            a or b (the result is then as if it did not).
        backend: None (the setting: fastops.get_backend()), 'auto', 'fastops', 'blas',
            'naive' or 'cython'.

    Returns:
        The product (a scalar for vector . vector), or `out`.

    Example:
        >>> fastops.matmul(np.ones((2, 3), np.float32), np.ones(3, np.float32))
        array([3., 3.], dtype=float32)
    """
    cdef int code
    # two float matrices of one dtype, and out an ndarray or None: the training loop's call,
    # which skips the dispatch on dask arrays, subclasses and scalars
    if cnp.PyArray_CheckExact(a) and cnp.PyArray_CheckExact(b) \
            and (out is None or cnp.PyArray_CheckExact(out)) \
            and cnp.PyArray_NDIM(a) == 2 and cnp.PyArray_NDIM(b) == 2:
        code = dtype_code(a)
        if code >= 0 and dtype_code(b) == code and cnp.PyArray_TYPE(a) == cnp.PyArray_TYPE(b):
            return product(a, b, out, backend, "matmul")
    return product_call("matmul", matmul_rule, a, b, out, backend)


cdef object matmul_rule(object xa, object xb, object out, object backend):
    """np.matmul's rule for ndarray operands: at least 1-d each."""
    for x, name in ((xa, "a"), (xb, "b")):
        if x.ndim == 0:
            raise ValueError(f"matmul: {name} is 0-d (shape ()); matmul needs at least 1 "
                             f"dimension (use multiply for scalars)")
    return product(xa, xb, out, backend, "matmul")


def dot(a, b, out=None, backend=None):
    """Dot product with np.dot's semantics.

    0-d operand: elementwise product.  1-d . 1-d: inner product (a scalar).  2-d and 1-d
    operands: matrix products as matmul.  N-d: sum over the last axis of a and the
    second-to-last of b, result shape a.shape[:-1] + b.shape[:-2] + b.shape[-1:].
    `backend` as for matmul.
    """
    return product_call("dot", dot_rule, a, b, out, backend)


cdef object dot_rule(object xa, object xb, object out, object backend):
    """np.dot's rule for ndarray operands (see dot)."""
    if xa.ndim == 0 or xb.ndim == 0:
        return binary(FO_MULTIPLY, xa, xb, out, "dot", TIER_FASTOPS)
    if xa.ndim <= 2 and xb.ndim <= 2:
        return product(xa, xb, out, backend, "dot")
    k_b = xb.shape[0] if xb.ndim == 1 else xb.shape[-2]
    if xa.shape[-1] != k_b:
        raise ValueError(f"dot: inner dimensions differ: a has shape {xa.shape} and b has "
                         f"shape {xb.shape} ({xa.shape[-1]} != {k_b})")
    shape = xa.shape[:-1] + (xb.shape[:-2] + xb.shape[-1:] if xb.ndim > 1 else ())
    # N-d as one 2-d product; reshape with explicit sizes (-1 is ambiguous for empty axes)
    rows = int(np.prod(xa.shape[:-1]))
    cols = int(np.prod(xb.shape[:-2] + xb.shape[-1:])) if xb.ndim > 1 else None
    b2 = xb if xb.ndim == 1 else np.moveaxis(xb, -2, 0).reshape(k_b, cols)
    res = np.asarray(product(xa.reshape(rows, xa.shape[-1]), b2, None, backend, "dot"))
    res = res.reshape(shape)
    if out is None:
        return res if shape else res[()]
    result = check_out_shape(out, shape, res.dtype, "dot")
    result[...] = res
    return result

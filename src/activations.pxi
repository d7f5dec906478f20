# The unary float kernels of the nn family (sigmoid, tanh and their backward ops, exported
# as fastops.nn.*): the elementwise walk of elementwise.pxi on one input.  Included by
# _kernels.pyx.

cdef object unary_kernel(int op, object x, object out, str fn):
    cdef cnp.ndarray xa = float_operand(x, fn, "x")
    cdef int code = dtype_code(xa), nd = cnp.PyArray_NDIM(xa), d
    cdef cnp.npy_intp sx[FO_MAX_NDIM]
    cdef cnp.npy_intp so[FO_MAX_NDIM]
    cdef cnp.ndarray o, target = None
    cdef Config cfg = current_config()
    if out is None:
        o = cnp.PyArray_EMPTY(nd, cnp.PyArray_DIMS(xa), typenum_of(code), False)
    else:
        o = check_out(out, nd, cnp.PyArray_DIMS(xa), typenum_of(code), fn)
        if not cnp.PyArray_ISALIGNED(o):
            target = o
            o = cnp.PyArray_EMPTY(nd, cnp.PyArray_DIMS(xa), typenum_of(code), False)
        xa = unaliased(xa, o)
    for d in range(nd):
        sx[d] = cnp.PyArray_STRIDE(xa, d)
        so[d] = cnp.PyArray_STRIDE(o, d)
    with nogil:
        fo_unary(op, code, cfg.isa, cfg.nthreads, nd, cnp.PyArray_DIMS(xa),
                 <char *>cnp.PyArray_DATA(xa), sx, <char *>cnp.PyArray_DATA(o), so)
    if target is not None:
        target[...] = o
        return target
    return o


cdef object unary_backward_kernel(int op, object grad, object y, object out, str fn):
    cdef object g = float_operand(grad, fn, "grad")
    cdef object ya = float_operand(y, fn, "y")
    if g.shape != ya.shape:
        raise ValueError(f"{fn}: grad has shape {g.shape} but y has shape {ya.shape}")
    dtype = np.result_type(g, ya)
    res = binary_arrays(op, kernel_ready(g, dtype), kernel_ready(ya, dtype), out,
                        FO_F32 if dtype == np.float32 else FO_F64, fn, TIER_FASTOPS)
    return res if out is not None or g.ndim else np.asarray(res)


def sigmoid(x, out=None):
    """out := 1 / (1 + exp(-x)), without overflow for large |x|.  float64 is computed in
    double; float32 in float32 lanes on the SIMD paths (within 2 ulp, README Deviations)."""
    return unary_kernel(FO_SIGMOID, x, out, "sigmoid")


def sigmoid_backward(grad, y, out=None):
    """out := grad * y * (1 - y): the gradient through sigmoid, from its output y."""
    return unary_backward_kernel(FO_SIGMOID_BACKWARD, grad, y, out, "sigmoid_backward")


def tanh(x, out=None):
    """out := tanh(x).  float64 is computed in double; float32 in float32 lanes on the SIMD
    paths (within 2 ulp, README Deviations)."""
    return unary_kernel(FO_TANH, x, out, "tanh")


def tanh_backward(grad, y, out=None):
    """out := grad * (1 - y**2): the gradient through tanh, from its output y."""
    return unary_backward_kernel(FO_TANH_BACKWARD, grad, y, out, "tanh_backward")

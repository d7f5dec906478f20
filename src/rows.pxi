# Row kernels that move data: the batch gather (take_rows) and inverted dropout.  Included
# by _kernels.pyx.

# ---- row gather ----

def take_rows(x, indices, out):
    """out[i] := x[indices[i]], converted to out's dtype (float32/float64) in the same pass:
    the batch gather of training, which np.take cannot do across dtypes.

    Args:
        x: float32/float64 array of 2 dimensions (rows, features), any layout.
        indices: integer array (m,), each in [0, len(x)) (else ValueError, nothing written).
        out: float32/float64 array (m, features), any layout; must not overlap x.
    """
    fn = "take_rows"
    cdef cnp.ndarray xa = float_operand(x, fn, "x")
    if cnp.PyArray_NDIM(xa) != 2:
        raise ValueError(f"{fn}: x must be 2-D (rows, features), got shape {np.shape(xa)}")
    if not cnp.PyArray_Check(out) or np.asarray(out).dtype.type not in (np.float32, np.float64):
        raise TypeError(f"{fn}: out must be a float32 or float64 ndarray, got "
                        f"{getattr(out, 'dtype', type(out).__name__)}")
    cdef cnp.ndarray o = out
    idx = labels_operand(indices, np.size(indices), fn, "indices")
    cdef cnp.npy_intp dims[2]
    dims[0] = cnp.PyArray_DIM(idx, 0)
    dims[1] = cnp.PyArray_DIM(xa, 1)
    check_out(o, 2, dims, cnp.PyArray_TYPE(o), fn)
    if overlaps(o, xa):
        raise ValueError(f"{fn}: out shares memory with x")
    # the indices are checked once and read again row by row: rows written into memory they
    # share would change them after the check
    if overlaps(idx, o):
        idx = idx.copy()
    cdef cnp.ndarray k_out = kernel_out(o)
    cdef Config cfg = current_config()
    cdef fo_mat mx = mat_of(xa), mo = mat_of(k_out)
    cdef fo_idx n = dims[0], k = dims[1], n_src = cnp.PyArray_DIM(xa, 0), bad = -1
    cdef int src = dtype_code(xa)
    cdef const int64_t *pi = <const int64_t *>cnp.PyArray_DATA(idx)
    cdef bint f32 = cnp.PyArray_TYPE(k_out) == cnp.NPY_FLOAT32
    with nogil:
        (fo_take_rows_f32 if f32 else fo_take_rows_f64)(
            cfg.isa, cfg.nthreads, n, k, mx, src, n_src, pi, mo, &bad)
    if bad >= 0:
        raise ValueError(f"{fn}: indices must lie in [0, {n_src}), found {idx[bad]} at {bad}")
    finish_out(k_out, out)
    return out


# ---- dropout ----

def dropout(x, rate, seed, out=None):
    """Inverted dropout: out = where(keep, x / (1 - rate), 0), keep drawn from (seed, element
    index) so dropout_backward redraws the same mask without storing it.

    Element i (flat C order) is kept when (mix(key + (i + 1) * G) >> 40) >= int(rate * 2**24),
    key = mix(seed + G), mix the splitmix64 finaliser, G = 0x9E3779B97F4A7C15 (mod 2**64).

    Args:
        x: float32/float64 array, any shape.
        rate: fraction dropped, in [0, 1].
        seed: int in [0, 2**64).
        out: optional array of x's shape and dtype; may be x itself.
    """
    return dropout_kernel(x, rate, seed, out, "dropout")


def dropout_backward(grad, rate, seed, out=None):
    """The gradient through dropout(., rate, seed): the same mask and scale applied to grad."""
    return dropout_kernel(grad, rate, seed, out, "dropout_backward")


cdef object dropout_kernel(object x, object rate, object seed, object out, str fn):
    r = hyper(fn, "rate", rate, 0.0, 1.0)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
        raise ValueError(f"{fn}: seed must be an int in [0, 2**64), got {seed!r}")
    cdef cnp.ndarray xa = float_operand(x, fn, "x")
    cdef cnp.ndarray o = rows_out(out, xa, fn)
    cdef cnp.ndarray k_out = kernel_out(o)
    if xa.ndim == 0 or xa.size == 0:
        k_out[...] = xa if r < 1 else 0
        finish_out(k_out, out)
        return unwrap_out(out) if out is not None else k_out
    xa = unaliased(xa, o)
    cdef cnp.ndarray xr = as_rows(xa, fn, "x")
    cdef cnp.ndarray orows = as_rows(k_out, fn, "out")
    cdef Config cfg = current_config()
    cdef fo_mat mx = mat_of(xr), mo = mat_of(orows)
    cdef fo_idx n = cnp.PyArray_DIM(xr, 0), k = cnp.PyArray_DIM(xr, 1)
    cdef uint64_t cut = <uint64_t>int(r * 2**24), s = <uint64_t>int(seed)
    cdef double keep = 1.0 - r
    cdef bint f32_ = cnp.PyArray_TYPE(<cnp.ndarray>xr) == cnp.NPY_FLOAT32
    with nogil:
        (fo_dropout_f32 if f32_ else fo_dropout_f64)(
            cfg.isa, cfg.nthreads, n, k, mx, cut, keep, s, mo)
    sync_rows(orows, k_out)
    finish_out(k_out, out)
    return unwrap_out(out) if out is not None else k_out

# The optimizer updates (exported as fastops.nn.*_update): in place on the variable and its
# slots, the gradient regularised in the same pass.  Included by _kernels.pyx; the C is
# src/fo_nn_updates.inc.


cdef double hyper(str fn, str name, object value, double lo=-INFINITY,
                  double hi=INFINITY) except? -1.0:
    """A finite number within [lo, hi], as a float; TypeError/ValueError naming it."""
    cdef double v
    if type(value) is float:  # what the optimizers pass: nothing to convert
        v = <double>value
    else:
        # float() would also parse strings and bytes; a number means a real scalar
        if isinstance(value, (bool, np.bool_, str, bytes)) or np.ndim(value) != 0:
            raise TypeError(f"{fn}: {name} must be a number, got {value!r}")
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"{fn}: {name} must be a number, got {value!r}") from None
    if not isfinite(v) or v < lo or v > hi:
        rng = "" if lo == -INFINITY and hi == INFINITY else f" in [{lo}, {hi}]"
        raise ValueError(f"{fn}: {name} must be a finite number{rng}, got {value!r}")
    return v


cdef fo_idx positive_int(str fn, str name, object value) except -1:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1 \
            or value >= 2**63:
        raise ValueError(f"{fn}: {name} must be a positive int below 2**63, got {value!r}")
    return <fo_idx>value


cdef cnp.ndarray state_array(object a, str fn, str name, object like):
    """An array updated in place: a writeable, C-contiguous, aligned float32/float64
    ndarray (of like's shape and dtype when like is given)."""
    if not cnp.PyArray_CheckExact(a):
        raise TypeError(f"{fn}: {name} must be a numpy.ndarray, got {type(a).__name__}")
    cdef cnp.ndarray arr = a
    if like is None:
        if dtype_code(arr) < 0:
            raise TypeError(f"{fn}: {name} must be float32 or float64 (native), got {arr.dtype}")
    elif not cnp.PyArray_SAMESHAPE(arr, <cnp.ndarray?>like) \
            or cnp.PyArray_TYPE(arr) != cnp.PyArray_TYPE(<cnp.ndarray>like) \
            or not cnp.PyArray_ISNOTSWAPPED(arr):  # like passed the variable's check: native
        raise ValueError(f"{fn}: {name} must match the variable ({np.shape(like)}, {like.dtype}), "
                         f"got ({np.shape(arr)}, {arr.dtype})")
    if not (cnp.PyArray_ISWRITEABLE(arr) and cnp.PyArray_IS_C_CONTIGUOUS(arr)
            and cnp.PyArray_ISALIGNED(arr)):
        raise ValueError(f"{fn}: {name} must be writeable, C-contiguous and aligned (it is "
                         f"updated in place)")
    return arr


cdef object update_gradient(object g, str fn, dict state, object backend):
    """The gradient as a contiguous array of the variable's dtype and shape, copied when it
    shares memory with an array the update writes (it must read the values it was given).
    A pair (a, b) stands for the product a @ b: returned as the checked pair when fastops'
    GEMM computes it (fo_product: block by block, never stored whole), else as the array
    the backend computes.  state: the arrays the update writes by name, "variable" among
    them; they must not share memory with each other."""
    disjoint(fn, state)
    cdef cnp.ndarray w = state["variable"]
    if type(g) is tuple:
        return product_gradient(g, fn, w, state, backend)
    if backend is not None:
        raise ValueError(f"{fn}: backend applies to a gradient given as a pair (a, b), "
                         f"got backend={backend!r} with an array")
    cdef cnp.ndarray ga = float_operand(g, fn, "gradient")
    if cnp.PyArray_TYPE(ga) != cnp.PyArray_TYPE(w):  # both native
        raise TypeError(f"{fn}: gradient has dtype {ga.dtype} but the variable has {w.dtype}")
    if not cnp.PyArray_SAMESHAPE(ga, w):
        raise ValueError(f"{fn}: gradient has shape {np.shape(ga)} but the variable has shape "
                         f"{np.shape(w)}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(ga):
        return np.ascontiguousarray(ga)
    return read_as_given(ga, state)


cdef cnp.ndarray read_as_given(cnp.ndarray x, dict state):
    """x, or a copy of it when it shares memory with an array the update writes: the update
    must read the values it was given."""
    for s in state.values():
        if s is not None and overlaps(x, s):
            return x.copy()
    return x


cdef cnp.ndarray product_factor(object x, str fn, int i, cnp.ndarray w):
    """Factor i of a product gradient: a 2-d float ndarray of the variable's dtype."""
    cdef cnp.ndarray arr = float_operand(x, fn, ("gradient[0]", "gradient[1]")[i])
    if cnp.PyArray_TYPE(arr) != cnp.PyArray_TYPE(w):  # both native
        raise TypeError(f"{fn}: gradient[{i}] has dtype {arr.dtype} but the variable has "
                        f"{w.dtype}")
    if cnp.PyArray_NDIM(arr) != 2:
        raise ValueError(f"{fn}: gradient=(a, b) takes 2-d a and b, got gradient[{i}] of "
                         f"shape {np.shape(arr)}")
    return arr


cdef object product_gradient(tuple pair, str fn, cnp.ndarray w, dict state, object backend):
    """update_gradient for gradient=(a, b)."""
    if len(pair) != 2:
        raise TypeError(f"{fn}: gradient must be an array or a pair (a, b) whose product "
                        f"a @ b is the gradient, got a tuple of {len(pair)}")
    cdef cnp.ndarray a = product_factor(pair[0], fn, 0, w)
    cdef cnp.ndarray b = product_factor(pair[1], fn, 1, w)
    if cnp.PyArray_DIM(a, 1) != cnp.PyArray_DIM(b, 0):
        raise ValueError(f"{fn}: gradient=(a, b): inner dimensions differ: a has shape "
                         f"{np.shape(a)} and b has shape {np.shape(b)}")
    if cnp.PyArray_NDIM(w) != 2 or cnp.PyArray_DIM(w, 0) != cnp.PyArray_DIM(a, 0) \
            or cnp.PyArray_DIM(w, 1) != cnp.PyArray_DIM(b, 1):
        raise ValueError(f"{fn}: gradient a @ b has shape {(np.shape(a)[0], np.shape(b)[1])} "
                         f"but the variable has shape {np.shape(w)}")
    cdef Config cfg = current_config()
    if resolve_backend(backend, cfg.isa, w.dtype, fn) != "fastops":
        return update_gradient(matmul(a, b, backend=backend), fn, state, None)
    return (read_as_given(a, state), read_as_given(b, state))


cdef inline void *data_or_null(object a):
    return cnp.PyArray_DATA(<cnp.ndarray>a) if a is not None else NULL


cdef struct UpdateOperands:
    # what every typed update takes first, read before the GIL is released
    int isa
    int nthreads
    fo_idx n
    bint f32
    void *w
    void *g          # NULL for a product gradient
    fo_product prod  # its factors (prod.a NULL for an array gradient)
    void *slot[3]    # the optimizer's state arrays in the order its typed update takes them


cdef UpdateOperands update_operands(cnp.ndarray w, object g, object s0=None, object s1=None,
                                    object s2=None):
    """The settings, size and data pointers of one update (a slot None: NULL).  The caller
    keeps g alive: it may be a copy."""
    cdef Config cfg = current_config()
    cdef UpdateOperands u
    cdef cnp.ndarray a, b
    cdef fo_idx isz = cnp.PyArray_ITEMSIZE(w)
    u.isa, u.nthreads = cfg.isa, cfg.nthreads
    u.n = cnp.PyArray_SIZE(w)
    u.f32 = cnp.PyArray_TYPE(w) == cnp.NPY_FLOAT32
    u.w = cnp.PyArray_DATA(w)
    u.prod.a = NULL
    if type(g) is tuple:
        a, b = g
        u.g = NULL
        u.prod.a, u.prod.b = cnp.PyArray_DATA(a), cnp.PyArray_DATA(b)
        u.prod.m, u.prod.k, u.prod.n = (cnp.PyArray_DIM(a, 0), cnp.PyArray_DIM(a, 1),
                                        cnp.PyArray_DIM(b, 1))
        u.prod.rsa = cnp.PyArray_STRIDE(a, 0) // isz
        u.prod.csa = cnp.PyArray_STRIDE(a, 1) // isz
        u.prod.rsb = cnp.PyArray_STRIDE(b, 0) // isz
        u.prod.csb = cnp.PyArray_STRIDE(b, 1) // isz
    else:
        u.g = cnp.PyArray_DATA(<cnp.ndarray>g)
    u.slot[0], u.slot[1], u.slot[2] = data_or_null(s0), data_or_null(s1), data_or_null(s2)
    return u


cdef inline const fo_product *product_of(const UpdateOperands *u) noexcept nogil:
    return &u.prod if u.prod.a != NULL else NULL


cdef double checked_penalty(double penalty, str fn) except? -2.0:
    """The typed update's result; -1 means the product's buffers could not be allocated."""
    if penalty < 0:
        raise MemoryError(f"{fn}: cannot allocate the buffers of the gradient's product")
    return penalty


cdef object momentum_state(str fn, object buffer, object momentum, double mu, cnp.ndarray w):
    """The momentum buffer an update uses: None when momentum is 0 (a buffer given is then left
    alone), else the buffer, checked like the variable; ValueError when it is missing."""
    m = state_array(buffer, fn, "momentum_buffer", w) if buffer is not None else None
    if mu > 0 and m is None:
        raise ValueError(f"{fn}: momentum={momentum} needs a momentum_buffer")
    return m if mu > 0 else None


def sgd_update(variable, gradient, momentum_buffer=None, learning_rate=0.01, momentum=0.0,
               nesterov=False, l1=0.0, l2=0.0, backend=None):
    """One SGD step in place (Keras' formulas); returns the penalty of the variable before it.

    The gradient is an array of the variable's shape and dtype, or a pair (a, b) of 2-d
    arrays whose product a @ b is the gradient (a Dense kernel's is (x.T, dz)).  With the
    fastops matmul backend (`backend`, None: the setting), the pair's product is computed in
    blocks of rows and each block updates its rows of the variable while in cache: the
    gradient is never stored.  The variable and the slots must not share memory with a or b
    (they are copied if they do).  The other backends compute a @ b, then the update.  The
    update kernels' results are the same either way; only the penalty's summation order may
    differ.

    The gradient is first regularised, g' = g + l1 * sign(w) + 2 * l2 * w, in the same pass;
    the penalty returned is l1 * sum|w| + l2 * sum(w**2).

    Equations::

        no momentum:  w -= lr * g'
        momentum:     m = momentum * m - lr * g';  w += m
        nesterov:     m = momentum * m - lr * g';  w += momentum * m - lr * g'
    """
    fn = "sgd_update"
    cdef cnp.ndarray w = state_array(variable, fn, "variable", None)
    cdef double lr = hyper(fn, "learning_rate", learning_rate, 0.0)
    cdef double mu = hyper(fn, "momentum", momentum, 0.0, 1.0)
    cdef double c1 = hyper(fn, "l1", l1, 0.0), c2 = hyper(fn, "l2", l2, 0.0)
    m = momentum_state(fn, momentum_buffer, momentum, mu, w)
    g = update_gradient(gradient, fn, dict(variable=w, momentum_buffer=m), backend)
    cdef UpdateOperands u = update_operands(w, g, m)
    cdef int nest = bool(nesterov)
    cdef double penalty
    with nogil:
        if u.f32:
            penalty = fo_sgd_update_f32(u.isa, u.nthreads, u.n, <float *>u.w, <float *>u.g,
                                        product_of(&u),
                                        <float *>u.slot[0], lr, mu, nest, c1, c2)
        else:
            penalty = fo_sgd_update_f64(u.isa, u.nthreads, u.n, <double *>u.w, <double *>u.g,
                                        product_of(&u),
                                        <double *>u.slot[0], lr, mu, nest, c1, c2)
    return checked_penalty(penalty, fn)


def rmsprop_update(variable, gradient, velocity, learning_rate=0.001, rho=0.9, epsilon=1e-7,
                   momentum=0.0, momentum_buffer=None, average_gradient=None, l1=0.0, l2=0.0,
                   backend=None):
    """One RMSprop step in place, as Keras applies it; returns the penalty (see sgd_update).

    Equations::

        v = rho * v + (1 - rho) * g'**2
        centered (average_gradient given): a = rho * a + (1 - rho) * g';  d = v - a**2 + eps
        otherwise:                          d = v + eps
        inc = lr * g' / sqrt(d)
        momentum > 0:  m = momentum * m + inc;  w -= m
        otherwise:     w -= inc
    """
    fn = "rmsprop_update"
    cdef cnp.ndarray w = state_array(variable, fn, "variable", None)
    cdef cnp.ndarray v = state_array(velocity, fn, "velocity", w)
    cdef double lr = hyper(fn, "learning_rate", learning_rate, 0.0)
    cdef double r = hyper(fn, "rho", rho, 0.0, 1.0), eps = hyper(fn, "epsilon", epsilon, 0.0)
    cdef double mu = hyper(fn, "momentum", momentum, 0.0, 1.0)
    cdef double c1 = hyper(fn, "l1", l1, 0.0), c2 = hyper(fn, "l2", l2, 0.0)
    m = momentum_state(fn, momentum_buffer, momentum, mu, w)
    a = state_array(average_gradient, fn, "average_gradient", w) \
        if average_gradient is not None else None
    g = update_gradient(gradient, fn, dict(variable=w, velocity=v, momentum_buffer=m,
                                           average_gradient=a), backend)
    cdef UpdateOperands u = update_operands(w, g, v, m, a)
    cdef double penalty
    with nogil:
        if u.f32:
            penalty = fo_rmsprop_update_f32(u.isa, u.nthreads, u.n, <float *>u.w, <float *>u.g,
                                            product_of(&u),
                                            <float *>u.slot[0], <float *>u.slot[1],
                                            <float *>u.slot[2], lr, r, eps, mu, c1, c2)
        else:
            penalty = fo_rmsprop_update_f64(u.isa, u.nthreads, u.n, <double *>u.w, <double *>u.g,
                                            product_of(&u),
                                            <double *>u.slot[0], <double *>u.slot[1],
                                            <double *>u.slot[2], lr, r, eps, mu, c1, c2)
    return checked_penalty(penalty, fn)


def adagrad_update(variable, gradient, accumulator, learning_rate=0.001, epsilon=1e-7, l1=0.0,
                   l2=0.0, backend=None):
    """One Adagrad step in place (Keras' formulas); returns the penalty (see sgd_update).

    Equations::

        acc += g'**2
        w -= lr * g' / sqrt(acc + eps)
    """
    fn = "adagrad_update"
    cdef cnp.ndarray w = state_array(variable, fn, "variable", None)
    cdef cnp.ndarray acc = state_array(accumulator, fn, "accumulator", w)
    cdef double lr = hyper(fn, "learning_rate", learning_rate, 0.0)
    cdef double eps = hyper(fn, "epsilon", epsilon, 0.0)
    cdef double c1 = hyper(fn, "l1", l1, 0.0), c2 = hyper(fn, "l2", l2, 0.0)
    g = update_gradient(gradient, fn, dict(variable=w, accumulator=acc), backend)
    cdef UpdateOperands u = update_operands(w, g, acc)
    cdef double penalty
    with nogil:
        if u.f32:
            penalty = fo_adagrad_update_f32(u.isa, u.nthreads, u.n, <float *>u.w, <float *>u.g,
                                            product_of(&u),
                                            <float *>u.slot[0], lr, eps, c1, c2)
        else:
            penalty = fo_adagrad_update_f64(u.isa, u.nthreads, u.n, <double *>u.w, <double *>u.g,
                                            product_of(&u),
                                            <double *>u.slot[0], lr, eps, c1, c2)
    return checked_penalty(penalty, fn)


def adam_update(variable, gradient, m, v, step, learning_rate=0.001, beta_1=0.9, beta_2=0.999,
                epsilon=1e-7, vhat=None, l1=0.0, l2=0.0, backend=None):
    """One Adam step in place (Keras' formulas); `step` counts from 1; returns the penalty
    (see sgd_update).

    Equations::

        alpha = lr * sqrt(1 - beta_2**step) / (1 - beta_1**step)
        m += (g' - m) * (1 - beta_1)
        v += (g'**2 - v) * (1 - beta_2)
        amsgrad (vhat given): vhat = max(vhat, v);  v_used = vhat
        w -= alpha * m / (sqrt(v_used) + eps)
    """
    fn = "adam_update"
    cdef cnp.ndarray w = state_array(variable, fn, "variable", None)
    cdef cnp.ndarray ma = state_array(m, fn, "m", w)
    cdef cnp.ndarray va = state_array(v, fn, "v", w)
    vh = state_array(vhat, fn, "vhat", w) if vhat is not None else None
    cdef fo_idx t = positive_int(fn, "step", step)
    cdef double b1 = hyper(fn, "beta_1", beta_1, 0.0, 1.0)
    cdef double b2 = hyper(fn, "beta_2", beta_2, 0.0, 1.0)
    if b1 == 1.0:
        raise ValueError(f"{fn}: beta_1 must be < 1, got {beta_1!r}")
    cdef double lr = hyper(fn, "learning_rate", learning_rate, 0.0)
    cdef double eps = hyper(fn, "epsilon", epsilon, 0.0)
    cdef double c1 = hyper(fn, "l1", l1, 0.0), c2 = hyper(fn, "l2", l2, 0.0)
    cdef double alpha = lr * math.sqrt(1.0 - b2 ** t) / (1.0 - b1 ** t)
    g = update_gradient(gradient, fn, dict(variable=w, m=ma, v=va, vhat=vh), backend)
    cdef UpdateOperands u = update_operands(w, g, ma, va, vh)
    cdef double penalty
    with nogil:
        if u.f32:
            penalty = fo_adam_update_f32(u.isa, u.nthreads, u.n, <float *>u.w, <float *>u.g,
                                         product_of(&u),
                                         <float *>u.slot[0], <float *>u.slot[1], <float *>u.slot[2],
                                         alpha, b1, b2, eps, c1, c2)
        else:
            penalty = fo_adam_update_f64(u.isa, u.nthreads, u.n, <double *>u.w, <double *>u.g,
                                         product_of(&u),
                                         <double *>u.slot[0], <double *>u.slot[1],
                                         <double *>u.slot[2], alpha, b1, b2, eps, c1, c2)
    return checked_penalty(penalty, fn)


def l1_l2_penalty(w, l1=0.0, l2=0.0):
    """l1 * sum|w| + l2 * sum(w**2) of a float array (the loss term of Keras' l1_l2
    regulariser), accumulated in float64."""
    fn = "l1_l2_penalty"
    cdef double c1 = hyper(fn, "l1", l1, 0.0), c2 = hyper(fn, "l2", l2, 0.0)
    cdef cnp.ndarray wa = np.ascontiguousarray(float_operand(w, fn, "w"))
    cdef Config cfg = current_config()
    cdef fo_idx n = cnp.PyArray_SIZE(wa)
    cdef void *pw = cnp.PyArray_DATA(wa)
    cdef double r
    with nogil:
        if cnp.PyArray_TYPE(wa) == cnp.NPY_FLOAT32:
            r = fo_l1_l2_penalty_f32(cfg.isa, cfg.nthreads, n, <const float *>pw, c1, c2)
        else:
            r = fo_l1_l2_penalty_f64(cfg.isa, cfg.nthreads, n, <const double *>pw, c1, c2)
    return r

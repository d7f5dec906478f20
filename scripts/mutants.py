"""The mutants of scripts/mutate.py: each replaces one exact text (found exactly once in its
file) by a wrong one, and names the fast tests that should notice.

Ids: K = C kernels (src/fo_*), C = the checking layer and typed entries (src/*.pxi),
T = the trainer and model layer, B = backends and settings, D = datasets.
"""
ELEMENTWISE = ["tests/test_elementwise.py", "tests/test_sum.py", "tests/test_sum_paths.py",
               "tests/test_properties.py",
               "tests/test_numpy_parity.py"]
NN = ["tests/test_nn_kernels.py", "tests/test_nn_losses.py", "tests/test_trainer_by_value.py"]
OPTIMIZERS = ["tests/test_optimizers.py", "tests/test_trainer_by_value.py"]
TRAINER = ["tests/test_trainer_by_value.py", "tests/test_fit_matrix.py", "tests/test_models.py",
           "tests/test_callbacks.py", "tests/test_layers.py"]
BACKENDS = ["tests/test_backend_dispatch.py", "tests/test_settings.py", "tests/test_cython_rung.py"]
THREADS = ["tests/test_models.py", "tests/test_fork_and_threads.py"]
DATASETS = ["tests/test_datasets.py", "tests/test_datasets_cache.py",
            "tests/test_datasets_fashion.py", "tests/test_datasets_text.py",
            "tests/test_datasets_text_files.py", "tests/test_datasets_boston.py",
            "tests/test_datasets_edges.py"]


def mutant(id, file, what, old, new, tests):
    return {"id": id, "file": file, "what": what, "old": old, "new": new, "tests": tests}


MUTANTS = [
    # ---- C kernels ----
    mutant("K1", "src/fo_elementwise_body.inc", "sum: the tail loop stops one element early",
           "    for (; i < n; i++)\n        tail += x[i];",
           "    for (; i + 1 < n; i++)\n        tail += x[i];", ELEMENTWISE),
    mutant("K2", "src/fo_elementwise_body.inc", "maximum: the NaN check is dropped",
           "{ return (isgreater(a, b) | (a != a)) ? a : b; }",
           "{ return isgreater(a, b) ? a : b; }", ELEMENTWISE),
    mutant("K3", "src/fo_elementwise_body.inc", "sum: lanes accumulate in float, not double",
           "    double r[FO_SUM_LANES] = {0};", "    float r[FO_SUM_LANES] = {0};", ELEMENTWISE),
    mutant("K4", "src/fo_elementwise_body.inc", "sum: the strided tail stops one element early",
           "        for (; i < n; i++)\n            res +=",
           "        for (; i + 1 < n; i++)\n            res +=", ELEMENTWISE),
    mutant("K5", "src/fo_elementwise_body.inc", "sigmoid backward: wrong sign (y * (1 + y))",
           "g * (y * ((FO_T)1 - y))", "g * (y * ((FO_T)1 + y))", NN),
    mutant("K6", "src/fo_elementwise_body.inc", "the finite check misses infinities",
           "            bad |= !(x[i] - x[i] == (FO_T)0);",
           "            bad |= (x[i] != x[i]);", NN + ["tests/test_models.py"]),
    mutant("K7", "src/fo_elementwise_body.inc", "relu backward passes the gradient at x == 0",
           "{ return isgreater(x, (FO_T)0) ? g : (FO_T)0; }",
           "{ return isless(x, (FO_T)0) ? (FO_T)0 : g; }", ELEMENTWISE + NN),
    mutant("K8", "src/fo_nn_losses.inc", "softmax cross-entropy gradient: wrong sign of y",
           "                                            - (double)AT(jb->y, i, j)) * g);",
           "                                            + (double)AT(jb->y, i, j)) * g);", NN),
    mutant("K9", "src/fo_nn_losses.inc", "binary accuracy counts z == 0 as positive",
           "hits += (double)((z > 0 ? 1.0 : 0.0) == y);",
           "hits += (double)((z >= 0 ? 1.0 : 0.0) == y);", NN + ["tests/test_fit_matrix.py"]),
    mutant("K10", "src/fo_nn_rows.inc", "argmax: ties go to the last maximum (NumPy: the first)",
           "        if (v > m) {", "        if (v >= m) {", NN),
    mutant("K11", "src/fo_nn_updates.inc", "RMSprop: rho and 1 - rho swapped (default path)",
           "FO_T vi = rho * v[i] + one_rho * (g[i] * g[i]);",
           "FO_T vi = one_rho * v[i] + rho * (g[i] * g[i]);", OPTIMIZERS),
    mutant("K12", "src/fo_nn_updates.inc", "Adam amsgrad: the running maximum is dropped",
           "FO_ADAM_STEP((vi = vhat[i] > vi ? vhat[i] : vi, vhat[i] = vi))",
           "FO_ADAM_STEP((vi = vi, vhat[i] = vi))", OPTIMIZERS),
    mutant("K13", "src/fo_nn_updates.inc", "SGD Nesterov: plain momentum step",
           "            w[i] += mu * mi - lr * gi;", "            w[i] += mi;", OPTIMIZERS),
    mutant("K14", "src/fo_nn_updates.inc", "the L1 term's sign is flipped",
           "l1c * ((wi) > 0 ? (FO_T)1 : ((wi) < 0 ? (FO_T)-1 : (wi)))",
           "l1c * ((wi) > 0 ? (FO_T)-1 : ((wi) < 0 ? (FO_T)1 : (wi)))", OPTIMIZERS),
    # ---- the checking layer and typed entries (Cython) ----
    mutant("C1", "src/matmul_backends.pxi", "backend 'blas' runs fastops' own GEMM",
           '"blas": _gemm_blas,', '"blas": _gemm_fastops,', BACKENDS),
    mutant("C2", "src/matmul_backends.pxi", "'auto' always resolves to fastops' GEMM",
           'return "fastops" if fo_gemm_beats_blas(isa, np.dtype(dtype) == np.float64) else "blas"',
           'return "fastops"', BACKENDS),
    mutant("C3", "src/contract.pxi", "out's shape is not checked",
           "            if cnp.PyArray_DIM(o, d) != shape[d]:",
           "            if False:", ["tests/test_contract.py", "tests/test_contract_matrix.py"]),
    mutant("C4", "src/contract.pxi", "a read-only out is written",
           "    if not cnp.PyArray_ISWRITEABLE(o):", "    if False:",
           ["tests/test_contract.py", "tests/test_contract_matrix.py"]),
    mutant("C5", "src/elementwise.pxi", "an out that overlaps an input is not unaliased",
           "        a = unaliased(a, o)\n", "", ELEMENTWISE + ["tests/test_contract_matrix.py"]),
    mutant("C6", "src/rows.pxi", "dropout keeps with > instead of >= the threshold",
           "cdef uint64_t cut = <uint64_t>int(r * 2**24)",
           "cdef uint64_t cut = <uint64_t>int(r * 2**24) + 1", NN),
    # ---- the trainer and model layer (Python) ----
    mutant("T1", "fastops/_data.py", "the last, partial batch is dropped",
           "return [(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]",
           "return [(s, s + batch_size) for s in range(0, n - batch_size + 1, batch_size)]",
           TRAINER),
    mutant("T2", "fastops/_data.py", "validation_split takes the first rows, not the last",
           "    return ([None if a is None else a[:split] for a in arrays],\n"
           "            [None if a is None else a[split:] for a in arrays])",
           "    return ([None if a is None else a[n - split:] for a in arrays],\n"
           "            [None if a is None else a[:n - split] for a in arrays])", TRAINER),
    mutant("T3", "fastops/_step.py", "the epoch loss is not weighted by batch size",
           "        self.loss_sum += (loss + penalty) * m\n        self.seen += m\n\n    def test",
           "        self.loss_sum += (loss + penalty) * 1\n        self.seen += 1\n\n    def test",
           TRAINER),
    mutant("T4", "fastops/optimizers.py", "RMSprop ignores centered",
           "        if self.centered:\n            s[\"average_gradient\"]",
           "        if False:\n            s[\"average_gradient\"]", OPTIMIZERS),
    mutant("T5", "fastops/optimizers.py", "Adam ignores amsgrad",
           "        if self.amsgrad:\n", "        if False:\n", OPTIMIZERS),
    mutant("T6", "fastops/callbacks.py", "EarlyStopping waits one epoch more than its patience",
           "        if self.wait >= self.patience and epoch > 0:",
           "        if self.wait > self.patience and epoch > 0:", TRAINER),
    mutant("T7", "fastops/trainer.py", "validation_freq is ignored",
           "if val_pass is not None and (epoch + 1) % validation_freq == 0:",
           "if val_pass is not None:", TRAINER),
    mutant("T8", "fastops/_data.py", "class_weight of one-hot targets reads the first column",
           "        labels = nn.argmax(y)", "        labels = np.rint(y[:, 0]).astype(np.int64)",
           TRAINER),
    mutant("T9", "fastops/initializers.py", "glorot/he uniform limit sqrt(scale) not sqrt(3 scale)",
           "            limit = np.sqrt(3.0 * scale)", "            limit = np.sqrt(scale)",
           ["tests/test_layers.py", "tests/test_trainer_by_value.py"]),
    mutant("T10", "fastops/_data.py", "x with NaN or Inf is not rejected",
           '    if x.dtype.kind == "f" and not _finite(x):',
           '    if False:', TRAINER),
    # ---- backends and settings (Python) ----
    mutant("B1", "fastops/cython.py", "fastops.cython.matmul runs fastops' GEMM",
           'return _kernels.matmul(a, b, out=out, backend="cython")',
           'return _kernels.matmul(a, b, out=out, backend="fastops")', BACKENDS),
    mutant("B2", "fastops/_config.py", "an inner config_context forgets the outer backend",
           "        b = outer.backend if b < 0 else b", "        b = b", BACKENDS),
    mutant("B3", "fastops/_threads.py", "fit does not refuse a model another thread is reading",
           "if self._fit_thread is not None or any(t != me for t in self._readers):",
           "if self._fit_thread is not None:", THREADS),
    mutant("B4", "fastops/cython.py", "fastops.cython.relu runs on fastops' SIMD tier",
           "_TIER = 1", "_TIER = 0", BACKENDS),
    # ---- datasets (Python) ----
    mutant("D1", "fastops/datasets/mnist.py", "labels above 9 are accepted",
           "        if a[k].size and a[k].max() > 9:", "        if False:", DATASETS),
    mutant("D2", "fastops/datasets/_verify.py", "a digest mismatch is accepted",
           "        if actual != expected:\n            raise Rejected",
           "        if False:\n            raise Rejected", DATASETS),
    mutant("D3", "fastops/datasets/_text.py", "maxlen keeps sequences of exactly maxlen",
           "    keep = lengths < maxlen", "    keep = lengths <= maxlen", DATASETS),
    mutant("D4", "fastops/datasets/_text.py", "num_words keeps the largest word (Keras: oov)",
           "inside = (words >= skip_top) & (words < num_words)",
           "inside = (words >= skip_top) & (words <= num_words)", DATASETS),
]

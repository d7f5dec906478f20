"""fastops.matmul / fastops.dot against NumPy semantics and an exact-enough reference.

Accuracy: every element within the bound of tests/gemm_bound.py, c * max(k, 1) * u *
(|A| @ |B|) + k * (smallest subnormal), u the unit roundoff of the dtype, C_exact computed in
float64 for float32 data and in long double (x87 extended, where available) for float64 data.

Every kernel runs: each SIMD level this CPU has plus the portable one, on 1 and 2
threads, and the BLAS backend.
"""
import numpy as np
import pytest
from gemm_bound import UNIT_ROUNDOFF, assert_within, reference
from helpers import SIMD_PATHS

import fastops
from fastops import _kernels, naive

LEVELS = SIMD_PATHS  # every level this CPU has, plus portable

# (backend, simd, threads): every kernel the fastops backend has, then BLAS.  Threads -1:
# exactly one thread, forced as below: small products then take the packed paths, which
# they otherwise leave to the unpacked small kernel (src/fo_gemm_small.inc; the x86 SIMD
# levels have one).
SMALL_KERNEL_LEVELS = [lvl for lvl in LEVELS if lvl in ("avx2", "avx512")]
CONFIGS = [("fastops", lvl, nt) for lvl in LEVELS for nt in (1, 2)] + [
    ("fastops", lvl, -1) for lvl in SMALL_KERNEL_LEVELS] + [("blas", None, 1), ("blas", None, 2)]


def config_id(p):
    return f"{p[0]}-{p[1] or 'any'}-" + ("1T-packed" if p[2] == -1 else f"{p[2]}T")


@pytest.fixture(params=CONFIGS, ids=config_id)
def cfg(request, monkeypatch):
    backend, simd, nt = request.param
    if backend == "fastops" and nt != 1:
        # even tiny products split over the threads (normally they stay on one), so every
        # path's parallel code, and threads left without a tile, are exercised: the typed
        # entry takes a negative thread count as "exactly this many"
        entry = _kernels.BACKENDS["fastops"]
        monkeypatch.setitem(_kernels.BACKENDS, "fastops",
                            lambda a, b, c, isa, n: entry(a, b, c, isa, -n))
    with fastops.config_context(num_threads=abs(nt), simd=simd, backend=backend):
        yield request.param


@pytest.fixture
def rng():
    return np.random.default_rng(20261129)


def assert_accurate(c, a, b):
    exact, bound = reference(a, b)
    assert c.shape == exact.shape
    assert_within(c, exact, bound)


def blocking(dtype):
    """Every blocking of the kernels tested: (MR, NR, MC, KC, NC, SUP_MAX, SMR, SNR)."""
    isd = np.dtype(dtype) == np.float64
    return {_kernels.gemm_blocking(i, isd) for i in range(len(LEVELS))}


def edge_shapes(dtype):
    """(m, k, n) just below, at and above every block size of every kernel."""
    shapes = set()
    for mr, nr, mc, kc, nc, sup, smr, snr in blocking(dtype):
        for d in (-1, 0, 1):
            shapes.add((2 * mr + d, 37, sup + 1 + nr + d))   # MR / NR edges, blocked path
            shapes.add((3 * smr + d, 19, snr + d))             # skinny path edges
            shapes.add((3 * smr + d, 300, 2 * snr + d))        # skinny, several panels
            shapes.add((mc + d, 23, 2 * nr + 1))               # MC
            shapes.add((sup + 3, kc + d, sup + 5))             # KC
            shapes.add((sup + 1, sup + 1, nc + d))             # NC
            shapes.add((min(mr + d, sup), 37, 2 * nr + d))      # small-M path, column edge
            shapes.add((5, kc + d, 40))                        # small-M path, KC
            shapes.add((90, kc + d, 7))                        # small-N path, KC
    return sorted(shapes)


BASIC_SHAPES = [(1, 1, 1), (7, 5, 3), (127, 253, 61), (128, 512, 10), (128, 10, 512),
                (512, 128, 10), (10, 64, 300), (40, 16, 40), (40, 17, 40), (16, 300, 16)]


# ---- accuracy over shapes, kernels, threads --------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", BASIC_SHAPES, ids=str)
def test_shapes(cfg, rng, dtype, shape):
    m, k, n = shape
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    c = fastops.matmul(a, b)
    assert c.dtype == dtype and c.shape == (m, n)
    assert_accurate(c, a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_block_edges(cfg, rng, dtype):
    for m, k, n in edge_shapes(dtype):
        a = rng.uniform(-1, 1, (m, k)).astype(dtype)
        b = rng.uniform(-1, 1, (k, n)).astype(dtype)
        assert_accurate(fastops.matmul(a, b), a, b)


# The blocked path's work-shared layout on several threads (shared_body): A too tall for
# one packed slab, so each unit packs its own rows (2100 x 256); B packed in two blocks
# along k (20 x 300 x 4080: a KC-deep block of 4080 columns fills the B budget); and A
# packed once per B block, with two or three such blocks (1100 x 600).
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(2100, 256, 40), (20, 300, 4080), (1100, 600, 40)], ids=str)
def test_work_shared_blocks(cfg, rng, dtype, shape):
    m, k, n = shape
    a = rng.uniform(-1, 1, (m, k)).astype(dtype)
    b = rng.uniform(-1, 1, (k, n)).astype(dtype)
    c = np.full((m, n), 7, dtype)
    fastops.matmul(a, b, out=c)
    assert_accurate(c, a, b)


def test_work_shared_a_slab_past_its_budget(cfg, rng):
    """float64 1100 x 512 x 2100: a KC-deep slab of A (2.2 MB) is past the 2 MB budget but
    shared, since B (4.3 MB a KC step) needs a block per step anyway."""
    a = rng.uniform(-1, 1, (1100, 512))
    b = rng.uniform(-1, 1, (512, 2100))
    # against BLAS's float64 product: the exact reference of assert_accurate takes 20 s here,
    # and a wrong block would be off by O(1), far past 512 roundings of products below 1
    np.testing.assert_allclose(fastops.matmul(a, b), np.matmul(a, b), rtol=0, atol=1e-11)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_skinny_path_limits(cfg, rng, dtype):
    """Small N (and, transposed, small M) on both sides of where the kernels switch
    between the dot-product path (rows of A against columns of B along k), the in-place
    skinny path and the blocked one: N up to 17, k around 64 and 96 with a k % 8 tail,
    row-major A (dot) and transposed views (the swapped paths)."""
    for n in (1, 2, 3, 5, 8, 9, 12, 15, 16, 17):
        for k in (63, 64, 95, 96, 97, 133):
            m = 37
            a = rng.uniform(-1, 1, (m, k)).astype(dtype)
            b = rng.uniform(-1, 1, (k, n)).astype(dtype)
            assert_accurate(fastops.matmul(a, b), a, b)
            bt = rng.uniform(-1, 1, (n, k)).astype(dtype)   # small M, B a transposed view
            assert_accurate(fastops.matmul(bt, a.T), bt, a.T)


@pytest.mark.parametrize("simd", SIMD_PATHS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_few_row_products_sum_as_the_blocked_path(rng, simd, dtype):
    """Up to 4 rows of A times a row-major B take the few-row path, which streams B's rows
    (fo_gemm_gemv.inc), and its transpose (up to 4 columns, A read column-major) too; so do
    5-16 rows when B is past 4 MB, and a B that fits in cache stays on the small-M path.  It
    sums each element in the tiles' order (KC steps from zero, then alpha and beta as a full
    tile stores them), so its rows are bit for bit those of the same product padded to 20
    rows, which takes the blocked path: checked at every row count, across KC steps (k 600
    and 1100), across its column chunks (and a chunk per thread), with A and C strided.  At
    alpha 1 and beta 0 or 1 every column is compared; at alpha -0.5, beta 0.3 the columns of
    whole tiles (the blocked path's edge tiles store without FMA); a B holding Inf gives NaN
    where A's column is zero, as 0 * Inf must."""
    level = LEVELS.index(simd)
    # up to 4 rows always; 5-16 rows with a B past 4 MB (fo_gemm.c: FO_GEMV_WIDE_B_BYTES)
    compared = 0
    # (1, 300, 17) on 2 threads: a last chunk of one column, summed as the others
    for m, k, n in [(1, 784, 512), (2, 600, 1031), (3, 1100, 77), (4, 5, 300), (2, 1, 1),
                    (4, 600, 1), (9, 1100, 1031), (16, 1100, 1031), (1, 300, 17)]:
        a = rng.standard_normal((20, 2 * k)).astype(dtype)[:, ::2]
        b = rng.standard_normal((k, n)).astype(dtype)
        c0 = rng.standard_normal((20, n)).astype(dtype)
        whole = n // 64 * 64  # columns in whole tiles at every SIMD level
        for nt in (1, 2):
            for alpha, beta in ((1.0, 0.0), (1.0, 1.0), (-0.5, 0.3)):
                padded = c0.copy()
                # -nt: exactly nt threads (even for small products), no unpacked small kernel
                blocked = _kernels.gemm_path(a, b, padded, level, -nt)[0] == "blocked"
                _kernels.BACKENDS["fastops"](a, b, padded, level, -nt, alpha, beta)
                base = np.full((m, n + 3), np.nan, dtype)
                c = base[:, 1:1 + n]
                c[...] = c0[:m]
                assert _kernels.gemm_path(a[:m], b, c, level, -nt) == ("gemv", nt)
                _kernels.BACKENDS["fastops"](a[:m], b, c, level, -nt, alpha, beta)
                assert np.isnan(base[:, 0]).all() and np.isnan(base[:, n + 1:]).all()
                cols = slice(None) if beta in (0.0, 1.0) else slice(0, whole)
                if blocked:  # n <= 16 pads onto a skinny path, which sums in other ways
                    compared += 1
                    np.testing.assert_array_equal(c[:, cols], padded[:m, cols])
                assert_within(c, *reference(a[:m], b, alpha, beta, c0[:m]))
    assert compared == 42  # the seven shapes with n > 16, at both thread counts and 3 pairs
    small_b = np.empty((784, 512), dtype)
    assert _kernels.gemm_path(np.empty((16, 784), dtype), small_b, np.empty((16, 512), dtype),
                              level, 1)[0] == "supm"  # 1.6 or 3.2 MB: in cache
    # 3 columns and a column-major A: C^T = B^T A^T has 3 rows and a row-major B^T
    at = rng.standard_normal((300, 3)).astype(dtype)
    b = rng.standard_normal((300, 40)).astype(dtype).T
    c = np.empty((40, 3), dtype)
    assert _kernels.gemm_path(b, at, c, level, 1)[0] == "gemv"
    with fastops.config_context(simd=simd, backend="fastops"), np.errstate(invalid="ignore"):
        assert_accurate(fastops.matmul(b, at), b, at)
        a = rng.standard_normal((2, 50)).astype(dtype)
        a[:, 7] = 0
        b = rng.standard_normal((50, 20)).astype(dtype)
        b[7, 3] = np.inf
        r = fastops.matmul(a, b)
    assert np.isnan(r[:, 3]).all() and np.isfinite(np.delete(r, 3, axis=1)).all()


@pytest.mark.parametrize("simd", SIMD_PATHS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_dot_product_sums_in_lanes_whatever_the_strides(rng, simd, dtype):
    """(1, k) x (k, 1), and so a 1-D dot, takes the few-row path's dot kernel (16 partial
    sums; one chain of k FMAs was latency-bound) for any strides: contiguous, a column
    view (stride 0 along its length-1 axis), reversed and stride-0 broadcast operands."""
    level = LEVELS.index(simd)
    k = 100_003
    v = rng.standard_normal(2 * k).astype(dtype)
    w = rng.standard_normal(k).astype(dtype)
    cases = [(v[None, :k], w[:, None]), (v[None, ::2], w[::-1, None]),
             (np.broadcast_to(v[:1], (1, k)), w.reshape(k, 1)), (v[None, :17], w[:17, None])]
    for a, b in cases:
        c = np.empty((1, 1), dtype)
        assert _kernels.gemm_path(a, b, c, level, 1)[0] == "gemv"
        with fastops.config_context(simd=simd, backend="fastops"):
            assert_accurate(fastops.matmul(a, b), a, b)
            got = fastops.dot(a[0], b[:, 0])
        assert_accurate(np.reshape(got, (1, 1)), a, b)


@pytest.mark.parametrize("simd", SIMD_PATHS)
def test_skinny_paths_with_a_long_k_take_the_blocked_path(simd):
    """The skinny paths pack one operand whole along k, padded to their tile: a (1, 2^24)
    float32 row times a (2^24, 1) column took 384 MB of workspace (8 GB for stride-0
    operands of 2^27).  Past 64 MB of packing such products take the blocked path, whose
    buffers are KC x NC at most.  Stride-0 operands cost no memory here."""
    level = LEVELS.index(simd)
    c = np.empty((5, 1), np.float32)
    for k, expected in ((2**20, None), (2**24, "blocked")):
        a = np.broadcast_to(np.float32(1), (5, k))  # 5 rows: past the few-row path
        b = np.broadcast_to(np.float32(1), (k, 1))
        path = _kernels.gemm_path(a, b, c, level, 1)[0]
        assert path == expected if expected else path != "blocked", (k, path)
    a = np.broadcast_to(np.float32(1), (5, 2**24))
    ones = np.broadcast_to(np.float32(1), (2**24, 1))
    with fastops.config_context(simd=simd, backend="fastops"):
        assert (fastops.matmul(a, ones) == 2**24).all()  # blocks of KC sum exactly
        a2 = np.broadcast_to(np.float32(0.5), (2, 2**23))
        r = fastops.matmul(a2, np.broadcast_to(np.float32(2), (2**23, 3)))
    np.testing.assert_array_equal(r, np.full((2, 3), 2**23, np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_products(cfg, rng, dtype):
    """The unpacked small kernel's edges (one thread: M and N past the skinny paths' 16, B
    at most 256 KiB): rows 17-31 around its 6-row tile, columns around each of its vectors
    (1-4 of 16 floats or 8 doubles at AVX-512, 1-2 of 8 or 4 at AVX2), the last one masked,
    k from 1; A's rows read in place with any strides (a transposed and a reversed A), B's
    rows ldb apart (a column slice of a wider B), and C written into a slice of a wider
    array whose gaps stay NaN."""
    for m in (17, 23, 24, 25, 31):
        for n in (17, 24, 31, 32, 33, 47, 49, 63, 64, 65, 100, 129):
            for k in (1, 2, 37):
                a = rng.uniform(-1, 1, (m, k)).astype(dtype)
                b = rng.uniform(-1, 1, (k, n)).astype(dtype)
                assert_accurate(fastops.matmul(a, b), a, b)
    m, k, n = 29, 45, 70
    wide_b = rng.uniform(-1, 1, (k, n + 11)).astype(dtype)
    for a in (rng.uniform(-1, 1, (k, m)).astype(dtype).T,
              rng.uniform(-1, 1, (m, k)).astype(dtype)[::-1]):
        b = wide_b[:, 3:3 + n]
        base = np.full((m, n + 9), np.nan, dtype)
        out = base[:, 4:4 + n]
        assert fastops.matmul(a, b, out=out) is out
        assert_accurate(out, a, b)
        assert np.isnan(base[:, :4]).all() and np.isnan(base[:, 4 + n:]).all()


@pytest.mark.parametrize("simd", SMALL_KERNEL_LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_products_keep_the_packed_bits(rng, simd, dtype):
    """The unpacked kernel sums k in the packed paths' KC blocks: with k past two of them
    (AVX2 256, AVX-512 512) a product gives the same bits on one thread (unpacked) as on one
    and two forced threads (packed), beta = 0 and beta = 1 alike."""
    level = LEVELS.index(simd)
    for m, k, n in [(40, 1100, 50), (23, 600, 33)]:
        a = rng.standard_normal((m, k)).astype(dtype)
        b = rng.standard_normal((k, n)).astype(dtype)
        c0 = rng.standard_normal((m, n)).astype(dtype)
        for beta in (0.0, 1.0):
            results = []
            for nt in (1, -1, -2):
                c = c0.copy()
                _kernels.BACKENDS["fastops"](a, b, c, level, nt, 1.0, beta)
                results.append(c)
            np.testing.assert_array_equal(results[0], results[1])
            np.testing.assert_array_equal(results[0], results[2])


@pytest.mark.parametrize("simd", SMALL_KERNEL_LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_products_on_two_threads(rng, simd, dtype):
    """Products of 1 MFLOP and more wake a second thread (fo_gemm.c: FO_FLOPS_PER_THREAD),
    and the threads then share the small kernel's 6-row tiles in ranges: the row counts
    leave the last tile 1-6 rows full; A is also read transposed, and C written into a
    column slice of a wider array whose gaps stay NaN.  Every element is summed as on one
    thread, so the bits are those of one thread (unpacked) and of the packed paths on one
    and two forced threads.  alpha and beta are powers of two: then the packed kernels'
    fma(beta, c, alpha * acc) and the small kernel's fma(alpha, acc, beta * c) round alike."""
    level = LEVELS.index(simd)
    for m, k, n, a_transposed, c_in_slice in [
            (301, 37, 65, False, False), (306, 37, 65, False, True), (99, 100, 129, True, False),
            (500, 100, 33, False, False), (128, 10, 512, True, True), (130, 600, 24, False, False),
            (251, 37, 65, True, False)]:
        a = (rng.standard_normal((k, m)).astype(dtype).T if a_transposed
             else rng.standard_normal((m, k)).astype(dtype))
        b = rng.standard_normal((k, n)).astype(dtype)
        c0 = rng.standard_normal((m, n)).astype(dtype)
        for alpha, beta in ((1.0, 0.0), (-0.5, 2.0)):
            results = []
            for nt in (2, 1, -1, -2):
                base = np.full((m, n + 7), np.nan, dtype)
                c = base[:, 3:3 + n] if c_in_slice else base[:, :n]
                c[...] = c0
                expected = ("small", nt) if nt > 0 else ("blocked", -nt)
                assert _kernels.gemm_path(a, b, c, level, nt) == expected, (m, k, n, nt)
                _kernels.BACKENDS["fastops"](a, b, c, level, nt, alpha, beta)
                gaps = (base[:, :3], base[:, 3 + n:]) if c_in_slice else (base[:, n:],)
                assert all(np.isnan(gap).all() for gap in gaps)
                results.append(c.copy())
            assert_within(results[0], *reference(a, b, alpha, beta, c0))
            for other in results[1:]:
                np.testing.assert_array_equal(results[0], other)


@pytest.mark.parametrize("simd", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_k_products_split_by_rows(rng, simd, dtype):
    """With a packed B of at most 24 KiB the blocked path's 2 threads take whole row blocks
    (fo_gemm.c: FO_SHARED_ROWS_B_BYTES), and above it column groups: either way every element
    is summed as on one thread.  B read transposed (the trainer's dY.W2^T), row counts that
    leave the last 6-row panel 1-6 rows full, and C 4 bytes and 16 bytes past a cache line,
    written into a column slice whose gaps stay NaN."""
    level = LEVELS.index(simd)
    for m, k, n in [(128, 10, 512), (48, 4, 100), (133, 7, 300), (301, 12, 64),
                    (128, 24, 512)]:  # the last: 48 KiB of float32 B, column groups
        a = rng.standard_normal((m, k)).astype(dtype)
        b = rng.standard_normal((n, k)).astype(dtype).T
        for offset in (1, 4):
            results = []
            for nt in (-1, -2):
                raw = np.full(m * (n + 2) + 16, np.nan, dtype)
                start = (-raw.ctypes.data // raw.itemsize) % (64 // raw.itemsize) + offset
                base = raw[start:start + m * (n + 2)].reshape(m, n + 2)
                c = base[:, :n]
                assert _kernels.gemm_path(a, b, c, level, nt) == ("blocked", -nt)
                _kernels.BACKENDS["fastops"](a, b, c, level, nt, 1.0, 0.0)
                assert np.isnan(base[:, n:]).all()
                results.append(c.copy())
            assert_within(results[0], *reference(a, b, 1.0, 0.0, np.zeros((m, n), dtype)))
            np.testing.assert_array_equal(results[0], results[1])


@pytest.mark.parametrize("simd", LEVELS)
def test_1024(rng, simd):
    a = rng.standard_normal((1024, 1024)).astype(np.float32)
    b = rng.standard_normal((1024, 1024)).astype(np.float32)
    with fastops.config_context(simd=simd, num_threads=2, backend="fastops"):
        assert_accurate(fastops.matmul(a, b), a, b)


@pytest.mark.parametrize("m,k,n", [(0, 5, 3), (4, 5, 0), (0, 0, 0), (3, 0, 4), (1, 0, 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_empty(cfg, m, k, n, dtype):
    a = np.ones((m, k), dtype)
    b = np.ones((k, n), dtype)
    out = np.full((m, n), np.nan, dtype)  # k == 0: zeros, whatever out held
    c = fastops.matmul(a, b, out=out)
    assert c is out
    np.testing.assert_array_equal(c, np.zeros((m, n), dtype))


def _layouts(rng, shape, dtype):
    """The same kind of data as C-ordered, Fortran, transposed, sliced and reversed views."""
    def data(s):
        return rng.standard_normal(s).astype(dtype)
    r, c = shape
    return {
        "C": data(shape),
        "F": np.asfortranarray(data(shape)),
        "T": data((c, r)).T,
        "sliced": data((2 * r + 1, 3 * c + 2))[1::2, 2::3],
        "negative": data(shape)[::-1, ::-1],
        "neg-T": data((c, r))[::-1].T,
        "broadcast-row": np.broadcast_to(data((1, c)), shape),
    }


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(45, 70, 53), (40, 33, 10), (10, 33, 40), (7, 50, 5),
                                   (37, 100, 11), (11, 100, 37), (6, 81, 3)], ids=str)
def test_layouts(cfg, rng, dtype, shape):
    m, k, n = shape
    la, lb = _layouts(rng, (m, k), dtype), _layouts(rng, (k, n), dtype)
    for na, a in la.items():
        for nb, b in lb.items():
            a0, b0 = a.copy(), b.copy()
            c = fastops.matmul(a, b)
            assert_accurate(c, a0, b0)
            np.testing.assert_array_equal(a, a0, err_msg=f"a ({na}) was modified")
            np.testing.assert_array_equal(b, b0, err_msg=f"b ({nb}) was modified")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(45, 70, 53), (128, 512, 10), (10, 64, 300), (9, 40, 5)],
                         ids=str)
def test_out_layouts(cfg, rng, dtype, shape):
    m, k, n = shape
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    outs = {
        "C": np.empty((m, n), dtype),
        "F": np.empty((m, n), dtype, order="F"),
        "sliced": np.empty((2 * m, 3 * n), dtype)[::2, 1::3],
        "negative": np.empty((m, n), dtype)[::-1, ::-1],
    }
    for name, out in outs.items():
        base = out.base if out.base is not None else out
        base[...] = np.nan  # beta = 0 must not read C
        c = fastops.matmul(a, b, out=out)
        assert c is out, name
        assert_accurate(out, a, b)
        if name == "sliced":  # the gaps between the view's elements are untouched
            mask = np.ones(base.shape, bool)
            mask[::2, 1::3] = False
            assert np.isnan(base[mask]).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_out_aliasing(cfg, rng, dtype):
    n = 70
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    for target in ("a", "b", "a.T"):
        x, y = a.copy(), b.copy()
        if target == "a":
            out, expect = x, np.matmul(a, b)
            fastops.matmul(x, y, out=x)
        elif target == "b":
            out, expect = y, np.matmul(a, b)
            fastops.matmul(x, y, out=y)
        else:
            out, expect = x.T, np.matmul(a, b)
            fastops.matmul(x, y, out=x.T)
        assert_accurate(out, a, b)
        np.testing.assert_allclose(out, expect, rtol=1e-3 if dtype == np.float32 else 1e-10,
                                   atol=1e-3 if dtype == np.float32 else 1e-10)
    # partial overlap: out is a shifted window of the buffer holding a
    buf = rng.standard_normal((n + 1, n)).astype(dtype)
    a0 = buf[:n].copy()
    fastops.matmul(buf[:n], b, out=buf[1:])
    assert_accurate(buf[1:], a0, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(20, 30, 40), (64, 300, 10), (13, 7, 100)], ids=str)
def test_nan_inf(cfg, rng, dtype, shape):
    m, k, n = shape
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    a[3, 5] = np.nan
    a[7, 2] = np.inf
    b[2, 4] = 0.0
    b[6, 1] = -np.inf
    b[:, 9] = 0.0
    with np.errstate(invalid="ignore"):
        expect = np.matmul(a, b)  # NumPy's BLAS
    c = fastops.matmul(a, b)
    np.testing.assert_array_equal(np.isnan(c), np.isnan(expect))
    np.testing.assert_array_equal(np.isposinf(c), np.isposinf(expect))
    np.testing.assert_array_equal(np.isneginf(c), np.isneginf(expect))
    assert np.isnan(c[3]).all() and np.isnan(c[7, 4]) and np.isnan(c[7, 9])


# ---- np.matmul semantics -----------------------------------------------------------

SEMANTIC_CASES = [
    ((5,), (5, 3)), ((4, 5), (5,)), ((5,), (5,)), ((2, 3, 4, 5), (5, 6)), ((4, 5), (2, 5, 6)),
    ((3, 1, 4, 5), (2, 5, 6)), ((5,), (2, 5, 6)), ((2, 4, 5), (5,)), ((2, 0, 5), (5, 3)),
    ((0, 4, 5), (1, 5, 2)),
]


@pytest.mark.parametrize("backend", ["fastops", "blas", "naive"])
@pytest.mark.parametrize("sa,sb", SEMANTIC_CASES, ids=str)
def test_matmul_semantics(rng, backend, sa, sb):
    a = rng.standard_normal(sa).astype(np.float32)
    b = rng.standard_normal(sb).astype(np.float32)
    expect = np.matmul(a, b)
    got = fastops.matmul(a, b, backend=backend)
    assert type(got) is type(expect)
    assert np.shape(got) == expect.shape and got.dtype == expect.dtype
    np.testing.assert_allclose(got, expect, rtol=1e-4, atol=1e-4)
    out = np.empty(expect.shape, np.float32) if expect.ndim else None
    if out is not None:
        assert fastops.matmul(a, b, out=out, backend=backend) is out
        np.testing.assert_allclose(out, expect, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("ta,tb", [
    (np.float32, np.float32), (np.float32, np.float64), (np.float64, np.float32),
    (np.float32, np.int64), (np.int32, np.float32), (np.int64, np.int64), (np.int8, np.int16),
    (np.bool_, np.bool_), (np.float16, np.float32), (np.dtype(">f4"), np.float32),
    (np.uint8, np.float64),
])
def test_dtype_promotion(rng, ta, tb):
    a = (rng.standard_normal((6, 7)) * 3).astype(ta)
    b = (rng.standard_normal((7, 5)) * 3).astype(tb)
    expect = np.matmul(a, b)
    got = fastops.matmul(a, b)
    assert got.dtype == expect.dtype.newbyteorder("=")
    if expect.dtype.kind in "biu":
        np.testing.assert_array_equal(got, expect)  # delegated to NumPy: identical
    else:
        np.testing.assert_allclose(got, expect, rtol=1e-5, atol=1e-5)


def test_matmul_accepts_lists():
    assert fastops.matmul([[1.0, 2.0]], [[3.0], [4.0]]).tolist() == [[11.0]]


# ---- np.dot semantics --------------------------------------------------------------

@pytest.mark.parametrize("sa,sb", [
    ((), (3, 4)), ((3, 4), ()), ((), ()), ((5,), (5,)), ((4, 5), (5,)), ((5,), (5, 3)),
    ((4, 5), (5, 3)), ((2, 3, 5), (5, 4)), ((2, 3, 5), (6, 5, 4)), ((3, 5), (2, 5, 4)),
    ((2, 3, 5), (5,)),
], ids=str)
def test_dot_semantics(rng, sa, sb):
    a = rng.standard_normal(sa)
    b = rng.standard_normal(sb)
    expect = np.dot(a, b)
    got = fastops.dot(a, b)
    assert np.shape(got) == np.shape(expect)
    np.testing.assert_allclose(got, expect, rtol=1e-12, atol=1e-12)
    if np.ndim(expect):
        out = np.empty(np.shape(expect))
        assert fastops.dot(a, b, out=out) is out
        np.testing.assert_allclose(out, expect, rtol=1e-12, atol=1e-12)


def test_dot_example():
    r = fastops.dot(np.array([1, 2, 3.]), np.array([2, 2, 2.]))
    assert r == 12.0 and isinstance(r, np.float64)


# ---- backends, settings, naive ----------------------------------------------------

def test_naive_matches(rng):
    a = rng.standard_normal((9, 11))
    b = rng.standard_normal((11, 7))
    assert_accurate(naive.matmul(a, b), a, b)
    assert_accurate(fastops.matmul(a.T.T, b, backend="naive"), a, b)


def test_settings_reach_the_kernels():
    with fastops.config_context(backend="naive", simd="portable", num_threads=1):
        assert fastops.get_backend() == "naive"
        assert _kernels.current_settings() == (1, 0, fastops._config.BACKENDS.index("naive"))
    assert _kernels.current_settings()[1] == LEVELS.index(fastops.get_simd())


def test_inputs_unmodified_and_threads(rng):
    a = rng.standard_normal((300, 200)).astype(np.float32)
    b = rng.standard_normal((200, 250)).astype(np.float32)
    a0, b0 = a.copy(), b.copy()
    with fastops.config_context(num_threads=1):
        c1 = fastops.matmul(a, b)
    with fastops.config_context(num_threads=2):
        c2 = fastops.matmul(a, b)
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(b, b0)
    np.testing.assert_array_equal(c1, c2)  # same blocking: same sums in the same order


@pytest.mark.parametrize("shape", [(50, 40, 30), (37, 130, 10), (10, 130, 37), (128, 10, 512),
                                   (23, 65, 100)], ids=str)
def test_alpha_beta_lowlevel(rng, shape):
    m, k, n = shape  # blocked, dot-product (row-major A, and its transpose), k = 10; the
    # small ones unpacked on one thread (nt 1), packed when forced (-1)
    a = rng.standard_normal((m, k))
    b = rng.standard_normal((k, n))
    c = rng.standard_normal((m, n))
    for level in range(len(LEVELS)):
        for nt in (1, -1, -2):
            for alpha, beta in ((-0.5, 2.0), (1.0, 1.0), (1.5, 0.0)):
                got = c.copy()
                _kernels.BACKENDS["fastops"](a, b, got, level, nt, alpha, beta)
                np.testing.assert_allclose(got, alpha * (a @ b) + beta * c,
                                           rtol=1e-12, atol=1e-12)
            a32, b32, c32 = a.astype(np.float32), b.astype(np.float32), c.astype(np.float32)
            got = c32.copy()
            _kernels.BACKENDS["fastops"](a32, b32, got, level, nt, -0.5, 2.0)
            want = -0.5 * (a32.astype(np.float64) @ b32) + 2.0 * c32
            bound = 2 * (k + 2) * 2.0**-24 * (0.5 * (np.abs(a32) @ np.abs(b32)) + 2 * np.abs(c32))
            assert (np.abs(got - want) <= bound).all()


# ---- bad input ---------------------------------------------------------------------

def test_inner_dim_mismatch():
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(5, 2\)"):
        fastops.matmul(np.ones((3, 4)), np.ones((5, 2)))
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(5,\)"):
        fastops.dot(np.ones((3, 4)), np.ones(5))
    with pytest.raises(ValueError, match="broadcast"):
        fastops.matmul(np.ones((2, 3, 4)), np.ones((3, 4, 2)))


@pytest.mark.parametrize("a,b", [(np.float32(2), np.ones(3)), (np.ones(3), 2.0)])
def test_zero_d(a, b):
    with pytest.raises(ValueError, match="0-d"):
        fastops.matmul(a, b)


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128, object, "U3"])
def test_bad_dtype(dtype):
    a = np.ones((2, 2), dtype)
    with pytest.raises(TypeError, match="float32 and float64"):
        fastops.matmul(a, np.ones((2, 2), dtype))
    with pytest.raises(TypeError, match="float32 and float64"):
        fastops.dot(a, a)


@pytest.mark.parametrize("dtype", [np.float16, np.longdouble])
def test_other_real_floats_are_numpys(dtype):
    # the one dtype rule of every family: what fastops does not compute, NumPy does
    a = np.arange(6, dtype=dtype).reshape(2, 3)
    got = fastops.matmul(a, a.T)
    assert got.dtype == np.matmul(a, a.T).dtype
    np.testing.assert_array_equal(got, np.matmul(a, a.T))


def test_bad_out():
    a = np.ones((3, 4), np.float32)
    b = np.ones((4, 5), np.float32)
    with pytest.raises(TypeError, match="ndarray"):
        fastops.matmul(a, b, out=[[0.0] * 5] * 3)
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(3, 5\)"):
        fastops.matmul(a, b, out=np.empty((3, 4), np.float32))
    with pytest.raises(TypeError, match="float64.*float32"):
        fastops.matmul(a, b, out=np.empty((3, 5), np.float64))
    ro = np.empty((3, 5), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        fastops.matmul(a, b, out=ro)


def test_bad_backend():
    with pytest.raises(ValueError, match="backend"):
        fastops.matmul(np.ones((2, 2)), np.ones((2, 2)), backend="cuda")


# ---- property: any broadcastable stack, any backend, equals np.matmul -------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402


@st.composite
def _stack_operands(draw):
    m, k, n = (draw(st.integers(0, 9)) for _ in range(3))
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3))
    sa, sb = batch.input_shapes
    sa = sa + (m, k) if draw(st.booleans()) or sa else (k,)
    sb = sb + (k, n) if draw(st.booleans()) or sb else (k,)
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    elems = st.floats(-4, 4, width=32)
    return (draw(hnp.arrays(dtype, sa, elements=elems)),
            draw(hnp.arrays(dtype, sb, elements=elems)))


@settings(max_examples=60, deadline=None)
@given(_stack_operands(), st.sampled_from(["fastops", "blas"]))
def test_matches_numpy_property(ab, backend):
    a, b = ab
    expect = np.matmul(a.astype(np.float64), b.astype(np.float64))
    got = fastops.matmul(a, b, backend=backend)
    assert np.shape(got) == expect.shape
    k = a.shape[-1]
    tol = 2 * max(k, 1) * UNIT_ROUNDOFF[np.dtype(a.dtype)] * np.matmul(
        np.abs(a).astype(np.float64), np.abs(b).astype(np.float64))
    tol += max(k, 1) * np.finfo(a.dtype).smallest_subnormal  # underflow (see the top)
    assert np.all(np.abs(got - expect) <= tol)

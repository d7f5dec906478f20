"""Textbook pure-Python versions of fastops' kernels: references for tests and benchmarks."""
import numpy as np

# ---- matmul ----


def matmul(a, b):
    """C[i][j] = sum_p A[i][p] * B[p][j]: the triple loop, for 2-d a (m, k) and b (k, n).

    Sums in Python floats (double precision) and returns the product's NumPy dtype.
    """
    a = np.asarray(a)
    b = np.asarray(b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"naive.matmul: needs (m, k) and (k, n) arrays, got {a.shape} and "
                         f"{b.shape}")
    m, k = a.shape
    n = b.shape[1]
    A, B = a.tolist(), b.tolist()
    C = [[0.0] * n for _ in range(m)]
    for i in range(m):
        for j in range(n):
            s = 0.0
            for p in range(k):
                s += A[i][p] * B[p][j]
            C[i][j] = s
    return np.array(C, dtype=np.result_type(a, b)).reshape(m, n)

/* The portable C kernels, compiled for another architecture (aarch64) and run under
 * qemu-user by tests/test_portable_arm.py: broadcast bias_add_relu on 2 threads, NaN in
 * maximum through transposed strides, a float32 sum of 1e6, and an sgemm with a
 * transposed A against a float64 triple loop and the length-k error bound, tanh and sigmoid
 * of float32 through a reversed stride.
 * A request for AVX-512 must fall back to the portable code there. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "fo_elementwise.h"
#include "fo_gemm.h"
#include "fo_nn.h"

static float frand(unsigned *s) { *s = *s * 1103515245u + 12345u; return ((*s >> 8) & 0xffff) / 32768.0f - 1.0f; }

int main(void)
{
    unsigned seed = 1;
    int bad = 0;
    /* broadcast add_relu: (300, 257) + (257,), 2 threads */
    enum { N = 300, D = 257 };
    static float x[N * D], b[D], o[N * D];
    for (int i = 0; i < N * D; i++) x[i] = frand(&seed);
    for (int j = 0; j < D; j++) b[j] = frand(&seed);
    fo_idx shape[2] = {N, D}, sx[2] = {D * 4, 4}, sb[2] = {0, 4}, so[2] = {D * 4, 4};
    /* asks for AVX-512 on 2 threads: must fall back to portable here */
    fo_binary(FO_BIAS_ADD_RELU, FO_F32, FO_ISA_AVX512, 2, 2, shape, (char *)x, sx, (char *)b, sb,
              (char *)o, so, 1);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++) {
            float s = x[i * D + j] + b[j], e = s > 0 ? s : 0;
            if (o[i * D + j] != e) bad++;
        }
    /* maximum with NaN, transposed read */
    x[5] = NAN;
    fo_idx st[2] = {4, D * 4}, sot[2] = {N * 4, 4};
    static float ot[D * N];
    fo_idx shp_t[2] = {D, N};
    fo_binary(FO_MAXIMUM, FO_F32, FO_ISA_AVX512, 1, 2, shp_t, (char *)x, st, (char *)x, st,
              (char *)ot, sot, 1);
    if (!isnan(ot[5 * N + 0])) bad++;
    /* sum of 1e6 */
    static float big[1000000];
    for (int i = 0; i < 1000000; i++) big[i] = 0.1f;
    fo_idx sh1[1] = {1000000}, s1[1] = {4};
    double tot = fo_sum_all(FO_F32, FO_ISA_AVX512, 2, 1, sh1, (char *)big, s1);
    if (fabs(tot - 1000000 * (double)0.1f) > 1e-6 * tot) bad++;
    /* sgemm 127x253x61 with a transposed A, vs a double triple loop */
    enum { M = 127, K = 253, NN = 61 };
    static float a[K * M], bb[K * NN], c[M * NN];
    for (int i = 0; i < K * M; i++) a[i] = frand(&seed);
    for (int i = 0; i < K * NN; i++) bb[i] = frand(&seed);
    if (fo_gemm_f32(FO_ISA_AVX512, 2, M, NN, K, 1.0f, a, 1, M, bb, NN, 1, 0.0f, c, NN, 1) != 0)
        bad++;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < NN; j++) {
            double e = 0, ae = 0;
            for (int p = 0; p < K; p++) { e += (double)a[p * M + i] * bb[p * NN + j]; ae += fabs((double)a[p * M + i] * bb[p * NN + j]); }
            if (fabs(c[i * NN + j] - e) > 2.0 * K * 5.96e-8 * ae + 1e-30) bad++;
        }
    /* softmax cross-entropy with a -inf logit, sparse labels, one bad label refused */
    double zz[6] = {2.0, -INFINITY, 0.5, 0.0, 1.0, 0.0}, g[6], correct = 0;
    int64_t labels[2] = {0, 1}, badlabels[2] = {0, 3};
    fo_idx bad_row = -1;
    fo_mat mz = {(char *)zz, 3, 1}, mg = {(char *)g, 3, 1};
    double loss = fo_sparse_softmax_crossentropy_f64(FO_ISA_AVX512, 2, 2, 3, mz, labels, NULL, mg,
                                                     &correct, NULL, &bad_row);
    if (!isfinite(loss) || bad_row != -1 || correct != 2) bad++;
    fo_sparse_softmax_crossentropy_f64(FO_ISA_AVX512, 2, 2, 3, mz, badlabels, NULL, mg, &correct,
                                       NULL, &bad_row);
    if (bad_row != 1) bad++;
    /* tanh and sigmoid, float32, read backwards: the double formula rounded once */
    static float th[1001], sg[1001];
    for (int i = 0; i < 1001; i++) x[i] = (float)(i - 500) / 25.0f;
    fo_idx sh_u[1] = {1001}, s_back[1] = {-4}, s_out[1] = {4};
    fo_unary(FO_TANH, FO_F32, FO_ISA_AVX512, 1, 1, sh_u, (char *)(x + 1000), s_back, (char *)th,
             s_out);
    fo_unary(FO_SIGMOID, FO_F32, FO_ISA_AVX512, 2, 1, sh_u, (char *)(x + 1000), s_back, (char *)sg,
             s_out);
    for (int i = 0; i < 1001; i++) {
        double v = x[1000 - i];
        if (th[i] != (float)tanh(v) || fabsf(sg[i] - (float)(1.0 / (1.0 + exp(-v)))) > 6e-8f * sg[i])
            bad++;
    }
    printf("aarch64 portable kernels: %d mismatches\n", bad);
    return bad != 0;
}

// A small register-blocked GEMM for the recurrent product of one time step:
// c[m, n] += a[m, k] · b[k, n], m small (the batch), b packed once.
//
// General-purpose BLAS packs b into its own layout on every call; for a
// [16, 256] · [256, 1024] product repeated at every time step with the same
// b (the recurrent weights) that copy costs as much as the arithmetic. Here b
// is packed once into column panels of 16 (PackedRightMatrix in HarkCore) and
// streamed linearly at every step.
//
// Blocks of 6 rows × 16 columns live in 12 AVX registers; for each p the two
// 8-wide pieces of b's row p are loaded once and multiplied by 6 broadcast
// values of a. Compiled for AVX2+FMA through a function attribute and used
// only when the processor has them (hark_gemm_acc_available).
//
// On the 2-core test machine, [16, 256] · [256, 1024], one thread: 90 GFLOP/s
// against OpenBLAS's 58 (hark-bench step-gemm).

#include "hark_kernels.h"
#include "kernel_runs.h"
#include <immintrin.h>

int hark_gemm_acc_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

#define TARGET __attribute__((target("avx2,fma")))

// R rows (1 … 6) × 16 columns starting at (i, j).
static inline __attribute__((always_inline)) TARGET
void block16(const int R, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc) {
    __m256 acc[6][2];
    for (int r = 0; r < R; r++) { acc[r][0] = _mm256_setzero_ps(); acc[r][1] = _mm256_setzero_ps(); }
    for (int p = 0; p < k; p++) {
        const __m256 w0 = _mm256_loadu_ps(b + (long)p * ldb);
        const __m256 w1 = _mm256_loadu_ps(b + (long)p * ldb + 8);
        for (int r = 0; r < R; r++) {
            const __m256 x = _mm256_broadcast_ss(a + (long)r * lda + p);
            acc[r][0] = _mm256_fmadd_ps(x, w0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(x, w1, acc[r][1]);
        }
    }
    for (int r = 0; r < R; r++) {
        float *cr = c + (long)r * ldc;
        _mm256_storeu_ps(cr, _mm256_add_ps(_mm256_loadu_ps(cr), acc[r][0]));
        _mm256_storeu_ps(cr + 8, _mm256_add_ps(_mm256_loadu_ps(cr + 8), acc[r][1]));
    }
}

// Rows per block for the rows still to do: 6 while plenty remain, and the
// last 7–9 rows split into two blocks of 3–5 rather than 6 + a block of 1–3,
// whose few accumulators would leave the FMA units waiting on their latency.
static inline int next_block(int left) {
    if (left >= 10 || left <= 6) return left < 6 ? left : 6;
    return left / 2 + left % 2;   // 7 → 4, 8 → 4, 9 → 5
}

TARGET
void hark_gemm_acc_packed(int m, int n, int k, const float *a, int lda, const float *panels, float *c, int ldc) {
    HARK_COUNT_RUN(hark_runs_gemm_acc_packed);
    for (int j = 0; j < n; j += 16) {
        const float *panel = panels + (long)j * k;   // k rows of 16 contiguous floats
        for (int i = 0; i < m;) {
            const int rows = next_block(m - i);
            const float *ai = a + (long)i * lda;
            float *ci = c + (long)i * ldc + j;
            switch (rows) {
            case 6: block16(6, k, ai, lda, panel, 16, ci, ldc); break;
            case 5: block16(5, k, ai, lda, panel, 16, ci, ldc); break;
            case 4: block16(4, k, ai, lda, panel, 16, ci, ldc); break;
            case 3: block16(3, k, ai, lda, panel, 16, ci, ldc); break;
            case 2: block16(2, k, ai, lda, panel, 16, ci, ldc); break;
            default: block16(1, k, ai, lda, panel, 16, ci, ldc); break;
            }
            i += rows;
        }
    }
}

// The LSTM's pointwise step (gates, cell, hidden state) with AVX2 and FMA:
// the same arithmetic as LSTMCell.forwardStep in HarkNN, which stays the
// reference and the path for processors without AVX2 or H not a multiple of 8.
// The exp, sigmoid and tanh polynomials are Cephes' single-precision ones, as
// in HarkNN/Recurrent/Activations.swift.

#include "hark_kernels.h"
#include "kernel_runs.h"
#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma")))

static inline TARGET __m256 exp8(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.3f));
    const __m256 magic = _mm256_set1_ps(12582912.0f);            // 1.5 · 2^23
    const __m256 shifted = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504f), magic);
    const __m256 n = _mm256_sub_ps(shifted, magic);              // round(x / ln 2)
    x = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    x = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), x);
    const __m256 z = _mm256_mul_ps(x, x);
    __m256 y = _mm256_set1_ps(1.9875691500e-4f);
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507e-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073e-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894e-2f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459e-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201e-1f));
    y = _mm256_add_ps(_mm256_fmadd_ps(y, z, x), _mm256_set1_ps(1.0f));
    const __m256i bits = _mm256_sub_epi32(_mm256_castps_si256(shifted), _mm256_castps_si256(magic));
    const __m256 pow2n = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(bits, _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(y, pow2n);
}

static inline TARGET __m256 sigmoid8(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

static inline TARGET __m256 tanh8(__m256 x) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256 ax = _mm256_andnot_ps(sign, x);
    const __m256 one = _mm256_set1_ps(1.0f);
    // |x| ≥ 0.625: 1 − 2/(e^{2|x|} + 1), sign restored.
    __m256 large = _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f),
                                                    _mm256_add_ps(exp8(_mm256_add_ps(ax, ax)), one)));
    large = _mm256_or_ps(large, _mm256_and_ps(x, sign));
    // |x| < 0.625: x + x³·P(x²).
    const __m256 z = _mm256_mul_ps(x, x);
    __m256 p = _mm256_set1_ps(-5.70498872745e-3f);
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(2.06390887954e-2f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-5.37397155531e-2f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(1.33314422036e-1f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-3.33332819422e-1f));
    const __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), x, x);
    return _mm256_blendv_ps(large, small, _mm256_cmp_ps(ax, _mm256_set1_ps(0.625f), _CMP_LT_OQ));
}

TARGET
void hark_lstm_forward_step(int batch, int H, float *gates, const float *gh, float *h, float *c,
                            float *cellTanh, float *y, int ldy, const unsigned char *active) {
    HARK_COUNT_RUN(hark_runs_lstm_forward_step);
    for (int b = 0; b < batch; b++) {
        float *yr = y + (long)b * ldy;
        if (!active[b]) {
            for (int j = 0; j < H; j++) yr[j] = 0;
            continue;
        }
        float *g = gates + (long)b * 4 * H, *hb = h + (long)b * H, *cb = c + (long)b * H, *tb = cellTanh + (long)b * H;
        const float *r = gh + (long)b * 4 * H;
        for (int j = 0; j < H; j += 8) {
            const __m256 i = sigmoid8(_mm256_add_ps(_mm256_loadu_ps(g + j), _mm256_loadu_ps(r + j)));
            const __m256 f = sigmoid8(_mm256_add_ps(_mm256_loadu_ps(g + H + j), _mm256_loadu_ps(r + H + j)));
            const __m256 gg = tanh8(_mm256_add_ps(_mm256_loadu_ps(g + 2 * H + j), _mm256_loadu_ps(r + 2 * H + j)));
            const __m256 o = sigmoid8(_mm256_add_ps(_mm256_loadu_ps(g + 3 * H + j), _mm256_loadu_ps(r + 3 * H + j)));
            const __m256 cNew = _mm256_fmadd_ps(f, _mm256_loadu_ps(cb + j), _mm256_mul_ps(i, gg));   // c' = f ⊙ c + i ⊙ g
            const __m256 tc = tanh8(cNew);
            const __m256 hNew = _mm256_mul_ps(o, tc);                                                // h' = o ⊙ tanh(c')
            _mm256_storeu_ps(g + j, i);
            _mm256_storeu_ps(g + H + j, f);
            _mm256_storeu_ps(g + 2 * H + j, gg);
            _mm256_storeu_ps(g + 3 * H + j, o);
            _mm256_storeu_ps(cb + j, cNew);
            _mm256_storeu_ps(tb + j, tc);
            _mm256_storeu_ps(hb + j, hNew);
            _mm256_storeu_ps(yr + j, hNew);
        }
    }
}

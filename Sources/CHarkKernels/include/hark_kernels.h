#ifndef HARK_KERNELS_H
#define HARK_KERNELS_H

/// 1 when the processor has AVX2 and FMA, so that hark_gemm_acc_packed can run.
int hark_gemm_acc_available(void);

/// c[m, n] += a[m, k] · b[k, n] (a, c row-major with row strides lda, ldc),
/// for small m: the recurrent product of one time step. b is given as column
/// panels: for each block of 16
/// columns j … j+15, its k rows of 16 floats stored contiguously, panel after
/// panel (panels[j·k + p·16 + q] = b[p, j + q]). n must be a multiple of 16.
/// Only call when hark_gemm_acc_available() returns 1.
void hark_gemm_acc_packed(int m, int n, int k, const float *a, int lda, const float *panels, float *c, int ldc);

/// The LSTM's pointwise step for B rows (see LSTMCell.forwardStep in HarkNN):
/// gates [B, 4H] hold gx and receive i, f, g, o; gh [B, 4H]; h, c, cellTanh
/// [B, H]; y rows `ldy` apart; active[b] = 0 leaves h, c and writes y = 0.
/// H must be a multiple of 8. Only call when hark_gemm_acc_available() returns 1.
void hark_lstm_forward_step(int batch, int H, float *gates, const float *gh, float *h, float *c,
                            float *cellTanh, float *y, int ldy, const unsigned char *active);

/// How many times each kernel above has run in this process (every call counts once).
typedef struct {
    unsigned long long gemm_acc_packed;
    unsigned long long lstm_forward_step;
} hark_kernel_run_counts;

/// Reads the run counts; safe from any thread.
void hark_kernel_runs(hark_kernel_run_counts *out);

#endif

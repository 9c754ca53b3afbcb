// How many times each kernel of this library has run in this process: a
// relaxed atomic count per kernel, bumped once per call (one call is one time
// step of one direction, microseconds of arithmetic), read by tests to observe
// which kernel executed rather than infer it from the bits of a result.

#include "hark_kernels.h"
#include "kernel_runs.h"

unsigned long long hark_runs_gemm_acc_packed;
unsigned long long hark_runs_lstm_forward_step;

void hark_kernel_runs(hark_kernel_run_counts *out) {
    out->gemm_acc_packed = __atomic_load_n(&hark_runs_gemm_acc_packed, __ATOMIC_RELAXED);
    out->lstm_forward_step = __atomic_load_n(&hark_runs_lstm_forward_step, __ATOMIC_RELAXED);
}

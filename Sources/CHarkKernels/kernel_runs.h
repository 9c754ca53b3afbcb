// The run counters behind hark_kernel_runs (kernel_runs.c); each kernel bumps its own.
#ifndef HARK_KERNEL_RUNS_H
#define HARK_KERNEL_RUNS_H

extern unsigned long long hark_runs_gemm_acc_packed;
extern unsigned long long hark_runs_lstm_forward_step;

#define HARK_COUNT_RUN(counter) __atomic_fetch_add(&(counter), 1ULL, __ATOMIC_RELAXED)

#endif

// libFuzzer's entry point for programs that have their own main (clang's
// compiler-rt, FuzzerInterface.h); -sanitize=fuzzer links it.
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

// libFuzzer's entry point for programs that own `main` (compiler-rt FuzzerInterface.h).
#ifndef RADIXSERVE_CFUZZERDRIVER_H
#define RADIXSERVE_CFUZZERDRIVER_H

#include <stddef.h>
#include <stdint.h>

/// Parses libFuzzer's flags from `argc`/`argv` and runs `callback` on every input; returns the
/// process's exit status. Provided by the `-sanitize=fuzzer` runtime.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif

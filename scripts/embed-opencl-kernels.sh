#!/bin/sh
# Regenerates Sources/OpenCLPlugin/kernels.c (the OpenCL C source as a C string) from
# Sources/OpenCLPlugin/kernels.cl. Run from anywhere; `--check` exits 1 if kernels.c is stale.
set -eu
dir="$(cd "$(dirname "$0")/../Sources/OpenCLPlugin" && pwd)"
generate() {
    printf '/* Generated from kernels.cl by scripts/embed-opencl-kernels.sh: edit kernels.cl, then rerun it. */\n'
    printf '#if defined(__GNUC__)\n__attribute__((visibility("hidden")))\n#endif\n'
    printf 'extern const char radixserve_opencl_kernel_source[];\n'
    printf '#if defined(__GNUC__)\n__attribute__((visibility("hidden")))\n#endif\n'
    printf 'const char radixserve_opencl_kernel_source[] =\n'
    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$/\\n"/' "$dir/kernels.cl"
    printf ';\n'
}
if [ "${1:-}" = "--check" ]; then
    generate | cmp -s - "$dir/kernels.c" || { echo "kernels.c is stale: run scripts/embed-opencl-kernels.sh" >&2; exit 1; }
else
    generate > "$dir/kernels.c"
fi

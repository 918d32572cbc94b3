#!/usr/bin/env bash
# Installs build dependencies, then runs every test (unit, parity, multi-process) and certifies
# the CPU backend and the in-tree plugins (quick mode, scripts/certify.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/embed-opencl-kernels.sh --check
swift build --build-tests
swift test "$@"
scripts/certify.sh

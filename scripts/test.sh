#!/usr/bin/env bash
# Installs build dependencies, checks the deployment files of deploy/ against the built binary
# (deploy/check.sh), then runs every test (unit, parity, multi-process), certifies
# the CPU backend and the in-tree plugins (quick mode, scripts/certify.sh), and runs every fuzz
# target for a few seconds on its seed corpus (scripts/fuzz.sh, docs/FUZZING.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/embed-opencl-kernels.sh --check
swift build --build-tests
deploy/check.sh .build/debug/radixserve
swift test "$@"
scripts/certify.sh
scripts/fuzz.sh all "${RADIXSERVE_FUZZ_SECONDS:-5}"

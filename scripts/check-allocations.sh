#!/usr/bin/env bash
# Counts heap allocations per decode step after warm-up (goal: 0) by preloading the counter library.
# Usage: scripts/check-allocations.sh MODEL_DIR [bench flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:?usage: scripts/check-allocations.sh MODEL_DIR [bench flags...]}"
shift
swift build -c release --product radixserve
swift build -c release --product RadixServeMallocCounter
LD_PRELOAD="$PWD/.build/release/libRadixServeMallocCounter.so" \
    .build/release/radixserve bench --model "$model" --prompt-tokens 64 --decode-tokens 64 --runs 1 "$@"

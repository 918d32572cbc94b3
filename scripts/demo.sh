#!/usr/bin/env bash
# Installs dependencies, builds a release binary and generates text with a bundled model.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product radixserve
model="${MODEL:-Tests/Fixtures/models/llama-gqa}"
.build/release/radixserve generate --model "$model" --prompt "${PROMPT:-Hello world}" --max-tokens "${MAX_TOKENS:-32}" "$@"
